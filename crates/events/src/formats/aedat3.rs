//! AEDAT 3.1 as recorded for DVS128 Gesture, read as SpikingJelly does, and the `*_labels.csv`
//! files that cut a recording into labelled samples.
//!
//! Layout: `#` header lines up to and including `#!END-HEADER\r\n`, then packets: a 28-byte
//! little-endian header (`u16 type, u16 source, u32 size, u32 ts_offset, u32 ts_overflow,
//! u32 capacity, u32 number, u32 valid`) and `capacity · size` bytes of events. Only polarity
//! packets (type 1) are decoded, all `capacity` slots (the valid bit is not checked):
//! `data: u32, ts: u32`, `x = (data >> 17) & 0x7FFF`, `y = (data >> 2) & 0x7FFF`,
//! `p = (data >> 1) & 1`, `t = ts | ts_overflow << 31`.

use std::path::Path;

use super::read_bytes;
use crate::error::{EventsError, Result};
use crate::events::Events;

/// Sensor size (height, width).
pub const SENSOR_SIZE: (usize, usize) = (128, 128);

const PACKET_HEADER: usize = 28;
const POLARITY_EVENT: u16 = 1;

/// Reads a DVS128 Gesture `.aedat` file.
pub fn read(path: &Path) -> Result<Events> {
    parse(&read_bytes(path)?, path)
}

/// Parses the bytes of an AEDAT 3.1 file (`path` names it in errors).
///
/// Differences from SpikingJelly, which silently reads a short last packet: a packet cut
/// short by the end of the file is an error, as is a polarity packet whose event size is
/// below 8 bytes.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Events> {
    let mut offset = header_len(bytes);
    let mut events = Events::default();
    while offset < bytes.len() {
        let header = bytes.get(offset..offset + PACKET_HEADER).ok_or_else(|| {
            EventsError::malformed(
                path,
                offset as u64,
                format!(
                    "a {PACKET_HEADER}-byte packet header; only {} bytes remain",
                    bytes.len() - offset
                ),
            )
        })?;
        let u32_at =
            |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let event_type = u16::from_le_bytes([header[0], header[1]]);
        let event_size = u32_at(4) as usize;
        let overflow = u64::from(u32_at(12));
        let capacity = u32_at(16) as usize;
        let data_start = offset + PACKET_HEADER;
        let data_len = capacity
            .checked_mul(event_size)
            .filter(|&n| n <= bytes.len() - data_start);
        let Some(data_len) = data_len else {
            return Err(EventsError::malformed(
                path,
                data_start as u64,
                format!(
                    "{capacity} events of {event_size} bytes (packet type {event_type}); only {} \
                     bytes remain",
                    bytes.len() - data_start
                ),
            ));
        };
        if event_type == POLARITY_EVENT && capacity > 0 {
            if event_size < 8 {
                return Err(EventsError::malformed(
                    path,
                    (offset + 4) as u64,
                    format!("polarity events of at least 8 bytes, the header says {event_size}"),
                ));
            }
            let data = &bytes[data_start..data_start + data_len];
            for event in data.chunks_exact(event_size) {
                let word = u32::from_le_bytes([event[0], event[1], event[2], event[3]]);
                let ts = u32::from_le_bytes([event[4], event[5], event[6], event[7]]);
                events.push(
                    u64::from(ts) | (overflow << 31),
                    ((word >> 17) & 0x7FFF) as u16,
                    ((word >> 2) & 0x7FFF) as u16,
                    ((word >> 1) & 1) as u8,
                );
            }
        }
        offset = data_start + data_len;
    }
    Ok(events)
}

/// The header's length: lines starting with `#` up to and including `#!END-HEADER\r\n`; if
/// that line is missing, the first line not starting with `#` is consumed too (as
/// SpikingJelly's reader does).
pub fn header_len(bytes: &[u8]) -> usize {
    let mut offset = 0;
    while offset < bytes.len() {
        let rest = &bytes[offset..];
        let line_len = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = &rest[..line_len];
        offset += line_len;
        if !line.starts_with(b"#") || line == b"#!END-HEADER\r\n" {
            break;
        }
    }
    offset
}

/// One row of a `*_labels.csv` file: a gesture class (1..=11) and its time window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelledWindow {
    /// The label, `class − 1` (0..=10).
    pub label: u8,
    /// First timestamp of the window (µs, inclusive).
    pub start: u64,
    /// End of the window (µs, exclusive).
    pub end: u64,
}

/// Reads a DVS128 Gesture `*_labels.csv` file.
pub fn read_labels(path: &Path) -> Result<Vec<LabelledWindow>> {
    parse_labels(&read_bytes(path)?, path)
}

/// Parses a labels CSV: a header row, then `class,startTime_usec,endTime_usec` rows, each
/// with its start before its end.
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<LabelledWindow>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        EventsError::malformed(path, e.valid_up_to() as u64, "UTF-8 text (a labels CSV)")
    })?;
    let mut windows = Vec::new();
    let mut offset = 0;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let line_offset = offset;
        offset += line.len();
        let row = line.trim();
        if number == 0 || row.is_empty() {
            continue;
        }
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        let parsed: Option<Vec<u64>> = fields.iter().map(|f| f.parse().ok()).collect();
        let window = match parsed.as_deref() {
            Some(&[class, start, end]) if (1..=11).contains(&class) && start < end => {
                LabelledWindow {
                    label: (class - 1) as u8,
                    start,
                    end,
                }
            }
            _ => {
                return Err(EventsError::malformed(
                    path,
                    line_offset as u64,
                    format!(
                        "line {}: `class,startTime_usec,endTime_usec` with class 1..=11 and the \
                         start before the end, found `{row}`",
                        number + 1
                    ),
                ));
            }
        };
        windows.push(window);
    }
    Ok(windows)
}

/// Cuts a recording into its labelled samples, as SpikingJelly: sample `k` of a label is the
/// `k`-th window with that label in file order, and holds the events with
/// `start ≤ t < end` (by mask, so unsorted timestamps are handled alike). Empty samples are
/// kept. Returns `(label, k, events)`.
pub fn split_by_labels(events: &Events, windows: &[LabelledWindow]) -> Vec<(u8, usize, Events)> {
    let mut count = [0usize; 11];
    windows
        .iter()
        .map(|window| {
            let k = count[usize::from(window.label)];
            count[usize::from(window.label)] += 1;
            let sample =
                events.filter_indices(|i| window.start <= events.t[i] && events.t[i] < window.end);
            (window.label, k, sample)
        })
        .collect()
}
