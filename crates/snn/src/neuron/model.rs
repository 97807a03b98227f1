//! Neuron models as one file each: a model is its equations for one neuron
//! ([`NeuronDynamics`]: its own state type, one step, the step's vector-Jacobian product) and
//! the same step on tensors. From those this module makes, for every model, the fused
//! multi-step op on the CPU (one pass over all T steps per block of neurons, the backward a
//! reverse pass through the recomputed states) and the reference (the steps as burn ops,
//! differentiated by burn); [`run`] picks one as [`Implementation`] says.
//!
//! IF, LIF and ParametricLIF keep their own hand-tuned kernels ([`super::kernel`], and CubeCL
//! ones on GPUs); a model written against this trait runs fused on the CPU and as the
//! reference elsewhere. [`super::adaptive`] (an adaptive LIF, two state variables) is one.

use std::fmt::Debug;
use std::sync::Arc;

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension, tensor::FloatTensor};
use burn::tensor::{Device, Shape, Tensor};
use rayon::prelude::*;

use super::Implementation;
use crate::flex::{contiguous, dims, f32_slice, flex_tensor};
use crate::fused::{self, FusedOp};

/// A neuron model's equations.
pub trait NeuronDynamics: Debug + Send + Sync + 'static {
    /// One neuron's state between steps (also the shape of its gradient).
    type State: Copy + Send + Sync + Default;
    /// A layer's state as tensors (for the reference).
    type Tensors: Clone;

    /// The state before the first step.
    fn rest(&self) -> Self::State;

    /// One step: updates `state` with input `x`, returns the spike (0 or 1).
    fn step(&self, x: f32, state: &mut Self::State) -> f32;

    /// The step's vector-Jacobian product: `before` is the state the step started from,
    /// `grad_spike` the loss's gradient of its spike and `grad_state` that of the state it
    /// left, which becomes that of `before`; returns the gradient of `x`.
    fn step_backward(
        &self,
        x: f32,
        before: &Self::State,
        grad_spike: f32,
        grad_state: &mut Self::State,
    ) -> f32;

    /// The state before the first step of `len` neurons, as tensors on `device`.
    fn rest_tensors(&self, len: usize, device: &Device) -> Self::Tensors;

    /// [`step`](Self::step) on tensors `[len]`, differentiable by burn (the reference).
    fn step_tensors(&self, x: Tensor<1>, state: Self::Tensors) -> (Tensor<1>, Self::Tensors);
}

/// The spikes `[T, …]` of a layer of `model` neurons driven by `x: [T, …]` from rest.
pub fn run<M: NeuronDynamics, const D: usize>(
    model: &Arc<M>,
    x: Tensor<D>,
    implementation: Implementation,
) -> Tensor<D> {
    let shape = x.dims();
    let steps = shape[0];
    let len = shape.iter().product::<usize>() / steps.max(1);
    let flat = x.reshape([steps, len]);
    let spikes = if implementation == Implementation::Fused
        && crate::fused::is_supported(&flat.device(), flat.dtype())
    {
        let kernels = ModelKernels(model.clone());
        Tensor::from_dispatch(<Dispatch as ModelOps>::model_multi_step(
            flat.into_dispatch(),
            kernels,
        ))
    } else {
        reference(model.as_ref(), flat)
    };
    spikes.reshape(shape)
}

/// The reference: the steps one by one as burn ops.
fn reference<M: NeuronDynamics>(model: &M, x: Tensor<2>) -> Tensor<2> {
    let [steps, len] = x.dims();
    let mut state = model.rest_tensors(len, &x.device());
    let mut spikes = Vec::with_capacity(steps);
    for t in 0..steps {
        let (spike, next) = model.step_tensors(x.clone().narrow(0, t, 1).reshape([len]), state);
        spikes.push(spike.reshape([1, len]));
        state = next;
    }
    Tensor::cat(spikes, 0)
}

/// A model's block kernels behind one object-safe interface, so that the fused op is one
/// burn op for every model (dispatched once per block of neurons, not per step).
trait BlockKernels: Debug + Send + Sync {
    /// Spikes `[T, m]` of inputs `[T, m]`.
    fn forward(&self, x: &[f32], steps: usize) -> Vec<f32>;
    /// `∂L/∂x` `[T, m]` from the inputs and `∂L/∂S` `[T, m]`.
    fn backward(&self, x: &[f32], grad: &[f32], steps: usize) -> Vec<f32>;
}

/// Neurons per task.
const BLOCK: usize = 1024;

