//! CPU kernels of the 3×3, stride-1, padding-1 convolution over NCHW `f32` slices.
//!
//! Each sample is one rayon task: its input is copied once into a zero-bordered buffer, so
//! that every output row is a sum of whole shifted input rows — contiguous loops that
//! vectorise. The weight gradient sums per sample in 16 independent lanes (which vectorise)
//! and across samples in `f64`, in a fixed order, so results do not depend on the thread
//! count.

use multiversion::multiversion;
use rayon::prelude::*;

/// The sizes of one convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Samples.
    pub n: usize,
    /// Input channels.
    pub ci: usize,
    /// Output channels.
    pub co: usize,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
}

impl Dims {
    /// The sizes of a convolution of `x: [N, Ci, H, W]` by `weight: [Co, Ci, 3, 3]`.
    pub(crate) fn of(x: &[usize], weight: &[usize]) -> Self {
        Self {
            n: x[0],
            ci: x[1],
            co: weight[0],
            h: x[2],
            w: x[3],
        }
    }

    pub(crate) fn plane(&self) -> usize {
        self.h * self.w
    }

    pub(crate) fn padded_plane(&self) -> usize {
        (self.h + 2) * (self.w + 2)
    }
}

/// `out[n, o] = bias[o] + Σ_i Σ_kh,kw weight[o, i, kh, kw] · x[n, i, y+kh−1, x+kw−1]`.
pub fn forward(x: &[f32], weight: &[f32], bias: &[f32], dims: Dims, out: &mut [f32]) {
    assert_eq!(x.len(), dims.n * dims.ci * dims.plane());
    assert_eq!(weight.len(), dims.co * dims.ci * 9);
    assert_eq!(bias.len(), dims.co);
    assert_eq!(out.len(), dims.n * dims.co * dims.plane());
    out.par_chunks_mut(dims.co * dims.plane())
        .zip(x.par_chunks(dims.ci * dims.plane()))
        .for_each_init(
            || vec![0.0f32; dims.ci * dims.padded_plane()],
            |padded, (out, x)| {
                pad(x, dims, padded);
                forward_sample(padded, weight, bias, dims, out);
            },
        );
}

/// `∂L/∂weight` and `∂L/∂bias` from the input `x` and the output gradient `grad`.
pub fn backward_weight(x: &[f32], grad: &[f32], dims: Dims) -> (Vec<f32>, Vec<f32>) {
    assert_eq!(x.len(), dims.n * dims.ci * dims.plane());
    assert_eq!(grad.len(), dims.n * dims.co * dims.plane());
    let taps = dims.co * dims.ci * 9;
    // Fixed blocks of samples, summed in block order: the result does not depend on the
    // number of threads or on how rayon schedules the blocks.
    let block_grad = SAMPLES_PER_BLOCK * dims.co * dims.plane();
    let block_x = SAMPLES_PER_BLOCK * dims.ci * dims.plane();
    let partials: Vec<Vec<f64>> = grad
        .par_chunks(block_grad)
        .zip(x.par_chunks(block_x))
        .map(|(grad, x)| {
            let mut padded = vec![0.0f32; dims.ci * dims.padded_plane()];
            let mut sums = vec![0.0f64; taps + dims.co];
            for (grad, x) in grad
                .chunks_exact(dims.co * dims.plane())
                .zip(x.chunks_exact(dims.ci * dims.plane()))
            {
                pad(x, dims, &mut padded);
                weight_sample(&padded, grad, dims, &mut sums);
            }
            sums
        })
        .collect();
    weight_and_bias(&partials, taps)
}

