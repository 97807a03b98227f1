//! The fuzz targets of every reader, the single-pass frame pipeline, the split manifest and
//! the cache loader, run by [`events::fuzz`]: shared by the test suite's short run
//! (`tests/fuzz_targets.rs`) and the long run (`examples/fuzz.rs`).
//!
//! Every target states its property: never a panic; an error names the file; what is
//! accepted is well-formed (frames of the right length, finite; a cache exactly as built).

use std::path::{Path, PathBuf};

use events::cache::{CacheManifest, FrameCache, FrameSettings, PrepareRequest, cache_dir, prepare};
use events::dataset::{RecordingFormat, scan_class_folders};
use events::formats::prophesee::{self, dat};
use events::formats::sensor::SensorRecording;
use events::formats::{aedat2, aedat3, aedat4, nmnist, shd, spikingjelly_npz};
use events::fuzz::Target;
use events::pipeline::{frames_from_bytes, sensor_size};
use events::split::{SplitManifest, SplitRule};
use events::{EmptyWindows, Events, Resize, SplitBy};

/// The name every reader is given for the bytes it parses.
pub const NAME: &str = "fuzzed.input";

/// An error from a reader must name the file it was given.
fn named(error: &events::EventsError) -> Result<bool, String> {
    let text = error.to_string();
    if text.starts_with(NAME) {
        Ok(false)
    } else {
        Err(format!("an error that does not name the file: {text}"))
    }
}

/// A parse result: accepted, or an error naming the file.
fn parsed<T>(result: events::Result<T>) -> Result<bool, String> {
    match result {
        Ok(_) => Ok(true),
        Err(error) => named(&error),
    }
}

/// The frames of `bytes` by the single-pass pipeline (split by number) and the general one
/// (split by time): accepted frames have the settings' length and are finite.
fn frames(bytes: &[u8], format: RecordingFormat) -> Result<bool, String> {
    let sensor = sensor_size(format);
    let mut accepted = false;
    for (split_by, empty_windows) in [
        (SplitBy::Number, EmptyWindows::Error),
        (SplitBy::Time, EmptyWindows::Allow),
    ] {
        let settings = FrameSettings {
            frames: 4,
            split_by,
            empty_windows,
            size: (sensor.0.min(16), sensor.1.min(16)),
            resize: Resize::Area,
        };
        match frames_from_bytes(bytes, format, &settings, Path::new(NAME)) {
            Ok(frames) => {
                if frames.len() != settings.sample_len() || frames.iter().any(|v| !v.is_finite()) {
                    return Err(format!("malformed frames ({} values)", frames.len()));
                }
                accepted = true;
            }
            Err(error) => {
                named(&error)?;
            }
        }
    }
    Ok(accepted)
}

/// A camera format's result: an accepted recording has polarities 0 or 1 and every pixel
/// inside the sensor it declares.
fn camera(result: events::Result<SensorRecording>) -> Result<bool, String> {
    let recording = match result {
        Ok(recording) => recording,
        Err(error) => return named(&error),
    };
    let events = &recording.events;
    if events.p.iter().any(|&p| p > 1) {
        return Err("a polarity other than 0 or 1".to_string());
    }
    if let Some((height, width)) = recording.sensor {
        let outside = (0..events.len())
            .find(|&i| usize::from(events.x[i]) >= width || usize::from(events.y[i]) >= height);
        if let Some(i) = outside {
            return Err(format!(
                "event {i} outside the declared {width}×{height} sensor"
            ));
        }
    }
    Ok(true)
}

fn synthetic_events(count: u16, seed: u16) -> Events {
    let mut events = Events::default();
    for k in 0..count {
        let x = (k.wrapping_mul(13) + seed * 7) % 34;
        events.push(u64::from(k) * 37, x, (k * 29) % 34, (k % 2) as u8);
    }
    events
}

/// A sample file of 40 spikes over 0.1 s, some at one time.
fn spike_train_seed() -> Vec<u8> {
    let times = (0..40u16).map(|k| half::f16::from_f32(f32::from(k / 2) * 0.005));
    shd::SpikeTrain {
        times: times.collect(),
        units: (0..40u16).map(|k| (k * 37) % 700).collect(),
    }
    .encode()
}

