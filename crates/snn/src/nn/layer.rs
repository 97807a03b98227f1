//! Any block as one type: [`LayerConfig`] (settings, as a network file lists them) builds a
//! [`Layer`] (the burn module) for the shape of its input, so that a network of any blocks
//! is a `Vec<Layer>` with its shapes checked once.

use burn::module::Module;
use burn::nn::{Linear, Relu};
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use super::conv::{Conv2d, Conv2dConfig};
use super::dropout::Dropout;
use super::init::Init;
use super::linear::LinearConfig;
use super::norm::{BatchNorm2d, BatchNorm2dConfig};
use super::pool::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, PoolConfig};
use super::sew::{SewBlock, SewBlockConfig};
use super::signal::{Signal, SignalShape, on_signal};
use super::{BuildError, Implementation, NeuronSpec, fire, vote};
use crate::neuron::SpikingNeuron;
use crate::neuron::adaptive::{AdaptiveLif, AdaptiveLifConfig};

/// A block's settings, as a network file writes them (`type = "conv2d"`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerConfig {
    /// [`Conv2d`] on every step.
    Conv2d(Conv2dConfig),
    /// [`BatchNorm2d`] over T·N·H·W.
    BatchNorm2d(BatchNorm2dConfig),
    /// [`MaxPool2d`].
    MaxPool2d(PoolConfig),
    /// [`AvgPool2d`].
    AvgPool2d(PoolConfig),
    /// [`AdaptiveAvgPool2d`] to `output = [h, w]`.
    AdaptiveAvgPool2d {
        /// Output `[h, w]`.
        output: [usize; 2],
    },
    /// `[T, N, C, H, W]` → `[T, N, C·H·W]`.
    Flatten,
    /// `Linear` on every step.
    Linear(LinearConfig),
    /// [`Dropout`] with one mask for all steps.
    Dropout {
        /// Probability of dropping.
        p: f64,
    },
    /// A spiking neuron layer (its settings over the network's default neuron).
    Neuron(NeuronSpec),
    /// A layer of adaptive LIF neurons (threshold rising with recent spikes).
    AdaptiveLif(AdaptiveLifConfig),
    /// ReLU (for conventional networks).
    Relu,
    /// [`vote`]: the mean of groups of `size` features.
    Voting {
        /// Features per output.
        size: usize,
    },
    /// A [`SewBlock`].
    SewBlock(SewBlockConfig),
    /// The mean of the T steps as one step (a conventional network's input).
    MeanOverTime,
    /// The sum of the T steps as one step.
    SumOverTime,
}

/// The module of a [`LayerConfig`].
// A network holds a few dozen layers, so the size of the largest variant (a SEW block) does
// not matter; burn's `Module` derive has no `Box` to put it behind.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Layer {
    /// See [`Conv2d`].
    Conv2d(Conv2d),
    /// See [`BatchNorm2d`].
    BatchNorm2d(BatchNorm2d),
    /// See [`MaxPool2d`].
    MaxPool2d(MaxPool2d),
    /// See [`AvgPool2d`].
    AvgPool2d(AvgPool2d),
    /// See [`AdaptiveAvgPool2d`].
    AdaptiveAvgPool2d(AdaptiveAvgPool2d),
    /// Maps to vectors.
    Flatten(Flatten),
    /// burn's `Linear` (weight `[in, out]`).
    Linear(Linear),
    /// See [`Dropout`].
    Dropout(Dropout),
    /// A neuron layer.
    Neuron(SpikingNeuron),
    /// An adaptive LIF layer.
    AdaptiveLif(AdaptiveLif),
    /// ReLU.
    Relu(Relu),
    /// Voting over groups of features.
    Voting(Voting),
    /// See [`SewBlock`].
    SewBlock(SewBlock),
    /// Mean or sum over the steps.
    TimeReduce(TimeReduce),
}

/// `[T, N, C, H, W]` → `[T, N, C·H·W]`, C-major (SpikingJelly's multi-step `Flatten`).
#[derive(Module, Debug, Default)]
pub struct Flatten;

/// SpikingJelly's `VotingLayer(size)`.
#[derive(Module, Debug)]
pub struct Voting {
    /// Features per output.
    pub size: usize,
}

/// The steps reduced to one: their mean, or their sum.
#[derive(Module, Debug)]
pub struct TimeReduce {
    /// Sum rather than mean.
    pub sum: bool,
}

/// The outputs of neuron (and ReLU) layers on a forward pass, by name, for measurements and
/// tests.
#[derive(Debug, Default)]
pub struct Probe {
    enabled: bool,
    /// Whether ReLU outputs are recorded too (a network without spiking layers).
    relu: bool,
    /// The recorded outputs, in call order.
    pub records: Vec<Recorded>,
}

