//! An adaptive LIF neuron (a LIF whose threshold rises with its own recent spikes, as in
//! Bellec et al. 2018's LSNN), written against [`NeuronDynamics`]: this file is the whole
//! model — settings, equations, their gradient, the tensor step — and it runs as a fused CPU
//! op and as the reference.
//!
//! Per step, from potential `V` and adaptation `A` (both 0 at rest, `V_r` = 0 resets):
//!
//! ```text
//! H  = V + (X − (V − V_r)) / τ          (LIF charge, SpikingJelly's decay_input form)
//! θ  = θ₀ + β·A                         (adaptive threshold)
//! S  = Θ(H − θ)                         (surrogate σ′(H − θ) backward)
//! V' = H·(1 − S) + V_r·S                (hard reset; `detach_reset` stops the reset's gradient)
//! A' = A + (S − A) / τ_a                (adaptation: a leaky trace of the spikes)
//! ```

use std::sync::Arc;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::Implementation;
use super::model::{self, NeuronDynamics};
use crate::nn::{BuildError, SurrogateName};
use crate::surrogate::Surrogate;

/// The settings of an adaptive LIF layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdaptiveLifConfig {
    /// Membrane time constant τ (> 1; default 2).
    #[serde(default = "two")]
    pub tau: f32,
    /// Adaptation time constant τ_a (> 1; default 20).
    #[serde(default = "twenty")]
    pub tau_adaptation: f32,
    /// Threshold rise per unit of adaptation β (≥ 0; default 0.5).
    #[serde(default = "half")]
    pub beta: f32,
    /// Resting threshold θ₀ (default 1).
    #[serde(default = "one")]
    pub v_threshold: f32,
    /// Reset potential V_r (default 0).
    #[serde(default)]
    pub v_reset: f32,
    /// Stop the gradient through the spike in the reset (default false).
    #[serde(default)]
    pub detach_reset: bool,
    /// The surrogate (default `sigmoid`, SpikingJelly's Sigmoid(4)).
    #[serde(default = "sigmoid")]
    pub surrogate: SurrogateName,
    /// The surrogate's shape parameter (default: the surrogate's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f32>,
}

fn sigmoid() -> SurrogateName {
    SurrogateName::Sigmoid
}

fn two() -> f32 {
    2.0
}

fn twenty() -> f32 {
    20.0
}

fn half() -> f32 {
    0.5
}

fn one() -> f32 {
    1.0
}

impl Default for AdaptiveLifConfig {
    fn default() -> Self {
        Self {
            tau: two(),
            tau_adaptation: twenty(),
            beta: half(),
            v_threshold: one(),
            v_reset: 0.0,
            detach_reset: false,
            surrogate: sigmoid(),
            alpha: None,
        }
    }
}

impl AdaptiveLifConfig {
    /// Checks the settings and builds the layer.
    pub fn init(&self) -> Result<AdaptiveLif, BuildError> {
        let finite = [
            self.tau,
            self.tau_adaptation,
            self.beta,
            self.v_threshold,
            self.v_reset,
        ]
        .iter()
        .all(|v| v.is_finite());
        if !finite || self.tau <= 1.0 || self.tau_adaptation <= 1.0 || self.beta < 0.0 {
            return Err(BuildError::new(format!(
                "adaptive LIF needs finite settings with tau > 1, tau_adaptation > 1 and beta \
                 ≥ 0, got {self:?}"
            )));
        }
        let surrogate = self.surrogate.with_alpha(self.alpha);
        let shape = surrogate.shape();
        if !(shape.is_finite() && shape > 0.0) {
            return Err(BuildError::new(format!(
                "the surrogate's shape parameter must be finite and positive, got {shape}"
            )));
        }
        Ok(AdaptiveLif {
            dynamics: Arc::new(AdaptiveLifDynamics {
                tau: self.tau,
                tau_adaptation: self.tau_adaptation,
                beta: self.beta,
                v_threshold: self.v_threshold,
                v_reset: self.v_reset,
                detach_reset: self.detach_reset,
                surrogate,
            }),
        })
    }
}

