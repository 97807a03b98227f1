//! The frame cache: built in parallel from real files, reused, resumed after a failure,
//! keyed by everything that decides its content, never mixed across datasets, splits or
//! changed recordings, locked against a second builder, unreadable recordings skipped on
//! request, and a damaged or edited cache refused.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use events::cache::{
    CacheManifest, CacheOrigin, FrameCache, FrameSettings, Part, PrepareRequest, cache_dir,
    prepare, recording_frames,
};
use events::checksum::checksum;
use events::dataset::{DatasetIndex, RecordingFormat, scan_class_folders};
use events::formats::aedat2;
use events::split::{SplitManifest, SplitRule};
use events::{EmptyWindows, Events, EventsError, Resize, SplitBy};

const SETTINGS: FrameSettings = FrameSettings {
    frames: 4,
    split_by: SplitBy::Number,
    empty_windows: EmptyWindows::Error,
    size: (32, 32),
    resize: Resize::Area,
};

fn scratch(test: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("spikeforge-cache-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    root
}

/// Two classes of five recordings each, written with the AEDAT 2.0 writer; `variant` changes
/// every recording's events.
fn write_dataset(root: &Path, variant: u16) {
    for (label, class) in ["circle", "square"].iter().enumerate() {
        for i in 0..5u16 {
            let mut events = Events::default();
            for k in 0..(200 + 37 * i + variant) {
                let x = (k * 13 + i * 7 + label as u16 * 31 + variant * 5) % 128;
                events.push(u64::from(k) * 10, x, (k * 29) % 128, (k % 2) as u8);
            }
            aedat2::write(
                &root.join(class).join(format!("{class}_{i}.aedat")),
                &events,
            )
            .unwrap();
        }
    }
}

fn dataset(test: &str) -> PathBuf {
    let root = scratch(test);
    write_dataset(&root, 0);
    root
}

fn split(root: &Path) -> (DatasetIndex, SplitManifest) {
    split_with(root, 0.6)
}

fn split_with(root: &Path, train_ratio: f64) -> (DatasetIndex, SplitManifest) {
    let index = scan_class_folders(root, &["aedat"], RecordingFormat::Aedat2).unwrap();
    let split = SplitManifest::split(&index, SplitRule::SpikingJelly { train_ratio }).unwrap();
    (index, split)
}

fn request<'a>(index: &'a DatasetIndex, split: &'a SplitManifest) -> PrepareRequest<'a> {
    PrepareRequest {
        dataset: "shapes",
        index,
        split,
        settings: SETTINGS,
        skip_bad: false,
    }
}

/// Every sample of `cache` equals its recording converted now.
fn assert_holds_the_recordings_of(cache: &FrameCache, root: &Path) {
    for part in [Part::Train, Part::Test] {
        let recordings = cache.manifest.recordings(part);
        for ((slot, label), recording) in cache.samples(part).into_iter().zip(recordings) {
            assert_eq!(label, recording.label);
            let direct = recording_frames(
                &root.join(&recording.file),
                RecordingFormat::Aedat2,
                &SETTINGS,
                None,
            )
            .unwrap();
            assert_eq!(cache.frames(part, slot), direct, "{:?}", recording.file);
        }
    }
}

/// Fails the build at one recording of the test part (after the training part is done):
/// the state a killed `prepare` leaves behind.
fn interrupted_build(root: &Path, dir: &Path) {
    let bad = root.join("square/square_4.aedat");
    let good = std::fs::read(&bad).unwrap();
    std::fs::write(&bad, &good[..good.len() - 3]).unwrap();
    let (index, split) = split(root);
    assert!(prepare(&request(&index, &split), dir, &|| {}).is_err());
    assert!(dir.join("test.f32.partial").exists() && !dir.join("manifest.json").exists());
    std::fs::write(&bad, &good).unwrap();
}

/// Rewrites a manifest after `edit`, with a valid checksum: only the checks behind the
/// checksum stand between the edit and the data.
fn resign(dir: &Path, edit: impl FnOnce(&mut CacheManifest)) {
    let path = dir.join("manifest.json");
    let mut manifest: CacheManifest =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut manifest);
    manifest.checksum = String::new();
    manifest.checksum = checksum(&serde_json::to_vec(&manifest).unwrap());
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
}

fn open_error(dir: &Path) -> String {
    FrameCache::open(dir)
        .err()
        .expect("a damaged cache is refused")
        .to_string()
}

