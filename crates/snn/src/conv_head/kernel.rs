//! CPU kernels of the seed CNN fused: frames summed over T → 3×3 conv → ReLU → Linear.
//!
//! The Linear weight (`[Co·h·w, classes]`, 1.3 MB at the seed's shapes) does not fit in a
//! core's L2 cache, so the work is split by output channel, not by sample: each rayon task
//! owns one channel and its `[h·w, classes]` block of the Linear weight (40 kB). It
//! convolves the channel's plane of every sample in registers ([`output_plane`]) and
//! rectifies it into the channel's hidden activations `[N, h·w]` (128 kB, in L2), then
//! multiplies those by the block in one small gemm ([`matmul`]). The backward pass does the
//! same per channel: the planes' gradients are one gemm (scores' gradient × blockᵀ), masked
//! by the ReLU; the block's gradient is another (hiddenᵀ × scores' gradient); the conv taps'
//! gradient is summed from the planes' gradients ([`TapSums`]). Each channel's sums run in a
//! fixed order inside one task, and the scores add the channels' partial products in channel
//! order: results do not depend on the thread count.

use std::mem::MaybeUninit;

use multiversion::multiversion;
use rayon::prelude::*;

use crate::conv::kernel::{Dims, TapSums, output_plane, pad};
use crate::matmul::{Matrix, matmul};

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

    /// Values of one sample's zero-bordered summed frames.
    fn padded_len(&self) -> usize {
        self.dims.ci * self.dims.padded_plane()
    }

    /// Values of one channel's hidden activations (`N × h·w`).
    fn channel_len(&self) -> usize {
        self.dims.n * self.dims.plane()
    }

    /// Values of one channel's `[h·w, classes]` block of the Linear weight.
    fn block_len(&self) -> usize {
        self.dims.plane() * self.classes
    }

    /// Channel `o`'s `[h·w, classes]` block of the Linear weight `[features, classes]`.
    fn block<'a>(&self, fc_weight: &'a [f32], o: usize) -> Matrix<'a> {
        let len = self.block_len();
        Matrix::row_major(
            &fc_weight[o * len..][..len],
            self.dims.plane(),
            self.classes,
        )
    }

    /// Each sample's frames `x` (`[T, N, ci, h, w]`) summed over T (in step order) and
    /// zero-bordered: `[N, ci, h+2, w+2]`.
    fn summed_padded(&self, x: &[f32]) -> Vec<f32> {
        let frame = self.dims.ci * self.dims.plane();
        let mut padded = vec![0.0f32; self.dims.n * self.padded_len()];
        padded
            .par_chunks_mut(self.padded_len())
            .enumerate()
            .for_each_init(
                || vec![0.0f32; frame],
                |summed, (n, padded)| {
                    summed.copy_from_slice(&x[n * frame..][..frame]);
                    for t in 1..self.steps {
                        let values = &x[(t * self.dims.n + n) * frame..][..frame];
                        summed.iter_mut().zip(values).for_each(|(s, &v)| *s += v);
                    }
                    pad(summed, self.dims, padded);
                },
            );
        padded
    }
}

/// The parameters, as burn stores them.
pub struct Params<'a> {
    /// `[co, ci, 3, 3]`.
    pub conv_weight: &'a [f32],
    /// `[co]`.
    pub conv_bias: &'a [f32],
    /// `[features, classes]`.
    pub fc_weight: &'a [f32],
    /// `[classes]`.
    pub fc_bias: &'a [f32],
}

/// What [`forward`] computes.
#[derive(Debug, Clone)]
pub struct Forward {
    /// `[N, classes]`.
    pub scores: Vec<f32>,
    /// The rectified hidden activations, channel-major `[co, N, h·w]` (the backward pass
    /// needs them).
    pub hidden: Vec<f32>,
    /// Each sample's frames summed over T, zero-bordered: `[N, ci, h+2, w+2]` (the backward
    /// pass's input).
    pub padded: Vec<f32>,
}

/// Scores, hidden activations and summed frames of frames `x` (`[T, N, ci, h, w]`).
pub fn forward(x: &[f32], params: &Params, layout: Layout) -> Forward {
    let d = layout.dims;
    assert_eq!(x.len(), layout.steps * d.n * d.ci * d.plane());
    let padded = layout.summed_padded(x);
    let classes = layout.classes;
    // Each channel's partial scores `[N, classes]`, added up in channel order below.
    let mut partials = vec![0.0f32; d.co * d.n * classes];
    let hidden_len = d.n * layout.features();
    // Written in full below, plane by plane: no zero-filling of megabytes first.
    let mut hidden: Vec<f32> = Vec::with_capacity(hidden_len);
    partials
        .par_chunks_mut(d.n * classes)
        .zip(hidden.spare_capacity_mut()[..hidden_len].par_chunks_mut(layout.channel_len()))
        .enumerate()
        .for_each_init(
            || vec![0.0f32; d.plane()],
            |plane, (o, (partials, hidden))| {
                let hidden = channel_planes(o, &padded, params, layout, plane, hidden);
                let hidden = Matrix::row_major(hidden, d.n, d.plane());
                matmul(hidden, layout.block(params.fc_weight, o), partials);
            },
        );
    // SAFETY: every channel's `N·h·w` values were written by `channel_planes` above.
    unsafe { hidden.set_len(hidden_len) };
    let mut scores = vec![0.0f32; d.n * classes];
    for partials in partials.chunks_exact(d.n * classes) {
        scores.iter_mut().zip(partials).for_each(|(s, &p)| *s += p);
    }
    for sample in scores.chunks_exact_mut(classes) {
        sample
            .iter_mut()
            .zip(params.fc_bias)
            .for_each(|(s, &b)| *s += b);
    }
    Forward {
        scores,
        hidden,
        padded,
    }
}

