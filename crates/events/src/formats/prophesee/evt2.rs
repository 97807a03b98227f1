//! Prophesee EVT 2.0 `.raw`: after the header, little-endian 32-bit words, the type in the
//! top four bits:
//!
//! | type | word | bits |
//! |---|---|---|
//! | `0x0` / `0x1` | `CD_OFF` / `CD_ON` (polarity 0 / 1) | `[27:22]` time's low 6 bits, `[21:11]` x, `[10:0]` y |
//! | `0x8` | `EVT_TIME_HIGH` | `[27:0]` time's bits 33…6 |
//! | `0xA` | `EXT_TRIGGER` | skipped (counted) |
//! | `0xE` / `0xF` | `OTHERS` / `CONTINUED` | skipped (counted) |
//!
//! An event's time is `time_high << 6 | low`; events before the first `EVT_TIME_HIGH` have
//! `time_high = 0`. The 34-bit time wraps after 4 h 46 min: an `EVT_TIME_HIGH` that falls
//! by nearly a whole loop adds 2³⁴ µs to every later time (OpenEB's rule, `TimeHigh`).
//! Other word types are reserved by the specification and are an error naming their offset.

use std::path::Path;

use super::{Encoding, Header, TimeHigh, parse_header, words};
use crate::error::{EventsError, Result};
use crate::formats::sensor::{Collector, SensorRecording};

/// The largest sensor EVT 2.0 addresses: 11-bit coordinates.
pub const FORMAT_RANGE: (usize, usize) = (2048, 2048);

/// Reads an EVT 2.0 `.raw` file.
pub fn read(path: &Path) -> Result<SensorRecording> {
    parse(&crate::formats::read_bytes(path)?, path)
}

/// Parses the bytes of an EVT 2.0 `.raw` file (its header may also leave the encoding
/// unsaid; one declaring another is an error).
pub fn parse(bytes: &[u8], path: &Path) -> Result<SensorRecording> {
    let header = parse_header(bytes, path)?;
    header.expect(Encoding::Evt2, path)?;
    decode(bytes, &header, path)
}

/// Decodes the words after `header`.
pub(super) fn decode(bytes: &[u8], header: &Header, path: &Path) -> Result<SensorRecording> {
    let words = words::<4>(bytes, header.data_start, path)?;
    let mut out = Collector::new(path, header.sensor, FORMAT_RANGE, words.len());
    let mut time_high = TimeHigh::<28>::default();
    for (i, word) in words.enumerate() {
        let w = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        let offset = header.data_start + 4 * i;
        match w >> 28 {
            kind @ (0x0 | 0x1) => {
                let t = (time_high.bits() << 6) | u64::from((w >> 22) & 0x3F);
                let (x, y) = (u64::from((w >> 11) & 0x7FF), u64::from(w & 0x7FF));
                out.push(t, x, y, kind as u8, offset)?;
            }
            0x8 => time_high.update(u64::from(w & 0x0FFF_FFFF)),
            0xA | 0xE | 0xF => out.skip(),
            kind => {
                return Err(EventsError::malformed(
                    path,
                    offset as u64,
                    format!(
                        "an EVT 2.0 word of type 0x0, 0x1, 0x8, 0xA, 0xE or 0xF; found type \
                         0x{kind:X} (reserved)"
                    ),
                ));
            }
        }
    }
    Ok(out.finish())
}
