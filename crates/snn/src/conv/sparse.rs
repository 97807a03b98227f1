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
//! active inputs in `f32` (in registers) and those in `f64`, block of frames by block (the
//! blocks a rule of the shape), so results do not depend on the thread count.

use multiversion::multiversion;
use rayon::prelude::*;

use super::kernel::Dims;
use super::layout::{channel_last, channel_last_rows, channel_major_biased};
use crate::math::lane_sum;

/// The largest fraction of non-zero inputs at which the sparse kernels run; above it the
/// gemm kernels, at several times the arithmetic rate, are faster.
pub const MAX_ACTIVE_RATE: f64 = 0.25;

/// The size of one block of a weight-gradient pass (a block of frames' gradient rows of
/// [`CHUNK`] output channels), which stays in a core's L2 cache while a group of input
/// channels reads it.
const PASS_BYTES: usize = 1 << 19;

/// Frames per block of a weight-gradient pass: as many as fit in [`PASS_BYTES`], at least
/// one.
fn block_frames(dims: Dims) -> usize {
    let frame_bytes = dims.padded_plane() * CHUNK * std::mem::size_of::<f32>();
    (PASS_BYTES / frame_bytes).max(1)
}

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

/// The row-major `rows × cols` matrix `values` transposed (`cols × rows`): the weight
/// `[co, ci·9]` to the channel-last `[ci·9, co]` rows that each (input channel, tap) adds.
/// A layout copy ([`channel_last`]: rows as channels, columns as positions) over runs of
/// columns in parallel; element by element, a 512-channel layer's transpose missed the
/// cache on every value.
fn transposed(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    const COLUMNS_PER_TASK: usize = 64;
    let mut out = vec![0.0f32; values.len()];
    out.par_chunks_mut(COLUMNS_PER_TASK * rows)
        .enumerate()
        .for_each(|(task, columns)| {
            channel_last(values, cols, task * COLUMNS_PER_TASK, columns);
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
            || (vec![0.0f32; band * dims.w * dims.co], Vec::new()),
            |scratch, (out, x)| {
                for top in (0..dims.h).step_by(band) {
                    let rows = top..(top + band).min(dims.h);
                    forward_band(x, &taps, bias, dims, rows, scratch, out);
                }
            },
        );
}

/// One frame's output rows `rows`: sums in the channel-last accumulator, then written out
/// with the bias; the scratch holds the accumulator and one input row's non-zero values.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn forward_band(
    x: &[f32],
    taps: &[f32],
    bias: &[f32],
    dims: Dims,
    rows: std::ops::Range<usize>,
    (acc, active): &mut (Vec<f32>, Vec<(usize, f32)>),
    out: &mut [f32],
) {
    let (w, co, plane) = (dims.w, dims.co, dims.plane());
    let acc = &mut acc[..rows.len() * w * co];
    acc.fill(0.0);
    // The input rows that feed output rows `rows`.
    let inputs = rows.start.saturating_sub(1)..(rows.end + 1).min(dims.h);
    for (channel, taps) in x.chunks_exact(plane).zip(taps.chunks_exact(9 * co)) {
        for y in inputs.clone() {
            active.clear();
            push_non_zero(&channel[y * w..][..w], 0, active);
            for &(xi, value) in active.iter() {
                for (k, oy, ox) in fed(y, xi, rows.clone(), w) {
                    let target = &mut acc[((oy - rows.start) * w + ox) * co..][..co];
                    add_scaled(target, value, &taps[k * co..][..co]);
                }
            }
        }
    }
    channel_major_biased(acc, bias, out, plane, rows.start * w);
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

/// Output channels per pass of the weight gradient: its nine taps' sums of one pass stay in
/// registers (18 AVX-512 vectors) while the pass adds every active input of a channel.
const CHUNK: usize = 32;

/// The fewest tasks the weight gradient is split into (passes of [`CHUNK`] output channels
/// times groups of input channels), where the shape has them: a rule of the shape alone,
/// so that the result does not depend on the thread count.
const MIN_TASKS: usize = 8;

/// `∂L/∂weight` and `∂L/∂bias` for sparse `x`, as [`super::kernel::backward_weight`].
///
/// The output gradient is packed once in passes of [`CHUNK`] channels (each frame
/// zero-padded and channel-last), and each input channel's non-zero inputs are listed once.
/// A task then takes one pass and a group of input channels: block of frames by block of
/// frames (a block's rows of the pass stay in cache), every channel of the group adds its
/// active inputs' terms for its nine taps in registers ([`PassTapSums`]), reading one row
/// per tap and writing nothing, and those sums go into `f64` once per block (or per
/// [`TERMS_PER_F32_SUM`] inputs). Each tap thus sums its terms in a fixed order: blocks in
/// frame order, inputs in frame and position order.
pub fn backward_weight(x: &[f32], grad: &[f32], dims: Dims) -> (Vec<f32>, Vec<f32>) {
    let (ci, co) = (dims.ci, dims.co);
    let packed = packed_gradient(grad, dims);
    let active = active_inputs(x, dims);
    let passes = co.div_ceil(CHUNK);
    let group = ci.div_ceil(MIN_TASKS.div_ceil(passes).min(ci));
    let tasks: Vec<(usize, usize)> = (0..passes)
        .flat_map(|pass| (0..ci).step_by(group).map(move |first| (pass, first)))
        .collect();
    let sums: Vec<Vec<f32>> = tasks
        .par_iter()
        .map(|&(pass, first)| {
            let pass_rows = &packed[pass * dims.n * dims.padded_plane() * CHUNK..]
                [..dims.n * dims.padded_plane() * CHUNK];
            pass_taps(pass_rows, &active[first..(first + group).min(ci)], dims)
        })
        .collect();
    // Task (pass, group) holds `[CHUNK, group, 3, 3]`: its group's columns of rows
    // `pass·CHUNK ..` of `[co, ci, 3, 3]`.
    let mut weight = vec![0.0f32; co * ci * 9];
    weight
        .par_chunks_mut(CHUNK * ci * 9)
        .zip(sums.par_chunks(ci.div_ceil(group)))
        .for_each(|(rows, groups)| {
            for (lane, row) in rows.chunks_exact_mut(ci * 9).enumerate() {
                for (taps, sums) in row.chunks_mut(group * 9).zip(groups) {
                    taps.copy_from_slice(&sums[lane * taps.len()..][..taps.len()]);
                }
            }
        });
    (weight, bias_gradient(grad, dims))
}

/// The output gradient `[n, co, h, w]` in passes of [`CHUNK`] channels, each frame
/// zero-padded and channel-last: `[⌈co/CHUNK⌉, n, (h+2)·(w+2), CHUNK]` (the border and the
/// lanes past `co` are zero, so that every tap of every input has a row to read).
fn packed_gradient(grad: &[f32], dims: Dims) -> Vec<f32> {
    let (w, co, plane, pw) = (dims.w, dims.co, dims.plane(), dims.w + 2);
    let frame_rows = dims.padded_plane() * CHUNK;
    let mut packed = vec![0.0f32; co.div_ceil(CHUNK) * dims.n * frame_rows];
    packed
        .par_chunks_mut(frame_rows)
        .enumerate()
        .for_each(|(index, rows)| {
            let (pass, frame) = (index / dims.n, index % dims.n);
            let first = pass * CHUNK;
            let channels = &grad[(frame * co + first) * plane..][..CHUNK.min(co - first) * plane];
            for y in 0..dims.h {
                let line = &mut rows[((y + 1) * pw + 1) * CHUNK..][..w * CHUNK];
                channel_last_rows(channels, plane, y * w, line, CHUNK);
            }
        });
    packed
}

/// Each input channel's non-zero inputs over all frames, in frame and position order: their
/// padded position in the packed gradient's frames (frame · padded plane + position) and
/// value.
fn active_inputs(x: &[f32], dims: Dims) -> Vec<Vec<(usize, f32)>> {
    let (w, plane, pw) = (dims.w, dims.plane(), dims.w + 2);
    (0..dims.ci)
        .into_par_iter()
        .map(|i| {
            let mut active = Vec::new();
            for (f, frame) in x.chunks_exact(dims.ci * plane).enumerate() {
                for (y, row) in frame[i * plane..][..plane].chunks_exact(w).enumerate() {
                    push_non_zero(row, f * dims.padded_plane() + (y + 1) * pw + 1, &mut active);
                }
            }
            active
        })
        .collect()
}

/// The weight-gradient taps `[CHUNK, channels, 9]` of the input channels `active` over one
/// pass of the packed gradient (`pass_rows`: all frames of [`CHUNK`] output channels).
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn pass_taps(pass_rows: &[f32], active: &[Vec<(usize, f32)>], dims: Dims) -> Vec<f32> {
    let (pw, padded_plane) = (dims.w + 2, dims.padded_plane());
    // Input (y, x) at padded position p = (y+1)·pw + x+1 feeds output (y+1−kh, x+1−kw)
    // through tap (kh, kw), whose padded position is p + (1−kh)·pw + (1−kw).
    let offsets: [isize; 9] =
        std::array::from_fn(|k| (1 - (k / 3) as isize) * pw as isize + 1 - (k % 3) as isize);
    let arch = pulp::Arch::new();
    let mut sums = vec![0.0f64; active.len() * 9 * CHUNK];
    let frames = block_frames(dims);
    for block in (0..dims.n).step_by(frames) {
        let end = (block + frames).min(dims.n) * padded_plane;
        for (inputs, sums) in active.iter().zip(sums.chunks_exact_mut(9 * CHUNK)) {
            let from = inputs.partition_point(|&(at, _)| at < block * padded_plane);
            let to = inputs.partition_point(|&(at, _)| at < end);
            for terms in inputs[from..to].chunks(TERMS_PER_F32_SUM) {
                let taps = arch.dispatch(PassTapSums {
                    terms,
                    pass: pass_rows,
                    offsets: &offsets,
                });
                for (s, &v) in sums.iter_mut().zip(taps.as_flattened()) {
                    *s += f64::from(v);
                }
            }
        }
    }
    // `[channels·9, CHUNK]` → `[CHUNK, channels·9]`, eight taps at a time (in L1).
    let taps = active.len() * 9;
    let mut lane_major = vec![0.0f32; CHUNK * taps];
    for (block, sums) in sums.chunks(8 * CHUNK).enumerate() {
        for lane in 0..CHUNK {
            let out = &mut lane_major[lane * taps + block * 8..];
            for (o, tap) in out.iter_mut().zip(sums.chunks_exact(CHUNK)) {
                *o = tap[lane] as f32;
            }
        }
    }
    lane_major
}

/// `∂L/∂bias`: each output channel's gradient summed in `f64`, frame by frame
/// ([`lane_sum`]).
fn bias_gradient(grad: &[f32], dims: Dims) -> Vec<f32> {
    let plane = dims.plane();
    (0..dims.co)
        .into_par_iter()
        .map(|o| {
            let planes = grad
                .chunks_exact(dims.co * plane)
                .map(|frame| &frame[o * plane..][..plane]);
            lane_sum(planes, |v| v) as f32
        })
        .collect()
}

/// Appends `(first + x, value)` for the non-zero values of `row` to `active`: runs of 16
/// silent inputs are skipped whole, the others appended without a branch per value (at
/// firing rates of 10–40 % those branches are unpredictable).
fn push_non_zero(row: &[f32], first: usize, active: &mut Vec<(usize, f32)>) {
    const RUN: usize = 16;
    for (run, values) in row.chunks(RUN).enumerate() {
        if values.iter().all(|&v| v == 0.0) {
            continue;
        }
        let start = active.len();
        active.resize(start + values.len(), (0, 0.0));
        let mut count = 0;
        for (x, &value) in values.iter().enumerate() {
            active[start + count] = (first + run * RUN + x, value);
            count += usize::from(value != 0.0);
        }
        active.truncate(start + count);
    }
}

/// The nine taps' sums of the active inputs `terms` over one pass of gradient rows: each
/// input's `value` times the row of each tap's output (at padded position
/// `at + offsets[k]`), in the widest vectors the CPU has (`pulp`), so that the sums stay
/// in registers (18 of AVX-512's 32) over all the terms.
struct PassTapSums<'a> {
    terms: &'a [(usize, f32)],
    pass: &'a [f32],
    offsets: &'a [isize; 9],
}

