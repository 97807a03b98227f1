//! A network of your own, built from spikeforge's blocks in Rust and trained with the full
//! training stack (run record, checkpoints, resumable): two convolutions with LIF neurons,
//! batch norm and pooling, on a frame cache made by `spikeforge prepare`, or on a small
//! synthetic task when none is given.
//!
//! `cargo run --release --example custom_network -- [RUN_FOLDER [CACHE_FOLDER]]`

use burn::tensor::Device;
use events::cache::{FrameCache, Part};
use snn::network::NetworkConfig;
use snn::nn::{BatchNorm2dConfig, Conv2dConfig, LayerConfig, LinearConfig, PoolConfig};
use snn::nn::{ModelName, NeuronSpec, SurrogateName};
use snn::train::data::{CachePart, FrameSource, InMemoryFrames};
use snn::train::{DatasetSource, LossKind, OptimizerSpec, Run, TrainConfig, fit};

/// conv 3×3 (no bias) → batch norm → LIF → max pool 2, with `channels` outputs.
fn block(channels: usize) -> [LayerConfig; 4] {
    let lif = NeuronSpec {
        model: Some(ModelName::Lif),
        surrogate: Some(SurrogateName::Atan),
        detach_reset: Some(true),
        ..NeuronSpec::default()
    };
    [
        LayerConfig::Conv2d(Conv2dConfig::same3x3(channels).without_bias()),
        LayerConfig::BatchNorm2d(BatchNorm2dConfig::default()),
        LayerConfig::Neuron(lif),
        LayerConfig::MaxPool2d(PoolConfig::new(2)),
    ]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "runs/custom-network".into());
    let cache = match args.next() {
        Some(folder) => Some(FrameCache::open(folder.as_ref())?),
        None => None,
    };
    let (train, test, classes): (Box<dyn FrameSource>, Box<dyn FrameSource>, usize) = match &cache {
        Some(c) => {
            let classes = c.manifest.split.classes.len();
            (
                Box::new(CachePart::new(c, Part::Train)),
                Box::new(CachePart::new(c, Part::Test)),
                classes,
            )
        }
        None => (Box::new(stripes(64)), Box::new(stripes(32)), 4),
    };
    let mut layers: Vec<LayerConfig> = [block(8), block(16)].into_iter().flatten().collect();
    layers.extend([
        LayerConfig::Flatten,
        LayerConfig::Linear(LinearConfig::new(classes)),
    ]);
    let run = Run {
        network: NetworkConfig::sequential("two-conv-lif", "layers", layers),
        config: TrainConfig {
            epochs: 3,
            batch_size: 16,
            loss: LossKind::CrossEntropy,
            optimizer: OptimizerSpec::AdamW {
                lr: 1e-2,
                weight_decay: 0.01,
            },
            ..TrainConfig::default()
        },
        dataset: DatasetSource {
            name: "custom".into(),
            location: "example".into(),
            split_hash: String::new(),
            frames_checksum: String::new(),
            classes: (0..classes).map(|c| c.to_string()).collect(),
        },
        train: &*train,
        test: &*test,
        dir: dir.into(),
        device: Device::flex(),
        device_name: "cpu".into(),
        replica_devices: Vec::new(),
    };
    for epoch in fit(&run, false, &mut |_| {})?.epochs {
        let rates: Vec<f64> = epoch.test.layers.iter().map(|l| l.rate).collect();
        println!(
            "epoch {}: test accuracy {:.1} %, firing rates {rates:.3?}",
            epoch.epoch,
            100.0 * epoch.test.accuracy
        );
    }
    Ok(())
}

/// `count` samples `[4, 2, 16, 16]` of 4 classes: class k lights rows of one quarter.
fn stripes(count: usize) -> InMemoryFrames {
    let lit = |i: usize, j: usize| (j % 256) / 64 == i % 4 && !j.is_multiple_of(3);
    InMemoryFrames {
        shape: [4, 2, 16, 16],
        frames: (0..count)
            .flat_map(|i| (0..2048).map(move |j| f32::from(u8::from(lit(i, j)))))
            .collect(),
        labels: (0..count).map(|i| i % 4).collect(),
    }
}