/// Adds per-task `f64` sums of `[weight taps; bias]` in task order (so that the result does
/// not depend on how the tasks were scheduled) and splits them into the `f32` weight
/// (`taps` values) and bias gradients. Runs over stretches of the sums in parallel (each
/// value still adds the tasks in order).
pub(crate) fn weight_and_bias(partials: &[Vec<f64>], taps: usize) -> (Vec<f32>, Vec<f32>) {
    const STRETCH: usize = 1 << 14;
    let len = partials.first().map_or(taps, Vec::len);
    let mut sums = vec![0.0f32; len];
    sums.par_chunks_mut(STRETCH)
        .enumerate()
        .for_each(|(index, out)| {
            let start = index * STRETCH;
            let mut total = vec![0.0f64; out.len()];
            for partial in partials {
                let part = &partial[start..start + out.len()];
                total.iter_mut().zip(part).for_each(|(a, b)| *a += b);
            }
            out.iter_mut().zip(&total).for_each(|(o, &v)| *o = v as f32);
        });
    let bias = sums.split_off(taps);
    (sums, bias)
}

/// `∂L/∂x`: the convolution of the output gradient with the kernel turned by 180° and its
/// channels swapped.
pub fn backward_input(grad: &[f32], weight: &[f32], dims: Dims) -> Vec<f32> {
    let mut turned = vec![0.0f32; weight.len()];
    for o in 0..dims.co {
        for i in 0..dims.ci {
            for k in 0..9 {
                turned[(i * dims.co + o) * 9 + (8 - k)] = weight[(o * dims.ci + i) * 9 + k];
            }
        }
    }
    let swapped = Dims {
        ci: dims.co,
        co: dims.ci,
        ..dims
    };
    let mut grad_x = vec![0.0f32; dims.n * dims.ci * dims.plane()];
    forward(grad, &turned, &vec![0.0; dims.ci], swapped, &mut grad_x);
    grad_x
}

/// Copies one sample `[ci, h, w]` into the middle of a zero-bordered `[ci, h+2, w+2]`.
pub(crate) fn pad(x: &[f32], dims: Dims, padded: &mut [f32]) {
    let pw = dims.w + 2;
    for (plane, padded) in x
        .chunks_exact(dims.plane())
        .zip(padded.chunks_exact_mut(dims.padded_plane()))
    {
        for (row, padded_row) in plane
            .chunks_exact(dims.w)
            .zip(padded.chunks_exact_mut(pw).skip(1))
        {
            padded_row[1..=dims.w].copy_from_slice(row);
        }
    }
}

#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn forward_sample(padded: &[f32], weight: &[f32], bias: &[f32], dims: Dims, out: &mut [f32]) {
    let taps = dims.ci * 9;
    for (o, out_plane) in out.chunks_exact_mut(dims.plane()).enumerate() {
        output_plane(
            padded,
            &weight[o * taps..][..taps],
            bias[o],
            dims,
            out_plane,
        );
    }
}

/// One output channel of one sample: `out[y, x] = bias + Σ_i Σ_kh (k0·a + k1·b + k2·c)` over
/// the zero-bordered input `padded` (`[ci, h+2, w+2]`) and that channel's `taps`
/// (`[ci, 3, 3]`). Runs of 16 outputs in [`ROW_BLOCK`] consecutive rows are summed in
/// registers together, so that each shifted input row and each tap is loaded once for all
/// the rows it feeds; every output is still summed in the same order (input channel, then
/// kernel row), whatever the blocking. Inlined into multiversioned callers.
#[inline(always)]
pub(crate) fn output_plane(padded: &[f32], taps: &[f32], bias: f32, dims: Dims, out: &mut [f32]) {
    let w = dims.w;
    let blocked = dims.h - dims.h % ROW_BLOCK;
    let (head, tail) = out.split_at_mut(blocked * w);
    for (block, rows) in head.chunks_exact_mut(ROW_BLOCK * w).enumerate() {
        output_rows::<ROW_BLOCK>(padded, taps, bias, dims, block * ROW_BLOCK, rows);
    }
    for (y, row) in tail.chunks_exact_mut(w).enumerate() {
        output_rows::<1>(padded, taps, bias, dims, blocked + y, row);
    }
}

/// Output rows summed together by [`output_plane`].
const ROW_BLOCK: usize = 4;

