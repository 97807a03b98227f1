//! Spiking building blocks: burn modules over time-major `[T, N, …]` tensors, in
//! SpikingJelly's multi-step semantics, each with its settings checked once when it is built
//! (`init`) and an infallible forward pass.
//!
//! | block | input → output | SpikingJelly |
//! |---|---|---|
//! | [`Conv2d`] | `[T, N, Ci, H, W]` → `[T, N, Co, H', W']` | `layer.Conv2d` |
//! | [`BatchNorm2d`] | maps → maps (statistics over T·N·H·W) | `layer.BatchNorm2d` |
//! | [`MaxPool2d`], [`AvgPool2d`], [`AdaptiveAvgPool2d`] | maps → maps | `layer.*Pool2d` |
//! | `Flatten` | `[T, N, C, H, W]` → `[T, N, C·H·W]` (C-major) | `layer.Flatten` |
//! | `Linear` (burn's) | `[T, N, F]` → `[T, N, F']` | `layer.Linear` |
//! | [`Dropout`] | any → same (one mask for all T) | `layer.Dropout` |
//! | [`SpikingNeuron`](crate::SpikingNeuron) | any → spikes | `neuron.IFNode`, `LIFNode`, `ParametricLIFNode` |
//! | [`vote`] | `[T, N, classes·k]` → `[T, N, classes]` | `layer.VotingLayer(k)` |
//! | [`SewBlock`] | maps → maps | `sew_resnet.BasicBlock` (ADD, IAND, AND) |
//! | [`TimeDistributed`], [`per_frame`] | any stateless per-frame module or op over all T·N frames | `layer.SeqToANNContainer` |
//!
//! [`Layer`] and [`LayerConfig`] hold any of them, for networks listed in a file
//! ([`crate::network`]). Where a fused op exists for a block (the 3×3 convolution, batch
//! norm, 2×2 max pooling, the neurons) the block uses it on the backends that have it;
//! [`Implementation::Reference`] runs the composition of burn ops instead.

mod conv;
mod dropout;
mod init;
mod layer;
mod linear;
mod neuron;
mod norm;
mod pool;
mod sew;
mod signal;
mod time_distributed;
mod voting;

use burn::tensor::Tensor;
use thiserror::Error;

pub use crate::neuron::Implementation;
pub use conv::{Conv2d, Conv2dConfig, MAX_VALUES, checked_product};
pub use dropout::Dropout;
pub use init::{Init, default_bound};
pub use layer::{Flatten, Layer, LayerConfig, Probe, Recorded, TimeReduce, Voting};
pub use linear::LinearConfig;
pub use neuron::{ModelName, NeuronSpec, SurrogateName};
pub use norm::{BatchNorm2d, BatchNorm2dConfig};
pub use pool::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, PoolConfig};
pub use sew::{ConnectFunction, Downsample, SewBlock, SewBlockConfig};
pub(crate) use signal::on_signal;
pub use signal::{Signal, SignalShape, per_frame};
pub use time_distributed::{FrameModule, TimeDistributed};
pub use voting::vote;

use crate::neuron::{NeuronError, SpikingNeuron};

/// A block's settings do not fit each other or its input.
#[derive(Debug, Clone, Error, PartialEq)]
#[error("{0}")]
pub struct BuildError(pub String);

impl BuildError {
    /// An error saying `what`.
    pub fn new(what: impl Into<String>) -> Self {
        Self(what.into())
    }
}

impl From<NeuronError> for BuildError {
    fn from(error: NeuronError) -> Self {
        Self(error.to_string())
    }
}

/// The spikes of a neuron layer over all steps of `x: [T, N, …]`, from rest.
///
/// The layer's settings were checked when it was built and a block's input always has
/// steps, so the neuron cannot refuse it.
pub fn fire<const D: usize>(
    neuron: &SpikingNeuron,
    x: Tensor<D>,
    implementation: Implementation,
) -> Tensor<D> {
    neuron
        .forward_with(x, implementation)
        .expect("a built neuron layer accepts [T ≥ 1, N, …] inputs")
}
