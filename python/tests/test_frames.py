"""Frames: SpikingJelly's integration and its resizes, bit for bit, on the golden fixtures."""

import json

import numpy as np
import pytest

import spikeforge
from conftest import GOLDEN, golden_events

CASES = [c for c in json.loads((GOLDEN / "manifest.json").read_text())["cases"]]


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["kind"] == "integrate_small"], ids=lambda c: c["name"]
)
def test_small_integrations_equal_spikingjelly(case):
    events = {field: np.load(GOLDEN / case[field]["file"]) for field in "txyp"}
    frames = spikeforge.to_frames(
        events, frames=case["T"], split_by=case["split_by"], sensor_size=(case["H"], case["W"])
    )
    expected = np.load(GOLDEN / case["frames"]["file"])
    assert frames.dtype == np.float32
    np.testing.assert_array_equal(frames, expected)


@pytest.mark.parametrize("split_by", ["number", "time"])
@pytest.mark.parametrize(
    "size, resize, suffix",
    [
        (None, "area", "128"),
        (32, "area", "32_avg_pool_4x4"),
        (32, "sum", "32_sum_pool_4x4"),
        ((32, 32), "nearest", "32_interpolate_nearest"),
        (32, "bilinear", "32_interpolate_bilinear"),
    ],
)
def test_cifar10dvs_frames_equal_spikingjelly(split_by, size, resize, suffix):
    events = spikeforge.read_events(GOLDEN / "cifar10dvs" / "random3003.aedat")
    frames = spikeforge.to_frames(
        events, 8, split_by, size=size, resize=resize, sensor_size=(128, 128)
    )
    expected = np.load(GOLDEN / "cifar10dvs" / f"random3003_frames_T8_{split_by}_{suffix}.npy")
    np.testing.assert_array_equal(frames, expected.astype(np.float32))


def test_antialiased_resize_is_torchvisions_within_float_rounding():
    events = spikeforge.read_events(GOLDEN / "cifar10dvs" / "random3003.aedat")
    frames = spikeforge.to_frames(events, size=32, resize="bilinear-antialias", sensor_size=(128, 128))
    expected = np.load(GOLDEN / "cifar10dvs" / "random3003_frames_T8_number_32_tv_resize_bilinear_antialias.npy")
    np.testing.assert_allclose(frames, expected, rtol=1e-5, atol=1e-6)


def test_frames_of_fixed_duration_hold_every_event():
    events = golden_events(GOLDEN / "nmnist" / "sample30")
    span = int(events["t"].max() - events["t"].min())
    duration = max(span // 3, 1)
    frames = spikeforge.to_frames(events, duration=duration, sensor_size=(34, 34))
    assert frames.shape == (-(-span // duration), 2, 34, 34)
    for polarity in (0, 1):
        assert frames[:, polarity].sum() == np.count_nonzero(events["p"] == polarity)


def test_bad_frame_options_are_the_command_lines_errors():
    events = spikeforge.read_events(GOLDEN / "nmnist" / "sample30.bin")
    with pytest.raises(ValueError, match="--frames must be 1 to"):
        spikeforge.to_frames(events, frames=0)
    with pytest.raises(ValueError, match="invalid value 'diagonal'"):
        spikeforge.to_frames(events, split_by="diagonal")
    with pytest.raises(ValueError, match="outside"):
        spikeforge.to_frames(events, sensor_size=(8, 8))
