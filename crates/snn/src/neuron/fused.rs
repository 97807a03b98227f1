//! The fused multi-step neuron op: one burn backend extension per neuron layer.
//!
//! Its forward pass runs all `T` steps in one call of [`kernel::forward`]; under `Autodiff`
//! its backward pass is one call of [`kernel::backward`], the closed-form BPTT recursion,
//! instead of a graph of 5–10 nodes per step. It saves `H` (and, for PLIF, the input and
//! initial state, which are shared, not copied).
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
    Autodiff, Backend, DType, Dispatch, DispatchDevice, Flex, TensorMetadata, backend_extension,
    tensor::FloatTensor,
};
use burn::tensor::{Device, Shape, Tensor, TensorData};

use super::dynamics::{Charge, Dynamics};
use super::kernel::{self, BackwardOutputs, ForwardOutputs, PlifInputs};

/// What the fused op computes, besides its tensor inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusedSpec {
    /// The neuron equations. For PLIF, `k` is ignored and taken as `sigmoid(w)`.
    pub dynamics: Dynamics,
    /// Return the whole `V` sequence (`true`) or only the last step.
    pub store_v_seq: bool,
}

/// The backend extension behind the fused neuron layers.
#[backend_extension(Flex, Autodiff)]
pub trait NeuronOps: Backend {
    /// Runs a multi-step neuron layer.
    ///
    /// `x` is `[T, …]`, `v0` the initial potential (as many elements as one step of `x`),
    /// `w` PLIF's scalar weight `[1]` (ignored by IF and LIF). Returns `[S; V]`, the spikes
    /// `[T, …]` followed along the first axis by `V`: `[T, …]` with `store_v_seq`, else the
    /// last step `[1, …]`.
    fn neuron_multi_step(
        x: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        w: FloatTensor<Self>,
        spec: FusedSpec,
    ) -> FloatTensor<Self>;
}

/// Whether the fused op runs natively on this device for this dtype (Flex, f32).
pub fn is_supported(device: &Device, dtype: DType) -> bool {
    let inner = match device.as_dispatch() {
        DispatchDevice::Autodiff(autodiff) => &**autodiff,
        other => other,
    };
    matches!(inner, DispatchDevice::Flex(_)) && dtype == DType::F32
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

impl NeuronOps for Flex {
    fn neuron_multi_step(
        x: FlexTensor,
        v0: FlexTensor,
        w: FlexTensor,
        spec: FusedSpec,
    ) -> FlexTensor {
        let layer = Layer::new(&x, &v0, &w, spec);
        layer.forward(&x, &v0, false).0
    }
}

/// Shapes and resolved equations of one call.
#[derive(Debug, Clone)]
struct Layer {
    dynamics: Dynamics,
    store_v_seq: bool,
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
            store_v_seq: spec.store_v_seq,
            steps,
            neurons,
            x_shape,
            v0_shape: v0.shape(),
        }
    }

    fn steps_v(&self) -> usize {
        if self.store_v_seq { self.steps } else { 1 }
    }

    /// Runs the kernel; returns `[S; V]` and, when asked, `H`.
    fn forward(
        &self,
        x: &FlexTensor,
        v0: &FlexTensor,
        keep_charged: bool,
    ) -> (FlexTensor, Option<FlexTensor>) {
        let (x, v0) = (contiguous(x), contiguous(v0));
        let spike_len = self.steps * self.neurons;
        let mut out = vec![0.0f32; (self.steps + self.steps_v()) * self.neurons];
        let mut charged = keep_charged.then(|| vec![0.0f32; spike_len]);
        let (spikes, v) = out.split_at_mut(spike_len);
        kernel::forward(
            &self.dynamics,
            f32_slice(&x),
            f32_slice(&v0),
            self.steps,
            ForwardOutputs {
                spikes,
                v,
                charged: charged.as_deref_mut(),
            },
        );
        let mut out_shape = self.x_shape.clone();
        out_shape[0] = self.steps + self.steps_v();
        let charged = charged.map(|h| flex_tensor(h, self.x_shape.clone()));
        (flex_tensor(out, out_shape), charged)
    }
}

/// What the backward pass keeps from the forward pass.
#[derive(Debug, Clone)]
struct Saved {
    layer: Layer,
    charged: FlexTensor,
    /// PLIF only: the input and initial state (shared buffers, not copies).
    plif: Option<(FlexTensor, FlexTensor)>,
}

#[derive(Debug)]
struct NeuronBackward;

impl Backward<Flex, 3> for NeuronBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_v0, node_w] = ops.parents;
        let grad_out = contiguous(&grads.consume::<Flex>(&ops.node));
        let Saved {
            layer,
            charged,
            plif,
        } = ops.state;

        let mut grad_x = vec![0.0f32; layer.steps * layer.neurons];
        let mut grad_v0 = vec![0.0f32; layer.neurons];
        let plif = plif.map(|(x, v0)| (contiguous(&x), contiguous(&v0)));
        let grad_k_sum = kernel::backward(
            &layer.dynamics,
            f32_slice(&charged),
            f32_slice(&grad_out),
            layer.steps,
            plif.as_ref().map(|(x, v0)| PlifInputs {
                x: f32_slice(x),
                v0: f32_slice(v0),
            }),
            BackwardOutputs {
                grad_x: &mut grad_x,
                grad_v0: &mut grad_v0,
            },
        );

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
        match NeuronBackward
            .prepare::<C>([x.node(), v0.node(), w.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (out, charged) = layer.forward(x.primitive(), v0.primitive(), true);
                let plif = matches!(layer.dynamics.charge, Charge::Plif { .. })
                    .then(|| (x.primitive().clone(), v0.primitive().clone()));
                let saved = Saved {
                    layer,
                    charged: charged.expect("the forward pass was asked to keep H"),
                    plif,
                };
                prep.finish(saved, out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(layer.forward(x.primitive(), v0.primitive(), false).0)
            }
        }
    }
}

/// The tensor itself when it is already contiguous from offset 0, else a contiguous copy.
fn contiguous(tensor: &FlexTensor) -> FlexTensor {
    if tensor.as_slice::<f32>().is_some() {
        tensor.clone()
    } else {
        tensor.to_contiguous()
    }
}

/// The `f32` elements of a contiguous tensor.
fn f32_slice(tensor: &FlexTensor) -> &[f32] {
    tensor
        .as_slice::<f32>()
        .expect("fused neuron op: expected a contiguous f32 tensor (see fused::is_supported)")
}

fn flex_tensor(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}
