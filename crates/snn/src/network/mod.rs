//! Networks of [`nn`](crate::nn) blocks: a [`NetworkConfig`] (layers, names, readout; from a
//! file or a preset of [`crate::models`]) builds a [`Network`], which classifies event frames
//! `[T, N, C, H, W]`.
//!
//! Building checks every layer against the shape of its input once; the forward pass then
//! cannot fail on frames of that shape. The network also plans its forward pass: where a
//! fused op covers several layers it is used ([`Implementation::Reference`] turns this off):
//!
//! - after the last spiking layer, when every later layer is linear and the same at every
//!   step (flatten, linear, average pooling, voting, dropout) and the readout is the mean,
//!   the spikes are averaged over T first and the later layers run once, on the rates
//!   (`mean_t f(s_t) = f(mean_t s_t)`); a 3×3 convolution right before that neuron layer
//!   runs with it as the fused conv → neuron → mean op ([`crate::spiking_conv`]);
//! - `mean_over_time | sum_over_time → conv 3×3 → relu → flatten → linear` at the end of a
//!   network is the fused conventional head ([`crate::conv_head`]).

mod activity;
mod config;
mod file;
mod torch;

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use thiserror::Error;

pub use activity::LayerActivity;
pub use config::{NamedLayer, NetworkConfig, Readout};
pub use file::{FileError, NetworkFile};
pub use torch::{TorchArray, TorchError, TorchTensor};

use crate::conv_head::sum_conv_relu_linear;
use crate::denormals::FlushToZero;
use crate::neuron::{NeuronError, NeuronModel};
use crate::nn::{
    BuildError, Implementation, Init, Layer, LayerConfig, NeuronSpec, Probe, Signal, SignalShape,
};
use crate::spiking_conv::conv3x3_spike_rates;

/// A network that classifies event frames: `[T, N, C, H, W]` → scores `[N, classes]`.
pub trait Classifier: Module {
    /// The class scores of `frames`.
    fn scores(&self, frames: Tensor<5>) -> Result<Tensor<2>, ModelError>;

    /// The scores of every step, `[T, N, classes]` (for losses on every step, as TET's).
    fn step_scores(&self, frames: Tensor<5>) -> Result<Tensor<3>, ModelError>;
}

/// Errors of networks.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A layer does not fit its settings or input.
    #[error("layer {layer} ({kind}): {problem}")]
    Layer {
        /// The layer's name.
        layer: String,
        /// Its type.
        kind: String,
        /// What is wrong.
        problem: BuildError,
    },
    /// Invalid settings of the network as a whole.
    #[error("invalid network settings: {0}")]
    Config(String),
    /// Input of the wrong shape.
    #[error("the network expects frames [T, N, {expected}] with T, N ≥ 1, got {found:?}")]
    InputShape {
        /// The per-step shape the network was built for.
        expected: SignalShape,
        /// The shape given.
        found: [usize; 5],
    },
    /// A neuron layer refused its settings.
    #[error(transparent)]
    Neuron(#[from] NeuronError),
}

/// One step of the planned forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// A layer on its own.
    Layer(usize),
    /// The mean over T of the signal so far (before time-linear layers).
    MeanOverTime,
    /// `conv 3×3 → neuron → mean over T` as one fused op.
    SpikeRates { conv: usize, neuron: usize },
    /// `time reduction → conv 3×3 → relu → flatten → linear` as one fused op.
    ConvHead { reduce: usize },
}

/// A built network; see the module documentation.
#[derive(Module, Debug)]
pub struct Network {
    /// The layers, in order.
    pub layers: Vec<Layer>,
    /// The description it was built from.
    #[module(skip)]
    config: NetworkConfig,
    /// The per-step input shape it was built for.
    #[module(skip)]
    input: SignalShape,
    /// Every layer's per-step output shape.
    #[module(skip)]
    shapes: Vec<SignalShape>,
    /// Classes (outputs).
    #[module(skip)]
    classes: usize,
    /// Fused ops where they apply, or the composition of the blocks' reference ops.
    #[module(skip)]
    implementation: Implementation,
}

