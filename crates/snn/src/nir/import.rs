//! A NIR graph as a spikeforge network: its description ([`NetworkConfig`], written as a
//! network file) and its weights by PyTorch state-dict names, with SpikingJelly's
//! `import_from_nir` rules (time step `dt`, default 1e-4 s):
//!
//! | NIR node | spikeforge layer |
//! |---|---|
//! | `Conv2d` (square kernel, equal strides and paddings, no dilation or groups) | `conv2d` (no bias when it is all zeros) |
//! | `Affine` / `Linear` | `linear` with / without bias |
//! | `Flatten` (of the whole sample) | `flatten` |
//! | `AvgPool2d` (square) | `avg_pool2d` |
//! | `IF` with `r = 1/dt` | IF neuron (`v_threshold`, hard reset to `v_reset`) |
//! | `LIF` with `v_leak = v_reset` | LIF neuron: `τ = tau/dt`, `decay_input` from `r` (1: on, `τ`: off) |
//!
//! Neuron parameters must be the same for every neuron of a node (spikeforge's neurons
//! share theirs); `Input` gives the frames' `[C, H, W]`, `Output` ends the chain. Graphs must
//! be one path from the input to the output. Any other node (CubaLIF, SumPool2d, LI,
//! Scale, Threshold, Delay, Conv1d, subgraphs, …) is an error naming it. The surrogate
//! gradient and `detach_reset` are not in NIR: the imported neurons take spikeforge's
//! defaults (SpikingJelly's: Sigmoid(4), no detach), which matter only for training.

use std::collections::{BTreeMap, HashSet};

use burn::tensor::Device;
use serde::Serialize;

use super::NirError;
use super::graph::{Array, NirGraph, Node};
use crate::network::{NamedLayer, Network, NetworkConfig, Readout, TorchArray};
use crate::nn::{
    Conv2dConfig, LayerConfig, LinearConfig, ModelName, NeuronSpec, PoolConfig, SignalShape,
};

/// A network read from a NIR graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Its description (layers named after the graph's nodes).
    pub network: NetworkConfig,
    /// The per-step input `[C, H, W]` (the graph's `Input`).
    pub input: [usize; 3],
    /// Outputs (classes).
    pub classes: usize,
    /// Its parameters by PyTorch state-dict name (`conv.weight`), in PyTorch's layout.
    pub tensors: BTreeMap<String, TorchArray>,
}

impl Imported {
    /// The network with the graph's weights, on `device`.
    pub fn build(&self, device: &Device) -> Result<Network, NirError> {
        let network = self
            .network
            .init(self.input, self.classes, 0, device)
            .map_err(|e| NirError::Network(e.to_string()))?;
        network
            .load_torch(&|name| self.tensors.get(name).cloned())
            .map_err(|e| NirError::Network(e.to_string()))
    }

    /// The description as a network file (TOML) that `spikeforge train --model` reads;
    /// `comment` heads it (each line prefixed with `# `).
    pub fn network_file(&self, comment: &str) -> Result<String, NirError> {
        #[derive(Serialize)]
        struct File<'a> {
            name: &'a str,
            description: String,
            input: [usize; 3],
            readout: Readout,
            layers: &'a [NamedLayer],
        }
        let file = File {
            name: &self.network.name,
            description: format!(
                "imported from NIR: {} layers, {} classes",
                self.network.layers.len(),
                self.classes
            ),
            input: self.input,
            readout: self.network.readout,
            layers: &self.network.layers,
        };
        let body = toml::to_string(&file).map_err(|e| NirError::Network(e.to_string()))?;
        let head: String = comment.lines().map(|line| format!("# {line}\n")).collect();
        Ok(head + &body)
    }
}

