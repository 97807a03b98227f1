//! Prophesee EVT 3.0 `.raw`: after the header, little-endian 16-bit words, the type in the
//! top four bits; the decoder keeps a state (row, vector base, polarity, time) that the words
//! update:
//!
//! | type | word | bits |
//! |---|---|---|
//! | `0x0` | `EVT_ADDR_Y` | `[10:0]` y (the row of the events that follow) |
//! | `0x2` | `EVT_ADDR_X` | `[11]` polarity, `[10:0]` x: one event |
//! | `0x3` | `VECT_BASE_X` | `[11]` polarity, `[10:0]` x: the base of the vectors that follow |
//! | `0x4` | `VECT_12` | `[11:0]` one event at `base + k` per set bit `k`; then `base += 12` |
//! | `0x5` | `VECT_8` | `[7:0]` the same for 8 pixels; then `base += 8` |
//! | `0x6` | `EVT_TIME_LOW` | `[11:0]` time's bits 11…0 |
//! | `0x8` | `EVT_TIME_HIGH` | `[11:0]` time's bits 23…12 |
//! | `0x7`, `0xA`, `0xE`, `0xF` | `CONTINUED_4`, `EXT_TRIGGER`, `OTHERS`, `CONTINUED_12` | skipped (counted) |
//!
//! The time base has 24 bits and wraps every 16.78 s: an `EVT_TIME_HIGH` that falls by nearly
//! a whole loop adds 2²⁴ µs to every later time (OpenEB's rule, `TimeHigh`); `EVT_TIME_LOW`
//! only sets the low bits. State not yet set by a word is 0. Other word types are reserved by the specification and are an error
//! naming their offset.

use std::path::Path;

use super::{Encoding, Header, TimeHigh, parse_header, words};
use crate::error::{EventsError, Result};
use crate::formats::sensor::{Collector, SensorRecording};

/// The largest sensor EVT 3.0 addresses: 11-bit coordinates.
pub const FORMAT_RANGE: (usize, usize) = (2048, 2048);

/// Reads an EVT 3.0 `.raw` file.
pub fn read(path: &Path) -> Result<SensorRecording> {
    parse(&crate::formats::read_bytes(path)?, path)
}

/// Parses the bytes of an EVT 3.0 `.raw` file (its header may also leave the encoding
/// unsaid; one declaring another is an error).
pub fn parse(bytes: &[u8], path: &Path) -> Result<SensorRecording> {
    let header = parse_header(bytes, path)?;
    header.expect(Encoding::Evt3, path)?;
    decode(bytes, &header, path)
}

/// Decodes the words after `header`.
pub(super) fn decode(bytes: &[u8], header: &Header, path: &Path) -> Result<SensorRecording> {
    let words = words::<2>(bytes, header.data_start, path)?;
    let mut out = Collector::new(path, header.sensor, FORMAT_RANGE, words.len());
    let (mut y, mut base_x, mut polarity) = (0u64, 0u64, 0u8);
    let (mut time_low, mut time_high) = (0u64, TimeHigh::<12>::default());
    for (i, word) in words.enumerate() {
        let w = u16::from_le_bytes([word[0], word[1]]);
        let offset = header.data_start + 2 * i;
        let t = (time_high.bits() << 12) | time_low;
        match w >> 12 {
            0x0 => y = u64::from(w & 0x7FF),
            0x2 => out.push(t, u64::from(w & 0x7FF), y, (w >> 11) as u8 & 1, offset)?,
            0x3 => {
                base_x = u64::from(w & 0x7FF);
                polarity = (w >> 11) as u8 & 1;
            }
            kind @ (0x4 | 0x5) => {
                let (width, mask) = if kind == 0x4 {
                    (12, w & 0xFFF)
                } else {
                    (8, w & 0xFF)
                };
                let mut bits = mask;
                while bits != 0 {
                    let k = u64::from(bits.trailing_zeros());
                    out.push(t, base_x + k, y, polarity, offset)?;
                    bits &= bits - 1;
                }
                // Saturates far beyond any sensor, so a run of vectors cannot overflow.
                base_x = (base_x + width).min(1 << 32);
            }
            0x6 => time_low = u64::from(w & 0xFFF),
            0x8 => time_high.update(u64::from(w & 0xFFF)),
            0x7 | 0xA | 0xE | 0xF => out.skip(),
            kind => {
                return Err(EventsError::malformed(
                    path,
                    offset as u64,
                    format!(
                        "an EVT 3.0 word of type 0x0, 0x2 to 0x8, 0xA, 0xE or 0xF; found type \
                         0x{kind:X} (reserved)"
                    ),
                ));
            }
        }
    }
    Ok(out.finish())
}
