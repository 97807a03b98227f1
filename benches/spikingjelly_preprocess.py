"""SpikingJelly 2.0.0's own preprocessing of a CIFAR10-DVS folder: its `CIFAR10DVS` class
converts the `.aedat` files to `events_np/**.npz` (`create_raw_from_extracted`), then, built
with data_type='frame', frames_number=8, split_by='number', integrates them into
`frames_number_8_split_by_number/**.npz`. The same work as `spikeforge prepare` on the same
files (SpikingJelly has no resize step: its frames stay 128×128).

Usage: spikingjelly_preprocess.py DATA_DIR THREADS. Prints one JSON object with the times.
"""

import json
import pathlib
import shutil
import sys
import tempfile
import time
import types

# spikingjelly.datasets imports torchaudio, which the PyPI wheels pair with another CUDA build
# than torch's and which this benchmark does not use: stub it.
sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))

from spikingjelly import configure  # noqa: E402

DATA = pathlib.Path(sys.argv[1]).resolve()
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
configure.max_threads_number_for_datasets_preprocess = THREADS

from spikingjelly.datasets.cifar10_dvs import CIFAR10DVS  # noqa: E402


def main():
    import torch

    torch.set_num_threads(THREADS)
    files = sorted(DATA.glob("*/*.aedat"))
    work = pathlib.Path(tempfile.mkdtemp(prefix="sj-preprocess-"))
    try:
        (work / "extract").symlink_to(DATA, target_is_directory=True)
        raw_root = work / "events_np"
        raw_root.mkdir()
        start = time.perf_counter()
        CIFAR10DVS.create_raw_from_extracted(work / "extract", raw_root)
        events_s = time.perf_counter() - start
        start = time.perf_counter()
        dataset = CIFAR10DVS(str(work), data_type="frame", frames_number=8, split_by="number")
        frames_s = time.perf_counter() - start
        assert len(dataset) == len(files), (len(dataset), len(files))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "spikingjelly": "2.0.0",
                "torch": torch.__version__,
                "threads": THREADS,
                "files": len(files),
                "aedat_to_events_np_s": events_s,
                "events_np_to_frames_s": frames_s,
                "total_s": events_s + frames_s,
            }
        )
    )


if __name__ == "__main__":
    main()