impl NetworkConfig {
    /// Builds the network for per-step inputs `[C, H, W]` and `classes` outputs, parameters
    /// initialised as PyTorch does by default, drawn from ChaCha8 seeded with `seed` in layer
    /// order. Every layer is checked against its input; the last must give `classes`
    /// features.
    pub fn init(
        &self,
        input: [usize; 3],
        classes: usize,
        seed: u64,
        device: &burn::tensor::Device,
    ) -> Result<Network, ModelError> {
        let mut names = std::collections::HashSet::new();
        if let Some(duplicate) = self.layers.iter().find(|l| !names.insert(&l.name)) {
            return Err(ModelError::Config(format!(
                "two layers are named `{}`",
                duplicate.name
            )));
        }
        let input_shape = Self::input_shape(input);
        if input_shape.is_empty() {
            return Err(ModelError::Config(format!(
                "the input {input:?} has no values"
            )));
        }
        let mut init = Init::new(seed, device);
        let mut shape = input_shape;
        let mut layers = Vec::with_capacity(self.layers.len());
        let mut shapes = Vec::with_capacity(self.layers.len());
        for named in &self.layers {
            let (layer, output) = named
                .layer
                .init(shape, &NeuronSpec::default(), &mut init)
                .map_err(|problem| ModelError::Layer {
                    layer: named.name.clone(),
                    kind: kind_name(&named.layer),
                    problem,
                })?;
            crate::nn::checked_product(&output.dims()).map_err(|problem| ModelError::Layer {
                layer: named.name.clone(),
                kind: kind_name(&named.layer),
                problem,
            })?;
            layers.push(layer);
            shapes.push(output);
            shape = output;
        }
        if shape != (SignalShape::Vectors { features: classes }) {
            return Err(ModelError::Config(format!(
                "`{}` ends with outputs {shape}, but the data has {classes} classes (the last \
                 layer must give [{classes}])",
                self.name
            )));
        }
        Ok(Network {
            layers,
            config: self.clone(),
            input: input_shape,
            shapes,
            classes,
            implementation: Implementation::Fused,
        })
    }
}

/// A layer's `type` as a network file writes it.
fn kind_name(layer: &LayerConfig) -> String {
    serde_json::to_value(layer)
        .ok()
        .and_then(|value| value["type"].as_str().map(str::to_string))
        .unwrap_or_default()
}

impl Network {
    /// The description it was built from.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// The per-step input shape.
    pub fn input(&self) -> SignalShape {
        self.input
    }

    /// Every layer's per-step output shape, in layer order.
    pub fn shapes(&self) -> &[SignalShape] {
        &self.shapes
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The same network running the blocks' reference ops, or the fused ones (the default).
    pub fn with_implementation(mut self, implementation: Implementation) -> Self {
        self.implementation = implementation;
        self
    }

    /// The layers' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.config.layers.iter().map(|l| l.name.as_str())
    }

    /// Scores `[N, classes]`: the readout of [`forward_steps`](Self::forward_steps).
    pub fn forward(&self, frames: Tensor<5>) -> Result<Tensor<2>, ModelError> {
        let steps = self.run(frames, &self.plan(), &mut Probe::new(false))?;
        Ok(mean_over_steps(steps))
    }

    /// The outputs of every step `[T, N, classes]`, without fusions across time (what the
    /// TET loss needs).
    pub fn forward_steps(&self, frames: Tensor<5>) -> Result<Tensor<3>, ModelError> {
        let plan = self.unfused_plan();
        self.run(frames, &plan, &mut Probe::new(false))
    }

    /// [`forward`](Self::forward), also returning the activity of every spiking layer (or,
    /// in a network without one, of every ReLU): what the op counter and firing rates use.
    pub fn forward_with_activity(
        &self,
        frames: Tensor<5>,
    ) -> Result<(Tensor<2>, Vec<LayerActivity>), ModelError> {
        let mut probe = self.activity_probe();
        let steps = self.run(frames, &self.plan(), &mut probe)?;
        let activity = probe.records.into_iter().map(LayerActivity::of).collect();
        Ok((mean_over_steps(steps), activity))
    }

