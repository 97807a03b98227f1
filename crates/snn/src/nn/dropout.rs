//! Dropout with one mask per sequence: SpikingJelly's multi-step `layer.Dropout` draws the
//! mask once (for one step's shape) and applies it at every step, so a dropped neuron stays
//! silent for the whole sequence.

use burn::module::{Flag, Module, Param};
use burn::tensor::{Distribution, Tensor};

use super::BuildError;

/// Dropout of probability `p`, its mask shared over T; active in training mode only (an
/// autodiff device and the `training` flag set), kept values scaled by `1/(1 − p)`.
#[derive(Module, Debug)]
pub struct Dropout {
    /// Probability of dropping a value.
    pub p: f64,
    /// Training behaviour; cleared by `freeze`.
    pub training: Param<Flag>,
}

impl Dropout {
    /// A dropout layer; `p` must be in `[0, 1)`.
    pub fn new(p: f64) -> Result<Self, BuildError> {
        if !(0.0..1.0).contains(&p) {
            return Err(BuildError::new(format!(
                "dropout p must be in [0, 1), got {p}"
            )));
        }
        Ok(Self {
            p,
            training: Param::from_bool(true),
        })
    }

    /// Whether this call drops values.
    pub fn is_active<const D: usize>(&self, x: &Tensor<D>) -> bool {
        self.p > 0.0 && self.training.is_enabled() && x.device().is_autodiff()
    }

    /// `x: [T, N, …]` times one mask `[1, N, …]` for all steps.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        if !self.is_active(&x) {
            return x;
        }
        let mut shape = x.dims();
        shape[0] = 1;
        let keep = 1.0 - self.p;
        let mask = Tensor::random(shape, Distribution::Bernoulli(keep), &x.device())
            .detach()
            .mul_scalar(1.0 / keep);
        x * mask
    }
}