/// Calls `f(first neuron, width)` for every block of `len` neurons in parallel, each writing
/// its own columns of a `[steps, len]` output.
fn per_block(
    len: usize,
    steps: usize,
    f: impl Fn(usize, usize, &mut dyn FnMut(usize, usize, f32)) + Sync,
) -> Vec<f32> {
    let blocks: Vec<Vec<f32>> = (0..len.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let (start, width) = (b * BLOCK, BLOCK.min(len - b * BLOCK));
            let mut out = vec![0.0; steps * width];
            f(start, width, &mut |t, i, v| out[t * width + i] = v);
            out
        })
        .collect();
    let mut out = vec![0.0; steps * len];
    for (b, block) in blocks.iter().enumerate() {
        let (start, width) = (b * BLOCK, BLOCK.min(len - b * BLOCK));
        for t in 0..steps {
            out[t * len + start..][..width].copy_from_slice(&block[t * width..][..width]);
        }
    }
    out
}

impl<M: NeuronDynamics> BlockKernels for M {
    fn forward(&self, x: &[f32], steps: usize) -> Vec<f32> {
        let len = x.len() / steps.max(1);
        per_block(len, steps, |start, width, out| {
            let mut states = vec![self.rest(); width];
            for t in 0..steps {
                let row = &x[t * len + start..][..width];
                for (i, (state, &x)) in states.iter_mut().zip(row).enumerate() {
                    out(t, i, self.step(x, state));
                }
            }
        })
    }

    fn backward(&self, x: &[f32], grad: &[f32], steps: usize) -> Vec<f32> {
        let len = x.len() / steps.max(1);
        per_block(len, steps, |start, width, out| {
            // The state before every step, recomputed.
            let mut before = Vec::with_capacity(steps * width);
            let mut states = vec![self.rest(); width];
            for t in 0..steps {
                before.extend_from_slice(&states);
                let row = &x[t * len + start..][..width];
                for (state, &x) in states.iter_mut().zip(row) {
                    self.step(x, state);
                }
            }
            let mut grad_states = vec![M::State::default(); width];
            for t in (0..steps).rev() {
                let (xs, gs) = (
                    &x[t * len + start..][..width],
                    &grad[t * len + start..][..width],
                );
                for (i, grad_state) in grad_states.iter_mut().enumerate() {
                    let gx = self.step_backward(xs[i], &before[t * width + i], gs[i], grad_state);
                    out(t, i, gx);
                }
            }
        })
    }
}

/// A model's kernels as the fused op's argument.
#[derive(Debug, Clone)]
pub struct ModelKernels(Arc<dyn BlockKernels>);

/// The fused multi-step op of any [`NeuronDynamics`] model: a [`FusedOp`] of the model's
/// block kernels, on `Autodiff<Flex>` through [`fused::autodiff`].
#[backend_extension(Flex, Autodiff)]
pub trait ModelOps: Backend {
    /// Spikes `[T, m]` of inputs `[T, m]`, every neuron from rest.
    fn model_multi_step(x: FloatTensor<Self>, kernels: ModelKernels) -> FloatTensor<Self>;
}

impl FusedOp<1> for ModelKernels {
    type Saved = FlexTensor;

    fn forward(&self, [x]: [&FlexTensor; 1], save: bool) -> (FlexTensor, Option<FlexTensor>) {
        let shape = dims(x);
        let contiguous_x = contiguous(x);
        let spikes = self.0.forward(f32_slice(&contiguous_x), shape[0]);
        let out = flex_tensor(spikes, Shape::new([shape[0], shape[1]]));
        (out, save.then(|| x.clone()))
    }

    fn backward(
        &self,
        x: FlexTensor,
        grad: FlexTensor,
        [wanted]: [bool; 1],
    ) -> [Option<FlexTensor>; 1] {
        if !wanted {
            return [None];
        }
        let shape = dims(&x);
        let x = contiguous(&x);
        let grad_x = self.0.backward(f32_slice(&x), f32_slice(&grad), shape[0]);
        [Some(flex_tensor(grad_x, Shape::new([shape[0], shape[1]])))]
    }
}

impl ModelOps for Flex {
    fn model_multi_step(x: FlexTensor, kernels: ModelKernels) -> FlexTensor {
        kernels.forward([&x], false).0
    }
}

impl<C: CheckpointStrategy> ModelOps for Autodiff<Flex, C> {
    fn model_multi_step(x: FloatTensor<Self>, kernels: ModelKernels) -> FloatTensor<Self> {
        fused::autodiff::<C, _, 1>(kernels, [x])
    }
}
