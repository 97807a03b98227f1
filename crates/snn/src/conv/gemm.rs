//! The 3×3 convolution with many input channels as matrix products (im2col + gemm), the
//! frames split into fixed blocks that run as rayon tasks, each block's products on one
//! thread (no nested parallelism, no sharing).
//!
//! A block of `G` frames is unfolded into `col: [ci·9, G·h·w]` (row `i·9 + kh·3 + kw`,
//! column `g·h·w + y·w + x` holds the zero-padded input `x[g, i, y+kh−1, x+kw−1]`), so that
//! - the output is `W [co, ci·9] · col` (then the bias),
//! - the weight gradient `Σ_blocks dY [co, G·h·w] · colᵀ`, summed over blocks in `f64` in
//!   block order, [`BLOCKS_PER_SUM`] blocks per task (the result does not depend on the
//!   thread count); there `colᵀ` is unfolded position-major ([`im2row`]), so that the gemm
//!   kernels read both operands along their long sides instead of gathering element by
//!   element (which took as long as the product itself), and
//! - the input gradient folds `Wᵀ · dY` back onto the input (col2im).
//!
//! `G` makes each product `G·h·w ≈` [`BLOCK_COLUMNS`] wide: small feature maps still get
//! products long enough for the gemm kernels' register blocking.

use multiversion::multiversion;
use rayon::prelude::*;

use super::kernel::{Dims, pad, weight_and_bias};
use super::layout::channel_last;
use crate::matmul::{Matrix, matmul};

/// The width of one block's products, in output positions (frames × plane).
const BLOCK_COLUMNS: usize = 1024;

/// The fewest blocks a batch is split into where it has the frames: small batches of small
/// maps still keep every thread busy (a rule of the shape alone, not of the thread count).
const MIN_BLOCKS: usize = 8;

/// Frames per block.
fn block_frames(dims: Dims) -> usize {
    (BLOCK_COLUMNS / dims.plane())
        .clamp(1, 16)
        .min(dims.n.div_ceil(MIN_BLOCKS))
        .max(1)
}

/// `(x, dims, padded, col)`: unfolds the frames `x` into `col` through the padding buffer.
type Unfolding = fn(&[f32], Dims, &mut [f32], &mut [f32]);

/// Per-thread buffers of one block.
struct Scratch {
    /// One frame, zero-padded (channel-major or channel-last).
    padded: Vec<f32>,
    /// The block's unfolding (`[ci·9, G·h·w]`, or its position-major transpose).
    col: Vec<f32>,
    /// The block's output or gathered output gradient, `[co, G·h·w]`.
    product: Vec<f32>,
}

impl Scratch {
    fn new(dims: Dims, frames: usize, product_rows: usize) -> Self {
        let columns = frames * dims.plane();
        Self {
            padded: vec![0.0; dims.ci * dims.padded_plane()],
            col: vec![0.0; dims.ci * 9 * columns],
            product: vec![0.0; product_rows * columns],
        }
    }

    /// Unfolds the frames `x` by `unfolding` ([`im2col`] or [`im2row`]) into the first
    /// `ci·9 · columns` values of `col`; returns `columns` (frames × plane).
    fn unfold(&mut self, x: &[f32], dims: Dims, unfolding: Unfolding) -> usize {
        let columns = x.len() / dims.ci;
        unfolding(
            x,
            dims,
            &mut self.padded,
            &mut self.col[..dims.ci * 9 * columns],
        );
        columns
    }

    /// Gathers the output-shaped frames `grad` into the first `co · columns` values of
    /// `product`; returns `columns`.
    fn gather(&mut self, grad: &[f32], dims: Dims) -> usize {
        let columns = grad.len() / dims.co;
        gather_rows(grad, dims, &mut self.product[..dims.co * columns]);
        columns
    }
}

/// Unfolds the frames `x` (`[g, ci, h, w]`) into `col` (`[ci·9, g·h·w]`).
fn im2col(x: &[f32], dims: Dims, padded: &mut [f32], col: &mut [f32]) {
    let (w, pw, plane) = (dims.w, dims.w + 2, dims.plane());
    let frames = x.len() / (dims.ci * plane);
    let columns = frames * plane;
    for (g, frame) in x.chunks_exact(dims.ci * plane).enumerate() {
        pad(frame, dims, padded);
        for (i, channel) in padded.chunks_exact(dims.padded_plane()).enumerate() {
            for k in 0..9 {
                let (kh, kw) = (k / 3, k % 3);
                let row = &mut col[(i * 9 + k) * columns + g * plane..][..plane];
                for (y, out) in row.chunks_exact_mut(w).enumerate() {
                    out.copy_from_slice(&channel[(y + kh) * pw + kw..][..w]);
                }
            }
        }
    }
}

