//! A trained [`Network`] as a NIR graph, with SpikingJelly's `export_to_nir` parameter
//! mapping (time step `dt`, default 1e-4 s):
//!
//! | spikeforge layer | NIR node |
//! |---|---|
//! | `conv2d` (+ a following `batch_norm2d`, folded) | `Conv2d` (bias zeros when none) |
//! | `linear` | `Affine` (with bias) or `Linear` |
//! | `flatten` | `Flatten` (`start_dim` 0, `end_dim` −1: per sample) |
//! | `avg_pool2d`, `adaptive_avg_pool2d` (whole windows) | `AvgPool2d` |
//! | IF neuron | `IF`: `r = 1/dt`, `v_threshold = θ`, `v_reset` |
//! | LIF neuron | `LIF`: `tau = τ·dt`, `r = 1` (decay_input) or `τ`, `v_leak = v_reset` |
//! | PLIF neuron | `LIF` with `τ = 1/sigmoid(w)` (a warning: rounding may differ) |
//! | `dropout` | nothing (identity at inference) |
//!
//! Batch norm is folded with its running statistics (inference): `s = γ/√(σ² + ε)`,
//! `W' = W·s`, `b' = (b − μ)·s + β` (computed in `f64`, rounded once to `f32`).
//! Everything else (max pooling, ReLU, SEW blocks, voting, adaptive LIF, time reductions)
//! has no NIR node and is an error naming the layer; so is a soft reset (NIR's IF and LIF
//! reset to `v_reset`) unless [`ExportOptions::soft_reset_as_hard`] asks for SpikingJelly's
//! lossy mapping (a hard reset to 0, with a warning).
//!
//! The graph's output is the last layer's output at every step; the network's scores are
//! its mean over the steps (the readout is not a NIR node).

use burn::tensor::Tensor;

use super::NirError;
use super::graph::{Array, NirGraph, Node};
use crate::network::Network;
use crate::neuron::{NeuronModel, Reset, SpikingNeuron};
use crate::nn::{BatchNorm2d, Conv2d, Layer, SignalShape};

/// SpikingJelly's and snnTorch's default NIR time step (seconds).
pub const DEFAULT_DT: f64 = 1e-4;

/// How to export.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportOptions {
    /// The time step in seconds that maps discrete neurons to NIR's continuous ones.
    pub dt: f64,
    /// Export soft-reset neurons as hard-reset ones (to 0), as SpikingJelly does, with a
    /// warning: the exported graph then spikes differently. Otherwise a soft reset is an
    /// error.
    pub soft_reset_as_hard: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            dt: DEFAULT_DT,
            soft_reset_as_hard: false,
        }
    }
}

/// An exported graph and what was not exact about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// The graph: `input → layers → output`.
    pub graph: NirGraph,
    /// Lossy mappings that were applied (each naming its layer).
    pub warnings: Vec<String>,
}

/// The NIR graph of `network` (its weights as they are; see the module documentation).
pub fn export(network: &Network, options: &ExportOptions) -> Result<Exported, NirError> {
    if !(options.dt.is_finite() && options.dt > 0.0) {
        return Err(NirError::Settings(format!(
            "dt must be a positive number of seconds, not {}",
            options.dt
        )));
    }
    let names: Vec<&str> = network.names().collect();
    let mut inputs = vec![network.input()];
    inputs.extend_from_slice(network.shapes());
    let free = |base: &str| {
        let mut name = base.to_string();
        while names.contains(&name.as_str()) {
            name.push('_');
        }
        name
    };
    let mut nodes = vec![(
        free("input"),
        Node::Input {
            shape: network.input().dims(),
        },
    )];
    let mut warnings = Vec::new();
    let mut i = 0;
    while i < network.layers.len() {
        let (name, layer, input) = (names[i], &network.layers[i], inputs[i]);
        let error = |why: &str| NirError::Export {
            layer: name.to_string(),
            why: why.to_string(),
        };
        let node = match layer {
            Layer::Conv2d(conv) => {
                let norm = match network.layers.get(i + 1) {
                    Some(Layer::BatchNorm2d(norm)) => {
                        i += 1;
                        Some(norm)
                    }
                    _ => None,
                };
                Some(conv_node(conv, norm, input))
            }
            Layer::BatchNorm2d(_) => {
                return Err(error(
                    "NIR has no batch norm node, and this one does not follow a convolution \
                     it could be folded into",
                ));
            }
            Layer::Linear(linear) => {
                let weight = linear.weight.val().transpose();
                let [out, features] = weight.dims();
                let weight = Array::new(vec![out, features], values(weight));
                Some(match &linear.bias {
                    Some(bias) => Node::Affine {
                        weight,
                        bias: Array::new(vec![out], values(bias.val())),
                    },
                    None => Node::Linear { weight },
                })
            }
            Layer::Flatten(_) => Some(Node::Flatten {
                input_type: input.dims(),
                start_dim: 0,
                end_dim: -1,
            }),
            Layer::AvgPool2d(pool) => {
                let (k, s, p) = (
                    pool.window.kernel,
                    pool.window.stride(),
                    pool.window.padding,
                );
                Some(Node::AvgPool2d {
                    kernel_size: [k, k],
                    stride: [s, s],
                    padding: [p, p],
                })
            }
            Layer::AdaptiveAvgPool2d(pool) => {
                let [_, h, w] = maps(input);
                let [oh, ow] = pool.output;
                if h % oh != 0 || w % ow != 0 {
                    return Err(error(&format!(
                        "adaptive average pooling of {h}×{w} to {oh}×{ow} has windows of \
                         unequal sizes, which NIR's AvgPool2d cannot express"
                    )));
                }
                let kernel = [h / oh, w / ow];
                Some(Node::AvgPool2d {
                    kernel_size: kernel,
                    stride: kernel,
                    padding: [0, 0],
                })
            }
            Layer::Dropout(_) => None,
            Layer::Neuron(neuron) => Some(neuron_node(
                neuron,
                &input.dims(),
                options,
                name,
                &mut warnings,
            )?),
            Layer::MaxPool2d(_) => {
                return Err(error(
                    "NIR has no max pooling node (NIR 1.0 pools by average or sum); train the \
                     network with avg_pool2d to export it",
                ));
            }
            Layer::Relu(_) => return Err(error("NIR has no ReLU node (a conventional layer)")),
            Layer::AdaptiveLif(_) => {
                return Err(error(
                    "an adaptive-threshold LIF (a second state variable) has no NIR node",
                ));
            }
            Layer::Voting(_) => {
                return Err(error(
                    "NIR has no voting node (the mean of groups of outputs)",
                ));
            }
            Layer::SewBlock(_) => {
                return Err(error(
                    "a SEW residual block (a branch joined by ADD/IAND/AND of spikes, with \
                     batch norms inside) has no NIR equivalent",
                ));
            }
            Layer::TimeReduce(_) => {
                return Err(error(
                    "a reduction over time is not a per-step operation; a NIR graph runs step \
                     by step",
                ));
            }
        };
        if let Some(node) = node {
            nodes.push((name.to_string(), node));
        }
        i += 1;
    }
    nodes.push((
        free("output"),
        Node::Output {
            shape: vec![network.classes()],
        },
    ));
    Ok(Exported {
        graph: NirGraph::chain(nodes),
        warnings,
    })
}