#[test]
fn builds_reuses_and_serves_the_frames() {
    let root = dataset("build");
    let (index, split) = split(&root);
    let request = request(&index, &split);
    let dir = cache_dir(&root.join("cache"), &request).unwrap();
    let name = dir.file_name().unwrap().to_str().unwrap();
    assert!(
        dir.parent().unwrap().ends_with("cache/shapes")
            && name.starts_with("T4-number-32x32-area-")
            && name.len() == "T4-number-32x32-area-".len() + 12,
        "{}",
        dir.display()
    );
    let calls = AtomicUsize::new(0);
    let (cache, origin) = prepare(&request, &dir, &|| {
        calls.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(origin, CacheOrigin::Built);
    assert_eq!(calls.load(Ordering::Relaxed), 10);
    assert_eq!(cache.samples(Part::Train).len(), 6);
    assert_eq!(cache.samples(Part::Test).len(), 4);
    assert_holds_the_recordings_of(&cache, &root);
    // The frames of a recording hold its events: the area mean times 16 sums to the count.
    let total: f32 = cache.frames(Part::Train, 0).iter().sum::<f32>() * 16.0;
    assert_eq!(total, 200.0);
    assert_eq!(
        cache.manifest.identity.root,
        std::fs::canonicalize(&root).unwrap()
    );
    drop(cache);

    let again = AtomicUsize::new(0);
    let (_, origin) = prepare(&request, &dir, &|| {
        again.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(origin, CacheOrigin::Reused);
    assert_eq!(
        again.load(Ordering::Relaxed),
        0,
        "a finished cache is reused, not rebuilt"
    );
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_failed_run_resumes_and_bad_recordings_can_be_skipped() {
    let root = dataset("resume");
    let (index, split) = split(&root);
    let bad = root.join("square/square_4.aedat");
    let good_bytes = std::fs::read(&bad).unwrap();
    std::fs::write(&bad, &good_bytes[..good_bytes.len() - 3]).unwrap();
    let dir = root.join("cache/shapes/here");
    let request = request(&index, &split);

    let error = prepare(&request, &dir, &|| {})
        .err()
        .expect("a truncated recording stops the run")
        .to_string();
    assert!(error.contains("square_4.aedat: at byte"), "{error}");
    assert!(
        !dir.join("manifest.json").exists(),
        "an unfinished cache has no manifest"
    );
    assert!(FrameCache::open(&dir).is_err());

    let skipping = PrepareRequest {
        skip_bad: true,
        ..request.clone()
    };
    let (cache, origin) = prepare(&skipping, &dir, &|| {}).unwrap();
    assert!(
        matches!(origin, CacheOrigin::Resumed { done } if done >= 6),
        "the training part was finished before the failure: {origin:?}"
    );
    assert_eq!(cache.manifest.skipped.len(), 1);
    assert!(cache.manifest.skipped[0].error.contains("left over"));
    assert_eq!(
        cache.samples(Part::Test).len(),
        3,
        "the bad test recording is left out"
    );
    drop(cache);
    // Without --skip-bad, that cache is not silently used short of a recording.
    let error = prepare(&request, &dir, &|| {})
        .err()
        .expect("a strict request")
        .to_string();
    assert!(
        error.contains("built with --skip-bad and leaves out 1 recordings"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // Repaired, the same request completes from scratch.
    std::fs::write(&bad, &good_bytes).unwrap();
    let (cache, _) = prepare(&request, &dir, &|| {}).unwrap();
    assert_eq!(cache.samples(Part::Test).len(), 4);
    assert!(!dir.join("test.done").exists() && !dir.join("test.f32.partial").exists());
    assert!(!dir.join("building.json").exists());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn two_dataset_folders_or_two_splits_never_share_a_cache() {
    let scratch = scratch("roots");
    let (a, b) = (scratch.join("a"), scratch.join("b"));
    write_dataset(&a, 0);
    write_dataset(&b, 3);
    let caches = scratch.join("cache");
    // A's build interrupted mid-way, then B with the same file names.
    let (index_a, split_a) = split(&a);
    let dir_a = cache_dir(&caches, &request(&index_a, &split_a)).unwrap();
    interrupted_build(&a, &dir_a);
    let (index_b, split_b) = split(&b);
    let request_b = request(&index_b, &split_b);
    let dir_b = cache_dir(&caches, &request_b).unwrap();
    assert_ne!(dir_a, dir_b);
    let (cache_b, origin) = prepare(&request_b, &dir_b, &|| {}).unwrap();
    assert_eq!(origin, CacheOrigin::Built);
    assert_holds_the_recordings_of(&cache_b, &b);
    // A finishes its own build (anew: its repaired recording changed since), and both
    // caches coexist.
    let (cache_a, origin) = prepare(&request(&index_a, &split_a), &dir_a, &|| {}).unwrap();
    assert_eq!(origin, CacheOrigin::Built);
    assert_holds_the_recordings_of(&cache_a, &a);
    assert_holds_the_recordings_of(&cache_b, &b);

    // Another split of A: another folder.
    let (index, other_split) = split_with(&a, 0.8);
    assert_ne!(
        cache_dir(&caches, &request(&index, &other_split)).unwrap(),
        dir_a
    );

    // Even pointed at A's interrupted folder, B's request starts over rather than resuming.
    drop((cache_a, cache_b));
    let shared = scratch.join("one-folder");
    interrupted_build(&a, &shared);
    let (cache, origin) = prepare(&request_b, &shared, &|| {}).unwrap();
    assert_eq!(origin, CacheOrigin::Built);
    assert_holds_the_recordings_of(&cache, &b);
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn changed_recordings_rebuild_the_cache() {
    let root = dataset("changed");
    let caches = scratch("changed-caches");
    let (index, split) = split(&root);
    let request = request(&index, &split);
    let dir = cache_dir(&caches, &request).unwrap();
    drop(prepare(&request, &dir, &|| {}).unwrap());
    // Other events under the same names (the split, files and labels are unchanged).
    write_dataset(&root, 7);
    let (index, same_split) = split_with(&root, 0.6);
    assert_eq!(same_split.hash, split.hash);
    let request = self::request(&index, &same_split);
    assert_eq!(cache_dir(&caches, &request).unwrap(), dir);
    let (cache, origin) = prepare(&request, &dir, &|| {}).unwrap();
    assert!(
        matches!(&origin, CacheOrigin::Rebuilt { reason } if reason.contains("recordings that changed")),
        "{origin:?}"
    );
    assert_holds_the_recordings_of(&cache, &root);

    // A cache in use (open here) is not rebuilt under its reader.
    let before = cache.frames(Part::Train, 0);
    write_dataset(&root, 9);
    let error = prepare(&request, &dir, &|| {}).err().expect("in use");
    assert!(matches!(error, EventsError::InUse { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("in use by another spikeforge process")
    );
    assert_eq!(cache.frames(Part::Train, 0), before);
    drop(cache);
    let (cache, origin) = prepare(&request, &dir, &|| {}).unwrap();
    assert!(matches!(origin, CacheOrigin::Rebuilt { .. }), "{origin:?}");
    assert_holds_the_recordings_of(&cache, &root);
    std::fs::remove_dir_all(root).unwrap();
    std::fs::remove_dir_all(caches).unwrap();
}

#[test]
fn a_second_prepare_of_a_cache_being_built_is_a_clear_error() {
    let root = dataset("concurrent");
    let (index, split) = split(&root);
    let request = request(&index, &split);
    let dir = cache_dir(&root.join("cache"), &request).unwrap();
    let (started, wait) = std::sync::mpsc::channel::<()>();
    let (resume, paused) = std::sync::mpsc::channel::<()>();
    let paused = std::sync::Mutex::new(paused);
    std::thread::scope(|scope| {
        let first = scope.spawn(|| {
            let once = std::sync::Once::new();
            prepare(&request, &dir, &|| {
                once.call_once(|| {
                    started.send(()).unwrap();
                    paused.lock().unwrap().recv().unwrap();
                })
            })
            .map(|_| ())
        });
        wait.recv().unwrap();
        let error = prepare(&request, &dir, &|| {})
            .err()
            .expect("a second builder");
        assert!(matches!(error, EventsError::InUse { .. }), "{error}");
        resume.send(()).unwrap();
        first.join().unwrap().unwrap();
    });
    let (cache, origin) = prepare(&request, &dir, &|| {}).unwrap();
    assert_eq!(origin, CacheOrigin::Reused);
    assert_holds_the_recordings_of(&cache, &root);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_damaged_or_edited_cache_is_refused() {
    let root = dataset("damaged");
    let (index, split) = split(&root);
    let dir = root.join("cache");
    drop(prepare(&request(&index, &split), &dir, &|| {}).unwrap());
    let train = dir.join("train.f32");
    let good = std::fs::read(&train).unwrap();
    let manifest = dir.join("manifest.json");
    let good_manifest = std::fs::read_to_string(&manifest).unwrap();

    std::fs::write(&train, &good[..good.len() - 4]).unwrap();
    let error = open_error(&dir);
    assert!(
        error.contains("train.f32") && error.contains("6 samples of 32768 bytes"),
        "{error}"
    );

    let mut flipped = good.clone();
    flipped[40_000] ^= 0x01;
    std::fs::write(&train, &flipped).unwrap();
    let error = open_error(&dir);
    assert!(
        error.contains("train.f32") && error.contains("the file is damaged"),
        "{error}"
    );
    std::fs::write(&train, &good).unwrap();
    FrameCache::open(&dir).unwrap();

    // A label edited by hand.
    let edited = good_manifest.replacen("\"label\": 0", "\"label\": 1", 1);
    assert_ne!(edited, good_manifest);
    std::fs::write(&manifest, &edited).unwrap();
    let error = open_error(&dir);
    assert!(
        error.contains("manifest.json") && error.contains("edited or damaged"),
        "{error}"
    );

    // A syntax error: its real position.
    let broken = good_manifest.replacen("\"skipped\"", "\"skipped\" nonsense", 1);
    std::fs::write(&manifest, &broken).unwrap();
    let error = open_error(&dir);
    let at = broken.find(" nonsense").unwrap();
    assert!(
        error.contains(&format!("at byte {}", at + 1)),
        "{error} (expected near byte {at})"
    );

    // Behind a valid checksum: a NaN, a slot out of range, a slot used twice.
    std::fs::write(&manifest, &good_manifest).unwrap();
    let mut with_nan = good.clone();
    with_nan[4 * 5000..4 * 5001].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&train, &with_nan).unwrap();
    resign(&dir, |m| m.train_checksum = checksum(&with_nan));
    let error = open_error(&dir);
    assert!(
        error.contains("train.f32: at byte 20000")
            && error.contains("value 5000 (sample 0) is NaN"),
        "{error}"
    );
    std::fs::write(&train, &good).unwrap();
    for edit in [
        |m: &mut CacheManifest| m.train_slots[2] = Some(99),
        |m: &mut CacheManifest| m.train_slots[2] = Some(1),
        |m: &mut CacheManifest| {
            m.test_slots.pop();
        },
    ] {
        std::fs::write(&manifest, &good_manifest).unwrap();
        resign(&dir, |m| {
            m.train_checksum = checksum(&good);
            edit(m)
        });
        let error = open_error(&dir);
        assert!(
            error.contains("manifest.json") && error.contains("slot"),
            "{error}"
        );
    }
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn empty_and_special_recordings_are_errors_or_skipped() {
    let root = dataset("empty");
    // A 0-byte file, a header-only file and a link to /dev/null.
    std::fs::write(root.join("circle/circle_3.aedat"), b"").unwrap();
    std::fs::write(
        root.join("circle/circle_4.aedat"),
        b"#!AER-DAT2.0\r\n# nothing recorded\r\n",
    )
    .unwrap();
    std::fs::remove_file(root.join("square/square_4.aedat")).unwrap();
    std::os::unix::fs::symlink("/dev/null", root.join("square/square_4.aedat")).unwrap();
    let error = scan_class_folders(&root, &["aedat"], RecordingFormat::Aedat2)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("square_4.aedat") && error.contains("a regular file"),
        "{error}"
    );
    std::fs::remove_file(root.join("square/square_4.aedat")).unwrap();
    let (index, split) = split(&root);
    let dir = root.join("cache");
    let error = prepare(&request(&index, &split), &dir, &|| {})
        .err()
        .expect("an empty recording")
        .to_string();
    assert!(error.contains("holds no events"), "{error}");
    let skipping = PrepareRequest {
        skip_bad: true,
        ..request(&index, &split)
    };
    let (cache, _) = prepare(&skipping, &dir, &|| {}).unwrap();
    let mut skipped: Vec<_> = cache
        .manifest
        .skipped
        .iter()
        .map(|s| s.file.to_str().unwrap().to_string())
        .collect();
    skipped.sort();
    assert_eq!(skipped, ["circle/circle_3.aedat", "circle/circle_4.aedat"]);
    assert!(
        cache
            .manifest
            .skipped
            .iter()
            .all(|s| s.error.contains("holds no events"))
    );
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn impossible_frame_settings_are_refused_before_any_file_is_written() {
    let root = dataset("settings");
    let (index, split) = split(&root);
    let dir = root.join("cache");
    for (frames, size, expected) in [
        (
            4,
            (100_000, 100_000),
            "at most the sensor's 128×128, not 100000×100000",
        ),
        (4, (0, 32), "not 0×32"),
        (
            100_000,
            (32, 32),
            "1 to 1024 frames per recording, not 100000",
        ),
        (0, (32, 32), "not 0"),
    ] {
        let request = PrepareRequest {
            settings: FrameSettings {
                frames,
                size,
                ..SETTINGS
            },
            ..request(&index, &split)
        };
        let error = prepare(&request, &dir, &|| {})
            .err()
            .expect("refused")
            .to_string();
        assert!(error.contains(expected), "{error}");
        assert!(!dir.exists());
    }
    std::fs::remove_dir_all(root).unwrap();
}
