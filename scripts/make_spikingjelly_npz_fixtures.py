"""Writes the SpikingJelly-cache fixtures of crates/events/tests/fixtures/spikingjelly_npz/ with
SpikingJelly 2.0.0 itself: its CIFAR10-DVS `.aedat` → `events_np` conversion and its
`frames_number_8_split_by_number` integration, applied to the `random3003.aedat` fixture; and
its N-MNIST `.bin` → `.npz` conversion of the `sample30.bin` fixture.

Run with the anchor environment: `$(benches/setup_anchor_env.sh) scripts/make_spikingjelly_npz_fixtures.py`.
"""

import pathlib
import sys
import types

sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))

import numpy as np  # noqa: E402
from spikingjelly.datasets import cifar10_dvs, utils  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1] / "crates/events/tests/fixtures"
SOURCE = ROOT / "spikingjelly"
OUT = ROOT / "spikingjelly_npz"


def main():
    OUT.mkdir(exist_ok=True)
    events_file = OUT / "random3003_events.npz"
    cifar10_dvs._read_aedat_save_to_np(SOURCE / "cifar10dvs/random3003.aedat", events_file)
    frames_dir = OUT / "frames"
    frames_dir.mkdir(exist_ok=True)
    utils.integrate_events_file_to_frames_file_by_fixed_frames_number(
        np.load, str(events_file), str(frames_dir), "number", 8, 128, 128
    )
    (frames_dir / "random3003_events.npz").rename(OUT / "random3003_frames_T8_number.npz")
    frames_dir.rmdir()
    utils._save_atis_bin_as_npz(SOURCE / "nmnist/sample30.bin", OUT / "sample30_events.npz")
    for path in sorted(OUT.glob("*.npz")):
        with np.load(path) as archive:
            print(path.name, {k: (archive[k].dtype.str, archive[k].shape) for k in archive.files})


if __name__ == "__main__":
    main()
