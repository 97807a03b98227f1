//! The 3×3, stride-1, padding-1 convolution, as a fused op.
//!
//! burn-Flex runs this convolution through a general tiled im2col path (im2col + gemm) that
//! spends most of the seed SNN's training step on its 2-channel input, where each gemm has
//! an inner dimension of 18. Here it is one burn backend extension with its own CPU kernels
//! and a hand-written backward pass (weight, bias and, when the input is tracked, input
//! gradients): up to [`DIRECT_MAX_INPUT_CHANNELS`] input channels a direct convolution summed
//! in registers ([`kernel`]); beyond, im2col + gemm over fixed blocks of frames, one
//! single-threaded product per block ([`gemm`]), which avoids burn's conv-transpose and
//! weight-gradient convolutions — except for sparse inputs (at most [`MAX_ACTIVE_RATE`] of
//! them non-zero: the spikes, or average-pooled spikes, fed to the layers after the first),
//! whose forward and weight-gradient passes add weight rows for the non-zero inputs only
//! ([`sparse`]).
//! Other backends and dtypes run burn's `conv2d`.

mod gemm;
pub(crate) mod kernel;
mod layout;
mod op;
mod sparse;

use burn::tensor::Tensor;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

pub use op::ConvOps;
pub use sparse::{MAX_ACTIVE_RATE, is_sparse};

/// The most input channels for which the fused op runs its direct kernels (im2col + gemm
/// beyond).
pub const DIRECT_MAX_INPUT_CHANNELS: usize = 16;

/// Which implementation [`conv3x3_with`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConvImplementation {
    /// The fused op where the backend has it (Flex, f32), else burn's `conv2d`.
    #[default]
    Fused,
    /// burn's `conv2d`.
    Reference,
}

/// `conv2d(x, weight, bias)` with a 3×3 kernel, stride 1 and padding 1: `x: [N, Ci, H, W]`,
/// `weight: [Co, Ci, 3, 3]`, `bias: [Co]` → `[N, Co, H, W]`.
pub fn conv3x3(x: Tensor<4>, weight: Tensor<4>, bias: Option<Tensor<1>>) -> Tensor<4> {
    conv3x3_with(x, weight, bias, ConvImplementation::default())
}

/// [`conv3x3`] with a chosen implementation.
///
/// # Panics
/// If `weight` is not `[Co, Ci, 3, 3]` for the `Ci` channels of `x`, or `bias` not `[Co]`.
pub fn conv3x3_with(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    implementation: ConvImplementation,
) -> Tensor<4> {
    let [co, ci, kh, kw] = weight.dims();
    assert_eq!(
        (ci, kh, kw),
        (x.dims()[1], 3, 3),
        "conv3x3: weight {:?} for input {:?}",
        weight.dims(),
        x.dims()
    );
    let fused = implementation == ConvImplementation::Fused
        && crate::fused::is_supported(&x.device(), x.dtype());
    if !fused {
        let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        return conv2d(x, weight, bias, options);
    }
    let bias = bias.unwrap_or_else(|| Tensor::zeros([co], &x.device()));
    assert_eq!(bias.dims(), [co], "conv3x3: bias for {co} channels");
    op::conv3x3(x, weight, bias)
}
