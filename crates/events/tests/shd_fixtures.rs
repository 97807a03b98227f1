//! SHD/SSC: the HDF5 reader and SpikingJelly's SHD integration against files written by h5py
//! and frames computed by SpikingJelly 2.0.0 itself (`tests/fixtures/shd`, made by
//! `scripts/make_shd_fixtures.py`), and the dataset's extraction into the frame cache.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::fixture_file;
use events::cache::{FrameSettings, Part, PrepareRequest, cache_dir, prepare};
use events::datasets::DatasetKind;
use events::formats::shd::{ShdFile, SpikeTrain};
use events::spike_frames::integrate_spike_train;
use events::split::SplitRule;
use events::{EmptyWindows, Resize, SplitBy};
use npyz::npz::NpzArchive;
use serde_json::Value;

fn manifest() -> Value {
    let text = std::fs::read_to_string(fixture_file("shd", "manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn expected<T: npyz::Deserialize>(key: &str) -> Option<Vec<T>> {
    let mut archive = NpzArchive::open(fixture_file("shd", "expected.npz")).unwrap();
    let array = archive.by_name(key).unwrap()?;
    Some(array.into_vec().unwrap())
}

fn files() -> Vec<(String, PathBuf)> {
    ["shd_train", "shd_test"]
        .map(|stem| (stem.to_string(), fixture_file("shd", &format!("{stem}.h5"))))
        .to_vec()
}

#[test]
fn reader_equals_h5py_on_contiguous_and_chunked_files() {
    let manifest = manifest();
    for (stem, path) in files() {
        let file = ShdFile::open(&path).unwrap();
        let entry = &manifest[format!("{stem}.h5")];
        let labels: Vec<u16> = entry["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_u64().unwrap() as u16)
            .collect();
        assert_eq!(file.labels(), labels, "{stem}");
        for i in 0..file.len() {
            let train = file.sample(i).unwrap();
            let times: Vec<u16> = train.times.iter().map(|t| t.to_bits()).collect();
            assert_eq!(times, expected::<u16>(&format!("{stem}_{i}_t")).unwrap());
            assert_eq!(
                train.units,
                expected::<u16>(&format!("{stem}_{i}_x")).unwrap()
            );
            let reparsed = SpikeTrain::parse(&train.encode(), Path::new("x.spk")).unwrap();
            assert_eq!(reparsed, train);
        }
    }
}

#[test]
fn frames_equal_spikingjellys_by_number_and_by_time() {
    let manifest = manifest();
    let mut compared = 0;
    for (stem, path) in files() {
        let file = ShdFile::open(&path).unwrap();
        let empty = manifest[format!("{stem}.h5")]["empty_time_windows"].to_string();
        for i in 0..file.len() {
            let train = file.sample(i).unwrap();
            for frames in [4, 7] {
                for (split_by, name) in [(SplitBy::Number, "number"), (SplitBy::Time, "time")] {
                    let key = format!("{stem}_{i}_{name}_T{frames}");
                    let ours =
                        integrate_spike_train(&train, frames, split_by, EmptyWindows::Error, &path);
                    let Some(theirs) = expected::<f32>(&key) else {
                        assert!(empty.contains(&key), "{key} missing from the fixtures");
                        let error = ours.unwrap_err().to_string();
                        assert!(error.contains("holds no spike"), "{key}: {error}");
                        let allowed = integrate_spike_train(
                            &train,
                            frames,
                            split_by,
                            EmptyWindows::Allow,
                            &path,
                        )
                        .unwrap();
                        let total: u32 = allowed.counts.iter().sum();
                        assert_eq!(total as usize, train.len(), "{key}: every spike counted");
                        continue;
                    };
                    let ours = ours.unwrap();
                    assert_eq!((ours.frames, ours.height, ours.width), (frames, 1, 700));
                    for t in 0..frames {
                        let frame = ours.frame(t);
                        let channel0: Vec<f32> = frame[..700].iter().map(|&c| c as f32).collect();
                        assert_eq!(channel0, theirs[t * 700..(t + 1) * 700], "{key} frame {t}");
                        assert!(frame[700..].iter().all(|&c| c == 0), "{key}: channel 1");
                    }
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, 8 * 4 - 2);
}

#[test]
fn bad_files_are_errors_naming_them() {
    let dir = tempdir("bad");
    let source = std::fs::read(fixture_file("shd", "shd_train.h5")).unwrap();
    let cut = dir.join("cut.h5");
    std::fs::write(&cut, &source[..source.len() / 2]).unwrap();
    let not_hdf5 = dir.join("text.h5");
    std::fs::write(&not_hdf5, b"no HDF5 here").unwrap();
    for path in [cut, not_hdf5, dir.join("missing.h5")] {
        let error = ShdFile::open(&path).err().expect("an error").to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
    }
}

#[test]
fn the_dataset_is_extracted_once_and_cached_as_spikingjelly_integrates_it() {
    let dir = tempdir("dataset");
    let root = dir.join("SHD/events_h5");
    std::fs::create_dir_all(&root).unwrap();
    for (stem, path) in files() {
        std::fs::copy(path, root.join(format!("{stem}.h5"))).unwrap();
    }
    let root = dir.join("SHD");
    let cache_root = dir.join("cache");
    let extracted = AtomicUsize::new(0);
    let count = || {
        extracted.fetch_add(1, Ordering::Relaxed);
    };
    let rule = SplitRule::SpikingJelly { train_ratio: 0.9 };
    let opened = DatasetKind::Shd
        .open(&root, &cache_root, rule, &count)
        .unwrap();
    assert_eq!(extracted.load(Ordering::Relaxed), 8);
    assert_eq!((opened.split.train.len(), opened.split.test.len()), (5, 3));
    assert_eq!(opened.index.classes.len(), 20);
    let again = DatasetKind::Shd
        .open(&root, &cache_root, rule, &count)
        .unwrap();
    assert_eq!(extracted.load(Ordering::Relaxed), 8, "extracted once");
    assert_eq!(again.split.train, opened.split.train);

    let settings = FrameSettings {
        frames: 4,
        split_by: SplitBy::Number,
        empty_windows: EmptyWindows::Error,
        size: (1, 700),
        resize: Resize::Area,
    };
    let request = PrepareRequest {
        dataset: opened.name,
        index: &opened.index,
        split: &opened.split,
        settings,
        skip_bad: false,
    };
    let (cache, _) = prepare(&request, &cache_dir(&cache_root, &request).unwrap(), &|| ()).unwrap();
    for (slot, recording) in opened.split.test.iter().enumerate() {
        let frames = cache.frames(Part::Test, slot);
        let index: usize = recording
            .file
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let theirs = expected::<f32>(&format!("shd_test_{index}_number_T4")).unwrap();
        for t in 0..4 {
            assert_eq!(
                frames[t * 1400..t * 1400 + 700],
                theirs[t * 700..(t + 1) * 700]
            );
        }
    }
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikeforge-shd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
