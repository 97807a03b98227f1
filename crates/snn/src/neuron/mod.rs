//! Spiking neurons: IF, LIF and ParametricLIF, exact to SpikingJelly 2.0.0.
//!
//! The core is functional, Norse-style: [`step`] maps `(X[t], state) → (S[t], state)` and
//! [`multi_step`] runs a whole `[T, N, …]` sequence; the state is an explicit value that is
//! passed in and returned, never stored, so "forgot to reset the network" cannot happen.
//! [`SpikingNeuron`] is the thin burn `Module` on top (it holds PLIF's learnable weight).
//!
//! [`multi_step`] has two implementations with one API ([`Implementation`]): the fused op
//! (default; [`fused`], on the CPU and, in GPU builds, on CubeCL devices) and the reference
//! composition of burn ops.

pub mod adaptive;
#[cfg(feature = "cube")]
mod cube;
pub mod dynamics;
pub mod fused;
mod kernel;
pub mod model;
mod module;
mod reference;

use burn::tensor::{Device, Tensor};
use thiserror::Error;

use crate::surrogate::Surrogate;
use dynamics::{Charge, Dynamics};
use fused::{FusedSpec, VOutput};
pub use module::SpikingNeuron;

/// The neuron model: how the membrane charges.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum NeuronModel {
    /// Integrate-and-fire: `H = V + X`.
    If,
    /// Leaky integrate-and-fire with time constant `tau > 1`.
    Lif { tau: f32, decay_input: bool },
    /// LIF with a learnable leak `k = sigmoid(w)`, `w` initialised to `−ln(init_tau − 1)`.
    ParametricLif { init_tau: f32, decay_input: bool },
}

/// What happens to the membrane after a spike.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Reset {
    /// Set to `v_reset` (SpikingJelly: `v_reset` is a number).
    Hard { v_reset: f32 },
    /// Subtract the threshold (SpikingJelly: `v_reset=None`).
    Soft,
}

/// A neuron layer's settings. Defaults are SpikingJelly's: `v_threshold = 1`, hard reset to
/// 0, `detach_reset = false`, surrogate `Sigmoid(alpha=4)`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NeuronConfig {
    /// The charge equation.
    pub model: NeuronModel,
    /// Firing threshold θ.
    pub v_threshold: f32,
    /// Hard or soft reset.
    pub reset: Reset,
    /// Stop the gradient through the spike in the reset.
    pub detach_reset: bool,
    /// Surrogate derivative for the backward pass.
    pub surrogate: Surrogate,
}

/// Which implementation of [`multi_step`] to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Implementation {
    /// The fused op where the backend has one (Flex, f32), else the reference.
    #[default]
    Fused,
    /// The per-step composition of burn ops, on every backend.
    Reference,
}

/// Options of [`multi_step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MultiStepOptions {
    /// Also return the post-reset potential of every step (`v_seq`).
    pub store_v_seq: bool,
    /// Fused (default) or reference.
    pub implementation: Implementation,
}

/// The state of a neuron layer: its membrane potential `V`.
///
/// For [`step`], `v` has the shape of one step's input `[N, …]`; for [`multi_step`] it has
/// the shape of one time slice of the input, `[1, N, …]`, so that it keeps the input's rank.
#[derive(Debug, Clone)]
pub struct NeuronState<const D: usize> {
    /// Membrane potential after the last step.
    pub v: Tensor<D>,
}

/// What [`multi_step`] returns.
#[derive(Debug, Clone)]
pub struct MultiStepOutput<const D: usize> {
    /// Spikes `[T, N, …]`, exactly 0.0 or 1.0.
    pub spikes: Tensor<D>,
    /// The state after the last step (`v` is `[1, N, …]`).
    pub state: NeuronState<D>,
    /// Post-reset potential of every step `[T, N, …]`, when asked for.
    pub v_seq: Option<Tensor<D>>,
}