/// One layer's recorded outputs.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The layer's name.
    pub name: String,
    /// Its outputs (detached).
    pub signal: Signal,
    /// Spike counts over this many steps in one value (a fused pass averaged over time),
    /// or `None`: one output per value.
    pub counts_over: Option<usize>,
}

impl Probe {
    /// A probe that records the neuron layers' outputs (`true`) or does nothing.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            relu: false,
            records: Vec::new(),
        }
    }

    /// Also recording ReLU outputs (the activity of a network without spiking layers).
    pub fn with_relu(mut self, relu: bool) -> Self {
        self.relu = relu;
        self
    }

    /// Whether it records.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Records `signal` (detached) under `name` when enabled.
    pub fn record(&mut self, name: impl Into<String>, signal: &Signal) {
        self.record_counts(name, signal, None);
    }

    /// Records `signal` as spike counts over `counts_over` steps per value (or `None`: as
    /// outputs) when enabled.
    pub fn record_counts(
        &mut self,
        name: impl Into<String>,
        signal: &Signal,
        counts_over: Option<usize>,
    ) {
        if self.enabled {
            self.records.push(Recorded {
                name: name.into(),
                signal: signal.clone().detach(),
                counts_over,
            });
        }
    }
}

impl LayerConfig {
    /// Builds the layer for inputs of `input` shape, drawing its parameters from `init`;
    /// returns it with its output shape. `neuron` is the network's default neuron.
    pub fn init(
        &self,
        input: SignalShape,
        neuron: &NeuronSpec,
        init: &mut Init,
    ) -> Result<(Layer, SignalShape), BuildError> {
        let maps = |what: &str| match input {
            SignalShape::Maps {
                channels,
                height,
                width,
            } => Ok((channels, height, width)),
            SignalShape::Vectors { .. } => Err(BuildError::new(format!(
                "{what} needs feature maps [C, H, W], but its input is vectors {input}"
            ))),
        };
        let built = match self {
            Self::Conv2d(config) => {
                let (c, h, w) = maps("conv2d")?;
                let shape = SignalShape::Maps {
                    channels: config.out_channels,
                    height: config.output_side(h)?,
                    width: config.output_side(w)?,
                };
                (Layer::Conv2d(config.init(c, init)?), shape)
            }
            Self::BatchNorm2d(config) => {
                let (c, ..) = maps("batch_norm2d")?;
                (Layer::BatchNorm2d(config.init(c, init)?), input)
            }
            Self::MaxPool2d(window) | Self::AvgPool2d(window) => {
                let (channels, h, w) = maps("pooling")?;
                let shape = SignalShape::Maps {
                    channels,
                    height: window.output_side(h)?,
                    width: window.output_side(w)?,
                };
                let layer = if matches!(self, Self::MaxPool2d(_)) {
                    Layer::MaxPool2d(MaxPool2d { window: *window })
                } else {
                    Layer::AvgPool2d(AvgPool2d { window: *window })
                };
                (layer, shape)
            }
            Self::AdaptiveAvgPool2d { output } => {
                let (channels, ..) = maps("adaptive_avg_pool2d")?;
                if output.contains(&0) {
                    return Err(BuildError::new(
                        "adaptive_avg_pool2d output must be positive",
                    ));
                }
                let shape = SignalShape::Maps {
                    channels,
                    height: output[0],
                    width: output[1],
                };
                let layer = AdaptiveAvgPool2d { output: *output };
                (Layer::AdaptiveAvgPool2d(layer), shape)
            }
            Self::Flatten => {
                let features = input.len();
                maps("flatten")?;
                (Layer::Flatten(Flatten), SignalShape::Vectors { features })
            }
            Self::Linear(config) => {
                let SignalShape::Vectors { features } = input else {
                    return Err(BuildError::new(format!(
                        "linear needs vectors, but its input is maps {input} (add a flatten)"
                    )));
                };
                let shape = SignalShape::Vectors {
                    features: config.out_features,
                };
                (Layer::Linear(config.init(features, init)?), shape)
            }
            Self::Dropout { p } => (Layer::Dropout(Dropout::new(*p)?), input),
            Self::Neuron(spec) => {
                let config = spec.over(neuron).config()?;
                (Layer::Neuron(config.init(init.device())?), input)
            }
            Self::AdaptiveLif(config) => (Layer::AdaptiveLif(config.init()?), input),
            Self::Relu => (Layer::Relu(Relu), input),
            Self::Voting { size } => {
                let SignalShape::Vectors { features } = input else {
                    return Err(BuildError::new(format!(
                        "voting needs vectors, but its input is maps {input}"
                    )));
                };
                if *size == 0 || features % size != 0 {
                    return Err(BuildError::new(format!(
                        "voting groups of {size} do not divide {features} features"
                    )));
                }
                let shape = SignalShape::Vectors {
                    features: features / size,
                };
                (Layer::Voting(Voting { size: *size }), shape)
            }
            Self::SewBlock(config) => {
                let (c, h, w) = maps("sew_block")?;
                let block = config.init(c, neuron, init)?;
                let side = |s| super::conv::pooled_side(s, 3, config.stride, 1);
                let shape = SignalShape::Maps {
                    channels: config.out_channels,
                    height: side(h)?,
                    width: side(w)?,
                };
                (Layer::SewBlock(block), shape)
            }
            Self::MeanOverTime | Self::SumOverTime => {
                let sum = matches!(self, Self::SumOverTime);
                (Layer::TimeReduce(TimeReduce { sum }), input)
            }
        };
        Ok(built)
    }

