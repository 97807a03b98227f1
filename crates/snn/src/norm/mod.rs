//! Training-mode batch normalisation over `[B, C, h, w]` as a fused op.
//!
//! burn's `batch_norm_train` computes its statistics through transposed copies and its
//! backward pass through a generic path that collects values through iterators; on the deep
//! SNN's `[T·N, C, h, w]` maps both showed up at ~15–20 % of a training step. Here each
//! channel is one task: two passes forward (statistics in `f64`, then the affine
//! normalisation), two backward. [`batch_norm_train`] returns the output and the batch mean
//! and biased variance (detached), as burn's does; the block [`crate::nn::BatchNorm2d`] keeps
//! the running statistics. Other backends use burn's op.

mod kernel;
mod op;

use burn::tensor::Tensor;
use burn::tensor::module::batch_norm_train as burn_batch_norm_train;

pub use op::NormOps;

/// `(γ·(x − mean)/√(var + ε) + β, mean, var)` per channel of `x: [B, C, h, w]`, with the
/// batch's mean and biased variance (returned detached).
pub fn batch_norm_train(
    x: Tensor<4>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
) -> (Tensor<4>, Tensor<1>, Tensor<1>) {
    if !crate::fused::is_supported(&x.device(), x.dtype()) {
        let result = burn_batch_norm_train(x, gamma, beta, epsilon);
        return (result.output, result.mean, result.variance);
    }
    let shape = x.dims();
    let [_, channels, ..] = shape;
    let len = shape.iter().product::<usize>();
    let flat = op::batch_norm_train(x, gamma, beta, epsilon);
    let output = flat.clone().narrow(0, 0, len).reshape(shape);
    let mean = flat.clone().narrow(0, len, channels).detach();
    let variance = flat.narrow(0, len + channels, channels).detach();
    (output, mean, variance)
}
