//! The built-in default dataset: ten classes of procedurally drawn shapes (no third-party
//! data), varied in position, scale, rotation, contrast, texture and clutter, emulated into
//! DVS128 recordings with the [`saccades`](crate::saccades) emulator. It is what a new user
//! trains on without downloading anything; it is generated once, deterministically from its
//! seed, and reused.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::dataset::{DatasetIndex, RecordingFormat, scan_class_folders};
use crate::emulator::SensorConfig;
use crate::error::{EventsError, Result};
use crate::formats::aedat2;
use crate::saccades::{Image, Motion, record};

/// The ten classes.
pub const CLASSES: [&str; 10] = [
    "chevron", "circle", "cross", "diamond", "ellipse", "ring", "square", "star", "stripes",
    "triangle",
];

/// Image side in pixels (as CIFAR-10).
pub const IMAGE_SIZE: usize = 32;

/// How big the dataset is and which seed draws it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultDatasetSpec {
    /// Training recordings per class.
    pub train_per_class: usize,
    /// Test recordings per class.
    pub test_per_class: usize,
    /// The seed of every drawing and of the sensor noise.
    pub seed: u64,
}

impl Default for DefaultDatasetSpec {
    /// 2000 training and 500 test recordings.
    fn default() -> Self {
        Self {
            train_per_class: 200,
            test_per_class: 50,
            seed: 0,
        }
    }
}

impl DefaultDatasetSpec {
    /// The folder name of this version of the dataset.
    pub fn folder_name(&self) -> String {
        format!(
            "default-v1-{}x{}-seed{}",
            self.train_per_class, self.test_per_class, self.seed
        )
    }
}

/// Draws sample `index` of class `label` (deterministic in `seed`).
pub fn draw(label: usize, index: u64, seed: u64) -> Image {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (index << 8) ^ label as u64);
    let background: f32 = rng.random_range(0.15..0.6);
    let contrast: f32 = rng.random_range(0.2..0.5) * if rng.random_bool(0.3) { -1.0 } else { 1.0 };
    let foreground = (background + contrast).clamp(0.02, 0.98);
    let (cx, cy) = (
        rng.random_range(11.0..21.0f32),
        rng.random_range(11.0..21.0f32),
    );
    let scale: f32 = rng.random_range(6.0..11.0);
    let angle: f32 = rng.random_range(-0.6..0.6);
    let texture: f32 = rng.random_range(0.0..0.08);
    let n = IMAGE_SIZE;
    let mut pixels = vec![background; n * n];
    for y in 0..n {
        for x in 0..n {
            // Shape coordinates: centred, rotated, in units of the scale.
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let u = (dx * angle.cos() + dy * angle.sin()) / scale;
            let v = (-dx * angle.sin() + dy * angle.cos()) / scale;
            if inside(label, u, v) {
                pixels[y * n + x] = foreground;
            }
        }
    }
    // Clutter: a few small blobs of random intensity; then texture noise.
    for _ in 0..rng.random_range(0..4) {
        let (bx, by) = (rng.random_range(0..n), rng.random_range(0..n));
        let value: f32 = rng.random_range(0.05..0.95);
        for y in by..(by + 3).min(n) {
            for x in bx..(bx + 3).min(n) {
                pixels[y * n + x] = value;
            }
        }
    }
    for p in &mut pixels {
        *p = (*p + texture * rng.random_range(-1.0..1.0f32)).clamp(0.0, 1.0);
    }
    Image {
        height: n,
        width: n,
        pixels,
    }
}

