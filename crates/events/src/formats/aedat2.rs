//! jAER AEDAT 2.0 as recorded for CIFAR10-DVS (DVS128 sensor), read as SpikingJelly does.
//!
//! Layout: text header lines starting with `#`, then big-endian 8-byte records
//! `(address: u32, timestamp: u32)`. Address bits: polarity `a & 1`, `x_raw = (a & 0xFE) >> 1`,
//! `y_raw = (a & 0x7F00) >> 8`; every other bit is ignored. SpikingJelly transposes and
//! rotates: `x = 127 − y_raw`, `y = 127 − x_raw`, `p = 1 − polarity`.

use std::path::Path;

use super::{check_writable, read_bytes, write_atomically};
use crate::error::{EventsError, Result};
use crate::events::Events;

/// Sensor size (height, width).
pub const SENSOR_SIZE: (usize, usize) = (128, 128);

/// Reads a CIFAR10-DVS `.aedat` file.
pub fn read(path: &Path) -> Result<Events> {
    parse(&read_bytes(path)?, path)
}

/// Parses the bytes of a CIFAR10-DVS `.aedat` file (`path` names it in errors).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Events> {
    let start = header_len(bytes);
    let body = &bytes[start..];
    let whole = body.len() / 8 * 8;
    if whole != body.len() {
        return Err(EventsError::malformed(
            path,
            (start + whole) as u64,
            format!(
                "a whole 8-byte (address, timestamp) record; the body after the {start}-byte \
                 header is {} bytes, {} left over",
                body.len(),
                body.len() - whole
            ),
        ));
    }
    let mut events = Events::with_capacity(body.len() / 8);
    for record in body.chunks_exact(8) {
        let address = u32::from_be_bytes([record[0], record[1], record[2], record[3]]);
        let timestamp = u32::from_be_bytes([record[4], record[5], record[6], record[7]]);
        let x_raw = ((address & 0xFE) >> 1) as u16;
        let y_raw = ((address & 0x7F00) >> 8) as u16;
        let polarity = (address & 1) as u8;
        events.push(u64::from(timestamp), 127 - y_raw, 127 - x_raw, 1 - polarity);
    }
    Ok(events)
}

/// The length of the header, as SpikingJelly's `_skip_header` finds it: lines (each ending
/// at `\n`, or at the end of the file) are header lines while, decoded as UTF-8 and stripped
/// of whitespace, they start with `#`; the first line that is blank, does not start with `#`
/// or is not UTF-8 ends the header. (SpikingJelly raises where the very first line is not
/// UTF-8; here that file simply has no header.)
pub fn header_len(bytes: &[u8]) -> usize {
    let mut offset = 0;
    loop {
        let line = line_at(bytes, offset);
        match std::str::from_utf8(line) {
            Ok(text) if text.trim_matches(is_python_space).starts_with('#') => {
                offset += line.len();
            }
            _ => return offset,
        }
    }
}

/// The line starting at `offset`, with its `\n` if it has one.
fn line_at(bytes: &[u8], offset: usize) -> &[u8] {
    let rest = &bytes[offset..];
    match rest.iter().position(|&b| b == b'\n') {
        Some(end) => &rest[..=end],
        None => rest,
    }
}

/// Python's `str.isspace` (what `str.strip()` removes): Unicode white space plus the
/// separators U+001C..U+001F.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Encodes events in SpikingJelly's coordinates as an AEDAT 2.0 file that [`parse`] reads
/// back to the same events: a jAER header, then the records.
pub fn encode(events: &Events, path: &Path) -> Result<Vec<u8>> {
    let header = b"#!AER-DAT2.0\r\n# This is a raw AE data file created by spikeforge\r\n\
# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event\r\n\
# Timestamps tick is 1 us\r\n";
    let mut bytes = Vec::with_capacity(header.len() + 8 * events.len());
    bytes.extend_from_slice(header);
    for i in 0..events.len() {
        let (t, x, y, p) = (events.t[i], events.x[i], events.y[i], events.p[i]);
        check_writable(events, i, 127, 32, path)?;
        let (x_raw, y_raw) = (u32::from(127 - y), u32::from(127 - x));
        let address = (y_raw << 8) | (x_raw << 1) | u32::from(1 - p);
        bytes.extend_from_slice(&address.to_be_bytes());
        bytes.extend_from_slice(&(t as u32).to_be_bytes());
    }
    Ok(bytes)
}

/// Writes events as an AEDAT 2.0 file (atomically: temporary file, then rename).
pub fn write(path: &Path, events: &Events) -> Result<()> {
    write_atomically(path, &encode(events, path)?)
}
