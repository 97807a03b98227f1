//! The fused multi-step neuron kernels for the CPU: plain Rust over `f32` slices, no burn.
//!
//! Layout: a layer of `m` neurons over `steps` time steps is a row-major `[steps, m]` slice.
//! Work is split into blocks of [`BLOCK`] neighbouring neurons; each block runs all steps
//! with its membrane state in a small stack array (so it stays in L1), and blocks run in
//! parallel on rayon's pool. The inner loops walk contiguous rows, so they vectorise.
//!
//! The backward pass needs the charged potentials `H[t]`. Rather than writing them to memory
//! in the forward pass and reading them back (8 bytes of traffic per neuron-step), it
//! recomputes them block by block from the input `X` and the initial state, bit for bit, into
//! a block-sized buffer that stays in cache; the spikes `S[t] = Θ(H[t] − θ)` and, for PLIF,
//! the previous potential `V[t-1]` follow from `H`.

use std::mem::MaybeUninit;

use multiversion::multiversion;
use rayon::prelude::*;

use super::dynamics::{ChargeRule, Dynamics, with_charge_rule};
use crate::surrogate::with_derivative;

/// Neurons per block of work: 4 KiB of state, one rayon task.
pub const BLOCK: usize = 1024;

/// Outputs of [`forward`], row-major, written in full (they may start uninitialised).
pub struct ForwardOutputs<'a> {
    /// `S[t]`, `[steps, m]`.
    pub spikes: &'a mut [MaybeUninit<f32>],
    /// `V[t]` for every step (`[steps, m]`), only the last (`[m]`), or none.
    pub v: Option<&'a mut [MaybeUninit<f32>]>,
}

/// Runs `steps` steps of a neuron layer of `v0.len()` neurons from the state `v0`.
///
/// `x` is `[steps, m]`. Whether `outputs.v` holds the whole sequence or only the last step
/// is read from its length. Every element of the outputs is written.
pub fn forward(dynamics: &Dynamics, x: &[f32], v0: &[f32], steps: usize, outputs: ForwardOutputs) {
    with_charge_rule!(dynamics, rule => forward_with(rule, dynamics, x, v0, steps, outputs))
}

fn forward_with<R: ChargeRule>(
    rule: R,
    dynamics: &Dynamics,
    x: &[f32],
    v0: &[f32],
    steps: usize,
    outputs: ForwardOutputs,
) {
    let m = v0.len();
    assert_eq!(
        x.len(),
        steps * m,
        "fused neuron forward: input is not [steps, m]"
    );
    assert_eq!(outputs.spikes.len(), steps * m);
    let v_len = outputs.v.as_ref().map_or(0, |v| v.len());
    let store_v_seq = v_len == steps * m && steps != 1;
    assert!(store_v_seq || v_len == m || v_len == 0);
    if m == 0 || steps == 0 {
        return;
    }

    let spike_blocks = column_blocks(outputs.spikes, m);
    let v_blocks: Vec<Option<Vec<&mut [MaybeUninit<f32>]>>> = match outputs.v {
        Some(v) => column_blocks(v, m).into_iter().map(Some).collect(),
        None => (0..spike_blocks.len()).map(|_| None).collect(),
    };

    spike_blocks
        .into_par_iter()
        .zip(v_blocks)
        .enumerate()
        .for_each(|(index, (mut spikes, mut v_rows))| {
            let block = Block::new(index, m, spikes[0].len());
            forward_block(
                rule,
                *dynamics,
                (x, v0),
                steps,
                block,
                &mut spikes,
                v_rows.as_deref_mut().map(|rows| (rows, store_v_seq)),
            )
        });
}

/// The neurons `[start, start + len)` of a layer of `m`: one block of work.
#[derive(Debug, Clone, Copy)]
struct Block {
    start: usize,
    len: usize,
    m: usize,
}

impl Block {
    fn new(index: usize, m: usize, len: usize) -> Self {
        Self {
            start: index * BLOCK,
            len,
            m,
        }
    }

    /// The block's part of row `t` of a `[steps, m]` buffer.
    #[inline(always)]
    fn row(&self, t: usize) -> std::ops::Range<usize> {
        t * self.m + self.start..t * self.m + self.start + self.len
    }
}

