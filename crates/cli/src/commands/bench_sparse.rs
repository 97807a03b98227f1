//! `spikeforge bench sparse`: event-driven against dense inference of the seed SNN over a
//! sweep of input event densities.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use burn::tensor::{Tensor, TensorData};
use clap::Args;
use serde::Serialize;
use snn::bench::{SEED_BATCH_SHAPE, event_frames, seed_nets};
use snn::sparse::SparseSeedSnn;
use snn::train::median;

use super::bench::write_json_atomically;
use super::device::DeviceChoice;

/// Options of `spikeforge bench sparse`.
#[derive(Debug, Args)]
pub struct SparseArgs {
    /// Input event densities: the chance that a pixel of a frame holds an event.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.01,0.02,0.05,0.1,0.2,0.3,0.5"
    )]
    densities: Vec<f64>,
    /// Batches of `[8, 32, 2, 32, 32]` frames per pass.
    #[arg(long, default_value_t = 8)]
    batches: usize,
    /// Timed passes per path and density (after one untimed pass); the median is reported.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Where to write the JSON record.
    #[arg(long, default_value = "target/bench/sparse.json")]
    json: PathBuf,
    /// Where the dense pass runs (the event-driven pass is a CPU algorithm and runs there).
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    device: DeviceChoice,
}

#[derive(Debug, Serialize)]
struct SparseRecord {
    benchmark: &'static str,
    batch_shape: [usize; 5],
    /// Where the dense pass ran.
    dense_device: String,
    threads: usize,
    results: Vec<DensityMeasurement>,
}

#[derive(Debug, Serialize)]
struct DensityMeasurement {
    input_event_density: f64,
    firing_rate: f64,
    dense_ms_per_batch: f64,
    event_driven_ms_per_batch: f64,
    speedup: f64,
}

/// Runs `spikeforge bench sparse`.
pub fn run(args: &SparseArgs) -> Result<()> {
    anyhow::ensure!(
        args.batches > 0 && args.repeats > 0,
        "--batches and --repeats must be positive"
    );
    anyhow::ensure!(
        args.densities.iter().all(|d| (0.0..=1.0).contains(d)),
        "--densities must lie in [0, 1]"
    );
    let (device, device_name) = args.device.device()?;
    let [(_, config), _] = seed_nets();
    let [_, _, channels, h, w] = SEED_BATCH_SHAPE;
    let net = config.init([channels, h, w], 10, 0, &device)?;
    let engine = SparseSeedSnn::new(&net)?;
    let [t, n, ..] = SEED_BATCH_SHAPE;
    println!(
        "inference of the seed SNN (random init, seed 0) on binary event frames {SEED_BATCH_SHAPE:?}, dense on {device_name}, event-driven on {} CPU threads",
        rayon::current_num_threads()
    );
    let mut results = Vec::new();
    for &density in &args.densities {
        let batches: Vec<(Tensor<5>, Vec<f32>)> = (0..args.batches as u64)
            .map(|seed| {
                let values = event_frames(density, seed);
                let tensor =
                    Tensor::from_data(TensorData::new(values.clone(), SEED_BATCH_SHAPE), &device);
                (tensor, values)
            })
            .collect();
        let dense = time_passes(args.repeats, || {
            for (frames, _) in &batches {
                net.forward(frames.clone())?.into_data();
            }
            Ok(())
        })?;
        let (mut spikes, mut neuron_steps) = (0u64, 0u64);
        let sparse = time_passes(args.repeats, || {
            for (_, values) in &batches {
                let output = engine.forward(values, t, n)?;
                spikes += output.spikes;
                neuron_steps += output.neuron_steps;
            }
            Ok(())
        })?;
        let per_batch = |seconds: f64| 1e3 * seconds / args.batches as f64;
        let measurement = DensityMeasurement {
            input_event_density: density,
            firing_rate: spikes as f64 / neuron_steps as f64,
            dense_ms_per_batch: per_batch(dense),
            event_driven_ms_per_batch: per_batch(sparse),
            speedup: dense / sparse,
        };
        println!(
            "input density {:.2}: firing rate {:.4}, dense {:.2} ms/batch, event-driven {:.2} ms/batch → {:.2}×",
            measurement.input_event_density,
            measurement.firing_rate,
            measurement.dense_ms_per_batch,
            measurement.event_driven_ms_per_batch,
            measurement.speedup
        );
        results.push(measurement);
    }
    let record = SparseRecord {
        benchmark: "seed_snn_inference_dense_vs_event_driven",
        batch_shape: SEED_BATCH_SHAPE,
        dense_device: device_name,
        threads: rayon::current_num_threads(),
        results,
    };
    write_json_atomically(&args.json, &record)?;
    println!("wrote {}", args.json.display());
    Ok(())
}

/// The median seconds of `repeats` runs of `pass`, after one untimed run.
fn time_passes(repeats: usize, mut pass: impl FnMut() -> Result<()>) -> Result<f64> {
    pass()?;
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        pass()?;
        times.push(start.elapsed().as_secs_f64());
    }
    Ok(median(times.into_iter()))
}