/// Unfolds the frames `x` (`[g, ci, h, w]`) position-major into `rows` (`[g·h·w, 9·ci]`: row
/// `g·h·w + y·w + x`, column `(kh·3 + kw)·ci + i` holds the zero-padded input
/// `x[g, i, y+kh−1, x+kw−1]`), the layout in which the gemm kernels read a product's operand
/// along its long side without gathering (the weight gradient sums over positions).
///
/// Each frame is first copied channel-last into `padded` (`[(h+2)·(w+2), ci]`, borders
/// zero): a row's three taps of one kernel row are then `3·ci` consecutive values.
fn im2row(x: &[f32], dims: Dims, padded: &mut [f32], rows: &mut [f32]) {
    let (ci, w, pw, plane) = (dims.ci, dims.w, dims.w + 2, dims.plane());
    let padded = &mut padded[..dims.padded_plane() * ci];
    for (frame, rows) in x
        .chunks_exact(ci * plane)
        .zip(rows.chunks_exact_mut(plane * 9 * ci))
    {
        for y in 0..dims.h {
            let line = &mut padded[((y + 1) * pw + 1) * ci..][..w * ci];
            channel_last(frame, plane, y * w, line);
        }
        for (p, row) in rows.chunks_exact_mut(9 * ci).enumerate() {
            let (y, x) = (p / w, p % w);
            for (kh, taps) in row.chunks_exact_mut(3 * ci).enumerate() {
                taps.copy_from_slice(&padded[((y + kh) * pw + x) * ci..][..3 * ci]);
            }
        }
    }
}

/// Folds `col` (`[ci·9, g·h·w]`) back onto the zeroed frames `dx` (`[g, ci, h, w]`): each
/// input position gets the sum of the columns it fed, in tap order. Column `(oy, ox)` of tap
/// `(kh, kw)` fed input `(oy + kh − 1, ox + kw − 1)`: row by row, a shifted slice add.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn col2im(col: &[f32], dims: Dims, dx: &mut [f32]) {
    let (h, w, plane) = (dims.h, dims.w, dims.plane());
    let frames = dx.len() / (dims.ci * plane);
    let columns = frames * plane;
    for (g, frame) in dx.chunks_exact_mut(dims.ci * plane).enumerate() {
        for (i, channel) in frame.chunks_exact_mut(plane).enumerate() {
            for k in 0..9 {
                let (kh, kw) = (k / 3, k % 3);
                let taps = &col[(i * 9 + k) * columns + g * plane..][..plane];
                // Output rows oy feed input rows y = oy + kh − 1 inside the map.
                for oy in 1usize.saturating_sub(kh)..(h + 1 - kh).min(h) {
                    let y = oy + kh - 1;
                    let source = &taps[oy * w..][..w];
                    let target = &mut channel[y * w..][..w];
                    // Columns ox feed x = ox + kw − 1 inside the row.
                    let (from, to) = match kw {
                        0 => (&source[1..], &mut target[..w - 1]),
                        1 => (source, &mut target[..]),
                        _ => (&source[..w - 1], &mut target[1..]),
                    };
                    to.iter_mut().zip(from).for_each(|(t, v)| *t += v);
                }
            }
        }
    }
}

/// Gathers the frames `grad` (`[g, co, h, w]`) into `[co, g·h·w]`.
fn gather_rows(grad: &[f32], dims: Dims, out: &mut [f32]) {
    let plane = dims.plane();
    let frames = grad.len() / (dims.co * plane);
    let columns = frames * plane;
    for (g, frame) in grad.chunks_exact(dims.co * plane).enumerate() {
        for (o, channel) in frame.chunks_exact(plane).enumerate() {
            out[o * columns + g * plane..][..plane].copy_from_slice(channel);
        }
    }
}

/// `out = conv(x, weight) + bias`, as [`super::kernel::forward`].
pub fn forward(x: &[f32], weight: &[f32], bias: &[f32], dims: Dims, out: &mut [f32]) {
    let (frames, plane) = (block_frames(dims), dims.plane());
    let weights = Matrix::row_major(weight, dims.co, dims.ci * 9);
    out.par_chunks_mut(frames * dims.co * plane)
        .zip(x.par_chunks(frames * dims.ci * plane))
        .for_each_init(
            || Scratch::new(dims, frames, dims.co),
            |scratch, (out, x)| {
                let columns = scratch.unfold(x, dims, im2col);
                let col = &scratch.col[..dims.ci * 9 * columns];
                let product = &mut scratch.product[..dims.co * columns];
                matmul(
                    weights,
                    Matrix::row_major(col, dims.ci * 9, columns),
                    product,
                );
                scatter_rows(product, bias, dims, out);
            },
        );
}