/// Invalid neuron settings or inputs.
#[derive(Debug, Error, PartialEq)]
pub enum NeuronError {
    /// A setting out of its range.
    #[error("invalid neuron setting: {0}")]
    InvalidConfig(String),
    /// PLIF called without its weight `w`, or IF/LIF called with one.
    #[error("{0}")]
    Weight(&'static str),
    /// The state's shape does not fit the input.
    #[error("neuron state has shape {found:?}, but the input needs {expected:?}")]
    StateShape {
        /// Shape the input requires.
        expected: Vec<usize>,
        /// Shape of the state given.
        found: Vec<usize>,
    },
    /// A multi-step input without a time axis or with zero steps.
    #[error("multi-step input must be [T, N, …] with T ≥ 1, got shape {0:?}")]
    NoSteps(Vec<usize>),
}

impl NeuronConfig {
    /// SpikingJelly's `IFNode()`.
    pub const fn if_node() -> Self {
        Self {
            model: NeuronModel::If,
            v_threshold: 1.0,
            reset: Reset::Hard { v_reset: 0.0 },
            detach_reset: false,
            surrogate: Surrogate::sigmoid(),
        }
    }

    /// SpikingJelly's `LIFNode(tau)` (decay_input = true).
    pub const fn lif(tau: f32) -> Self {
        Self {
            model: NeuronModel::Lif {
                tau,
                decay_input: true,
            },
            ..Self::if_node()
        }
    }

    /// SpikingJelly's `ParametricLIFNode(init_tau)` (decay_input = true).
    pub const fn plif(init_tau: f32) -> Self {
        Self {
            model: NeuronModel::ParametricLif {
                init_tau,
                decay_input: true,
            },
            ..Self::if_node()
        }
    }

    /// With another surrogate.
    pub const fn with_surrogate(mut self, surrogate: Surrogate) -> Self {
        self.surrogate = surrogate;
        self
    }

    /// With another reset.
    pub const fn with_reset(mut self, reset: Reset) -> Self {
        self.reset = reset;
        self
    }

    /// With another threshold.
    pub const fn with_threshold(mut self, v_threshold: f32) -> Self {
        self.v_threshold = v_threshold;
        self
    }

    /// With or without the gradient through the spike in the reset.
    pub const fn with_detach_reset(mut self, detach_reset: bool) -> Self {
        self.detach_reset = detach_reset;
        self
    }

    /// With `decay_input` set (LIF and PLIF; IF has none and is returned unchanged).
    pub const fn with_decay_input(mut self, decay_input: bool) -> Self {
        self.model = match self.model {
            NeuronModel::If => NeuronModel::If,
            NeuronModel::Lif { tau, .. } => NeuronModel::Lif { tau, decay_input },
            NeuronModel::ParametricLif { init_tau, .. } => NeuronModel::ParametricLif {
                init_tau,
                decay_input,
            },
        };
        self
    }

    /// Checks the ranges SpikingJelly asserts (`tau > 1`, `init_tau > 1`) and that every
    /// number is finite and every surrogate parameter positive.
    pub fn validate(&self) -> Result<(), NeuronError> {
        let fail = |what: String| Err(NeuronError::InvalidConfig(what));
        match self.model {
            NeuronModel::Lif { tau, .. } if !(tau.is_finite() && tau > 1.0) => {
                return fail(format!("LIF tau must be a finite number > 1, got {tau}"));
            }
            NeuronModel::ParametricLif { init_tau, .. }
                if !(init_tau.is_finite() && init_tau > 1.0) =>
            {
                return fail(format!(
                    "PLIF init_tau must be a finite number > 1, got {init_tau}"
                ));
            }
            _ => {}
        }
        if !self.v_threshold.is_finite() {
            return fail(format!(
                "v_threshold must be finite, got {}",
                self.v_threshold
            ));
        }
        if let Reset::Hard { v_reset } = self.reset
            && !v_reset.is_finite()
        {
            return fail(format!("v_reset must be finite, got {v_reset}"));
        }
        if let Surrogate::PiecewiseLeakyReLU { c, .. } = self.surrogate
            && !c.is_finite()
        {
            return fail(format!("PiecewiseLeakyReLU c must be finite, got {c}"));
        }
        let shape = self.surrogate.shape();
        if !(shape.is_finite() && shape > 0.0) {
            return fail(format!(
                "surrogate {} needs a finite positive shape parameter, got {shape}",
                self.surrogate.name()
            ));
        }
        Ok(())
    }

