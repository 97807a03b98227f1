//! The networks of the seed experiment, as SpikingJelly defines them.
//!
//! - SNN: `Conv2d(2, C, 3, padding 1) → IF → Flatten → Linear(C·h·w, classes)`, run over all
//!   T frames; the output is the mean over T of the Linear outputs.
//! - CNN: the same with ReLU, fed one frame per sample — the mean of the T frames (default),
//!   or their sum — or applied to every frame with its outputs averaged over T.
//!
//! Both take `[T, N, 2, h, w]` frames and return `[N, classes]` scores. Parameters start
//! from PyTorch's default initialisation, drawn from a seeded ChaCha8 stream so that a run
//! is reproducible on every backend.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

mod deep;

pub use deep::{DeepSnn, DeepSnnConfig, SpikingConvBlock};

use crate::conv::conv3x3;
use crate::conv_head::sum_conv_relu_linear;
use crate::neuron::{NeuronConfig, NeuronError, SpikingNeuron};
use crate::spiking_conv::conv3x3_spike_rates;

/// Spiking or conventional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetKind {
    /// Conv → spiking neuron → Linear, over T steps.
    Snn,
    /// Conv → ReLU → Linear.
    Cnn,
}

/// What the CNN sees of the T frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CnnInput {
    /// One frame: the mean of the T frames. On the same scale as each frame the SNN sees, so
    /// the seed's MSE + SGD lr 0.05 trains on it where the T-times larger sum can diverge.
    #[default]
    MeanOverTime,
    /// One frame: the T frames summed (the same as integrating the events into one frame).
    SumOverTime,
    /// Every frame on its own, the outputs averaged over T.
    PerFrameMean,
}

/// The settings of a seed network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedNetConfig {
    /// SNN or CNN.
    pub kind: NetKind,
    /// Convolution channels C (the seed: 32).
    pub channels: usize,
    /// Number of classes.
    pub classes: usize,
    /// Frame height and width.
    pub frame_size: (usize, usize),
    /// The SNN's neuron (default SpikingJelly's `IFNode()`).
    pub neuron: NeuronConfig,
    /// The CNN's input rule.
    pub cnn_input: CnnInput,
}

impl SeedNetConfig {
    /// The seed experiment's network of `kind` for `classes` classes at `frame_size`: C = 32, IF
    /// neuron with Sigmoid(4), CNN fed the mean of the T frames.
    pub fn seed(kind: NetKind, classes: usize, frame_size: (usize, usize)) -> Self {
        Self {
            kind,
            channels: 32,
            classes,
            frame_size,
            neuron: NeuronConfig::if_node(),
            cnn_input: CnnInput::MeanOverTime,
        }
    }

    /// Inputs of the Linear layer: `C·h·w`.
    pub fn features(&self) -> usize {
        self.channels * self.frame_size.0 * self.frame_size.1
    }

