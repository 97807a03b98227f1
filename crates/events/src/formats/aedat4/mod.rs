//! AEDAT 4.0 (iniVation DV cameras and software; Tonic's CIFAR10-DVS copy), read as Tonic's
//! `read_aedat4` (through the `aedat` package) reads it: the events of the event stream of
//! lowest id.
//!
//! Layout: `#!AER-DAT4.0\r\n`, a `u32` length and the `IOHeader` FlatBuffer (`compression`:
//! none, LZ4, LZ4-HC, zstd or zstd-high; `file_data_position`: where the trailing file data
//! table starts, −1 if none; `description`: the XML of the streams, read by the private
//! `description` module). Then packets up to the file data table or the end: `i32` stream
//! id, `i32` size, that many bytes, compressed as the header says (an LZ4 frame, a zstd
//! frame). A packet decompresses to a size-prefixed FlatBuffer with its stream's type as
//! identifier; an event packet (`EVTS`) is a table whose field 0 is a vector of 16-byte
//! `Event` structs: `i64 t` (µs), `i16 x`, `i16 y`, `bool on`, 3 bytes of padding. Polarity
//! is `on` (0 or 1).
//!
//! Packets of other streams (frames, IMU, triggers, a second event stream) are skipped
//! without being decompressed, and counted in [`SensorRecording::skipped`]. Coordinates are
//! checked against the stream's `sizeX` × `sizeY`.

mod description;
mod flatbuffer;

use std::io::Read;
use std::path::Path;

use self::flatbuffer::{Problem, Table};
use super::sensor::{Collector, SensorRecording};
use crate::error::{EventsError, Result};

/// The first line of every AEDAT 4 file.
pub const MAGIC: &[u8] = b"#!AER-DAT4.0\r\n";

/// The largest packet decompressed: 256 MiB (DV writes packets of a few MB at most).
pub const MAX_PACKET_BYTES: u64 = 256 << 20;

/// The size of one `Event` struct.
const EVENT_BYTES: usize = 16;

/// How packets are compressed (the `IOHeader`'s `compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Lz4,
    Zstd,
}

/// Reads an AEDAT 4 file.
pub fn read(path: &Path) -> Result<SensorRecording> {
    parse(&super::read_bytes(path)?, path)
}

/// Parses the bytes of an AEDAT 4 file.
pub fn parse(bytes: &[u8], path: &Path) -> Result<SensorRecording> {
    let at = |base: usize| {
        move |(offset, expected): Problem| {
            EventsError::malformed(path, (base + offset) as u64, expected)
        }
    };
    if !bytes.starts_with(MAGIC) {
        return Err(EventsError::malformed(
            path,
            0,
            "the line `#!AER-DAT4.0\\r\\n`",
        ));
    }
    let header_start = MAGIC.len() + 4;
    let header_len = bytes
        .get(MAGIC.len()..header_start)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize);
    let header = header_len
        .and_then(|len| bytes.get(header_start..header_start.checked_add(len)?))
        .ok_or_else(|| {
            EventsError::malformed(path, MAGIC.len() as u64, "an IOHeader inside the file")
        })?;
    let table = Table::root(header).map_err(at(header_start))?;
    let compression = match table.i32(0, 0).map_err(at(header_start))? {
        0 => Compression::None,
        1 | 2 => Compression::Lz4,
        3 | 4 => Compression::Zstd,
        other => {
            return Err(EventsError::malformed(
                path,
                header_start as u64,
                format!(
                    "a compression of 0 to 4 (none, LZ4, LZ4-HC, zstd, zstd-high); found {other}"
                ),
            ));
        }
    };
    let data_table = table.i64(1, -1).map_err(at(header_start))?;
    let (text_at, text) = table.string(2).map_err(at(header_start))?.ok_or_else(|| {
        EventsError::malformed(path, header_start as u64, "an IOHeader with a description")
    })?;
    let streams = description::streams(text).map_err(at(header_start + text_at))?;
    let Some(events) = streams.iter().find(|s| s.kind == "EVTS") else {
        return Err(EventsError::malformed(
            path,
            (header_start + text_at) as u64,
            "a description with an event stream (typeIdentifier EVTS)",
        ));
    };
    let packets_start = header_start + header.len();
    let end = match data_table {
        -1 => bytes.len(),
        at if (packets_start as i64..=bytes.len() as i64).contains(&at) => at as usize,
        at => {
            return Err(EventsError::malformed(
                path,
                header_start as u64,
                format!(
                    "a file data position of −1 or from {packets_start} to the file's {} bytes; \
                     found {at}",
                    bytes.len()
                ),
            ));
        }
    };
    let mut out = Collector::new(path, events.size, (32768, 32768), 0);
    let mut decompressor = Decompressor::new(compression);
    let mut at = packets_start;
    while at < end {
        let (stream, payload) = packet_at(&bytes[..end], at, path)?;
        if !streams.iter().any(|s| s.id == stream) {
            return Err(EventsError::malformed(
                path,
                at as u64,
                format!("a packet of a stream the description lists; found stream {stream}"),
            ));
        }
        if stream == events.id {
            let buffer = decompressor
                .packet(payload)
                .map_err(|why| EventsError::malformed(path, at as u64 + 8, why))?;
            let place = Place {
                path,
                packet: at,
                compressed: compression != Compression::None,
            };
            event_packet(buffer, &mut out, &place)?;
        } else {
            out.skip();
        }
        at += 8 + payload.len();
    }
    Ok(out.finish())
}

