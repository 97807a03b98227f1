"""spikeforge from Python: event files, frames, datasets and training on spikeforge's Rust core.

    import spikeforge
    events = spikeforge.read_events("airplane_0.aedat")      # structured array t, x, y, p
    frames = spikeforge.to_frames(events, frames=8, size=32)  # float32 [8, 2, 32, 32]
    train_set = spikeforge.datasets.CIFAR10DVS("CIFAR10DVS/", train=True)
    record = spikeforge.train(model="seed-snn", epochs=20)   # the run record, a dict

Commands take the options of the ``spikeforge`` command line as keyword arguments
(``train_samples=100`` is ``--train-samples 100``), parsed by the same parser: the same
defaults, the same checks; ``help(spikeforge.train)`` lists them. Long work releases the
GIL; progress bars go to stderr, tables to stdout.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _spikeforge
from ._spikeforge import __version__

__all__ = [
    "EVENT_DTYPE",
    "Run",
    "compare",
    "datasets",
    "evaluate",
    "export_nir",
    "import_nir",
    "load_run",
    "read_events",
    "to_frames",
    "train",
    "transform",
    "write_events",
]

#: The record type of event arrays: time in µs, column, row, polarity (0 or 1); aligned
#: (16 bytes, ``t`` at offset 0, ``x`` 8, ``y`` 10, ``p`` 12).
EVENT_DTYPE = np.dtype([("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("p", "u1")], align=True)

PathLike = Union[str, "os.PathLike[str]"]


def read_events(path: PathLike, format: Optional[str] = None) -> np.ndarray:
    """Reads an event recording into a structured array of :data:`EVENT_DTYPE`.

    ``format``: ``"aedat2"`` (CIFAR10-DVS), ``"aedat3"`` (DVS128 Gesture), ``"aedat4"`` (DV
    cameras), ``"nmnist"`` (``.bin``/``.bs2``), ``"npz"`` (SpikingJelly's ``events_np``),
    ``"raw"`` (Prophesee EVT 2.0/3.0, as the header declares; also ``"evt2"``, ``"evt3"``) or
    ``"dat"`` (Prophesee ``.dat``); by default from the file name and, for ``.aedat``, its
    header. The camera formats' triggers and other non-event records are skipped. The values are those SpikingJelly's loaders return
    (``arr["t"]`` etc.; their dtypes are the narrowest that hold every valid value). A
    malformed file raises ``ValueError`` naming the file, the byte and what was expected.
    """
    t, x, y, p = _spikeforge.read_events(os.fspath(path), format)
    events = np.empty(len(t), dtype=EVENT_DTYPE)
    events["t"], events["x"], events["y"], events["p"] = t, x, y, p
    return events


def write_events(path: PathLike, events: Any, format: Optional[str] = None) -> None:
    """Writes events as ``"aedat2"`` (CIFAR10-DVS's AEDAT 2.0) or ``"nmnist"`` (``.bin``).

    ``events``: a structured array with fields ``t, x, y, p`` or a dict of four arrays (as
    SpikingJelly's loaders return). The format defaults to the file's extension
    (``.aedat``: aedat2, ``.bin``: nmnist). Written to a temporary file, then renamed.
    """
    if format is None:
        suffix = Path(path).suffix.lower()
        format = {".aedat": "aedat2", ".bin": "nmnist"}.get(suffix)
        if format is None:
            raise ValueError(f"{path}: pass format='aedat2' or format='nmnist'")
    _spikeforge.write_events(os.fspath(path), *_fields(events), format)


def transform(events: Any, name: str, seed: int = 0, **settings: Any) -> np.ndarray:
    """Applies one of Tonic's event transforms, with Tonic's semantics, to ``events``
    (a structured array or a dict of ``t, x, y, p``); returns a new array of
    :data:`EVENT_DTYPE`.

    ``name``: ``Denoise``, ``RefractoryPeriod``, ``Decimation``, ``DropEvent``,
    ``DropEventByTime``, ``DropEventByArea``, ``RandomFlipLR``, ``RandomFlipUD``,
    ``RandomCrop``, ``CenterCrop``, ``SpatialJitter``, ``TimeJitter``, ``TimeSkew`` or
    ``MergePolarities``. ``settings``: the transform's parameters by Tonic's names, except
    that a sensor is ``width=`` and ``height=`` (not ``sensor_size``) and crop sizes are
    ``target_width``/``target_height`` (RandomCrop) or ``size_width``/``size_height``
    (CenterCrop); a range is a pair ``(low, high)``; omitted ones take Tonic's defaults.
    Random draws come from ``seed`` only (the same seed, the same result). Example:
    ``spikeforge.transform(events, "Denoise", filter_time=10_000)``.
    """
    fields = _spikeforge.transform_events(*_fields(events), name, json.dumps(settings), seed)
    out = np.empty(len(fields[0]), dtype=EVENT_DTYPE)
    out["t"], out["x"], out["y"], out["p"] = fields
    return out


def to_frames(
    events: Any,
    frames: int = 8,
    split_by: str = "number",
    duration: Optional[int] = None,
    size: Union[None, int, Tuple[int, int]] = None,
    resize: str = "area",
    sensor_size: Optional[Tuple[int, int]] = None,
    allow_empty_windows: bool = False,
) -> np.ndarray:
    """Integrates events into ``float32 [T, 2, H, W]`` frames, SpikingJelly's integration.

    - ``frames``, ``split_by``: ``T`` frames cut by event number (``N // T`` events each,
      the rest to the last) or by time (``T`` equal windows), as SpikingJelly's
      ``integrate_events_by_fixed_frames_number`` / ``split_by``.
    - ``duration``: instead, frames of this many µs
      (``integrate_events_by_fixed_duration``); their number follows from the span.
    - ``sensor_size``: ``(H, W)`` of the camera (default: the largest coordinates + 1).
    - ``size``: the frame size, ``32`` or ``(h, w)`` (default: the sensor's); ``resize``
      how to get there: ``area`` (mean pooling, ``F.interpolate(mode='area')``), ``sum``,
      ``nearest``, ``bilinear``, ``bilinear-antialias`` (torchvision's ``Resize``).
    - ``allow_empty_windows``: an empty time window gives an empty frame instead of an error.

    ``events``: a structured array with fields ``t, x, y, p`` or a dict of four arrays.
    """
    t, x, y, p = _fields(events)
    if sensor_size is None:
        if len(t) == 0:
            raise ValueError("an empty recording needs sensor_size=(H, W)")
        sensor_size = (int(y.max()) + 1, int(x.max()) + 1)
    sensor = (int(sensor_size[0]), int(sensor_size[1]))
    options = _argv(
        frames=frames,
        split_by=split_by,
        size=sensor if size is None else size,
        resize=resize,
        allow_empty_windows=allow_empty_windows,
    )
    return _spikeforge.to_frames(t, x, y, p, sensor, options, duration)


def train(model: str = "seed-snn", **options: Any) -> dict:
    """Trains a network as ``spikeforge train`` does; returns the run record (``run.json``).

    ``model``: a preset (``spikeforge models``) or a network file. Every other option of the
    command is a keyword argument (``dataset="nmnist", root="N-MNIST/", epochs=10,
    train_samples=1000, out="runs/mine"``; ``devices="cuda:0,cuda:1"`` trains data-parallel on
    two GPUs in a CUDA build); the run folder is ``record["run_dir"]``.
    """
    path = _spikeforge.run_command(["train", *_argv(model=model, **options)])
    return _record(path, "run_dir")


def compare(models: Optional[Sequence[str]] = None, **options: Any) -> dict:
    """Trains networks on the same data and compares them, as ``spikeforge compare``;
    returns ``compare.json`` (default: the seed SNN against the seed CNN)."""
    path = _spikeforge.run_command(["compare", *_argv(models=models, **options)])
    return _record(path, "compare_dir")


def evaluate(run: PathLike, **options: Any) -> dict:
    """Evaluates a run's checkpoint on its test set, as ``spikeforge eval RUN``
    (``sparse=True``: also event-driven); returns the evaluation record."""
    path = _spikeforge.run_command(["eval", os.fspath(run), *_argv(**options)])
    return _record(path, None)


def export_nir(run: PathLike, path: PathLike, **options: Any) -> str:
    """Writes a run's trained network as a NIR graph, as ``spikeforge export RUN --nir PATH``
    (``checkpoint="last"``, ``dt=``, ``soft_reset_as_hard=True``); returns the path."""
    _spikeforge.run_command(["export", os.fspath(run), "--nir", os.fspath(path), *_argv(**options)])
    return os.fspath(path)


def import_nir(path: PathLike, out: PathLike, **options: Any) -> str:
    """Reads a NIR graph into a run folder (its network file and weights, which ``train``,
    :func:`load_run` and :func:`export_nir` take), as ``spikeforge import PATH --out OUT``;
    returns the folder."""
    _spikeforge.run_command(["import", os.fspath(path), "--out", os.fspath(out), *_argv(**options)])
    return os.fspath(out)


class Run:
    """A finished (or stopped) training run: its record and its trained network.

    ``run.predict(frames)`` scores ``[N, T, C, H, W]`` frames (a dataset's items stacked);
    ``run.evaluate()`` is :func:`evaluate` of its folder.
    """

    def __init__(self, path: PathLike, checkpoint: str = "best", device: str = "cpu"):
        self.path = Path(path)
        self._network = _spikeforge.TrainedNetwork(os.fspath(self.path), checkpoint, device)
        with open(self.path / "run.json", encoding="utf-8") as file:
            #: The run record (``run.json``).
            self.record: dict = json.load(file)

    @property
    def classes(self) -> int:
        """Classes the scores cover."""
        return self._network.classes

    def predict(self, frames: np.ndarray) -> np.ndarray:
        """Scores ``float32 [N, classes]`` of ``[N, T, C, H, W]`` frames (one ``[T, C, H,
        W]`` sample gives ``[classes]``)."""
        frames = np.ascontiguousarray(frames, dtype=np.float32)
        if frames.ndim == 4:
            return self._network.predict(frames[np.newaxis])[0]
        return self._network.predict(frames)

    def evaluate(self, **options: Any) -> dict:
        """:func:`evaluate` of this run."""
        return evaluate(self.path, **options)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, checkpoint={str(self._network.checkpoint)!r})"


def load_run(path: PathLike, checkpoint: str = "best", device: str = "cpu") -> Run:
    """A run folder written by :func:`train` (or ``spikeforge train``), with the network of
    its ``best`` or ``last`` checkpoint on ``device`` (``cpu``, ``cuda``, ``wgpu``)."""
    return Run(path, checkpoint, device)


def _record(path: Optional[str], folder_key: Optional[str]) -> dict:
    """The JSON record a command wrote, with its folder under ``folder_key``."""
    if path is None:
        raise RuntimeError("the command wrote no record")
    with open(path, encoding="utf-8") as file:
        record = json.load(file)
    if folder_key is not None:
        record[folder_key] = str(Path(path).parent)
    return record


def _argv(**options: Any) -> list:
    """Command-line options from keyword arguments: ``name=value`` is ``--name value``
    (underscores become hyphens), ``True`` a bare flag, ``False`` and ``None`` nothing, a
    list or tuple one flag per item, a dict ``--name key=value`` per item, a ``size`` pair
    ``HxW``."""
    argv = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            argv.append(flag)
        elif name == "size" and isinstance(value, (tuple, list)):
            argv += [flag, "x".join(str(int(v)) for v in value)]
        elif isinstance(value, Mapping):
            for key, item in value.items():
                argv += [flag, f"{key}={item}"]
        elif isinstance(value, (list, tuple)):
            for item in value:
                argv += [flag, _text(item)]
        else:
            argv += [flag, _text(value)]
    return argv


def _text(value: Any) -> str:
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


_FIELD_TYPES = (("t", np.uint64), ("x", np.uint16), ("y", np.uint16), ("p", np.uint8))


def _fields(events: Any) -> tuple:
    """The four fields of ``events`` as contiguous arrays of the core's types, refusing
    values the types cannot hold (negative times, coordinates past 65535, polarities other
    than 0 and 1) instead of wrapping them."""
    fields = []
    for name, kind in _FIELD_TYPES:
        try:
            values = np.asarray(events[name])
        except (KeyError, ValueError, IndexError) as error:
            raise ValueError(f"events need a field {name!r} (t, x, y, p)") from error
        if values.ndim != 1:
            raise ValueError(f"events field {name!r} must be one-dimensional")
        if values.size and not np.issubdtype(values.dtype, np.integer):
            if not np.array_equal(values, np.round(values)):
                raise ValueError(f"events field {name!r} holds non-integer values")
        limit = 1 if name == "p" else np.iinfo(kind).max
        if values.size and (values.min() < 0 or values.max() > limit):
            raise ValueError(
                f"events field {name!r} holds values outside 0..{limit}: "
                f"{values.min()}..{values.max()}"
            )
        fields.append(np.ascontiguousarray(values, dtype=kind))
    return tuple(fields)


from . import datasets  # noqa: E402  (uses the helpers above)


def _with_command_help(function: Any, command: str) -> None:
    """Appends the command line's own option list to ``function``'s docstring."""
    function.__doc__ = (
        f"{function.__doc__}\n\nOptions of ``spikeforge {command}`` (as keyword arguments):\n\n"
        + _spikeforge.command_help(command)
    )


for _function, _command in ((train, "train"), (compare, "compare"), (evaluate, "eval")):
    _with_command_help(_function, _command)
