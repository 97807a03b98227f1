//! The fused multi-step neuron op: one burn backend extension per neuron layer.
//!
//! Its forward pass runs all `T` steps in one call of [`kernel::forward`]; under `Autodiff`
//! its backward pass is one call of [`kernel::backward`], the closed-form BPTT recursion,
//! instead of a graph of 5–10 nodes per step. It keeps only its inputs `X` and `V[-1]`
//! (shared buffers, not copies), from which the backward pass recomputes `H`.
//!
//! Backends: Flex (CPU, [`kernel`]) and, with the `cuda` or `wgpu` feature, burn's CubeCL
//! backend (GPUs, [`super::cube`]), each also under `Autodiff`: a backend supplies its two
//! kernels through [`NeuronKernels`], and one `Autodiff` implementation serves both. Elsewhere
//! the neuron layer uses the reference composition; see [`is_supported`].

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ActivationOps;
use burn::backend::{
    Autodiff, Backend, DType, Dispatch, Flex, TensorMetadata, backend_extension,
    tensor::FloatTensor,
};
use burn::tensor::{Device, Shape, Tensor};

use super::dynamics::{Charge, Dynamics};
use super::kernel::{self, BackwardOutputs, ForwardOutputs};
use crate::denormals::FlushToZero;
use crate::flex::{contiguous, f32_slice, flex_tensor};
#[cfg(feature = "cube")]
use burn::backend::Cube;

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
#[backend_extension(Flex, Cube: cfg(feature = "cube"), Autodiff)]
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

/// Whether the fused op runs natively on this device for this dtype: f32 on the CPU (Flex)
/// or, in builds with a GPU feature, on a CubeCL device.
pub fn is_supported(device: &Device, dtype: DType) -> bool {
    crate::fused::is_supported(device, dtype) || crate::fused::gpu_supported(device, dtype)
}

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

/// A backend's two kernels for the fused op; [`NeuronOps`] on the backend and on its
/// `Autodiff` are built from them.
pub(crate) trait NeuronKernels: Backend {
    /// `[S; V]` of `layer` (see [`NeuronOps::neuron_multi_step`]).
    fn forward(
        layer: &Layer,
        x: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        w: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// The gradients of the inputs from the gradient `grad_out` of `[S; V]`.
    fn backward(
        layer: &Layer,
        inputs: Saved<Self>,
        grad_out: FloatTensor<Self>,
    ) -> InputGradients<Self>;
}

/// `∂L/∂X`, `∂L/∂V[-1]` and, for PLIF, `∂L/∂w`.
pub(crate) struct InputGradients<B: Backend> {
    pub x: FloatTensor<B>,
    pub v0: FloatTensor<B>,
    pub w: Option<FloatTensor<B>>,
}

impl NeuronOps for Flex {
    fn neuron_multi_step(
        x: FlexTensor,
        v0: FlexTensor,
        w: FlexTensor,
        spec: FusedSpec,
    ) -> FlexTensor {
        let layer = Layer::new(&x, &v0, spec);
        <Flex as NeuronKernels>::forward(&layer, x, v0, w)
    }
}

#[cfg(feature = "cube")]
impl NeuronOps for Cube {
    fn neuron_multi_step(
        x: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        w: FloatTensor<Self>,
        spec: FusedSpec,
    ) -> FloatTensor<Self> {
        let layer = Layer::new(&x, &v0, spec);
        <Cube as NeuronKernels>::forward(&layer, x, v0, w)
    }
}

/// Shapes and equations of one call.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    /// The equations; PLIF's `k` is resolved from `w` by each backend's kernels.
    pub dynamics: Dynamics,
    /// Rows of `V` after the spikes: 0, 1 (the last step) or `steps` (every step).
    pub steps_v: usize,
    pub steps: usize,
    pub neurons: usize,
    pub x_shape: Shape,
    pub v0_shape: Shape,
}

impl Layer {
    fn new(x: &impl TensorMetadata, v0: &impl TensorMetadata, spec: FusedSpec) -> Self {
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
        Self {
            dynamics: spec.dynamics,
            steps_v: spec.steps_v(steps),
            steps,
            neurons,
            x_shape,
            v0_shape: v0.shape(),
        }
    }

    /// The shape of the output `[S; V]`.
    pub fn output_shape(&self) -> Shape {
        let mut shape = self.x_shape.clone();
        shape[0] = self.steps + self.steps_v;
        shape
    }
}