/// Output rows `y0 .. y0 + R` of [`output_plane`] into `out` (`R` rows of `w`).
#[inline(always)]
fn output_rows<const R: usize>(
    padded: &[f32],
    taps: &[f32],
    bias: f32,
    dims: Dims,
    y0: usize,
    out: &mut [f32],
) {
    let (w, pw, pp) = (dims.w, dims.w + 2, dims.padded_plane());
    let full = w - w % LANES;
    for x0 in (0..full).step_by(LANES) {
        let mut acc = [[bias; LANES]; R];
        for (plane, k) in padded.chunks_exact(pp).zip(taps.chunks_exact(9)) {
            // Input row `y0 + r` feeds output row `y0 + r − kh` through kernel row `kh`; for
            // each output row the kernel rows arrive in order 0, 1, 2.
            for r in 0..R + 2 {
                let row = &plane[(y0 + r) * pw + x0..];
                let (a, b, c) = (&row[..LANES], &row[1..=LANES], &row[2..LANES + 2]);
                for kh in 0..3 {
                    if r < kh || r - kh >= R {
                        continue;
                    }
                    let (k0, k1, k2) = (k[kh * 3], k[kh * 3 + 1], k[kh * 3 + 2]);
                    let acc = &mut acc[r - kh];
                    for l in 0..LANES {
                        acc[l] = k2.mul_add(c[l], k1.mul_add(b[l], k0.mul_add(a[l], acc[l])));
                    }
                }
            }
        }
        for (out_row, acc) in out.chunks_exact_mut(w).zip(&acc) {
            out_row[x0..][..LANES].copy_from_slice(acc);
        }
    }
    for (dy, out_row) in out.chunks_exact_mut(w).enumerate() {
        for (x, value) in out_row.iter_mut().enumerate().skip(full) {
            let mut acc = bias;
            for (plane, k) in padded.chunks_exact(pp).zip(taps.chunks_exact(9)) {
                for kh in 0..3 {
                    let row = &plane[(y0 + dy + kh) * pw + x..][..3];
                    acc = k[kh * 3 + 2].mul_add(
                        row[2],
                        k[kh * 3 + 1].mul_add(row[1], k[kh * 3].mul_add(row[0], acc)),
                    );
                }
            }
            *value = acc;
        }
    }
}

const LANES: usize = 16;

/// Samples per task of the weight gradient.
const SAMPLES_PER_BLOCK: usize = 4;

/// Adds one sample's `Σ grad · shifted input` for every tap, and `Σ grad` per output
/// channel, to `sums`.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn weight_sample(padded: &[f32], grad: &[f32], dims: Dims, sums: &mut [f64]) {
    let taps = dims.co * dims.ci * 9;
    let mut tap_sums = TapSums::new(dims.ci);
    for (o, grad_plane) in grad.chunks_exact(dims.plane()).enumerate() {
        tap_sums.clear();
        tap_sums.add(padded, grad_plane, dims);
        tap_sums.fold_into(&mut sums[o * dims.ci * 9..][..dims.ci * 9]);
        sums[taps + o] += tap_sums.bias_total();
    }
}

/// `row[x0 .. x0 + 16]`.
#[inline(always)]
fn lanes_at(row: &[f32], x0: usize) -> [f32; LANES] {
    row[x0..x0 + LANES].try_into().expect("16 values")
}

/// The 18 input values `plane[start ..]` that 16 outputs' three kernel columns read.
#[inline(always)]
fn window(plane: &[f32], start: usize) -> &[f32; LANES + 2] {
    plane[start..start + LANES + 2]
        .try_into()
        .expect("18 values")
}

/// One input row's products with the three gradient rows it meets (`grads[kh]` through
/// kernel row `kh`), added to the nine taps' accumulators (`acc[kh·3 + kw]`).
#[inline(always)]
fn add_input_row(acc: &mut [[f32; LANES]; 9], grads: &[[f32; LANES]; 3], row: &[f32; LANES + 2]) {
    for kw in 0..3 {
        for (kh, grad) in grads.iter().enumerate() {
            let acc = &mut acc[kh * 3 + kw];
            for l in 0..LANES {
                acc[l] = grad[l].mul_add(row[kw + l], acc[l]);
            }
        }
    }
}

