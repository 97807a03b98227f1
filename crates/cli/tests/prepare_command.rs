//! `spikeforge prepare` end to end on a small N-MNIST folder written by the events crate.

use std::path::{Path, PathBuf};
use std::process::Command;

use events::Events;
use events::formats::nmnist;

fn spikeforge() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spikeforge"))
}

/// `Train|Test/<digit>/<i>.bin` for digits 0 and 1.
fn small_nmnist(root: &Path) {
    for (part, count) in [("Train", 3u16), ("Test", 2)] {
        for digit in 0..2u16 {
            for i in 0..count {
                let mut events = Events::default();
                for k in 0..(50 + 10 * i) {
                    events.push(
                        u64::from(k) * 100,
                        (k + digit * 5) % 34,
                        (k * 3) % 34,
                        (k % 2) as u8,
                    );
                }
                nmnist::write(
                    &root
                        .join(part)
                        .join(digit.to_string())
                        .join(format!("{i}.bin")),
                    &events,
                )
                .unwrap();
            }
        }
    }
}

#[test]
fn prepare_builds_then_reuses_a_cache() {
    let scratch = std::env::temp_dir().join(format!("spikeforge-prepare-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let root = scratch.join("nmnist");
    small_nmnist(&root);
    let cache = scratch.join("cache");
    let run = || {
        spikeforge()
            .args([
                "prepare",
                "--dataset",
                "nmnist",
                "--size",
                "34",
                "--frames",
                "4",
                "--root",
            ])
            .arg(&root)
            .arg("--cache")
            .arg(&cache)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{first:?}");
    let stdout = String::from_utf8(first.stdout).unwrap();
    assert!(
        stdout.contains("nmnist: 6 training and 4 test recordings"),
        "{stdout}"
    );
    let dir: PathBuf = cache.join("nmnist/T4-number-34x34-area");
    assert!(dir.join("manifest.json").is_file());
    assert_eq!(
        std::fs::metadata(dir.join("train.f32")).unwrap().len(),
        6 * 4 * 2 * 34 * 34 * 4
    );

    let modified = std::fs::metadata(dir.join("train.f32"))
        .unwrap()
        .modified()
        .unwrap();
    let second = run();
    assert!(second.status.success(), "{second:?}");
    assert_eq!(
        std::fs::metadata(dir.join("train.f32"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn bad_settings_and_missing_folders_are_clear_errors() {
    let output = spikeforge()
        .args([
            "prepare",
            "--dataset",
            "nmnist",
            "--root",
            "/nonexistent/nmnist",
            "--size",
            "0",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("expected a size like `32` or `34x34`, got `0`"),
        "{stderr}"
    );

    let output = spikeforge()
        .args([
            "prepare",
            "--dataset",
            "cifar10-dvs",
            "--root",
            "/nonexistent/c10",
        ])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("/nonexistent/c10: No such file or directory"),
        "{stderr}"
    );
}