/// The layer's equations with PLIF's `k = sigmoid(w)` read from `w` (burn's own sigmoid, so
/// that `k` has the very bits the reference composition uses).
fn flex_dynamics(layer: &Layer, w: &FlexTensor) -> Dynamics {
    let mut dynamics = layer.dynamics;
    if let Charge::Plif { k, .. } = &mut dynamics.charge {
        let k_tensor = contiguous(&Flex::sigmoid(w.clone()));
        *k = f32_slice(&k_tensor)[0];
    }
    dynamics
}

impl NeuronKernels for Flex {
    fn forward(layer: &Layer, x: FlexTensor, v0: FlexTensor, w: FlexTensor) -> FlexTensor {
        let _flush = FlushToZero::begin();
        let dynamics = flex_dynamics(layer, &w);
        let (x, v0) = (contiguous(&x), contiguous(&v0));
        let spike_len = layer.steps * layer.neurons;
        let len = (layer.steps + layer.steps_v) * layer.neurons;
        let mut out: Vec<f32> = Vec::with_capacity(len);
        let (spikes, v) = out.spare_capacity_mut()[..len].split_at_mut(spike_len);
        kernel::forward(
            &dynamics,
            f32_slice(&x),
            f32_slice(&v0),
            layer.steps,
            ForwardOutputs {
                spikes,
                v: (layer.steps_v > 0).then_some(v),
            },
        );
        // SAFETY: `kernel::forward` writes every element of its outputs, which together are
        // the first `len` elements of `out`.
        unsafe { out.set_len(len) };
        flex_tensor(out, layer.output_shape())
    }

    fn backward(layer: &Layer, inputs: Saved<Self>, grad_out: FlexTensor) -> InputGradients<Self> {
        let _flush = FlushToZero::begin();
        let dynamics = flex_dynamics(layer, &inputs.w);
        let (x, v0, grad_out) = (
            contiguous(&inputs.x),
            contiguous(&inputs.v0),
            contiguous(&grad_out),
        );
        let x_len = layer.steps * layer.neurons;
        let mut grad_x: Vec<f32> = Vec::with_capacity(x_len);
        let mut grad_v0: Vec<f32> = Vec::with_capacity(layer.neurons);
        let grad_k_sum = kernel::backward(
            &dynamics,
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
        // dL/dw = (Σ dL/dH · dH/dk) · k(1 − k), in SpikingJelly's f32 order.
        let grad_w = match dynamics.charge {
            Charge::Plif { k, .. } => {
                let grad_w = (grad_k_sum as f32) * k * (1.0 - k);
                Some(flex_tensor(vec![grad_w], Shape::new([1])))
            }
            _ => None,
        };
        InputGradients {
            x: flex_tensor(grad_x, layer.x_shape.clone()),
            v0: flex_tensor(grad_v0, layer.v0_shape.clone()),
            w: grad_w,
        }
    }
}

/// What the backward pass keeps from the forward pass: the inputs (shared buffers, not
/// copies), from which it recomputes `H`.
#[derive(Debug, Clone)]
pub(crate) struct Saved<B: Backend> {
    pub x: FloatTensor<B>,
    pub v0: FloatTensor<B>,
    pub w: FloatTensor<B>,
}

#[derive(Debug)]
struct NeuronBackward;

impl<B: NeuronKernels> Backward<B, 3> for NeuronBackward {
    type State = (Layer, Saved<B>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_v0, node_w] = ops.parents;
        let grad_out = grads.consume::<B>(&ops.node);
        let (layer, saved) = ops.state;
        let gradients = B::backward(&layer, saved, grad_out);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, gradients.x);
        }
        if let Some(node) = node_v0 {
            grads.register::<B>(node.id, gradients.v0);
        }
        if let (Some(node), Some(grad_w)) = (node_w, gradients.w) {
            grads.register::<B>(node.id, grad_w);
        }
    }
}

impl<B: NeuronKernels, C: CheckpointStrategy> NeuronOps for Autodiff<B, C> {
    fn neuron_multi_step(
        x: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        w: FloatTensor<Self>,
        spec: FusedSpec,
    ) -> FloatTensor<Self> {
        let layer = Layer::new(x.primitive(), v0.primitive(), spec);
        let out = B::forward(
            &layer,
            x.primitive().clone(),
            v0.primitive().clone(),
            w.primitive().clone(),
        );
        match NeuronBackward
            .prepare::<C>([x.node(), v0.node(), w.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let saved = Saved {
                    x: x.primitive().clone(),
                    v0: v0.primitive().clone(),
                    w: w.primitive().clone(),
                };
                prep.finish((layer, saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}
