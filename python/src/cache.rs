//! A dataset's frame cache for the Python datasets: prepared (built once, in parallel, or
//! reused) by the same code and options as `spikeforge prepare`, its frames handed to NumPy
//! straight from the memory map.

use clap::Parser;
use numpy::PyArray5;
use numpy::ndarray::ArrayView5;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use spikeforge::{Cli, Command};

use crate::command_error;

/// A prepared frame cache, open for reading (it holds the cache folder's shared lock: no
/// process rebuilds it while this object lives).
#[pyclass(module = "spikeforge._spikeforge", frozen)]
pub struct FrameCache {
    cache: events::cache::FrameCache,
    name: String,
}

fn part(train: bool) -> events::cache::Part {
    if train {
        events::cache::Part::Train
    } else {
        events::cache::Part::Test
    }
}

#[pymethods]
impl FrameCache {
    /// Prepares (or reuses) the cache that `spikeforge prepare OPTIONS` would.
    #[new]
    fn new(py: Python<'_>, options: Vec<String>) -> PyResult<Self> {
        let argv = ["spikeforge", "prepare"]
            .into_iter()
            .map(String::from)
            .chain(options);
        let Command::Prepare(args) = Cli::try_parse_from(argv)
            .map_err(|error| PyValueError::new_err(error.render().to_string()))?
            .command
        else {
            unreachable!("the argument list starts with `prepare`")
        };
        let prepared = py
            .detach(|| args.prepare())
            .map_err(|error| command_error(&error))?;
        Ok(Self {
            cache: prepared.cache,
            name: prepared.name.to_string(),
        })
    }

    /// Every slot's frames of the training (`train`) or test part, `float32 [slots, T, 2, h,
    /// w]`, read-only, without a copy: a view of the memory-mapped file that keeps this cache
    /// open while it lives.
    fn frames<'py>(slf: Bound<'py, Self>, train: bool) -> PyResult<Bound<'py, PyArray5<f32>>> {
        let py = slf.py();
        let this = slf.get();
        let settings = this.cache.manifest.settings();
        let (h, w) = settings.size;
        let slots = this.cache.manifest.slots(part(train)).len();
        let shape = [slots, settings.frames, 2, h, w];
        let bytes = this.cache.part_bytes(part(train));
        let array = if slots == 0 {
            PyArray5::zeros(py, shape, false)
        } else {
            // SAFETY: the map holds exactly `slots` samples of `T·2·h·w` little-endian `f32`
            // (checked when the cache was opened), starts on a page boundary and is never
            // written or unmapped while the cache lives; the array's base is this object,
            // which owns the cache, so the view cannot outlive the map.
            unsafe {
                let view = ArrayView5::from_shape_ptr(shape, bytes.as_ptr().cast::<f32>());
                PyArray5::borrow_from_array(&view, slf.clone().into_any())
            }
        };
        array.getattr("flags")?.setattr("writeable", false)?;
        Ok(array)
    }

    /// The usable samples of a part, in split order: `(slots, labels)` (recordings skipped
    /// with `skip_bad` are left out).
    fn samples(&self, train: bool) -> (Vec<usize>, Vec<u16>) {
        self.cache.samples(part(train)).into_iter().unzip()
    }

    /// The dataset's name (`default`, `cifar10-dvs`, …).
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The class names, by label.
    #[getter]
    fn classes(&self) -> Vec<String> {
        self.cache.manifest.split.classes.clone()
    }

    /// The cache folder.
    #[getter]
    fn dir(&self) -> std::path::PathBuf {
        self.cache.dir.clone()
    }

    /// The split manifest (recordings and labels of each part, the rule, its hash) as JSON.
    #[getter]
    fn split_manifest(&self) -> PyResult<String> {
        serde_json::to_string(&self.cache.manifest.split)
            .map_err(|error| PyValueError::new_err(error.to_string()))
    }

    /// The split's hash (of its recordings and labels).
    #[getter]
    fn split_hash(&self) -> &str {
        &self.cache.manifest.split.hash
    }
}
