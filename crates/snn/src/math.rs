//! Scalar maths and `f64` sums for the fused kernels, written so that loops over them vectorise.

/// `e^x` in f32, within 2 ulp of the correctly rounded value on the normal range.
///
/// libm's `expf` is a call per element, which stops the surrounding loop from vectorising;
/// this is branch-free (Cody–Waite range reduction, the degree-6 minimax polynomial of
/// Cephes' `expf`, exponent built in the bits). Inputs are clamped to `[-87.3, 88.3]`, so
/// results below `f32::MIN_POSITIVE` flush to about `1.2e-38` and overflow saturates near
/// `f32::MAX` instead of becoming infinite; NaN stays NaN.
#[inline(always)]
#[allow(clippy::excessive_precision)] // the published coefficients, as published
pub fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2^23 rounds to the nearest integer without `roundps`.
    const ROUNDER: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.3);
    // `shifted`'s low mantissa bits hold n = round(x·log2 e) (|n| ≤ 127 ≪ 2^22), so n is
    // read from the bits with integer arithmetic, which vectorises (a float-to-int `as`
    // cast saturates and does not).
    let shifted = x * LOG2_E + ROUNDER;
    let n = shifted - ROUNDER;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 5.000_000_1e-1;
    let e_r = p * r * r + r + 1.0;
    let n_bits = shifted.to_bits().wrapping_sub(ROUNDER.to_bits());
    let scale = f32::from_bits(n_bits.wrapping_add(127) << 23);
    e_r * scale
}

/// Independent partial sums of [`lane_sum`].
pub const SUM_LANES: usize = 8;

/// `Σ f(v)` over every value of `pieces`, in `f64`: [`SUM_LANES`] independent lanes (which
/// vectorise), each piece's leftover values into a tail, then the lanes in order and the
/// tail — a fixed order whatever the thread count. Inlined into multiversioned callers.
#[inline(always)]
pub fn lane_sum<'a>(pieces: impl Iterator<Item = &'a [f32]>, f: impl Fn(f64) -> f64) -> f64 {
    let (mut lanes, mut tail) = ([0.0f64; SUM_LANES], 0.0f64);
    for piece in pieces {
        let chunks = piece.chunks_exact(SUM_LANES);
        tail += chunks
            .remainder()
            .iter()
            .map(|&v| f(f64::from(v)))
            .sum::<f64>();
        for chunk in chunks {
            for (lane, &v) in lanes.iter_mut().zip(chunk) {
                *lane += f(f64::from(v));
            }
        }
    }
    lanes.iter().sum::<f64>() + tail
}

#[cfg(test)]
mod tests {
    use super::exp;

    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn exp_is_within_two_ulp_on_the_normal_range() {
        let mut worst = 0;
        let mut x = -87.0f32;
        while x < 88.0 {
            let exact = (x as f64).exp() as f32;
            worst = worst.max(ulps(exp(x), exact));
            x += 0.000_7;
        }
        assert!(worst <= 2, "worst error {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f32::NAN).is_nan());
        assert!(exp(-1000.0) < 1.3e-38 && exp(-1000.0) >= 0.0);
        assert!(exp(1000.0).is_finite());
    }
}
