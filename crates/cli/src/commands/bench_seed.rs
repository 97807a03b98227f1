//! `spikeforge bench seed`: training steps of the seed networks, the deeper SNN and the zoo's
//! presets, on uniform frames or on a dataset's event frames.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use burn::tensor::Device;
use clap::{Args, ValueEnum};
use events::cache::Part;
use serde::Serialize;
use snn::bench::{SEED_BATCH_SHAPE, deep_snn, seed_nets, uniform_batch};
use snn::network::{Classifier, NetworkConfig};
use snn::train::data::{Batch, CachePart, FrameSource, batch, epoch_order};
use snn::train::{TrainConfig, median, train_step};

use super::bench::write_json_atomically;
use super::data::{DataArgs, prepare_data};
use super::device::DeviceChoice;
use super::model::ModelSource;

/// Options of `spikeforge bench seed`.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Timed training steps per network (after `--warmup` untimed ones).
    #[arg(long, default_value_t = 30)]
    batches: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Only this network: `SNN`, `CNN`, `DeepSNN` (the 64/128/128-channel
    /// `[Conv→BN→IF→MaxPool]×3` net) or a preset of the zoo (`spikeforge models`) at its own
    /// input size; peak memory is per process, so measure each in its own run for memory
    /// figures.
    #[arg(long)]
    model: Option<String>,
    /// Samples per batch.
    #[arg(long, default_value_t = SEED_BATCH_SHAPE[1])]
    batch_size: usize,
    /// What the frames hold: uniform noise in [0, 1), or the first `--batch-size` training
    /// samples (in epoch 0's seeded order) of the dataset the data options name, with the
    /// network's input size (`--size`) and `--frames` steps.
    #[arg(long, value_enum, default_value_t = FramesFrom::Uniform)]
    frames_from: FramesFrom,
    #[command(flatten)]
    data: DataArgs,
    /// Also write the batch's frames here (f32 little-endian, `[T, N, 2, h, w]`; with several
    /// networks, the last one's), so that the anchor can time the same numbers.
    #[arg(long)]
    save_batch: Option<PathBuf>,
    /// Where to compute.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    device: DeviceChoice,
    /// Where to write the JSON record.
    #[arg(long, default_value = "target/bench/seed.json")]
    json: PathBuf,
}

/// Where the benchmark's frames come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FramesFrom {
    /// Uniform in [0, 1), seeded.
    Uniform,
    /// A dataset's cached, area-averaged event frames.
    Dataset,
}

#[derive(Debug, Serialize)]
struct SeedRecord {
    benchmark: &'static str,
    /// `uniform`, or the dataset's name.
    frames: String,
    device: String,
    cpu: String,
    threads: usize,
    /// Whether denormals were flushed to zero (`SPIKEFORGE_DENORMALS` unset or not `keep`).
    flush_denormals: bool,
    batches: usize,
    results: Vec<NetMeasurement>,
}

#[derive(Debug, Serialize)]
struct NetMeasurement {
    model: String,
    /// `[T, N, C, h, w]`.
    batch_shape: [usize; 5],
    /// The share of non-zero input values.
    input_density: f64,
    /// The input's mean value.
    input_mean: f64,
    /// Median step time × 100.
    seconds_per_100_batches: f64,
    /// Batch size over the median step time.
    samples_per_second: f64,
    median_step_ms: f64,
    min_step_ms: f64,
    /// Peak resident memory while training (VmHWM, reset before the network is built).
    peak_rss_mib: Option<f64>,
    /// That peak minus the resident memory before the network was built.
    peak_rss_increase_mib: Option<f64>,
}

/// Runs `spikeforge bench seed`.
pub fn run(args: &SeedArgs) -> Result<()> {
    ensure!(args.batches > 0, "--batches must be at least 1");
    ensure!(args.batch_size > 0, "--batch-size must be at least 1");
    let (device, device_name) = args.device.device()?;
    let device = device.autodiff();
    let config = TrainConfig::default();
    let nets = networks(args.model.as_deref())?;
    let steps = args.data.frames.frames;
    let mut frames_name = String::from("uniform");
    let mut results = Vec::new();
    for (name, net) in nets {
        let [channels, h, w] = net.input.unwrap_or([2, 32, 32]);
        let shape = [steps, args.batch_size, channels, h, w];
        let batch = match args.frames_from {
            FramesFrom::Uniform => uniform_batch(shape, &device),
            FramesFrom::Dataset => {
                let (name, batch) = dataset_batch(args, shape, &device)?;
                frames_name = name.to_string();
                batch
            }
        };
        if let Some(path) = &args.save_batch {
            save_frames(path, &batch)?;
        }
        println!(
            "{name}: training steps (forward, MSE, backward, SGD), batch {shape:?} of {frames_name} frames, on {device_name}"
        );
        let start = Start::now();
        let model = net.init([channels, h, w], 10, 0, &device)?;
        results.push(measure(name, model, start, args, &device, &config, batch)?);
    }
    let record = SeedRecord {
        benchmark: "seed_training_step",
        frames: frames_name,
        device: device_name,
        cpu: cpu_model(),
        threads: rayon::current_num_threads(),
        flush_denormals: snn::denormals::flushing_enabled(),
        batches: args.batches,
        results,
    };
    write_json_atomically(&args.json, &record)?;
    println!("wrote {}", args.json.display());
    Ok(())
}

