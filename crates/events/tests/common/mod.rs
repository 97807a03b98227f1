//! Shared helpers of the events integration tests: fixture loading.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;

use serde_json::Value;

/// The SpikingJelly golden data copied into this crate.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spikingjelly")
}

/// A file of another fixture folder of this crate (`tests/fixtures/<folder>/<name>`).
pub fn fixture_file(folder: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder)
        .join(name)
}

/// The manifest cases of one kind.
pub fn cases(kind: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(fixtures_dir().join("manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let cases: Vec<Value> = manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|case| case["kind"] == kind)
        .cloned()
        .collect();
    assert!(!cases.is_empty(), "no `{kind}` case in the manifest");
    cases
}

/// The case of `kind` named `name`.
pub fn case(kind: &str, name: &str) -> Value {
    cases(kind)
        .into_iter()
        .find(|case| case["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} case named {name}"))
}

/// The path of a manifest entry's file.
pub fn path_of(entry: &Value) -> PathBuf {
    fixtures_dir().join(entry["file"].as_str().unwrap())
}

fn npy(entry: &Value) -> npyz::NpyFile<std::io::Cursor<Vec<u8>>> {
    let bytes = std::fs::read(path_of(entry)).unwrap();
    npyz::NpyFile::new(std::io::Cursor::new(bytes)).unwrap()
}

/// An integer `.npy` array (int64 or uint8) as i64 values.
pub fn ints(entry: &Value) -> Vec<i64> {
    match entry["dtype"].as_str().unwrap() {
        "int64" => npy(entry).into_vec::<i64>().unwrap(),
        "uint8" => npy(entry)
            .into_vec::<u8>()
            .unwrap()
            .into_iter()
            .map(i64::from)
            .collect(),
        other => panic!("not an integer array: {other}"),
    }
}

/// A float32 `.npy` array.
pub fn floats(entry: &Value) -> Vec<f32> {
    npy(entry).into_vec::<f32>().unwrap()
}

/// Asserts that `events` are the fixture's parsed arrays `{t, x, y, p}`.
pub fn assert_events_match(events: &events::Events, parsed: &Value, what: &str) {
    let t: Vec<i64> = events.t.iter().map(|&t| t as i64).collect();
    assert_eq!(t, ints(&parsed["t"]), "{what} t");
    assert_eq!(wide(&events.x), ints(&parsed["x"]), "{what} x");
    assert_eq!(wide(&events.y), ints(&parsed["y"]), "{what} y");
    assert_eq!(wide(&events.p), ints(&parsed["p"]), "{what} p");
}

/// Widens any integer slice to i64 for comparison with fixtures.
pub fn wide<T: Copy + Into<i64>>(values: &[T]) -> Vec<i64> {
    values.iter().map(|&v| v.into()).collect()
}
