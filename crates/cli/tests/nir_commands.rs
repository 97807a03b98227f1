//! `spikeforge import` and `export` end to end on the NIR file written by the Python `nir`
//! package (the snn crate's fixture): import writes a network file and a run folder that
//! `export` reads; exporting and importing again gives the same
//! network file and the same NIR bytes; an existing folder is not overwritten; a missing or
//! damaged file is an error naming it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn spikeforge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spikeforge"))
        .env("RUST_BACKTRACE", "0")
        .args(args)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../snn/tests/fixtures/nir/small.nir")
}

/// The network file without its comment lines (which name the source file).
fn network_file(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("network.toml"))
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn import_export_import_round_trips_through_the_command_line() {
    let work = std::env::temp_dir().join(format!("spikeforge-nir-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let s = |p: &Path| p.display().to_string();
    let (first, second) = (work.join("first"), work.join("second"));
    // Named like the fixture: an imported network is named after its file.
    let (a, b) = (work.join("a/small.nir"), work.join("b/small.nir"));

    let out = spikeforge(&["import", &s(&fixture()), "--out", &s(&first)]);
    assert!(out.status.success(), "{}", text(&out));
    for file in ["network.toml", "run.json", "best.ckpt", "last.ckpt"] {
        assert!(first.join(file).is_file(), "{file}");
    }
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(first.join("run.json")).unwrap()).unwrap();
    assert_eq!(record["status"], "imported");
    assert_eq!(record["model"]["input"], serde_json::json!([2, 6, 6]));

    let out = spikeforge(&["export", &s(&first), "--nir", &s(&a)]);
    assert!(out.status.success(), "{}", text(&out));
    let out = spikeforge(&["import", &s(&a), "--out", &s(&second)]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(network_file(&second), network_file(&first));
    let out = spikeforge(&["export", &s(&second), "--nir", &s(&b)]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    let out = spikeforge(&["import", &s(&fixture()), "--out", &s(&first)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("already holds"), "{}", text(&out));

    let missing = work.join("missing.nir");
    let out = spikeforge(&["import", &s(&missing), "--out", &s(&work.join("x"))]);
    assert!(
        !out.status.success() && text(&out).contains("missing.nir"),
        "{}",
        text(&out)
    );
    std::fs::write(&missing, b"not HDF5").unwrap();
    let out = spikeforge(&["import", &s(&missing), "--out", &s(&work.join("x"))]);
    assert!(
        !out.status.success() && text(&out).contains("missing.nir"),
        "{}",
        text(&out)
    );
    std::fs::remove_dir_all(&work).unwrap();
}
