//! Event files and frames: the readers and writers of the events library, and its
//! integration into frames, over NumPy arrays (one per field: `t`, `x`, `y`, `p`).

use std::path::{Path, PathBuf};

use clap::Parser;
use events::formats::prophesee::{self, dat};
use events::formats::{aedat2, aedat3, aedat4, nmnist, spikingjelly_npz};
use events::{Events, EventsError};
use numpy::{PyArray1, PyArray4, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use spikeforge::commands::data::FrameArgs;

use crate::events_error;

/// The file formats, by the names `format=` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// jAER AEDAT 2.0 (CIFAR10-DVS).
    Aedat2,
    /// AEDAT 3.1 (DVS128 Gesture).
    Aedat3,
    /// N-MNIST `.bin` / `.bs2`.
    Nmnist,
    /// SpikingJelly's `events_np` `.npz`.
    Npz,
    /// AEDAT 4 (DV cameras).
    Aedat4,
    /// Prophesee `.raw`, EVT 2.0 or EVT 3.0 as its header declares.
    Raw,
    /// Prophesee `.dat`.
    Dat,
}

impl Format {
    const NAMES: &str = "aedat2 (CIFAR10-DVS), aedat3 (DVS128 Gesture), aedat4 (DV cameras), \
                         nmnist (.bin/.bs2), npz (SpikingJelly's events_np), raw (Prophesee EVT \
                         2.0/3.0), dat (Prophesee .dat)";

    fn named(name: &str) -> PyResult<Self> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "aedat2" | "cifar10-dvs" | "cifar10dvs" => Self::Aedat2,
            "aedat3" | "dvs-gesture" | "dvs128-gesture" => Self::Aedat3,
            "nmnist" | "n-mnist" | "bin" | "bs2" => Self::Nmnist,
            "npz" => Self::Npz,
            "aedat4" => Self::Aedat4,
            "raw" | "evt2" | "evt3" | "prophesee" => Self::Raw,
            "dat" => Self::Dat,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "unknown event format `{name}`; expected one of {}",
                    Self::NAMES
                )));
            }
        })
    }

    /// The format of `path`: by its extension, and for `.aedat` by its header's version
    /// line.
    fn detect(path: &Path, bytes: &[u8]) -> PyResult<Self> {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match extension.as_deref() {
            Some("bin" | "bs2") => Ok(Self::Nmnist),
            Some("npz") => Ok(Self::Npz),
            Some("aedat4") => Ok(Self::Aedat4),
            Some("raw") => Ok(Self::Raw),
            Some("dat") => Ok(Self::Dat),
            Some("aedat") if bytes.starts_with(b"#!AER-DAT2") => Ok(Self::Aedat2),
            Some("aedat") if bytes.starts_with(b"#!AER-DAT3") => Ok(Self::Aedat3),
            Some("aedat") if bytes.starts_with(aedat4::MAGIC) => Ok(Self::Aedat4),
            Some("aedat") => Err(PyValueError::new_err(format!(
                "{}: at byte 0: an AEDAT header line `#!AER-DAT2.0`, `#!AER-DAT3.1` or `#!AER-DAT4.0`",
                path.display()
            ))),
            _ => Err(PyValueError::new_err(format!(
                "{}: cannot tell the event format from the file name; pass format= one of {}",
                path.display(),
                Self::NAMES
            ))),
        }
    }
}

/// The four fields of a recording, as NumPy arrays.
pub(crate) type EventArrays<'py> = (
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<u16>>,
    Bound<'py, PyArray1<u16>>,
    Bound<'py, PyArray1<u8>>,
);

pub(crate) fn to_arrays(py: Python<'_>, events: Events) -> EventArrays<'_> {
    (
        PyArray1::from_vec(py, events.t),
        PyArray1::from_vec(py, events.x),
        PyArray1::from_vec(py, events.y),
        PyArray1::from_vec(py, events.p),
    )
}

/// Reads a recording: `(t, x, y, p)`; `format` as [`Format::named`], or from the file.
#[pyfunction]
#[pyo3(signature = (path, format=None))]
pub fn read_events<'py>(
    py: Python<'py>,
    path: PathBuf,
    format: Option<&str>,
) -> PyResult<EventArrays<'py>> {
    let format = format.map(Format::named).transpose()?;
    let events = py.detach(|| -> PyResult<Events> {
        let bytes = std::fs::read(&path).map_err(|error| {
            events_error(EventsError::Io {
                path: path.clone(),
                error,
            })
        })?;
        let format = match format {
            Some(format) => format,
            None => Format::detect(&path, &bytes)?,
        };
        let parsed = match format {
            Format::Aedat2 => aedat2::parse(&bytes, &path),
            Format::Aedat3 => aedat3::parse(&bytes, &path),
            Format::Nmnist => nmnist::parse(&bytes, &path),
            Format::Npz => spikingjelly_npz::parse_events(&bytes, &path),
            Format::Aedat4 => aedat4::parse(&bytes, &path).map(|r| r.events),
            Format::Raw => prophesee::parse_raw(&bytes, &path).map(|r| r.events),
            Format::Dat => dat::parse(&bytes, &path).map(|r| r.events),
        };
        parsed.map_err(events_error)
    })?;
    Ok(to_arrays(py, events))
}

