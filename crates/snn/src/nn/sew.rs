//! The spike-element-wise (SEW) residual block of Fang et al. 2021, as SpikingJelly's
//! `sew_resnet.BasicBlock`: `out = sn2(bn2(conv2(sn1(bn1(conv1(x))))))`, a shortcut that is
//! `x` or, when the block changes the shape, `sn(bn(conv1x1(x)))`, joined by a connect
//! function of the two spike maps.

use burn::module::Module;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::conv::{Conv2d, Conv2dConfig};
use super::init::Init;
use super::norm::{BatchNorm2d, BatchNorm2dConfig};
use super::{BuildError, Implementation, NeuronSpec};
use crate::neuron::SpikingNeuron;

/// How a SEW block joins the shortcut `s` and the residual `a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectFunction {
    /// `s + a` (outputs 0, 1 or 2).
    Add,
    /// `s · (1 − a)`.
    Iand,
    /// `s · a`.
    And,
}

impl ConnectFunction {
    /// `connect(shortcut, residual)`.
    pub fn apply(self, shortcut: Tensor<5>, residual: Tensor<5>) -> Tensor<5> {
        match self {
            Self::Add => shortcut + residual,
            Self::Iand => shortcut * (residual.neg().add_scalar(1.0)),
            Self::And => shortcut * residual,
        }
    }
}

/// The settings of a [`SewBlock`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SewBlockConfig {
    /// Output channels ("planes").
    pub out_channels: usize,
    /// Stride of the first convolution (and of the shortcut's).
    #[serde(default = "one")]
    pub stride: usize,
    /// The connect function (default ADD).
    #[serde(default = "add")]
    pub connect: ConnectFunction,
    /// The block's neurons (over the network's default).
    #[serde(default)]
    pub neuron: NeuronSpec,
}

fn one() -> usize {
    1
}

fn add() -> ConnectFunction {
    ConnectFunction::Add
}

impl SewBlockConfig {
    /// Builds the block for `in_channels` inputs; the shortcut gets its conv1x1 → BN →
    /// neuron when the stride is not 1 or the channels change. Parameters in SpikingJelly's
    /// order: conv1, bn1, sn1, conv2, bn2, sn2, then the shortcut's.
    pub fn init(
        &self,
        in_channels: usize,
        neuron: &NeuronSpec,
        init: &mut Init,
    ) -> Result<SewBlock, BuildError> {
        let neuron = self.neuron.over(neuron).config()?;
        let out = self.out_channels;
        let conv3 = |stride| Conv2dConfig {
            stride,
            ..Conv2dConfig::same3x3(out).without_bias()
        };
        let conv1 = conv3(self.stride).init(in_channels, init)?;
        let bn1 = BatchNorm2dConfig::default().init(out, init)?;
        let sn1 = neuron.init(init.device()).map_err(BuildError::from)?;
        let conv2 = conv3(1).init(out, init)?;
        let bn2 = BatchNorm2dConfig::default().init(out, init)?;
        let sn2 = neuron.init(init.device()).map_err(BuildError::from)?;
        let downsample = if self.stride != 1 || in_channels != out {
            let conv = Conv2dConfig {
                out_channels: out,
                kernel: 1,
                stride: self.stride,
                padding: 0,
                bias: false,
            }
            .init(in_channels, init)?;
            Some(Downsample {
                conv,
                bn: BatchNorm2dConfig::default().init(out, init)?,
                sn: neuron.init(init.device()).map_err(BuildError::from)?,
            })
        } else {
            None
        };
        Ok(SewBlock {
            conv1,
            bn1,
            sn1,
            conv2,
            bn2,
            sn2,
            downsample,
            connect: self.connect,
        })
    }
}

/// The shortcut of a block that changes the shape: `sn(bn(conv1x1(x)))`.
#[derive(Module, Debug)]
pub struct Downsample {
    /// 1×1 convolution with the block's stride.
    pub conv: Conv2d,
    /// Its batch norm.
    pub bn: BatchNorm2d,
    /// Its neuron (SpikingJelly's `downsample_sn`).
    pub sn: SpikingNeuron,
}

/// A SEW basic block; `forward: [T, N, Ci, H, W] → [T, N, Co, H/s, W/s]`.
#[derive(Module, Debug)]
pub struct SewBlock {
    /// 3×3 convolution with the block's stride.
    pub conv1: Conv2d,
    /// Batch norm after `conv1`.
    pub bn1: BatchNorm2d,
    /// First neuron.
    pub sn1: SpikingNeuron,
    /// 3×3 convolution, stride 1.
    pub conv2: Conv2d,
    /// Batch norm after `conv2`.
    pub bn2: BatchNorm2d,
    /// Second neuron.
    pub sn2: SpikingNeuron,
    /// The shortcut's layers, when the block changes the shape.
    pub downsample: Option<Downsample>,
    /// How shortcut and residual join.
    #[module(skip)]
    pub connect: ConnectFunction,
}

impl SewBlock {
    /// The block's output, and the spikes of its neurons in call order (sn1, sn2, then the
    /// shortcut's) when `spikes` is given.
    pub fn forward(
        &self,
        x: Tensor<5>,
        implementation: Implementation,
        mut spikes: Option<&mut Vec<Tensor<5>>>,
    ) -> Tensor<5> {
        let mut fire = |neuron: &SpikingNeuron, currents: Tensor<5>| {
            let s = super::fire(neuron, currents, implementation);
            if let Some(spikes) = spikes.as_deref_mut() {
                spikes.push(s.clone());
            }
            s
        };
        let h = self.bn1.forward(
            self.conv1.forward(x.clone(), implementation),
            implementation,
        );
        let h = fire(&self.sn1, h);
        let h = self
            .bn2
            .forward(self.conv2.forward(h, implementation), implementation);
        let residual = fire(&self.sn2, h);
        let shortcut = match &self.downsample {
            Some(d) => {
                let h =
                    d.bn.forward(d.conv.forward(x, implementation), implementation);
                fire(&d.sn, h)
            }
            None => x,
        };
        self.connect.apply(shortcut, residual)
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.conv2.channels().0
    }
}
