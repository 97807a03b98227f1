//! The fuzz targets of the checkpoint loader, run by `events::fuzz`: shared by the test
//! suite's short run (`tests/fuzz_checkpoint.rs`) and the long run
//! (`examples/fuzz_checkpoint.rs`).
//!
//! Properties: never a panic; an error names the file; a checkpoint file with any byte
//! changed is refused (its checksum); sections changed behind a valid checksum (as a bug
//! writing them would) load or are refused with an error, never a panic.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use events::fuzz::Target;
use snn::network::NetworkConfig;
use snn::train::data::InMemoryFrames;
use snn::train::{
    Checkpoint, DatasetSource, LAST_CHECKPOINT, OptimizerSpec, Run, TrainConfig, fit,
    load_checkpoint_model,
};

const SHAPE: [usize; 4] = [2, 2, 6, 6];
const CLASSES: usize = 3;

fn frames(count: usize) -> InMemoryFrames {
    let len: usize = SHAPE.iter().product();
    InMemoryFrames {
        shape: SHAPE,
        frames: (0..count * len)
            .map(|i| ((i * 7919) % 13) as f32 / 13.0)
            .collect(),
        labels: (0..count).map(|i| i % CLASSES).collect(),
    }
}

/// The seed SNN, 2 channels wide.
fn net() -> NetworkConfig {
    let width = [("width".to_string(), 2)].into_iter().collect();
    snn::models::preset("seed-snn")
        .unwrap()
        .resolve(CLASSES, &width)
        .unwrap()
}

/// The checkpoint of one epoch of Adam on a tiny network, written into `scratch`.
fn real_checkpoint(scratch: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(scratch);
    let (train, test) = (frames(6), frames(3));
    let run = Run {
        network: net(),
        config: TrainConfig {
            epochs: 1,
            batch_size: 3,
            optimizer: OptimizerSpec::Adam {
                lr: 1e-3,
                weight_decay: 0.0,
            },
            ..TrainConfig::default()
        },
        dataset: DatasetSource {
            name: "fuzz".to_string(),
            location: "memory".to_string(),
            split_hash: "none".to_string(),
            frames_checksum: String::new(),
            classes: (0..CLASSES).map(|k| k.to_string()).collect(),
        },
        train: &train,
        test: &test,
        dir: scratch.join("run"),
        device: Device::flex(),
        device_name: "cpu".to_string(),
        replica_devices: Vec::new(),
    };
    fit(&run, false, &mut |_| {}).unwrap();
    run.dir.join(LAST_CHECKPOINT)
}

/// A loader's error must name the file.
fn named(error: &snn::train::TrainError, path: &Path) -> Result<bool, String> {
    let text = error.to_string();
    if text.starts_with(path.to_str().unwrap()) {
        Ok(false)
    } else {
        Err(format!("an error that does not name the file: {text}"))
    }
}

/// Every target; `scratch` is a folder they may own.
pub fn targets(scratch: &Path) -> Vec<Target> {
    let original_path = real_checkpoint(scratch);
    let original = std::fs::read(&original_path).unwrap();
    let checkpoint = Checkpoint::load(&original_path).unwrap();
    let resigned = scratch.join("resigned.ckpt");

    let file = {
        let (original, path) = (original.clone(), original_path.clone());
        Target {
            name: "checkpoint-file",
            seeds: vec![original.clone()],
            check: Box::new(move |bytes| match Checkpoint::parse(bytes, &path) {
                Ok(_) if bytes == original => Ok(true),
                Ok(_) => Err("accepted a changed checkpoint".to_string()),
                Err(error) => named(&error, &path),
            }),
        }
    };
    // A section replaced, the checksum made valid again, then loaded into the network.
    let section = |name: &'static str, seed: Vec<u8>, put: fn(&mut Checkpoint, &[u8])| {
        let (checkpoint, path) = (checkpoint.clone(), resigned.clone());
        Target {
            name,
            seeds: vec![seed],
            check: Box::new(move |bytes| {
                let mut changed = checkpoint.clone();
                put(&mut changed, bytes);
                changed.save(&path).unwrap();
                let fresh = net()
                    .init([SHAPE[1], SHAPE[2], SHAPE[3]], CLASSES, 0, &Device::flex())
                    .unwrap();
                match load_checkpoint_model(fresh, &path) {
                    Ok(_) => Ok(true),
                    Err(error) => named(&error, &path),
                }
            }),
        }
    };
    let state = serde_json::to_vec(&checkpoint.state).unwrap();
    vec![
        file,
        section("checkpoint-model", checkpoint.model.clone(), |c, bytes| {
            c.model = bytes.to_vec()
        }),
        section("checkpoint-state", state, |c, bytes| {
            c.state = serde_json::from_slice(bytes).unwrap_or(serde_json::Value::Null)
        }),
    ]
}
