//! The fused multi-step neuron op: one burn backend extension per neuron layer.
//!
//! Its forward pass runs all `T` steps in one call of [`kernel::forward`]; under `Autodiff`
//! its backward pass is one call of [`kernel::backward`], the closed-form BPTT recursion,
//! instead of a graph of 5–10 nodes per step. It keeps only its inputs `X` and `V[-1]`
//! (shared buffers, not copies), from which the backward pass recomputes `H`.
//!
//! Backends: Flex (CPU) and `Autodiff<Flex>`. On other backends (CUDA, wgpu) the neuron
//! layer uses the reference composition until the GPU kernels arrive; see
//! [`is_supported`].

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ActivationOps;
use burn::backend::{
    Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension, tensor::FloatTensor,
};
use burn::tensor::{Shape, Tensor};

use super::dynamics::{Charge, Dynamics};
use super::kernel::{self, BackwardOutputs, ForwardOutputs};
use crate::flex::{contiguous, f32_slice, flex_tensor};

/// Which membrane potentials the fused op returns after the spikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VOutput {
    /// None: the output is the spikes alone (the everyday layer forward pass).
    None,
    /// The last step `V[T-1]`, the state to carry on from.
    Last,
    /// Every step, `v_seq`.
    Sequence,
}

/// What the fused op computes, besides its tensor inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusedSpec {
    /// The neuron equations. For PLIF, `k` is ignored and taken as `sigmoid(w)`.
    pub dynamics: Dynamics,
    /// Which potentials follow the spikes in the output.
    pub v_output: VOutput,
}

impl FusedSpec {
    /// Rows of `V` in the output for `steps` time steps.
    pub fn steps_v(&self, steps: usize) -> usize {
        match self.v_output {
            VOutput::None => 0,
            VOutput::Last => 1,
            VOutput::Sequence => steps,
        }
    }
}

/// The backend extension behind the fused neuron layers.
#[backend_extension(Flex, Autodiff)]
pub trait NeuronOps: Backend {
    /// Runs a multi-step neuron layer.
    ///
    /// `x` is `[T, …]`, `v0` the initial potential (as many elements as one step of `x`),
    /// `w` PLIF's scalar weight `[1]` (ignored by IF and LIF). Returns `[S; V]`, the spikes
    /// `[T, …]` followed along the first axis by `V` as `spec.v_output` says: every step
    /// `[T, …]`, the last `[1, …]`, or nothing.
    fn neuron_multi_step(
        x: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        w: FloatTensor<Self>,
        spec: FusedSpec,
    ) -> FloatTensor<Self>;
}

/// Whether the fused op runs natively on this device for this dtype (Flex, f32).
pub use crate::flex::is_supported;

/// Calls the fused op on high-level tensors; see [`NeuronOps::neuron_multi_step`].
pub fn multi_step<const D: usize>(
    x: Tensor<D>,
    v0: Tensor<D>,
    w: Tensor<1>,
    spec: FusedSpec,
) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as NeuronOps>::neuron_multi_step(
        x.into_dispatch(),
        v0.into_dispatch(),
        w.into_dispatch(),
        spec,
    ))
}

impl NeuronOps for Flex {
    fn neuron_multi_step(
        x: FlexTensor,
        v0: FlexTensor,
        w: FlexTensor,
        spec: FusedSpec,
    ) -> FlexTensor {
        Layer::new(&x, &v0, &w, spec).forward(&x, &v0)
    }
}

/// Shapes and resolved equations of one call.
#[derive(Debug, Clone)]
struct Layer {
    dynamics: Dynamics,
    steps_v: usize,
    steps: usize,
    neurons: usize,
    x_shape: Shape,
    v0_shape: Shape,
}

impl Layer {
    fn new(x: &FlexTensor, v0: &FlexTensor, w: &FlexTensor, spec: FusedSpec) -> Self {
        let x_shape = x.shape();
        let steps = x_shape[0];
        let neurons = v0.shape().num_elements();
        assert_eq!(
            x_shape.num_elements(),
            steps * neurons,
            "fused neuron: the state has {neurons} neurons, one step of the input {:?} has {}",
            x_shape,
            x_shape.num_elements() / steps.max(1)
        );
        let mut dynamics = spec.dynamics;
        if let Charge::Plif { k, .. } = &mut dynamics.charge {
            // burn's own sigmoid, so that k has the very bits the reference composition uses.
            let k_tensor = contiguous(&Flex::sigmoid(w.clone()));
            *k = f32_slice(&k_tensor)[0];
        }
        Self {
            dynamics,
            steps_v: spec.steps_v(steps),
            steps,
            neurons,
            x_shape,
            v0_shape: v0.shape(),
        }
    }

