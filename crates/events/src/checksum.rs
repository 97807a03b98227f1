//! Content checksums (xxh3, 64 bits, as hex) of cache parts, manifests and checkpoints:
//! fast enough to verify every file on every open (tens of GB/s), strong enough to catch
//! any flipped byte.

use xxhash_rust::xxh3::{Xxh3, xxh3_64};

/// The xxh3-64 checksum of `bytes`, as 16 hex digits.
pub fn checksum(bytes: &[u8]) -> String {
    format!("{:016x}", xxh3_64(bytes))
}

/// A checksum over several pieces, fed one after the other.
#[derive(Default, Clone)]
pub struct Checksum(Xxh3);

impl Checksum {
    /// An empty checksum.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update(bytes);
        self
    }

    /// The checksum of everything added, as 16 hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0.digest())
    }
}

/// The index of the first little-endian `f32` in `bytes` that is NaN or infinite.
pub fn first_non_finite(bytes: &[u8]) -> Option<usize> {
    const EXPONENT: u32 = 0x7f80_0000;
    bytes
        .chunks_exact(4)
        .position(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & EXPONENT == EXPONENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_hash_as_their_concatenation_and_any_flip_shows() {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut pieces = Checksum::new();
        pieces.update(&bytes[..300]).update(&bytes[300..]);
        assert_eq!(pieces.hex(), checksum(&bytes));
        let mut flipped = bytes.clone();
        flipped[777] ^= 0x10;
        assert_ne!(checksum(&flipped), checksum(&bytes));
    }

    #[test]
    fn finds_nan_and_infinity_but_not_large_finite_values() {
        let values = [0.0f32, f32::MAX, -1e30, f32::MIN_POSITIVE / 2.0];
        let mut bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(first_non_finite(&bytes), None);
        bytes.extend(f32::NEG_INFINITY.to_le_bytes());
        bytes.extend(f32::NAN.to_le_bytes());
        assert_eq!(first_non_finite(&bytes), Some(4));
    }
}
