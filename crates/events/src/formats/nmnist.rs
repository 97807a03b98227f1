//! N-MNIST's ATIS `.bin` format (also SLAYER's `.bs2`), read as SpikingJelly does.
//!
//! Five bytes per event, no header: `x`, `y`, then polarity in bit 7 of byte 2 and a 23-bit
//! big-endian timestamp in the remaining bits. No flips, no overflow handling.

use std::path::Path;

use super::{check_writable, read_bytes, write_atomically};
use crate::error::{EventsError, Result};
use crate::events::Events;

/// Sensor crop size (height, width).
pub const SENSOR_SIZE: (usize, usize) = (34, 34);

/// N-Caltech101's sensor size (height, width), SpikingJelly's `get_H_W`: its recordings use
/// this record format from the whole ATIS array.
pub const NCALTECH101_SENSOR_SIZE: (usize, usize) = (180, 240);

/// Reads an N-MNIST `.bin` (or `.bs2`) file.
pub fn read(path: &Path) -> Result<Events> {
    parse(&read_bytes(path)?, path)
}

/// Parses the bytes of an N-MNIST file (`path` names it in errors).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Events> {
    let whole = bytes.len() / 5 * 5;
    if whole != bytes.len() {
        return Err(EventsError::malformed(
            path,
            whole as u64,
            format!(
                "a whole 5-byte event; the file is {} bytes, {} left over",
                bytes.len(),
                bytes.len() - whole
            ),
        ));
    }
    let mut events = Events::with_capacity(bytes.len() / 5);
    for event in bytes.chunks_exact(5) {
        let t =
            (u64::from(event[2] & 0x7F) << 16) | (u64::from(event[3]) << 8) | u64::from(event[4]);
        events.push(t, u16::from(event[0]), u16::from(event[1]), event[2] >> 7);
    }
    Ok(events)
}

/// Encodes events as an N-MNIST file that [`parse`] reads back to the same events.
pub fn encode(events: &Events, path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(5 * events.len());
    for i in 0..events.len() {
        let (t, x, y, p) = (events.t[i], events.x[i], events.y[i], events.p[i]);
        check_writable(events, i, 255, 23, path)?;
        bytes.extend_from_slice(&[
            x as u8,
            y as u8,
            (p << 7) | (t >> 16) as u8,
            (t >> 8) as u8,
            t as u8,
        ]);
    }
    Ok(bytes)
}

/// Writes events as an N-MNIST `.bin` file (atomically: temporary file, then rename).
pub fn write(path: &Path, events: &Events) -> Result<()> {
    write_atomically(path, &encode(events, path)?)
}