    /// Builds the network with PyTorch's default initialisation (weights and biases
    /// `U(−1/√fan_in, 1/√fan_in)`, as `kaiming_uniform(a=√5)` gives), drawn from ChaCha8
    /// seeded with `seed`: conv weight, conv bias, fc weight (PyTorch's `[out, in]` order),
    /// fc bias.
    pub fn init(&self, seed: u64, device: &Device) -> Result<SeedNet, ModelError> {
        if self.channels == 0 || self.classes == 0 || self.frame_size.0 * self.frame_size.1 == 0 {
            return Err(ModelError::Config(format!(
                "channels, classes and frame size must be positive, got {self:?}"
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let conv_fan_in = 2 * 9;
        let conv_bound = 1.0 / (conv_fan_in as f32).sqrt();
        let mut conv = Conv2dConfig::new([2, self.channels], [3, 3])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(device);
        conv.weight = uniform(&mut rng, [self.channels, 2, 3, 3], conv_bound, device);
        conv.bias = Some(uniform(&mut rng, [self.channels], conv_bound, device));
        let fc = pytorch_linear(&mut rng, self.features(), self.classes, device);
        let neuron = match self.kind {
            NetKind::Snn => Some(self.neuron.init(device)?),
            NetKind::Cnn => None,
        };
        Ok(SeedNet {
            conv,
            fc,
            neuron,
            cnn_input: self.cnn_input,
            frame_size: self.frame_size,
        })
    }
}

/// A network that classifies event frames: `[T, N, C, h, w]` → scores `[N, classes]`.
pub trait Classifier: Module {
    /// The class scores of `frames`.
    fn scores(&self, frames: Tensor<5>) -> Result<Tensor<2>, ModelError>;
}

impl Classifier for SeedNet {
    fn scores(&self, frames: Tensor<5>) -> Result<Tensor<2>, ModelError> {
        self.forward(frames)
    }
}

/// `Linear(features, classes)` with PyTorch's default initialisation drawn from `rng`: the
/// weight in PyTorch's `[out, in]` order (stored `[in, out]`, burn's layout), then the bias,
/// both `U(±1/√features)`.
fn pytorch_linear(
    rng: &mut ChaCha8Rng,
    features: usize,
    classes: usize,
    device: &Device,
) -> Linear {
    let bound = 1.0 / (features as f32).sqrt();
    let drawn = uniform_values(rng, classes * features, bound);
    let mut weight = vec![0.0; drawn.len()];
    for (row, values) in drawn.chunks_exact(features).enumerate() {
        for (column, &value) in values.iter().enumerate() {
            weight[column * classes + row] = value;
        }
    }
    Linear {
        weight: Param::from_data(TensorData::new(weight, [features, classes]), device),
        bias: Some(uniform(rng, [classes], bound, device)),
    }
}

/// `U(−bound, bound)` values of `shape`, as a parameter.
fn uniform<const D: usize>(
    rng: &mut ChaCha8Rng,
    shape: [usize; D],
    bound: f32,
    device: &Device,
) -> Param<Tensor<D>> {
    let values = uniform_values(rng, shape.iter().product(), bound);
    Param::from_data(TensorData::new(values, shape), device)
}

/// `len` values `U(−bound, bound)`.
fn uniform_values(rng: &mut ChaCha8Rng, len: usize, bound: f32) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-bound..bound)).collect()
}

/// A seed network: conv, the SNN's neuron (absent in the CNN, which uses ReLU), Linear.
///
/// The Linear weight is stored `[in, out]` (burn's layout; PyTorch's transposed).
#[derive(Module, Debug)]
pub struct SeedNet {
    /// `Conv2d(2, C, 3, padding 1)`.
    pub conv: Conv2d,
    /// `Linear(C·h·w, classes)`.
    pub fc: Linear,
    /// The SNN's spiking layer; `None` in the CNN.
    pub neuron: Option<SpikingNeuron>,
    /// The CNN's input rule.
    #[module(skip)]
    pub cnn_input: CnnInput,
    /// The frame size `(h, w)` the Linear layer was built for.
    #[module(skip)]
    pub frame_size: (usize, usize),
}

/// A hidden layer's outputs on a forward pass, to measure how active it was: the SNN's
/// firing rates (spike counts over T) or the CNN's ReLU outputs. Nothing is computed until
/// asked, so a training step does not pay for it.
#[derive(Debug, Clone)]
pub struct LayerActivity {
    /// `if1` or `relu1`.
    pub name: &'static str,
    /// The outputs, flattened and detached.
    outputs: Tensor<1>,
    /// How the outputs count.
    measure: Measure,
}

#[derive(Debug, Clone, Copy)]
enum Measure {
    /// Every output is one value; active where above zero (ReLU outputs).
    NonZero,
    /// Every output is a neuron's firing rate over `steps` steps: `rate · steps` spikes.
    SpikeRates { steps: usize },
}

impl LayerActivity {
    fn non_zero<const D: usize>(name: &'static str, outputs: &Tensor<D>) -> Self {
        Self {
            name,
            outputs: outputs.clone().detach().flatten(0, D - 1),
            measure: Measure::NonZero,
        }
    }

    fn spike_rates<const D: usize>(name: &'static str, rates: &Tensor<D>, steps: usize) -> Self {
        Self {
            name,
            outputs: rates.clone().detach().flatten(0, D - 1),
            measure: Measure::SpikeRates { steps },
        }
    }

    /// Active outputs: spikes, or ReLU outputs that are not zero.
    pub fn active(&self) -> f64 {
        let outputs = self.outputs.clone();
        match self.measure {
            Measure::NonZero => {
                f64::from(outputs.greater_elem(0.0).float().sum().into_scalar::<f32>())
            }
            Measure::SpikeRates { steps } => {
                // Rates are counts / steps: exact in f32, summed exactly in f64.
                let rates = outputs.into_data().try_to_vec::<f32>().unwrap_or_default();
                rates
                    .iter()
                    .map(|&r| f64::from(r) * steps as f64)
                    .sum::<f64>()
                    .round()
            }
        }
    }

    /// Outputs in all (neuron-steps for spiking layers).
    pub fn len(&self) -> usize {
        let values = self.outputs.shape().num_elements();
        match self.measure {
            Measure::NonZero => values,
            Measure::SpikeRates { steps } => values * steps,
        }
    }

