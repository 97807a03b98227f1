"""SHD/SSC fixtures: small HDF5 files in the Heidelberg layout, written by h5py, and the frames
SpikingJelly 2.0.0 integrates from them (its own `spikingjelly.datasets.shd` functions).

Run with a Python that has h5py and SpikingJelly 2.0.0 (the benchmark venv):

    benches/.venv/bin/python scripts/make_shd_fixtures.py crates/events/tests/fixtures/shd

Writes `shd_train.h5` (contiguous datasets, as the published files), `shd_test.h5` (chunked and
gzip-compressed, so that both layouts are read), and `expected.npz` with, per file and sample,
the labels and SpikingJelly's frames `[T, 700]` split by number and by time for T = 4 and 7.
"""

import json
import sys
from pathlib import Path

import h5py
import numpy as np
from spikingjelly.datasets import shd

UNITS = 700


def sample(rng, n, span):
    """Sorted float16 spike times (s) and uint16 units, as the published files store them."""
    t = np.sort(rng.uniform(0.0, span, n)).astype(np.float16)
    x = rng.integers(0, UNITS, n).astype(np.uint16)
    return t, x


def write(path, samples, labels, classes, chunked):
    vf16 = h5py.vlen_dtype(np.dtype("float16"))
    vu16 = h5py.vlen_dtype(np.dtype("uint16"))
    options = dict(chunks=(2,), compression="gzip") if chunked else {}
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (len(samples),), dtype=vf16, **options)
        units = f.create_dataset("spikes/units", (len(samples),), dtype=vu16, **options)
        for i, (t, x) in enumerate(samples):
            times[i] = t
            units[i] = x
        f.create_dataset("labels", data=np.array(labels, dtype=np.uint16), **options)
        f.create_dataset("extra/keys", data=np.array(classes, dtype="S"))
        f.create_dataset("extra/speaker", data=np.arange(len(samples), dtype=np.uint16))


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20)
    classes = [f"digit-{i}" for i in range(20)]
    files = {
        # A realistic sample, a sample with repeated times (float16 steps of ~0.5 ms), a short
        # one, one whose times all lie in [0.9, 1.0) s, and one of exactly T events.
        "shd_train.h5": ([sample(rng, 900, 1.2), sample(rng, 300, 0.05), sample(rng, 40, 0.8),
                          (np.sort(rng.uniform(0.9, 1.0, 200)).astype(np.float16),
                           rng.integers(0, UNITS, 200).astype(np.uint16)),
                          sample(rng, 7, 0.3)],
                         [3, 0, 19, 7, 3], False),
        "shd_test.h5": ([sample(rng, 500, 1.0), sample(rng, 120, 0.6), sample(rng, 64, 0.2)],
                        [11, 2, 11], True),
    }
    expected = {}
    manifest = {}
    for name, (samples, labels, chunked) in files.items():
        write(out / name, samples, labels, classes, chunked)
        stem = name.removesuffix(".h5")
        manifest[name] = {"samples": len(samples), "labels": labels, "chunked": chunked}
        empty = []
        with h5py.File(out / name, "r") as h5:  # read back, as SpikingJelly reads them
            for i in range(len(samples)):
                t, x = h5["spikes"]["times"][i], h5["spikes"]["units"][i]
                events = {"t": t, "x": x}
                expected[f"{stem}_{i}_t"] = t.view(np.uint16)
                expected[f"{stem}_{i}_x"] = x
                for frames in (4, 7):
                    for split_by in ("number", "time"):
                        key = f"{stem}_{i}_{split_by}_T{frames}"
                        try:
                            f = shd._integrate_events_by_fixed_frames_number(
                                events, split_by, frames, UNITS)
                        except IndexError:  # a time window without events
                            empty.append(key)
                            continue
                        expected[key] = f.astype(np.float32)
        manifest[name]["empty_time_windows"] = empty
    np.savez_compressed(out / "expected.npz", **expected)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "crates/events/tests/fixtures/shd")
