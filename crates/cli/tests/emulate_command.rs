//! `spikeforge emulate` end to end: PNG class folders in, CIFAR10-DVS-layout AEDAT 2.0 files
//! (and N-MNIST `.bin` files) out, readable by the readers, deterministic by seed.

use std::path::Path;
use std::process::Command;

use events::formats::{aedat2, nmnist};

fn emulate(source: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spikeforge"))
        .args([
            "emulate",
            "--input",
            "images",
            "--saccade-ms",
            "20",
            "--source",
        ])
        .arg(source)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn emulate_writes_readable_deterministic_recordings() {
    let scratch = std::env::temp_dir().join(format!("spikeforge-emulate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    for (class, corner) in [("left", 2u32), ("right", 20)] {
        std::fs::create_dir_all(scratch.join("images").join(class)).unwrap();
        let image = image::GrayImage::from_fn(32, 32, |x, y| {
            image::Luma([if (corner..corner + 10).contains(&x) && y < 16 {
                250
            } else {
                128
            }])
        });
        image
            .save(scratch.join("images").join(class).join("a.png"))
            .unwrap();
    }
    let first = emulate(&scratch.join("images"), &scratch.join("out1"), &[]);
    assert!(first.status.success(), "{first:?}");
    assert!(
        String::from_utf8(first.stdout)
            .unwrap()
            .contains("2 recordings of 2 classes")
    );
    let left = aedat2::read(&scratch.join("out1/left/images_left_0.aedat")).unwrap();
    assert!(left.len() > 100, "{}", left.len());

    let again = emulate(&scratch.join("images"), &scratch.join("out2"), &[]);
    assert!(again.status.success());
    assert_eq!(
        std::fs::read(scratch.join("out1/left/images_left_0.aedat")).unwrap(),
        std::fs::read(scratch.join("out2/left/images_left_0.aedat")).unwrap(),
        "the same seed gives the same bytes"
    );

    let bins = emulate(
        &scratch.join("images"),
        &scratch.join("out3"),
        &["--format", "nmnist", "--sensor", "34"],
    );
    assert!(bins.status.success(), "{bins:?}");
    let digits = nmnist::read(&scratch.join("out3/right/0.bin")).unwrap();
    assert!(!digits.is_empty() && digits.x.iter().all(|&x| x < 34));

    let too_big = emulate(
        &scratch.join("images"),
        &scratch.join("out4"),
        &["--sensor", "256"],
    );
    assert!(!too_big.status.success());
    assert!(
        String::from_utf8(too_big.stderr)
            .unwrap()
            .contains("at most 128×128")
    );
    std::fs::remove_dir_all(scratch).unwrap();
}