/// Channel `o`'s rectified plane of every sample written into `out` (`[N, h·w]`), through
/// the L1-sized `plane` buffer; returns `out`, initialised.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn channel_planes<'a>(
    o: usize,
    padded: &[f32],
    params: &Params,
    layout: Layout,
    plane: &mut [f32],
    out: &'a mut [MaybeUninit<f32>],
) -> &'a [f32] {
    let d = layout.dims;
    assert!(
        out.len() == layout.channel_len()
            && padded.len() == d.n * layout.padded_len()
            && plane.len() == d.plane(),
        "channel_planes: buffer sizes"
    );
    let taps = d.ci * 9;
    let weights = &params.conv_weight[o * taps..][..taps];
    for (padded, out) in padded
        .chunks_exact(layout.padded_len())
        .zip(out.chunks_exact_mut(d.plane()))
    {
        output_plane(padded, weights, params.conv_bias[o], d, plane);
        out.iter_mut().zip(plane.iter()).for_each(|(out, &h)| {
            out.write(h.max(0.0));
        });
    }
    // SAFETY: the `N` planes tile `out` (`N·h·w` values, checked above), and each plane's
    // `h·w` values were written from `plane` (`h·w` long) above.
    unsafe { &*(out as *const [MaybeUninit<f32>] as *const [f32]) }
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
    let (features, classes, taps) = (layout.features(), layout.classes, d.ci * 9);
    assert_eq!(hidden.len(), d.n * features);
    assert_eq!(grad.len(), d.n * classes);
    let grad_matrix = Matrix::row_major(grad, d.n, classes);
    let mut conv_weight = vec![0.0f32; d.co * taps];
    let mut conv_bias = vec![0.0f32; d.co];
    let mut fc_weight = vec![0.0f32; features * classes];
    conv_weight
        .par_chunks_mut(taps)
        .zip(conv_bias.par_iter_mut())
        .zip(fc_weight.par_chunks_mut(layout.block_len()))
        .zip(hidden.par_chunks(layout.channel_len()))
        .enumerate()
        .for_each_init(
            || (vec![0.0f32; layout.channel_len()], TapSums::new(d.ci)),
            |(plane_grads, tap_sums), (o, (((conv_weight, conv_bias), fc_block), hidden))| {
                let hidden_matrix = Matrix::row_major(hidden, d.n, d.plane());
                matmul(hidden_matrix.t(), grad_matrix, fc_block);
                let block = layout.block(params.fc_weight, o);
                matmul(grad_matrix, block.t(), plane_grads);
                let mut sums = vec![0.0f64; taps + 1];
                channel_conv_gradient(padded, hidden, layout, (plane_grads, tap_sums), &mut sums);
                for (out, &sum) in conv_weight.iter_mut().zip(&sums) {
                    *out = sum as f32;
                }
                *conv_bias = sums[taps] as f32;
            },
        );
    Gradients {
        conv_weight,
        conv_bias,
        fc_weight,
        fc_bias: (0..classes)
            .map(|c| {
                grad.chunks_exact(classes)
                    .map(|g| f64::from(g[c]))
                    .sum::<f64>() as f32
            })
            .collect(),
    }
}

/// One channel's conv gradient: each sample's plane gradient (`plane_grads`, `[N, h·w]`)
/// masked by the ReLU (where `hidden > 0`), then its taps and bias summed into `sums`
/// (`[ci·9 + 1]`, `f64`, in sample order).
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn channel_conv_gradient(
    padded: &[f32],
    hidden: &[f32],
    layout: Layout,
    (plane_grads, tap_sums): (&mut [f32], &mut TapSums),
    sums: &mut [f64],
) {
    let d = layout.dims;
    let taps = d.ci * 9;
    for ((padded, hidden), plane_grad) in padded
        .chunks_exact(layout.padded_len())
        .zip(hidden.chunks_exact(d.plane()))
        .zip(plane_grads.chunks_exact_mut(d.plane()))
    {
        plane_grad
            .iter_mut()
            .zip(hidden)
            .for_each(|(g, &h)| *g = if h > 0.0 { *g } else { 0.0 });
        tap_sums.clear();
        tap_sums.add(padded, plane_grad, d);
        tap_sums.fold_into(&mut sums[..taps]);
        sums[taps] += tap_sums.bias_total();
    }
}
