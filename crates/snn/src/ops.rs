//! Synaptic operations and an energy estimate, per sample.
//!
//! A layer fed real values does multiply-accumulates (MAC); a layer fed binary spikes does
//! one accumulate (AC) per spike and outgoing synapse, so its count is the measured firing
//! rate times the dense count. Energies per operation are 32-bit floating point at 45 nm
//! (M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014):
//! an add 0.9 pJ, a multiply 3.7 pJ, so a MAC 4.6 pJ.
//!
//! Convolutions are counted densely (every output × input channel × 3·3 taps, as `thop`
//! and `syops` count them), including the first layer of the SNN, whose inputs are
//! real-valued frames.

use serde::{Deserialize, Serialize};

use crate::model::{CnnInput, NetKind, SeedNetConfig};

/// Energy of one accumulate (pJ, 45 nm, 32-bit float add).
pub const PJ_PER_AC: f64 = 0.9;
/// Energy of one multiply-accumulate (pJ, 45 nm, 32-bit float multiply + add).
pub const PJ_PER_MAC: f64 = 4.6;

/// Multiply-accumulates or accumulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    /// Multiply-accumulate (real-valued input).
    Mac,
    /// Accumulate (binary spike input, or a plain sum).
    Ac,
}

/// The operations of one layer, per sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerOps {
    /// Layer name.
    pub name: String,
    /// MAC or AC.
    pub kind: OpKind,
    /// Operations per sample.
    pub per_sample: f64,
}

/// All operations of a network, per sample, and their energy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynapticOps {
    /// Layer by layer.
    pub layers: Vec<LayerOps>,
    /// Multiply-accumulates per sample.
    pub macs: f64,
    /// Accumulates per sample.
    pub acs: f64,
    /// `macs · 4.6 pJ + acs · 0.9 pJ`, in nanojoules per sample.
    pub energy_nj: f64,
}

impl SynapticOps {
    fn new(layers: Vec<LayerOps>) -> Self {
        let total = |kind| {
            layers
                .iter()
                .filter(|l| l.kind == kind)
                .map(|l| l.per_sample)
                .sum::<f64>()
        };
        let (macs, acs) = (total(OpKind::Mac), total(OpKind::Ac));
        Self {
            energy_nj: (macs * PJ_PER_MAC + acs * PJ_PER_AC) / 1e3,
            layers,
            macs,
            acs,
        }
    }
}

/// The operations of a seed network on `frames` frames per sample, given its hidden layer's
/// measured activity (the SNN's firing rate: spikes per neuron and step).
pub fn seed_net_ops(config: &SeedNetConfig, frames: usize, hidden_rate: f64) -> SynapticOps {
    let (h, w) = config.frame_size;
    let t = frames as f64;
    let pixels = (h * w) as f64;
    let features = config.features() as f64;
    let classes = config.classes as f64;
    let conv_per_frame = features * 2.0 * 9.0;
    let layer = |name: &str, kind, per_sample| LayerOps {
        name: name.to_string(),
        kind,
        per_sample,
    };
    let layers = match (config.kind, config.cnn_input) {
        (NetKind::Snn, _) => vec![
            layer("conv1", OpKind::Mac, conv_per_frame * t),
            layer("fc", OpKind::Ac, hidden_rate * features * t * classes),
        ],
        (NetKind::Cnn, CnnInput::SumOverTime) => vec![
            layer("sum over T", OpKind::Ac, (t - 1.0) * 2.0 * pixels),
            layer("conv1", OpKind::Mac, conv_per_frame),
            layer("fc", OpKind::Mac, features * classes),
        ],
        // The sum, then one multiplication per input pixel.
        (NetKind::Cnn, CnnInput::MeanOverTime) => vec![
            layer("sum over T", OpKind::Ac, (t - 1.0) * 2.0 * pixels),
            layer("divide by T", OpKind::Mac, 2.0 * pixels),
            layer("conv1", OpKind::Mac, conv_per_frame),
            layer("fc", OpKind::Mac, features * classes),
        ],
        (NetKind::Cnn, CnnInput::PerFrameMean) => vec![
            layer("conv1", OpKind::Mac, conv_per_frame * t),
            layer("mean over T", OpKind::Ac, (t - 1.0) * features),
            layer("fc", OpKind::Mac, features * classes),
        ],
    };
    SynapticOps::new(layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_snn_counts_accumulates_in_proportion_to_its_firing_rate() {
        let config = SeedNetConfig::seed(NetKind::Snn, 10, (32, 32));
        let silent = seed_net_ops(&config, 8, 0.0);
        let busy = seed_net_ops(&config, 8, 0.2);
        assert_eq!(silent.acs, 0.0);
        assert_eq!(silent.macs, 32.0 * 1024.0 * 18.0 * 8.0);
        assert!((busy.acs - 0.2 * 32768.0 * 8.0 * 10.0).abs() < 1e-6);
        let expected_nj = (silent.macs * 4.6 + busy.acs * 0.9) / 1e3;
        assert!((busy.energy_nj - expected_nj).abs() < 1e-9);
    }

    #[test]
    fn seed_cnn_multiply_accumulates_once_per_sample() {
        let mut config = SeedNetConfig::seed(NetKind::Cnn, 10, (32, 32));
        config.cnn_input = CnnInput::SumOverTime;
        let summed = seed_net_ops(&config, 8, 0.5);
        assert_eq!(summed.macs, 32.0 * 1024.0 * 18.0 + 32768.0 * 10.0);
        assert_eq!(summed.acs, 7.0 * 2.0 * 1024.0);
        // The mean (the default) adds one division per input pixel to the sum.
        config.cnn_input = CnnInput::MeanOverTime;
        let mean = seed_net_ops(&config, 8, 0.5);
        assert_eq!(mean.macs, summed.macs + 2.0 * 1024.0);
        assert_eq!(mean.acs, summed.acs);
    }
}