/// Events from the four field arrays (equal lengths, contiguous).
pub(crate) fn events_of(
    t: &PyReadonlyArray1<'_, u64>,
    x: &PyReadonlyArray1<'_, u16>,
    y: &PyReadonlyArray1<'_, u16>,
    p: &PyReadonlyArray1<'_, u8>,
) -> PyResult<Events> {
    let (t, x, y, p) = (t.as_slice()?, x.as_slice()?, y.as_slice()?, p.as_slice()?);
    if ![x.len(), y.len(), p.len()].iter().all(|&n| n == t.len()) {
        return Err(PyValueError::new_err(format!(
            "the event fields differ in length: t {}, x {}, y {}, p {}",
            t.len(),
            x.len(),
            y.len(),
            p.len()
        )));
    }
    Ok(Events {
        t: t.to_vec(),
        x: x.to_vec(),
        y: y.to_vec(),
        p: p.to_vec(),
    })
}

/// Writes a recording (atomically: a temporary file, then a rename) as AEDAT 2.0 or N-MNIST.
#[pyfunction]
#[pyo3(signature = (path, t, x, y, p, format))]
pub fn write_events(
    py: Python<'_>,
    path: PathBuf,
    t: PyReadonlyArray1<'_, u64>,
    x: PyReadonlyArray1<'_, u16>,
    y: PyReadonlyArray1<'_, u16>,
    p: PyReadonlyArray1<'_, u8>,
    format: &str,
) -> PyResult<()> {
    let format = Format::named(format)?;
    let events = events_of(&t, &x, &y, &p)?;
    let write = match format {
        Format::Aedat2 => aedat2::write,
        Format::Nmnist => nmnist::write,
        Format::Aedat3 | Format::Npz | Format::Aedat4 | Format::Raw | Format::Dat => {
            return Err(PyValueError::new_err(
                "events are written as aedat2 (CIFAR10-DVS) or nmnist (.bin)",
            ));
        }
    };
    py.detach(|| write(&path, &events)).map_err(events_error)
}

/// The frame options (`--frames`, `--split-by`, `--size`, `--resize`,
/// `--allow-empty-windows`), parsed as the command line parses them.
#[derive(Debug, Parser)]
#[command(name = "to_frames", no_binary_name = true)]
struct FrameOptions {
    #[command(flatten)]
    frames: FrameArgs,
}

/// Integrates events from a `sensor` `(H, W)` camera into `[T, 2, h, w]` `float32` frames, as
/// the frame cache does. `options` are the command line's frame options; with `duration`
/// (µs) the frames are fixed windows of that length instead (their number follows from the
/// recording's span), resized likewise.
#[pyfunction]
#[pyo3(signature = (t, x, y, p, sensor, options, duration=None))]
#[allow(clippy::too_many_arguments)]
pub fn to_frames<'py>(
    py: Python<'py>,
    t: PyReadonlyArray1<'py, u64>,
    x: PyReadonlyArray1<'py, u16>,
    y: PyReadonlyArray1<'py, u16>,
    p: PyReadonlyArray1<'py, u8>,
    sensor: (usize, usize),
    options: Vec<String>,
    duration: Option<u64>,
) -> PyResult<Bound<'py, PyArray4<f32>>> {
    let options = FrameOptions::try_parse_from(options)
        .map_err(|error| PyValueError::new_err(error.render().to_string()))?;
    let settings = options
        .frames
        .settings()
        .map_err(|error| PyValueError::new_err(error.to_string()))?;
    let events = events_of(&t, &x, &y, &p)?;
    let path = Path::new("<events>");
    let (frames, values) = py
        .detach(|| match duration {
            None => events::pipeline::frames_from_events(&events, sensor, &settings, path)
                .map(|values| (settings.frames, values)),
            Some(duration) => events::frames::integrate_by_duration(
                &events, duration, sensor, path,
            )
            .map(|counts| {
                let values = events::resize::resize(&counts, settings.size, settings.resize);
                (counts.frames, values)
            }),
        })
        .map_err(events_error)?;
    let (h, w) = settings.size;
    PyArray1::from_vec(py, values).reshape([frames, 2, h, w])
}
