"""Event-camera datasets as frames, for ``torch.utils.data.DataLoader`` (no torch needed).

    from spikeforge.datasets import CIFAR10DVS
    train_set = CIFAR10DVS("CIFAR10DVS/", train=True, frames=8, split_by="number", size=32)
    frames, label = train_set[0]      # float32 [8, 2, 32, 32], int

Each dataset is backed by the command line's frame cache: built once (in parallel, resumable)
on first use, then memory-mapped; the same options make the same cache as
``spikeforge prepare``/``train``. ``dataset.frames`` is a read-only, zero-copy view of every
sample of the part (``[slots, T, 2, h, w]``); items are copies, safe to modify and to hand
to ``torch.from_numpy``. A dataset pickles by its options (DataLoader workers reopen the
cache, which they then share).
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from . import _spikeforge

__all__ = [
    "BuiltIn",
    "CIFAR10DVS",
    "DVS128Gesture",
    "FrameDataset",
    "NCaltech101",
    "NMNIST",
    "SHD",
    "SSC",
]

Size = Union[int, Tuple[int, int]]


class FrameDataset:
    """A dataset's training or test part as frames (the base of the named datasets).

    ``dataset``: ``default`` (the built-in dataset), ``cifar10-dvs``, ``nmnist``,
    ``dvs-gesture``, ``n-caltech101``, ``shd`` or ``ssc``. The options are those of ``spikeforge prepare``: ``frames``,
    ``split_by`` (``number``/``time``), ``size`` (``32`` or ``(h, w)``; default 32×32, SHD and
    SSC 1×700, as on the command line), ``resize``, ``split`` (``spikingjelly``, ``tebn``, ``random``),
    ``train_ratio``, ``seed`` (of a random split), ``cache`` (the cache root; default
    ``$XDG_CACHE_HOME/spikeforge``), ``skip_bad``, ``allow_empty_windows``.
    """

    def __init__(
        self,
        dataset: str,
        root: Optional[Union[str, "os.PathLike[str]"]] = None,
        train: bool = True,
        transform: Optional[Callable[[np.ndarray], Any]] = None,
        target_transform: Optional[Callable[[int], Any]] = None,
        **options: Any,
    ):
        from . import _argv

        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self._options = dict(dataset=dataset, root=root, **options)
        self._cache = _spikeforge.FrameCache(_argv(**self._options))
        #: Every sample of this part, ``float32 [slots, T, 2, h, w]``, read-only, zero-copy.
        self.frames: np.ndarray = self._cache.frames(train)
        slots, labels = self._cache.samples(train)
        self._slots = np.asarray(slots, dtype=np.intp)
        #: The label of each item.
        self.targets: List[int] = [int(label) for label in labels]

    def __len__(self) -> int:
        return len(self._slots)

    def __getitem__(self, index: int) -> Tuple[Any, Any]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        frames = np.array(self.frames[self._slots[index]])
        target: Any = self.targets[index]
        if self.transform is not None:
            frames = self.transform(frames)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return frames, target

    @property
    def classes(self) -> List[str]:
        """The class names, by label."""
        return list(self._cache.classes)

    @property
    def class_to_idx(self) -> Dict[str, int]:
        """Each class name's label."""
        return {name: label for label, name in enumerate(self.classes)}

    @property
    def split_manifest(self) -> dict:
        """The split: its rule, classes, the recordings and labels of each part, its hash."""
        return json.loads(self._cache.split_manifest)

    @property
    def split_hash(self) -> str:
        """The split's hash (of its recordings and labels): equal hashes, equal splits."""
        return self._cache.split_hash

    @property
    def cache_dir(self) -> str:
        """The frame cache's folder."""
        return str(self._cache.dir)

    def __getstate__(self) -> dict:
        return {
            "options": self._options,
            "train": self.train,
            "transform": self.transform,
            "target_transform": self.target_transform,
        }

    def __setstate__(self, state: dict) -> None:
        options = dict(state["options"])
        FrameDataset.__init__(
            self,
            options.pop("dataset"),
            options.pop("root"),
            state["train"],
            state["transform"],
            state["target_transform"],
            **options,
        )

    def __repr__(self) -> str:
        part = "train" if self.train else "test"
        shape = list(self.frames.shape[1:])
        return (
            f"{type(self).__name__}({self._options['dataset']}, {part}: {len(self)} samples "
            f"of {shape}, split {self.split_hash[:12]})"
        )


