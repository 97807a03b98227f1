//! The reference neuron: a composition of burn tensor ops, one time step at a time, with the
//! straight-through surrogate ([`Surrogate::spike`](crate::surrogate::Surrogate::spike)).
//!
//! It runs on every backend and differentiates through burn's autodiff. It is the definition
//! the fused op is tested against, and the path used where no fused op exists yet.

use burn::tensor::Tensor;

use super::{NeuronConfig, NeuronModel, Reset};

/// One step: `(X[t], V[t-1]) → (S[t], V[t])`. `w` is PLIF's weight `[1]`.
pub(crate) fn step<const D: usize>(
    config: &NeuronConfig,
    w: Option<&Tensor<1>>,
    x: Tensor<D>,
    v: Tensor<D>,
) -> (Tensor<D>, Tensor<D>) {
    let h = charge(config, w, v, x);
    let spike = config.surrogate.spike(h.clone() - config.v_threshold);
    let spike_in_reset = if config.detach_reset {
        spike.clone().detach()
    } else {
        spike.clone()
    };
    let v = match config.reset {
        Reset::Hard { v_reset } => {
            spike_in_reset.clone() * v_reset + (spike_in_reset.neg() + 1.0) * h
        }
        Reset::Soft => h - spike_in_reset * config.v_threshold,
    };
    (spike, v)
}

/// `T` steps over the first axis of `x`. Returns the spikes `[T, …]` and `V`: the whole
/// sequence `[T, …]` with `store_v_seq`, else the last step `[1, …]`.
pub(crate) fn multi_step<const D: usize>(
    config: &NeuronConfig,
    w: Option<&Tensor<1>>,
    x: Tensor<D>,
    v0: Tensor<D>,
    store_v_seq: bool,
) -> (Tensor<D>, Tensor<D>) {
    let steps = x.dims()[0];
    let mut spikes = Vec::with_capacity(steps);
    let mut v_seq = Vec::with_capacity(if store_v_seq { steps } else { 0 });
    let mut v = v0;
    for t in 0..steps {
        let (spike, next) = step(config, w, x.clone().narrow(0, t, 1), v);
        spikes.push(spike);
        if store_v_seq {
            v_seq.push(next.clone());
        }
        v = next;
    }
    let v_out = if store_v_seq {
        Tensor::cat(v_seq, 0)
    } else {
        v
    };
    (Tensor::cat(spikes, 0), v_out)
}

/// `H[t]` from `V[t-1]` and `X[t]` (IF, LIF or PLIF charge), in SpikingJelly's operation order.
fn charge<const D: usize>(
    config: &NeuronConfig,
    w: Option<&Tensor<1>>,
    v: Tensor<D>,
    x: Tensor<D>,
) -> Tensor<D> {
    let rest = config.rest();
    match config.model {
        NeuronModel::If => v + x,
        NeuronModel::Lif {
            tau,
            decay_input: true,
        } => v.clone() + (x - (v - rest)) / tau,
        NeuronModel::Lif {
            tau,
            decay_input: false,
        } => v.clone() - (v - rest) / tau + x,
        NeuronModel::ParametricLif { decay_input, .. } => {
            let w = w.expect("PLIF needs its weight; checked by the caller");
            let k: Tensor<D> = burn::tensor::activation::sigmoid(w.clone()).reshape([1; D]);
            if decay_input {
                v.clone() + (x - (v - rest)) * k
            } else {
                v.clone() - (v - rest) * k + x
            }
        }
    }
}
