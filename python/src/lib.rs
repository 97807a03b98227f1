//! `spikeforge._spikeforge`: the Rust core of the Python package. The Python modules beside
//! it (`spikeforge/__init__.py`, `datasets.py`) give it its user-facing shape: structured
//! event arrays, keyword options, `torch`-style datasets.
//!
//! Everything long (reading, integrating, preparing a cache, training) runs with the GIL
//! released. Commands and dataset options are parsed by the command line's own parser, so
//! Python and the `spikeforge` binary share every option, default and check.

mod cache;
mod commands;
mod events_io;
mod transforms;

use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

// The frame cache is read in place as `f32` values, which its files store little-endian.
const _: () = assert!(
    cfg!(target_endian = "little"),
    "the frame cache's files are little-endian"
);

/// The extension module.
#[pymodule]
fn _spikeforge(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(events_io::read_events, m)?)?;
    m.add_function(wrap_pyfunction!(events_io::write_events, m)?)?;
    m.add_function(wrap_pyfunction!(events_io::to_frames, m)?)?;
    m.add_function(wrap_pyfunction!(transforms::transform_events, m)?)?;
    m.add_function(wrap_pyfunction!(commands::run_command, m)?)?;
    m.add_function(wrap_pyfunction!(commands::command_help, m)?)?;
    m.add_class::<cache::FrameCache>()?;
    m.add_class::<commands::TrainedNetwork>()?;
    Ok(())
}

/// A Python exception for an error of the events library: `FileNotFoundError` or `OSError`
/// where the system refused, `ValueError` for data that is not what its format requires.
fn events_error(error: events::EventsError) -> PyErr {
    match &error {
        events::EventsError::Io { error: io, .. } if io.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(error.to_string())
        }
        events::EventsError::Io { .. } => PyOSError::new_err(error.to_string()),
        _ => PyValueError::new_err(error.to_string()),
    }
}

/// A Python exception for a failed command: its message and causes, one per line, as the
/// binary prints them.
fn command_error(error: &anyhow::Error) -> PyErr {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        message.push_str("\n  caused by: ");
        message.push_str(&cause.to_string());
    }
    PyRuntimeError::new_err(message)
}
