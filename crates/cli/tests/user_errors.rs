//! A user's error (not a bug) prints its message and causes, never a backtrace, even with
//! `RUST_BACKTRACE=1`. (A closed pipe: `train_command.rs`.)

use std::process::Command;

fn spikeforge() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spikeforge"))
}

#[test]
fn a_user_error_prints_its_message_and_causes_without_a_backtrace() {
    let missing =
        std::env::temp_dir().join(format!("spikeforge-no-such-run-{}", std::process::id()));
    for backtrace in ["1", "full"] {
        let output = spikeforge()
            .env("RUST_BACKTRACE", backtrace)
            .env("RUST_LIB_BACKTRACE", backtrace)
            .args(["eval", missing.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.starts_with(&format!("error: {}", missing.join("run.json").display())),
            "{stderr}"
        );
        assert!(stderr.contains("not a run folder"), "{stderr}");
        assert!(stderr.contains("caused by: No such file"), "{stderr}");
        assert!(!stderr.to_lowercase().contains("backtrace"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn report_names_a_folder_that_holds_no_run() {
    let empty = std::env::temp_dir().join(format!("spikeforge-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let output = spikeforge()
        .args(["report", empty.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!("{}: neither a run folder", empty.display())),
        "{stderr}"
    );
    std::fs::remove_dir_all(empty).unwrap();
}

/// `--devices` is checked before any data is read: CUDA devices only, each once, at least two,
/// and a build with CUDA.
#[test]
fn devices_for_data_parallel_training_are_checked_first() {
    let no_data = std::env::temp_dir().join(format!("spikeforge-no-data-{}", std::process::id()));
    let refused = |devices: &str| {
        let output = spikeforge()
            .args(["train", "--dataset", "cifar10-dvs", "--root"])
            .arg(&no_data)
            .args(["--devices", devices])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{devices}: {output:?}");
        String::from_utf8(output.stderr).unwrap()
    };
    assert!(refused("cuda:0,cuda:0").contains("cuda:0 is named twice"));
    assert!(refused("cuda:0").contains("at least two devices"));
    assert!(refused("cuda:0,wgpu").contains("`wgpu` is not a CUDA device"));
    let two = refused("cuda:0,cuda:1");
    if cfg!(feature = "cuda") {
        assert!(!two.contains("built without CUDA"), "{two}");
    } else {
        assert!(two.contains("built without CUDA"), "{two}");
    }
    let both = spikeforge()
        .args(["train", "--device", "cpu", "--devices", "cuda:0,cuda:1"])
        .output()
        .unwrap();
    assert_eq!(
        both.status.code(),
        Some(2),
        "clap refuses --device with --devices"
    );
    assert!(!no_data.exists());
}
