//! The examples run: `custom_network` (a network built from the blocks in Rust, trained with
//! the full stack) on its tiny synthetic task learns it and writes its run folder. `cargo
//! test` builds the examples beside the test binaries.

use std::path::PathBuf;
use std::process::Command;

/// An example's binary: `target/<profile>/examples/<name>`, next to this test's `deps/`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile.join("examples").join(name);
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

#[test]
fn the_custom_network_example_learns_its_task() {
    let dir = std::env::temp_dir().join(format!("spikeforge-example-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let output = Command::new(example("custom_network"))
        .arg(&dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("epoch 3: test accuracy"), "{stdout}");
    let accuracy: f64 = last
        .split("accuracy ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|a| a.parse().ok())
        .unwrap();
    assert!(accuracy > 50.0, "chance is 25 %: {stdout}");
    for file in ["run.json", "epochs.csv", "last.ckpt", "best.ckpt"] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
