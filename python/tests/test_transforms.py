"""Tonic's event transforms from Python: ``spikeforge.transform`` reproduces Tonic's output
on the events crate's fixtures (written by ``scripts/make_tonic_transform_fixtures.py``),
seeds its random transforms, and refuses unknown transforms and settings."""

import json

import numpy as np
import pytest

import spikeforge

from conftest import REPO

FIXTURE = REPO / "crates" / "events" / "tests" / "fixtures" / "tonic_transforms" / "cases.json"


def _events(fields):
    events = np.empty(len(fields["t"]), dtype=spikeforge.EVENT_DTYPE)
    for name in ("t", "x", "y", "p"):
        events[name] = fields[name]
    return events


def _settings(name, args, sensor):
    """Tonic's arguments as ``spikeforge.transform`` takes them."""
    width, height = sensor
    args = dict(args)
    if name == "CenterCrop":
        w, h = args.pop("size")
        args.update(width=width, height=height, size_width=w, size_height=h)
    elif name == "RandomCrop":
        w, h = args.pop("target_size")
        args.update(width=width, height=height, target_width=w, target_height=h)
    elif name == "RandomFlipLR":
        args["width"] = width
    elif name == "RandomFlipUD":
        args["height"] = height
    elif name == "DropEventByArea":
        args.update(width=width, height=height)
    return args


def test_deterministic_transforms_equal_tonics_output():
    fixture = json.loads(FIXTURE.read_text())
    for case in fixture["cases"]:
        (name, args), = case["transform"].items()
        events = _events(fixture["inputs"][case["input"]])
        got = spikeforge.transform(events, name, **_settings(name, args, fixture["sensor"]))
        expected = _events(case["output"])
        assert got.dtype == spikeforge.EVENT_DTYPE
        assert np.array_equal(got, expected), (case["name"], case["input"])


def test_random_transforms_follow_the_seed_and_errors_are_value_errors():
    rng = np.random.default_rng(0)
    events = np.zeros(1000, dtype=spikeforge.EVENT_DTYPE)
    events["t"] = np.sort(rng.integers(0, 10**6, 1000))
    events["x"] = rng.integers(0, 64, 1000)
    events["y"] = rng.integers(0, 48, 1000)
    a = spikeforge.transform(events, "DropEvent", seed=3, p=0.25)
    assert len(a) == 750
    assert np.array_equal(a, spikeforge.transform(events, "DropEvent", seed=3, p=0.25))
    assert not np.array_equal(a, spikeforge.transform(events, "DropEvent", seed=4, p=0.25))
    skewed = spikeforge.transform(events, "TimeSkew", coefficient=(0.5, 2.0), seed=1)
    assert len(skewed) == 1000
    with pytest.raises(ValueError, match="no transform `Blur`"):
        spikeforge.transform(events, "Blur")
    with pytest.raises(ValueError, match="unknown field"):
        spikeforge.transform(events, "Denoise", filter_time=10, radius=2)
    with pytest.raises(ValueError, match="RandomFlipLR: event"):
        spikeforge.transform(events, "RandomFlipLR", width=10, p=1.0)
