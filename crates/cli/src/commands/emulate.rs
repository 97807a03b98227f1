//! `spikeforge emulate`: still images into event recordings, as CIFAR10-DVS and N-MNIST were
//! made (images moved in saccades in front of an emulated DVS).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use events::emulator::SensorConfig;
use events::formats::{aedat2, nmnist};
use events::images::{LabelledImage, read_cifar10_batch, read_image_folders, read_mnist_idx};
use events::saccades::{Motion, record};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

/// Options of `spikeforge emulate`.
#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// What the images are.
    #[arg(long, value_enum)]
    input: Input,
    /// The images: a folder of `<class>/*.png|jpg` (images), an IDX image file (mnist), or
    /// CIFAR-10 binary batch files (cifar10; repeat the option for several).
    #[arg(long, required = true)]
    source: Vec<PathBuf>,
    /// MNIST's IDX label file (mnist only).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Output folder: `<out>/<class>/<name>_<class>_<i>.aedat` (CIFAR10-DVS layout) or
    /// `<out>/<class>/<i>.bin` (N-MNIST).
    #[arg(long)]
    out: PathBuf,
    /// Output file format.
    #[arg(long, value_enum, default_value_t = Output::Aedat)]
    format: Output,
    /// Convert only the first N images.
    #[arg(long)]
    limit: Option<usize>,
    /// Sensor size: `128` or `HxW` (AEDAT 2.0 holds at most 128×128).
    #[arg(long, default_value = "128", value_parser = super::data::parse_size)]
    sensor: (usize, usize),
    /// Duration of each of the three saccades, in milliseconds.
    #[arg(long, default_value_t = 100)]
    saccade_ms: u64,
    /// Contrast threshold (log intensity), ON and OFF.
    #[arg(long, default_value_t = 0.2)]
    threshold: f32,
    /// Background-activity noise, events per pixel per second.
    #[arg(long, default_value_t = 0.1)]
    noise_hz: f32,
    /// Shot noise, events per pixel per second.
    #[arg(long, default_value_t = 0.0)]
    shot_noise_hz: f32,
    /// Refractory period of a pixel, in microseconds.
    #[arg(long, default_value_t = 100)]
    refractory_us: u64,
    /// Seed of threshold mismatch and noise (image `i` uses `seed + i`).
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Input {
    /// Class folders of PNG/JPEG images.
    Images,
    /// MNIST IDX files.
    Mnist,
    /// CIFAR-10 binary batches.
    Cifar10,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Output {
    /// jAER AEDAT 2.0, as CIFAR10-DVS.
    Aedat,
    /// N-MNIST `.bin`.
    Nmnist,
}

const CIFAR10_CLASSES: [&str; 10] = events::dataset::CIFAR10_DVS_CLASSES;

/// Runs `spikeforge emulate`.
pub fn run(args: &EmulateArgs) -> Result<()> {
    let (name, classes, mut images) = load(args)?;
    if let Some(limit) = args.limit {
        images.truncate(limit);
    }
    if matches!(args.format, Output::Aedat) && (args.sensor.0 > 128 || args.sensor.1 > 128) {
        bail!(
            "AEDAT 2.0 (DVS128) holds at most 128×128 pixels; --sensor is {}x{}",
            args.sensor.0,
            args.sensor.1
        );
    }
    let motion = Motion {
        saccade_us: args.saccade_ms * 1000,
        ..Motion::default()
    };
    let bar = ProgressBar::new(images.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} images, {per_sec}, eta {eta}")
            .expect("a valid template"),
    );
    let mut counts = vec![0usize; classes.len()];
    let numbered: Vec<(usize, usize, &LabelledImage)> = images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let k = counts[usize::from(image.label)];
            counts[usize::from(image.label)] += 1;
            (i, k, image)
        })
        .collect();
    numbered
        .par_iter()
        .try_for_each(|&(i, k, labelled)| -> Result<()> {
            let sensor = SensorConfig {
                size: args.sensor,
                threshold_on: args.threshold,
                threshold_off: args.threshold,
                background_rate_hz: args.noise_hz,
                shot_noise_rate_hz: args.shot_noise_hz,
                refractory_us: args.refractory_us,
                seed: args.seed.wrapping_add(i as u64),
                ..SensorConfig::default()
            };
            let events = record(&labelled.image, sensor, &motion);
            let class = &classes[usize::from(labelled.label)];
            match args.format {
                Output::Aedat => aedat2::write(
                    &args
                        .out
                        .join(class)
                        .join(format!("{name}_{class}_{k}.aedat")),
                    &events,
                )?,
                Output::Nmnist => {
                    nmnist::write(&args.out.join(class).join(format!("{k}.bin")), &events)?
                }
            }
            bar.inc(1);
            Ok(())
        })?;
    bar.finish_and_clear();
    println!(
        "{} recordings of {} classes written to {}",
        images.len(),
        classes.len(),
        args.out.display()
    );
    Ok(())
}

/// The dataset's file-name prefix, its class names and its images.
fn load(args: &EmulateArgs) -> Result<(&'static str, Vec<String>, Vec<LabelledImage>)> {
    match args.input {
        Input::Images => {
            let [root] = args.source.as_slice() else {
                bail!("--input images takes one --source folder")
            };
            let (classes, images) = read_image_folders(root)?;
            Ok(("images", classes, images))
        }
        Input::Mnist => {
            let [images] = args.source.as_slice() else {
                bail!("--input mnist takes one --source IDX image file")
            };
            let labels = args
                .labels
                .as_ref()
                .context("--input mnist needs --labels (the IDX label file)")?;
            Ok((
                "mnist",
                (0..10).map(|d| d.to_string()).collect(),
                read_mnist_idx(images, labels)?,
            ))
        }
        Input::Cifar10 => {
            let mut images = Vec::new();
            for batch in &args.source {
                images.extend(read_cifar10_batch(batch)?);
            }
            Ok((
                "cifar10",
                CIFAR10_CLASSES.iter().map(|c| c.to_string()).collect(),
                images,
            ))
        }
    }
}