/// The networks `--model` asks for (all three seed-shaped ones without it).
fn networks(model: Option<&str>) -> Result<Vec<(String, NetworkConfig)>> {
    let builtin = seed_nets()
        .into_iter()
        .chain([("DeepSNN", deep_snn())])
        .map(|(name, net)| (name.to_string(), net));
    let Some(wanted) = model else {
        return Ok(builtin.collect());
    };
    if let Some(found) = builtin
        .clone()
        .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
    {
        return Ok(vec![found]);
    }
    let source = ModelSource::find(wanted)
        .context("--model must be SNN, CNN, DeepSNN, a preset or a network file")?;
    let net = source.resolve(10)?;
    Ok(vec![(source.name, net)])
}

/// The first `shape[1]` training samples (epoch 0's order, seed 0) of the dataset `args`
/// names; its frame settings must give `shape`'s steps and size.
fn dataset_batch(
    args: &SeedArgs,
    [steps, n, _, h, w]: [usize; 5],
    device: &Device,
) -> Result<(&'static str, Batch)> {
    let data = prepare_data(&args.data, 0)?;
    let source = CachePart::new(&data.cache, Part::Train);
    let [t, _, height, width] = source.sample_shape();
    if (t, height, width) != (steps, h, w) {
        bail!(
            "the {} frames are {t} × {height}×{width}, the network wants {steps} × {h}×{w} (--frames, --size)",
            data.name
        );
    }
    ensure!(
        source.len() >= n,
        "the {} training part has {} samples, fewer than --batch-size {n}",
        data.name,
        source.len()
    );
    let order = epoch_order(source.len(), 0, 0);
    Ok((data.name, batch(&source, &order[..n], device)))
}

/// The share of non-zero values of a batch's frames, and their mean.
fn density_and_mean(batch: &Batch) -> (f64, f64) {
    let values = batch.frames.to_data();
    let values = values.as_slice::<f32>().expect("f32 frames");
    let nonzero = values.iter().filter(|&&v| v != 0.0).count();
    let sum: f64 = values.iter().map(|&v| f64::from(v)).sum();
    let len = values.len().max(1) as f64;
    (nonzero as f64 / len, sum / len)
}

/// Writes a batch's frames as f32 little-endian, atomically.
fn save_frames(path: &std::path::Path, batch: &Batch) -> Result<()> {
    let values = batch.frames.to_data();
    let values = values.as_slice::<f32>().expect("f32 frames");
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    events::formats::write_atomically(path, &bytes)
        .with_context(|| format!("writing the batch to {}", path.display()))
}

/// The CPU's model name and its vector extensions (Linux's `/proc/cpuinfo`).
fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |key: &str| {
        info.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let model = field("model name").unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let flags = field("flags").unwrap_or_default();
    let vector: Vec<&str> = ["avx512f", "avx2", "fma", "neon", "asimd"]
        .into_iter()
        .filter(|f| flags.split_whitespace().any(|g| g == *f))
        .collect();
    format!("{model} ({})", vector.join(", "))
}

/// The resident memory before a network is built, with the peak reset to it.
struct Start {
    resident_mib: Option<f64>,
}

impl Start {
    fn now() -> Self {
        let resident_mib = memory::resident_mib("VmRSS");
        memory::reset_peak();
        Self { resident_mib }
    }
}

/// Times `args.batches` training steps of `model` (after `args.warmup`) on `batch`.
fn measure<M: Classifier>(
    name: String,
    mut model: M,
    start: Start,
    args: &SeedArgs,
    device: &Device,
    config: &TrainConfig,
    batch: Batch,
) -> Result<NetMeasurement> {
    let batch_shape = batch.frames.dims();
    let (input_density, input_mean) = density_and_mean(&batch);
    let mut optimizer = config.optimizer.build();
    let mut times = Vec::with_capacity(args.batches);
    for step in 0..args.warmup + args.batches {
        let batch = batch.clone();
        let begin = Instant::now();
        model = train_step(model, &mut optimizer, config, config.optimizer.lr(), batch)?.model;
        // A GPU runs the backward pass and the update after `train_step` returns: wait for them.
        device
            .sync()
            .map_err(|e| anyhow::anyhow!("{device:?}: {e:?}"))?;
        if step >= args.warmup {
            times.push(begin.elapsed().as_secs_f64());
        }
    }
    let peak = memory::resident_mib("VmHWM");
    let step = median(times.iter().copied());
    let measurement = NetMeasurement {
        model: name,
        batch_shape,
        input_density,
        input_mean,
        seconds_per_100_batches: 100.0 * step,
        samples_per_second: batch_shape[1] as f64 / step,
        median_step_ms: 1e3 * step,
        min_step_ms: 1e3 * times.iter().copied().fold(f64::INFINITY, f64::min),
        peak_rss_mib: peak,
        peak_rss_increase_mib: peak.zip(start.resident_mib).map(|(p, b)| p - b),
    };
    println!(
        "{}: {:.3} s/100 batches, {:.0} samples/s, step median {:.1} ms (min {:.1}), peak RSS {:.0} MiB (+{:.0})",
        measurement.model,
        measurement.seconds_per_100_batches,
        measurement.samples_per_second,
        measurement.median_step_ms,
        measurement.min_step_ms,
        peak.unwrap_or(f64::NAN),
        measurement.peak_rss_increase_mib.unwrap_or(f64::NAN),
    );
    Ok(measurement)
}

/// Resident memory from `/proc/self/status` (Linux; `None` elsewhere).
mod memory {
    /// A `/proc/self/status` field (`VmRSS`, `VmHWM`) in MiB.
    pub fn resident_mib(field: &str) -> Option<f64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// Resets the peak (`VmHWM`) to the current resident memory.
    pub fn reset_peak() {
        // Writing 5 to clear_refs resets the peak RSS (Linux ≥ 4.0); where it is not
        // possible the peak simply covers the whole process.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
}
