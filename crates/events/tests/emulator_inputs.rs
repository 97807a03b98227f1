//! The emulator's image inputs: MNIST IDX, CIFAR-10 binary batches, PNG/JPEG class folders;
//! and an emulated recording written as AEDAT 2.0 and read back in SpikingJelly's coordinates
//! with the image upright.

use std::path::{Path, PathBuf};

use events::emulator::SensorConfig;
use events::formats::aedat2;
use events::images::{decode, read_cifar10_batch, read_image_folders, read_mnist_idx};
use events::saccades::{Image, Motion, record};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikeforge-images-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn mnist_idx_files_are_read_with_their_labels() {
    let dir = scratch("idx");
    let mut images = Vec::new();
    for word in [2051u32, 2, 2, 3] {
        images.extend_from_slice(&word.to_be_bytes());
    }
    images.extend_from_slice(&[0, 255, 0, 0, 0, 0, 10, 20, 30, 40, 50, 255]);
    let mut labels = Vec::new();
    for word in [2049u32, 2] {
        labels.extend_from_slice(&word.to_be_bytes());
    }
    labels.extend_from_slice(&[7, 1]);
    std::fs::write(dir.join("images.idx"), &images).unwrap();
    std::fs::write(dir.join("labels.idx"), &labels).unwrap();
    let read = read_mnist_idx(&dir.join("images.idx"), &dir.join("labels.idx")).unwrap();
    assert_eq!(read.len(), 2);
    assert_eq!((read[0].label, read[1].label), (7, 1));
    assert_eq!((read[0].image.height, read[0].image.width), (2, 3));
    assert_eq!(read[0].image.pixels[1], 1.0);
    assert_eq!(read[1].image.pixels[5], 1.0);

    std::fs::write(dir.join("short.idx"), &images[..images.len() - 1]).unwrap();
    let error = read_mnist_idx(&dir.join("short.idx"), &dir.join("labels.idx"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("short.idx: at byte 16: 2 images of 2×3 bytes"),
        "{error}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cifar10_batches_become_luminance() {
    let dir = scratch("cifar");
    let mut record = vec![3u8];
    record.extend(std::iter::repeat_n(255u8, 1024)); // red
    record.extend(std::iter::repeat_n(0u8, 2048)); // green, blue
    std::fs::write(dir.join("batch.bin"), &record).unwrap();
    let read = read_cifar10_batch(&dir.join("batch.bin")).unwrap();
    assert_eq!(read[0].label, 3);
    assert!((read[0].image.pixels[0] - 0.299).abs() < 1e-6);
    std::fs::write(dir.join("cut.bin"), &record[..100]).unwrap();
    assert!(
        read_cifar10_batch(&dir.join("cut.bin"))
            .unwrap_err()
            .to_string()
            .contains("cut.bin: at byte 0")
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn png_class_folders_are_decoded() {
    let dir = scratch("png");
    for (class, value) in [("bright", 250u8), ("dark", 5)] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        let image = image::GrayImage::from_pixel(4, 3, image::Luma([value]));
        image.save(dir.join(class).join("a.png")).unwrap();
    }
    let (classes, images) = read_image_folders(&dir).unwrap();
    assert_eq!(classes, ["bright", "dark"]);
    assert_eq!(images.len(), 2);
    assert_eq!((images[0].image.height, images[0].image.width), (3, 4));
    assert!(images[0].image.pixels[0] > 0.9 && images[1].image.pixels[0] < 0.1);
    std::fs::write(dir.join("dark/broken.png"), b"not a png").unwrap();
    let error = read_image_folders(&dir).unwrap_err().to_string();
    assert!(
        error.contains("broken.png: at byte 0: a PNG or JPEG image"),
        "{error}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_emulated_recording_reads_back_upright_through_aedat2() {
    // A bright bar in the image's top rows, on the surround's grey.
    let mut pixels = vec![0.5f32; 32 * 32];
    for y in 2..6 {
        for x in 4..28 {
            pixels[y * 32 + x] = 1.0;
        }
    }
    let image = Image {
        height: 32,
        width: 32,
        pixels,
    };
    let sensor = SensorConfig {
        background_rate_hz: 0.0,
        ..SensorConfig::default()
    };
    let motion = Motion {
        saccade_us: 30_000,
        ..Motion::default()
    };
    let events = record(&image, sensor, &motion);
    let dir = scratch("upright");
    let file = dir.join("bar.aedat");
    aedat2::write(&file, &events).unwrap();
    let read = aedat2::read(&file).unwrap();
    assert_eq!(read, events);
    let mean_y = read.y.iter().map(|&y| f64::from(y)).sum::<f64>() / read.len() as f64;
    assert!(
        mean_y < 40.0,
        "the bar is near the top of the frame, mean row {mean_y}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A real photograph from `shared/data`, when it is there.
#[test]
fn a_real_photograph_decodes() {
    let camera = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/sample_images/skimage/camera.png");
    if !camera.is_file() {
        eprintln!("SKIPPED: {} is absent", camera.display());
        return;
    }
    let image = decode(&camera).unwrap();
    assert_eq!((image.height, image.width), (512, 512));
    assert!(image.pixels.iter().all(|p| (0.0..=1.0).contains(p)));
}

#[test]
fn the_default_dataset_is_balanced_deterministic_and_reused() {
    use events::default_dataset::{CLASSES, DefaultDatasetSpec, ensure};
    use std::sync::atomic::{AtomicUsize, Ordering};

    let spec = DefaultDatasetSpec {
        train_per_class: 2,
        test_per_class: 1,
        seed: 5,
    };
    let (a, b) = (scratch("default-a"), scratch("default-b"));
    let written = AtomicUsize::new(0);
    let (train, test) = ensure(&a, spec, &|| {
        written.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(written.load(Ordering::Relaxed), 30);
    assert_eq!(train.classes, CLASSES);
    for label in 0..10 {
        assert_eq!(
            train.recordings.iter().filter(|r| r.label == label).count(),
            2
        );
        assert_eq!(
            test.recordings.iter().filter(|r| r.label == label).count(),
            1
        );
    }
    ensure(&b, spec, &|| {}).unwrap();
    for recording in &train.recordings {
        let relative = Path::new("default-v2-2x1-seed5/train").join(&recording.file);
        let bytes = std::fs::read(a.join(&relative)).unwrap();
        assert!(
            bytes.len() > 8 * 1000,
            "{} is nearly empty",
            relative.display()
        );
        assert_eq!(
            bytes,
            std::fs::read(b.join(&relative)).unwrap(),
            "same seed, same bytes"
        );
    }
    let again = AtomicUsize::new(0);
    ensure(&a, spec, &|| {
        again.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(
        again.load(Ordering::Relaxed),
        0,
        "a complete dataset is reused"
    );
    std::fs::remove_dir_all(a).unwrap();
    std::fs::remove_dir_all(b).unwrap();
}
