"""Shared fixtures of the Python package's tests: the repository's golden data (made by
SpikingJelly 2.0.0, see its PROVENANCE.md) and a small N-MNIST-layout folder written by
spikeforge's own writer."""

from pathlib import Path

import numpy as np
import pytest

import spikeforge

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "crates" / "events" / "tests" / "fixtures" / "spikingjelly"


def golden_events(stem: Path) -> dict:
    """SpikingJelly's parsed ``t, x, y, p`` arrays stored beside a fixture as
    ``<stem>_<field>.npy``."""
    return {field: np.load(f"{stem}_{field}.npy") for field in "txyp"}


@pytest.fixture(scope="session")
def nmnist_folder(tmp_path_factory) -> Path:
    """``Train|Test/<digit>/*.bin`` with 3 classes, 4 training and 2 test recordings each,
    of seeded random events on the 34×34 sensor."""
    root = tmp_path_factory.mktemp("nmnist")
    rng = np.random.default_rng(7)
    for part, count in (("Train", 4), ("Test", 2)):
        for digit in range(3):
            folder = root / part / str(digit)
            folder.mkdir(parents=True)
            for i in range(count):
                n = int(rng.integers(200, 400))
                events = np.empty(n, dtype=spikeforge.EVENT_DTYPE)
                events["t"] = np.sort(rng.integers(0, 300_000, n))
                # Each class lights its own third of the sensor, so a net can learn it.
                events["x"] = rng.integers(11 * digit, 11 * digit + 12, n)
                events["y"] = rng.integers(0, 34, n)
                events["p"] = rng.integers(0, 2, n)
                spikeforge.write_events(folder / f"{i:05d}.bin", events)
    return root


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory) -> Path:
    """A frame-cache root of this test session's own."""
    return tmp_path_factory.mktemp("cache")
