//! The optimisers, burn's with PyTorch's semantics: SGD (`torch.optim.SGD`: momentum without
//! dampening, optionally Nesterov, coupled weight decay), Adam (`torch.optim.Adam`, coupled
//! weight decay) and AdamW (`torch.optim.AdamW`, decoupled weight decay).

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

/// An optimiser and its settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum OptimizerSpec {
    /// `p ← p − lr · v`, `v ← momentum · v + (g + weight_decay · p)`.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum (0: plain SGD).
        momentum: f64,
        /// L2 penalty added to the gradient.
        weight_decay: f64,
        /// Nesterov momentum.
        #[serde(default)]
        nesterov: bool,
    },
    /// Adam with PyTorch's defaults `β = (0.9, 0.999)`, `ε = 1e-8`.
    Adam {
        /// Learning rate.
        lr: f64,
        /// L2 penalty added to the gradient.
        weight_decay: f64,
    },
    /// AdamW (decoupled weight decay; PyTorch's default decay is 0.01), `ε = 1e-8`.
    #[serde(rename = "adamw")]
    AdamW {
        /// Learning rate.
        lr: f64,
        /// Decoupled weight decay: `p ← p − lr · weight_decay · p` each step.
        weight_decay: f64,
    },
}

impl Default for OptimizerSpec {
    /// The seed experiment's plain SGD with lr 0.05.
    fn default() -> Self {
        OptimizerSpec::Sgd {
            lr: 0.05,
            momentum: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

impl OptimizerSpec {
    /// The learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            OptimizerSpec::Sgd { lr, .. }
            | OptimizerSpec::Adam { lr, .. }
            | OptimizerSpec::AdamW { lr, .. } => lr,
        }
    }

    /// Checks the settings: a finite learning rate above 0, a finite weight decay of at least
    /// 0, a momentum in `[0, 1)`.
    pub fn validate(&self) -> Result<(), String> {
        let (lr, momentum, weight_decay) = match *self {
            OptimizerSpec::Sgd {
                lr,
                momentum,
                weight_decay,
                nesterov,
            } => {
                if nesterov && momentum == 0.0 {
                    return Err("Nesterov momentum needs a momentum above 0".into());
                }
                (lr, momentum, weight_decay)
            }
            OptimizerSpec::Adam { lr, weight_decay }
            | OptimizerSpec::AdamW { lr, weight_decay } => (lr, 0.0, weight_decay),
        };
        if !(lr.is_finite() && lr > 0.0) {
            return Err(format!(
                "the learning rate must be finite and above 0, not {lr}"
            ));
        }
        if !(0.0..1.0).contains(&momentum) {
            return Err(format!("the momentum must be in [0, 1), not {momentum}"));
        }
        if !(weight_decay.is_finite() && weight_decay >= 0.0) {
            return Err(format!(
                "the weight decay must be finite and at least 0, not {weight_decay}"
            ));
        }
        Ok(())
    }

    /// A fresh optimiser (no state yet).
    pub fn build(&self) -> ModuleOptimizer {
        let decay = |penalty: f64| (penalty != 0.0).then(|| WeightDecayConfig::new(penalty as f32));
        match *self {
            OptimizerSpec::Sgd {
                momentum,
                weight_decay,
                nesterov,
                ..
            } => SgdConfig::new()
                .with_momentum((momentum != 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(momentum)
                        .with_dampening(0.0)
                        .with_nesterov(nesterov)
                }))
                .with_weight_decay(decay(weight_decay))
                .init(),
            OptimizerSpec::Adam { weight_decay, .. } => AdamConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(decay(weight_decay))
                .init(),
            OptimizerSpec::AdamW { weight_decay, .. } => AdamWConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(weight_decay as f32)
                .init(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_and_out_of_range_settings_are_refused() {
        let sgd = |lr, momentum, weight_decay| OptimizerSpec::Sgd {
            lr,
            momentum,
            weight_decay,
            nesterov: false,
        };
        assert!(sgd(0.05, 0.9, 1e-4).validate().is_ok());
        for bad in [
            sgd(f64::NAN, 0.0, 0.0),
            sgd(f64::INFINITY, 0.0, 0.0),
            sgd(-1.0, 0.0, 0.0),
            sgd(0.0, 0.0, 0.0),
            sgd(0.05, f64::NAN, 0.0),
            sgd(0.05, 1.0, 0.0),
            sgd(0.05, -0.1, 0.0),
            sgd(0.05, 0.0, f64::INFINITY),
            sgd(0.05, 0.0, -1e-4),
            OptimizerSpec::Adam {
                lr: f64::NAN,
                weight_decay: 0.0,
            },
            OptimizerSpec::AdamW {
                lr: 0.001,
                weight_decay: -0.01,
            },
            OptimizerSpec::Sgd {
                lr: 0.1,
                momentum: 0.0,
                weight_decay: 0.0,
                nesterov: true,
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?} accepted");
        }
    }
}
