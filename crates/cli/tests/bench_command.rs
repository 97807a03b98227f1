//! `spikeforge bench neurons` end to end: it runs, prints a line per measurement and writes a
//! complete JSON record; bad options are refused with a clear message.

use std::path::PathBuf;
use std::process::Command;

fn spikeforge() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spikeforge"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikeforge-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bench_neurons_writes_a_complete_record() {
    let json = scratch("bench").join("out/neurons.json");
    let output = spikeforge()
        .args(["bench", "neurons", "--repeats", "1", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.matches(" median ").count(), 4, "{stdout}");

    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(record["shape"], serde_json::json!([8, 32, 32, 32, 32]));
    let results = record["results"].as_array().unwrap();
    let names: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["neuron"].as_str().unwrap(),
                r["implementation"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        names,
        ["IF/Fused", "IF/Reference", "LIF/Fused", "LIF/Reference"]
    );
    for result in results {
        let median = result["median_ms"].as_f64().unwrap();
        let min = result["min_ms"].as_f64().unwrap();
        assert!(median > 0.0 && min > 0.0 && min <= median, "{result}");
    }
    assert!(
        !json.with_extension("json.tmp").exists(),
        "temporary file left behind"
    );
}

#[test]
fn zero_repeats_is_refused() {
    let output = spikeforge()
        .args(["bench", "neurons", "--repeats", "0", "--json"])
        .arg(scratch("zero").join("n.json"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--repeats must be at least 1"), "{stderr}");
}
