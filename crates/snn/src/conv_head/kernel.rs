//! CPU kernels of the seed CNN fused: frames summed over T → 3×3 conv → ReLU → Linear.
//!
//! One rayon task per sample: its frames are summed and zero-bordered once, then each output
//! channel's plane is convolved in registers ([`output_plane`]), rectified, stored as the
//! hidden activation (the backward pass needs it) and dotted with the Linear weight's rows
//! while still in L1. The backward pass rebuilds a plane's gradient from the scores'
//! gradient and the Linear weight, masks it with the ReLU and sums the conv weight gradient
//! from it ([`TapSums`]); the Linear weight gradient is `hiddenᵀ · grad`, summed over samples
//! in sample order. Per-sample `f64` sums are added in sample order: results do not depend
//! on the thread count.

use std::mem::MaybeUninit;

use multiversion::multiversion;
use rayon::prelude::*;

use crate::conv::kernel::{Dims, TapSums, output_plane, pad, weight_and_bias};

/// The sizes of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Time steps summed.
    pub steps: usize,
    /// The convolution (`dims.n` samples).
    pub dims: Dims,
    /// Classes of the Linear layer.
    pub classes: usize,
}

impl Layout {
    /// Hidden features per sample: `co·h·w`.
    pub fn features(&self) -> usize {
        self.dims.co * self.dims.plane()
    }

    /// Sums sample `n`'s frames over T (in step order) and zero-borders the sum into `padded`.
    fn summed_padded(&self, x: &[f32], n: usize, summed: &mut [f32], padded: &mut [f32]) {
        let frame = self.dims.ci * self.dims.plane();
        summed.copy_from_slice(&x[n * frame..][..frame]);
        for t in 1..self.steps {
            let values = &x[(t * self.dims.n + n) * frame..][..frame];
            summed.iter_mut().zip(values).for_each(|(s, &v)| *s += v);
        }
        pad(summed, self.dims, padded);
    }
}

/// The parameters, with the Linear weight transposed to `[classes, features]` so that each
/// class's weights over one hidden plane are contiguous.
pub struct Params<'a> {
    /// `[co, ci, 3, 3]`.
    pub conv_weight: &'a [f32],
    /// `[co]`.
    pub conv_bias: &'a [f32],
    /// `[classes, features]`.
    pub fc_weight_t: Vec<f32>,
    /// `[classes]`.
    pub fc_bias: &'a [f32],
}

/// `[features, classes]` → `[classes, features]`, in blocks of features small enough that
/// the rows read stay in L1 while each class's run is written contiguously.
pub fn transpose(weight: &[f32], features: usize, classes: usize) -> Vec<f32> {
    const BLOCK: usize = 64;
    let mut t = vec![0.0; weight.len()];
    for (block, rows) in weight.chunks(BLOCK * classes).enumerate() {
        let start = block * BLOCK;
        for (c, out) in t.chunks_exact_mut(features).enumerate() {
            let out = &mut out[start..][..rows.len() / classes];
            for (value, row) in out.iter_mut().zip(rows.chunks_exact(classes)) {
                *value = row[c];
            }
        }
    }
    t
}

/// What [`forward`] computes.
#[derive(Debug, Clone)]
pub struct Forward {
    /// `[N, classes]`.
    pub scores: Vec<f32>,
    /// The rectified hidden activations `[N, features]` (the backward pass needs them).
    pub hidden: Vec<f32>,
    /// Each sample's frames summed over T, zero-bordered: `[N, ci, h+2, w+2]` (the backward
    /// pass's input).
    pub padded: Vec<f32>,
}

/// Scores, hidden activations and summed frames of frames `x` (`[T, N, ci, h, w]`).
pub fn forward(x: &[f32], params: &Params, layout: Layout) -> Forward {
    let d = layout.dims;
    assert_eq!(x.len(), layout.steps * d.n * d.ci * d.plane());
    let padded_len = d.ci * d.padded_plane();
    let mut scores = vec![0.0f32; d.n * layout.classes];
    let mut padded = vec![0.0f32; d.n * padded_len];
    let hidden_len = d.n * layout.features();
    // Written in full below, plane by plane: no zero-filling of megabytes first.
    let mut hidden: Vec<f32> = Vec::with_capacity(hidden_len);
    scores
        .par_chunks_mut(layout.classes)
        .zip(hidden.spare_capacity_mut()[..hidden_len].par_chunks_mut(layout.features()))
        .zip(padded.par_chunks_mut(padded_len))
        .enumerate()
        .for_each_init(
            || (vec![0.0f32; d.ci * d.plane()], vec![0.0f32; d.plane()]),
            |(summed, plane), (n, ((scores, hidden), padded))| {
                layout.summed_padded(x, n, summed, padded);
                forward_sample(padded, params, layout, (plane, hidden), scores);
            },
        );
    // SAFETY: every sample's `features` values were written, plane by plane, above.
    unsafe { hidden.set_len(hidden_len) };
    Forward {
        scores,
        hidden,
        padded,
    }
}

#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn forward_sample(
    padded: &[f32],
    params: &Params,
    layout: Layout,
    (plane_values, hidden): (&mut [f32], &mut [MaybeUninit<f32>]),
    scores: &mut [f32],
) {
    let d = layout.dims;
    let (plane, taps, features) = (d.plane(), d.ci * 9, layout.features());
    let mut sums = vec![0.0f32; layout.classes];
    for (o, hidden) in hidden.chunks_exact_mut(plane).enumerate() {
        output_plane(
            padded,
            &params.conv_weight[o * taps..][..taps],
            params.conv_bias[o],
            d,
            plane_values,
        );
        plane_values.iter_mut().for_each(|h| *h = h.max(0.0));
        for (slot, &value) in hidden.iter_mut().zip(plane_values.iter()) {
            slot.write(value);
        }
        for (c, sum) in sums.iter_mut().enumerate() {
            *sum += dot(
                plane_values,
                &params.fc_weight_t[c * features + o * plane..][..plane],
            );
        }
    }
    for ((score, sum), &bias) in scores.iter_mut().zip(&sums).zip(params.fc_bias) {
        *score = sum + bias;
    }
}

