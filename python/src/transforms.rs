//! Tonic's event transforms (`events::transforms`) over NumPy arrays.

use events::transforms::named;
use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::events_io::{EventArrays, events_of, to_arrays};

/// Applies the transform `name` (Tonic's class name) with `settings` (a JSON object of its
/// fields) to a recording, drawing from a ChaCha8 generator seeded with `seed`:
/// `(t, x, y, p)`.
#[pyfunction]
#[pyo3(signature = (t, x, y, p, name, settings, seed))]
#[allow(clippy::too_many_arguments)]
pub fn transform_events<'py>(
    py: Python<'py>,
    t: PyReadonlyArray1<'py, u64>,
    x: PyReadonlyArray1<'py, u16>,
    y: PyReadonlyArray1<'py, u16>,
    p: PyReadonlyArray1<'py, u8>,
    name: &str,
    settings: &str,
    seed: u64,
) -> PyResult<EventArrays<'py>> {
    let settings: serde_json::Value = serde_json::from_str(settings)
        .map_err(|e| PyValueError::new_err(format!("{name}: settings: {e}")))?;
    let transform = named(name, settings).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let events = events_of(&t, &x, &y, &p)?;
    let out = py
        .detach(|| transform.apply_seeded(&events, seed))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(to_arrays(py, out))
}
