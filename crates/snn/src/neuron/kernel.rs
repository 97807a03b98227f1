//! The fused multi-step neuron kernels for the CPU: plain Rust over `f32` slices, no burn.
//!
//! Layout: a layer of `m` neurons over `steps` time steps is a row-major `[steps, m]` slice.
//! Work is split into blocks of [`BLOCK`] neighbouring neurons; each block runs all steps
//! with its membrane state in a small stack array (so it stays in L1), and blocks run in
//! parallel on rayon's pool. The inner loops walk contiguous rows, so they vectorise.
//!
//! The forward pass saves only the charged potential `H[t]` (4 bytes per neuron-step): the
//! backward pass recomputes the spikes `S[t] = Θ(H[t] − θ)` and, for PLIF, the previous
//! potential `V[t-1]` from it, bit for bit, instead of keeping a graph per step.

use rayon::prelude::*;

use super::dynamics::Dynamics;
use crate::surrogate::with_derivative;

/// Neurons per block of work: 4 KiB of state, one rayon task.
pub const BLOCK: usize = 1024;

/// Outputs of [`forward`], all row-major.
pub struct ForwardOutputs<'a> {
    /// `S[t]`, `[steps, m]`.
    pub spikes: &'a mut [f32],
    /// `V[t]` for every step (`[steps, m]`) or only the last (`[m]`).
    pub v: &'a mut [f32],
    /// `H[t]`, `[steps, m]`, when the backward pass will need it.
    pub charged: Option<&'a mut [f32]>,
}

/// Runs `steps` steps of a neuron layer of `v0.len()` neurons from the state `v0`.
///
/// `x` is `[steps, m]`. Whether `outputs.v` holds the whole sequence or only the last step
/// is read from its length.
pub fn forward(dynamics: &Dynamics, x: &[f32], v0: &[f32], steps: usize, outputs: ForwardOutputs) {
    let m = v0.len();
    assert_eq!(
        x.len(),
        steps * m,
        "fused neuron forward: input is not [steps, m]"
    );
    assert_eq!(outputs.spikes.len(), steps * m);
    let store_v_seq = outputs.v.len() == steps * m && steps != 1;
    assert!(store_v_seq || outputs.v.len() == m);
    if m == 0 || steps == 0 {
        return;
    }

    let spike_blocks = column_blocks(outputs.spikes, m);
    let v_blocks = column_blocks(outputs.v, m);
    let charged_blocks = optional_column_blocks(outputs.charged, m);

    spike_blocks
        .into_par_iter()
        .zip(v_blocks)
        .zip(charged_blocks)
        .enumerate()
        .for_each(|(block, ((mut spikes, mut v_rows), mut charged))| {
            let start = block * BLOCK;
            let len = spikes[0].len();
            let mut state = [0.0f32; BLOCK];
            let state = &mut state[..len];
            state.copy_from_slice(&v0[start..start + len]);

            for t in 0..steps {
                let x_row = &x[t * m + start..t * m + start + len];
                let spike_row = &mut *spikes[t];
                match charged.as_mut() {
                    Some(charged) => {
                        let h_row = &mut *charged[t];
                        for (((v, &x), s), h_out) in
                            state.iter_mut().zip(x_row).zip(spike_row).zip(h_row)
                        {
                            let h = dynamics.charge(*v, x);
                            let (spike, next) = dynamics.fire_and_reset(h);
                            *h_out = h;
                            *s = spike;
                            *v = next;
                        }
                    }
                    None => {
                        for ((v, &x), s) in state.iter_mut().zip(x_row).zip(spike_row) {
                            let h = dynamics.charge(*v, x);
                            let (spike, next) = dynamics.fire_and_reset(h);
                            *s = spike;
                            *v = next;
                        }
                    }
                }
                if store_v_seq {
                    v_rows[t].copy_from_slice(state);
                }
            }
            if !store_v_seq {
                v_rows[0].copy_from_slice(state);
            }
        });
}

/// What the PLIF backward pass needs besides `H`: the input and the initial state.
pub struct PlifInputs<'a> {
    /// `X`, `[steps, m]`.
    pub x: &'a [f32],
    /// `V[-1]`, `[m]`.
    pub v0: &'a [f32],
}

/// Gradients written by [`backward`].
pub struct BackwardOutputs<'a> {
    /// `∂L/∂X`, `[steps, m]`.
    pub grad_x: &'a mut [f32],
    /// `∂L/∂V[-1]`, `[m]`.
    pub grad_v0: &'a mut [f32],
}

