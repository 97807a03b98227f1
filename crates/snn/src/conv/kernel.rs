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
    fn plane(&self) -> usize {
        self.h * self.w
    }

    fn padded_plane(&self) -> usize {
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
    let mut sums = vec![0.0f64; taps + dims.co];
    for partial in &partials {
        sums.iter_mut().zip(partial).for_each(|(a, b)| *a += b);
    }
    let (weight, bias) = sums.split_at(taps);
    (
        weight.iter().map(|&v| v as f32).collect(),
        bias.iter().map(|&v| v as f32).collect(),
    )
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
fn pad(x: &[f32], dims: Dims, padded: &mut [f32]) {
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
    let (w, pw) = (dims.w, dims.w + 2);
    for (o, out_plane) in out.chunks_exact_mut(dims.plane()).enumerate() {
        for (y, out_row) in out_plane.chunks_exact_mut(w).enumerate() {
            out_row.fill(bias[o]);
            for i in 0..dims.ci {
                let taps = &weight[(o * dims.ci + i) * 9..][..9];
                let plane = &padded[i * dims.padded_plane()..][..dims.padded_plane()];
                for kh in 0..3 {
                    let row = &plane[(y + kh) * pw..][..pw];
                    let (k0, k1, k2) = (taps[kh * 3], taps[kh * 3 + 1], taps[kh * 3 + 2]);
                    let shifted = row[..w].iter().zip(&row[1..=w]).zip(&row[2..w + 2]);
                    for (value, ((a, b), c)) in out_row.iter_mut().zip(shifted) {
                        *value += k0 * a + k1 * b + k2 * c;
                    }
                }
            }
        }
    }
}

const LANES: usize = 16;

/// Samples per task of the weight gradient.
const SAMPLES_PER_BLOCK: usize = 4;

/// Adds one sample's `Σ grad · shifted input` for every tap, and `Σ grad` per output
/// channel, to `sums`: per (output, input, kernel row) one pass over the gradient plane
/// into three 16-lane accumulators, one per kernel column.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn weight_sample(padded: &[f32], grad: &[f32], dims: Dims, sums: &mut [f64]) {
    let (w, pw) = (dims.w, dims.w + 2);
    let taps = dims.co * dims.ci * 9;
    let to_f64 = |lanes: &[f32; LANES], tail: f32| {
        lanes.iter().map(|&v| f64::from(v)).sum::<f64>() + f64::from(tail)
    };
    for (o, grad_plane) in grad.chunks_exact(dims.plane()).enumerate() {
        for i in 0..dims.ci {
            let plane = &padded[i * dims.padded_plane()..][..dims.padded_plane()];
            for kh in 0..3 {
                let (mut a0, mut a1, mut a2) = ([0.0f32; LANES], [0.0f32; LANES], [0.0f32; LANES]);
                let (mut t0, mut t1, mut t2) = (0.0f32, 0.0f32, 0.0f32);
                for (y, grad_row) in grad_plane.chunks_exact(w).enumerate() {
                    let row = &plane[(y + kh) * pw..][..pw];
                    let mut g_chunks = grad_row.chunks_exact(LANES);
                    let mut r0 = row[..w].chunks_exact(LANES);
                    let mut r1 = row[1..=w].chunks_exact(LANES);
                    let mut r2 = row[2..w + 2].chunks_exact(LANES);
                    for (((g, x0), x1), x2) in
                        (&mut g_chunks).zip(&mut r0).zip(&mut r1).zip(&mut r2)
                    {
                        for l in 0..LANES {
                            a0[l] += g[l] * x0[l];
                            a1[l] += g[l] * x1[l];
                            a2[l] += g[l] * x2[l];
                        }
                    }
                    let rest = g_chunks.remainder().iter().zip(r0.remainder());
                    for ((g, x0), (x1, x2)) in rest.zip(r1.remainder().iter().zip(r2.remainder())) {
                        t0 += g * x0;
                        t1 += g * x1;
                        t2 += g * x2;
                    }
                }
                let base = (o * dims.ci + i) * 9 + kh * 3;
                sums[base] += to_f64(&a0, t0);
                sums[base + 1] += to_f64(&a1, t1);
                sums[base + 2] += to_f64(&a2, t2);
            }
        }
        sums[taps + o] += grad_plane.iter().map(|&v| f64::from(v)).sum::<f64>();
    }
}
