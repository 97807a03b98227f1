//! Synaptic operations and an energy estimate, per sample.
//!
//! A layer fed real values does multiply-accumulates (MAC); a layer fed binary spikes does
//! one accumulate (AC) per spike and outgoing synapse, so its count is the measured firing
//! rate times the dense count. Energies per operation are 32-bit floating point at 45 nm
//! (M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014):
//! an add 0.9 pJ, a multiply 3.7 pJ, so a MAC 4.6 pJ.
//!
//! Convolutions and Linear layers are counted densely (every output × input × taps, as
//! `thop` and `syops` count them), as MACs where their input is real-valued (a network's
//! first layer sees event frames) and as ACs at the measured firing rate where it is spikes.

use serde::{Deserialize, Serialize};

use crate::network::Network;
use crate::nn::Layer;

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

impl LayerOps {
    /// The layer's energy estimate per sample, in nanojoules.
    pub fn energy_nj(&self) -> f64 {
        let pj = match self.kind {
            OpKind::Mac => PJ_PER_MAC,
            OpKind::Ac => PJ_PER_AC,
        };
        self.per_sample * pj / 1e3
    }
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

/// What a layer's input is, for counting its operations.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Input {
    /// Real values: every synapse multiplies and adds.
    Real,
    /// Spikes (or sums of spikes) at this many per input value and step: every spike adds.
    Spikes(f64),
}

