//! The event transforms: against Tonic's output on the same events for every deterministic
//! setting (`fixtures/tonic_transforms`, written by `scripts/make_tonic_transform_fixtures.py`),
//! and the random ones by their properties (rates, determinism per seed, invariants).

use events::Events;
use events::transforms::{
    CenterCrop, Decimation, Denoise, DropEvent, DropEventByArea, DropEventByTime, MergePolarities,
    RandomCrop, RandomFlipLR, RandomFlipUD, Range, RefractoryPeriod, SpatialJitter, TimeJitter,
    TimeSkew, Transform, TransformError,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

fn events_of(value: &Value) -> Events {
    let field = |name: &str| -> Vec<u64> {
        value[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect()
    };
    Events {
        t: field("t"),
        x: field("x").into_iter().map(|v| v as u16).collect(),
        y: field("y").into_iter().map(|v| v as u16).collect(),
        p: field("p").into_iter().map(|v| v as u8).collect(),
    }
}

/// Our transform for a case's Tonic settings on the fixture's sensor.
fn transform(spec: &Value, [width, height]: [u16; 2]) -> Box<dyn Transform> {
    let (name, args) = spec.as_object().unwrap().iter().next().unwrap();
    let f = |key: &str| args[key].as_f64().unwrap();
    let size = |key: &str| {
        (
            args[key][0].as_u64().unwrap() as u16,
            args[key][1].as_u64().unwrap() as u16,
        )
    };
    match name.as_str() {
        "Denoise" => Box::new(Denoise {
            filter_time: f("filter_time"),
        }),
        "RefractoryPeriod" => Box::new(RefractoryPeriod {
            delta: f("delta").into(),
        }),
        "Decimation" => Box::new(Decimation {
            n: args["n"].as_u64().unwrap() as usize,
        }),
        "CenterCrop" => {
            let (size_width, size_height) = size("size");
            Box::new(CenterCrop {
                width,
                height,
                size_width,
                size_height,
            })
        }
        "RandomCrop" => {
            let (target_width, target_height) = size("target_size");
            Box::new(RandomCrop {
                width,
                height,
                target_width,
                target_height,
            })
        }
        "RandomFlipLR" => Box::new(RandomFlipLR { width, p: f("p") }),
        "RandomFlipUD" => Box::new(RandomFlipUD { height, p: f("p") }),
        "TimeSkew" => Box::new(TimeSkew {
            coefficient: f("coefficient").into(),
            offset: f("offset").into(),
        }),
        "MergePolarities" => Box::new(MergePolarities),
        "DropEvent" => Box::new(DropEvent { p: f("p").into() }),
        "DropEventByArea" => Box::new(DropEventByArea {
            width,
            height,
            area_ratio: f("area_ratio").into(),
        }),
        other => panic!("no transform {other}"),
    }
}

#[test]
fn deterministic_transforms_equal_tonics_output() {
    let text = include_str!("fixtures/tonic_transforms/cases.json");
    let fixture: Value = serde_json::from_str(text).unwrap();
    let sensor = [
        fixture["sensor"][0].as_u64().unwrap() as u16,
        fixture["sensor"][1].as_u64().unwrap() as u16,
    ];
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 42);
    for case in cases {
        let input = events_of(&fixture["inputs"][case["input"].as_str().unwrap()]);
        let expected = events_of(&case["output"]);
        for seed in [0, 1] {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let got = transform(&case["transform"], sensor)
                .apply(&input, &mut rng)
                .unwrap();
            assert_eq!(got, expected, "{} on {}", case["name"], case["input"]);
        }
    }
}

/// A recording of `n` events on a 64 × 48 sensor over 100 ms, sorted by time.
fn recording(n: usize, seed: u64) -> Events {
    use rand::Rng;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t: Vec<u64> = (0..n).map(|_| rng.random_range(0..100_000)).collect();
    t.sort_unstable();
    let mut events = Events::with_capacity(n);
    for t in t {
        events.push(
            t,
            rng.random_range(0..64),
            rng.random_range(0..48),
            rng.random_range(0..2),
        );
    }
    events
}

fn apply(transform: &dyn Transform, events: &Events, seed: u64) -> Events {
    transform
        .apply(events, &mut ChaCha8Rng::seed_from_u64(seed))
        .unwrap()
}

/// Whether `sub` is `all` with some events left out, the rest in order.
fn is_subsequence(sub: &Events, all: &Events) -> bool {
    let mut j = 0;
    for i in 0..all.len() {
        if j < sub.len()
            && (all.t[i], all.x[i], all.y[i], all.p[i]) == (sub.t[j], sub.x[j], sub.y[j], sub.p[j])
        {
            j += 1;
        }
    }
    j == sub.len()
}

#[test]
fn random_transforms_are_deterministic_per_seed_and_vary_across_seeds() {
    let events = recording(2000, 7);
    let transforms: Vec<Box<dyn Transform>> = vec![
        Box::new(DropEvent { p: 0.3.into() }),
        Box::new(DropEventByTime {
            duration_ratio: 0.2.into(),
        }),
        Box::new(DropEventByArea {
            width: 64,
            height: 48,
            area_ratio: Range::Uniform(0.1, 0.5),
        }),
        Box::new(SpatialJitter {
            width: 64,
            height: 48,
            var_x: 1.0,
            var_y: 2.0,
            sigma_xy: 0.5,
            clip_outliers: true,
        }),
        Box::new(TimeJitter {
            std: 100.0,
            clip_negative: true,
            sort_timestamps: true,
        }),
        Box::new(RandomCrop {
            width: 64,
            height: 48,
            target_width: 32,
            target_height: 32,
        }),
        Box::new(TimeSkew {
            coefficient: Range::Uniform(0.8, 1.2),
            offset: Range::Uniform(0.0, 1000.0),
        }),
    ];
    for transform in &transforms {
        assert_eq!(
            apply(&**transform, &events, 3),
            apply(&**transform, &events, 3)
        );
        let outputs: Vec<Events> = (0..4)
            .map(|seed| apply(&**transform, &events, seed))
            .collect();
        assert!(
            outputs.windows(2).any(|w| w[0] != w[1]),
            "no variation over seeds"
        );
    }
}

#[test]
fn drops_remove_the_asked_share_and_keep_the_order() {
    let events = recording(1000, 1);
    for seed in 0..5 {
        let kept = apply(&DropEvent { p: 0.25.into() }, &events, seed);
        assert_eq!(kept.len(), 750);
        assert!(is_subsequence(&kept, &events));

        let by_time = DropEventByTime {
            duration_ratio: 0.3.into(),
        };
        let kept = apply(&by_time, &events, seed);
        assert!(is_subsequence(&kept, &events));
        // The dropped events are one window of at most 30 % of [0, max t].
        let dropped: Vec<u64> = events
            .t
            .iter()
            .filter(|t| !kept.t.contains(t))
            .copied()
            .collect();
        let span = dropped.last().unwrap() - dropped.first().unwrap();
        assert!(span as f64 <= 0.3 * *events.t.last().unwrap() as f64);
        assert!((200..=400).contains(&dropped.len()), "{}", dropped.len());

        let by_area = DropEventByArea {
            width: 64,
            height: 48,
            area_ratio: 0.5.into(),
        };
        let kept = apply(&by_area, &events, seed);
        assert!(is_subsequence(&kept, &events));
        // A 32 × 24 box: about a quarter of the events go, all from one box of that size.
        let gone: Vec<usize> = (0..events.len())
            .filter(|&i| {
                !kept
                    .t
                    .iter()
                    .zip(&kept.x)
                    .zip(&kept.y)
                    .any(|((&t, &x), &y)| (t, x, y) == (events.t[i], events.x[i], events.y[i]))
            })
            .collect();
        let xs = gone.iter().map(|&i| events.x[i]);
        let ys = gone.iter().map(|&i| events.y[i]);
        assert!(xs.clone().max().unwrap() - xs.min().unwrap() < 32);
        assert!(ys.clone().max().unwrap() - ys.min().unwrap() < 24);
        assert!((150..=350).contains(&gone.len()), "{}", gone.len());
    }
}

#[test]
fn jitter_moves_by_the_asked_spread_and_flips_are_involutions() {
    let events = recording(20_000, 2);
    let jitter = SpatialJitter {
        width: 64,
        height: 48,
        var_x: 4.0,
        var_y: 0.0,
        sigma_xy: 0.0,
        clip_outliers: true,
    };
    let moved = apply(&jitter, &events, 5);
    assert!(moved.len() < events.len() && moved.len() > events.len() * 9 / 10);
    assert!(moved.x.iter().all(|&x| x < 64) && moved.y.iter().all(|&y| y < 48));
    // var_y = 0: rows never move; the timestamps are the input's in order.
    assert!(is_subsequence(
        &Events {
            x: vec![0; moved.len()],
            ..moved.clone()
        },
        &Events {
            x: vec![0; events.len()],
            ..events.clone()
        }
    ));
    let unclipped = SpatialJitter {
        clip_outliers: false,
        ..jitter
    };
    let far = Events {
        t: vec![0; 1000],
        x: vec![1000; 1000],
        y: vec![10; 1000],
        p: vec![0; 1000],
    };
    let moved = apply(&unclipped, &far, 1);
    let mean = moved.x.iter().map(|&x| f64::from(x)).sum::<f64>() / 1000.0;
    let var = moved
        .x
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / 1000.0;
    // Truncation toward zero adds about 1/12 + a little; the draws' variance is 4.
    assert!(
        (mean - 999.5).abs() < 0.3 && (3.4..5.0).contains(&var),
        "{mean} {var}"
    );

    let time = TimeJitter {
        std: 50.0,
        clip_negative: true,
        sort_timestamps: true,
    };
    let jittered = apply(&time, &events, 9);
    assert!(jittered.t.windows(2).all(|w| w[0] <= w[1]));
    let unclipped = TimeJitter {
        clip_negative: false,
        sort_timestamps: false,
        ..time
    };
    let at_zero = Events {
        t: vec![0; 100],
        x: vec![0; 100],
        y: vec![0; 100],
        p: vec![0; 100],
    };
    assert!(matches!(
        unclipped.apply(&at_zero, &mut ChaCha8Rng::seed_from_u64(0)),
        Err(TransformError::Unrepresentable {
            transform: "TimeJitter",
            ..
        })
    ));

    for seed in 0..3 {
        let lr = RandomFlipLR { width: 64, p: 0.5 };
        let ud = RandomFlipUD { height: 48, p: 1.0 };
        let twice = apply(&ud, &apply(&ud, &events, seed), seed);
        assert_eq!(twice, events);
        let flipped = apply(&lr, &events, seed);
        assert!(flipped == events || flipped.x.iter().zip(&events.x).all(|(a, b)| a + b == 63));
    }
    let crop = RandomCrop {
        width: 64,
        height: 48,
        target_width: 16,
        target_height: 16,
    };
    let cropped = apply(&crop, &events, 4);
    assert!(!cropped.is_empty() && cropped.x.iter().chain(&cropped.y).all(|&v| v < 16));
}

#[test]
fn bad_settings_and_unrepresentable_results_are_errors() {
    let events = recording(10, 3);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let setting =
        |r: Result<Events, TransformError>| matches!(r, Err(TransformError::Setting { .. }));
    assert!(setting(
        DropEvent { p: 1.5.into() }.apply(&events, &mut rng)
    ));
    assert!(setting(
        DropEventByTime {
            duration_ratio: 1.0.into()
        }
        .apply(&events, &mut rng)
    ));
    assert!(setting(Decimation { n: 0 }.apply(&events, &mut rng)));
    assert!(setting(
        RandomFlipLR { width: 64, p: -0.1 }.apply(&events, &mut rng)
    ));
    assert!(setting(
        RandomCrop {
            width: 8,
            height: 8,
            target_width: 9,
            target_height: 1
        }
        .apply(&events, &mut rng)
    ));
    // An event outside the stated sensor cannot be mirrored.
    assert!(matches!(
        RandomFlipLR { width: 4, p: 1.0 }.apply(&events, &mut rng),
        Err(TransformError::Unrepresentable { .. })
    ));
    // A negative skewed timestamp is an error, not a wrapped one.
    let skew = TimeSkew {
        coefficient: 1.0.into(),
        offset: (-1e9).into(),
    };
    assert!(matches!(
        skew.apply(&events, &mut rng),
        Err(TransformError::Unrepresentable { index: 0, .. })
    ));
    // Empty recordings and a stray huge coordinate pass the per-pixel filters.
    let mut stray = events.clone();
    stray.push(100_001, u16::MAX, u16::MAX, 1);
    for filter in [
        &Denoise { filter_time: 10.0 } as &dyn Transform,
        &RefractoryPeriod { delta: 10.0.into() },
        &Decimation { n: 2 },
    ] {
        assert!(
            filter
                .apply(&Events::default(), &mut rng)
                .unwrap()
                .is_empty()
        );
        filter.apply(&stray, &mut rng).unwrap();
    }
}

#[test]
fn transforms_by_tonic_name_take_tonics_defaults_and_refuse_unknown_settings() {
    use events::transforms::{NAMES, named};
    use serde_json::json;
    let events = recording(500, 4);
    let by_name = |name: &str, settings: Value| named(name, settings).unwrap();
    let same = |a: &dyn Transform, b: &dyn Transform| apply(a, &events, 1) == apply(b, &events, 1);
    assert!(same(
        &*by_name("Denoise", json!({"filter_time": 1000})),
        &Denoise {
            filter_time: 1000.0
        }
    ));
    assert!(same(
        &*by_name("DropEventByArea", json!({"width": 64, "height": 48})),
        &DropEventByArea {
            width: 64,
            height: 48,
            area_ratio: 0.2.into()
        }
    ));
    assert!(same(
        &*by_name("TimeSkew", json!({"coefficient": [0.5, 2.0]})),
        &TimeSkew {
            coefficient: Range::Uniform(0.5, 2.0),
            offset: 0.0.into()
        }
    ));
    assert!(same(
        &*by_name("TimeJitter", json!({"std": 10.0})),
        &TimeJitter {
            std: 10.0,
            clip_negative: true,
            sort_timestamps: false
        }
    ));
    assert!(same(
        &*by_name(
            "SpatialJitter",
            json!({"width": 64, "height": 48, "clip_outliers": true})
        ),
        &SpatialJitter {
            width: 64,
            height: 48,
            var_x: 1.0,
            var_y: 1.0,
            sigma_xy: 0.0,
            clip_outliers: true
        }
    ));
    assert!(same(
        &*by_name("RandomFlipUD", json!({"height": 48})),
        &RandomFlipUD { height: 48, p: 0.5 }
    ));
    assert!(same(
        &*by_name("MergePolarities", json!({})),
        &MergePolarities
    ));
    for name in NAMES {
        assert!(
            named(name, json!({"no_such_setting": 1})).is_err(),
            "{name}"
        );
    }
    let error = named("Blur", json!({})).err().unwrap().to_string();
    assert!(
        error.contains("no transform `Blur`") && error.contains("Denoise"),
        "{error}"
    );
    assert!(named("Denoise", json!({})).is_err());
}
