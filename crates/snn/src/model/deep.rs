//! A deeper SNN for event frames: `[Conv3×3 → BatchNorm → spiking neuron → MaxPool2] × k →
//! Linear`, multi-step over all T frames, output the mean over T (the deep benchmark net:
//! k = 3 with 64/128/128 channels at 32×32).
//!
//! The convolutions have no bias (BatchNorm follows) and run as [`conv3x3`]; BatchNorm
//! normalises over all T·N frames (SpikingJelly's multi-step `layer.BatchNorm2d`); the
//! neurons are the fused multi-step layer; the Linear runs once on the spike rates (equal
//! to the mean over T of its T outputs, by linearity).

use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig, Linear};
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Classifier, ModelError, pytorch_linear, uniform};
use crate::conv::conv3x3;
use crate::neuron::{NeuronConfig, SpikingNeuron};
use crate::norm::batch_norm_layer;
use crate::pool::max_pool2x2;

/// The settings of a [`DeepSnn`].
#[derive(Debug, Clone, PartialEq)]
pub struct DeepSnnConfig {
    /// Output channels of each block.
    pub channels: Vec<usize>,
    /// Input channels (2: ON/OFF polarity).
    pub in_channels: usize,
    /// Number of classes.
    pub classes: usize,
    /// Frame height and width; each must divide by `2^blocks`.
    pub frame_size: (usize, usize),
    /// The neuron of every block (default SpikingJelly's `IFNode()`).
    pub neuron: NeuronConfig,
}

impl DeepSnnConfig {
    /// Three blocks of 64/128/128 channels, IF neurons, 2 input channels.
    pub fn three_blocks(classes: usize, frame_size: (usize, usize)) -> Self {
        Self {
            channels: vec![64, 128, 128],
            in_channels: 2,
            classes,
            frame_size,
            neuron: NeuronConfig::if_node(),
        }
    }

    /// Inputs of the Linear layer: last channels × the frame size after all poolings.
    pub fn features(&self) -> usize {
        let scale = 1 << self.channels.len();
        self.channels.last().copied().unwrap_or(self.in_channels)
            * (self.frame_size.0 / scale)
            * (self.frame_size.1 / scale)
    }

    /// Builds the network: PyTorch's default initialisation (`U(±1/√fan_in)`) from ChaCha8
    /// seeded with `seed`, BatchNorm with γ = 1, β = 0 (PyTorch's `momentum 0.1`, `eps 1e-5`).
    pub fn init(&self, seed: u64, device: &Device) -> Result<DeepSnn, ModelError> {
        let scale = 1 << self.channels.len();
        let (h, w) = self.frame_size;
        if self.channels.is_empty()
            || self.channels.contains(&0)
            || self.classes == 0
            || self.in_channels == 0
            || h == 0
            || w == 0
            || h % scale != 0
            || w % scale != 0
        {
            return Err(ModelError::Config(format!(
                "a deep SNN needs blocks with channels, classes, and a frame size divisible by \
                 2^blocks = {scale}; got {self:?}"
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut blocks = Vec::with_capacity(self.channels.len());
        let mut in_channels = self.in_channels;
        for &out_channels in &self.channels {
            let bound = 1.0 / ((in_channels * 9) as f32).sqrt();
            blocks.push(SpikingConvBlock {
                conv: uniform(&mut rng, [out_channels, in_channels, 3, 3], bound, device),
                norm: BatchNormConfig::new(out_channels).init(device),
                neuron: self.neuron.init(device)?,
            });
            in_channels = out_channels;
        }
        Ok(DeepSnn {
            blocks,
            fc: pytorch_linear(&mut rng, self.features(), self.classes, device),
            frame_size: self.frame_size,
        })
    }
}

/// `Conv3×3 (no bias) → BatchNorm → neuron → MaxPool2` (the pooling is [`max_pool2x2`]).
#[derive(Module, Debug)]
pub struct SpikingConvBlock {
    /// Convolution weight `[out, in, 3, 3]`.
    pub conv: Param<Tensor<4>>,
    /// BatchNorm over all T·N frames.
    pub norm: BatchNorm,
    /// The multi-step neuron layer.
    pub neuron: SpikingNeuron,
}

/// The deeper SNN; see the module documentation.
#[derive(Module, Debug)]
pub struct DeepSnn {
    /// The spiking conv blocks.
    pub blocks: Vec<SpikingConvBlock>,
    /// `Linear(features, classes)`, weight stored `[in, out]`.
    pub fc: Linear,
    /// The frame size `(h, w)` the Linear layer was built for.
    #[module(skip)]
    pub frame_size: (usize, usize),
}

impl DeepSnn {
    /// Scores `[N, classes]` of frames `[T, N, C, h, w]`.
    pub fn forward(&self, frames: Tensor<5>) -> Result<Tensor<2>, ModelError> {
        let [t, n, c, h, w] = frames.dims();
        let in_channels = self.blocks[0].conv.dims()[1];
        if t == 0 || n == 0 || c != in_channels || (h, w) != self.frame_size {
            return Err(ModelError::InputShape {
                h: self.frame_size.0,
                w: self.frame_size.1,
                found: [t, n, c, h, w],
            });
        }
        let mut x = frames.reshape([t * n, c, h, w]);
        for block in &self.blocks {
            let currents = batch_norm_layer(&block.norm, conv3x3(x, block.conv.val(), None));
            let [frames, channels, h, w] = currents.dims();
            let spikes = block
                .neuron
                .forward(currents.reshape([t, n, channels, h, w]))?
                .reshape([frames, channels, h, w]);
            x = max_pool2x2(spikes);
        }
        let [_, channels, h, w] = x.dims();
        let features = channels * h * w;
        let mean = x
            .reshape([t, n * features])
            .mean_dim(0)
            .reshape([n, features]);
        Ok(self.fc.forward(mean))
    }
}

impl Classifier for DeepSnn {
    fn scores(&self, frames: Tensor<5>) -> Result<Tensor<2>, ModelError> {
        self.forward(frames)
    }
}