    /// Whether the layer's outputs are spikes (a neuron layer or a SEW block).
    pub fn is_spiking(&self) -> bool {
        matches!(
            self,
            Self::Neuron(_) | Self::AdaptiveLif(_) | Self::SewBlock(_)
        )
    }

    /// Whether the layer commutes with the mean over T: it treats every step alike and is
    /// linear, so `mean_t f(x_t) = f(mean_t x_t)` (flatten, linear, average pooling,
    /// voting, and dropout, whose mask is shared over T).
    pub fn is_time_linear(&self) -> bool {
        matches!(
            self,
            Self::Flatten
                | Self::Linear(_)
                | Self::AvgPool2d(_)
                | Self::AdaptiveAvgPool2d { .. }
                | Self::Voting { .. }
                | Self::Dropout { .. }
        )
    }
}

impl Layer {
    /// The layer's output; neuron outputs are recorded in `probe` under `name` (a SEW
    /// block's as `name.sn1`, `name.sn2`, `name.downsample_sn`).
    pub fn forward(
        &self,
        x: Signal,
        implementation: Implementation,
        name: &str,
        probe: &mut Probe,
    ) -> Signal {
        match self {
            Self::Conv2d(conv) => Signal::Maps(conv.forward(x.into_maps(), implementation)),
            Self::BatchNorm2d(norm) => Signal::Maps(norm.forward(x.into_maps(), implementation)),
            Self::MaxPool2d(pool) => Signal::Maps(pool.forward(x.into_maps(), implementation)),
            Self::AvgPool2d(pool) => Signal::Maps(pool.forward(x.into_maps(), implementation)),
            Self::AdaptiveAvgPool2d(pool) => Signal::Maps(pool.forward(x.into_maps())),
            Self::Flatten(_) => {
                let [t, n, c, h, w] = x.dims_of_maps();
                Signal::Vectors(x.into_maps().reshape([t, n, c * h * w]))
            }
            Self::Linear(linear) => Signal::Vectors(linear.forward(x.into_vectors())),
            Self::Dropout(dropout) => on_signal!(x, t => dropout.forward(t)),
            Self::Neuron(neuron) => {
                let spikes = on_signal!(x, t => fire(neuron, t, implementation));
                probe.record(name, &spikes);
                spikes
            }
            Self::AdaptiveLif(neuron) => {
                let spikes = on_signal!(x, t => neuron.forward(t, implementation));
                probe.record(name, &spikes);
                spikes
            }
            Self::Relu(_) => {
                let out = on_signal!(x, t => relu(t));
                if probe.relu {
                    probe.record(name, &out);
                }
                out
            }
            Self::Voting(voting) => Signal::Vectors(vote(x.into_vectors(), voting.size)),
            Self::SewBlock(block) => {
                let mut spikes = probe.is_enabled().then(Vec::new);
                let out = block.forward(x.into_maps(), implementation, spikes.as_mut());
                let names = ["sn1", "sn2", "downsample_sn"];
                for (suffix, s) in names.iter().zip(spikes.unwrap_or_default()) {
                    probe.record(format!("{name}.{suffix}"), &Signal::Maps(s));
                }
                Signal::Maps(out)
            }
            Self::TimeReduce(reduce) => on_signal!(x, t => if reduce.sum {
                t.sum_dim(0)
            } else {
                t.mean_dim(0)
            }),
        }
    }

    /// The names of the neuron layers inside, relative to the layer (`""` for a neuron
    /// layer itself), in call order.
    pub fn neuron_names(&self) -> Vec<&'static str> {
        match self {
            Self::Neuron(_) | Self::AdaptiveLif(_) => vec![""],
            Self::SewBlock(block) if block.downsample.is_some() => {
                vec!["sn1", "sn2", "downsample_sn"]
            }
            Self::SewBlock(_) => vec!["sn1", "sn2"],
            _ => Vec::new(),
        }
    }
}

impl Signal {
    /// The dims of maps.
    ///
    /// # Panics
    /// If the signal is vectors.
    fn dims_of_maps(&self) -> [usize; 5] {
        match self {
            Self::Maps(x) => x.dims(),
            Self::Vectors(x) => panic!("a map layer got vectors {:?}", x.dims()),
        }
    }
}
