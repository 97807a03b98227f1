//! `spikeforge bench`: timings written as JSON.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use clap::{Args, Subcommand};
use serde::Serialize;
use snn::Implementation;
use snn::bench::{SEED_LAYER_SHAPE, layer_inputs, layer_training_step, seed_neurons};

use super::device::DeviceChoice;

/// What to benchmark.
#[derive(Debug, Subcommand)]
pub enum Bench {
    /// Multi-step IF and LIF layers at the seed SNN's shape, forward + backward: the fused op
    /// against the reference composition of burn ops.
    Neurons(NeuronsArgs),
    /// `prepare` throughput (parse + integrate + resize + cache) on generated CIFAR10-DVS-format
    /// recordings, against the time to read the same bytes from the page cache.
    Preprocess(super::bench_preprocess::PreprocessArgs),
    /// Training steps of the seed SNN and CNN and of the deeper SNN at the seed's shapes
    /// (`[32, 8, 2, 32, 32]`): time per 100 batches, samples/s and peak memory.
    Seed(super::bench_seed::SeedArgs),
    /// Inference of the seed SNN, event-driven against dense, over a sweep of input event
    /// densities (binary event frames).
    Sparse(super::bench_sparse::SparseArgs),
}

/// Options of `spikeforge bench neurons`.
#[derive(Debug, Args)]
pub struct NeuronsArgs {
    /// Timed runs per measurement (after two warm-up runs); the median is reported.
    #[arg(long, default_value_t = 10)]
    repeats: usize,
    /// Where to write the JSON record.
    #[arg(long, default_value = "target/bench/neurons.json")]
    json: PathBuf,
    /// Where the layers run.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    device: DeviceChoice,
}

#[derive(Debug, Serialize)]
struct NeuronsRecord {
    benchmark: &'static str,
    shape: [usize; 5],
    device: String,
    threads: usize,
    repeats: usize,
    results: Vec<Measurement>,
}

#[derive(Debug, Serialize)]
struct Measurement {
    neuron: &'static str,
    implementation: String,
    median_ms: f64,
    min_ms: f64,
}

/// Runs one benchmark.
pub fn run(bench: Bench) -> Result<()> {
    match bench {
        Bench::Neurons(args) => neurons(&args),
        Bench::Preprocess(args) => super::bench_preprocess::run(&args),
        Bench::Seed(args) => super::bench_seed::run(&args),
        Bench::Sparse(args) => super::bench_sparse::run(&args),
    }
}

fn neurons(args: &NeuronsArgs) -> Result<()> {
    anyhow::ensure!(args.repeats > 0, "--repeats must be at least 1");
    let (device, device_name) = args.device.device()?;
    let device = device.autodiff();
    let (x, upstream) = layer_inputs(SEED_LAYER_SHAPE, &device);
    let mut results = Vec::new();
    println!(
        "forward + backward of one multi-step neuron layer, input {SEED_LAYER_SHAPE:?}, on {device_name}"
    );
    for (name, config) in seed_neurons() {
        let neuron = config.init(&device)?;
        for implementation in [Implementation::Fused, Implementation::Reference] {
            let mut times = Vec::with_capacity(args.repeats);
            for run in 0..args.repeats + 2 {
                let start = Instant::now();
                layer_training_step(&neuron, &x, &upstream, implementation)?;
                if run >= 2 {
                    times.push(start.elapsed().as_secs_f64() * 1e3);
                }
            }
            times.sort_by(f64::total_cmp);
            let measurement = Measurement {
                neuron: name,
                implementation: format!("{implementation:?}"),
                median_ms: times[times.len() / 2],
                min_ms: times[0],
            };
            println!(
                "{:>4} {:<10} median {:>8.2} ms   min {:>8.2} ms",
                measurement.neuron,
                measurement.implementation,
                measurement.median_ms,
                measurement.min_ms
            );
            results.push(measurement);
        }
    }
    let record = NeuronsRecord {
        benchmark: "neuron_forward_backward",
        shape: SEED_LAYER_SHAPE,
        device: device_name,
        threads: rayon::current_num_threads(),
        repeats: args.repeats,
        results,
    };
    write_json_atomically(&args.json, &record)?;
    println!("wrote {}", args.json.display());
    Ok(())
}

/// Writes `value` as JSON to a temporary file beside `path`, then renames it over `path`, so
/// that a crash never leaves a half-written record.
pub fn write_json_atomically(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    events::formats::write_atomically(path, text.as_bytes())?;
    Ok(())
}