impl pulp::WithSimd for PassTapSums<'_> {
    type Output = [[f32; CHUNK]; 9];

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> Self::Output {
        let vectors = CHUNK / S::F32_LANES;
        let mut acc = [[simd.splat_f32s(0.0); CHUNK]; 9];
        for &(at, value) in self.terms {
            let value = simd.splat_f32s(value);
            for (k, acc) in acc.iter_mut().enumerate() {
                // Every tap's row is inside the padded frames.
                let start = at.wrapping_add_signed(self.offsets[k]) * CHUNK;
                let (row, _) = S::as_simd_f32s(&self.pass[start..start + CHUNK]);
                for (sum, &g) in acc[..vectors].iter_mut().zip(row) {
                    *sum = simd.mul_add_f32s(value, g, *sum);
                }
            }
        }
        let mut out = [[0.0f32; CHUNK]; 9];
        for (out, acc) in out.iter_mut().zip(&acc) {
            let (out, _) = S::as_mut_simd_f32s(out);
            out.copy_from_slice(&acc[..vectors]);
        }
        out
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
    fn non_zero_inputs_are_listed_in_order() {
        // 40 values: a silent run of 16, one with two values (one negative), a partial run.
        let mut row = vec![0.0f32; 40];
        (row[17], row[30], row[39]) = (0.5, -2.0, 1.0);
        let mut active = vec![(7, 3.0)];
        push_non_zero(&row, 100, &mut active);
        assert_eq!(active, [(7, 3.0), (117, 0.5), (130, -2.0), (139, 1.0)]);
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