    /// PLIF's initial weight `w0 = −ln(init_tau − 1)`; `None` for IF and LIF.
    pub fn initial_w(&self) -> Option<f32> {
        match self.model {
            NeuronModel::ParametricLif { init_tau, .. } => Some(-(init_tau - 1.0).ln()),
            _ => None,
        }
    }

    /// The value `r` the membrane leaks towards and starts from: `v_reset`, or 0 (soft).
    pub fn rest(&self) -> f32 {
        match self.reset {
            Reset::Hard { v_reset } => v_reset,
            Reset::Soft => 0.0,
        }
    }

    /// The state before the first step, for inputs of `shape` (one step's shape).
    pub fn initial_state<const D: usize>(
        &self,
        shape: [usize; D],
        device: &Device,
    ) -> NeuronState<D> {
        NeuronState {
            v: Tensor::full(shape, self.rest(), device),
        }
    }

    /// The equations as plain numbers, for the fused kernels (PLIF's `k` is filled in later).
    pub fn dynamics(&self) -> Dynamics {
        let charge = match self.model {
            NeuronModel::If => Charge::If,
            NeuronModel::Lif { tau, decay_input } => Charge::Lif { tau, decay_input },
            NeuronModel::ParametricLif { decay_input, .. } => Charge::Plif {
                k: f32::NAN,
                decay_input,
            },
        };
        Dynamics {
            charge,
            v_threshold: self.v_threshold,
            v_reset: match self.reset {
                Reset::Hard { v_reset } => Some(v_reset),
                Reset::Soft => None,
            },
            detach_reset: self.detach_reset,
            surrogate: self.surrogate,
        }
    }