    /// [`forward_steps`](Self::forward_steps), also returning the layers' activity.
    pub fn forward_steps_with_activity(
        &self,
        frames: Tensor<5>,
    ) -> Result<(Tensor<3>, Vec<LayerActivity>), ModelError> {
        let plan = self.unfused_plan();
        let mut probe = self.activity_probe();
        let steps = self.run(frames, &plan, &mut probe)?;
        let activity = probe.records.into_iter().map(LayerActivity::of).collect();
        Ok((steps, activity))
    }

    /// The spikes of every spiking layer on a pass without fusions, by name (`[T, N, …]`
    /// flattened to `[T, N·len]`): for tests against SpikingJelly's recordings.
    pub fn spikes(&self, frames: Tensor<5>) -> Result<Vec<(String, Tensor<2>)>, ModelError> {
        let plan = self.unfused_plan();
        let mut probe = Probe::new(true);
        self.run(frames, &plan, &mut probe)?;
        Ok(probe
            .records
            .into_iter()
            .map(|record| (record.name, record.signal.flat_steps()))
            .collect())
    }

    /// A probe of the layers whose activity is measured: the spiking layers, or in a network
    /// without any, the ReLUs.
    fn activity_probe(&self) -> Probe {
        Probe::new(true).with_relu(!self.config.is_spiking())
    }

    /// Every layer on its own, in order: the pass without fusions.
    fn unfused_plan(&self) -> Vec<Stage> {
        (0..self.layers.len()).map(Stage::Layer).collect()
    }

    /// The forward pass as planned for the mean readout.
    fn plan(&self) -> Vec<Stage> {
        let layers = &self.config.layers;
        let all = || self.unfused_plan();
        if self.implementation == Implementation::Reference || self.config.readout != Readout::Mean
        {
            return all();
        }
        if let Some(reduce) = self.conv_head_start() {
            let mut plan: Vec<_> = (0..reduce).map(Stage::Layer).collect();
            plan.push(Stage::ConvHead { reduce });
            return plan;
        }
        let Some(last) = layers
            .iter()
            .rposition(|l| matches!(l.layer, LayerConfig::Neuron(_) | LayerConfig::SewBlock(_)))
        else {
            return all();
        };
        if !layers[last + 1..].iter().all(|l| l.layer.is_time_linear()) {
            return all();
        }
        let rest = (last + 1..layers.len()).map(Stage::Layer);
        let fused_conv = last > 0
            && matches!(&self.layers[last - 1], Layer::Conv2d(conv) if conv.is_same3x3())
            && matches!(&self.layers[last], Layer::Neuron(n)
                if !matches!(n.config.model, NeuronModel::ParametricLif { .. }));
        let mut plan: Vec<_> = if fused_conv {
            let mut plan: Vec<_> = (0..last - 1).map(Stage::Layer).collect();
            plan.push(Stage::SpikeRates {
                conv: last - 1,
                neuron: last,
            });
            plan
        } else {
            let mut plan: Vec<_> = (0..=last).map(Stage::Layer).collect();
            plan.push(Stage::MeanOverTime);
            plan
        };
        plan.extend(rest);
        plan
    }

    /// Where a `time reduction → conv 3×3 → relu → flatten → linear` tail starts.
    fn conv_head_start(&self) -> Option<usize> {
        let start = self.layers.len().checked_sub(5)?;
        match &self.layers[start..] {
            [
                Layer::TimeReduce(_),
                Layer::Conv2d(conv),
                Layer::Relu(_),
                Layer::Flatten(_),
                Layer::Linear(_),
            ] if conv.is_same3x3() => Some(start),
            _ => None,
        }
    }

    fn check_input(&self, frames: &Tensor<5>) -> Result<(), ModelError> {
        let [t, n, c, h, w] = frames.dims();
        let shape = SignalShape::Maps {
            channels: c,
            height: h,
            width: w,
        };
        if t == 0 || n == 0 || shape != self.input {
            return Err(ModelError::InputShape {
                expected: self.input,
                found: [t, n, c, h, w],
            });
        }
        Ok(())
    }

