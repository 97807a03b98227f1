//! 2×2, stride-2 max and average pooling as fused ops, for spike maps.
//!
//! burn-Flex pools through a general 3-D path that gathers its indices into freshly
//! collected vectors; on the deep SNN's `[T·N, C, h, w]` spike maps that was ~17 % of a
//! training step. Here max pooling keeps one byte per output (which of the four inputs won)
//! and its backward pass writes each output's gradient to that input. Ties go to the first
//! input in row-major order and a NaN wins, as in PyTorch's CPU `max_pool2d` — on binary
//! spikes ties are the rule, so this decides where SpikingJelly's gradient flows. Average
//! pooling adds each window in row-major order and divides by 4, as PyTorch does, and gives
//! each input a quarter of its output's gradient. Odd heights and widths drop their last row
//! or column (PyTorch's floor). On other backends these are burn's `max_pool2d` and
//! `avg_pool2d`.

mod op;

use burn::nn::pool::MaxPool2dConfig;
use burn::tensor::Tensor;
use burn::tensor::module::avg_pool2d;
use burn::tensor::ops::AvgPoolOptions;

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

/// `[N, C, h, w]` → `[N, C, h/2, w/2]`, each output the mean of its 2×2 window.
pub fn avg_pool2x2(x: Tensor<4>) -> Tensor<4> {
    if crate::fused::is_supported(&x.device(), x.dtype()) {
        op::avg_pool2x2(x)
    } else {
        avg_pool2d(x, AvgPoolOptions::new([2, 2]).with_stride([2, 2]))
    }
}
