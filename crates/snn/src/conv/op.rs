//! The convolution as a burn backend extension: Flex forward, `Autodiff<Flex>` backward.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension, tensor::FloatTensor};
use burn::tensor::{Shape, Tensor};

use super::kernel::{self, Dims};
use crate::flex::{contiguous, dims, f32_slice, flex_tensor};

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

fn forward(x: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor) -> FlexTensor {
    let d = sizes(x, weight);
    let (x, weight, bias) = (contiguous(x), contiguous(weight), contiguous(bias));
    let mut out = vec![0.0f32; d.n * d.co * d.h * d.w];
    kernel::forward(
        f32_slice(&x),
        f32_slice(&weight),
        f32_slice(&bias),
        d,
        &mut out,
    );
    flex_tensor(out, Shape::new([d.n, d.co, d.h, d.w]))
}

impl ConvOps for Flex {
    fn conv3x3(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
        forward(&x, &weight, &bias)
    }
}

/// What the backward pass keeps: the input and the weight (shared buffers).
#[derive(Debug, Clone)]
struct Saved {
    x: FlexTensor,
    weight: FlexTensor,
}

#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 3> for ConvBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = contiguous(&grads.consume::<Flex>(&ops.node));
        let Saved { x, weight } = ops.state;
        let d = sizes(&x, &weight);
        let (x, weight) = (contiguous(&x), contiguous(&weight));
        if node_weight.is_some() || node_bias.is_some() {
            let (grad_weight, grad_bias) =
                kernel::backward_weight(f32_slice(&x), f32_slice(&grad), d);
            if let Some(node) = node_weight {
                let shape = Shape::new([d.co, d.ci, 3, 3]);
                grads.register::<Flex>(node.id, flex_tensor(grad_weight, shape));
            }
            if let Some(node) = node_bias {
                grads.register::<Flex>(node.id, flex_tensor(grad_bias, Shape::new([d.co])));
            }
        }
        if let Some(node) = node_x {
            let grad_x = kernel::backward_input(f32_slice(&grad), f32_slice(&weight), d);
            let shape = Shape::new([d.n, d.ci, d.h, d.w]);
            grads.register::<Flex>(node.id, flex_tensor(grad_x, shape));
        }
    }
}

impl<C: CheckpointStrategy> ConvOps for Autodiff<Flex, C> {
    fn conv3x3(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let out = forward(x.primitive(), weight.primitive(), bias.primitive());
        match ConvBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let saved = Saved {
                    x: x.primitive().clone(),
                    weight: weight.primitive().clone(),
                };
                prep.finish(saved, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}