/// The equations of a built layer: its settings with the surrogate resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveLifDynamics {
    tau: f32,
    tau_adaptation: f32,
    beta: f32,
    v_threshold: f32,
    v_reset: f32,
    detach_reset: bool,
    surrogate: Surrogate,
}

/// One adaptive LIF neuron's state: potential and adaptation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AdaptiveState {
    /// Membrane potential V.
    pub v: f32,
    /// Adaptation A.
    pub a: f32,
}

impl NeuronDynamics for AdaptiveLifDynamics {
    type State = AdaptiveState;
    type Tensors = (Tensor<1>, Tensor<1>);

    fn rest(&self) -> AdaptiveState {
        AdaptiveState {
            v: self.v_reset,
            a: 0.0,
        }
    }

    fn step(&self, x: f32, state: &mut AdaptiveState) -> f32 {
        let h = state.v + (x - (state.v - self.v_reset)) / self.tau;
        let theta = self.beta * state.a + self.v_threshold;
        let s = if h - theta >= 0.0 { 1.0 } else { 0.0 };
        state.v = h * (1.0 - s) + self.v_reset * s;
        state.a += (s - state.a) / self.tau_adaptation;
        s
    }

    fn step_backward(
        &self,
        x: f32,
        before: &AdaptiveState,
        grad_spike: f32,
        grad_state: &mut AdaptiveState,
    ) -> f32 {
        let h = before.v + (x - (before.v - self.v_reset)) / self.tau;
        let theta = self.beta * before.a + self.v_threshold;
        let z = h - theta;
        let s = if z >= 0.0 { 1.0 } else { 0.0 };
        let (gv, ga) = (grad_state.v, grad_state.a);
        // S feeds the output, A' and (unless detached) the reset of V'.
        let reset = if self.detach_reset {
            0.0
        } else {
            gv * (self.v_reset - h)
        };
        let grad_s = grad_spike + ga / self.tau_adaptation + reset;
        let grad_z = grad_s * self.surrogate.derivative(z);
        let grad_h = grad_z + gv * (1.0 - s);
        grad_state.v = grad_h * (1.0 - 1.0 / self.tau);
        grad_state.a = ga * (1.0 - 1.0 / self.tau_adaptation) - grad_z * self.beta;
        grad_h / self.tau
    }

    fn rest_tensors(&self, len: usize, device: &Device) -> (Tensor<1>, Tensor<1>) {
        (
            Tensor::full([len], self.v_reset, device),
            Tensor::zeros([len], device),
        )
    }

    fn step_tensors(
        &self,
        x: Tensor<1>,
        (v, a): (Tensor<1>, Tensor<1>),
    ) -> (Tensor<1>, (Tensor<1>, Tensor<1>)) {
        let h = v.clone() + (x - v.sub_scalar(self.v_reset)).div_scalar(self.tau);
        let theta = a.clone().mul_scalar(self.beta).add_scalar(self.v_threshold);
        let s = self.surrogate.spike(h.clone() - theta);
        let reset = if self.detach_reset {
            s.clone().detach()
        } else {
            s.clone()
        };
        let v = h * reset.clone().neg().add_scalar(1.0) + reset.mul_scalar(self.v_reset);
        let a = a.clone() + (s.clone() - a).div_scalar(self.tau_adaptation);
        (s, (v, a))
    }
}

/// A layer of adaptive LIF neurons (no learnable parameters); `forward: [T, N, …] →
/// spikes`, every neuron from rest.
#[derive(Module, Debug)]
pub struct AdaptiveLif {
    #[module(skip)]
    dynamics: Arc<AdaptiveLifDynamics>,
}

impl AdaptiveLif {
    /// The layer's equations.
    pub fn dynamics(&self) -> &AdaptiveLifDynamics {
        &self.dynamics
    }

    /// The spikes of all steps of `x: [T, N, …]` (T ≥ 1).
    pub fn forward<const D: usize>(
        &self,
        x: Tensor<D>,
        implementation: Implementation,
    ) -> Tensor<D> {
        model::run(&self.dynamics, x, implementation)
    }
}
