//! The 3×3 convolution of spikes (inputs that are all 0 or 1) as sums of weight rows: each
//! active input position adds its channel's nine weight rows (`[co]`, channel-last) to the
//! output positions it feeds, and in the weight gradient the output-gradient rows of those
//! positions to its channel's nine taps. No multiplications and no work for silent inputs:
//! for a layer fed by spikes at a rate ρ the forward and weight-gradient passes do about ρ of
//! the dense work. The input gradient (a dense output gradient) stays with the gemm kernels.
//!
//! Every output sums its terms in ascending (input channel, tap) order, the order of the
//! definition; the weight gradient sums each frame in `f32` and the frames in `f64`, in fixed
//! blocks of frames, so results do not depend on the thread count.

use multiversion::multiversion;
use rayon::prelude::*;

use super::kernel::{Dims, weight_and_bias};

/// The highest firing rate at which the spike kernels run; above it the gemm kernels, at
/// several times the arithmetic rate, are faster.
pub const MAX_SPIKE_RATE: f64 = 0.25;

/// Frames per task of the weight gradient (fixed: the sum order does not depend on threads).
const FRAMES_PER_BLOCK: usize = 8;

/// Output values per band of the forward pass's channel-last accumulator (1 MiB at most), so
/// that large feature maps are accumulated a band of rows at a time, in cache.
const BAND_VALUES: usize = 1 << 18;

/// Whether `x` holds only 0s and 1s, at most [`MAX_SPIKE_RATE`] of them 1.
pub fn is_sparse_spikes(x: &[f32]) -> bool {
    let mut ones = 0usize;
    for chunk in x.chunks(256) {
        let other = chunk
            .iter()
            .fold(false, |other, &v| other | (v != 0.0 && v != 1.0));
        if other {
            return false;
        }
        ones += chunk.iter().filter(|&&v| v == 1.0).count();
    }
    ones as f64 <= MAX_SPIKE_RATE * x.len() as f64
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

/// `out = conv(x, weight) + bias` for spikes `x`, as [`super::kernel::forward`].
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
            for (xi, _) in channel[y * w..][..w]
                .iter()
                .enumerate()
                .filter(|(_, v)| **v != 0.0)
            {
                for (k, oy, ox) in fed(y, xi, rows.clone(), w) {
                    let target = &mut acc[((oy - rows.start) * w + ox) * co..][..co];
                    add(target, &taps[k * co..][..co]);
                }
            }
        }
    }
    for (o, plane_out) in out.chunks_exact_mut(plane).enumerate() {
        let band_out = &mut plane_out[rows.start * w..rows.end * w];
        for (q, value) in band_out.iter_mut().enumerate() {
            *value = acc[q * co + o] + bias[o];
        }
    }
}

/// `target += values`; inlined into multiversioned callers.
#[inline(always)]
fn add(target: &mut [f32], values: &[f32]) {
    target.iter_mut().zip(values).for_each(|(t, v)| *t += v);
}

/// Per-task buffers of the weight gradient.
struct Scratch {
    /// One frame's output gradient, channel-last `[h·w, co]`.
    grad: Vec<f32>,
    /// One input channel's nine taps `[9, co]` over one frame.
    channel: Vec<f32>,
}

/// `∂L/∂weight` and `∂L/∂bias` for spikes `x`, as [`super::kernel::backward_weight`].
pub fn backward_weight(x: &[f32], grad: &[f32], dims: Dims) -> (Vec<f32>, Vec<f32>) {
    let (plane, taps) = (dims.plane(), dims.co * dims.ci * 9);
    let partials: Vec<Vec<f64>> = grad
        .par_chunks(FRAMES_PER_BLOCK * dims.co * plane)
        .zip(x.par_chunks(FRAMES_PER_BLOCK * dims.ci * plane))
        .map_init(
            || Scratch {
                grad: vec![0.0; plane * dims.co],
                channel: vec![0.0; 9 * dims.co],
            },
            |scratch, (grad, x)| {
                // `[ci, 9, co]` taps, then the bias.
                let mut sums = vec![0.0f64; taps + dims.co];
                for (grad, x) in grad
                    .chunks_exact(dims.co * plane)
                    .zip(x.chunks_exact(dims.ci * plane))
                {
                    weight_frame(x, grad, dims, scratch, &mut sums);
                }
                sums
            },
        )
        .collect();
    // The sums are channel-last, `[ci, 9, co]`: turned once into `[co, ci, 3, 3]`.
    let (channel_last, bias) = weight_and_bias(&partials, taps);
    (transposed(&channel_last, dims.ci * 9, dims.co), bias)
}

/// Adds one frame's weight taps (channel-last, `[ci, 9, co]`) and bias to `sums`.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn weight_frame(x: &[f32], grad: &[f32], dims: Dims, scratch: &mut Scratch, sums: &mut [f64]) {
    let (w, co, plane) = (dims.w, dims.co, dims.plane());
    let (taps, bias) = sums.split_at_mut(dims.ci * 9 * co);
    for (o, plane_grad) in grad.chunks_exact(plane).enumerate() {
        bias[o] += plane_grad.iter().map(|&v| f64::from(v)).sum::<f64>();
        for (q, &value) in plane_grad.iter().enumerate() {
            scratch.grad[q * co + o] = value;
        }
    }
    for (channel, sums) in x.chunks_exact(plane).zip(taps.chunks_exact_mut(9 * co)) {
        scratch.channel.fill(0.0);
        let mut active = false;
        for (p, _) in channel.iter().enumerate().filter(|(_, v)| **v != 0.0) {
            active = true;
            for (k, oy, ox) in fed(p / w, p % w, 0..dims.h, w) {
                let rows = &scratch.grad[(oy * w + ox) * co..][..co];
                add(&mut scratch.channel[k * co..][..co], rows);
            }
        }
        if active {
            sums.iter_mut()
                .zip(&scratch.channel)
                .for_each(|(s, &v)| *s += f64::from(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spikes_are_recognised_by_value_and_rate() {
        assert!(is_sparse_spikes(&[0.0, 1.0, 0.0, 0.0, -0.0, 0.0, 0.0, 0.0]));
        assert!(!is_sparse_spikes(&[0.0, 1.0, 1.0, 0.0]), "rate 0.5");
        assert!(!is_sparse_spikes(&[0.0, 0.5, 0.0, 0.0]), "not binary");
        assert!(!is_sparse_spikes(&[0.0, 0.0, 0.0, f32::NAN]), "NaN");
        let mut long = vec![0.0f32; 1000];
        long[999] = 2.0;
        assert!(!is_sparse_spikes(&long), "a non-spike past the first chunk");
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