/// `Σ a·b` in 16 independent lanes (so that it vectorises).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut lanes = [0.0f32; LANES];
    let (mut a_chunks, mut b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    for (a, b) in (&mut a_chunks).zip(&mut b_chunks) {
        for l in 0..LANES {
            lanes[l] += a[l] * b[l];
        }
    }
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(a, b)| a * b)
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// Gradients of [`backward`].
pub struct Gradients {
    /// `[co, ci, 3, 3]`.
    pub conv_weight: Vec<f32>,
    /// `[co]`.
    pub conv_bias: Vec<f32>,
    /// `[features, classes]`.
    pub fc_weight: Vec<f32>,
    /// `[classes]`.
    pub fc_bias: Vec<f32>,
}

/// The backward pass of [`forward`] from the scores' gradient `grad` (`[N, classes]`), given
/// its summed frames `padded` and hidden activations.
pub fn backward(
    padded: &[f32],
    params: &Params,
    hidden: &[f32],
    grad: &[f32],
    layout: Layout,
) -> Gradients {
    let d = layout.dims;
    let (features, classes) = (layout.features(), layout.classes);
    assert_eq!(hidden.len(), d.n * features);
    assert_eq!(grad.len(), d.n * classes);
    let conv_len = d.co * d.ci * 9;
    let partials: Vec<Vec<f64>> = grad
        .par_chunks(classes)
        .zip(hidden.par_chunks(features))
        .zip(padded.par_chunks(d.ci * d.padded_plane()))
        .map_init(
            || (vec![0.0f32; d.plane()], TapSums::new(d.ci)),
            |(plane_grad, tap_sums), ((grad, hidden), padded)| {
                let mut sums = vec![0.0f64; conv_len + d.co];
                backward_sample(
                    padded,
                    params,
                    (grad, hidden),
                    layout,
                    (plane_grad, tap_sums),
                    &mut sums,
                );
                sums
            },
        )
        .collect();
    let (conv_weight, conv_bias) = weight_and_bias(&partials, conv_len);
    Gradients {
        conv_weight,
        conv_bias,
        fc_weight: fc_weight_gradient(hidden, grad, layout),
        fc_bias: (0..classes)
            .map(|c| {
                grad.chunks_exact(classes)
                    .map(|g| f64::from(g[c]))
                    .sum::<f64>() as f32
            })
            .collect(),
    }
}

/// One sample: per output channel, `∂L/∂hidden = Σ_c grad[c]·W[c]` over the plane, masked by
/// the ReLU, then its conv taps and bias sums into `sums` (`[co·ci·9 + co]`).
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn backward_sample(
    padded: &[f32],
    params: &Params,
    (grad, hidden): (&[f32], &[f32]),
    layout: Layout,
    (plane_grad, tap_sums): (&mut [f32], &mut TapSums),
    sums: &mut [f64],
) {
    let d = layout.dims;
    let (plane, taps, features) = (d.plane(), d.ci * 9, layout.features());
    for (o, hidden) in hidden.chunks_exact(plane).enumerate() {
        plane_grad.fill(0.0);
        for (c, &g) in grad.iter().enumerate() {
            let weights = &params.fc_weight_t[c * features + o * plane..][..plane];
            plane_grad
                .iter_mut()
                .zip(weights)
                .for_each(|(p, &w)| *p += g * w);
        }
        plane_grad
            .iter_mut()
            .zip(hidden)
            .for_each(|(p, &h)| *p = if h > 0.0 { *p } else { 0.0 });
        tap_sums.clear();
        tap_sums.add(padded, plane_grad, d);
        tap_sums.fold_into(&mut sums[o * taps..][..taps]);
        sums[d.co * taps + o] += tap_sums.bias_total();
    }
}

/// `∂L/∂W[f, c] = Σ_n hidden[n, f]·grad[n, c]`, summed in sample order, as `[features,
/// classes]`: in parallel over blocks of features, each summed per class over contiguous
/// hidden rows, then interleaved.
fn fc_weight_gradient(hidden: &[f32], grad: &[f32], layout: Layout) -> Vec<f32> {
    const BLOCK: usize = 2048;
    let (features, classes) = (layout.features(), layout.classes);
    let mut weight = vec![0.0f32; features * classes];
    weight
        .par_chunks_mut(BLOCK * classes)
        .enumerate()
        .for_each(|(block, out)| {
            let (start, len) = (block * BLOCK, out.len() / classes);
            let mut per_class = vec![0.0f32; classes * len];
            for (hidden, grad) in hidden
                .chunks_exact(features)
                .zip(grad.chunks_exact(classes))
            {
                for (sums, &g) in per_class.chunks_exact_mut(len).zip(grad) {
                    axpy(sums, g, &hidden[start..][..len]);
                }
            }
            for (c, sums) in per_class.chunks_exact(len).enumerate() {
                for (f, &value) in sums.iter().enumerate() {
                    out[f * classes + c] = value;
                }
            }
        });
    weight
}

#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn axpy(out: &mut [f32], a: f32, x: &[f32]) {
    out.iter_mut().zip(x).for_each(|(o, &x)| *o += a * x);
}
