//! The `integrate_small`, `nmnist_bin` and `dvs128gesture_aedat3` fixtures.

mod common;

use std::path::Path;

use common::{assert_events_match, case, cases, floats, ints, path_of};
use events::formats::{aedat3, nmnist};
use events::frames::{EmptyWindows, SplitBy, integrate, segment_bounds};
use events::{Events, EventsError};
use serde_json::Value;

fn events_of(entries: &Value) -> Events {
    let (x, y, p) = (
        ints(&entries["x"]),
        ints(&entries["y"]),
        ints(&entries["p"]),
    );
    let mut events = Events::default();
    for (i, t) in ints(&entries["t"]).into_iter().enumerate() {
        events.push(t as u64, x[i] as u16, y[i] as u16, p[i] as u8);
    }
    events
}

#[test]
fn small_integrations_match() {
    for case in cases("integrate_small") {
        let name = case["name"].as_str().unwrap();
        let events = events_of(&case);
        let split_by = match case["split_by"].as_str().unwrap() {
            "number" => SplitBy::Number,
            _ => SplitBy::Time,
        };
        let frames_n = case["T"].as_u64().unwrap() as usize;
        let size = (
            case["H"].as_u64().unwrap() as usize,
            case["W"].as_u64().unwrap() as usize,
        );
        let path = Path::new(name);
        let bounds =
            segment_bounds(&events.t, frames_n, split_by, EmptyWindows::Error, path).unwrap();
        let (left, right): (Vec<i64>, Vec<i64>) =
            bounds.iter().map(|&(l, r)| (l as i64, r as i64)).unzip();
        assert_eq!(left, ints(&case["j_l"]), "{name} j_l");
        assert_eq!(right, ints(&case["j_r"]), "{name} j_r");
        let frames =
            integrate(&events, frames_n, split_by, size, EmptyWindows::Error, path).unwrap();
        let expected: Vec<u32> = floats(&case["frames"]).iter().map(|&v| v as u32).collect();
        assert_eq!(frames.counts, expected, "{name} frames");
    }
}

#[test]
fn an_empty_time_window_is_an_error_or_an_empty_frame_by_choice() {
    let case = case("integrate_small_error", "time_empty_bin");
    let mut events = Events::default();
    for t in case["t"].as_array().unwrap() {
        events.push(t.as_u64().unwrap(), 0, 0, 1);
    }
    let path = Path::new("gappy.aedat");
    let error =
        integrate(&events, 8, SplitBy::Time, (4, 4), EmptyWindows::Error, path).unwrap_err();
    assert!(
        matches!(&error, EventsError::Integration { problem, .. } if problem.contains("window 1 ([12, 24) µs) holds no event")),
        "{error}"
    );
    assert!(error.to_string().starts_with("gappy.aedat: "), "{error}");

    // With empty windows allowed: t = 0, 1, 2 in window 0, t = 100 goes to the last frame.
    let frames = integrate(&events, 8, SplitBy::Time, (4, 4), EmptyWindows::Allow, path).unwrap();
    let per_frame: Vec<u32> = (0..8).map(|t| frames.frame(t).iter().sum()).collect();
    assert_eq!(per_frame, [3, 0, 0, 0, 0, 0, 0, 1]);
}

#[test]
fn nmnist_bin_parses_like_spikingjelly() {
    let case = case("nmnist_bin", "sample30");
    let path = path_of(&case["bin"]);
    let events = nmnist::read(&path).unwrap();
    assert_events_match(&events, &case["parsed"], case["name"].as_str().unwrap());

    let bytes = nmnist::encode(&events, &path).unwrap();
    assert_eq!(
        bytes,
        std::fs::read(&path).unwrap(),
        "the writer gives back the same bytes"
    );
    let error = nmnist::parse(&bytes[..bytes.len() - 2], &path)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("sample30.bin: at byte 145: a whole 5-byte event"),
        "{error}"
    );
}

#[test]
fn dvs128_gesture_parses_and_splits_like_spikingjelly() {
    let case = case("dvs128gesture_aedat3", "user01_synthetic");
    let events = aedat3::read(&path_of(&case["aedat"])).unwrap();
    assert_events_match(&events, &case["parsed"], case["name"].as_str().unwrap());

    let windows = aedat3::read_labels(&path_of(&case["csv"])).unwrap();
    let samples = aedat3::split_by_labels(&events, &windows);
    let expected = case["samples"].as_array().unwrap();
    assert_eq!(samples.len(), expected.len());
    for (label, k, sample) in &samples {
        // SpikingJelly writes sample k of a label to `<label>/<file>_<k>.npz`.
        let file = format!("user01_synthetic_{k}.npz");
        let want = expected
            .iter()
            .find(|w| w["dir"].as_str() == Some(&label.to_string()) && w["file"] == file)
            .unwrap_or_else(|| panic!("SpikingJelly wrote no {label}/{file}"));
        assert_eq!(sample, &events_of(&want["events"]), "{label}/{file}");
    }
}

#[test]
fn a_truncated_gesture_packet_is_an_error() {
    let path = path_of(&case("dvs128gesture_aedat3", "user01_synthetic")["aedat"]);
    let bytes = std::fs::read(&path).unwrap();
    let error = aedat3::parse(&bytes[..bytes.len() - 1], &path)
        .unwrap_err()
        .to_string();
    assert!(error.contains("user01_synthetic.aedat: at byte"), "{error}");
    assert!(error.contains("bytes remain"), "{error}");
    let labels = b"class,startTime_usec,endTime_usec\n1,100,500\n12,0,5\n";
    let error = aedat3::parse_labels(labels, Path::new("x_labels.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("x_labels.csv: at byte 44: line 3"),
        "{error}"
    );
}

#[test]
fn integration_by_duration_follows_spikingjelly() {
    // t − min = 0, 5, 10, 19, 20, 41 with D = 10: ceil(41 / 10) = 5 frames; frame i takes
    // t // 10 == i, and the last frame also everything later (41 → frame 4).
    let mut events = Events::default();
    for (t, x) in [(100, 0), (105, 1), (110, 2), (119, 3), (120, 0), (141, 1)] {
        events.push(t, x, 0, 1);
    }
    let frames =
        events::frames::integrate_by_duration(&events, 10, (1, 4), Path::new("d")).unwrap();
    assert_eq!(frames.frames, 5);
    let per_frame: Vec<u32> = (0..5).map(|t| frames.frame(t).iter().sum()).collect();
    assert_eq!(per_frame, [2, 2, 1, 0, 1]);
    let error =
        events::frames::integrate_by_duration(&Events::default(), 10, (1, 4), Path::new("e"))
            .unwrap_err()
            .to_string();
    assert!(error.contains("needs at least one event"), "{error}");
}
