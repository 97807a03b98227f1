//! The convolution as a burn backend extension: a [`FusedOp`] (Flex forward and backward
//! kernels), on `Autodiff<Flex>` through [`fused::autodiff`].

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension, tensor::FloatTensor};
use burn::tensor::{Shape, Tensor};

use super::kernel::{self, Dims};
use super::{DIRECT_MAX_INPUT_CHANNELS, gemm, sparse};
use crate::flex::{contiguous, dims, f32_slice, flex_tensor};
use crate::fused::{self, FusedOp};

/// The backend extension behind [`conv3x3`](super::conv3x3).
#[backend_extension(Flex, Autodiff)]
pub trait ConvOps: Backend {
    /// `x: [N, Ci, H, W]`, `weight: [Co, Ci, 3, 3]`, `bias: [Co]` → `[N, Co, H, W]`, stride 1,
    /// padding 1.
    fn conv3x3(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// Calls the op on high-level tensors.
pub fn conv3x3(x: Tensor<4>, weight: Tensor<4>, bias: Tensor<1>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as ConvOps>::conv3x3(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
    ))
}

fn sizes(x: &FlexTensor, weight: &FlexTensor) -> Dims {
    Dims::of(&dims(x), &dims(weight))
}

/// `(x, weight, bias, dims, out)`: the output.
type Forward = fn(&[f32], &[f32], &[f32], Dims, &mut [f32]);
/// `(x, grad, dims)`: the weight and bias gradients.
type BackwardWeight = fn(&[f32], &[f32], Dims) -> (Vec<f32>, Vec<f32>);
/// `(grad, weight, dims)`: the input gradient.
type BackwardInput = fn(&[f32], &[f32], Dims) -> Vec<f32>;

/// One implementation's three kernels.
struct Kernels {
    forward: Forward,
    backward_weight: BackwardWeight,
    backward_input: BackwardInput,
}

/// Which kernels a convolution runs, chosen from its input in the forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// Direct kernels, up to [`DIRECT_MAX_INPUT_CHANNELS`] input channels.
    Direct,
    /// im2col + gemm.
    Gemm,
    /// Forward and weight gradient over the non-zero inputs only ([`sparse`]) for sparse
    /// inputs, gemm for the input gradient.
    Sparse,
}

impl Path {
    fn of(x: &[f32], d: Dims) -> Self {
        if d.ci <= DIRECT_MAX_INPUT_CHANNELS {
            Self::Direct
        } else if sparse::is_sparse(x) {
            Self::Sparse
        } else {
            Self::Gemm
        }
    }

    fn kernels(self) -> Kernels {
        match self {
            Self::Direct => Kernels {
                forward: kernel::forward,
                backward_weight: kernel::backward_weight,
                backward_input: kernel::backward_input,
            },
            Self::Gemm => Kernels {
                forward: gemm::forward,
                backward_weight: gemm::backward_weight,
                backward_input: gemm::backward_input,
            },
            Self::Sparse => Kernels {
                forward: sparse::forward,
                backward_weight: sparse::backward_weight,
                backward_input: gemm::backward_input,
            },
        }
    }
}

/// The output, and the kernels that computed it.
fn forward(x: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor) -> (FlexTensor, Path) {
    let d = sizes(x, weight);
    let (x, weight, bias) = (contiguous(x), contiguous(weight), contiguous(bias));
    let path = Path::of(f32_slice(&x), d);
    let mut out = vec![0.0f32; d.n * d.co * d.h * d.w];
    (path.kernels().forward)(
        f32_slice(&x),
        f32_slice(&weight),
        f32_slice(&bias),
        d,
        &mut out,
    );
    (flex_tensor(out, Shape::new([d.n, d.co, d.h, d.w])), path)
}

/// The op's kernels; it keeps the input and the weight (shared buffers) and the kernels'
/// choice for the backward.
#[derive(Debug, Clone, Copy)]
struct Conv3x3;

impl FusedOp<3> for Conv3x3 {
    type Saved = (FlexTensor, FlexTensor, Path);

    fn forward(
        &self,
        [x, weight, bias]: [&FlexTensor; 3],
        save: bool,
    ) -> (FlexTensor, Option<Self::Saved>) {
        let (out, path) = forward(x, weight, bias);
        (out, save.then(|| (x.clone(), weight.clone(), path)))
    }

    fn backward(
        &self,
        (x, weight, path): Self::Saved,
        grad: FlexTensor,
        [want_x, want_weight, want_bias]: [bool; 3],
    ) -> [Option<FlexTensor>; 3] {
        let d = sizes(&x, &weight);
        let (x, weight) = (contiguous(&x), contiguous(&weight));
        let kernels = path.kernels();
        let (mut grad_weight, mut grad_bias) = (None, None);
        if want_weight || want_bias {
            let (gw, gb) = (kernels.backward_weight)(f32_slice(&x), f32_slice(&grad), d);
            grad_weight = want_weight.then(|| flex_tensor(gw, Shape::new([d.co, d.ci, 3, 3])));
            grad_bias = want_bias.then(|| flex_tensor(gb, Shape::new([d.co])));
        }
        let grad_x = want_x.then(|| {
            let gx = (kernels.backward_input)(f32_slice(&grad), f32_slice(&weight), d);
            flex_tensor(gx, Shape::new([d.n, d.ci, d.h, d.w]))
        });
        [grad_x, grad_weight, grad_bias]
    }
}

impl ConvOps for Flex {
    fn conv3x3(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
        forward(&x, &weight, &bias).0
    }
}

impl<C: CheckpointStrategy> ConvOps for Autodiff<Flex, C> {
    fn conv3x3(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        fused::autodiff::<C, _, 3>(Conv3x3, [x, weight, bias])
    }
}
