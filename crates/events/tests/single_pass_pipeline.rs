//! The single-pass pipeline (decode and count straight into pooled frames) equals the general
//! path (parse, integrate, resize) bit for bit, on random recordings and settings.

use std::path::Path;

use events::cache::FrameSettings;
use events::dataset::RecordingFormat;
use events::formats::{aedat2, nmnist};
use events::pipeline::{frames_from_bytes, frames_from_events, parse, sensor_size};
use events::{EmptyWindows, Events, Resize, SplitBy};
use proptest::prelude::*;

/// The general path: parse the file, then integrate and resize the events.
fn general(
    bytes: &[u8],
    format: RecordingFormat,
    settings: &FrameSettings,
) -> events::Result<Vec<f32>> {
    let path = Path::new("general");
    let events = parse(bytes, format, path)?;
    frames_from_events(&events, sensor_size(format), settings, path)
}

fn recording(seed: u64, n: usize, max_coordinate: u16) -> Events {
    let mut events = Events::default();
    let mut state = seed;
    for i in 0..n {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let bits = state >> 16;
        events.push(
            i as u64 * 3,
            (bits % u64::from(max_coordinate)) as u16,
            ((bits >> 16) % u64::from(max_coordinate)) as u16,
            ((bits >> 32) & 1) as u8,
        );
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED_F0CE), ..ProptestConfig::default() })]

    #[test]
    fn single_pass_equals_the_general_path(
        seed in any::<u64>(),
        n in 0usize..3000,
        frames in 1usize..12,
        size_index in 0usize..5,
        resize_index in 0usize..5,
        nmnist_format in any::<bool>(),
        by_time in any::<bool>(),
    ) {
        let (format, max_coordinate, sizes) = if nmnist_format {
            (RecordingFormat::NMnistBin, 36, [(34, 34), (17, 17), (2, 2), (10, 10), (34, 17)])
        } else {
            (RecordingFormat::Aedat2, 128, [(32, 32), (128, 128), (16, 16), (30, 30), (64, 32)])
        };
        let settings = FrameSettings {
            frames,
            split_by: if by_time { SplitBy::Time } else { SplitBy::Number },
            empty_windows: EmptyWindows::Allow,
            size: sizes[size_index],
            resize: Resize::ALL[resize_index],
        };
        let events = recording(seed, n, max_coordinate);
        let path = Path::new("fast");
        let bytes = match format {
            RecordingFormat::Aedat2 => aedat2::encode(&events, path).unwrap(),
            _ => nmnist::encode(&events, path).unwrap(),
        };
        let fast = frames_from_bytes(&bytes, format, &settings, path);
        let slow = general(&bytes, format, &settings);
        match (fast, slow) {
            (Ok(fast), Ok(slow)) => {
                prop_assert_eq!(fast.len(), slow.len());
                prop_assert!(fast.iter().zip(&slow).all(|(a, b)| a.to_bits() == b.to_bits()));
            }
            (Err(_), Err(_)) => {}
            (fast, slow) => prop_assert!(false, "fast {:?} vs general {:?}", fast.is_ok(), slow.is_ok()),
        }
    }
}
