//! `Conv2d` over every step: SpikingJelly's multi-step `layer.Conv2d`.

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use serde::{Deserialize, Serialize};

use super::init::{Init, default_bound};
use super::{BuildError, Implementation};
use crate::conv::{ConvImplementation, conv3x3_with};

/// The settings of a [`Conv2d`] (the input channels come from the input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conv2dConfig {
    /// Output channels.
    pub out_channels: usize,
    /// Square kernel size (default 3).
    #[serde(default = "three")]
    pub kernel: usize,
    /// Stride (default 1).
    #[serde(default = "one")]
    pub stride: usize,
    /// Zero padding on every side (default 0, PyTorch's).
    #[serde(default)]
    pub padding: usize,
    /// Whether there is a bias (default true, PyTorch's).
    #[serde(default = "yes")]
    pub bias: bool,
}

fn three() -> usize {
    3
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

impl Conv2dConfig {
    /// `out_channels` outputs of a 3×3 kernel, stride 1, padding 1, with a bias.
    pub fn same3x3(out_channels: usize) -> Self {
        Self {
            out_channels,
            kernel: 3,
            stride: 1,
            padding: 1,
            bias: true,
        }
    }

    /// Without a bias.
    pub fn without_bias(mut self) -> Self {
        self.bias = false;
        self
    }

    /// Output size of an input side of `size`, or an error if the kernel does not fit.
    pub fn output_side(&self, size: usize) -> Result<usize, BuildError> {
        pooled_side(size, self.kernel, self.stride, self.padding)
    }

    /// Checks the settings and draws PyTorch's default initialisation: weight `[out, in, k,
    /// k]`, then the bias, `U(±1/√(in·k²))`.
    pub fn init(&self, in_channels: usize, init: &mut Init) -> Result<Conv2d, BuildError> {
        if self.out_channels == 0 || self.kernel == 0 || self.stride == 0 || in_channels == 0 {
            return Err(BuildError::new(format!(
                "conv2d needs positive channels, kernel and stride, got {self:?} on \
                 {in_channels} input channels"
            )));
        }
        let taps = checked_product(&[in_channels, self.kernel, self.kernel])?;
        checked_product(&[taps, self.out_channels])?;
        let bound = default_bound(taps);
        let weight = init.uniform(
            [self.out_channels, in_channels, self.kernel, self.kernel],
            bound,
        );
        let bias = self.bias.then(|| init.uniform([self.out_channels], bound));
        Ok(Conv2d {
            weight,
            bias,
            stride: self.stride,
            padding: self.padding,
        })
    }
}

/// The most values one tensor of a network may hold (4 GiB of `f32`): a larger size in a
/// network file is an error, not an allocation that aborts the process.
pub const MAX_VALUES: usize = 1 << 30;

/// `Π factors`, or an error when it exceeds [`MAX_VALUES`].
pub fn checked_product(factors: &[usize]) -> Result<usize, BuildError> {
    factors
        .iter()
        .try_fold(1usize, |product, &f| product.checked_mul(f))
        .filter(|&product| product <= MAX_VALUES)
        .ok_or_else(|| {
            BuildError::new(format!(
                "a tensor of {factors:?} would hold more than {MAX_VALUES} values"
            ))
        })
}

/// Output side of a window of `kernel` with `stride` over `size` padded by `padding` on each
/// side (PyTorch's floor rule).
pub(crate) fn pooled_side(
    size: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Result<usize, BuildError> {
    let Some(padded) = padding.checked_mul(2).and_then(|p| p.checked_add(size)) else {
        return Err(BuildError::new(format!("padding {padding} is too large")));
    };
    if kernel > padded || stride == 0 {
        return Err(BuildError::new(format!(
            "a {kernel}×{kernel} window (stride {stride}, padding {padding}) does not fit a \
             side of {size}"
        )));
    }
    Ok((padded - kernel) / stride + 1)
}

/// A 2-D convolution applied to every step; `forward: [T, N, Ci, H, W] → [T, N, Co, H', W']`.
///
/// The 3×3 stride-1 padding-1 case runs the fused [`conv3x3`](crate::conv::conv3x3) (on the
/// CPU), every other shape burn's `conv2d`.
#[derive(Module, Debug)]
pub struct Conv2d {
    /// Weight `[out, in, k, k]`.
    pub weight: Param<Tensor<4>>,
    /// Bias `[out]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// Stride.
    pub stride: usize,
    /// Zero padding on every side.
    pub padding: usize,
}

impl Conv2d {
    /// The convolution of every step.
    pub fn forward(&self, x: Tensor<5>, implementation: Implementation) -> Tensor<5> {
        super::per_frame(x, |frames| self.forward_frames(frames, implementation))
    }

    /// The convolution of a batch of frames `[B, Ci, H, W]`.
    pub fn forward_frames(&self, x: Tensor<4>, implementation: Implementation) -> Tensor<4> {
        let bias = self.bias.as_ref().map(Param::val);
        if self.is_same3x3() {
            let implementation = match implementation {
                Implementation::Fused => ConvImplementation::Fused,
                Implementation::Reference => ConvImplementation::Reference,
            };
            return conv3x3_with(x, self.weight.val(), bias, implementation);
        }
        let (s, p) = (self.stride, self.padding);
        conv2d(
            x,
            self.weight.val(),
            bias,
            ConvOptions::new([s, s], [p, p], [1, 1], 1),
        )
    }

    /// Kernel 3×3, stride 1, padding 1: the shape the fused ops take.
    pub fn is_same3x3(&self) -> bool {
        let [_, _, kh, kw] = self.weight.dims();
        (kh, kw, self.stride, self.padding) == (3, 3, 1, 1)
    }

    /// `(out, in)` channels.
    pub fn channels(&self) -> (usize, usize) {
        let [out, input, ..] = self.weight.dims();
        (out, input)
    }

    /// Square kernel size.
    pub fn kernel(&self) -> usize {
        self.weight.dims()[2]
    }
}