/// Scatters a block's output `product` (`[co, g·h·w]`) into its frames `out`
/// (`[g, co, h, w]`), adding the bias: [`gather_rows`] the other way.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn scatter_rows(product: &[f32], bias: &[f32], dims: Dims, out: &mut [f32]) {
    let plane = dims.plane();
    let columns = out.len() / dims.co;
    for (g, frame) in out.chunks_exact_mut(dims.co * plane).enumerate() {
        for ((o, channel), &b) in frame.chunks_exact_mut(plane).enumerate().zip(bias) {
            let row = &product[o * columns + g * plane..][..plane];
            channel.iter_mut().zip(row).for_each(|(c, &v)| *c = v + b);
        }
    }
}

/// Blocks whose weight-gradient products one task adds up, in block order, into one `f64`
/// sum (the tasks' sums are then added in task order): a 512-channel layer's sums are 19 MB,
/// so one per block (8 blocks and more) would hold over 150 MB at once. A rule of the shape
/// alone, so the result does not depend on the thread count.
const BLOCKS_PER_SUM: usize = 4;

/// `∂L/∂weight` and `∂L/∂bias`, as [`super::kernel::backward_weight`]: per block,
/// `dY [co, G·h·w]` times the position-major unfolding ([`im2row`]), whose columns run over
/// (tap, input channel); the sums are turned into `[co, ci, 3, 3]` once at the end.
pub fn backward_weight(x: &[f32], grad: &[f32], dims: Dims) -> (Vec<f32>, Vec<f32>) {
    let (frames, plane) = (block_frames(dims), dims.plane());
    let taps = dims.co * dims.ci * 9;
    let (block_grad, block_x) = (frames * dims.co * plane, frames * dims.ci * plane);
    let partials: Vec<Vec<f64>> = grad
        .par_chunks(BLOCKS_PER_SUM * block_grad)
        .zip(x.par_chunks(BLOCKS_PER_SUM * block_x))
        .map_init(
            || (Scratch::new(dims, frames, dims.co), vec![0.0f32; taps]),
            |(scratch, weight_block), (grad, x)| {
                // `[co, 9, ci]` taps, then the bias.
                let mut sums = vec![0.0f64; taps + dims.co];
                for (grad, x) in grad.chunks(block_grad).zip(x.chunks(block_x)) {
                    let columns = scratch.unfold(x, dims, im2row);
                    scratch.gather(grad, dims);
                    let unfolded = &scratch.col[..columns * dims.ci * 9];
                    let rows = &scratch.product[..dims.co * columns];
                    matmul(
                        Matrix::row_major(rows, dims.co, columns),
                        Matrix::row_major(unfolded, columns, dims.ci * 9),
                        weight_block,
                    );
                    let (weight_sums, bias_sums) = sums.split_at_mut(taps);
                    for (sum, &v) in weight_sums.iter_mut().zip(weight_block.iter()) {
                        *sum += f64::from(v);
                    }
                    for (sum, row) in bias_sums.iter_mut().zip(rows.chunks_exact(columns)) {
                        *sum += row.iter().map(|&v| f64::from(v)).sum::<f64>();
                    }
                }
                sums
            },
        )
        .collect();
    let (tap_major, bias) = weight_and_bias(&partials, taps);
    let mut weight = vec![0.0f32; taps];
    for (out, sums) in weight
        .chunks_exact_mut(dims.ci * 9)
        .zip(tap_major.chunks_exact(dims.ci * 9))
    {
        for (k, taps) in sums.chunks_exact(dims.ci).enumerate() {
            for (i, &v) in taps.iter().enumerate() {
                out[i * 9 + k] = v;
            }
        }
    }
    (weight, bias)
}

/// `∂L/∂x`, as [`super::kernel::backward_input`].
pub fn backward_input(grad: &[f32], weight: &[f32], dims: Dims) -> Vec<f32> {
    let (frames, plane) = (block_frames(dims), dims.plane());
    let weights_t = Matrix::row_major(weight, dims.co, dims.ci * 9).t();
    let mut grad_x = vec![0.0f32; dims.n * dims.ci * plane];
    grad_x
        .par_chunks_mut(frames * dims.ci * plane)
        .zip(grad.par_chunks(frames * dims.co * plane))
        .for_each_init(
            || Scratch::new(dims, frames, dims.co),
            |scratch, (grad_x, grad)| {
                let columns = scratch.gather(grad, dims);
                let rows = &scratch.product[..dims.co * columns];
                let col = &mut scratch.col[..dims.ci * 9 * columns];
                matmul(weights_t, Matrix::row_major(rows, dims.co, columns), col);
                col2im(col, dims, grad_x);
            },
        );
    grad_x
}
