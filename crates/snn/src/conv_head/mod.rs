//! The seed CNN's whole forward pass as one fused op: frames summed over T → 3×3 conv →
//! ReLU → Linear, `[T, N, Ci, h, w]` in, scores `[N, classes]` out.
//!
//! Composed of burn ops, this network's training step is a dozen small ops (a sum, the conv,
//! the ReLU, a skinny gemm, their backward passes) whose fixed costs and single-threaded
//! parts dominate at the seed's shapes. Fused ([`kernel`]), every output channel is one task
//! that convolves its plane of every sample in registers and multiplies the rectified planes
//! by its block of the Linear weight while that block is in cache; the backward pass
//! rebuilds each plane's gradient there too.
//!
//! Runs on Flex (f32) when the frames are not differentiated; elsewhere
//! [`sum_conv_relu_linear`] is the composition of burn ops ([`composed`]).

mod kernel;
mod op;

use burn::nn::Linear;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use crate::conv::conv3x3;

pub use op::ConvHeadOps;

/// `linear(relu(conv3x3(Σ_t x[t], conv_weight, conv_bias)))`: `x: [T, N, Ci, h, w]`,
/// `conv_weight: [Co, Ci, 3, 3]`, `conv_bias: [Co]`, the Linear layer's weight
/// `[Co·h·w, classes]` (burn's `[in, out]`) → `[N, classes]`. Fused where it can be (see the
/// module documentation).
///
/// # Panics
/// If the shapes do not fit together.
pub fn sum_conv_relu_linear(
    x: Tensor<5>,
    conv_weight: Tensor<4>,
    conv_bias: Tensor<1>,
    linear: &Linear,
) -> Tensor<2> {
    let [_, _, ci, h, w] = x.dims();
    let [co, weight_ci, ..] = conv_weight.dims();
    let [features, classes] = linear.weight.dims();
    assert_eq!(
        (weight_ci, features),
        (ci, co * h * w),
        "sum_conv_relu_linear: conv {:?} and Linear {:?} for frames {:?}",
        conv_weight.dims(),
        linear.weight.dims(),
        x.dims()
    );
    let fusable = crate::fused::is_supported(&x.device(), x.dtype()) && !x.is_require_grad();
    if !fusable {
        return composed(x, conv_weight, conv_bias, linear);
    }
    let fc_bias = linear
        .bias
        .as_ref()
        .map_or_else(|| Tensor::zeros([classes], &x.device()), |bias| bias.val());
    op::sum_conv_relu_linear(x, (conv_weight, conv_bias), (linear.weight.val(), fc_bias))
}

/// The same as separate burn ops (the conv as [`conv3x3`]).
pub fn composed(
    x: Tensor<5>,
    conv_weight: Tensor<4>,
    conv_bias: Tensor<1>,
    linear: &Linear,
) -> Tensor<2> {
    let [_, n, ci, h, w] = x.dims();
    let summed = x.sum_dim(0).reshape([n, ci, h, w]);
    let hidden = relu(conv3x3(summed, conv_weight, Some(conv_bias)));
    let features = hidden.dims()[1] * h * w;
    linear.forward(hidden.reshape([n, features]))
}
