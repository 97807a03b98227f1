//! spikeforge's spiking-neural-network library, on burn.
//!
//! - [`surrogate`]: surrogate spike functions and their derivatives.
//! - [`neuron`]: IF, LIF and ParametricLIF neurons with explicit state, a fused multi-step
//!   op (a burn backend extension with a closed-form BPTT backward; CPU kernels, and CubeCL
//!   kernels for GPUs with the `wgpu` or `cuda` feature) and a reference composition of burn
//!   ops.
//! - [`conv`]: the seed networks' 3×3 convolution as a fused op with its own CPU kernels.
//! - [`spiking_conv`]: the seed SNN's conv → neuron → mean-over-time layer as one fused op.
//! - [`sparse`]: event-driven inference of a trained seed SNN (work per event and spike).
//! - [`conv_head`]: the seed CNN (T-sum → conv → ReLU → Linear) as one fused op.
//! - [`norm`]: training-mode batch normalisation as a fused op, for the deep SNN.
//! - [`pool`]: 2×2 max pooling as a fused op (PyTorch's tie rule), for the deep SNN.
//! - [`denormals`]: flush-to-zero for the CPU kernels (no denormal cliff).
//! - [`nn`]: spiking building blocks (conv, batch norm, pooling, linear, dropout, neurons,
//!   voting, SEW blocks) over time-major tensors, in SpikingJelly's multi-step semantics.
//! - [`network`]: networks of blocks from a description (a TOML file or a preset), their
//!   planned forward pass (fused ops where they apply) and PyTorch state-dict names.
//! - [`models`]: the model zoo (the seed SNN and CNN, SpikingJelly's PLIF networks, VGGSNN,
//!   a SEW-ResNet) as network files.
//! - [`train`]: losses, optimisers, batches, the training loop, checkpoints and run records.
//! - [`ops`]: synaptic-operation counts and energy estimates.
//! - [`nir`]: NIR (neuromorphic intermediate representation) export and import.
//!
//! Everything is exact to SpikingJelly 2.0.0 where it defines the behaviour: spikes bit for
//! bit, gradients to 1e-5 relative.

/// Benchmark workloads (for `cargo bench` and `spikeforge bench`; not part of the API).
#[doc(hidden)]
pub mod bench;
mod bitmask;
pub mod conv;
pub mod conv_head;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod denormals;
mod flex;
pub mod fused;
mod math;
mod matmul;
pub mod models;
pub mod network;
pub mod neuron;
pub mod nir;
pub mod nn;
pub mod norm;
pub mod ops;
pub mod pool;
pub mod sparse;
pub mod spiking_conv;
pub mod surrogate;
pub mod train;

pub use neuron::{
    Implementation, MultiStepOptions, MultiStepOutput, NeuronConfig, NeuronError, NeuronModel,
    NeuronState, Reset, SpikingNeuron,
};
pub use surrogate::Surrogate;
