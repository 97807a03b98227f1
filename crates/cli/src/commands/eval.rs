//! `spikeforge eval`: a trained run's checkpoint on its test set, dense and, with
//! `--sparse`, event-driven, with the speed of each and how far their outputs agree.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::tensor::{Device, Tensor};
use clap::{Args, ValueEnum};
use events::cache::{FrameCache, Part};
use serde::Serialize;
use snn::network::Network;
use snn::sparse::SparseSeedSnn;
use snn::train::data::{CachePart, FrameSource, Subset, batch};
use snn::train::{BEST_CHECKPOINT, LAST_CHECKPOINT, RunRecord, load_checkpoint_model, median};

use super::bench::write_json_atomically;
use super::device::DeviceChoice;
use super::report::load_record;

/// Options of `spikeforge eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A run folder written by `spikeforge train` (or one of a `compare` folder's runs).
    run: PathBuf,
    /// Which checkpoint to evaluate.
    #[arg(long, value_enum, default_value_t = Which::Best)]
    checkpoint: Which,
    /// Also run the network event-driven (work per input event and per spike, no
    /// multiplications for binary inputs; networks of the seed SNN's shape) and compare its
    /// speed and outputs with the dense pass.
    #[arg(long)]
    sparse: bool,
    /// Samples per batch.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Timed passes over the test set per path (the median is reported).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Where to write the JSON record (default `<run>/eval.json`).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where the dense pass runs (the event-driven pass is a CPU algorithm and runs there).
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    device: DeviceChoice,
}

/// A run's checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// The epoch with the best test accuracy.
    Best,
    /// The last finished epoch.
    Last,
}

#[derive(Debug, Serialize)]
struct EvalRecord {
    run: String,
    checkpoint: String,
    epoch_of_best: usize,
    test_samples: usize,
    /// Where the dense pass ran.
    device: String,
    threads: usize,
    dense: PathResult,
    sparse: Option<SparseComparison>,
}

#[derive(Debug, Serialize)]
struct PathResult {
    accuracy: f64,
    /// Median over the repeats of one pass over the test set.
    seconds: f64,
    samples_per_second: f64,
}

#[derive(Debug, Serialize)]
struct SparseComparison {
    #[serde(flatten)]
    result: PathResult,
    /// Dense seconds over event-driven seconds.
    speedup: f64,
    /// Hidden-layer spikes over neuron-steps.
    firing_rate: f64,
    /// Non-zero input values (pixels with events) over all input values.
    input_event_density: f64,
    /// Samples whose predicted class is the same on both paths.
    predictions_agreeing: usize,
    /// The largest |dense − event-driven| score (float summation order only).
    max_score_difference: f32,
}

/// The test set, gathered once: per batch the frames (time first) and labels.
struct TestBatches {
    shape: [usize; 4],
    batches: Vec<(Tensor<5>, Vec<f32>, Vec<usize>)>,
}

impl TestBatches {
    fn samples(&self) -> usize {
        self.batches.iter().map(|(_, _, labels)| labels.len()).sum()
    }

    fn labels(&self) -> impl Iterator<Item = usize> + '_ {
        self.batches
            .iter()
            .flat_map(|(_, _, labels)| labels.iter().copied())
    }
}

/// Runs `spikeforge eval`; returns the path of the record it wrote.
pub fn run(args: &EvalArgs) -> Result<PathBuf> {
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
    anyhow::ensure!(args.repeats > 0, "--repeats must be at least 1");
    let (device, device_name) = args.device.device()?;
    let (net, record, checkpoint) = load_trained(&args.run, args.checkpoint, &device)?;
    let test = test_batches(&record, args.batch, &device)?;
    println!(
        "{}: {} test samples of {:?}, batch {}, dense pass on {device_name}",
        checkpoint.display(),
        test.samples(),
        test.shape,
        args.batch,
    );

    let (dense_scores, dense) = timed(args.repeats, &test, |frames, _| {
        let scores = net.forward(frames.clone())?;
        Ok(scores.into_data().try_to_vec::<f32>().unwrap_or_default())
    })?;
    let dense_result = path_result(&dense_scores, dense, &test, record.model.classes);
    println!(
        "dense:         accuracy {:.2} %, {:.3} s per pass, {:.0} samples/s",
        100.0 * dense_result.accuracy,
        dense_result.seconds,
        dense_result.samples_per_second
    );
    let sparse = args
        .sparse
        .then(|| compare_sparse(&net, &test, args.repeats, &dense_scores, &dense_result))
        .transpose()?;
    let record = EvalRecord {
        run: args.run.display().to_string(),
        checkpoint: checkpoint.display().to_string(),
        epoch_of_best: record.best_epoch,
        test_samples: test.samples(),
        device: device_name,
        threads: rayon::current_num_threads(),
        dense: dense_result,
        sparse,
    };
    let json = args
        .json
        .clone()
        .unwrap_or_else(|| args.run.join("eval.json"));
    write_json_atomically(&json, &record)?;
    println!("wrote {}", json.display());
    Ok(json)
}