    fn check_weight(&self, w: Option<&Tensor<1>>) -> Result<(), NeuronError> {
        match (self.model, w) {
            (NeuronModel::ParametricLif { .. }, None) => Err(NeuronError::Weight(
                "a ParametricLIF neuron needs its weight w (a [1] tensor)",
            )),
            (NeuronModel::If | NeuronModel::Lif { .. }, Some(_)) => Err(NeuronError::Weight(
                "only ParametricLIF neurons take a weight w; IF and LIF have none",
            )),
            _ => Ok(()),
        }
    }
}

impl Default for NeuronConfig {
    fn default() -> Self {
        Self::if_node()
    }
}

/// One time step: `(X[t], V[t-1]) → (S[t], V[t])`, on `x: [N, …]`.
///
/// `state: None` starts from [`NeuronConfig::initial_state`]. `w` is PLIF's weight.
pub fn step<const D: usize>(
    config: &NeuronConfig,
    w: Option<&Tensor<1>>,
    x: Tensor<D>,
    state: Option<NeuronState<D>>,
) -> Result<(Tensor<D>, NeuronState<D>), NeuronError> {
    config.validate()?;
    config.check_weight(w)?;
    let shape = x.dims();
    let v = checked_state(config, state, shape, &x.device())?;
    let (spikes, v) = reference::step(config, w, x, v);
    Ok((spikes, NeuronState { v }))
}

/// `T` steps over the first axis of `x: [T, N, …]`.
///
/// `state: None` starts from [`NeuronConfig::initial_state`]; a given state's `v` must be
/// `[1, N, …]` (a state of the wrong shape is an error, not a silent re-initialisation as in
/// SpikingJelly 2.0.0). `w` is PLIF's weight. The returned state and `v_seq` are
/// differentiable like the spikes.
pub fn multi_step<const D: usize>(
    config: &NeuronConfig,
    w: Option<&Tensor<1>>,
    x: Tensor<D>,
    state: Option<NeuronState<D>>,
    options: MultiStepOptions,
) -> Result<MultiStepOutput<D>, NeuronError> {
    let v_output = if options.store_v_seq {
        VOutput::Sequence
    } else {
        VOutput::Last
    };
    let steps = x.dims()[0];
    let (spikes, v_out) = run(config, w, x, state, options.implementation, v_output)?;
    let v_out = v_out.expect("a V output was asked for");
    let (v, v_seq) = if options.store_v_seq {
        (v_out.clone().narrow(0, steps - 1, 1), Some(v_out))
    } else {
        (v_out, None)
    };
    Ok(MultiStepOutput {
        spikes,
        state: NeuronState { v },
        v_seq,
    })
}

/// The spikes of [`multi_step`] alone, from `state` (or the initial state): the everyday
/// forward pass of a layer. Cheaper than [`multi_step`] when the state is not needed, since
/// the fused op then neither writes nor differentiates the potentials.
pub fn spikes<const D: usize>(
    config: &NeuronConfig,
    w: Option<&Tensor<1>>,
    x: Tensor<D>,
    state: Option<NeuronState<D>>,
    implementation: Implementation,
) -> Result<Tensor<D>, NeuronError> {
    Ok(run(config, w, x, state, implementation, VOutput::None)?.0)
}

/// Checks the inputs and runs the chosen implementation; returns the spikes and the `V`
/// rows `v_output` asks for.
fn run<const D: usize>(
    config: &NeuronConfig,
    w: Option<&Tensor<1>>,
    x: Tensor<D>,
    state: Option<NeuronState<D>>,
    implementation: Implementation,
    v_output: VOutput,
) -> Result<(Tensor<D>, Option<Tensor<D>>), NeuronError> {
    config.validate()?;
    config.check_weight(w)?;
    let dims = x.dims();
    let steps = dims[0];
    if steps == 0 {
        return Err(NeuronError::NoSteps(dims.to_vec()));
    }
    let mut slice_shape = dims;
    slice_shape[0] = 1;
    let device = x.device();
    let v0 = checked_state(config, state, slice_shape, &device)?;

    if implementation == Implementation::Reference || !fused::is_supported(&device, x.dtype()) {
        let store_v_seq = v_output == VOutput::Sequence;
        let (spikes, v_out) = reference::multi_step(config, w, x, v0, store_v_seq);
        return Ok((spikes, (v_output != VOutput::None).then_some(v_out)));
    }
    // IF and LIF ignore w; the op takes one anyway (a constant, never differentiated).
    let w = w.cloned().unwrap_or_else(|| Tensor::zeros([1], &device));
    let spec = FusedSpec {
        dynamics: config.dynamics(),
        v_output,
    };
    let steps_v = spec.steps_v(steps);
    let out = fused::multi_step(x, v0, w, spec);
    if steps_v == 0 {
        return Ok((out, None));
    }
    Ok((
        out.clone().narrow(0, 0, steps),
        Some(out.narrow(0, steps, steps_v)),
    ))
}

fn checked_state<const D: usize>(
    config: &NeuronConfig,
    state: Option<NeuronState<D>>,
    shape: [usize; D],
    device: &Device,
) -> Result<Tensor<D>, NeuronError> {
    match state {
        None => Ok(config.initial_state(shape, device).v),
        Some(NeuronState { v }) if v.dims() == shape => Ok(v),
        Some(NeuronState { v }) => Err(NeuronError::StateShape {
            expected: shape.to_vec(),
            found: v.dims().to_vec(),
        }),
    }
}
