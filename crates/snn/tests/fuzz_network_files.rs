//! Network files under mutation: every preset's file, mutated byte by byte (`events::fuzz`),
//! is parsed, resolved and — when every size in it is small — built and run on a few frames.
//! Nothing may panic; an error must name the file.

use std::collections::BTreeMap;

use burn::tensor::{Device, Tensor};
use events::fuzz::Target;
use snn::models;
use snn::network::NetworkFile;

const INPUTS: u64 = 2_000;

/// Whether every number in the resolved network is at most `limit` (so that building it is
/// cheap: a mutation may well ask for a billion channels, which the size check refuses only
/// at a gigabyte per tensor).
fn small(value: &serde_json::Value, limit: f64) -> bool {
    match value {
        serde_json::Value::Number(n) => n.as_f64().is_some_and(|v| v.abs() <= limit),
        serde_json::Value::Array(items) => items.iter().all(|v| small(v, limit)),
        serde_json::Value::Object(map) => map.values().all(|v| small(v, limit)),
        _ => true,
    }
}

fn check(bytes: &[u8]) -> Result<bool, String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(false);
    };
    let file = match NetworkFile::parse(text, "net.toml") {
        Ok(file) => file,
        Err(error) if error.to_string().starts_with("net.toml: ") => return Ok(false),
        Err(error) => return Err(format!("an error that does not name the file: {error}")),
    };
    let width = BTreeMap::new();
    let Ok(config) = file.resolve(4, &width) else {
        return Ok(false);
    };
    if !small(&serde_json::to_value(&config).unwrap(), 128.0) {
        return Ok(false);
    }
    let device = Device::flex();
    match config.init([2, 34, 34], 4, 0, &device) {
        Ok(net) => {
            let scores = net
                .forward(Tensor::ones([2, 1, 2, 34, 34], &device))
                .map_err(|e| format!("a built network refused its input: {e}"))?;
            Ok(scores.dims() == [1, 4])
        }
        Err(_) => Ok(false),
    }
}

#[test]
fn network_files_never_panic_under_mutation() {
    let seeds = models::names()
        .map(|name| {
            models::text(name)
                .unwrap()
                .replace("\"width\"", "4")
                .into_bytes()
        })
        .collect();
    let target = Target {
        name: "network-file",
        seeds,
        check: Box::new(check),
    };
    let outcome = events::fuzz::run(&target, INPUTS, 0x5EED);
    assert_eq!(outcome.inputs, INPUTS);
    assert!(outcome.failures.is_empty(), "{:#?}", outcome.failures);
    assert!(
        outcome.accepted >= 10,
        "only {} of {INPUTS} mutations built a network",
        outcome.accepted
    );
}