class _FolderDataset(FrameDataset):
    """A dataset read from a folder: the named datasets' common signature."""

    _dataset: str

    def __init__(
        self,
        root: Union[str, "os.PathLike[str]"],
        train: bool = True,
        frames: int = 8,
        split_by: str = "number",
        size: Optional[Size] = None,
        transform: Optional[Callable[[np.ndarray], Any]] = None,
        target_transform: Optional[Callable[[int], Any]] = None,
        **options: Any,
    ):
        super().__init__(
            self._dataset,
            root,
            train,
            transform,
            target_transform,
            frames=frames,
            split_by=split_by,
            size=size,
            **options,
        )


class CIFAR10DVS(_FolderDataset):
    """CIFAR10-DVS: ``root/<class>/*.aedat``, split per class in SpikingJelly's order
    (``split="spikingjelly"``, 9:1), ``tebn`` (recordings 0–99 of each class test) or
    ``random`` (seeded)."""

    _dataset = "cifar10-dvs"

    def __init__(
        self,
        root: Union[str, "os.PathLike[str]"],
        train: bool = True,
        frames: int = 8,
        split_by: str = "number",
        size: Optional[Size] = None,
        split: str = "spikingjelly",
        transform: Optional[Callable[[np.ndarray], Any]] = None,
        target_transform: Optional[Callable[[int], Any]] = None,
        **options: Any,
    ):
        super().__init__(
            root, train, frames, split_by, size, transform, target_transform, split=split, **options
        )


class NMNIST(_FolderDataset):
    """N-MNIST: ``root/Train|Test/<digit>/*.bin`` (or ``.bs2`` files with ``train1K.txt`` and
    ``test100.txt``); its own train/test split. Frames are 32×32 unless ``size=34``."""

    _dataset = "nmnist"


class DVS128Gesture(_FolderDataset):
    """DVS128 Gesture: the ``.aedat`` files with their ``_labels.csv`` and
    ``trials_to_train.txt``/``trials_to_test.txt``; each labelled window is a sample."""

    _dataset = "dvs-gesture"


class NCaltech101(CIFAR10DVS):
    """N-Caltech101: 101 class folders of ``.bin`` recordings (180×240) in ``root``,
    ``root/Caltech101`` or ``root/extract/Caltech101``; classes in code-point order, split per
    class as CIFAR10-DVS (no published split)."""

    _dataset = "n-caltech101"


class SHD(_FolderDataset):
    """Spiking Heidelberg Digits: ``shd_train.h5`` and ``shd_test.h5`` in ``root`` (or
    ``root/events_h5``), extracted once into the cache folder. Items are
    ``float32 [T, 2, 1, 700]``: channel 0 counts each cochlear channel's spikes (SpikingJelly's
    ``[T, 700]`` frames), channel 1 is empty."""

    _dataset = "shd"


class SSC(SHD):
    """Spiking Speech Commands: ``ssc_train.h5`` and ``ssc_test.h5``, as :class:`SHD`."""

    _dataset = "ssc"


class BuiltIn(FrameDataset):
    """The built-in dataset (ten procedurally drawn shape classes seen by an emulated DVS128
    camera), generated into the cache folder on first use: no download, no ``root``."""

    def __init__(
        self,
        train: bool = True,
        frames: int = 8,
        split_by: str = "number",
        size: Optional[Size] = None,
        transform: Optional[Callable[[np.ndarray], Any]] = None,
        target_transform: Optional[Callable[[int], Any]] = None,
        **options: Any,
    ):
        super().__init__(
            "default",
            None,
            train,
            transform,
            target_transform,
            frames=frames,
            split_by=split_by,
            size=size,
            **options,
        )
