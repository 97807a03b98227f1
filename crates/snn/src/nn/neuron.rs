//! Neuron settings as a network file writes them: every field optional, merged over the
//! network's default neuron, then turned into a checked [`NeuronConfig`].

use serde::{Deserialize, Serialize};

use super::BuildError;
use crate::neuron::{NeuronConfig, NeuronModel, Reset};
use crate::surrogate::Surrogate;

/// The neuron models by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelName {
    /// `IFNode`.
    If,
    /// `LIFNode(tau)`.
    Lif,
    /// `ParametricLIFNode(init_tau)` (`tau` is its initial value).
    Plif,
}

/// The surrogate functions by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurrogateName {
    /// `Sigmoid(alpha=4)`.
    Sigmoid,
    /// `ATan(alpha=2)`.
    Atan,
    /// `PiecewiseQuadratic(alpha=1)`.
    PiecewiseQuadratic,
    /// `PiecewiseExp(alpha=1)`.
    PiecewiseExp,
    /// `SoftSign(alpha=2)`.
    SoftSign,
    /// `SuperSpike(alpha=1)`.
    SuperSpike,
    /// `Erf(alpha=2)`.
    Erf,
    /// `PiecewiseLeakyReLU(w=1, c=0.01)`; `alpha` sets `w`.
    PiecewiseLeakyRelu,
}

impl SurrogateName {
    /// The surrogate with its default shape, or `alpha` (PiecewiseLeakyReLU: `w`).
    pub fn with_alpha(self, alpha: Option<f32>) -> Surrogate {
        let surrogate = match self {
            SurrogateName::Sigmoid => Surrogate::sigmoid(),
            SurrogateName::Atan => Surrogate::atan(),
            SurrogateName::PiecewiseQuadratic => Surrogate::piecewise_quadratic(),
            SurrogateName::PiecewiseExp => Surrogate::piecewise_exp(),
            SurrogateName::SoftSign => Surrogate::soft_sign(),
            SurrogateName::SuperSpike => Surrogate::super_spike(),
            SurrogateName::Erf => Surrogate::erf(),
            SurrogateName::PiecewiseLeakyRelu => Surrogate::piecewise_leaky_relu(),
        };
        alpha.map_or(surrogate, |alpha| surrogate.with_shape(alpha))
    }
}

/// A neuron as a network file gives it; an absent field takes the network's default, then
/// SpikingJelly's (`IFNode()`: threshold 1, hard reset to 0, no detach, Sigmoid(4)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronSpec {
    /// `if`, `lif` or `plif`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelName>,
    /// LIF's `tau`, PLIF's `init_tau` (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau: Option<f32>,
    /// LIF/PLIF: whether the input decays with the membrane (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay_input: Option<bool>,
    /// Threshold θ (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_threshold: Option<f32>,
    /// Hard-reset potential (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_reset: Option<f32>,
    /// Soft reset (subtract θ) instead of the hard one (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_reset: Option<bool>,
    /// Detach the spike in the reset from the gradient (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detach_reset: Option<bool>,
    /// The surrogate (default sigmoid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surrogate: Option<SurrogateName>,
    /// The surrogate's shape parameter (default: the surrogate's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f32>,
    /// PiecewiseLeakyReLU's leak `c` outside the window (default 0.01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leak: Option<f32>,
}

impl NeuronSpec {
    /// This spec's fields where given, else `base`'s.
    pub fn over(&self, base: &NeuronSpec) -> NeuronSpec {
        NeuronSpec {
            model: self.model.or(base.model),
            tau: self.tau.or(base.tau),
            decay_input: self.decay_input.or(base.decay_input),
            v_threshold: self.v_threshold.or(base.v_threshold),
            v_reset: self.v_reset.or(base.v_reset),
            soft_reset: self.soft_reset.or(base.soft_reset),
            detach_reset: self.detach_reset.or(base.detach_reset),
            surrogate: self.surrogate.or(base.surrogate),
            alpha: self.alpha.or(base.alpha),
            leak: self.leak.or(base.leak),
        }
    }

