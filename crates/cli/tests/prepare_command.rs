//! `spikeforge prepare` end to end on a small N-MNIST folder written by the events crate.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use events::Events;
use events::cache::{FrameCache, Part, recording_frames};
use events::dataset::RecordingFormat;
use events::formats::nmnist;

fn spikeforge() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spikeforge"))
}

/// `Train|Test/<digit>/<i>.bin` for digits 0 and 1, `count` recordings per digit in Train
/// (half that in Test) of `events` events; `variant` changes every recording's events.
fn nmnist_folder(root: &Path, count: u16, events: u16, variant: u16) {
    for (part, count) in [("Train", count), ("Test", count.div_ceil(2))] {
        for digit in 0..2u16 {
            for i in 0..count {
                let mut recording = Events::default();
                for k in 0..(events + 10 * (i % 7)) {
                    recording.push(
                        u64::from(k) * 100,
                        (k + digit * 5 + variant * 3) % 34,
                        (k * 3 + i) % 34,
                        (k % 2) as u8,
                    );
                }
                nmnist::write(
                    &root
                        .join(part)
                        .join(digit.to_string())
                        .join(format!("{i}.bin")),
                    &recording,
                )
                .unwrap();
            }
        }
    }
}

fn small_nmnist(root: &Path) {
    nmnist_folder(root, 3, 50, 0);
}

/// `prepare` of the N-MNIST folder `root` into `cache` (34×34, 4 frames).
fn prepare_command(root: &Path, cache: &Path) -> Command {
    let mut command = spikeforge();
    command
        .args([
            "prepare",
            "--dataset",
            "nmnist",
            "--size",
            "34",
            "--frames",
            "4",
        ])
        .arg("--root")
        .arg(root)
        .arg("--cache")
        .arg(cache)
        .env("RUST_BACKTRACE", "0");
    command
}

/// The cache folder a successful `prepare` reports (`… → <dir>`).
fn reported_dir(output: &Output) -> PathBuf {
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains(" → "))
        .expect("a cache line");
    PathBuf::from(line.rsplit(" → ").next().unwrap())
}

/// Every training sample of the cache in `dir` holds the frames of its recording under
/// `root`, as converted now.
fn assert_cache_holds(dir: &Path, root: &Path) {
    let cache = FrameCache::open(dir).unwrap();
    assert_eq!(
        cache.manifest.identity.root,
        std::fs::canonicalize(root).unwrap()
    );
    for part in [Part::Train, Part::Test] {
        let recordings = cache.manifest.recordings(part).to_vec();
        for ((slot, _), recording) in cache.samples(part).into_iter().zip(recordings) {
            let direct = recording_frames(
                &root.join(&recording.file),
                RecordingFormat::NMnistBin,
                cache.manifest.settings(),
                None,
            )
            .unwrap();
            assert_eq!(cache.frames(part, slot), direct, "{:?}", recording.file);
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
    let run = || prepare_command(&root, &cache).output().unwrap();
    let first = run();
    let dir = reported_dir(&first);
    let stdout = String::from_utf8(first.stdout).unwrap();
    assert!(
        stdout.contains("nmnist: 6 training and 4 test recordings"),
        "{stdout}"
    );
    assert!(dir.starts_with(cache.join("nmnist")), "{}", dir.display());
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
    assert_eq!(reported_dir(&second), dir);
    assert_eq!(
        std::fs::metadata(dir.join("train.f32"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );

    // A recording replaced by another: the cache is rebuilt, and says so.
    nmnist_folder(&root, 3, 60, 1);
    let third = run();
    assert_eq!(reported_dir(&third), dir);
    let stdout = String::from_utf8(third.stdout).unwrap();
    assert!(
        stdout.contains("rebuilt the cache: it was built from recordings that changed"),
        "{stdout}"
    );
    assert_cache_holds(&dir, &root);
    std::fs::remove_dir_all(scratch).unwrap();
}

/// The first repro of a mixed cache: `prepare --root A` killed mid-way, then
/// `prepare --root B` (same file names, other events) must hold B's frames, and A resumes to
/// its own.
#[test]
fn a_killed_prepare_never_mixes_two_dataset_folders() {
    let scratch =
        std::env::temp_dir().join(format!("spikeforge-prepare-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let (a, b) = (scratch.join("a"), scratch.join("b"));
    nmnist_folder(&a, 150, 6000, 0);
    nmnist_folder(&b, 150, 6000, 2);
    let cache = scratch.join("cache");

    let mut child = prepare_command(&a, &cache)
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some recordings are journaled (or after it ended, on a fast machine).
    let started = Instant::now();
    let journaled = |dir: &Path| {
        std::fs::read_dir(dir)
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| {
                let journal = entry.path().join("train.done");
                std::fs::metadata(journal).is_ok_and(|m| m.len() >= 40)
            })
    };
    while child.try_wait().unwrap().is_none()
        && !journaled(&cache.join("nmnist"))
        && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    let interrupted = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    eprintln!(
        "prepare {} after {:?}",
        if interrupted {
            "killed"
        } else {
            "had finished"
        },
        started.elapsed()
    );

    let dir_b = reported_dir(&prepare_command(&b, &cache).output().unwrap());
    assert_cache_holds(&dir_b, &b);
    let resumed = prepare_command(&a, &cache).output().unwrap();
    let dir_a = reported_dir(&resumed);
    assert_ne!(dir_a, dir_b);
    if interrupted {
        let stdout = String::from_utf8_lossy(&resumed.stdout);
        assert!(stdout.contains("resumed an interrupted build"), "{stdout}");
    }
    assert_cache_holds(&dir_a, &a);
    assert_cache_holds(&dir_b, &b);
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn frame_settings_beyond_the_sensor_are_refused_before_any_file_is_written() {
    let scratch =
        std::env::temp_dir().join(format!("spikeforge-prepare-size-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let root = scratch.join("nmnist");
    small_nmnist(&root);
    let cache = scratch.join("cache");
    for (option, value, expected) in [
        (
            "--size",
            "100000",
            "a frame size of at most the sensor's 34×34, not 100000×100000",
        ),
        (
            "--frames",
            "100000",
            "--frames must be 1 to 1024, not 100000",
        ),
    ] {
        let other = if option == "--size" {
            ["--frames", "4"]
        } else {
            ["--size", "34"]
        };
        let output = spikeforge()
            .args(["prepare", "--dataset", "nmnist", option, value])
            .args(other)
            .arg("--root")
            .arg(&root)
            .arg("--cache")
            .arg(&cache)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!cache.join("nmnist").exists(), "{option} {value}");
    }
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
