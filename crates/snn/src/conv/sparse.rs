//! The 3×3 convolution of sparse inputs (spikes, or average-pooled spikes: mostly zeros) as
//! sums of weight rows: each non-zero input adds its value times its channel's nine weight
//! rows (`[co]`, channel-last) to the output positions it feeds, and in the weight gradient
//! its value times the output-gradient rows of those positions to its channel's nine taps.
//! No work for silent inputs: for inputs of which a fraction ρ is non-zero, the forward and
//! weight-gradient passes do about ρ of the dense work. The input gradient (a dense output
//! gradient) stays with the gemm kernels.
//!
//! Each term is one fused multiply-add (for a spike, `1·w + acc`, exactly the sum
//! `acc + w`). Every output sums its terms in ascending (input channel, tap) order, the
//! order of the definition; the weight gradient sums runs of up to [`TERMS_PER_F32_SUM`]
//! active inputs in `f32` and those in `f64`, in fixed blocks of frames, so results do not
//! depend on the thread count.

use multiversion::multiversion;
use rayon::prelude::*;

use super::kernel::{Dims, weight_and_bias};
use super::layout::{channel_last, channel_major};

/// The largest fraction of non-zero inputs at which the sparse kernels run; above it the
/// gemm kernels, at several times the arithmetic rate, are faster.
pub const MAX_ACTIVE_RATE: f64 = 0.25;

/// Frames per task of the weight gradient (fixed: the sum order does not depend on threads).
const FRAMES_PER_BLOCK: usize = 8;

/// Output values per band of the forward pass's channel-last accumulator (1 MiB at most), so
/// that large feature maps are accumulated a band of rows at a time, in cache.
const BAND_VALUES: usize = 1 << 18;

/// Whether at most [`MAX_ACTIVE_RATE`] of the values of `x` are non-zero. Runs on every
/// forward pass of a wide convolution, so a dense input stops the count as soon as it has
/// passed the limit.
pub fn is_sparse(x: &[f32]) -> bool {
    let limit = MAX_ACTIVE_RATE * x.len() as f64;
    let mut active = 0usize;
    for chunk in x.chunks(1 << 12) {
        active += chunk.iter().filter(|&&v| v != 0.0).count();
        if active as f64 > limit {
            return false;
        }
    }
    true
}

/// The row-major `rows × cols` matrix `values` transposed (`cols × rows`), one task per
/// output row: the weight `[co, ci·9]` to the channel-last `[ci·9, co]` rows that each
/// (input channel, tap) adds, and the weight gradient back.
fn transposed(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; values.len()];
    out.par_chunks_mut(rows)
        .enumerate()
        .for_each(|(c, column)| {
            for (r, value) in column.iter_mut().enumerate() {
                *value = values[r * cols + c];
            }
        });
    out
}

/// The output positions `(oy, ox)` that the input position `(y, x)` feeds through each tap
/// `k = kh·3 + kw` (`oy = y + 1 − kh`, `ox = x + 1 − kw`), for output rows `rows`, in
/// ascending tap order.
fn fed(
    y: usize,
    x: usize,
    rows: std::ops::Range<usize>,
    w: usize,
) -> impl Iterator<Item = (usize, usize, usize)> {
    (0..9).filter_map(move |k| {
        let (oy, ox) = ((y + 1).checked_sub(k / 3)?, (x + 1).checked_sub(k % 3)?);
        (rows.contains(&oy) && ox < w).then_some((k, oy, ox))
    })
}

/// `out = conv(x, weight) + bias` for sparse `x`, as [`super::kernel::forward`].
pub fn forward(x: &[f32], weight: &[f32], bias: &[f32], dims: Dims, out: &mut [f32]) {
    let taps = transposed(weight, dims.co, dims.ci * 9);
    let band = (BAND_VALUES / (dims.w * dims.co)).clamp(1, dims.h);
    out.par_chunks_mut(dims.co * dims.plane())
        .zip(x.par_chunks(dims.ci * dims.plane()))
        .for_each_init(
            || vec![0.0f32; band * dims.w * dims.co],
            |acc, (out, x)| {
                for top in (0..dims.h).step_by(band) {
                    let rows = top..(top + band).min(dims.h);
                    forward_band(x, &taps, bias, dims, rows, acc, out);
                }
            },
        );
}

/// One frame's output rows `rows`: sums in the channel-last `acc`, then written out with
/// the bias.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn forward_band(
    x: &[f32],
    taps: &[f32],
    bias: &[f32],
    dims: Dims,
    rows: std::ops::Range<usize>,
    acc: &mut [f32],
    out: &mut [f32],
) {
    let (w, co, plane) = (dims.w, dims.co, dims.plane());
    let acc = &mut acc[..rows.len() * w * co];
    acc.fill(0.0);
    // The input rows that feed output rows `rows`.
    let inputs = rows.start.saturating_sub(1)..(rows.end + 1).min(dims.h);
    for (channel, taps) in x.chunks_exact(plane).zip(taps.chunks_exact(9 * co)) {
        for y in inputs.clone() {
            for (xi, &value) in channel[y * w..][..w]
                .iter()
                .enumerate()
                .filter(|(_, v)| **v != 0.0)
            {
                for (k, oy, ox) in fed(y, xi, rows.clone(), w) {
                    let target = &mut acc[((oy - rows.start) * w + ox) * co..][..co];
                    add_scaled(target, value, &taps[k * co..][..co]);
                }
            }
        }
    }
    channel_major(acc, out, plane, rows.start * w);
    for (plane_out, &b) in out.chunks_exact_mut(plane).zip(bias) {
        plane_out[rows.start * w..rows.end * w]
            .iter_mut()
            .for_each(|v| *v += b);
    }
}