/// The closed-form BPTT recursion of spec §1.5 over `steps` steps.
///
/// `charged` is `H`, `[steps, m]`. `grad_out` is the gradient of the forward output
/// `[S; V]`: `[steps + steps_v, m]` with `steps_v = steps` when the whole `V` sequence was
/// returned, else 1. Returns `Σ ∂L/∂H[t]·∂H[t]/∂k` over all neurons and steps (PLIF's `k`;
/// 0 for IF and LIF).
pub fn backward(
    dynamics: &Dynamics,
    charged: &[f32],
    grad_out: &[f32],
    steps: usize,
    plif: Option<PlifInputs>,
    outputs: BackwardOutputs,
) -> f64 {
    with_derivative!(dynamics.surrogate, slope => {
        backward_with(dynamics, slope, charged, grad_out, steps, plif, outputs)
    })
}

fn backward_with<F>(
    dynamics: &Dynamics,
    slope_of: F,
    charged: &[f32],
    grad_out: &[f32],
    steps: usize,
    plif: Option<PlifInputs>,
    outputs: BackwardOutputs,
) -> f64
where
    F: Fn(f32) -> f32 + Sync,
{
    let m = outputs.grad_v0.len();
    assert_eq!(
        charged.len(),
        steps * m,
        "fused neuron backward: H is not [steps, m]"
    );
    assert_eq!(outputs.grad_x.len(), steps * m);
    let steps_v = grad_out.len() / m.max(1) - steps;
    assert!(
        steps_v == steps || steps_v == 1,
        "fused neuron backward: bad gradient shape"
    );
    if m == 0 || steps == 0 {
        return 0.0;
    }
    let (grad_spikes, grad_v) = grad_out.split_at(steps * m);
    let theta = dynamics.v_threshold;

    let grad_x_blocks = column_blocks(outputs.grad_x, m);
    let grad_v0_blocks = column_blocks(outputs.grad_v0, m);

    grad_x_blocks
        .into_par_iter()
        .zip(grad_v0_blocks)
        .enumerate()
        .map(|(block, (mut grad_x, mut grad_v0))| {
            let start = block * BLOCK;
            let len = grad_x[0].len();
            let mut carry = [0.0f32; BLOCK];
            let carry = &mut carry[..len];
            let mut grad_k = [0.0f32; BLOCK];
            let grad_k = &mut grad_k[..len];

            for t in (0..steps).rev() {
                let (a, b) = (t * m + start, t * m + start + len);
                let h_row = &charged[a..b];
                let gs_row = &grad_spikes[a..b];
                let external_v = if steps_v == steps {
                    Some(&grad_v[a..b])
                } else if t == steps - 1 {
                    Some(&grad_v[start..start + len])
                } else {
                    None
                };
                let grad_x_row = &mut *grad_x[t];
                for j in 0..len {
                    let h = h_row[j];
                    let slope = slope_of(h - theta);
                    let reset = dynamics.reset_derivative(h, slope);
                    let through_v = external_v.map_or(0.0, |g| g[j]) + carry[j];
                    let grad_h = gs_row[j] * slope + through_v * reset;
                    let (gx, gv) = dynamics.split_charge_gradient(grad_h);
                    grad_x_row[j] = gx;
                    carry[j] = gv;
                    if let Some(inputs) = &plif {
                        let v_prev = if t > 0 {
                            dynamics.fire_and_reset(charged[a - m + j]).1
                        } else {
                            inputs.v0[start + j]
                        };
                        grad_k[j] += grad_h * dynamics.charge_k_derivative(v_prev, inputs.x[a + j]);
                    }
                }
            }
            grad_v0[0].copy_from_slice(carry);
            grad_k.iter().map(|&g| f64::from(g)).sum::<f64>()
        })
        .sum()
}

/// Splits a row-major `[rows, width]` buffer into column blocks of [`BLOCK`] columns: block
/// `b` is the list of its row pieces, so blocks can be written from different threads.
fn column_blocks(data: &mut [f32], width: usize) -> Vec<Vec<&mut [f32]>> {
    let rows = data.len() / width;
    let mut blocks: Vec<Vec<&mut [f32]>> = (0..width.div_ceil(BLOCK))
        .map(|_| Vec::with_capacity(rows))
        .collect();
    for row in data.chunks_mut(width) {
        for (block, piece) in blocks.iter_mut().zip(row.chunks_mut(BLOCK)) {
            block.push(piece);
        }
    }
    blocks
}

/// [`column_blocks`] of an optional buffer; `None` gives one `None` per block.
fn optional_column_blocks(data: Option<&mut [f32]>, width: usize) -> Vec<Option<Vec<&mut [f32]>>> {
    match data {
        Some(data) => column_blocks(data, width).into_iter().map(Some).collect(),
        None => (0..width.div_ceil(BLOCK)).map(|_| None).collect(),
    }
}
