//! Prophesee recordings: EVT 2.0 and EVT 3.0 `.raw` files ([`evt2`], [`evt3`]) and `.dat`
//! files ([`dat`], the Gen1 and 1 Mpx automotive datasets), as the vendor's format
//! documentation and loaders define them. Readers only.
//!
//! All three start with ASCII header lines `% key value\n`. The header ends at `% end` (the
//! line included) or before the first line that does not start with `%`, as OpenEB and the
//! vendor's `.dat` loader end it. Read from it: the encoding (`% evt 2.0`, `% evt 3.0`, or
//! `% format EVT3;height=720;width=1280`) and the sensor size (`% geometry 1280x720`, the
//! `format` line's `height=`/`width=`, or `.dat`'s `% Height 240` and `% Width 304`).
//! Declarations that disagree are an error; other lines are kept as they are, unread.

pub mod dat;
pub mod evt2;
pub mod evt3;

use std::path::Path;

use super::sensor::SensorRecording;
use crate::error::{EventsError, Result};

/// The event encoding a `.raw` header declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoding {
    /// EVT 2.0: 32-bit words.
    Evt2,
    /// EVT 3.0: 16-bit words.
    Evt3,
    /// Another encoding (EVT 2.1, say), by the name the header gives; not read.
    Other(String),
}

/// A Prophesee header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Byte offset of the first byte after the header.
    pub data_start: usize,
    /// Number of header lines.
    pub lines: usize,
    /// The encoding, where declared.
    pub encoding: Option<Encoding>,
    /// The sensor's `(height, width)`, where declared.
    pub sensor: Option<(usize, usize)>,
}

/// Parses the header at the start of `bytes` (the file `path`).
pub fn parse_header(bytes: &[u8], path: &Path) -> Result<Header> {
    let mut header = Header {
        data_start: 0,
        lines: 0,
        encoding: None,
        sensor: None,
    };
    let (mut height, mut width) = (Declared::default(), Declared::default());
    let mut at = 0;
    while bytes.get(at) == Some(&b'%') {
        let Some(length) = bytes[at..].iter().position(|&b| b == b'\n') else {
            return Err(EventsError::malformed(
                path,
                at as u64,
                "a header line ending in a newline; the file ends first",
            ));
        };
        let line = String::from_utf8_lossy(&bytes[at + 1..at + length]);
        let line = line.trim();
        let bad = |what: String| EventsError::malformed(path, at as u64, what);
        let (key, value) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let value = value.trim();
        match key {
            "evt" => header.set_encoding(encoding_named(value), at, path)?,
            "format" => {
                let mut parts = value.split(';');
                let name = parts.next().unwrap_or_default();
                header.set_encoding(encoding_named(name), at, path)?;
                for part in parts {
                    match part.split_once('=') {
                        Some(("height", v)) => {
                            height.set(number(v, line).map_err(bad)?, at, path)?
                        }
                        Some(("width", v)) => width.set(number(v, line).map_err(bad)?, at, path)?,
                        _ => {}
                    }
                }
            }
            "geometry" => {
                let (w, h) = value
                    .split_once('x')
                    .ok_or_else(|| bad(format!("`% geometry WIDTHxHEIGHT`; found `{line}`")))?;
                width.set(number(w, line).map_err(bad)?, at, path)?;
                height.set(number(h, line).map_err(bad)?, at, path)?;
            }
            "Height" => height.set(number(value, line).map_err(bad)?, at, path)?,
            "Width" => width.set(number(value, line).map_err(bad)?, at, path)?,
            _ => {}
        }
        at += length + 1;
        header.lines += 1;
        if key == "end" && value.is_empty() {
            break;
        }
    }
    header.data_start = at;
    header.sensor = match (height.0, width.0) {
        (Some(h), Some(w)) => Some((h, w)),
        _ => None,
    };
    Ok(header)
}

impl Header {
    fn set_encoding(&mut self, encoding: Encoding, at: usize, path: &Path) -> Result<()> {
        match &self.encoding {
            Some(known) if *known != encoding => Err(EventsError::malformed(
                path,
                at as u64,
                format!(
                    "the encoding declared before ({known:?}); this line declares {encoding:?}"
                ),
            )),
            _ => {
                self.encoding = Some(encoding);
                Ok(())
            }
        }
    }

