"""Type stubs of spikeforge's Rust core (use the functions of ``spikeforge`` instead)."""

from os import PathLike
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

_Path = Union[str, PathLike[str]]
_EventFields = Tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.uint16], npt.NDArray[np.uint16], npt.NDArray[np.uint8]
]

def read_events(path: _Path, format: Optional[str] = None) -> _EventFields: ...
def write_events(
    path: _Path,
    t: npt.NDArray[np.uint64],
    x: npt.NDArray[np.uint16],
    y: npt.NDArray[np.uint16],
    p: npt.NDArray[np.uint8],
    format: str,
) -> None: ...
def to_frames(
    t: npt.NDArray[np.uint64],
    x: npt.NDArray[np.uint16],
    y: npt.NDArray[np.uint16],
    p: npt.NDArray[np.uint8],
    sensor: Tuple[int, int],
    options: Sequence[str],
    duration: Optional[int] = None,
) -> npt.NDArray[np.float32]: ...
def transform_events(
    t: npt.NDArray[np.uint64],
    x: npt.NDArray[np.uint16],
    y: npt.NDArray[np.uint16],
    p: npt.NDArray[np.uint8],
    name: str,
    settings: str,
    seed: int,
) -> _EventFields: ...
def run_command(args: Sequence[str]) -> Optional[str]: ...
def command_help(command: str) -> str: ...

class FrameCache:
    def __init__(self, options: Sequence[str]) -> None: ...
    def frames(self, train: bool) -> npt.NDArray[np.float32]: ...
    def samples(self, train: bool) -> Tuple[List[int], List[int]]: ...
    @property
    def name(self) -> str: ...
    @property
    def classes(self) -> List[str]: ...
    @property
    def dir(self) -> str: ...
    @property
    def split_manifest(self) -> str: ...
    @property
    def split_hash(self) -> str: ...

class TrainedNetwork:
    def __init__(self, run: _Path, checkpoint: str = "best", device: str = "cpu") -> None: ...
    def predict(self, frames: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
    @property
    def classes(self) -> int: ...
    @property
    def checkpoint(self) -> str: ...
