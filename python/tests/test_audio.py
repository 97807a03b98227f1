"""The Heidelberg spiking audio datasets from Python: items equal SpikingJelly 2.0.0's SHD
frames (the events crate's fixtures, made by ``scripts/make_shd_fixtures.py``)."""

import shutil

import numpy as np

from spikeforge.datasets import SHD

from conftest import REPO

FIXTURES = REPO / "crates" / "events" / "tests" / "fixtures" / "shd"


def test_shd_items_are_spikingjellys_frames(tmp_path):
    root = tmp_path / "SHD"
    root.mkdir()
    for name in ("shd_train.h5", "shd_test.h5"):
        shutil.copy(FIXTURES / name, root / name)
    expected = np.load(FIXTURES / "expected.npz")
    for train, stem, count in ((True, "shd_train", 5), (False, "shd_test", 3)):
        data = SHD(root, train=train, frames=4, split_by="time", cache=tmp_path / "cache",
                   allow_empty_windows=True)
        assert len(data) == count
        assert data.classes == [str(c) for c in range(20)]
        for i in range(count):
            frames, label = data[i]
            assert frames.shape == (4, 2, 1, 700)
            key = f"{stem}_{i}_time_T4"
            if key in expected:
                np.testing.assert_array_equal(frames[:, 0, 0, :], expected[key])
            assert not frames[:, 1].any()