    /// Fails unless the header declares `wanted` or no encoding at all.
    pub(crate) fn expect(&self, wanted: Encoding, path: &Path) -> Result<()> {
        match &self.encoding {
            Some(declared) if *declared != wanted => Err(EventsError::malformed(
                path,
                0,
                format!("a header declaring {wanted:?}; it declares {declared:?}"),
            )),
            _ => Ok(()),
        }
    }
}

/// One dimension of the sensor, declared at most once (or again with the same value).
#[derive(Default)]
struct Declared(Option<usize>);

impl Declared {
    fn set(&mut self, value: usize, at: usize, path: &Path) -> Result<()> {
        match self.0 {
            Some(known) if known != value => Err(EventsError::malformed(
                path,
                at as u64,
                format!("the sensor size declared before ({known}); this line declares {value}"),
            )),
            _ => {
                self.0 = Some(value);
                Ok(())
            }
        }
    }
}

/// A sensor dimension: 1 to 16384 pixels (the largest any Prophesee format addresses).
fn number(text: &str, line: &str) -> std::result::Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n @ 1..=16384) => Ok(n),
        _ => Err(format!(
            "a sensor dimension of 1 to 16384 pixels; found `{}` in `% {line}`",
            text.trim()
        )),
    }
}

fn encoding_named(name: &str) -> Encoding {
    match name.trim().to_ascii_uppercase().as_str() {
        "2.0" | "EVT2" | "EVT2.0" => Encoding::Evt2,
        "3.0" | "EVT3" | "EVT3.0" => Encoding::Evt3,
        other => Encoding::Other(other.to_string()),
    }
}

/// Reads a `.raw` file in the encoding its header declares (EVT 2.0 or EVT 3.0).
pub fn read_raw(path: &Path) -> Result<SensorRecording> {
    parse_raw(&super::read_bytes(path)?, path)
}

/// Parses the bytes of a `.raw` file in the encoding its header declares.
pub fn parse_raw(bytes: &[u8], path: &Path) -> Result<SensorRecording> {
    let header = parse_header(bytes, path)?;
    match &header.encoding {
        Some(Encoding::Evt2) => evt2::decode(bytes, &header, path),
        Some(Encoding::Evt3) => evt3::decode(bytes, &header, path),
        other => Err(EventsError::malformed(
            path,
            0,
            format!(
                "a header declaring EVT 2.0 or EVT 3.0 (`% evt 3.0` or `% format EVT3;…`); \
                 it declares {other:?}"
            ),
        )),
    }
}

/// The high bits of the time (EVT 2.0: 28 bits, EVT 3.0: 12 bits) and how often they
/// wrapped, by OpenEB's rule: a value at least `2^BITS − 1 − 10` below the one before is a
/// wrap (the counter went round); a smaller step back is taken as it is.
#[derive(Default)]
pub(crate) struct TimeHigh<const BITS: u32> {
    value: u64,
    loops: u64,
}

impl<const BITS: u32> TimeHigh<BITS> {
    /// Steps back this close to a whole loop are wraps.
    const LOOP_THRESHOLD: u64 = 10;

    /// A new `EVT_TIME_HIGH` value.
    #[inline]
    pub(crate) fn update(&mut self, high: u64) {
        let max = (1 << BITS) - 1;
        if self.value > high && self.value - high >= max - Self::LOOP_THRESHOLD {
            self.loops += 1;
        }
        self.value = high;
    }

    /// The time's high bits, wraps included.
    #[inline]
    pub(crate) fn bits(&self) -> u64 {
        (self.loops << BITS) | self.value
    }
}

/// The `N`-byte words or records of the data from byte `start`: a whole number of them.
pub(crate) fn words<'a, const N: usize>(
    bytes: &'a [u8],
    start: usize,
    path: &Path,
) -> Result<std::slice::ChunksExact<'a, u8>> {
    let data = &bytes[start..];
    let whole = data.len() - data.len() % N;
    if whole != data.len() {
        return Err(EventsError::malformed(
            path,
            (start + whole) as u64,
            format!("a whole {N}-byte word; the file ends inside one"),
        ));
    }
    Ok(data.chunks_exact(N))
}