/// The packet at `at`: its stream id and payload.
fn packet_at<'a>(bytes: &'a [u8], at: usize, path: &Path) -> Result<(i32, &'a [u8])> {
    let field = |offset: usize| {
        bytes
            .get(at + offset..at + offset + 4)
            .map(|b| i32::from_le_bytes(b.try_into().expect("4 bytes")))
            .ok_or_else(|| {
                EventsError::malformed(
                    path,
                    at as u64,
                    "a packet header (stream id, size); the data ends first",
                )
            })
    };
    let (stream, size) = (field(0)?, field(4)?);
    usize::try_from(size)
        .ok()
        .and_then(|size| bytes.get(at + 8..(at + 8).checked_add(size)?))
        .map(|payload| (stream, payload))
        .ok_or_else(|| {
            EventsError::malformed(
                path,
                at as u64 + 4,
                format!(
                    "a packet size that fits the {} bytes left; found {size}",
                    bytes.len() - at - 8
                ),
            )
        })
}

/// The packets' decompressor, its buffers reused from packet to packet.
struct Decompressor {
    compression: Compression,
    zstd: ruzstd::decoding::FrameDecoder,
    out: Vec<u8>,
}

impl Decompressor {
    fn new(compression: Compression) -> Self {
        Self {
            compression,
            zstd: ruzstd::decoding::FrameDecoder::new(),
            out: Vec::new(),
        }
    }

    /// The content of one packet's `payload`, decompressed (at most [`MAX_PACKET_BYTES`]).
    fn packet<'a>(&'a mut self, payload: &'a [u8]) -> std::result::Result<&'a [u8], String> {
        self.out.clear();
        let limit = MAX_PACKET_BYTES + 1;
        match self.compression {
            Compression::None => return Ok(payload),
            Compression::Lz4 => lz4_flex::frame::FrameDecoder::new(payload)
                .take(limit)
                .read_to_end(&mut self.out)
                .map_err(|e| format!("an LZ4 frame: {e}"))?,
            Compression::Zstd => {
                ruzstd::decoding::StreamingDecoder::new_with_decoder(payload, &mut self.zstd)
                    .map_err(|e| format!("a zstd frame: {e}"))?
                    .take(limit)
                    .read_to_end(&mut self.out)
                    .map_err(|e| format!("a zstd frame: {e}"))?
            }
        };
        if self.out.len() as u64 > MAX_PACKET_BYTES {
            return Err(format!(
                "a packet of at most {MAX_PACKET_BYTES} bytes decompressed"
            ));
        }
        Ok(&self.out)
    }
}

/// Where a packet's payload lies in the file, for errors.
struct Place<'a> {
    path: &'a Path,
    /// Offset of the packet (its header) in the file.
    packet: usize,
    /// Whether the payload was decompressed: its offsets are not the file's.
    compressed: bool,
}

impl Place<'_> {
    /// The file offset of payload byte `offset` (the packet's, if decompressed).
    fn file_offset(&self, offset: usize) -> usize {
        if self.compressed {
            self.packet
        } else {
            self.packet + 8 + offset
        }
    }

    fn error(&self, (offset, why): Problem) -> EventsError {
        let inside = if self.compressed {
            format!(" (byte {offset} of the decompressed packet)")
        } else {
            String::new()
        };
        EventsError::malformed(
            self.path,
            self.file_offset(offset) as u64,
            format!("{why}{inside}"),
        )
    }
}

/// Appends the events of one (decompressed) event packet, a size-prefixed FlatBuffer.
fn event_packet(buffer: &[u8], out: &mut Collector<'_>, place: &Place<'_>) -> Result<()> {
    if buffer.len() < 12 || &buffer[8..12] != b"EVTS" {
        return Err(place.error((
            0,
            "a size-prefixed FlatBuffer with identifier EVTS (an event packet)".to_string(),
        )));
    }
    let prefix = u32::from_le_bytes(buffer[..4].try_into().expect("4 bytes")) as usize;
    if prefix != buffer.len() - 4 {
        return Err(place.error((
            0,
            format!(
                "a size prefix of the {} bytes that follow; found {prefix}",
                buffer.len() - 4
            ),
        )));
    }
    let inner = |(at, why): Problem| place.error((at + 4, why));
    let table = Table::root(&buffer[4..]).map_err(inner)?;
    let Some((start, elements)) = table.vector(0, EVENT_BYTES).map_err(inner)? else {
        return Ok(());
    };
    for (i, event) in elements.chunks_exact(EVENT_BYTES).enumerate() {
        let offset = 4 + start + EVENT_BYTES * i;
        let t = i64::from_le_bytes(event[..8].try_into().expect("8 bytes"));
        let x = i16::from_le_bytes([event[8], event[9]]);
        let y = i16::from_le_bytes([event[10], event[11]]);
        let on = event[12];
        if t < 0 || x < 0 || y < 0 || on > 1 {
            return Err(place.error((
                offset,
                format!(
                    "an event with t, x, y ≥ 0 and `on` 0 or 1; found t {t}, x {x}, y {y}, on {on}"
                ),
            )));
        }
        out.push(t as u64, x as u64, y as u64, on, place.file_offset(offset))?;
    }
    Ok(())
}
