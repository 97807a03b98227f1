//! Pooling of every step: max (PyTorch's tie rule: the first maximum in row-major window
//! order wins, padded cells never), average (padding counted, PyTorch's default) and
//! adaptive average.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::module::{adaptive_avg_pool2d, avg_pool2d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, MaxPoolOptions};
use serde::{Deserialize, Serialize};

use super::conv::pooled_side;
use super::{BuildError, Implementation};
use crate::pool::{avg_pool2x2, max_pool2x2};

/// A square pooling window: kernel, stride (default: the kernel) and zero padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// Window side.
    pub kernel: usize,
    /// Step between windows (default: `kernel`).
    #[serde(default)]
    pub stride: Option<usize>,
    /// Padding on every side (default 0).
    #[serde(default)]
    pub padding: usize,
}

impl PoolConfig {
    /// A `kernel`×`kernel` window with stride `kernel`, no padding.
    pub fn new(kernel: usize) -> Self {
        Self {
            kernel,
            stride: None,
            padding: 0,
        }
    }

    /// The stride: the given one or the kernel.
    pub fn stride(&self) -> usize {
        self.stride.unwrap_or(self.kernel)
    }

    /// Output side of an input side of `size`.
    pub fn output_side(&self, size: usize) -> Result<usize, BuildError> {
        if self.kernel == 0 || 2 * self.padding > self.kernel {
            return Err(BuildError::new(format!(
                "a pooling window needs a positive kernel and padding at most half of it, got \
                 {self:?}"
            )));
        }
        pooled_side(size, self.kernel, self.stride(), self.padding)
    }
}

/// Max pooling of every step; `[T, N, C, H, W] → [T, N, C, H', W']`. The 2×2 stride-2
/// window runs the fused [`max_pool2x2`] on the CPU.
#[derive(Module, Debug)]
pub struct MaxPool2d {
    /// The window.
    #[module(skip)]
    pub window: PoolConfig,
}

impl MaxPool2d {
    /// Pools every step.
    pub fn forward(&self, x: Tensor<5>, implementation: Implementation) -> Tensor<5> {
        let PoolConfig {
            kernel, padding, ..
        } = self.window;
        let stride = self.window.stride();
        super::per_frame(x, |frames| {
            if (kernel, stride, padding) == (2, 2, 0) && implementation == Implementation::Fused {
                return max_pool2x2(frames);
            }
            max_pool2d(
                frames,
                MaxPoolOptions::new([kernel, kernel])
                    .with_stride([stride, stride])
                    .with_padding([padding, padding]),
            )
        })
    }
}

/// Average pooling of every step (padding counted in the mean). The 2×2 stride-2 window
/// runs the fused [`avg_pool2x2`] on the CPU.
#[derive(Module, Debug)]
pub struct AvgPool2d {
    /// The window.
    #[module(skip)]
    pub window: PoolConfig,
}

impl AvgPool2d {
    /// Pools every step.
    pub fn forward(&self, x: Tensor<5>, implementation: Implementation) -> Tensor<5> {
        let PoolConfig {
            kernel, padding, ..
        } = self.window;
        let stride = self.window.stride();
        super::per_frame(x, |frames| {
            if (kernel, stride, padding) == (2, 2, 0) && implementation == Implementation::Fused {
                return avg_pool2x2(frames);
            }
            avg_pool2d(
                frames,
                AvgPoolOptions::new([kernel, kernel])
                    .with_stride([stride, stride])
                    .with_padding([padding, padding])
                    .with_count_include_pad(true),
            )
        })
    }
}

/// Adaptive average pooling of every step to a fixed `[h, w]` (PyTorch's window rule).
#[derive(Module, Debug)]
pub struct AdaptiveAvgPool2d {
    /// Output `[h, w]`.
    pub output: [usize; 2],
}

impl AdaptiveAvgPool2d {
    /// Pools every step.
    pub fn forward(&self, x: Tensor<5>) -> Tensor<5> {
        super::per_frame(x, |frames| adaptive_avg_pool2d(frames, self.output))
    }
}
