//! The one pattern of the CPU fused ops (`conv`, `spiking_conv`, `conv_head`, `pool`,
//! `norm`): each op is a [`FusedOp`] — its Flex forward kernel, returning what its backward
//! needs, and its backward kernel — and [`autodiff`] is the single `Autodiff<Flex, C>`
//! implementation that runs the forward and registers the backward for all of them. An op's
//! burn backend extension is then two one-line impls (Flex: the forward; Autodiff: this).
//! [`is_supported`] says where they run. Both passes flush denormals ([`crate::denormals`]).

use std::fmt::Debug;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex, tensor::FloatTensor};

use burn::backend::{DType, DispatchDevice};
use burn::tensor::Device;

use crate::denormals::FlushToZero;
use crate::flex::{computing_device, contiguous};

/// The one support gate of the fused ops: whether their CPU kernels run on this device for
/// this dtype (Flex, f32). Elsewhere each op falls back to its composition of burn ops.
pub fn is_supported(device: &Device, dtype: DType) -> bool {
    matches!(computing_device(device), DispatchDevice::Flex(_)) && dtype == DType::F32
}

/// Whether GPU kernels (CubeCL, in builds with a GPU feature) run on this device for this
/// dtype; only the neuron op has them.
#[cfg(feature = "cube")]
pub fn gpu_supported(device: &Device, dtype: DType) -> bool {
    matches!(computing_device(device), DispatchDevice::Cube(_)) && dtype == DType::F32
}

/// Whether GPU kernels run here: never in a build without a GPU feature.
#[cfg(not(feature = "cube"))]
pub fn gpu_supported(_: &Device, _: DType) -> bool {
    false
}

/// A fused op of `N` tensor inputs on the CPU.
pub(crate) trait FusedOp<const N: usize>: Debug + Clone + Send + Sync + 'static {
    /// What the backward pass keeps from the forward pass.
    type Saved: Debug + Clone + Send + Sync + 'static;

    /// The output, and, when `save`, what the backward pass needs.
    fn forward(&self, inputs: [&FlexTensor; N], save: bool) -> (FlexTensor, Option<Self::Saved>);

    /// The gradients of the inputs `wanted` asks for, from the output's (contiguous) gradient.
    fn backward(
        &self,
        saved: Self::Saved,
        grad: FlexTensor,
        wanted: [bool; N],
    ) -> [Option<FlexTensor>; N];
}

/// The backward step of a [`FusedOp`] in burn's autodiff graph.
#[derive(Debug)]
struct Fused<O>(O);

impl<O: FusedOp<N>, const N: usize> Backward<Flex, N> for Fused<O> {
    type State = O::Saved;

    fn backward(self, ops: Ops<O::Saved, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let _flush = FlushToZero::begin();
        let grad = contiguous(&grads.consume::<Flex>(&ops.node));
        let wanted = ops.parents.each_ref().map(Option::is_some);
        let gradients = self.0.backward(ops.state, grad, wanted);
        for (parent, gradient) in ops.parents.into_iter().zip(gradients) {
            if let (Some(node), Some(gradient)) = (parent, gradient) {
                grads.register::<Flex>(node.id, gradient);
            }
        }
    }
}

/// `op` on autodiff tensors: its forward on the inputs' values, its backward registered when
/// any input is tracked (and only then is anything saved).
pub(crate) fn autodiff<C: CheckpointStrategy, O: FusedOp<N>, const N: usize>(
    op: O,
    inputs: [FloatTensor<Autodiff<Flex, C>>; N],
) -> FloatTensor<Autodiff<Flex, C>> {
    let _flush = FlushToZero::begin();
    let values = inputs.each_ref().map(|x| x.primitive());
    let nodes = inputs.each_ref().map(|x| x.node());
    match Fused(op.clone())
        .prepare::<C>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let (out, saved) = op.forward(values, true);
            prep.finish(saved.expect("saved when asked"), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(op.forward(values, false).0),
    }
}