/// The network of `graph`, named `name`; `dt` is the time step of the graph's neurons.
pub fn import(graph: &NirGraph, name: &str, dt: f64) -> Result<Imported, NirError> {
    if !(dt.is_finite() && dt > 0.0) {
        return Err(NirError::Settings(format!(
            "dt must be a positive number of seconds, not {dt}"
        )));
    }
    let path = chain(graph)?;
    let (input_name, input_node) = path[0];
    let input = match input_node {
        Node::Input { shape } if shape.len() == 3 && !shape.contains(&0) => {
            [shape[0], shape[1], shape[2]]
        }
        _ => {
            return Err(NirError::Import {
                node: input_name.to_string(),
                why: "the input must be frames of shape [C, H, W] (spikeforge networks take \
                      event frames)"
                    .into(),
            });
        }
    };
    let mut builder = Builder {
        shape: NetworkConfig::input_shape(input),
        layers: Vec::new(),
        tensors: BTreeMap::new(),
        dt,
    };
    for &(node_name, node) in &path[1..path.len() - 1] {
        builder
            .add(node_name, node)
            .map_err(|why| NirError::Import {
                node: node_name.to_string(),
                why,
            })?;
    }
    let (output_name, _) = path[path.len() - 1];
    let SignalShape::Vectors { features: classes } = builder.shape else {
        return Err(NirError::Import {
            node: output_name.to_string(),
            why: format!(
                "the output must be class scores (vectors), but it gets maps {}",
                builder.shape
            ),
        });
    };
    Ok(Imported {
        network: NetworkConfig {
            name: name.to_string(),
            input: Some(input),
            readout: Readout::Mean,
            layers: builder.layers,
        },
        input,
        classes,
        tensors: builder.tensors,
    })
}

/// The nodes from the one `Input` to the one `Output`, in order, when the graph is that
/// one path and nothing else.
fn chain(graph: &NirGraph) -> Result<Vec<(&str, &Node)>, NirError> {
    let whole = |why: String| NirError::Graph(why);
    let of_kind = |kind: &str| -> Vec<&str> {
        graph
            .nodes
            .iter()
            .filter(|(_, node)| node.kind() == kind)
            .map(|(name, _)| name.as_str())
            .collect()
    };
    let (inputs, outputs) = (of_kind("Input"), of_kind("Output"));
    if inputs.len() != 1 || outputs.len() != 1 {
        return Err(whole(format!(
            "spikeforge imports graphs with one Input and one Output node; this one has inputs \
             {inputs:?} and outputs {outputs:?}"
        )));
    }
    let mut path = Vec::with_capacity(graph.nodes.len());
    let mut seen = HashSet::new();
    let mut current = inputs[0];
    loop {
        let node = graph
            .node(current)
            .ok_or_else(|| whole(format!("an edge leads to `{current}`, which is no node")))?;
        if !seen.insert(current) {
            return Err(whole(format!(
                "the graph has a cycle through `{current}` (recurrent graphs are not imported)"
            )));
        }
        path.push((current, node));
        if current == outputs[0] {
            break;
        }
        let next: Vec<&str> = graph
            .edges
            .iter()
            .filter(|(from, _)| from == current)
            .map(|(_, to)| to.as_str())
            .collect();
        match next[..] {
            [one] => current = one,
            [] => {
                return Err(whole(format!(
                    "node `{current}` does not lead to the output"
                )));
            }
            _ => {
                return Err(whole(format!(
                    "node `{current}` feeds {next:?}: spikeforge imports one path from input \
                     to output (no branches)"
                )));
            }
        }
    }
    if let Some((name, _)) = graph
        .nodes
        .iter()
        .find(|(name, _)| !seen.contains(name.as_str()))
    {
        return Err(whole(format!(
            "node `{name}` is not on the path from the input to the output"
        )));
    }
    // Every node is on the path and each but the output feeds exactly its successor, so
    // only an edge out of the output could still join the path a second time.
    if let Some((_, to)) = graph.edges.iter().find(|(from, _)| from == outputs[0]) {
        return Err(whole(format!(
            "the output `{}` feeds `{to}` (recurrent graphs are not imported)",
            outputs[0]
        )));
    }
    Ok(path)
}

