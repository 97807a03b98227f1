//! Bit masks of 32 `f32` comparisons, for the event-driven kernels: which inputs hold
//! events, which neurons fired.
//!
//! Written as a loop (`mask |= (v != 0) << l`), such a mask compiles to a vector compare
//! followed by a masked load of the lane bits and a five-step horizontal OR — more work than
//! the comparison itself in a kernel that builds one per 32 neurons. With AVX-512 the
//! compare yields the mask directly (`vcmpps` into a mask register); with AVX2 one
//! `vmovmskps` per 8 lanes. A kernel picks its [`Compare32`] once, inside a multiversioned
//! function whose clone has the features (`multiversion::target::match_target!`).

/// How a kernel turns 32 comparisons into a bit mask (bit `l` for lane `l`).
pub(crate) trait Compare32: Copy + 'static {
    /// Bit `l` set where `values[l] != 0`.
    fn non_zero(self, values: &[f32; 32]) -> u32;
    /// Bit `l` set where `values[l] >= threshold` (false for NaN, as `>=` is).
    fn at_least(self, values: &[f32; 32], threshold: f32) -> u32;
}

/// Plain Rust, for any target.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portable;

impl Compare32 for Portable {
    #[inline(always)]
    fn non_zero(self, values: &[f32; 32]) -> u32 {
        bits(values, |v| v != 0.0)
    }

    #[inline(always)]
    fn at_least(self, values: &[f32; 32], threshold: f32) -> u32 {
        bits(values, |v| v >= threshold)
    }
}

#[inline(always)]
fn bits(values: &[f32; 32], predicate: impl Fn(f32) -> bool) -> u32 {
    values
        .iter()
        .enumerate()
        .fold(0, |mask, (l, &v)| mask | (u32::from(predicate(v)) << l))
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        _CMP_GE_OQ, _CMP_NEQ_UQ, _mm256_cmp_ps, _mm256_loadu_ps, _mm256_movemask_ps,
        _mm256_set1_ps, _mm256_setzero_ps, _mm512_cmp_ps_mask, _mm512_loadu_ps, _mm512_set1_ps,
        _mm512_setzero_ps,
    };

    use super::Compare32;

    /// AVX-512F compares into mask registers. Only [`Avx512::assume`] makes one.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Avx512(());

    impl Avx512 {
        /// # Safety
        /// The CPU must support AVX-512F (call it where the code is compiled for it, e.g. in
        /// the `x86_64+avx512f` arm of `match_target!`).
        #[inline(always)]
        pub(crate) unsafe fn assume() -> Self {
            Self(())
        }
    }

    impl Compare32 for Avx512 {
        #[inline(always)]
        fn non_zero(self, values: &[f32; 32]) -> u32 {
            // SAFETY: an `Avx512` exists only where AVX-512F is available.
            unsafe { avx512_mask::<_CMP_NEQ_UQ>(values, _mm512_setzero_ps()) }
        }

        #[inline(always)]
        fn at_least(self, values: &[f32; 32], threshold: f32) -> u32 {
            // SAFETY: as above.
            unsafe { avx512_mask::<_CMP_GE_OQ>(values, _mm512_set1_ps(threshold)) }
        }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn avx512_mask<const PREDICATE: i32>(
        values: &[f32; 32],
        operand: std::arch::x86_64::__m512,
    ) -> u32 {
        // SAFETY: the two loads read 16 values each, within the 32 of `values`.
        let (low, high) = unsafe {
            (
                _mm512_loadu_ps(values.as_ptr()),
                _mm512_loadu_ps(values.as_ptr().add(16)),
            )
        };
        let low = _mm512_cmp_ps_mask::<PREDICATE>(low, operand);
        let high = _mm512_cmp_ps_mask::<PREDICATE>(high, operand);
        u32::from(low) | (u32::from(high) << 16)
    }

    /// AVX compares and `vmovmskps`, 8 lanes at a time. Only [`Avx2::assume`] makes one.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Avx2(());

    impl Avx2 {
        /// # Safety
        /// The CPU must support AVX2.
        #[inline(always)]
        pub(crate) unsafe fn assume() -> Self {
            Self(())
        }
    }

    impl Compare32 for Avx2 {
        #[inline(always)]
        fn non_zero(self, values: &[f32; 32]) -> u32 {
            // SAFETY: an `Avx2` exists only where AVX2 is available.
            unsafe { avx_mask::<_CMP_NEQ_UQ>(values, _mm256_setzero_ps()) }
        }

        #[inline(always)]
        fn at_least(self, values: &[f32; 32], threshold: f32) -> u32 {
            // SAFETY: as above.
            unsafe { avx_mask::<_CMP_GE_OQ>(values, _mm256_set1_ps(threshold)) }
        }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn avx_mask<const PREDICATE: i32>(
        values: &[f32; 32],
        operand: std::arch::x86_64::__m256,
    ) -> u32 {
        (0..4).fold(0, |mask, quarter| {
            // SAFETY: quarter · 8 + 8 ≤ 32 values are read.
            let lanes = unsafe { _mm256_loadu_ps(values.as_ptr().add(8 * quarter)) };
            let bits = _mm256_movemask_ps(_mm256_cmp_ps::<PREDICATE>(lanes, operand)) as u32;
            mask | (bits << (8 * quarter))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(compare: impl Compare32) {
        let mut values = [0.0f32; 32];
        for (l, v) in values.iter_mut().enumerate() {
            *v = match l % 5 {
                0 => 0.0,
                1 => -0.0,
                2 => 0.5,
                3 => f32::NAN,
                _ => 1.0e-40,
            };
        }
        values[31] = 2.0;
        for threshold in [0.5, 1.0, -1.0] {
            assert_eq!(
                compare.at_least(&values, threshold),
                Portable.at_least(&values, threshold),
                "threshold {threshold}"
            );
        }
        assert_eq!(compare.non_zero(&values), Portable.non_zero(&values));
        // Zeros of both signs are zero; NaN and denormals are not.
        let expected = (0..32)
            .filter(|l| l % 5 > 1 || *l == 31)
            .fold(0u32, |m, l| m | 1 << l);
        assert_eq!(Portable.non_zero(&values), expected);
    }

    #[test]
    fn vector_masks_equal_the_portable_ones() {
        check(Portable);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: detected above.
                check(unsafe { Avx2::assume() });
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: detected above.
                check(unsafe { Avx512::assume() });
            }
        }
    }
}