    /// Runs `plan` on checked frames; returns the last layer's outputs `[T', N, classes]`
    /// (T' = 1 where the plan averaged over time).
    fn run(
        &self,
        frames: Tensor<5>,
        plan: &[Stage],
        probe: &mut Probe,
    ) -> Result<Tensor<3>, ModelError> {
        self.check_input(&frames)?;
        let _flush = FlushToZero::begin();
        let implementation = self.implementation;
        let mut x = Signal::Maps(frames);
        for &stage in plan {
            x = match stage {
                Stage::Layer(i) => {
                    let name = &self.config.layers[i].name;
                    self.layers[i].forward(x, implementation, name, probe)
                }
                Stage::MeanOverTime => crate::nn::on_signal!(x, t => t.mean_dim(0)),
                Stage::SpikeRates { conv, neuron } => {
                    let (Layer::Conv2d(c), Layer::Neuron(n)) =
                        (&self.layers[conv], &self.layers[neuron])
                    else {
                        unreachable!("planned on a conv and a neuron layer")
                    };
                    let frames = x.into_maps();
                    let steps = frames.dims()[0];
                    let rates = conv3x3_spike_rates(
                        frames,
                        c.weight.val(),
                        c.bias.as_ref().map(Param::val),
                        n,
                    )?;
                    let [batch, channels, h, w] = rates.dims();
                    let rates = Signal::Maps(rates.reshape([1, batch, channels, h, w]));
                    if probe.is_enabled() {
                        let name = self.config.layers[neuron].name.clone();
                        probe.record_counts(name, &spike_counts(&rates, steps), Some(steps));
                    }
                    rates
                }
                Stage::ConvHead { reduce } => {
                    let frames = x.into_maps();
                    let steps = frames.dims()[0];
                    return Ok(self.conv_head(frames, reduce, steps, probe));
                }
            };
        }
        Ok(x.into_vectors())
    }

    /// The fused conventional head on frames `[T, N, C, H, W]`; with a probe it runs the
    /// composition instead, to see the ReLU's outputs.
    fn conv_head(
        &self,
        frames: Tensor<5>,
        reduce: usize,
        steps: usize,
        probe: &mut Probe,
    ) -> Tensor<3> {
        let (
            Layer::TimeReduce(time),
            Layer::Conv2d(conv),
            Layer::Relu(_),
            Layer::Flatten(_),
            Layer::Linear(linear),
        ) = (
            &self.layers[reduce],
            &self.layers[reduce + 1],
            &self.layers[reduce + 2],
            &self.layers[reduce + 3],
            &self.layers[reduce + 4],
        )
        else {
            unreachable!("planned on a conventional head")
        };
        if probe.is_enabled() {
            let mut x = Signal::Maps(frames);
            for i in reduce..self.layers.len() {
                let name = &self.config.layers[i].name;
                x = self.layers[i].forward(x, self.implementation, name, probe);
            }
            return x.into_vectors();
        }
        let mut weight = conv.weight.val();
        if !time.sum {
            // conv(Σₜxₜ / T) = conv with weight / T of Σₜxₜ (the bias unscaled); bit for bit
            // the same where T is a power of two.
            weight = weight.div_scalar(steps as f32);
        }
        let bias = conv.bias.as_ref().map_or_else(
            || Tensor::zeros([conv.channels().0], &weight.device()),
            Param::val,
        );
        let scores = sum_conv_relu_linear(frames, weight, bias, linear);
        let [n, classes] = scores.dims();
        scores.reshape([1, n, classes])
    }
}

/// The spike counts over `steps` steps of firing rates.
fn spike_counts(rates: &Signal, steps: usize) -> Signal {
    crate::nn::on_signal!(rates.clone().detach(), t => t.mul_scalar(steps as f32))
}

fn mean_over_steps(steps: Tensor<3>) -> Tensor<2> {
    let [_, n, classes] = steps.dims();
    steps.mean_dim(0).reshape([n, classes])
}

impl Classifier for Network {
    fn scores(&self, frames: Tensor<5>) -> Result<Tensor<2>, ModelError> {
        self.forward(frames)
    }

    fn step_scores(&self, frames: Tensor<5>) -> Result<Tensor<3>, ModelError> {
        self.forward_steps(frames)
    }
}
