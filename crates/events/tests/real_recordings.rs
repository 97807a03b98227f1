//! Real recordings: an MNIST-DVS file in CIFAR10-DVS's AEDAT 2.0 format and N-MNIST samples.
//! Event counts, ranges and frames are checked against the figures recorded in the data's
//! PROVENANCE and against an independent computation in the test.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use events::formats::{aedat2, nmnist};
use events::frames::{EmptyWindows, SplitBy, integrate};
use events::resize::{Resize, resize};

fn real(name: &str) -> PathBuf {
    common::fixture_file("real", name)
}

#[test]
fn mnist_dvs_aedat2_matches_its_provenance() {
    let path = real("mnist_0_scale04_0001.aedat");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(aedat2::header_len(&bytes), 216, "5 CRLF header lines");
    let events = aedat2::parse(&bytes, &path).unwrap();
    assert_eq!(events.len(), 15_744);
    // Raw x 0..126 and y 1..127 become y = 127 − x_raw and x = 127 − y_raw.
    assert_eq!(
        events.x.iter().min().zip(events.x.iter().max()),
        Some((&0, &126))
    );
    assert_eq!(
        events.y.iter().min().zip(events.y.iter().max()),
        Some((&1, &127))
    );
    assert_eq!(
        events.p.iter().filter(|&&p| p == 0).count(),
        7_874,
        "ON events map to p = 0"
    );
    assert_eq!(
        events.t.first().zip(events.t.last()),
        Some((&0, &2_210_588))
    );
    assert!(events.t.windows(2).all(|w| w[0] <= w[1]));

    // Frames by number, checked against a count done here with a hash map.
    let frames = integrate(
        &events,
        8,
        SplitBy::Number,
        (128, 128),
        EmptyWindows::Error,
        &path,
    )
    .unwrap();
    let per_frame = events.len() / 8;
    let mut expected: HashMap<(usize, usize, u16, u16), u32> = HashMap::new();
    for i in 0..events.len() {
        let frame = (i / per_frame).min(7);
        *expected
            .entry((
                frame,
                usize::from(events.p[i] != 0),
                events.y[i],
                events.x[i],
            ))
            .or_default() += 1;
    }
    for ((frame, channel, y, x), count) in &expected {
        let index = ((frame * 2 + channel) * 128 + usize::from(*y)) * 128 + usize::from(*x);
        assert_eq!(frames.counts[index], *count);
    }
    assert_eq!(
        frames.counts.iter().map(|&c| c as usize).sum::<usize>(),
        events.len()
    );

    // The 4×4 area mean keeps the total mass / 16, the sum keeps it whole.
    let area: f64 = resize(&frames, (32, 32), Resize::Area)
        .iter()
        .map(|&v| f64::from(v))
        .sum();
    let sum: f64 = resize(&frames, (32, 32), Resize::Sum)
        .iter()
        .map(|&v| f64::from(v))
        .sum();
    assert_eq!(sum, events.len() as f64);
    assert!((area * 16.0 - sum).abs() < 1e-6);
}

#[test]
fn an_nmnist_sample_parses_and_round_trips() {
    let path = real("nmnist_1.bs2");
    let bytes = std::fs::read(&path).unwrap();
    let events = nmnist::parse(&bytes, &path).unwrap();
    assert_eq!(events.len(), bytes.len() / 5);
    assert!(events.x.iter().chain(&events.y).all(|&c| c < 34));
    assert!(events.t.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(nmnist::encode(&events, &path).unwrap(), bytes);
}

/// The whole N-MNIST subset of `shared/data` (1100 files), when it is there.
#[test]
fn the_shared_nmnist_subset_matches_its_provenance() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/nmnist/slayer_NMNISTsmall");
    if !root.is_dir() {
        eprintln!(
            "SKIPPED: {} is absent (it sits beside the repository on project machines)",
            root.display()
        );
        return;
    }
    let (mut files, mut train, mut test, mut on, mut t_max) = (0, 0, 0, 0usize, 0u64);
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "bs2") {
            continue;
        }
        let id: u32 = path.file_stem().unwrap().to_str().unwrap().parse().unwrap();
        let events = nmnist::read(&path).unwrap();
        assert!(
            events.x.iter().chain(&events.y).all(|&c| c < 34),
            "{}",
            path.display()
        );
        assert!(
            events.t.windows(2).all(|w| w[0] <= w[1]),
            "{}",
            path.display()
        );
        files += 1;
        if id > 60_000 {
            test += events.len()
        } else {
            train += events.len()
        }
        on += events.p.iter().filter(|&&p| p == 1).count();
        t_max = t_max.max(*events.t.iter().max().unwrap());
    }
    assert_eq!(files, 1100);
    assert_eq!((train, test), (4_133_231, 385_596));
    assert_eq!(t_max, 336_040);
    let on_share = on as f64 / (train + test) as f64;
    assert!((on_share - 0.498).abs() < 0.001, "{on_share}");
}
