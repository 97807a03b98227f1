#!/usr/bin/env python3
"""Writes Tonic's output of its deterministic event transforms on fixed event sets into
crates/events/tests/fixtures/tonic_transforms/cases.json, for tests/tonic_transforms.rs.

Rerun (from the repository root):
    python3 -m venv /tmp/aug-venv && /tmp/aug-venv/bin/pip install tonic==1.7.0
    /tmp/aug-venv/bin/python scripts/make_tonic_transform_fixtures.py

Only settings for which Tonic draws nothing (or whose draw cannot change the result) are
written: Denoise, RefractoryPeriod, Decimation, CenterCrop, RandomFlipLR/UD with p = 1,
TimeSkew with fixed values, MergePolarities, RandomCrop to the full sensor, DropEvent with
p = 0 and p = 1, DropEventByArea with area_ratio 0.
"""

import json
import os
import sys

import numpy as np
import tonic
import tonic.transforms as T

OUT = os.path.join(
    os.path.dirname(__file__), "..", "crates", "events", "tests", "fixtures", "tonic_transforms"
)
DTYPE = np.dtype([("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")])
SENSOR = (20, 15, 2)  # W, H, P


def recording(seed, n, duration):
    """n events on the SENSOR over [0, duration] µs, sorted by time, with bursts at some
    pixels (so that the filters keep some and drop some), t = 0 and the sensor's edges."""
    rng = np.random.default_rng(seed)
    events = np.zeros(n, dtype=DTYPE)
    events["x"] = rng.integers(0, SENSOR[0], n)
    events["y"] = rng.integers(0, SENSOR[1], n)
    events["t"] = np.sort(rng.integers(0, duration, n))
    events["p"] = rng.integers(0, 2, n)
    # Clusters: a run of events at and around one pixel.
    for start in range(0, n - 8, 37):
        cx, cy = rng.integers(1, SENSOR[0] - 1), rng.integers(1, SENSOR[1] - 1)
        for k in range(6):
            events["x"][start + k] = cx + (k % 3) - 1
            events["y"][start + k] = cy
    events["t"][0] = 0
    events[1]["x"], events[1]["y"] = SENSOR[0] - 1, SENSOR[1] - 1
    events[2]["x"], events[2]["y"] = 0, 0
    return events


def cases():
    yield "denoise-1000", {"Denoise": {"filter_time": 1000}}, T.Denoise(filter_time=1000)
    yield "denoise-50", {"Denoise": {"filter_time": 50}}, T.Denoise(filter_time=50)
    yield "denoise-20000", {"Denoise": {"filter_time": 20000}}, T.Denoise(filter_time=20000)
    yield "refractory-500", {"RefractoryPeriod": {"delta": 500}}, T.RefractoryPeriod(delta=500)
    yield "refractory-3000", {"RefractoryPeriod": {"delta": 3000}}, T.RefractoryPeriod(delta=3000)
    yield "decimation-1", {"Decimation": {"n": 1}}, T.Decimation(n=1)
    yield "decimation-3", {"Decimation": {"n": 3}}, T.Decimation(n=3)
    for w, h in [(10, 8), (11, 7), (20, 15), (24, 19), (5, 30)]:
        yield (
            f"center-crop-{w}x{h}",
            {"CenterCrop": {"size": [w, h]}},
            T.CenterCrop(sensor_size=SENSOR, size=(w, h)),
        )
    yield "flip-lr", {"RandomFlipLR": {"p": 1.0}}, T.RandomFlipLR(sensor_size=SENSOR, p=1.0)
    yield "flip-ud", {"RandomFlipUD": {"p": 1.0}}, T.RandomFlipUD(sensor_size=SENSOR, p=1.0)
    yield "time-skew-2-100", {"TimeSkew": {"coefficient": 2.0, "offset": 100.0}}, T.TimeSkew(
        coefficient=2.0, offset=100
    )
    yield "time-skew-0.37-3.7", {"TimeSkew": {"coefficient": 0.37, "offset": 3.7}}, T.TimeSkew(
        coefficient=0.37, offset=3.7
    )
    yield "merge-polarities", {"MergePolarities": {}}, T.MergePolarities()
    yield "random-crop-full", {"RandomCrop": {"target_size": [20, 15]}}, T.RandomCrop(
        sensor_size=SENSOR, target_size=(20, 15)
    )
    yield "drop-event-0", {"DropEvent": {"p": 0.0}}, T.DropEvent(p=0.0)
    yield "drop-event-1", {"DropEvent": {"p": 1.0}}, T.DropEvent(p=1.0)
    yield "drop-area-0", {"DropEventByArea": {"area_ratio": 0.0}}, T.DropEventByArea(
        sensor_size=SENSOR, area_ratio=0.0
    )


def as_json(events):
    return {name: events[name].astype(int).tolist() for name in ("t", "x", "y", "p")}


def main():
    os.makedirs(OUT, exist_ok=True)
    inputs = {"a": recording(1, 240, 20_000), "b": recording(2, 160, 4_000)}
    out = {"tonic": tonic.__version__, "numpy": np.__version__, "sensor": list(SENSOR[:2])}
    out["inputs"] = {name: as_json(events) for name, events in inputs.items()}
    out["cases"] = []
    for name, spec, transform in cases():
        for input_name, events in inputs.items():
            np.random.seed(0)
            result = transform(events.copy())
            out["cases"].append(
                {"name": name, "input": input_name, "transform": spec, "output": as_json(result)}
            )
    path = os.path.join(OUT, "cases.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