    /// These settings laid over `base` as a user's overrides: like [`over`](Self::over),
    /// but an override also clears what it contradicts — `if` drops `tau` and
    /// `decay_input`, a soft reset drops `v_reset` (and a `v_reset` the soft reset), a
    /// surrogate without `alpha` drops the base's `alpha` (meant for another surrogate).
    pub fn overriding(&self, base: &NeuronSpec) -> NeuronSpec {
        let mut base = *base;
        if self.model == Some(ModelName::If) {
            (base.tau, base.decay_input) = (None, None);
        }
        if self.soft_reset == Some(true) {
            base.v_reset = None;
        }
        if self.v_reset.is_some() {
            base.soft_reset = None;
        }
        if self.surrogate.is_some() && self.alpha.is_none() {
            base.alpha = None;
        }
        if self.surrogate.is_some() && self.leak.is_none() {
            base.leak = None;
        }
        self.over(&base)
    }

    /// The checked settings.
    pub fn config(&self) -> Result<NeuronConfig, BuildError> {
        let tau = self.tau.unwrap_or(2.0);
        let decay_input = self.decay_input.unwrap_or(true);
        let model = match self.model.unwrap_or(ModelName::If) {
            ModelName::If => {
                if self.tau.is_some() || self.decay_input.is_some() {
                    return Err(BuildError::new(
                        "an IF neuron has no tau or decay_input (use model = \"lif\")",
                    ));
                }
                NeuronModel::If
            }
            ModelName::Lif => NeuronModel::Lif { tau, decay_input },
            ModelName::Plif => NeuronModel::ParametricLif {
                init_tau: tau,
                decay_input,
            },
        };
        let reset = match (self.soft_reset.unwrap_or(false), self.v_reset) {
            (true, Some(_)) => {
                return Err(BuildError::new(
                    "a neuron has either soft_reset = true or a v_reset, not both",
                ));
            }
            (true, None) => Reset::Soft,
            (false, v_reset) => Reset::Hard {
                v_reset: v_reset.unwrap_or(0.0),
            },
        };
        let name = self.surrogate.unwrap_or(SurrogateName::Sigmoid);
        let mut surrogate = name.with_alpha(self.alpha);
        match (self.leak, &mut surrogate) {
            (None, _) => {}
            (Some(leak), Surrogate::PiecewiseLeakyReLU { c, .. }) => *c = leak,
            (Some(_), _) => {
                return Err(BuildError::new(
                    "`leak` is PiecewiseLeakyReLU's c; it does not apply to another surrogate",
                ));
            }
        }
        let config = NeuronConfig {
            model,
            v_threshold: self.v_threshold.unwrap_or(1.0),
            reset,
            detach_reset: self.detach_reset.unwrap_or(false),
            surrogate,
        };
        config
            .validate()
            .map_err(|error| BuildError::new(error.to_string()))?;
        Ok(config)
    }

    /// The spec of `config` with every field given.
    pub fn of(config: &NeuronConfig) -> NeuronSpec {
        let (model, tau, decay_input) = match config.model {
            NeuronModel::If => (ModelName::If, None, None),
            NeuronModel::Lif { tau, decay_input } => (ModelName::Lif, Some(tau), Some(decay_input)),
            NeuronModel::ParametricLif {
                init_tau,
                decay_input,
            } => (ModelName::Plif, Some(init_tau), Some(decay_input)),
        };
        let leak = match config.surrogate {
            Surrogate::PiecewiseLeakyReLU { c, .. } => Some(c),
            _ => None,
        };
        let (surrogate, alpha) = match config.surrogate {
            Surrogate::Sigmoid { alpha } => (SurrogateName::Sigmoid, alpha),
            Surrogate::ATan { alpha } => (SurrogateName::Atan, alpha),
            Surrogate::PiecewiseQuadratic { alpha } => (SurrogateName::PiecewiseQuadratic, alpha),
            Surrogate::PiecewiseExp { alpha } => (SurrogateName::PiecewiseExp, alpha),
            Surrogate::SoftSign { alpha } => (SurrogateName::SoftSign, alpha),
            Surrogate::SuperSpike { alpha } => (SurrogateName::SuperSpike, alpha),
            Surrogate::Erf { alpha } => (SurrogateName::Erf, alpha),
            Surrogate::PiecewiseLeakyReLU { w, .. } => (SurrogateName::PiecewiseLeakyRelu, w),
        };
        let (v_reset, soft_reset) = match config.reset {
            Reset::Hard { v_reset } => (Some(v_reset), None),
            Reset::Soft => (None, Some(true)),
        };
        NeuronSpec {
            model: Some(model),
            tau,
            decay_input,
            v_threshold: Some(config.v_threshold),
            v_reset,
            soft_reset,
            detach_reset: Some(config.detach_reset),
            surrogate: Some(surrogate),
            alpha: Some(alpha),
            leak,
        }
    }
}