    /// Whether the layer had no outputs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Errors of the seed networks.
#[derive(Debug, Error)]
pub enum ModelError {
    /// Invalid settings.
    #[error("invalid network settings: {0}")]
    Config(String),
    /// Input of the wrong shape.
    #[error("the network expects frames [T, N, 2, {h}, {w}] with T, N ≥ 1, got {found:?}")]
    InputShape {
        /// Frame height the network was built for.
        h: usize,
        /// Frame width the network was built for.
        w: usize,
        /// The shape given.
        found: [usize; 5],
    },
    /// The neuron layer refused its input or settings.
    #[error(transparent)]
    Neuron(#[from] NeuronError),
}

impl SeedNet {
    /// Spiking or conventional.
    pub fn kind(&self) -> NetKind {
        if self.neuron.is_some() {
            NetKind::Snn
        } else {
            NetKind::Cnn
        }
    }

    /// Scores `[N, classes]` of frames `[T, N, 2, h, w]`.
    ///
    /// The CNN on the T-summed or T-averaged frame runs as one fused op here
    /// ([`conv_head`](crate::conv_head)); [`forward_with_activity`](Self::forward_with_activity)
    /// composes it of separate ops to see the hidden layer.
    pub fn forward(&self, frames: Tensor<5>) -> Result<Tensor<2>, ModelError> {
        if self.neuron.is_some() || self.cnn_input == CnnInput::PerFrameMean {
            return self.forward_with_activity(frames).map(|(scores, _)| scores);
        }
        self.check_input(&frames)?;
        let mut weight = self.conv.weight.val();
        if self.cnn_input == CnnInput::MeanOverTime {
            // conv(Σₜxₜ / T) = conv with weight / T of Σₜxₜ (the bias unscaled); bit for bit
            // the same where T is a power of two, as the seed's 8.
            weight = weight.div_scalar(frames.dims()[0] as f32);
        }
        Ok(sum_conv_relu_linear(
            frames,
            weight,
            self.conv_bias(),
            &self.fc,
        ))
    }

    /// [`forward`](Self::forward), also returning the hidden layer's activity.
    pub fn forward_with_activity(
        &self,
        frames: Tensor<5>,
    ) -> Result<(Tensor<2>, LayerActivity), ModelError> {
        self.check_input(&frames)?;
        let [t, n, c, h, w] = frames.dims();
        let conv_channels = self.conv.weight.dims()[0];
        let flat = conv_channels * h * w;
        match (&self.neuron, self.cnn_input) {
            (Some(neuron), _) => {
                let rates = conv3x3_spike_rates(
                    frames,
                    self.conv.weight.val(),
                    self.conv.bias.as_ref().map(Param::val),
                    neuron,
                )?;
                let activity = LayerActivity::spike_rates("if1", &rates, t);
                // mean_t Linear(S_t) = Linear(mean_t S_t): the Linear runs once, not T times.
                Ok((self.fc.forward(rates.reshape([n, flat])), activity))
            }
            (None, CnnInput::SumOverTime | CnnInput::MeanOverTime) => {
                let frame = if self.cnn_input == CnnInput::SumOverTime {
                    frames.sum_dim(0)
                } else {
                    frames.mean_dim(0)
                };
                let hidden = relu(self.convolve(frame.reshape([n, c, h, w]))).reshape([n, flat]);
                let activity = LayerActivity::non_zero("relu1", &hidden);
                Ok((self.fc.forward(hidden), activity))
            }
            (None, CnnInput::PerFrameMean) => {
                let hidden = relu(self.convolve(frames.reshape([t * n, c, h, w])));
                let hidden = hidden.reshape([t, n * flat]);
                let activity = LayerActivity::non_zero("relu1", &hidden);
                let mean = hidden.mean_dim(0).reshape([n, flat]);
                Ok((self.fc.forward(mean), activity))
            }
        }
    }
}

impl SeedNet {
    /// Frames must be `[T, N, 2, h, w]` at the network's frame size, T and N positive.
    fn check_input(&self, frames: &Tensor<5>) -> Result<(), ModelError> {
        let [t, n, c, h, w] = frames.dims();
        if t == 0 || n == 0 || c != 2 || (h, w) != self.frame_size {
            return Err(ModelError::InputShape {
                h: self.frame_size.0,
                w: self.frame_size.1,
                found: [t, n, c, h, w],
            });
        }
        Ok(())
    }

    /// The conv bias, zeros when there is none.
    fn conv_bias(&self) -> Tensor<1> {
        self.conv.bias.as_ref().map_or_else(
            || Tensor::zeros([self.conv.weight.dims()[0]], &self.conv.weight.device()),
            Param::val,
        )
    }

    /// The first layer: the 3×3 padding-1 convolution, as the fused op where it runs.
    fn convolve(&self, x: Tensor<4>) -> Tensor<4> {
        conv3x3(
            x,
            self.conv.weight.val(),
            self.conv.bias.as_ref().map(Param::val),
        )
    }
}