/// All steps of one block. `rule` and `dynamics` arrive by value: the loops must see them
/// as constants, not as memory the output writes might change, or they neither hoist nor
/// vectorise. `v_rows` is the `V` output with whether it holds every step.
///
/// Compiled for AVX-512 and AVX2+FMA besides the baseline, chosen at run time; the results
/// are bit-identical (the same IEEE operations; Rust never fuses a multiply and an add).
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn forward_block<R: ChargeRule>(
    rule: R,
    dynamics: Dynamics,
    (x, v0): (&[f32], &[f32]),
    steps: usize,
    block: Block,
    spikes: &mut [&mut [MaybeUninit<f32>]],
    mut v_rows: Option<(&mut [&mut [MaybeUninit<f32>]], bool)>,
) {
    let mut state = [0.0f32; BLOCK];
    let state = &mut state[..block.len];
    state.copy_from_slice(&v0[block.start..block.start + block.len]);
    for (t, spike_row) in spikes.iter_mut().enumerate().take(steps) {
        for ((v, &x), s) in state
            .iter_mut()
            .zip(&x[block.row(t)])
            .zip(spike_row.iter_mut())
        {
            let (spike, next) = dynamics.fire_and_reset(rule.charge(*v, x));
            s.write(spike);
            *v = next;
        }
        if let Some((rows, true)) = v_rows.as_mut() {
            write_row(rows[t], state);
        }
    }
    if let Some((rows, false)) = v_rows {
        write_row(rows[0], state);
    }
}

/// Gradients written by [`backward`], row-major, written in full.
pub struct BackwardOutputs<'a> {
    /// `∂L/∂X`, `[steps, m]`.
    pub grad_x: &'a mut [MaybeUninit<f32>],
    /// `∂L/∂V[-1]`, `[m]`.
    pub grad_v0: &'a mut [MaybeUninit<f32>],
}

/// SpikingJelly's closed-form BPTT recursion over `steps` steps.
///
/// `x` (`[steps, m]`) and `v0` (`[m]`) are the forward inputs, from which `H` is recomputed.
/// `grad_out` is the gradient of the forward output `[S; V]`: `[steps + steps_v, m]` with
/// `steps_v = steps` when the whole `V` sequence was returned, 1 for the last step only, 0 for
/// the spikes alone. Returns `Σ ∂L/∂H[t]·∂H[t]/∂k` over all neurons and steps (PLIF's `k`;
/// 0 for IF and LIF).
pub fn backward(
    dynamics: &Dynamics,
    x: &[f32],
    v0: &[f32],
    grad_out: &[f32],
    steps: usize,
    outputs: BackwardOutputs,
) -> f64 {
    with_charge_rule!(dynamics, rule => with_derivative!(dynamics.surrogate, slope => {
        backward_with(rule, slope, dynamics, x, v0, grad_out, steps, outputs)
    }))
}

#[allow(clippy::too_many_arguments)] // the two monomorphised rules plus backward's own inputs
fn backward_with<R, F>(
    rule: R,
    slope_of: F,
    dynamics: &Dynamics,
    x: &[f32],
    v0: &[f32],
    grad_out: &[f32],
    steps: usize,
    outputs: BackwardOutputs,
) -> f64
where
    R: ChargeRule,
    F: Fn(f32) -> f32 + Sync,
{
    let m = v0.len();
    assert_eq!(
        x.len(),
        steps * m,
        "fused neuron backward: input is not [steps, m]"
    );
    assert_eq!(outputs.grad_x.len(), steps * m);
    assert_eq!(outputs.grad_v0.len(), m);
    let steps_v = grad_out.len() / m.max(1) - steps;
    assert!(
        steps_v == steps || steps_v <= 1,
        "fused neuron backward: bad gradient shape"
    );
    if m == 0 || steps == 0 {
        return 0.0;
    }
    let (grad_spikes, grad_v) = grad_out.split_at(steps * m);

    let grad_x_blocks = column_blocks(outputs.grad_x, m);
    let grad_v0_blocks = column_blocks(outputs.grad_v0, m);

    let upstream = Upstream {
        spikes: grad_spikes,
        v: grad_v,
        steps_v,
    };
    grad_x_blocks
        .into_par_iter()
        .zip(grad_v0_blocks)
        .enumerate()
        .map(|(index, (mut grad_x, mut grad_v0))| {
            let block = Block::new(index, m, grad_x[0].len());
            backward_block(
                rule,
                &slope_of,
                *dynamics,
                (x, v0),
                &upstream,
                steps,
                block,
                (&mut grad_x, &mut *grad_v0[0]),
            )
        })
        .sum()
}