/// One output channel's weight-gradient taps `[ci, 3, 3]` and its bias being summed: 16
/// independent `f32` lanes each (so the loops vectorise) plus a scalar for rows whose width
/// is not a multiple of 16, folded into `f64` at the end.
pub(crate) struct TapSums {
    lanes: Vec<[f32; LANES]>,
    tails: Vec<f32>,
    bias_lanes: [f32; LANES],
    bias_tail: f32,
}

impl TapSums {
    /// Zeroed sums for `ci` input channels.
    pub(crate) fn new(ci: usize) -> Self {
        Self {
            lanes: vec![[0.0; LANES]; ci * 9],
            tails: vec![0.0; ci * 9],
            bias_lanes: [0.0; LANES],
            bias_tail: 0.0,
        }
    }

    /// Back to zero.
    pub(crate) fn clear(&mut self) {
        self.lanes.fill([0.0; LANES]);
        self.tails.fill(0.0);
        self.bias_lanes = [0.0; LANES];
        self.bias_tail = 0.0;
    }

    /// Adds `Σ_y,x grad[y, x] · padded[i, y+kh, x+kw]` for every tap and `Σ grad` for the
    /// bias. Per input channel and run of 16 columns, one pass over the input rows: each
    /// shifted input row is loaded once and multiplied by the three gradient rows it meets
    /// (held in registers, zero beyond the plane), into nine register accumulators, one per
    /// tap. Inlined into multiversioned callers.
    #[inline(always)]
    pub(crate) fn add(&mut self, padded: &[f32], grad_plane: &[f32], dims: Dims) {
        let (h, w, pw, pp) = (dims.h, dims.w, dims.w + 2, dims.padded_plane());
        let full = w - w % LANES;
        for (i, plane) in padded.chunks_exact(pp).enumerate() {
            let taps = i * 9..i * 9 + 9;
            let mut acc: [[f32; LANES]; 9] = std::array::from_fn(|k| self.lanes[i * 9 + k]);
            for x0 in (0..full).step_by(LANES) {
                // `grads[kh]`: gradient row `r − kh`, which input row `r` meets through
                // kernel row `kh`.
                let mut grads = [[0.0f32; LANES]; 3];
                for (r, grad_row) in grad_plane.chunks_exact(w).enumerate() {
                    grads = [lanes_at(grad_row, x0), grads[0], grads[1]];
                    add_input_row(&mut acc, &grads, window(plane, r * pw + x0));
                }
                for r in h..h + 2 {
                    grads = [[0.0; LANES], grads[0], grads[1]];
                    add_input_row(&mut acc, &grads, window(plane, r * pw + x0));
                }
            }
            self.lanes[taps.clone()].copy_from_slice(&acc);
            if full < w {
                for (k, tail) in self.tails[taps].iter_mut().enumerate() {
                    let (kh, kw) = (k / 3, k % 3);
                    for (y, grad_row) in grad_plane.chunks_exact(w).enumerate() {
                        let row = &plane[(y + kh) * pw + kw..];
                        for x in full..w {
                            *tail = grad_row[x].mul_add(row[x], *tail);
                        }
                    }
                }
            }
        }
        for grad_row in grad_plane.chunks_exact(w) {
            for x0 in (0..full).step_by(LANES) {
                let grad = lanes_at(grad_row, x0);
                for (sum, g) in self.bias_lanes.iter_mut().zip(grad) {
                    *sum += g;
                }
            }
            self.bias_tail += grad_row[full..].iter().sum::<f32>();
        }
    }

    /// The bias gradient's total.
    pub(crate) fn bias_total(&self) -> f64 {
        self.bias_lanes.iter().map(|&v| f64::from(v)).sum::<f64>() + f64::from(self.bias_tail)
    }

    /// Adds each tap's total to `out` (`[ci, 3, 3]`).
    pub(crate) fn fold_into(&self, out: &mut [f64]) {
        for ((out, lanes), &tail) in out.iter_mut().zip(&self.lanes).zip(&self.tails) {
            *out += lanes.iter().map(|&v| f64::from(v)).sum::<f64>() + f64::from(tail);
        }
    }
}