fn fixture(relative: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every target; `scratch` is a folder the cache targets may own.
pub fn targets(scratch: &Path) -> Vec<Target> {
    let name = Path::new(NAME);
    let aedat2_seeds = vec![
        fixture("spikingjelly/cifar10dvs/edge43.aedat"),
        aedat2::encode(&synthetic_events(60, 1), name).unwrap(),
    ];
    let nmnist_seeds = vec![
        fixture("spikingjelly/nmnist/sample30.bin"),
        nmnist::encode(&synthetic_events(60, 2), name).unwrap(),
    ];
    let mut targets = vec![
        Target {
            name: "aedat2",
            seeds: aedat2_seeds.clone(),
            check: Box::new(|bytes| parsed(aedat2::parse(bytes, Path::new(NAME)))),
        },
        Target {
            name: "aedat3",
            seeds: vec![fixture("spikingjelly/dvs128gesture/user01_synthetic.aedat")],
            check: Box::new(|bytes| parsed(aedat3::parse(bytes, Path::new(NAME)))),
        },
        Target {
            name: "nmnist",
            seeds: nmnist_seeds.clone(),
            check: Box::new(|bytes| parsed(nmnist::parse(bytes, Path::new(NAME)))),
        },
        Target {
            name: "gesture-labels",
            seeds: vec![fixture(
                "spikingjelly/dvs128gesture/user01_synthetic_labels.csv",
            )],
            check: Box::new(|bytes| parsed(aedat3::parse_labels(bytes, Path::new(NAME)))),
        },
        Target {
            name: "spikingjelly-npz",
            seeds: vec![fixture("spikingjelly_npz/sample30_events.npz")],
            check: Box::new(|bytes| parsed(spikingjelly_npz::parse_events(bytes, Path::new(NAME)))),
        },
        Target {
            name: "aedat4",
            seeds: ["none", "lz4", "zstd"]
                .map(|c| fixture(&format!("prophesee_aedat4/{c}.aedat4")))
                .to_vec(),
            check: Box::new(|bytes| camera(aedat4::parse(bytes, Path::new(NAME)))),
        },
        Target {
            name: "prophesee-raw",
            seeds: vec![
                fixture("prophesee_aedat4/evt2.raw"),
                fixture("prophesee_aedat4/evt3.raw"),
            ],
            check: Box::new(|bytes| camera(prophesee::parse_raw(bytes, Path::new(NAME)))),
        },
        Target {
            name: "prophesee-dat",
            seeds: vec![fixture("prophesee_aedat4/gen1.dat")],
            check: Box::new(|bytes| camera(dat::parse(bytes, Path::new(NAME)))),
        },
        Target {
            name: "frames-aedat2",
            seeds: aedat2_seeds,
            check: Box::new(|bytes| frames(bytes, RecordingFormat::Aedat2)),
        },
        Target {
            name: "shd-hdf5",
            seeds: vec![fixture("shd/shd_train.h5"), fixture("shd/shd_test.h5")],
            check: Box::new(|bytes| {
                let path = Path::new(NAME);
                parsed(
                    shd::ShdFile::parse(bytes.to_vec(), path).and_then(|file| {
                        (0..file.len()).try_for_each(|i| file.sample(i).map(drop))
                    }),
                )
            }),
        },
        Target {
            name: "frames-spike-train",
            seeds: vec![spike_train_seed()],
            check: Box::new(|bytes| frames(bytes, RecordingFormat::SpikeTrain)),
        },
        Target {
            name: "frames-nmnist",
            seeds: nmnist_seeds,
            check: Box::new(|bytes| frames(bytes, RecordingFormat::NMnistBin)),
        },
    ];
    targets.extend(cache_targets(scratch));
    targets
}

/// The split manifest and the cache loader, on a small cache built in `scratch`: a mutated
/// manifest or data file is refused with an error naming it, unless the mutation left its
/// content as built (whitespace in the JSON, say).
fn cache_targets(scratch: &Path) -> Vec<Target> {
    let _ = std::fs::remove_dir_all(scratch);
    let root = scratch.join("recordings");
    for class in 0..2u16 {
        for i in 0..3u16 {
            let path = root.join(format!("class{class}/{i}.bin"));
            nmnist::write(&path, &synthetic_events(20 + i * 5, class * 3 + i)).unwrap();
        }
    }
    let index = scan_class_folders(&root, &["bin"], RecordingFormat::NMnistBin).unwrap();
    let split = SplitManifest::split(&index, SplitRule::SpikingJelly { train_ratio: 0.5 }).unwrap();
    let request = PrepareRequest {
        dataset: "fuzz",
        index: &index,
        split: &split,
        settings: FrameSettings {
            frames: 2,
            size: (2, 2),
            ..FrameSettings::default()
        },
        skip_bad: false,
    };
    let dir = cache_dir(&scratch.join("cache"), &request).unwrap();
    let (cache, _) = prepare(&request, &dir, &|| {}).unwrap();
    let built: CacheManifest = cache.manifest.clone();
    drop(cache);
    let manifest_path = dir.join("manifest.json");
    let train_path = dir.join("train.f32");
    let manifest_bytes = std::fs::read(&manifest_path).unwrap();
    let train_bytes = std::fs::read(&train_path).unwrap();
    let split_bytes = serde_json::to_vec_pretty(&split).unwrap();

    let opened = {
        let dir = dir.clone();
        move |built: &CacheManifest, frames: &[u8]| -> Result<bool, String> {
            match FrameCache::open(&dir) {
                Ok(cache) if cache.manifest == *built => {
                    let slots = cache.manifest.train_slots.len();
                    let all: Vec<u8> = (0..slots)
                        .flat_map(|slot| cache.frames(events::cache::Part::Train, slot))
                        .flat_map(f32::to_le_bytes)
                        .collect();
                    if all == frames {
                        Ok(true)
                    } else {
                        Err("opened a cache whose frames changed".to_string())
                    }
                }
                Ok(_) => Err("opened a cache whose manifest changed".to_string()),
                Err(error) if error.to_string().starts_with(dir.to_str().unwrap()) => Ok(false),
                Err(error) => Err(format!("an error that does not name the cache: {error}")),
            }
        }
    };
    let manifest_target = {
        let (opened, built, frames) = (opened.clone(), built.clone(), train_bytes.clone());
        let (path, good_train) = (manifest_path.clone(), train_bytes.clone());
        Target {
            name: "cache-manifest",
            seeds: vec![manifest_bytes.clone()],
            check: Box::new(move |bytes| {
                std::fs::write(&path, bytes).unwrap();
                std::fs::write(dir.join("train.f32"), &good_train).unwrap();
                opened(&built, &frames)
            }),
        }
    };
    let data_target = {
        let (path, manifest_path, manifest) = (train_path, manifest_path, manifest_bytes);
        Target {
            name: "cache-frames",
            seeds: vec![train_bytes],
            check: Box::new(move |bytes| {
                std::fs::write(&manifest_path, &manifest).unwrap();
                std::fs::write(&path, bytes).unwrap();
                opened(&built, bytes)
            }),
        }
    };
    let split_target = {
        let original = split.clone();
        Target {
            name: "split-manifest",
            seeds: vec![split_bytes],
            check: Box::new(move |bytes| {
                let Ok(text) = std::str::from_utf8(bytes) else {
                    return Ok(false);
                };
                match SplitManifest::from_json(text, Path::new(NAME)) {
                    Ok(read) if read.hash == original.hash && read.train == original.train => {
                        Ok(true)
                    }
                    Ok(read) => {
                        // Another valid manifest (its hash recomputed by the mutation is
                        // impossible in practice); it must at least be self-consistent.
                        let again = SplitManifest::new(
                            read.rule,
                            read.classes.clone(),
                            read.train.clone(),
                            read.test.clone(),
                        );
                        (again.hash == read.hash)
                            .then_some(true)
                            .ok_or_else(|| "accepted a manifest whose hash is wrong".to_string())
                    }
                    Err(error) => named(&error),
                }
            }),
        }
    };
    vec![manifest_target, data_target, split_target]
}
