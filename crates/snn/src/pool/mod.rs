//! 2×2, stride-2 max pooling as a fused op, for the deep SNN's spike maps.
//!
//! burn-Flex pools through a general 3-D path that gathers its indices into freshly
//! collected vectors; on the deep SNN's `[T·N, C, h, w]` spike maps that was ~17 % of a
//! training step. Here the forward pass keeps one byte per output (which of the four inputs
//! won) and the backward pass writes each output's gradient to that input. Ties go to the
//! first input in row-major order and a NaN wins, as in PyTorch's CPU `max_pool2d` — on
//! binary spikes ties are the rule, so this decides where SpikingJelly's gradient flows.
//! Odd heights and widths drop their last row or column (PyTorch's floor). On other
//! backends [`max_pool2x2`] is burn's `max_pool2d`.

mod op;

use burn::nn::pool::MaxPool2dConfig;
use burn::tensor::Tensor;

pub use op::PoolOps;

/// `[N, C, h, w]` → `[N, C, h/2, w/2]`, each output the maximum of its 2×2 window.
pub fn max_pool2x2(x: Tensor<4>) -> Tensor<4> {
    if crate::fused::is_supported(&x.device(), x.dtype()) {
        op::max_pool2x2(x)
    } else {
        MaxPool2dConfig::new([2, 2])
            .with_strides([2, 2])
            .init()
            .forward(x)
    }
}
