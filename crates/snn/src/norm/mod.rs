//! Training-mode batch normalisation over `[B, C, h, w]` as a fused op, for the deep SNN.
//!
//! burn's `batch_norm_train` computes its statistics through transposed copies and its
//! backward pass through a generic path that collects values through iterators; on the deep
//! SNN's `[T·N, C, h, w]` maps both showed up at ~15–20 % of a training step. Here each
//! channel is one task: two passes forward (statistics in `f64`, then the affine
//! normalisation), two backward. [`batch_norm_train`] returns the output and the batch mean
//! and biased variance (detached), as burn's does; [`batch_norm_layer`] adds burn's
//! `BatchNorm` module's running statistics. Other backends use burn's op.

mod op;

use burn::nn::BatchNorm;
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
    if !crate::flex::is_supported(&x.device(), x.dtype()) {
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

/// Runs burn's `BatchNorm` module with the fused op in training mode (autodiff device,
/// training flag set), updating its running statistics as the module does; in inference mode
/// it is the module's own forward pass.
pub fn batch_norm_layer(norm: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    if !(x.device().is_autodiff() && norm.training.is_enabled()) {
        return norm.forward(x);
    }
    let device = x.device();
    let (output, mean, variance) =
        batch_norm_train(x, norm.gamma.val(), norm.beta.val(), norm.epsilon);
    let running = |stat: &burn::module::RunningState<Tensor<1>>, batch: Tensor<1>| {
        let value = stat.value_sync().to_device(&device);
        stat.update(
            value
                .mul_scalar(1.0 - norm.momentum)
                .add(batch.mul_scalar(norm.momentum))
                .detach(),
        );
    };
    running(&norm.running_mean, mean);
    running(&norm.running_var, variance);
    output
}
