//! Bit masks of 32 `f32` comparisons, for the event-driven kernels: which inputs hold
//! events, which neurons fired (and the list of those neurons).
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

    /// Fires 32 neurons whose potentials `h` hold `H`: bit `l` set where `h[l] >= threshold`
    /// (false for NaN); `h[l]` becomes the potential after the spike's reset (`reset`, or
    /// `H − threshold` for a soft reset; `H` where it did not fire) plus `add[l]`.
    #[inline(always)]
    fn fire_and_add(self, h: &mut [f32; 32], rule: (f32, Option<f32>), add: &[f32; 32]) -> u32 {
        fire_and_add(h, rule, add)
    }

    /// Appends `first + l` for every set bit `l` of `mask`, in increasing order.
    #[inline(always)]
    fn append_set_bits(self, out: &mut Vec<u32>, first: u32, mut mask: u32) {
        while mask != 0 {
            out.push(first + mask.trailing_zeros());
            mask &= mask - 1;
        }
    }
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

/// [`Compare32::fire_and_add`] in plain Rust, for up to 32 neurons (the end of a row too).
#[inline(always)]
pub(crate) fn fire_and_add(
    h: &mut [f32],
    (threshold, reset): (f32, Option<f32>),
    add: &[f32],
) -> u32 {
    let mut fired = 0;
    for (l, (h, &add)) in h.iter_mut().zip(add).enumerate() {
        let spike = *h >= threshold;
        let after = if spike {
            reset.unwrap_or(*h - threshold)
        } else {
            *h
        };
        *h = after + add;
        fired |= u32::from(spike) << l;
    }
    fired
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
        __m256, _CMP_GE_OQ, _CMP_NEQ_UQ, _mm256_add_ps, _mm256_blendv_ps, _mm256_cmp_ps,
        _mm256_loadu_ps, _mm256_movemask_ps, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps,
        _mm256_sub_ps, _mm512_add_epi32, _mm512_add_ps, _mm512_cmp_ps_mask, _mm512_loadu_ps,
        _mm512_mask_blend_ps, _mm512_maskz_compress_epi32, _mm512_set1_epi32, _mm512_set1_ps,
        _mm512_setr_epi32, _mm512_setzero_ps, _mm512_storeu_ps, _mm512_storeu_si512, _mm512_sub_ps,
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

        #[inline(always)]
        fn fire_and_add(self, h: &mut [f32; 32], rule: (f32, Option<f32>), add: &[f32; 32]) -> u32 {
            // SAFETY: an `Avx512` exists only where AVX-512F is available.
            unsafe { avx512_fire_and_add(h, rule, add) }
        }

        /// Without a branch per bit: each half of the mask compresses its lanes' indices
        /// into one register (`vpcompressd` to a register; to memory it is microcoded on
        /// some CPUs), stored whole; only the count of them is kept.
        #[inline(always)]
        fn append_set_bits(self, out: &mut Vec<u32>, first: u32, mask: u32) {
            // SAFETY: an `Avx512` exists only where AVX-512F is available.
            unsafe { avx512_append_set_bits(out, first, mask) }
        }
    }

    /// Two halves of 16: a compare into a mask register, a blend with the reset value, an add.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn avx512_fire_and_add(
        h: &mut [f32; 32],
        (threshold, reset): (f32, Option<f32>),
        add: &[f32; 32],
    ) -> u32 {
        let threshold = _mm512_set1_ps(threshold);
        let mut fired = 0;
        for half in 0..2 {
            // SAFETY: each half reads and writes 16 values of the 32 of `h` and `add`.
            unsafe {
                let at = h.as_mut_ptr().add(16 * half);
                let charged = _mm512_loadu_ps(at);
                let spikes = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(charged, threshold);
                let after = match reset {
                    Some(reset) => _mm512_set1_ps(reset),
                    None => _mm512_sub_ps(charged, threshold),
                };
                let next = _mm512_mask_blend_ps(spikes, charged, after);
                let next = _mm512_add_ps(next, _mm512_loadu_ps(add.as_ptr().add(16 * half)));
                _mm512_storeu_ps(at, next);
                fired |= u32::from(spikes) << (16 * half);
            }
        }
        fired
    }

    /// (POPCNT: every CPU with AVX-512F has it.)
    #[target_feature(enable = "avx512f,popcnt")]
    #[inline]
    fn avx512_append_set_bits(out: &mut Vec<u32>, first: u32, mask: u32) {
        out.reserve(32);
        let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let low = _mm512_add_epi32(lanes, _mm512_set1_epi32(first as i32));
        let high = _mm512_add_epi32(low, _mm512_set1_epi32(16));
        let low_count = (mask & 0xffff).count_ones() as usize;
        // SAFETY: 32 values are reserved past the length, and the two stores write 16 each
        // from there (the second from at most 16 further on); `set_len` keeps only the
        // indices written by the compresses.
        unsafe {
            let end = out.as_mut_ptr().add(out.len());
            _mm512_storeu_si512(end.cast(), _mm512_maskz_compress_epi32(mask as u16, low));
            _mm512_storeu_si512(
                end.add(low_count).cast(),
                _mm512_maskz_compress_epi32((mask >> 16) as u16, high),
            );
            out.set_len(out.len() + mask.count_ones() as usize);
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

        #[inline(always)]
        fn fire_and_add(self, h: &mut [f32; 32], rule: (f32, Option<f32>), add: &[f32; 32]) -> u32 {
            // SAFETY: as above.
            unsafe { avx_fire_and_add(h, rule, add) }
        }
    }

    /// Four quarters of 8: a compare, a blend with the reset value, an add; the mask bits by
    /// `vmovmskps`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn avx_fire_and_add(
        h: &mut [f32; 32],
        (threshold, reset): (f32, Option<f32>),
        add: &[f32; 32],
    ) -> u32 {
        let threshold = _mm256_set1_ps(threshold);
        let mut fired = 0;
        for quarter in 0..4 {
            // SAFETY: each quarter reads and writes 8 values of the 32 of `h` and `add`.
            unsafe {
                let at = h.as_mut_ptr().add(8 * quarter);
                let charged = _mm256_loadu_ps(at);
                let spikes: __m256 = _mm256_cmp_ps::<_CMP_GE_OQ>(charged, threshold);
                let after = match reset {
                    Some(reset) => _mm256_set1_ps(reset),
                    None => _mm256_sub_ps(charged, threshold),
                };
                let next = _mm256_blendv_ps(charged, after, spikes);
                let next = _mm256_add_ps(next, _mm256_loadu_ps(add.as_ptr().add(8 * quarter)));
                _mm256_storeu_ps(at, next);
                fired |= (_mm256_movemask_ps(spikes) as u32) << (8 * quarter);
            }
        }
        fired
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
        for threshold in [0.5, 1.0, -1.0] {
            for reset in [None, Some(0.0), Some(-0.25)] {
                let add: [f32; 32] = std::array::from_fn(|l| l as f32 / 8.0);
                let (mut fast, mut portable) = (values, values);
                let fired = compare.fire_and_add(&mut fast, (threshold, reset), &add);
                let expected = Portable.fire_and_add(&mut portable, (threshold, reset), &add);
                assert_eq!(fired, expected, "threshold {threshold}, reset {reset:?}");
                assert_eq!(fired, Portable.at_least(&values, threshold));
                assert_eq!(fast.map(f32::to_bits), portable.map(f32::to_bits));
            }
        }
        for mask in [
            0,
            1,
            1 << 31,
            0xffff_ffff,
            0x8001_7ff0,
            0x0000_ffff,
            0xffff_0000,
        ] {
            let (mut appended, mut expected) = (vec![7], vec![7]);
            compare.append_set_bits(&mut appended, 100, mask);
            expected.extend((0..32).filter(|l| mask >> l & 1 == 1).map(|l| 100 + l));
            assert_eq!(appended, expected, "mask {mask:#x}");
        }
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
