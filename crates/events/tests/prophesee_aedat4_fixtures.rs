//! The AEDAT 4 and Prophesee (EVT 2.0, EVT 3.0, `.dat`) readers on files made by other
//! tools (`tests/fixtures/prophesee_aedat4`, see its PROVENANCE.md): AEDAT 4 written by
//! iniVation's dv-processing and read by the `aedat` package; Prophesee files encoded from
//! the vendor's specification and checked with expelliarmus. Every event, the declared sensor
//! and the skipped records must match; damaged files are errors naming the byte.

use std::path::{Path, PathBuf};

use events::formats::aedat4;
use events::formats::prophesee::{self, dat, evt2, evt3};
use events::formats::sensor::SensorRecording;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/prophesee_aedat4")
        .join(name)
}

/// The expected recording of fixture `stem`.
fn expected(stem: &str) -> SensorRecording {
    let path = fixture(&format!("{stem}.expected.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let column = |key: &str| -> Vec<u64> {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect()
    };
    let mut recording = SensorRecording {
        sensor: json["sensor"].as_array().map(|s| {
            (
                s[0].as_u64().unwrap() as usize,
                s[1].as_u64().unwrap() as usize,
            )
        }),
        skipped: json["skipped"].as_u64().unwrap(),
        ..SensorRecording::default()
    };
    let (t, x, y, p) = (column("t"), column("x"), column("y"), column("p"));
    for i in 0..t.len() {
        recording
            .events
            .push(t[i], x[i] as u16, y[i] as u16, p[i] as u8);
    }
    recording
}

fn assert_same(read: &SensorRecording, expected: &SensorRecording, what: &str) {
    assert_eq!(
        read.events.len(),
        expected.events.len(),
        "{what}: event count"
    );
    assert_eq!(read.events, expected.events, "{what}: events");
    assert_eq!(read.sensor, expected.sensor, "{what}: sensor");
    assert_eq!(read.skipped, expected.skipped, "{what}: skipped records");
}

fn error_offset(error: &events::EventsError) -> u64 {
    match error {
        events::EventsError::Malformed { offset, .. } => *offset,
        other => panic!("not a format error: {other}"),
    }
}

#[test]
fn aedat4_files_of_every_compression_read_as_the_aedat_package_reads_them() {
    for stem in ["none", "lz4", "lz4_high", "zstd"] {
        let path = fixture(&format!("{stem}.aedat4"));
        let read = aedat4::read(&path).unwrap();
        let expected = expected(stem);
        assert_same(&read, &expected, stem);
        // Four event packets and four trigger packets between them.
        assert_eq!(read.skipped, 4, "{stem}");
        assert_eq!(read.events.len(), 30 + 40 + 50 + 60, "{stem}");
    }
}

#[test]
fn evt2_reads_as_encoded_across_the_34_bit_time_wrap() {
    let expected = expected("evt2");
    assert!(
        expected.events.t.iter().any(|&t| t >= 1 << 34),
        "the fixture wraps"
    );
    let path = fixture("evt2.raw");
    assert_same(&evt2::read(&path).unwrap(), &expected, "evt2");
    assert_same(
        &prophesee::read_raw(&path).unwrap(),
        &expected,
        "evt2 as .raw",
    );
}

#[test]
fn evt3_reads_as_encoded_with_vectors_and_the_24_bit_time_wrap() {
    let expected = expected("evt3");
    assert!(
        expected.events.t.iter().any(|&t| t >= 1 << 24),
        "the fixture wraps"
    );
    let path = fixture("evt3.raw");
    assert_same(&evt3::read(&path).unwrap(), &expected, "evt3");
    assert_same(
        &prophesee::read_raw(&path).unwrap(),
        &expected,
        "evt3 as .raw",
    );
}

#[test]
fn dat_reads_as_encoded() {
    assert_same(
        &dat::read(&fixture("gen1.dat")).unwrap(),
        &expected("gen1"),
        "gen1",
    );
}

#[test]
fn a_reader_refuses_another_declared_encoding() {
    let bytes = std::fs::read(fixture("evt3.raw")).unwrap();
    let error = evt2::parse(&bytes, Path::new("x.raw")).unwrap_err();
    assert!(error.to_string().contains("Evt3"), "{error}");
    let mut bytes = std::fs::read(fixture("evt2.raw")).unwrap();
    replace(&mut bytes, b"% evt 2.0", b"% evt 2.1");
    let error = prophesee::parse_raw(&bytes, Path::new("x.raw")).unwrap_err();
    assert!(error.to_string().contains("EVT 2.0 or EVT 3.0"), "{error}");
}

/// Replaces the one occurrence of `from` in `bytes` by `to` (same length).
fn replace(bytes: &mut [u8], from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("{} not found", String::from_utf8_lossy(from)));
    bytes[at..at + to.len()].copy_from_slice(to);
    at
}

