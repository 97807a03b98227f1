//! The DVS128 Gesture dataset: trial lists and labels CSVs become samples in SpikingJelly's
//! `DatasetFolder` order, and the cache holds each sample's frames.

mod common;

use std::path::PathBuf;

use common::{case, path_of};
use events::cache::{FrameSettings, Part, PrepareRequest, prepare};
use events::dataset::dvs128_gesture;
use events::split::SplitManifest;
use events::{EmptyWindows, Resize, SplitBy};

fn gesture_root() -> PathBuf {
    let case = case("dvs128gesture_aedat3", "user01_synthetic");
    let root = std::env::temp_dir().join(format!(
        "spikeforge-gesture-{}-{}",
        std::process::id(),
        std::thread::current()
            .name()
            .unwrap_or("main")
            .replace("::", "-")
    ));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(path_of(&case["aedat"]), root.join("user01_synthetic.aedat")).unwrap();
    std::fs::copy(
        path_of(&case["csv"]),
        root.join("user01_synthetic_labels.csv"),
    )
    .unwrap();
    std::fs::write(
        root.join("trials_to_train.txt"),
        "user01_synthetic.aedat\n\n",
    )
    .unwrap();
    std::fs::write(root.join("trials_to_test.txt"), "").unwrap();
    root
}

#[test]
fn samples_come_in_spikingjellys_folder_order_and_cache_their_frames() {
    let root = gesture_root();
    let (train, test) = dvs128_gesture(&root).unwrap();
    assert!(test.recordings.is_empty());
    // Folders sort as strings: 0, 0, 10, 9 (rows 1, 10, 1, 11 of the CSV; labels = class − 1).
    let labels: Vec<u16> = train.recordings.iter().map(|r| r.label).collect();
    assert_eq!(labels, [0, 0, 10, 9]);
    let windows: Vec<(u64, u64)> = train
        .recordings
        .iter()
        .map(|r| r.window.map(|w| (w.start, w.end)).unwrap())
        .collect();
    assert_eq!(windows, [(100, 500), (900, 1300), (1300, 2000), (500, 900)]);

    let settings = FrameSettings {
        frames: 2,
        split_by: SplitBy::Number,
        empty_windows: EmptyWindows::Error,
        size: (128, 128),
        resize: Resize::Sum,
    };
    let split = SplitManifest::new(
        None,
        train.classes.clone(),
        train.recordings.clone(),
        vec![],
    );
    let request = PrepareRequest {
        dataset: "dvs-gesture",
        index: &train,
        split: &split,
        settings,
        skip_bad: false,
    };
    // SpikingJelly's samples hold 10, 10, 0 and 10 events (fixture `samples`): the empty one
    // is an error naming its window, not a sample of zeros.
    let error = prepare(&request, &root.join("cache"), &|| {})
        .err()
        .expect("an empty window")
        .to_string();
    assert!(
        error.contains("user01_synthetic.aedat")
            && error.contains("[1300, 2000) µs holds no events"),
        "{error}"
    );
    // Skipping it leaves out that window only, not the other samples of its recording.
    let skipping = PrepareRequest {
        skip_bad: true,
        ..request
    };
    let (cache, _) = prepare(&skipping, &root.join("cache"), &|| {}).unwrap();
    assert_eq!(cache.manifest.skipped.len(), 1);
    assert_eq!(
        cache.manifest.skipped[0].window.map(|w| (w.start, w.end)),
        Some((1300, 2000))
    );
    let totals: Vec<f32> = cache
        .samples(Part::Train)
        .into_iter()
        .map(|(slot, _)| cache.frames(Part::Train, slot).iter().sum())
        .collect();
    assert_eq!(totals, [10.0, 10.0, 10.0]);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn trials_listed_twice_and_backwards_windows_are_errors() {
    let root = gesture_root();
    std::fs::write(root.join("trials_to_test.txt"), "user01_synthetic.aedat\n").unwrap();
    let error = dvs128_gesture(&root).unwrap_err().to_string();
    assert!(
        error.contains("trials_to_test.txt: at byte 0")
            && error
                .contains("`user01_synthetic` is already listed in trials_to_train.txt at byte 0"),
        "{error}"
    );
    std::fs::write(
        root.join("trials_to_train.txt"),
        "user01_synthetic.aedat\nuser01_synthetic\n",
    )
    .unwrap();
    std::fs::write(root.join("trials_to_test.txt"), "").unwrap();
    let error = dvs128_gesture(&root).unwrap_err().to_string();
    assert!(error.contains("trials_to_train.txt: at byte 23"), "{error}");

    std::fs::write(root.join("trials_to_train.txt"), "user01_synthetic.aedat\n").unwrap();
    let labels = root.join("user01_synthetic_labels.csv");
    let mut text = std::fs::read_to_string(&labels).unwrap();
    text.push_str("3,5000,4000\n");
    std::fs::write(&labels, text).unwrap();
    let error = dvs128_gesture(&root).unwrap_err().to_string();
    assert!(
        error.contains("_labels.csv") && error.contains("found `3,5000,4000`"),
        "{error}"
    );
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_missing_trial_list_is_a_clear_error() {
    let root =
        std::env::temp_dir().join(format!("spikeforge-gesture-missing-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let error = dvs128_gesture(&root).unwrap_err().to_string();
    assert!(error.contains("trials_to_train.txt"), "{error}");
    std::fs::remove_dir_all(root).unwrap();
}
