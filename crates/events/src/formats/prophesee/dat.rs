//! Prophesee `.dat` files (the Gen1 and 1 Mpx automotive datasets, N-CARS), as the vendor's
//! Python loader reads them: after the header, if it has any line, one byte of event type
//! (`0x00` = `Event2D` or `0x0C` = `EventCD`; change-detection events either way) and one of
//! event size (8); then 8-byte little-endian records `u32 t (µs) | u32 data` with x =
//! `data[13:0]`, y = `data[27:14]`, polarity = `data[28]` (bits 31…29 unused, as the vendor's
//! loader leaves them). A file without header lines is all records. Times are taken as they
//! are (no wrap: 2³² µs is 71 minutes, longer than the datasets' recordings).

use std::path::Path;

use super::{parse_header, words};
use crate::error::{EventsError, Result};
use crate::formats::sensor::{Collector, SensorRecording};

/// The largest sensor `.dat` addresses: 14-bit coordinates.
pub const FORMAT_RANGE: (usize, usize) = (16384, 16384);

/// The event types of change-detection records: `Event2D` and `EventCD`.
const CD_TYPES: [u8; 2] = [0x00, 0x0C];

/// The record size.
const RECORD: usize = 8;

/// Reads a `.dat` file.
pub fn read(path: &Path) -> Result<SensorRecording> {
    parse(&crate::formats::read_bytes(path)?, path)
}

/// Parses the bytes of a `.dat` file.
pub fn parse(bytes: &[u8], path: &Path) -> Result<SensorRecording> {
    let header = parse_header(bytes, path)?;
    let mut start = header.data_start;
    if header.lines > 0 {
        let &[kind, size] = bytes.get(start..start + 2).unwrap_or_default() else {
            return Err(EventsError::malformed(
                path,
                start as u64,
                "the event type and size bytes after the header; the file ends first",
            ));
        };
        if !CD_TYPES.contains(&kind) || usize::from(size) != RECORD {
            return Err(EventsError::malformed(
                path,
                start as u64,
                format!(
                    "change-detection events (type 0x00 or 0x0C) of {RECORD} bytes; found type \
                     0x{kind:02X} of {size} bytes"
                ),
            ));
        }
        start += 2;
    }
    let records = words::<RECORD>(bytes, start, path)?;
    let mut out = Collector::new(path, header.sensor, FORMAT_RANGE, records.len());
    for (i, record) in records.enumerate() {
        let t = u32::from_le_bytes([record[0], record[1], record[2], record[3]]);
        let d = u32::from_le_bytes([record[4], record[5], record[6], record[7]]);
        let (x, y, p) = (d & 0x3FFF, (d >> 14) & 0x3FFF, (d >> 28) & 1);
        out.push(
            u64::from(t),
            u64::from(x),
            u64::from(y),
            p as u8,
            start + RECORD * i,
        )?;
    }
    Ok(out.finish())
}