/// A run's trained network on `device`, from one of its checkpoints; with the run's record
/// and the checkpoint's path.
pub fn load_trained(
    run: &Path,
    checkpoint: Which,
    device: &Device,
) -> Result<(Network, RunRecord, PathBuf)> {
    let record = load_record(run)?;
    let path = run.join(match checkpoint {
        Which::Best => BEST_CHECKPOINT,
        Which::Last => LAST_CHECKPOINT,
    });
    let (net, _) = load_checkpoint_model(record.model.init(0, device)?, &path)?;
    Ok((net, record, path))
}

/// The recorded test set: the run's cache, split checked, the same subset as in training.
fn test_batches(record: &RunRecord, batch_size: usize, device: &Device) -> Result<TestBatches> {
    let location = Path::new(&record.dataset.source.location);
    let cache = FrameCache::open(location)
        .with_context(|| format!("the run's frame cache {}", location.display()))?;
    if cache.manifest.split.hash != record.dataset.source.split_hash {
        bail!(
            "{}: its split (hash {}) is not the run's ({}); re-create the cache with the run's settings",
            location.display(),
            cache.manifest.split.hash,
            record.dataset.source.split_hash
        );
    }
    let recorded = &record.dataset.source.frames_checksum;
    if !recorded.is_empty() && *recorded != cache.manifest.frames_checksum() {
        bail!(
            "{}: its frames are not the ones the run trained on (the cache was rebuilt since, \
             from changed recordings, and its frames differ)",
            location.display()
        );
    }
    let part = CachePart::new(&cache, Part::Test);
    let subset = Subset::random(&part, record.dataset.test_samples, record.training.seed);
    let source: &dyn FrameSource = if record.dataset.test_samples < part.len() {
        &subset
    } else {
        &part
    };
    let indices: Vec<usize> = (0..source.len()).collect();
    let batches = indices
        .chunks(batch_size)
        .map(|chunk| {
            let batch = batch(source, chunk, device);
            let values = batch
                .frames
                .to_data()
                .try_to_vec::<f32>()
                .unwrap_or_default();
            (batch.frames, values, batch.labels)
        })
        .collect();
    Ok(TestBatches {
        shape: source.sample_shape(),
        batches,
    })
}

/// Runs `forward` over all batches `repeats` times: the scores of the last pass and the
/// median seconds per pass.
fn timed(
    repeats: usize,
    test: &TestBatches,
    mut forward: impl FnMut(&Tensor<5>, &[f32]) -> Result<Vec<f32>>,
) -> Result<(Vec<f32>, f64)> {
    let mut times = Vec::with_capacity(repeats);
    let mut scores = Vec::new();
    for _ in 0..repeats {
        scores.clear();
        let start = Instant::now();
        for (frames, values, _) in &test.batches {
            scores.extend(forward(frames, values)?);
        }
        times.push(start.elapsed().as_secs_f64());
    }
    Ok((scores, median(times.into_iter())))
}

fn predictions(scores: &[f32], classes: usize) -> impl Iterator<Item = usize> + '_ {
    scores.chunks_exact(classes).map(|row| {
        row.iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (i, &s)| {
                if s > best.1 { (i, s) } else { best }
            })
            .0
    })
}

fn path_result(scores: &[f32], seconds: f64, test: &TestBatches, classes: usize) -> PathResult {
    let correct = predictions(scores, classes)
        .zip(test.labels())
        .filter(|(p, l)| p == l)
        .count();
    let samples = test.samples();
    PathResult {
        accuracy: correct as f64 / samples as f64,
        seconds,
        samples_per_second: samples as f64 / seconds,
    }
}

fn compare_sparse(
    net: &Network,
    test: &TestBatches,
    repeats: usize,
    dense_scores: &[f32],
    dense: &PathResult,
) -> Result<SparseComparison> {
    let engine = SparseSeedSnn::new(net)?;
    let steps = test.shape[0];
    let (mut spikes, mut neuron_steps, mut events, mut values) = (0u64, 0u64, 0u64, 0u64);
    let (scores, seconds) = timed(repeats, test, |_, frames| {
        let samples = frames.len() / (steps * test.shape[1] * test.shape[2] * test.shape[3]);
        let output = engine.forward(frames, steps, samples)?;
        spikes += output.spikes;
        neuron_steps += output.neuron_steps;
        events += output.input_events;
        values += output.input_values;
        Ok(output.scores)
    })?;
    let classes = engine.classes();
    let result = path_result(&scores, seconds, test, classes);
    let predictions_agreeing = predictions(&scores, classes)
        .zip(predictions(dense_scores, classes))
        .filter(|(a, b)| a == b)
        .count();
    let max_score_difference = scores
        .iter()
        .zip(dense_scores)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    let comparison = SparseComparison {
        speedup: dense.seconds / result.seconds,
        firing_rate: spikes as f64 / neuron_steps as f64,
        input_event_density: events as f64 / values as f64,
        predictions_agreeing,
        max_score_difference,
        result,
    };
    println!(
        "event-driven:  accuracy {:.2} %, {:.3} s per pass, {:.0} samples/s → {:.2}× the dense pass\n\
         at firing rate {:.4} and input event density {:.3}; {} of {} predictions agree, max score difference {:.2e}",
        100.0 * comparison.result.accuracy,
        comparison.result.seconds,
        comparison.result.samples_per_second,
        comparison.speedup,
        comparison.firing_rate,
        comparison.input_event_density,
        comparison.predictions_agreeing,
        test.samples(),
        comparison.max_score_difference,
    );
    Ok(comparison)
}
