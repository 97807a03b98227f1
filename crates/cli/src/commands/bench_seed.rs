//! `spikeforge bench seed`: training steps of the seed networks, and of the deeper SNN, at
//! the seed's shapes.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use burn::tensor::Device;
use clap::Args;
use serde::Serialize;
use snn::bench::{SEED_BATCH_SHAPE, deep_snn, seed_batch, seed_nets};
use snn::network::Classifier;
use snn::train::{TrainConfig, median, train_step};

use super::bench::write_json_atomically;
use super::device::DeviceChoice;

/// Options of `spikeforge bench seed`.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Timed training steps per network (after `--warmup` untimed ones).
    #[arg(long, default_value_t = 30)]
    batches: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Only this network (`SNN`, `CNN` or `DeepSNN`, the 64/128/128-channel
    /// `[Conv→BN→IF→MaxPool]×3` net); peak memory is per process, so measure each in its own
    /// run for memory figures.
    #[arg(long)]
    model: Option<String>,
    /// Where to compute.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    device: DeviceChoice,
    /// Where to write the JSON record.
    #[arg(long, default_value = "target/bench/seed.json")]
    json: PathBuf,
}

#[derive(Debug, Serialize)]
struct SeedRecord {
    benchmark: &'static str,
    /// `[T, B, 2, h, w]`.
    batch_shape: [usize; 5],
    device: String,
    threads: usize,
    batches: usize,
    results: Vec<NetMeasurement>,
}

#[derive(Debug, Serialize)]
struct NetMeasurement {
    model: &'static str,
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
    anyhow::ensure!(args.batches > 0, "--batches must be at least 1");
    let (device, device_name) = args.device.device()?;
    let device = device.autodiff();
    let config = TrainConfig::default();
    println!(
        "training steps (forward, MSE, backward, SGD) of the seed networks, batch {SEED_BATCH_SHAPE:?}, on {device_name}"
    );
    let wanted = |name: &str| {
        args.model
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(name))
    };
    let mut results = Vec::new();
    let [_, _, channels, h, w] = SEED_BATCH_SHAPE;
    let nets = seed_nets().into_iter().chain([("DeepSNN", deep_snn())]);
    for (name, net) in nets {
        if wanted(name) {
            let start = Start::now();
            let model = net.init([channels, h, w], 10, 0, &device)?;
            results.push(measure(name, model, start, args, &device, &config)?);
        }
    }
    anyhow::ensure!(!results.is_empty(), "--model must be SNN, CNN or DeepSNN");
    let record = SeedRecord {
        benchmark: "seed_training_step",
        batch_shape: SEED_BATCH_SHAPE,
        device: device_name,
        threads: rayon::current_num_threads(),
        batches: args.batches,
        results,
    };
    write_json_atomically(&args.json, &record)?;
    println!("wrote {}", args.json.display());
    Ok(())
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

/// Times `args.batches` training steps of `model` (after `args.warmup`) on the seed batch.
fn measure<M: Classifier>(
    name: &'static str,
    mut model: M,
    start: Start,
    args: &SeedArgs,
    device: &Device,
    config: &TrainConfig,
) -> Result<NetMeasurement> {
    let mut optimizer = config.optimizer.build();
    let mut times = Vec::with_capacity(args.batches);
    for step in 0..args.warmup + args.batches {
        let batch = seed_batch(device);
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
        seconds_per_100_batches: 100.0 * step,
        samples_per_second: SEED_BATCH_SHAPE[1] as f64 / step,
        median_step_ms: 1e3 * step,
        min_step_ms: 1e3 * times.iter().copied().fold(f64::INFINITY, f64::min),
        peak_rss_mib: peak,
        peak_rss_increase_mib: peak.zip(start.resident_mib).map(|(p, b)| p - b),
    };
    println!(
        "{name}: {:.3} s/100 batches, {:.0} samples/s, step median {:.1} ms (min {:.1}), peak RSS {:.0} MiB (+{:.0})",
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