/// Accumulates layers, tracking the signal's per-step shape.
struct Builder {
    shape: SignalShape,
    layers: Vec<NamedLayer>,
    tensors: BTreeMap<String, TorchArray>,
    dt: f64,
}

impl Builder {
    fn push(&mut self, name: &str, layer: LayerConfig) -> Result<(), String> {
        let mut init = crate::nn::Init::new(0, &Device::flex());
        // Shapes only: building the layer checks it against its input (a small cost for
        // the weights drawn and dropped).
        let (_, shape) = layer
            .init(self.shape, &NeuronSpec::default(), &mut init)
            .map_err(|e| e.to_string())?;
        self.shape = shape;
        self.layers.push(NamedLayer {
            name: name.to_string(),
            layer,
        });
        Ok(())
    }

    fn tensor(&mut self, name: &str, field: &str, array: &Array<f32>) {
        self.tensors.insert(
            format!("{name}.{field}"),
            (array.values.clone(), array.shape.clone()),
        );
    }

    fn add(&mut self, name: &str, node: &Node) -> Result<(), String> {
        match node {
            Node::Conv2d {
                input_shape,
                weight,
                bias,
                stride,
                padding,
                dilation,
                groups,
            } => {
                let [out, _, kh, kw] = weight.shape[..] else {
                    return Err(format!(
                        "a Conv2d weight is [out, in, kH, kW], not {:?}",
                        weight.shape
                    ));
                };
                if *groups != 1 || *dilation != [1, 1] {
                    return Err(format!(
                        "spikeforge's convolutions have no groups or dilation (groups {groups}, \
                         dilation {dilation:?})"
                    ));
                }
                if kh != kw || stride[0] != stride[1] || padding[0] != padding[1] {
                    return Err(format!(
                        "spikeforge's convolutions are square: kernel {kh}×{kw}, stride \
                         {stride:?}, padding {padding:?}"
                    ));
                }
                if let SignalShape::Maps { height, width, .. } = self.shape
                    && *input_shape != [height, width]
                {
                    return Err(format!(
                        "its input_shape is {input_shape:?}, but its input is {height}×{width}"
                    ));
                }
                if bias.shape != [out] {
                    return Err(format!("its bias has shape {:?}, not [{out}]", bias.shape));
                }
                let has_bias = bias.values.iter().any(|&b| b != 0.0);
                self.push(
                    name,
                    LayerConfig::Conv2d(Conv2dConfig {
                        out_channels: out,
                        kernel: kh,
                        stride: stride[0],
                        padding: padding[0],
                        bias: has_bias,
                    }),
                )?;
                self.tensor(name, "weight", weight);
                if has_bias {
                    self.tensor(name, "bias", bias);
                }
            }
            Node::Linear { weight } | Node::Affine { weight, .. } => {
                let [out, _] = weight.shape[..] else {
                    return Err(format!("a weight is [out, in], not {:?}", weight.shape));
                };
                let bias = match node {
                    Node::Affine { bias, .. } => Some(bias),
                    _ => None,
                };
                self.push(
                    name,
                    LayerConfig::Linear(LinearConfig {
                        out_features: out,
                        bias: bias.is_some(),
                    }),
                )?;
                self.tensor(name, "weight", weight);
                if let Some(bias) = bias {
                    self.tensor(name, "bias", bias);
                }
            }
            Node::Flatten {
                start_dim, end_dim, ..
            } => {
                if *start_dim != 0 || !matches!(end_dim, -1 | 2) {
                    return Err(format!(
                        "spikeforge flattens whole samples [C, H, W] (start_dim 0, end_dim -1), \
                         not dims {start_dim}..={end_dim}"
                    ));
                }
                self.push(name, LayerConfig::Flatten)?;
            }
            Node::AvgPool2d {
                kernel_size,
                stride,
                padding,
            } => {
                if kernel_size[0] != kernel_size[1]
                    || stride[0] != stride[1]
                    || padding[0] != padding[1]
                {
                    return Err(format!(
                        "spikeforge's pooling windows are square: kernel {kernel_size:?}, stride \
                         {stride:?}, padding {padding:?}"
                    ));
                }
                let kernel = kernel_size[0];
                self.push(
                    name,
                    LayerConfig::AvgPool2d(PoolConfig {
                        kernel,
                        stride: (stride[0] != kernel).then_some(stride[0]),
                        padding: padding[0],
                    }),
                )?;
            }
            Node::If {
                r,
                v_threshold,
                v_reset,
            } => {
                let r = uniform(r, "r")?;
                if !close(r, 1.0 / self.dt) {
                    return Err(format!(
                        "IF's r is {r}; a discrete IF neuron (v += I each step) is r = 1/dt = {} \
                         (pass the graph's dt)",
                        1.0 / self.dt
                    ));
                }
                let spec = NeuronSpec {
                    model: Some(ModelName::If),
                    v_threshold: Some(uniform(v_threshold, "v_threshold")? as f32),
                    v_reset: Some(uniform(v_reset, "v_reset")? as f32),
                    ..NeuronSpec::default()
                };
                self.push(name, LayerConfig::Neuron(spec))?;
            }
            Node::Lif {
                tau,
                r,
                v_leak,
                v_threshold,
                v_reset,
            } => {
                let tau = uniform(tau, "tau")? / self.dt;
                if !(tau.is_finite() && tau > 1.0) {
                    return Err(format!(
                        "LIF's tau/dt is {tau}; a discrete LIF neuron needs it above 1 (pass the \
                         graph's dt)"
                    ));
                }
                let r = uniform(r, "r")?;
                let decay_input = if close(r, 1.0) {
                    true
                } else if close(r, tau) {
                    false
                } else {
                    return Err(format!(
                        "LIF's r is {r}: spikeforge's LIF has r = 1 (decay_input) or r = tau/dt \
                         = {tau} (no decay_input)"
                    ));
                };
                let v_reset = uniform(v_reset, "v_reset")?;
                let v_leak = uniform(v_leak, "v_leak")?;
                if !close(v_leak, v_reset) {
                    return Err(format!(
                        "LIF's v_leak ({v_leak}) must equal its v_reset ({v_reset}): \
                         spikeforge's LIF leaks towards the reset potential"
                    ));
                }
                let spec = NeuronSpec {
                    model: Some(ModelName::Lif),
                    tau: Some(tau as f32),
                    decay_input: Some(decay_input),
                    v_threshold: Some(uniform(v_threshold, "v_threshold")? as f32),
                    v_reset: Some(v_reset as f32),
                    ..NeuronSpec::default()
                };
                self.push(name, LayerConfig::Neuron(spec))?;
            }
            Node::SumPool2d { .. } => {
                return Err(
                    "spikeforge has no sum pooling (only average pooling, the sum \
                            divided by the window's size)"
                        .into(),
                );
            }
            Node::Input { .. } | Node::Output { .. } => {
                return Err("an Input or Output node inside the path".into());
            }
            Node::Other { kind } => {
                return Err(format!(
                    "a {kind} node has no spikeforge layer (spikeforge imports Input, Output, \
                     Conv2d, Linear, Affine, Flatten, AvgPool2d, IF and LIF)"
                ));
            }
        }
        Ok(())
    }
}

/// The one value of a neuron parameter.
fn uniform(array: &Array<f64>, field: &str) -> Result<f64, String> {
    array.uniform().filter(|v| v.is_finite()).ok_or_else(|| {
        format!(
            "`{field}` differs between neurons (or is not finite); spikeforge's neuron layers \
             share one value"
        )
    })
}

/// Equal up to SpikingJelly's import tolerance.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 + 1e-6 * b.abs()
}
