//! The optimisers: SGD (PyTorch's `torch.optim.SGD`: momentum without dampening, coupled
//! weight decay) and Adam (`torch.optim.Adam`), both burn's.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
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
    },
    /// Adam with PyTorch's defaults `β = (0.9, 0.999)`, `ε = 1e-8`.
    Adam {
        /// Learning rate.
        lr: f64,
        /// L2 penalty added to the gradient.
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
        }
    }
}

impl OptimizerSpec {
    /// The learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            OptimizerSpec::Sgd { lr, .. } | OptimizerSpec::Adam { lr, .. } => lr,
        }
    }

    /// A fresh optimiser (no state yet).
    pub fn build(&self) -> ModuleOptimizer {
        let decay = |penalty: f64| (penalty != 0.0).then(|| WeightDecayConfig::new(penalty as f32));
        match *self {
            OptimizerSpec::Sgd {
                momentum,
                weight_decay,
                ..
            } => SgdConfig::new()
                .with_momentum((momentum != 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(momentum)
                        .with_dampening(0.0)
                }))
                .with_weight_decay(decay(weight_decay))
                .init(),
            OptimizerSpec::Adam { weight_decay, .. } => AdamConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(decay(weight_decay))
                .init(),
        }
    }
}