    /// Runs the kernel; returns `[S; V]`.
    fn forward(&self, x: &FlexTensor, v0: &FlexTensor) -> FlexTensor {
        let (x, v0) = (contiguous(x), contiguous(v0));
        let spike_len = self.steps * self.neurons;
        let len = (self.steps + self.steps_v) * self.neurons;
        let mut out: Vec<f32> = Vec::with_capacity(len);
        let (spikes, v) = out.spare_capacity_mut()[..len].split_at_mut(spike_len);
        kernel::forward(
            &self.dynamics,
            f32_slice(&x),
            f32_slice(&v0),
            self.steps,
            ForwardOutputs {
                spikes,
                v: (self.steps_v > 0).then_some(v),
            },
        );
        // SAFETY: `kernel::forward` writes every element of its outputs, which together are
        // the first `len` elements of `out`.
        unsafe { out.set_len(len) };
        let mut out_shape = self.x_shape.clone();
        out_shape[0] = self.steps + self.steps_v;
        flex_tensor(out, out_shape)
    }
}

/// What the backward pass keeps from the forward pass: the inputs (shared buffers, not
/// copies), from which it recomputes `H`.
#[derive(Debug, Clone)]
struct Saved {
    layer: Layer,
    x: FlexTensor,
    v0: FlexTensor,
}

#[derive(Debug)]
struct NeuronBackward;

impl Backward<Flex, 3> for NeuronBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_v0, node_w] = ops.parents;
        let grad_out = contiguous(&grads.consume::<Flex>(&ops.node));
        let Saved { layer, x, v0 } = ops.state;
        let (x, v0) = (contiguous(&x), contiguous(&v0));

        let x_len = layer.steps * layer.neurons;
        let mut grad_x: Vec<f32> = Vec::with_capacity(x_len);
        let mut grad_v0: Vec<f32> = Vec::with_capacity(layer.neurons);
        let grad_k_sum = kernel::backward(
            &layer.dynamics,
            f32_slice(&x),
            f32_slice(&v0),
            f32_slice(&grad_out),
            layer.steps,
            BackwardOutputs {
                grad_x: &mut grad_x.spare_capacity_mut()[..x_len],
                grad_v0: &mut grad_v0.spare_capacity_mut()[..layer.neurons],
            },
        );
        // SAFETY: `kernel::backward` writes every element of both outputs.
        unsafe {
            grad_x.set_len(x_len);
            grad_v0.set_len(layer.neurons);
        }

        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, flex_tensor(grad_x, layer.x_shape.clone()));
        }
        if let Some(node) = node_v0 {
            grads.register::<Flex>(node.id, flex_tensor(grad_v0, layer.v0_shape.clone()));
        }
        if let (Some(node), Charge::Plif { k, .. }) = (node_w, layer.dynamics.charge) {
            // dL/dw = (Σ dL/dH · dH/dk) · k(1 − k), in SpikingJelly's f32 order.
            let grad_w = (grad_k_sum as f32) * k * (1.0 - k);
            grads.register::<Flex>(node.id, flex_tensor(vec![grad_w], Shape::new([1])));
        }
    }
}

impl<C: CheckpointStrategy> NeuronOps for Autodiff<Flex, C> {
    fn neuron_multi_step(
        x: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        w: FloatTensor<Self>,
        spec: FusedSpec,
    ) -> FloatTensor<Self> {
        let layer = Layer::new(x.primitive(), v0.primitive(), w.primitive(), spec);
        let out = layer.forward(x.primitive(), v0.primitive());
        match NeuronBackward
            .prepare::<C>([x.node(), v0.node(), w.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let saved = Saved {
                    layer,
                    x: x.primitive().clone(),
                    v0: v0.primitive().clone(),
                };
                prep.finish(saved, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}