#[test]
fn pixels_outside_the_declared_sensor_are_errors_at_their_record() {
    let path = Path::new("small.raw");
    // EVT 2.0: the error's offset is a CD word whose row is outside 100 rows.
    let mut bytes = std::fs::read(fixture("evt2.raw")).unwrap();
    replace(&mut bytes, b"geometry 640x480", b"geometry 640x100");
    let error = evt2::parse(&bytes, path).unwrap_err();
    let at = error_offset(&error) as usize;
    let word = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert!(word >> 28 <= 1 && word & 0x7FF >= 100, "{error}");
    assert!(error.to_string().contains("640×100"), "{error}");

    // .dat: the first record with y ≥ 100.
    let mut bytes = std::fs::read(fixture("gen1.dat")).unwrap();
    replace(&mut bytes, b"% Height 240", b"% Height 100");
    let first = expected("gen1")
        .events
        .y
        .iter()
        .position(|&y| y >= 100)
        .unwrap();
    let start = bytes.iter().position(|&b| b == 0x0C).unwrap() + 2;
    let error = dat::parse(&bytes, path).unwrap_err();
    assert_eq!(error_offset(&error), (start + 8 * first) as u64, "{error}");

    // AEDAT 4 (uncompressed): an event moved to column 346 of a 346-wide sensor.
    let mut bytes = std::fs::read(fixture("none.aedat4")).unwrap();
    let expected = expected("none");
    let (t, x, y) = (
        expected.events.t[5],
        expected.events.x[5],
        expected.events.y[5],
    );
    let mut record = t.to_le_bytes().to_vec();
    record.extend(x.to_le_bytes());
    record.extend(y.to_le_bytes());
    let mut moved = t.to_le_bytes().to_vec();
    moved.extend(346u16.to_le_bytes());
    moved.extend(y.to_le_bytes());
    let at = replace(&mut bytes, &record, &moved);
    let error = aedat4::parse(&bytes, path).unwrap_err();
    assert_eq!(error_offset(&error), at as u64, "{error}");
    assert!(error.to_string().contains("(346, "), "{error}");
}

#[test]
fn conflicting_header_declarations_are_errors_naming_the_line() {
    let mut bytes = std::fs::read(fixture("evt3.raw")).unwrap();
    let at = replace(&mut bytes, b"geometry 1280x720", b"geometry 1280x700");
    let error = evt3::parse(&bytes, Path::new("x.raw")).unwrap_err();
    assert_eq!(error_offset(&error), at as u64 - 2, "{error}");
    assert!(
        error.to_string().contains("declared before (720)"),
        "{error}"
    );
}

#[test]
fn damaged_files_are_errors_naming_file_and_offset() {
    let path = Path::new("damaged.bin");
    // A cut inside a word.
    let bytes = std::fs::read(fixture("evt2.raw")).unwrap();
    let error = evt2::parse(&bytes[..bytes.len() - 1], path).unwrap_err();
    assert_eq!(error_offset(&error), bytes.len() as u64 - 4, "{error}");
    // A reserved EVT 3.0 word type.
    let mut bytes = std::fs::read(fixture("evt3.raw")).unwrap();
    let last = bytes.len() - 2;
    bytes[last + 1] = 0x90;
    let error = evt3::parse(&bytes, path).unwrap_err();
    assert_eq!(error_offset(&error), last as u64, "{error}");
    assert!(
        error.to_string().starts_with("damaged.bin: at byte"),
        "{error}"
    );
    // A damaged LZ4 and zstd packet: the error names the packet's payload.
    for stem in ["lz4", "zstd"] {
        let mut bytes = std::fs::read(fixture(&format!("{stem}.aedat4"))).unwrap();
        let events = aedat4::parse(&bytes, path).unwrap();
        let header_end = 18 + u32::from_le_bytes(bytes[14..18].try_into().unwrap()) as usize;
        // The first packet is an event packet: scramble its compressed payload.
        for b in &mut bytes[header_end + 12..header_end + 40] {
            *b ^= 0x5A;
        }
        match aedat4::parse(&bytes, path) {
            Err(error) => {
                assert!(
                    error.to_string().starts_with("damaged.bin: at byte"),
                    "{error}"
                );
                let at = error_offset(&error) as usize;
                assert!(
                    (header_end..header_end + 9).contains(&at),
                    "{stem}: {error}"
                );
            }
            Ok(read) => panic!(
                "{stem}: a scrambled packet read ({} events of {})",
                read.events.len(),
                events.events.len()
            ),
        }
    }
    // A packet of a stream the description does not list.
    let mut bytes = std::fs::read(fixture("none.aedat4")).unwrap();
    let header_end = 18 + u32::from_le_bytes(bytes[14..18].try_into().unwrap()) as usize;
    bytes[header_end..header_end + 4].copy_from_slice(&7i32.to_le_bytes());
    let error = aedat4::parse(&bytes, path).unwrap_err();
    assert_eq!(error_offset(&error), header_end as u64, "{error}");
    assert!(error.to_string().contains("found stream 7"), "{error}");
}
