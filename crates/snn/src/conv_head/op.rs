//! The fused seed CNN as a burn backend extension: Flex forward, `Autodiff<Flex>` backward.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension, tensor::FloatTensor};
use burn::tensor::{Shape, Tensor};

use super::kernel::{self, Layout, Params};
use crate::conv::kernel::Dims;
use crate::flex::{contiguous, dims, f32_slice, flex_tensor};

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

#[derive(Debug)]
struct ConvHeadBackward;

impl Backward<Flex, 5> for ConvHeadBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_conv_w, node_conv_b, node_fc_w, node_fc_b] = ops.parents;
        assert!(
            node_x.is_none(),
            "sum_conv_relu_linear does not differentiate its input frames"
        );
        let grad = contiguous(&grads.consume::<Flex>(&ops.node));
        let Saved {
            inputs,
            hidden,
            padded,
        } = ops.state;
        let layout = inputs.layout();
        let d = layout.dims;
        let gradients =
            kernel::backward(&padded, &inputs.params(), &hidden, f32_slice(&grad), layout);
        let registered = [
            (node_conv_w, gradients.conv_weight, vec![d.co, d.ci, 3, 3]),
            (node_conv_b, gradients.conv_bias, vec![d.co]),
            (
                node_fc_w,
                gradients.fc_weight,
                vec![layout.features(), layout.classes],
            ),
            (node_fc_b, gradients.fc_bias, vec![layout.classes]),
        ];
        for (node, values, shape) in registered {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, flex_tensor(values, Shape::from(shape)));
            }
        }
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
        let inputs = Inputs::new([
            x.primitive(),
            conv_weight.primitive(),
            conv_bias.primitive(),
            fc_weight.primitive(),
            fc_bias.primitive(),
        ]);
        let (scores, activations) = inputs.forward();
        match ConvHeadBackward
            .prepare::<C>([
                x.node(),
                conv_weight.node(),
                conv_bias.node(),
                fc_weight.node(),
                fc_bias.node(),
            ])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let saved = Saved {
                    inputs,
                    hidden: activations.hidden,
                    padded: activations.padded,
                };
                prep.finish(saved, scores)
            }
            OpsKind::UnTracked(prep) => prep.finish(scores),
        }
    }
}
