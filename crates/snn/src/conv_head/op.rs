//! The fused seed CNN as a burn backend extension: a [`FusedOp`] (Flex forward and backward
//! kernels), on `Autodiff<Flex>` through [`fused::autodiff`].

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension, tensor::FloatTensor};
use burn::tensor::{Shape, Tensor};

use super::kernel::{self, Layout, Params};
use crate::conv::kernel::Dims;
use crate::flex::{contiguous, dims, f32_slice, flex_tensor};
use crate::fused::{self, FusedOp};

/// The backend extension behind [`sum_conv_relu_linear`](super::sum_conv_relu_linear).
#[backend_extension(Flex, Autodiff)]
pub trait ConvHeadOps: Backend {
    /// `x: [T, N, Ci, h, w]` → `Linear(ReLU(conv3x3(Σ_t x[t], conv_weight, conv_bias)))`,
    /// `[N, classes]`, with `fc_weight: [Co·h·w, classes]` and `fc_bias: [classes]`.
    fn sum_conv_relu_linear(
        x: FloatTensor<Self>,
        conv_weight: FloatTensor<Self>,
        conv_bias: FloatTensor<Self>,
        fc_weight: FloatTensor<Self>,
        fc_bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// Calls the op on high-level tensors.
pub fn sum_conv_relu_linear(
    x: Tensor<5>,
    conv: (Tensor<4>, Tensor<1>),
    fc: (Tensor<2>, Tensor<1>),
) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as ConvHeadOps>::sum_conv_relu_linear(
        x.into_dispatch(),
        conv.0.into_dispatch(),
        conv.1.into_dispatch(),
        fc.0.into_dispatch(),
        fc.1.into_dispatch(),
    ))
}

/// The layer's inputs, contiguous.
#[derive(Debug, Clone)]
struct Inputs {
    x: FlexTensor,
    conv_weight: FlexTensor,
    conv_bias: FlexTensor,
    fc_weight: FlexTensor,
    fc_bias: FlexTensor,
}

impl Inputs {
    fn new(tensors: [&FlexTensor; 5]) -> Self {
        let [x, conv_weight, conv_bias, fc_weight, fc_bias] = tensors.map(contiguous);
        Self {
            x,
            conv_weight,
            conv_bias,
            fc_weight,
            fc_bias,
        }
    }

    fn layout(&self) -> Layout {
        let x = dims(&self.x);
        Layout {
            steps: x[0],
            dims: Dims::of(&x[1..], &dims(&self.conv_weight)),
            classes: dims(&self.fc_weight)[1],
        }
    }

    fn params(&self) -> Params<'_> {
        Params {
            conv_weight: f32_slice(&self.conv_weight),
            conv_bias: f32_slice(&self.conv_bias),
            fc_weight: f32_slice(&self.fc_weight),
            fc_bias: f32_slice(&self.fc_bias),
        }
    }

    /// Scores `[N, classes]`, with what the backward pass needs.
    fn forward(&self) -> (FlexTensor, kernel::Forward) {
        let layout = self.layout();
        let mut result = kernel::forward(f32_slice(&self.x), &self.params(), layout);
        let scores = std::mem::take(&mut result.scores);
        let shape = Shape::new([layout.dims.n, layout.classes]);
        (flex_tensor(scores, shape), result)
    }
}

impl ConvHeadOps for Flex {
    fn sum_conv_relu_linear(
        x: FlexTensor,
        conv_weight: FlexTensor,
        conv_bias: FlexTensor,
        fc_weight: FlexTensor,
        fc_bias: FlexTensor,
    ) -> FlexTensor {
        let inputs = Inputs::new([&x, &conv_weight, &conv_bias, &fc_weight, &fc_bias]);
        inputs.forward().0
    }
}

/// What the backward pass keeps: the parameters (shared buffers), the hidden activations and
/// the summed frames.
#[derive(Debug, Clone)]
struct Saved {
    inputs: Inputs,
    hidden: Vec<f32>,
    padded: Vec<f32>,
}

/// The op's kernels.
#[derive(Debug, Clone, Copy)]
struct ConvHead;

impl FusedOp<5> for ConvHead {
    type Saved = Saved;

    fn forward(&self, values: [&FlexTensor; 5], save: bool) -> (FlexTensor, Option<Saved>) {
        let inputs = Inputs::new(values);
        let (scores, activations) = inputs.forward();
        let saved = save.then(|| Saved {
            inputs,
            hidden: activations.hidden,
            padded: activations.padded,
        });
        (scores, saved)
    }

    fn backward(
        &self,
        saved: Saved,
        grad: FlexTensor,
        wanted: [bool; 5],
    ) -> [Option<FlexTensor>; 5] {
        let [want_x, want_conv_w, want_conv_b, want_fc_w, want_fc_b] = wanted;
        assert!(
            !want_x,
            "sum_conv_relu_linear does not differentiate its input frames"
        );
        let Saved {
            inputs,
            hidden,
            padded,
        } = saved;
        let layout = inputs.layout();
        let d = layout.dims;
        let gradients =
            kernel::backward(&padded, &inputs.params(), &hidden, f32_slice(&grad), layout);
        let tensor = |want: bool, values: Vec<f32>, shape: Vec<usize>| {
            want.then(|| flex_tensor(values, Shape::from(shape)))
        };
        [
            None,
            tensor(want_conv_w, gradients.conv_weight, vec![d.co, d.ci, 3, 3]),
            tensor(want_conv_b, gradients.conv_bias, vec![d.co]),
            tensor(
                want_fc_w,
                gradients.fc_weight,
                vec![layout.features(), layout.classes],
            ),
            tensor(want_fc_b, gradients.fc_bias, vec![layout.classes]),
        ]
    }
}

impl<C: CheckpointStrategy> ConvHeadOps for Autodiff<Flex, C> {
    fn sum_conv_relu_linear(
        x: FloatTensor<Self>,
        conv_weight: FloatTensor<Self>,
        conv_bias: FloatTensor<Self>,
        fc_weight: FloatTensor<Self>,
        fc_bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let inputs = [x, conv_weight, conv_bias, fc_weight, fc_bias];
        fused::autodiff::<C, _, 5>(ConvHead, inputs)
    }
}