/// `target += scale · values`, one fused multiply-add each; inlined into multiversioned
/// callers.
#[inline(always)]
fn add_scaled(target: &mut [f32], scale: f32, values: &[f32]) {
    target
        .iter_mut()
        .zip(values)
        .for_each(|(t, &v)| *t = scale.mul_add(v, *t));
}

/// Per-task buffers of the weight gradient.
struct Scratch {
    /// The block's output gradients, each frame channel-last: `[frames, h·w, co]`.
    grad: Vec<f32>,
    /// One input channel's nine taps `[9, co]` over up to [`TERMS_PER_F32_SUM`] active
    /// inputs (zero between uses).
    channel: Vec<f32>,
}

/// `∂L/∂weight` and `∂L/∂bias` for sparse `x`, as [`super::kernel::backward_weight`].
pub fn backward_weight(x: &[f32], grad: &[f32], dims: Dims) -> (Vec<f32>, Vec<f32>) {
    let (plane, taps) = (dims.plane(), dims.co * dims.ci * 9);
    let partials: Vec<Vec<f64>> = grad
        .par_chunks(FRAMES_PER_BLOCK * dims.co * plane)
        .zip(x.par_chunks(FRAMES_PER_BLOCK * dims.ci * plane))
        .map_init(
            || Scratch {
                grad: vec![0.0; FRAMES_PER_BLOCK * plane * dims.co],
                channel: vec![0.0; 9 * dims.co],
            },
            |scratch, (grad, x)| {
                // `[ci, 9, co]` taps, then the bias.
                let mut sums = vec![0.0f64; taps + dims.co];
                weight_block(x, grad, dims, scratch, &mut sums);
                sums
            },
        )
        .collect();
    // The sums are channel-last, `[ci, 9, co]`: turned once into `[co, ci, 3, 3]`.
    let (channel_last, bias) = weight_and_bias(&partials, taps);
    (transposed(&channel_last, dims.ci * 9, dims.co), bias)
}

/// Adds a block of frames' weight taps (channel-last, `[ci, 9, co]`) and bias to `sums`:
/// input channel by input channel, over all the block's frames, so that a channel's taps
/// go into the `f64` sums once per block (or per [`TERMS_PER_F32_SUM`] active inputs), not
/// once per frame — for deep layers at low rates, those sums (`ci·9·co` values, 19 MB at
/// 512 channels) cost more memory traffic than the arithmetic.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn weight_block(x: &[f32], grad: &[f32], dims: Dims, scratch: &mut Scratch, sums: &mut [f64]) {
    let (w, ci, co, plane) = (dims.w, dims.ci, dims.co, dims.plane());
    let (taps, bias) = sums.split_at_mut(ci * 9 * co);
    for (frame, channel_last_frame) in grad
        .chunks_exact(co * plane)
        .zip(scratch.grad.chunks_exact_mut(plane * co))
    {
        for (sum, plane_grad) in bias.iter_mut().zip(frame.chunks_exact(plane)) {
            *sum += plane_grad.iter().map(|&v| f64::from(v)).sum::<f64>();
        }
        channel_last(frame, plane, 0, channel_last_frame);
    }
    let flush = |sums: &mut [f64], channel: &mut [f32]| {
        for (s, v) in sums.iter_mut().zip(channel.iter_mut()) {
            *s += f64::from(*v);
            *v = 0.0;
        }
    };
    for (i, sums) in taps.chunks_exact_mut(9 * co).enumerate() {
        let mut pending = 0;
        for (frame, grad) in x
            .chunks_exact(ci * plane)
            .zip(scratch.grad.chunks_exact(plane * co))
        {
            let channel = &frame[i * plane..][..plane];
            for (p, &value) in channel.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                for (k, oy, ox) in fed(p / w, p % w, 0..dims.h, w) {
                    let rows = &grad[(oy * w + ox) * co..][..co];
                    add_scaled(&mut scratch.channel[k * co..][..co], value, rows);
                }
                pending += 1;
                if pending == TERMS_PER_F32_SUM {
                    flush(sums, &mut scratch.channel);
                    pending = 0;
                }
            }
        }
        if pending > 0 {
            flush(sums, &mut scratch.channel);
        }
    }
}

/// Active inputs whose terms a weight-gradient tap sums in `f32` before adding them to its
/// `f64` sum: large, dense-ish maps would otherwise add thousands of terms in `f32`.
const TERMS_PER_F32_SUM: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_inputs_are_recognised_by_their_non_zero_values() {
        assert!(is_sparse(&[0.0, 1.0, 0.0, 0.0, -0.0, 0.0, 0.0, 0.0]));
        assert!(is_sparse(&[0.0, 0.25, 0.0, 0.0]), "pooled spikes");
        assert!(!is_sparse(&[0.0, 1.0, 0.5, 0.0]), "half of them active");
        assert!(
            !is_sparse(&[0.0, f32::NAN, f32::NAN, 0.0]),
            "NaN is not zero"
        );
    }

    #[test]
    fn each_input_feeds_the_outputs_of_its_taps() {
        // A corner input feeds 4 outputs, an inner one all 9, in tap order; rows outside the
        // band are left out.
        let corner: Vec<_> = fed(0, 0, 0..4, 4).collect();
        assert_eq!(corner, [(0, 1, 1), (1, 1, 0), (3, 0, 1), (4, 0, 0)]);
        assert_eq!(
            fed(1, 1, 0..3, 3).map(|(k, ..)| k).collect::<Vec<_>>(),
            (0..9).collect::<Vec<_>>()
        );
        let band: Vec<_> = fed(1, 1, 2..3, 3).collect();
        assert_eq!(band, [(0, 2, 2), (1, 2, 1), (2, 2, 0)]);
    }
}
