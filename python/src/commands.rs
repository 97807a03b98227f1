//! The command line's commands from Python (`train`, `compare`, `eval`, …: the same parser,
//! the same code), and a trained run's network for predictions.

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use clap::{CommandFactory, Parser, ValueEnum};
use numpy::{PyArray2, PyArrayMethods, PyReadonlyArray5, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use snn::network::Network;
use spikeforge::Cli;
use spikeforge::commands::device::DeviceChoice;
use spikeforge::commands::eval::{Which, load_trained};

use crate::command_error;

/// Runs `spikeforge ARGS` in this process (the GIL released); returns the JSON record it
/// wrote (`train`, `compare`, `eval`), if any.
#[pyfunction]
pub fn run_command(py: Python<'_>, args: Vec<String>) -> PyResult<Option<PathBuf>> {
    let argv = std::iter::once("spikeforge".to_string()).chain(args);
    let cli = Cli::try_parse_from(argv)
        .map_err(|error| PyValueError::new_err(error.render().to_string()))?;
    py.detach(|| cli.command.run())
        .map_err(|error| command_error(&error))
}

/// The help text of `spikeforge COMMAND` (its options and defaults).
#[pyfunction]
pub fn command_help(command: &str) -> PyResult<String> {
    let mut cli = Cli::command();
    let sub = cli
        .find_subcommand_mut(command)
        .ok_or_else(|| PyValueError::new_err(format!("no command `{command}`")))?;
    Ok(sub.render_long_help().to_string())
}

/// A trained run's network (one of its checkpoints), on the CPU or a GPU.
#[pyclass(module = "spikeforge._spikeforge", unsendable)]
pub struct TrainedNetwork {
    net: Network,
    device: Device,
    /// `[C, H, W]` of one frame.
    input: [usize; 3],
    classes: usize,
    checkpoint: PathBuf,
}

/// Samples per forward pass of [`TrainedNetwork::predict`].
const PREDICT_BATCH: usize = 64;

#[pymethods]
impl TrainedNetwork {
    /// Loads the `checkpoint` (`best` or `last`) of the run folder `run` onto `device`
    /// (`cpu`, `cuda`, `wgpu`).
    #[new]
    #[pyo3(signature = (run, checkpoint="best", device="cpu"))]
    fn new(py: Python<'_>, run: PathBuf, checkpoint: &str, device: &str) -> PyResult<Self> {
        let which = Which::from_str(checkpoint, true).map_err(PyValueError::new_err)?;
        let choice = DeviceChoice::from_str(device, true).map_err(PyValueError::new_err)?;
        py.detach(|| {
            let (device, _) = choice.device()?;
            let (net, record, checkpoint) = load_trained(&run, which, &device)?;
            Ok(Self {
                net,
                device,
                input: record.model.input,
                classes: record.model.classes,
                checkpoint,
            })
        })
        .map_err(|error: anyhow::Error| command_error(&error))
    }

    /// Scores `float32 [N, classes]` of frames `[N, T, C, H, W]` (samples first, as a
    /// dataset's items stack).
    fn predict<'py>(
        &self,
        py: Python<'py>,
        frames: PyReadonlyArray5<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let [n, steps, c, h, w] = <[usize; 5]>::try_from(frames.shape()).expect("five axes");
        if [c, h, w] != self.input || steps == 0 {
            return Err(PyValueError::new_err(format!(
                "expected frames [N, T, {}, {}, {}] with T ≥ 1, got {:?}",
                self.input[0],
                self.input[1],
                self.input[2],
                frames.shape()
            )));
        }
        let frames = frames.as_array();
        let scores = py
            .detach(|| -> anyhow::Result<Vec<f32>> {
                let mut scores = Vec::with_capacity(n * self.classes);
                for start in (0..n).step_by(PREDICT_BATCH) {
                    let batch = PREDICT_BATCH.min(n - start);
                    // [N, T, …] → the network's time-first [T, N, …].
                    let mut values: Vec<f32> = Vec::with_capacity(batch * steps * c * h * w);
                    for t in 0..steps {
                        for sample in start..start + batch {
                            let frame = frames.slice(numpy::ndarray::s![sample, t, .., .., ..]);
                            values.extend(frame.iter());
                        }
                    }
                    let input = Tensor::from_data(
                        TensorData::new(values, [steps, batch, c, h, w]),
                        &self.device,
                    );
                    let output = self.net.forward(input)?;
                    let values = output.into_data().try_to_vec::<f32>();
                    scores.extend(values.map_err(|e| anyhow::anyhow!("scores: {e:?}"))?);
                }
                Ok(scores)
            })
            .map_err(|error| command_error(&error))?;
        numpy::PyArray1::from_vec(py, scores).reshape([n, self.classes])
    }

    /// Classes the scores cover.
    #[getter]
    fn classes(&self) -> usize {
        self.classes
    }

    /// The checkpoint file loaded.
    #[getter]
    fn checkpoint(&self) -> PathBuf {
        self.checkpoint.clone()
    }
}