/// The operations of `network` per sample of `steps` frames, given the measured firing
/// rate of each spiking layer by name (`rate(name)`: spikes per neuron and step).
///
/// Convolutions and Linear layers are counted densely (every output × input × taps, as
/// `thop` and `syops` count them) as MACs when fed real values and as ACs at the input's
/// firing rate when fed spikes; a mean or sum over time adds one AC per summed value (and
/// the mean one MAC per value). Normalisation, pooling and neurons are not counted. Max
/// pooling, flatten and dropout pass their input's rate on (for max pooling an estimate);
/// a SEW block's output counts as the sum of its two branches' rates (exact for ADD).
pub fn network_ops(network: &Network, steps: usize, rate: &dyn Fn(&str) -> f64) -> SynapticOps {
    let mut t = steps as f64;
    let mut input = Input::Real;
    let mut layers = Vec::new();
    let mut in_shape = network.input();
    let synapses = |name: String, input: Input, dense: f64, t: f64| match input {
        Input::Real => LayerOps {
            name,
            kind: OpKind::Mac,
            per_sample: dense * t,
        },
        Input::Spikes(r) => LayerOps {
            name,
            kind: OpKind::Ac,
            per_sample: r * dense * t,
        },
    };
    for ((layer, name), out_shape) in network
        .layers
        .iter()
        .zip(network.names())
        .zip(network.shapes().iter().copied())
    {
        let name = name.to_string();
        input = match layer {
            Layer::Conv2d(conv) => {
                let (_, in_channels) = conv.channels();
                let taps = (in_channels * conv.kernel() * conv.kernel()) as f64;
                layers.push(synapses(name, input, out_shape.len() as f64 * taps, t));
                Input::Real
            }
            Layer::Linear(_) => {
                let dense = (in_shape.len() * out_shape.len()) as f64;
                layers.push(synapses(name, input, dense, t));
                Input::Real
            }
            Layer::SewBlock(block) => {
                let out = out_shape.len() as f64;
                let (_, in_channels) = block.conv1.channels();
                let planes = block.out_channels() as f64;
                let sn1 = rate(&format!("{name}.sn1"));
                layers.push(synapses(
                    format!("{name}.conv1"),
                    input,
                    out * in_channels as f64 * 9.0,
                    t,
                ));
                layers.push(synapses(
                    format!("{name}.conv2"),
                    Input::Spikes(sn1),
                    out * planes * 9.0,
                    t,
                ));
                let shortcut = match &block.downsample {
                    Some(_) => {
                        layers.push(synapses(
                            format!("{name}.downsample.0"),
                            input,
                            out * in_channels as f64,
                            t,
                        ));
                        rate(&format!("{name}.downsample_sn"))
                    }
                    None => match input {
                        Input::Spikes(r) => r,
                        Input::Real => 1.0,
                    },
                };
                Input::Spikes(rate(&format!("{name}.sn2")) + shortcut)
            }
            Layer::TimeReduce(reduce) => {
                let values = in_shape.len() as f64;
                layers.push(LayerOps {
                    name: format!("{name} (sum over T)"),
                    kind: OpKind::Ac,
                    per_sample: (t - 1.0) * values,
                });
                if !reduce.sum {
                    layers.push(LayerOps {
                        name: format!("{name} (divide by T)"),
                        kind: OpKind::Mac,
                        per_sample: values,
                    });
                }
                t = 1.0;
                Input::Real
            }
            Layer::Neuron(_) | Layer::AdaptiveLif(_) => Input::Spikes(rate(&name)),
            Layer::MaxPool2d(_) | Layer::Flatten(_) | Layer::Dropout(_) => input,
            Layer::BatchNorm2d(_)
            | Layer::AvgPool2d(_)
            | Layer::AdaptiveAvgPool2d(_)
            | Layer::Relu(_)
            | Layer::Voting(_) => Input::Real,
        };
        in_shape = out_shape;
    }
    SynapticOps::new(layers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models;
    use burn::tensor::Device;

    fn preset(name: &str) -> Network {
        let config = models::preset(name)
            .unwrap()
            .resolve(10, &Default::default())
            .unwrap();
        config.init([2, 32, 32], 10, 0, &Device::flex()).unwrap()
    }

    #[test]
    fn seed_snn_counts_accumulates_in_proportion_to_its_firing_rate() {
        let net = preset("seed-snn");
        let silent = network_ops(&net, 8, &|_| 0.0);
        let busy = network_ops(&net, 8, &|name| if name == "sn" { 0.2 } else { 0.0 });
        assert_eq!(silent.acs, 0.0);
        assert_eq!(silent.macs, 32.0 * 1024.0 * 18.0 * 8.0);
        assert!((busy.acs - 0.2 * 32768.0 * 8.0 * 10.0).abs() < 1e-6);
        let expected_nj = (silent.macs * 4.6 + busy.acs * 0.9) / 1e3;
        assert!((busy.energy_nj - expected_nj).abs() < 1e-9);
    }

    #[test]
    fn seed_cnn_multiply_accumulates_once_per_sample() {
        let mean = network_ops(&preset("seed-cnn"), 8, &|_| 0.5);
        let conv_and_fc = 32.0 * 1024.0 * 18.0 + 32768.0 * 10.0;
        // The mean over T: the sum, then one division per input pixel.
        assert_eq!(mean.macs, conv_and_fc + 2.0 * 1024.0);
        assert_eq!(mean.acs, 7.0 * 2.0 * 1024.0);
    }

    #[test]
    fn sew_blocks_count_both_branches_and_the_shortcut() {
        let net = preset("sew-resnet");
        let ops = network_ops(&net, 4, &|_| 0.1);
        let names: Vec<&str> = ops.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "conv1",
                "layer1.0.conv1",
                "layer1.0.conv2",
                "layer2.0.conv1",
                "layer2.0.conv2",
                "layer2.0.downsample.0",
                "fc"
            ]
        );
        // The stem sees frames (MACs), the blocks spikes (ACs), the Linear layer the average
        // pooling's real values (MACs).
        let kinds: Vec<OpKind> = ops.layers.iter().map(|l| l.kind).collect();
        let (mac, ac) = (OpKind::Mac, OpKind::Ac);
        assert_eq!(kinds, [mac, ac, ac, ac, ac, ac, mac]);
        // layer2.0 sees layer1.0's ADD output: rate 0.1 + 0.1.
        let stem = ops.layers[0].per_sample / (8.0 * 16.0 * 16.0 * 2.0 * 49.0);
        assert!((stem - 4.0).abs() < 1e-9);
        let dense = 16.0 * 4.0 * 4.0 * 8.0 * 9.0 * 4.0;
        assert!((ops.layers[3].per_sample - 0.2 * dense).abs() < 1e-6);
    }
}