/// Whether shape coordinates `(u, v)` (unit scale) are inside the class's shape.
fn inside(label: usize, u: f32, v: f32) -> bool {
    let r = (u * u + v * v).sqrt();
    match CLASSES[label] {
        "chevron" => (v - 0.6 * u.abs() + 0.2).abs() < 0.22 && u.abs() < 0.9,
        "circle" => r < 0.8,
        "cross" => (u.abs() < 0.22 && v.abs() < 0.9) || (v.abs() < 0.22 && u.abs() < 0.9),
        "diamond" => u.abs() + v.abs() < 0.9,
        "ellipse" => (u / 0.95).powi(2) + (v / 0.45).powi(2) < 1.0,
        "ring" => (0.5..0.85).contains(&r),
        "square" => u.abs() < 0.7 && v.abs() < 0.7,
        "star" => {
            let theta = v.atan2(u);
            r < 0.45 + 0.4 * (5.0 * theta).cos().max(0.0)
        }
        "stripes" => u.abs() < 0.85 && v.abs() < 0.85 && ((v + 0.85) / 0.34) as i32 % 2 == 0,
        "triangle" => v < 0.6 && v > 1.6 * u.abs() - 0.8,
        other => unreachable!("no class {other}"),
    }
}

/// The emulator settings of the dataset: DVS128, CIFAR10-DVS-like thresholds, light noise;
/// three 100 ms saccades rendered every 4 ms (timestamps are interpolated between frames).
fn sensor_and_motion(seed: u64) -> (SensorConfig, Motion) {
    let sensor = SensorConfig {
        seed,
        background_rate_hz: 0.2,
        ..SensorConfig::default()
    };
    let motion = Motion {
        frame_interval_us: 4_000,
        fill: 0.9,
        background: 0.35,
        ..Motion::default()
    };
    (sensor, motion)
}

/// The dataset under `root/<folder name>`, generated there first if it is not complete
/// (`progress` is called per recording written). Returns the train and test indexes.
pub fn ensure(
    root: &Path,
    spec: DefaultDatasetSpec,
    progress: &(dyn Fn() + Sync),
) -> Result<(DatasetIndex, DatasetIndex)> {
    let dir = root.join(spec.folder_name());
    let marker = dir.join("COMPLETE");
    if !marker.exists() {
        generate(&dir, spec, progress)?;
        crate::formats::write_atomically(&marker, b"all recordings written\n")?;
    }
    let train = scan_class_folders(&dir.join("train"), "aedat", RecordingFormat::Aedat2)?;
    let test = scan_class_folders(&dir.join("test"), "aedat", RecordingFormat::Aedat2)?;
    Ok((train, test))
}

fn generate(dir: &Path, spec: DefaultDatasetSpec, progress: &(dyn Fn() + Sync)) -> Result<()> {
    let mut jobs: Vec<(PathBuf, usize, u64)> = Vec::new();
    for (part, count, offset) in [
        ("train", spec.train_per_class, 0u64),
        ("test", spec.test_per_class, 1 << 32),
    ] {
        for (label, class) in CLASSES.iter().enumerate() {
            for i in 0..count {
                let file = dir
                    .join(part)
                    .join(class)
                    .join(format!("default_{class}_{i}.aedat"));
                jobs.push((file, label, offset + i as u64));
            }
        }
    }
    jobs.par_iter()
        .try_for_each(|(file, label, index)| -> Result<()> {
            if !file.exists() {
                let image = draw(*label, *index, spec.seed);
                let (sensor, motion) =
                    sensor_and_motion(spec.seed ^ index.wrapping_mul(31) ^ *label as u64);
                aedat2::write(file, &record(&image, sensor, &motion))?;
            }
            progress();
            Ok(())
        })?;
    if jobs.is_empty() {
        return Err(EventsError::integration(
            dir,
            "the default dataset needs at least one recording per class",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawings_are_deterministic_and_classes_differ() {
        for label in 0..10 {
            assert_eq!(draw(label, 3, 7), draw(label, 3, 7));
            assert_ne!(draw(label, 3, 7), draw(label, 4, 7));
        }
        // Every class draws a visible shape: foreground pixels cover 3–75 % of the image.
        for (label, class) in CLASSES.iter().enumerate() {
            let image = draw(label, 0, 0);
            let background = image.pixels[0];
            let changed = image
                .pixels
                .iter()
                .filter(|&&p| (p - background).abs() > 0.15)
                .count();
            let share = changed as f32 / image.pixels.len() as f32;
            assert!((0.03..0.75).contains(&share), "{class}: {share}");
        }
    }
}
