//! The fused layer as a burn backend extension: a [`FusedOp`] (Flex forward and backward
//! kernels), on `Autodiff<Flex>` through [`fused::autodiff`].

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension, tensor::FloatTensor};
use burn::tensor::{Shape, Tensor};

use super::kernel::{self, Layout};
use crate::conv::kernel::{Dims, backward_input};
use crate::flex::{contiguous, dims, f32_slice, flex_tensor};
use crate::fused::{self, FusedOp};
use crate::neuron::dynamics::Dynamics;

/// The backend extension behind [`conv3x3_spike_rates`](super::conv3x3_spike_rates).
#[backend_extension(Flex, Autodiff)]
pub trait SpikingConvOps: Backend {
    /// `x: [T, N, Ci, H, W]`, `weight: [Co, Ci, 3, 3]`, `bias: [Co]` → the firing rates
    /// `[N, Co, H, W]` of the neuron layer `dynamics` (non-parametric: IF or LIF, from rest)
    /// driven by the 3×3, padding-1 convolution of every frame.
    fn conv3x3_spike_rates(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        dynamics: Dynamics,
    ) -> FloatTensor<Self>;
}

/// Calls the op on high-level tensors.
pub fn conv3x3_spike_rates(
    x: Tensor<5>,
    weight: Tensor<4>,
    bias: Tensor<1>,
    dynamics: Dynamics,
) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as SpikingConvOps>::conv3x3_spike_rates(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        dynamics,
    ))
}

fn layout(x: &FlexTensor, weight: &FlexTensor) -> Layout {
    let x = dims(x);
    Layout {
        steps: x[0],
        dims: Dims::of(&x[1..], &dims(weight)),
    }
}

fn rates_shape(layout: Layout) -> Shape {
    let d = layout.dims;
    Shape::new([d.n, d.co, d.h, d.w])
}

fn forward(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &FlexTensor,
    dynamics: Dynamics,
) -> FlexTensor {
    let layout = layout(x, weight);
    let (x, weight, bias) = (contiguous(x), contiguous(weight), contiguous(bias));
    let mut rates = vec![0.0f32; rates_shape(layout).num_elements()];
    kernel::forward(
        &dynamics,
        f32_slice(&x),
        f32_slice(&weight),
        f32_slice(&bias),
        layout,
        &mut rates,
    );
    flex_tensor(rates, rates_shape(layout))
}

impl SpikingConvOps for Flex {
    fn conv3x3_spike_rates(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        dynamics: Dynamics,
    ) -> FlexTensor {
        forward(&x, &weight, &bias, dynamics)
    }
}

/// The op's kernels for one neuron layer; the backward keeps the inputs (shared buffers),
/// from which it recomputes the currents and potentials.
#[derive(Debug, Clone, Copy)]
struct SpikeRates {
    dynamics: Dynamics,
}

impl FusedOp<3> for SpikeRates {
    type Saved = [FlexTensor; 3];

    fn forward(
        &self,
        [x, weight, bias]: [&FlexTensor; 3],
        save: bool,
    ) -> (FlexTensor, Option<Self::Saved>) {
        let out = forward(x, weight, bias, self.dynamics);
        (out, save.then(|| [x.clone(), weight.clone(), bias.clone()]))
    }

    fn backward(
        &self,
        [x, weight, bias]: Self::Saved,
        grad_rates: FlexTensor,
        [want_x, want_weight, want_bias]: [bool; 3],
    ) -> [Option<FlexTensor>; 3] {
        let layout = layout(&x, &weight);
        let d = layout.dims;
        let (x, weight, bias) = (contiguous(&x), contiguous(&weight), contiguous(&bias));
        let mut grad_currents = want_x.then(|| vec![0.0f32; layout.steps * d.n * d.co * d.plane()]);
        let gradients = kernel::backward(
            &self.dynamics,
            f32_slice(&x),
            (f32_slice(&weight), f32_slice(&bias)),
            f32_slice(&grad_rates),
            layout,
            grad_currents.as_deref_mut(),
        );
        let grad_x = grad_currents.map(|grad_currents| {
            let frames = Dims {
                n: layout.steps * d.n,
                ..d
            };
            let grad_x = backward_input(&grad_currents, f32_slice(&weight), frames);
            flex_tensor(grad_x, Shape::new([layout.steps, d.n, d.ci, d.h, d.w]))
        });
        [
            grad_x,
            want_weight.then(|| flex_tensor(gradients.weight, Shape::new([d.co, d.ci, 3, 3]))),
            want_bias.then(|| flex_tensor(gradients.bias, Shape::new([d.co]))),
        ]
    }
}

impl<C: CheckpointStrategy> SpikingConvOps for Autodiff<Flex, C> {
    fn conv3x3_spike_rates(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        dynamics: Dynamics,
    ) -> FloatTensor<Self> {
        fused::autodiff::<C, _, 3>(SpikeRates { dynamics }, [x, weight, bias])
    }
}
