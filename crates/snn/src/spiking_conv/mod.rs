//! The seed SNN's hidden layer as one fused op: 3×3 convolution → spiking neuron → mean over
//! time, `[T, N, Ci, h, w]` frames in, firing rates `[N, Co, h, w]` out.
//!
//! Composed of separate ops, this layer writes and reads back the `[T, N, Co, h, w]`
//! currents and spikes (33 MiB each at the seed shape), and its gradient arrives as a
//! `[T, N, Co, h, w]` broadcast of the rates' gradient. Fused, each sample's frames are
//! convolved plane by plane straight into the neuron, and the backward pass recomputes the
//! currents of one output channel at a time in cache, runs the BPTT recursion there and
//! sums the weight gradient from the same planes ([`kernel`]). The rates are exact (spike
//! counts over T), so a Linear layer on them equals SpikingJelly's mean over T of the
//! Linear outputs (by linearity).
//!
//! The fused op runs on Flex (f32) for IF and LIF; elsewhere, and for ParametricLIF (whose
//! learnable leak the op does not differentiate), [`conv3x3_spike_rates`] is the
//! composition [`composed`].

mod kernel;
mod op;

use burn::tensor::Tensor;

use crate::conv::conv3x3;
use crate::neuron::{Implementation, NeuronError, NeuronModel, SpikingNeuron};

pub use op::SpikingConvOps;

/// `mean_t neuron(conv3x3(x[t], weight, bias))`: `x: [T, N, Ci, h, w]`, `weight: [Co, Ci, 3,
/// 3]`, `bias: [Co]` → `[N, Co, h, w]`, the neuron starting from rest. Fused where it can
/// be (see the module documentation).
///
/// # Panics
/// If `weight` is not `[Co, Ci, 3, 3]` for the `Ci` channels of `x`, or `bias` not `[Co]`.
pub fn conv3x3_spike_rates(
    x: Tensor<5>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    neuron: &SpikingNeuron,
) -> Result<Tensor<4>, NeuronError> {
    let fusable = !matches!(neuron.config.model, NeuronModel::ParametricLif { .. })
        && crate::fused::is_supported(&x.device(), x.dtype());
    if !fusable {
        return composed(x, weight, bias, neuron, Implementation::Fused);
    }
    neuron.config.validate()?;
    let [t, _, ci, _, _] = x.dims();
    if t == 0 {
        return Err(NeuronError::NoSteps(x.dims().to_vec()));
    }
    let [co, weight_ci, kh, kw] = weight.dims();
    assert_eq!(
        (weight_ci, kh, kw),
        (ci, 3, 3),
        "conv3x3_spike_rates: weight {:?} for input {:?}",
        weight.dims(),
        x.dims()
    );
    let bias = bias.unwrap_or_else(|| Tensor::zeros([co], &x.device()));
    assert_eq!(
        bias.dims(),
        [co],
        "conv3x3_spike_rates: bias for {co} channels"
    );
    Ok(op::conv3x3_spike_rates(
        x,
        weight,
        bias,
        neuron.config.dynamics(),
    ))
}

/// The same layer as separate ops: [`conv3x3`] on all frames, the neuron layer (with
/// `implementation`), the mean over T.
pub fn composed(
    x: Tensor<5>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    neuron: &SpikingNeuron,
    implementation: Implementation,
) -> Result<Tensor<4>, NeuronError> {
    let [t, n, ci, h, w] = x.dims();
    let co = weight.dims()[0];
    let currents = conv3x3(x.reshape([t * n, ci, h, w]), weight, bias);
    let spikes = neuron.forward_with(currents.reshape([t, n, co, h, w]), implementation)?;
    Ok(spikes.mean_dim(0).reshape([n, co, h, w]))
}
