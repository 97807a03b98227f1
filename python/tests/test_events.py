"""Event files: equal to SpikingJelly's loaders on the golden fixtures, written files read back,
clear errors."""

import numpy as np
import pytest

import spikeforge
from conftest import GOLDEN, REPO, golden_events

CAMERA = REPO / "crates" / "events" / "tests" / "fixtures" / "prophesee_aedat4"


@pytest.mark.parametrize(
    "recording, stem",
    [
        ("cifar10dvs/random3003.aedat", "cifar10dvs/random3003"),
        ("cifar10dvs/edge43.aedat", "cifar10dvs/edge43"),
        ("nmnist/sample30.bin", "nmnist/sample30"),
        ("dvs128gesture/user01_synthetic.aedat", "dvs128gesture/user01"),
    ],
)
def test_read_events_equals_spikingjelly(recording, stem):
    events = spikeforge.read_events(GOLDEN / recording)
    expected = golden_events(GOLDEN / stem)
    assert events.dtype == spikeforge.EVENT_DTYPE
    assert len(events) == len(expected["t"]) > 0
    for field in "txyp":
        np.testing.assert_array_equal(events[field], expected[field], err_msg=field)


@pytest.mark.parametrize(
    "recording, format",
    [
        ("none.aedat4", None),
        ("zstd.aedat4", "aedat4"),
        ("evt2.raw", None),
        ("evt3.raw", "evt3"),
        ("gen1.dat", None),
    ],
)
def test_camera_formats_read_as_the_independent_tools_read_them(recording, format):
    import json

    events = spikeforge.read_events(CAMERA / recording, format=format)
    stem = recording.rsplit(".", 1)[0]
    expected = json.loads((CAMERA / f"{stem}.expected.json").read_text())
    assert len(events) == len(expected["t"]) > 0
    for field in "txyp":
        np.testing.assert_array_equal(events[field], expected[field], err_msg=field)


def test_event_records_are_sixteen_bytes_with_named_fields():
    assert spikeforge.EVENT_DTYPE.names == ("t", "x", "y", "p")
    assert spikeforge.EVENT_DTYPE.itemsize == 16


@pytest.mark.parametrize("suffix", [".aedat", ".bin"])
def test_written_events_read_back(tmp_path, suffix):
    events = spikeforge.read_events(GOLDEN / "nmnist" / "sample30.bin")
    path = tmp_path / f"copy{suffix}"
    spikeforge.write_events(path, events)
    np.testing.assert_array_equal(spikeforge.read_events(path), events)
    # A SpikingJelly-style dict of arrays is accepted too.
    as_dict = {field: events[field].astype(np.int64) for field in "txyp"}
    spikeforge.write_events(path, as_dict)
    np.testing.assert_array_equal(spikeforge.read_events(path), events)


def test_bad_files_and_values_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.bin"):
        spikeforge.read_events(tmp_path / "missing.bin")
    bad = tmp_path / "bad.aedat"
    bad.write_bytes(b"#!AER-DAT2.0\r\n" + b"\x00" * 5)
    with pytest.raises(ValueError, match=r"bad\.aedat: at byte"):
        spikeforge.read_events(bad)
    unknown = tmp_path / "events.txt"
    unknown.write_bytes(b"\x00" * 8)
    with pytest.raises(ValueError, match="format="):
        spikeforge.read_events(unknown)
    with pytest.raises(ValueError, match="unknown event format"):
        spikeforge.read_events(unknown, format="evt21")
    negative = {"t": np.array([-1, 2]), "x": np.array([0, 1]), "y": np.array([0, 1]), "p": np.array([0, 1])}
    with pytest.raises(ValueError, match="'t' holds values outside"):
        spikeforge.write_events(tmp_path / "n.bin", negative)
    with pytest.raises(ValueError, match="field 'p'"):
        spikeforge.to_frames({"t": [1], "x": [0], "y": [0]})
