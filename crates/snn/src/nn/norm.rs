//! `BatchNorm2d` in SpikingJelly's multi-step semantics: the T·N frames of a batch are one
//! batch, so training-mode statistics are over T·N·H·W; the output is normalised with the
//! biased variance and the running variance updated with the unbiased one (PyTorch's rule).

use burn::module::{Module, Param, RunningState};
use burn::tensor::Tensor;
use burn::tensor::module::batch_norm;
use serde::{Deserialize, Serialize};

use super::init::Init;
use super::{BuildError, Implementation};

/// The settings of a [`BatchNorm2d`] (the channels come from the input).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchNorm2dConfig {
    /// Added to the variance (default 1e-5).
    #[serde(default = "default_epsilon")]
    pub epsilon: f64,
    /// Weight of the batch statistic in the running estimate (default 0.1).
    #[serde(default = "default_momentum")]
    pub momentum: f64,
}

fn default_epsilon() -> f64 {
    1e-5
}

fn default_momentum() -> f64 {
    0.1
}

impl Default for BatchNorm2dConfig {
    fn default() -> Self {
        Self {
            epsilon: default_epsilon(),
            momentum: default_momentum(),
        }
    }
}

impl BatchNorm2dConfig {
    /// γ = 1, β = 0, running mean 0 and variance 1 for `channels` channels.
    pub fn init(&self, channels: usize, init: &Init) -> Result<BatchNorm2d, BuildError> {
        let valid = self.epsilon.is_finite()
            && self.epsilon > 0.0
            && (0.0..=1.0).contains(&self.momentum)
            && channels > 0;
        if !valid {
            return Err(BuildError::new(format!(
                "batch_norm2d needs epsilon > 0, momentum in [0, 1] and channels, got {self:?} \
                 on {channels} channels"
            )));
        }
        Ok(BatchNorm2d {
            gamma: init.constant([channels], 1.0),
            beta: init.constant([channels], 0.0),
            running_mean: RunningState::new(Tensor::zeros([channels], init.device())),
            running_var: RunningState::new(Tensor::ones([channels], init.device())),
            epsilon: self.epsilon,
            momentum: self.momentum,
            training: Param::from_bool(true),
        })
    }
}

/// Batch normalisation of `[T, N, C, H, W]` maps over T·N·H·W per channel.
///
/// Training mode (an autodiff device and the `training` flag set, as burn's modules decide)
/// normalises with the batch's statistics — the fused op of [`crate::norm`] on the CPU — and
/// updates the running ones; otherwise the running statistics normalise.
#[derive(Module, Debug)]
pub struct BatchNorm2d {
    /// Scale γ `[C]` (PyTorch's `weight`).
    pub gamma: Param<Tensor<1>>,
    /// Shift β `[C]` (PyTorch's `bias`).
    pub beta: Param<Tensor<1>>,
    /// Running mean `[C]`.
    pub running_mean: RunningState<Tensor<1>>,
    /// Running (unbiased) variance `[C]`.
    pub running_var: RunningState<Tensor<1>>,
    /// Added to the variance.
    pub epsilon: f64,
    /// Weight of the batch statistic in the running estimate.
    pub momentum: f64,
    /// Training behaviour; cleared by `freeze`.
    pub training: Param<burn::module::Flag>,
}

impl BatchNorm2d {
    /// Normalises every step's frames as one batch.
    pub fn forward(&self, x: Tensor<5>, implementation: Implementation) -> Tensor<5> {
        super::per_frame(x, |frames| self.forward_frames(frames, implementation))
    }

    /// Normalises a batch of frames `[B, C, H, W]`.
    pub fn forward_frames(&self, x: Tensor<4>, implementation: Implementation) -> Tensor<4> {
        let device = x.device();
        if !(device.is_autodiff() && self.training.is_enabled()) {
            return batch_norm(
                x,
                self.gamma.val(),
                self.beta.val(),
                self.running_mean.value().to_device(&device),
                self.running_var.value().to_device(&device),
                self.epsilon,
            );
        }
        let [b, _, h, w] = x.dims();
        let count = (b * h * w) as f64;
        let (output, mean, variance) = match implementation {
            Implementation::Fused => {
                crate::norm::batch_norm_train(x, self.gamma.val(), self.beta.val(), self.epsilon)
            }
            Implementation::Reference => {
                let result = burn::tensor::module::batch_norm_train(
                    x,
                    self.gamma.val(),
                    self.beta.val(),
                    self.epsilon,
                );
                (result.output, result.mean, result.variance)
            }
        };
        let unbiased = if count > 1.0 {
            variance.mul_scalar(count / (count - 1.0))
        } else {
            variance
        };
        let momentum = self.momentum;
        for (stat, batch) in [(&self.running_mean, mean), (&self.running_var, unbiased)] {
            let value = stat.value_sync().to_device(&device);
            stat.update(
                value
                    .mul_scalar(1.0 - momentum)
                    .add(batch.detach().mul_scalar(momentum))
                    .detach(),
            );
        }
        output
    }

    /// Channels C.
    pub fn channels(&self) -> usize {
        self.gamma.dims()[0]
    }
}
