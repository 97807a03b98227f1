//! A trained run's outputs on the first test samples of its frame cache, as JSON, for
//! `scripts/nir_crosscheck.py` (which runs the run's exported NIR graph in SpikingJelly on
//! the same frames and compares):
//!
//! ```text
//! cargo run --release -p spikeforge-snn --example nir_outputs -- RUN OUT.json [SAMPLES [DATA_RUN]]
//! ```
//!
//! The frames are the first test samples of RUN's frame cache, or of DATA_RUN's (for a run
//! written by `spikeforge import`, which has none).
//!
//! Writes `shape` ([T, N, C, H, W]), `frames`, `spikes` (each spiking layer's `[T, N·len]`,
//! by layer name, in call order), `steps` (the last layer's output at every step,
//! `[T, N, classes]`) and `scores` (their mean over T, `[N, classes]`), all row-major.

use std::path::PathBuf;

use burn::tensor::{Device, Tensor};
use events::cache::{FrameCache, Part};
use snn::train::data::{CachePart, FrameSource, batch};
use snn::train::{BEST_CHECKPOINT, RUN_RECORD, RunRecord, load_checkpoint_model};

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().expect("f32 values")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [run, out, rest @ ..] = &args[..] else {
        return Err("usage: nir_outputs RUN OUT.json [SAMPLES [DATA_RUN]]".into());
    };
    let samples: usize = rest.first().map_or(Ok(16), |s| s.parse())?;
    let run = PathBuf::from(run);
    let data_run = rest.get(1).map_or_else(|| run.clone(), PathBuf::from);
    let data = RunRecord::read(&data_run.join(RUN_RECORD))?;
    let record = RunRecord::read(&run.join(RUN_RECORD))?;
    let device = Device::flex();
    let (network, _) =
        load_checkpoint_model(record.model.init(0, &device)?, &run.join(BEST_CHECKPOINT))?;
    let cache = FrameCache::open(std::path::Path::new(&data.dataset.source.location))?;
    let part = CachePart::new(&cache, Part::Test);
    let indices: Vec<usize> = (0..samples.min(part.len())).collect();
    let frames = batch(&part, &indices, &device).frames;
    let spikes: serde_json::Map<String, serde_json::Value> = network
        .spikes(frames.clone())?
        .into_iter()
        .map(|(name, s)| (name, values(s).into()))
        .collect();
    let steps = network.forward_steps(frames.clone())?;
    let scores = network.forward(frames.clone())?;
    let json = serde_json::json!({
        "run": run.display().to_string(),
        "labels": indices.iter().map(|&i| part.label(i)).collect::<Vec<_>>(),
        "shape": frames.dims(),
        "frames": values(frames),
        "spikes": spikes,
        "steps": values(steps),
        "scores": values(scores),
    });
    std::fs::write(out, serde_json::to_vec(&json)?)?;
    println!(
        "wrote {out}: {} samples of {}",
        indices.len(),
        run.display()
    );
    Ok(())
}
