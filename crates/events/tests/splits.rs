//! Dataset order and splits: SpikingJelly's 9:1 split of CIFAR10-DVS reproduced row for row
//! (fixture `split`), the TEBN split, the seeded random split, and the manifest's hash.

mod common;

use std::path::{Path, PathBuf};

use common::{case, ints};
use events::dataset::{CIFAR10_DVS_CLASSES, DatasetIndex, cifar10_dvs};
use events::split::{SplitManifest, SplitRule};

/// A CIFAR10-DVS folder of 10 × 1000 empty recordings.
fn fake_cifar10_dvs(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("spikeforge-split-{}-{name}", std::process::id()));
    for class in CIFAR10_DVS_CLASSES {
        std::fs::create_dir_all(root.join(class)).unwrap();
        for i in 0..1000 {
            std::fs::write(
                root.join(class).join(format!("cifar10_{class}_{i}.aedat")),
                b"",
            )
            .unwrap();
        }
    }
    root
}

/// `(label, i)` rows of recordings named `cifar10_<class>_<i>.aedat`.
fn rows(recordings: &[events::dataset::Recording]) -> Vec<i64> {
    recordings
        .iter()
        .flat_map(|r| {
            let stem = r.file.file_stem().unwrap().to_str().unwrap();
            let i: i64 = stem.rsplit('_').next().unwrap().parse().unwrap();
            [i64::from(r.label), i]
        })
        .collect()
}

/// A fresh fake CIFAR10-DVS folder for one test (tests run in parallel) and its index.
fn index(test: &str) -> (DatasetIndex, PathBuf) {
    let root = fake_cifar10_dvs(test);
    (cifar10_dvs(&root).unwrap(), root)
}

#[test]
fn order_and_ratio_split_match_spikingjelly() {
    let case = case("cifar10dvs_split", "ratio0.9_no_shuffle");
    let (index, root) = index("order");
    assert_eq!(rows(&index.recordings), ints(&case["dataset_order"]));
    let split = SplitManifest::split(&index, SplitRule::SpikingJelly { train_ratio: 0.9 }).unwrap();
    assert_eq!(rows(&split.train), ints(&case["train"]));
    assert_eq!(rows(&split.test), ints(&case["test"]));
    // The test set is the last 100 names in string order: …_909, _91, _910, …, _999.
    assert_eq!(
        split.test[0].file,
        Path::new("airplane/cifar10_airplane_909.aedat")
    );

    let tebn = SplitManifest::split(&index, SplitRule::Tebn).unwrap();
    assert_eq!((tebn.train.len(), tebn.test.len()), (9000, 1000));
    assert!(rows(&tebn.test).chunks(2).all(|row| row[1] < 100));
    assert!(rows(&tebn.train).chunks(2).all(|row| row[1] >= 100));
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn the_random_split_is_seeded_and_balanced() {
    let (index, root) = index("random");
    let rule = |seed| SplitRule::Random {
        train_ratio: 0.9,
        seed,
    };
    let a = SplitManifest::split(&index, rule(1)).unwrap();
    let again = SplitManifest::split(&index, rule(1)).unwrap();
    let other = SplitManifest::split(&index, rule(2)).unwrap();
    assert_eq!(a, again);
    assert_ne!(a.hash, other.hash);
    for label in 0..10 {
        assert_eq!(a.test.iter().filter(|r| r.label == label).count(), 100);
    }
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn manifests_round_trip_and_detect_tampering() {
    let (index, root) = index("manifest");
    let split = SplitManifest::split(&index, SplitRule::SpikingJelly { train_ratio: 0.9 }).unwrap();
    let file = root.join("split.json");
    split.write(&file).unwrap();
    assert_eq!(SplitManifest::read(&file).unwrap(), split);

    let tampered =
        std::fs::read_to_string(&file)
            .unwrap()
            .replacen("\"label\": 0", "\"label\": 1", 1);
    std::fs::write(&file, tampered).unwrap();
    let error = SplitManifest::read(&file).unwrap_err().to_string();
    assert!(
        error.contains("split.json: at byte 0: content matching the recorded hash"),
        "{error}"
    );
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_missing_class_folder_is_an_error() {
    let root =
        std::env::temp_dir().join(format!("spikeforge-split-{}-partial", std::process::id()));
    std::fs::create_dir_all(root.join("airplane")).unwrap();
    let error = cifar10_dvs(&root).unwrap_err().to_string();
    assert!(
        error.contains("the ten CIFAR10-DVS class folders"),
        "{error}"
    );
    std::fs::remove_dir_all(root).unwrap();
}
