//! Flush-to-zero for the CPU kernels: no denormal cliff.
//!
//! Numbers below `f32::MIN_POSITIVE` (1.2e-38), denormals, arise in spiking networks' training
//! (surrogate gradients of far-from-threshold membranes, decaying momenta) and cost 10–100
//! cycles per operation on many x86 CPUs: the same build ran the seed SNN's training step 5×
//! slower on frames that produce them. Flushing them to zero (x86's MXCSR FTZ and DAZ bits;
//! aarch64's FPCR FZ bit) moves no spike and no gradient beyond 1e-5, since every such value
//! is 1e-33 below the values it is added to.
//!
//! [`FlushToZero::begin`] sets flush-to-zero on every thread of the current rayon pool, once
//! and for good (they run the kernels' parallel work), and on the calling thread until the
//! guard drops (its previous mode is restored, so the caller's own arithmetic is untouched).
//! Every CPU kernel entry point and the training step hold one. Threads of another rayon pool
//! can set it with [`flush_current_thread`] (a `ThreadPoolBuilder::start_handler`).
//! `SPIKEFORGE_DENORMALS=keep` in the environment keeps gradual underflow everywhere (to
//! measure the cliff, or for arithmetic that needs denormals).

use std::sync::OnceLock;

/// Whether flushing is on for this process (`SPIKEFORGE_DENORMALS` is not `keep`), read once.
pub fn flushing_enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var("SPIKEFORGE_DENORMALS").map_or(true, |v| v != "keep"))
}

/// Flush-to-zero on the calling thread while held, and on the rayon pool's threads for good.
#[must_use = "flushing ends when the guard drops"]
pub struct FlushToZero {
    previous: Option<u64>,
}

impl FlushToZero {
    /// Starts flushing denormals (unless `SPIKEFORGE_DENORMALS=keep`); a no-op on CPUs without
    /// a flush-to-zero mode.
    pub fn begin() -> Self {
        if !flushing_enabled() {
            return Self { previous: None };
        }
        flush_rayon_pool();
        Self {
            previous: set_flush(),
        }
    }
}

impl Drop for FlushToZero {
    fn drop(&mut self) {
        if let Some(mode) = self.previous {
            control::write(mode);
        }
    }
}

/// Sets flush-to-zero on the calling thread for good (for a rayon pool's `start_handler`).
/// Returns whether this CPU has such a mode.
pub fn flush_current_thread() -> bool {
    set_flush().is_some()
}

/// Sets the flush bits on the calling thread; returns its previous mode (`None` on CPUs
/// without one).
fn set_flush() -> Option<u64> {
    let previous = control::read()?;
    control::write(previous | control::FLUSH_BITS);
    Some(previous)
}

/// Whether the calling thread flushes denormals now.
pub fn current_thread_flushes() -> bool {
    control::read().is_some_and(|mode| mode & control::FLUSH_BITS == control::FLUSH_BITS)
}

/// Sets flush-to-zero on every thread of the current rayon pool, the first time only.
fn flush_rayon_pool() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        rayon::broadcast(|_| flush_current_thread());
    });
}

/// The floating-point control register of this architecture.
#[cfg(target_arch = "x86_64")]
mod control {
    use std::arch::asm;

    /// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6).
    pub const FLUSH_BITS: u64 = 0x8040;

    pub fn read() -> Option<u64> {
        let mut mxcsr: u32 = 0;
        // SAFETY: stmxcsr stores the 32-bit MXCSR to the given, valid address.
        unsafe { asm!("stmxcsr [{}]", in(reg) &mut mxcsr, options(nostack, preserves_flags)) };
        Some(u64::from(mxcsr))
    }

    pub fn write(mode: u64) {
        let mxcsr = mode as u32;
        // SAFETY: ldmxcsr loads MXCSR from the given address; the value is a previous MXCSR
        // with only the FTZ/DAZ bits changed, so no reserved bit is set.
        unsafe {
            asm!("ldmxcsr [{}]", in(reg) &mxcsr, options(nostack, readonly, preserves_flags))
        };
    }
}

/// The floating-point control register of this architecture.
#[cfg(target_arch = "aarch64")]
mod control {
    use std::arch::asm;

    /// FPCR's flush-to-zero (bit 24).
    pub const FLUSH_BITS: u64 = 1 << 24;

    pub fn read() -> Option<u64> {
        let fpcr: u64;
        // SAFETY: reading FPCR has no side effect.
        unsafe { asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags)) };
        Some(fpcr)
    }

    pub fn write(mode: u64) {
        // SAFETY: the value is a previous FPCR with only the FZ bit changed.
        unsafe { asm!("msr fpcr, {}", in(reg) mode, options(nomem, nostack, preserves_flags)) };
    }
}

/// Elsewhere: no flush-to-zero mode (denormals are kept).
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod control {
    pub const FLUSH_BITS: u64 = 0;

    pub fn read() -> Option<u64> {
        None
    }

    pub fn write(_: u64) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest normal f32 halved: a denormal, unless flushed.
    fn tiny_product(a: f32) -> f32 {
        std::hint::black_box(a) * std::hint::black_box(0.5)
    }

    #[test]
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn the_guard_flushes_and_restores() {
        if !flushing_enabled() {
            return;
        }
        let before = current_thread_flushes();
        assert!(tiny_product(f32::MIN_POSITIVE) > 0.0 || before);
        {
            let _flush = FlushToZero::begin();
            assert!(current_thread_flushes());
            assert_eq!(tiny_product(f32::MIN_POSITIVE), 0.0);
            let in_pool: Vec<bool> = rayon::broadcast(|_| current_thread_flushes());
            assert!(in_pool.iter().all(|&f| f), "every pool thread flushes");
        }
        assert_eq!(
            current_thread_flushes(),
            before,
            "the caller's mode is restored"
        );
    }
}
