//! The frame cache: built in parallel from real files, reused, resumed after a failure,
//! keyed by its settings, unreadable recordings skipped on request, and a damaged cache
//! refused.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use events::cache::{
    FrameCache, FrameSettings, Part, PrepareRequest, cache_dir, prepare, recording_frames,
};
use events::dataset::{RecordingFormat, scan_class_folders};
use events::formats::aedat2;
use events::split::{SplitManifest, SplitRule};
use events::{EmptyWindows, Events, Resize, SplitBy};

const SETTINGS: FrameSettings = FrameSettings {
    frames: 4,
    split_by: SplitBy::Number,
    empty_windows: EmptyWindows::Error,
    size: (32, 32),
    resize: Resize::Area,
};

/// Two classes of five recordings each, written with the AEDAT 2.0 writer.
fn dataset(test: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("spikeforge-cache-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for (label, class) in ["circle", "square"].iter().enumerate() {
        for i in 0..5u16 {
            let mut events = Events::default();
            for k in 0..(200 + 37 * i) {
                let x = (k * 13 + i * 7 + label as u16 * 31) % 128;
                events.push(u64::from(k) * 10, x, (k * 29) % 128, (k % 2) as u8);
            }
            aedat2::write(
                &root.join(class).join(format!("{class}_{i}.aedat")),
                &events,
            )
            .unwrap();
        }
    }
    root
}

fn split(root: &Path) -> (events::dataset::DatasetIndex, SplitManifest) {
    let index = scan_class_folders(root, "aedat", RecordingFormat::Aedat2).unwrap();
    let split = SplitManifest::split(&index, SplitRule::SpikingJelly { train_ratio: 0.6 }).unwrap();
    (index, split)
}

#[test]
fn builds_reuses_and_serves_the_frames() {
    let root = dataset("build");
    let (index, split) = split(&root);
    let dir = cache_dir(&root.join("cache"), "shapes", &SETTINGS);
    assert!(dir.ends_with("shapes/T4-number-32x32-area"));
    let calls = AtomicUsize::new(0);
    let request = PrepareRequest {
        index: &index,
        split: &split,
        settings: SETTINGS,
        skip_bad: false,
    };
    let cache = prepare(&request, &dir, &|| {
        calls.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 10);
    assert_eq!(cache.samples(Part::Train).len(), 6);
    assert_eq!(cache.samples(Part::Test).len(), 4);
    for (part, recordings) in [(Part::Train, &split.train), (Part::Test, &split.test)] {
        for ((slot, label), recording) in cache.samples(part).into_iter().zip(recordings) {
            assert_eq!(label, recording.label);
            let direct = recording_frames(
                &root.join(&recording.file),
                RecordingFormat::Aedat2,
                &SETTINGS,
                None,
            )
            .unwrap();
            assert_eq!(cache.frames(part, slot), direct);
        }
    }
    // The frames of a recording hold its events: the area mean times 16 sums to the count.
    let total: f32 = cache.frames(Part::Train, 0).iter().sum::<f32>() * 16.0;
    assert_eq!(total, 200.0);

    let again = AtomicUsize::new(0);
    prepare(&request, &dir, &|| {
        again.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
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
    let dir = root.join("cache/shapes").join(SETTINGS.key());
    let request = PrepareRequest {
        index: &index,
        split: &split,
        settings: SETTINGS,
        skip_bad: false,
    };

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
    let cache = prepare(&skipping, &dir, &|| {}).unwrap();
    assert_eq!(cache.manifest.skipped.len(), 1);
    assert!(cache.manifest.skipped[0].error.contains("left over"));
    assert_eq!(
        cache.samples(Part::Test).len(),
        3,
        "the bad test recording is left out"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // Repaired, the same request completes from scratch.
    std::fs::write(&bad, &good_bytes).unwrap();
    let cache = prepare(&request, &dir, &|| {}).unwrap();
    assert_eq!(cache.samples(Part::Test).len(), 4);
    assert!(!dir.join("test.done").exists() && !dir.join("test.f32.partial").exists());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_damaged_cache_is_refused() {
    let root = dataset("damaged");
    let (index, split) = split(&root);
    let dir = root.join("cache");
    let request = PrepareRequest {
        index: &index,
        split: &split,
        settings: SETTINGS,
        skip_bad: false,
    };
    prepare(&request, &dir, &|| {}).unwrap();
    let train = dir.join("train.f32");
    let len = std::fs::metadata(&train).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&train)
        .unwrap()
        .set_len(len - 4)
        .unwrap();
    let error = FrameCache::open(&dir)
        .err()
        .expect("a short data file")
        .to_string();
    assert!(error.contains("train.f32"), "{error}");
    assert!(error.contains("6 samples of 32768 bytes"), "{error}");
    std::fs::remove_dir_all(root).unwrap();
}