fn maps(shape: SignalShape) -> [usize; 3] {
    match shape {
        SignalShape::Maps {
            channels,
            height,
            width,
        } => [channels, height, width],
        SignalShape::Vectors { .. } => unreachable!("a built network pools maps"),
    }
}

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 values")
}

/// The convolution, with `norm` (eval-mode) folded in.
fn conv_node(conv: &Conv2d, norm: Option<&BatchNorm2d>, input: SignalShape) -> Node {
    let [_, h, w] = maps(input);
    let weight = conv.weight.val();
    let shape = weight.dims().to_vec();
    let out = shape[0];
    let mut weight = values(weight);
    let mut bias = conv
        .bias
        .as_ref()
        .map_or_else(|| vec![0.0; out], |b| values(b.val()));
    if let Some(norm) = norm {
        let gamma = values(norm.gamma.val());
        let beta = values(norm.beta.val());
        let mean = values(norm.running_mean.value_sync());
        let var = values(norm.running_var.value_sync());
        let per_channel = weight.len() / out;
        for c in 0..out {
            let scale = f64::from(gamma[c]) / (f64::from(var[c]) + norm.epsilon).sqrt();
            for w in &mut weight[c * per_channel..(c + 1) * per_channel] {
                *w = (f64::from(*w) * scale) as f32;
            }
            bias[c] =
                ((f64::from(bias[c]) - f64::from(mean[c])) * scale + f64::from(beta[c])) as f32;
        }
    }
    Node::Conv2d {
        input_shape: [h, w],
        weight: Array::new(shape, weight),
        bias: Array::new(vec![out], bias),
        stride: [conv.stride; 2],
        padding: [conv.padding; 2],
        dilation: [1, 1],
        groups: 1,
    }
}

/// The IF or LIF node of a neuron layer acting on per-sample `shape`.
fn neuron_node(
    neuron: &SpikingNeuron,
    shape: &[usize],
    options: &ExportOptions,
    name: &str,
    warnings: &mut Vec<String>,
) -> Result<Node, NirError> {
    let config = &neuron.config;
    let v_reset = match config.reset {
        Reset::Hard { v_reset } => f64::from(v_reset),
        Reset::Soft if options.soft_reset_as_hard => {
            warnings.push(format!(
                "layer {name}: its soft reset (subtract the threshold) is exported as a hard \
                 reset to 0, as SpikingJelly does; the graph spikes differently"
            ));
            0.0
        }
        Reset::Soft => {
            return Err(NirError::Export {
                layer: name.to_string(),
                why: "its soft reset (subtract the threshold) has no NIR form (IF and LIF reset \
                      to v_reset); retrain with a hard reset, or export it as a hard reset to 0 \
                      as SpikingJelly does (--soft-reset-as-hard: the graph then spikes \
                      differently)"
                    .into(),
            });
        }
    };
    let full = |value: f64| Array::full(shape, value);
    let v_threshold = full(f64::from(config.v_threshold));
    let lif = |tau: f64, decay_input: bool| Node::Lif {
        tau: full(tau * options.dt),
        r: full(if decay_input { 1.0 } else { tau }),
        v_leak: full(v_reset),
        v_threshold: v_threshold.clone(),
        v_reset: full(v_reset),
    };
    Ok(match config.model {
        NeuronModel::If => Node::If {
            r: full(1.0 / options.dt),
            v_threshold: v_threshold.clone(),
            v_reset: full(v_reset),
        },
        NeuronModel::Lif { tau, decay_input } => lif(f64::from(tau), decay_input),
        NeuronModel::ParametricLif { decay_input, .. } => {
            let w = neuron.w.as_ref().expect("a built PLIF layer has its w");
            let k = f64::from(values(burn::tensor::activation::sigmoid(w.val()))[0]);
            let tau = 1.0 / k;
            warnings.push(format!(
                "layer {name}: ParametricLIF exported as LIF with tau = 1/sigmoid(w) = {tau}; \
                 the same dynamics, but a LIF divides by tau where PLIF multiplies by \
                 sigmoid(w), so rounding (and rarely a spike) may differ"
            ));
            lif(tau, decay_input)
        }
    })
}