/// The gradient arriving at the forward output `[S; V]`.
struct Upstream<'a> {
    /// `∂L/∂S`, `[steps, m]`.
    spikes: &'a [f32],
    /// `∂L/∂V`, `[steps_v, m]`.
    v: &'a [f32],
    /// 0, 1 or `steps`.
    steps_v: usize,
}

/// The backward pass of one block: recompute `H`, then the BPTT recursion. Returns the
/// block's `Σ ∂L/∂H·∂H/∂k`. Multiversioned as [`forward_block`].
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)] // the monomorphised rules, the inputs, the outputs
fn backward_block<R: ChargeRule, F: Fn(f32) -> f32>(
    rule: R,
    slope_of: &F,
    dynamics: Dynamics,
    (x, v0): (&[f32], &[f32]),
    upstream: &Upstream,
    steps: usize,
    block: Block,
    (grad_x, grad_v0): (&mut [&mut [MaybeUninit<f32>]], &mut [MaybeUninit<f32>]),
) -> f64 {
    let len = block.len;
    let theta = dynamics.v_threshold;

    // Recompute H for this block into a cache-resident buffer: `charged[t * len + j]`.
    let mut charged = vec![0.0f32; steps * len];
    let mut state = [0.0f32; BLOCK];
    let state = &mut state[..len];
    state.copy_from_slice(&v0[block.start..block.start + len]);
    for (t, h_row) in charged.chunks_exact_mut(len).enumerate() {
        for ((v, &x), h_out) in state.iter_mut().zip(&x[block.row(t)]).zip(h_row) {
            let h = rule.charge(*v, x);
            *h_out = h;
            *v = dynamics.fire_and_reset(h).1;
        }
    }

    let no_gradient = [0.0f32; BLOCK];
    let mut carry = [0.0f32; BLOCK];
    let carry = &mut carry[..len];
    let mut grad_k = [0.0f32; BLOCK];
    let grad_k = &mut grad_k[..len];
    for t in (0..steps).rev() {
        let h_row = &charged[t * len..(t + 1) * len];
        let gs_row = &upstream.spikes[block.row(t)];
        let external_v = if upstream.steps_v == steps {
            &upstream.v[block.row(t)]
        } else if upstream.steps_v == 1 && t == steps - 1 {
            &upstream.v[block.row(0)]
        } else {
            &no_gradient[..len]
        };
        let grad_x_row = &mut *grad_x[t];
        for j in 0..len {
            let h = h_row[j];
            let slope = slope_of(h - theta);
            let reset = dynamics.reset_derivative(h, slope);
            let grad_h = gs_row[j] * slope + (external_v[j] + carry[j]) * reset;
            let (gx, gv) = rule.split_gradient(grad_h);
            grad_x_row[j].write(gx);
            carry[j] = gv;
            if R::PARAMETRIC {
                let v_prev = if t > 0 {
                    dynamics.fire_and_reset(charged[(t - 1) * len + j]).1
                } else {
                    v0[block.start + j]
                };
                let x = x[block.row(t)][j];
                grad_k[j] += grad_h * rule.k_derivative(v_prev, x);
            }
        }
    }
    write_row(grad_v0, carry);
    grad_k.iter().map(|&g| f64::from(g)).sum::<f64>()
}

/// Copies `values` into an output row.
fn write_row(row: &mut [MaybeUninit<f32>], values: &[f32]) {
    for (slot, &value) in row.iter_mut().zip(values) {
        slot.write(value);
    }
}

/// Splits a row-major `[rows, width]` buffer into column blocks of [`BLOCK`] columns: block
/// `b` is the list of its row pieces, so blocks can be written from different threads.
fn column_blocks<T>(data: &mut [T], width: usize) -> Vec<Vec<&mut [T]>> {
    let rows = data.len() / width;
    let mut blocks: Vec<Vec<&mut [T]>> = (0..width.div_ceil(BLOCK))
        .map(|_| Vec::with_capacity(rows))
        .collect();
    for row in data.chunks_mut(width) {
        for (block, piece) in blocks.iter_mut().zip(row.chunks_mut(BLOCK)) {
            block.push(piece);
        }
    }
    blocks
}
