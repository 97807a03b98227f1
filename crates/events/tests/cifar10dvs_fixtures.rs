//! Every `cifar10dvs_aedat` fixture: AEDAT 2.0 parsing (header, coordinate mapping), frame
//! integration by number and by time at 128×128 with SpikingJelly's `j_l/j_r`, the five
//! 32×32 reductions, and the writer's round trip.

mod common;

use common::{assert_events_match, case, cases, floats, ints, path_of, wide};
use events::formats::aedat2;
use events::frames::{EmptyWindows, SplitBy, integrate, segment_bounds};
use events::resize::{Resize, resize};
use serde_json::Value;

fn parsed(case: &Value) -> events::Events {
    let path = path_of(&case["aedat"]);
    aedat2::read(&path).unwrap()
}

#[test]
fn parses_like_spikingjelly() {
    for case in cases("cifar10dvs_aedat") {
        let name = case["name"].as_str().unwrap();
        let path = path_of(&case["aedat"]);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            aedat2::header_len(&bytes) as u64,
            case["header_bytes"].as_u64().unwrap(),
            "{name} header"
        );
        let events = aedat2::parse(&bytes, &path).unwrap();
        assert_eq!(
            events.len() as u64,
            case["n_events"].as_u64().unwrap(),
            "{name}"
        );
        assert_events_match(&events, &case["parsed"], name);
    }
}

#[test]
fn integrates_frames_like_spikingjelly() {
    for case in cases("cifar10dvs_aedat") {
        let name = case["name"].as_str().unwrap();
        let events = parsed(&case);
        for (mode, split_by) in [("number", SplitBy::Number), ("time", SplitBy::Time)] {
            let spec = &case["frames"][mode];
            let frames_n = spec["T"].as_u64().unwrap() as usize;
            let bounds = segment_bounds(
                &events.t,
                frames_n,
                split_by,
                EmptyWindows::Error,
                std::path::Path::new(name),
            )
            .unwrap();
            let (left, right): (Vec<i64>, Vec<i64>) =
                bounds.iter().map(|&(l, r)| (l as i64, r as i64)).unzip();
            assert_eq!(left, ints(&spec["j_l"]), "{name} {mode} j_l");
            assert_eq!(right, ints(&spec["j_r"]), "{name} {mode} j_r");

            let frames = integrate(
                &events,
                frames_n,
                split_by,
                aedat2::SENSOR_SIZE,
                EmptyWindows::Error,
                std::path::Path::new(name),
            )
            .unwrap();
            assert_eq!(
                wide(&frames.counts),
                ints(&spec["frames_u8"]),
                "{name} {mode} frames"
            );

            let Some(reductions) = spec.get("downsampled_32") else {
                continue;
            };
            for (key, method) in [
                ("sum_pool_4x4", Resize::Sum),
                ("avg_pool_4x4", Resize::Area),
                ("interpolate_nearest", Resize::Nearest),
                ("interpolate_bilinear", Resize::Bilinear),
                ("tv_resize_bilinear_antialias", Resize::BilinearAntialias),
            ] {
                let expected = floats(&reductions[key]);
                let actual = resize(&frames, (32, 32), method);
                assert_eq!(actual.len(), expected.len());
                // Sums, means of 16, single pixels and 2×2 means of counts are exact in f32;
                // the antialiased filter's normalised weights round differently.
                let tolerance = if method == Resize::BilinearAntialias {
                    1e-5
                } else {
                    0.0
                };
                for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
                    assert!(
                        (a - e).abs() <= tolerance * e.abs().max(1.0),
                        "{name} {mode} {key}[{i}]: {a} vs {e}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_writer_round_trips() {
    for case in cases("cifar10dvs_aedat") {
        let events = parsed(&case);
        let path = std::path::Path::new("memory.aedat");
        let bytes = aedat2::encode(&events, path).unwrap();
        assert_eq!(aedat2::parse(&bytes, path).unwrap(), events);
    }
    let dir = std::env::temp_dir().join(format!("spikeforge-aedat2-{}", std::process::id()));
    let file = dir.join("airplane/cifar10_airplane_0.aedat");
    let events = parsed(&case("cifar10dvs_aedat", "random3003"));
    aedat2::write(&file, &events).unwrap();
    assert_eq!(aedat2::read(&file).unwrap(), events);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_writer_refuses_what_the_format_cannot_hold() {
    let mut events = events::Events::default();
    events.push(5, 3, 128, 1);
    let error = aedat2::encode(&events, std::path::Path::new("out.aedat")).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("out.aedat: event 0: pixel (3, 128)"),
        "{error}"
    );
}

#[test]
fn a_truncated_body_names_the_file_and_offset() {
    let path = path_of(&case("cifar10dvs_aedat", "edge43")["aedat"]);
    let bytes = std::fs::read(&path).unwrap();
    let cut = &bytes[..bytes.len() - 3];
    let error = aedat2::parse(cut, &path).unwrap_err().to_string();
    let expected_offset = 44 + (bytes.len() - 44 - 3) / 8 * 8;
    assert!(error.contains("edge43.aedat"), "{error}");
    assert!(
        error.contains(&format!("at byte {expected_offset}")),
        "{error}"
    );
    assert!(error.contains("5 left over"), "{error}");
}
