//! The per-channel arithmetic of the batch norm over one channel's pieces (one plane per
//! sample): sums in `f64` over [`SUM_LANES`] independent lanes (which vectorise) then in lane
//! order, and the elementwise passes, compiled for the widest vector unit the CPU has.

use multiversion::multiversion;

use crate::math::{SUM_LANES, lane_sum};

/// A channel's mean and biased variance over its `count` values.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
pub(super) fn statistics(pieces: &[&[f32]], count: f64) -> (f64, f64) {
    let mean = lane_sum(pieces.iter().copied(), |v| v) / count;
    let squares = lane_sum(pieces.iter().copied(), |v| (v - mean) * (v - mean));
    (mean, squares / count)
}

/// `out = x · scale + shift`, piece by piece.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
pub(super) fn affine(out: &mut [&mut [f32]], pieces: &[&[f32]], scale: f32, shift: f32) {
    for (out, x) in out.iter_mut().zip(pieces) {
        out.iter_mut()
            .zip(x.iter())
            .for_each(|(o, &v)| *o = v * scale + shift);
    }
}

/// `(Σ dy, Σ dy · (x − mean))` over a channel's pieces.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
pub(super) fn gradient_sums(dy: &[&[f32]], x: &[&[f32]], mean: f64) -> (f64, f64) {
    let sum_dy = lane_sum(dy.iter().copied(), |g| g);
    let (mut lanes, mut tail) = ([0.0f64; SUM_LANES], 0.0f64);
    for (dy, x) in dy.iter().zip(x) {
        let (dy_chunks, x_chunks) = (dy.chunks_exact(SUM_LANES), x.chunks_exact(SUM_LANES));
        tail += dy_chunks
            .remainder()
            .iter()
            .zip(x_chunks.remainder())
            .map(|(&g, &v)| f64::from(g) * (f64::from(v) - mean))
            .sum::<f64>();
        for (g, v) in dy_chunks.zip(x_chunks) {
            for ((lane, &g), &v) in lanes.iter_mut().zip(g).zip(v) {
                *lane += f64::from(g) * (f64::from(v) - mean);
            }
        }
    }
    (sum_dy, lanes.iter().sum::<f64>() + tail)
}

/// `dx = scale · (dy − mean_dy − x̂ · mean_dy_xhat)`, `x̂ = (x − mean) · inv_std`, in `f64`.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
pub(super) fn input_gradient(
    out: &mut [&mut [f32]],
    (dy, x): (&[&[f32]], &[&[f32]]),
    (mean, inv_std): (f64, f64),
    (scale, mean_dy, mean_dy_xhat): (f64, f64, f64),
) {
    for ((out, dy), x) in out.iter_mut().zip(dy).zip(x) {
        for ((o, &g), &v) in out.iter_mut().zip(dy.iter()).zip(x.iter()) {
            let x_hat = (f64::from(v) - mean) * inv_std;
            *o = (scale * (f64::from(g) - mean_dy - x_hat * mean_dy_xhat)) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_sums_cover_every_value_and_the_tails() {
        let pieces: Vec<Vec<f32>> = vec![(1..=11).map(|v| v as f32).collect(), vec![100.0]];
        let slices: Vec<&[f32]> = pieces.iter().map(Vec::as_slice).collect();
        let (mean, variance) = statistics(&slices, 12.0);
        let values: Vec<f64> = pieces.iter().flatten().map(|&v| f64::from(v)).collect();
        let expected_mean = values.iter().sum::<f64>() / 12.0;
        let expected_variance = values
            .iter()
            .map(|v| (v - expected_mean).powi(2))
            .sum::<f64>()
            / 12.0;
        assert!((mean - expected_mean).abs() < 1e-12);
        assert!((variance - expected_variance).abs() < 1e-9);
        let (sum_dy, sum_dy_x) = gradient_sums(&slices, &slices, 1.0);
        assert_eq!(sum_dy, values.iter().sum::<f64>());
        assert_eq!(sum_dy_x, values.iter().map(|v| v * (v - 1.0)).sum::<f64>());
    }
}
