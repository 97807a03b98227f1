"""spikeforge's `CIFAR10DVS` dataset against SpikingJelly 2.0.0's on the same CIFAR10-DVS folder,
from Python: the first use (every recording read and integrated into 8 frames split by event
number, at the sensor's 128×128 on both sides: SpikingJelly has no resize step), then one epoch of
`torch.utils.data.DataLoader` iteration over the training part (batch 32, shuffled, WORKERS
worker processes). Tonic is left out: its CIFAR10-DVS reads the AEDAT 4 copy of the dataset, not
these AEDAT 2.0 files.

Usage: python_datasets.py DATA_DIR THREADS WORKERS OUT_JSON (the libraries print progress to
stdout; the figures go to OUT_JSON).
"""

import json
import pathlib
import shutil
import sys
import tempfile
import time
import types

# spikingjelly.datasets imports torchaudio, which this benchmark does not use: stub it.
sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))

import torch  # noqa: E402
from spikingjelly import configure  # noqa: E402

DATA = pathlib.Path(sys.argv[1]).resolve()
THREADS = int(sys.argv[2])
WORKERS = int(sys.argv[3])
OUT = pathlib.Path(sys.argv[4])
configure.max_threads_number_for_datasets_preprocess = THREADS
torch.set_num_threads(THREADS)

import spikeforge  # noqa: E402
from spikeforge.datasets import CIFAR10DVS as SpikeforgeCIFAR10DVS  # noqa: E402
from spikingjelly.datasets import split_to_train_test_set  # noqa: E402
from spikingjelly.datasets.cifar10_dvs import CIFAR10DVS as SpikingJellyCIFAR10DVS  # noqa: E402


def epoch_seconds(dataset) -> float:
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=32, shuffle=True, num_workers=WORKERS,
        generator=torch.Generator().manual_seed(0),
    )
    start = time.perf_counter()
    samples = sum(len(labels) for _, labels in loader)
    seconds = time.perf_counter() - start
    assert samples == len(dataset), (samples, len(dataset))
    return seconds


def spikeforge_side(work: pathlib.Path) -> dict:
    start = time.perf_counter()
    train = SpikeforgeCIFAR10DVS(DATA, train=True, size=128, cache=work / "cache")
    first_use = time.perf_counter() - start
    return {"first_use_s": first_use, "train_samples": len(train), "epoch_s": epoch_seconds(train)}


def spikingjelly_side(work: pathlib.Path) -> dict:
    work.mkdir()
    (work / "extract").symlink_to(DATA, target_is_directory=True)
    (work / "events_np").mkdir()
    start = time.perf_counter()
    SpikingJellyCIFAR10DVS.create_raw_from_extracted(work / "extract", work / "events_np")
    dataset = SpikingJellyCIFAR10DVS(str(work), data_type="frame", frames_number=8, split_by="number")
    first_use = time.perf_counter() - start
    train, _ = split_to_train_test_set(0.9, dataset, 10)
    return {"first_use_s": first_use, "train_samples": len(train), "epoch_s": epoch_seconds(train)}


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="python-datasets-"))
    try:
        ours = spikeforge_side(work / "spikeforge")
        anchor = spikingjelly_side(work / "spikingjelly")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record = {
        "recordings": len(list(DATA.glob("*/*.aedat"))),
        "threads": THREADS,
        "workers": WORKERS,
        "torch": torch.__version__,
        "spikingjelly": "2.0.0",
        "spikeforge": ours,
        "spikeforge_version": spikeforge.__version__,
        "spikingjelly_side": anchor,
        "first_use_ratio": anchor["first_use_s"] / ours["first_use_s"],
        "epoch_ratio": anchor["epoch_s"] / ours["epoch_s"],
    }
    OUT.write_text(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
