//! The seed SNN's loss curve against SpikingJelly's: 30 SGD steps from SpikingJelly's own
//! initialisation on the same synthetic event frames give the same losses, step by step
//! (`tests/fixtures/spikingjelly_loss_curve`, written by `scripts/spikingjelly_loss_curve.py`).

mod common;

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use serde_json::Value;
use snn::train::data::Batch;
use snn::train::{TrainConfig, train_step};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spikingjelly_loss_curve")
        .join(name)
}

fn npy(name: &str) -> (Vec<f32>, Vec<usize>) {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    (npy.into_vec::<f32>().unwrap(), shape)
}

/// The script's SplitMix64 event counts: `max(0, (z >> 40) mod 8 − 4)`.
fn splitmix_counts(seed: u64, count: usize) -> Vec<f32> {
    common::splitmix64(seed)
        .take(count)
        .map(|z| ((z >> 40) % 8).saturating_sub(4) as f32)
        .collect()
}

#[test]
fn thirty_sgd_steps_follow_spikingjelly_loss_curve() {
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("losses.json")).unwrap()).unwrap();
    let shape = &record["shape"];
    let get = |key: &str| shape[key].as_u64().unwrap() as usize;
    let (t, b, ci, h, w, classes) = (
        get("T"),
        get("B"),
        get("in_channels"),
        get("h"),
        get("w"),
        get("classes"),
    );
    let expected: Vec<f64> = record["losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();

    let device = Device::flex().autodiff();
    let width = [("width".to_string(), get("channels"))]
        .into_iter()
        .collect();
    let config = snn::models::preset("seed-snn")
        .unwrap()
        .resolve(classes, &width)
        .unwrap();
    let net = config.init([ci, h, w], classes, 0, &device).unwrap();
    // SpikingJelly's initial parameters, by their PyTorch names (`init_conv.weight.npy`, …).
    let mut net = net
        .load_torch(&|name| Some(npy(&format!("init_{name}.npy"))))
        .unwrap();

    let train = TrainConfig::default();
    let mut optimizer = train.optimizer.build();
    for (step, &expected) in expected.iter().enumerate() {
        // Drawn [B, T, C, h, w], fed time first.
        let frames: Tensor<5> = Tensor::from_data(
            TensorData::new(
                splitmix_counts(step as u64, b * t * ci * h * w),
                [b, t, ci, h, w],
            ),
            &device,
        );
        let batch = Batch {
            frames: frames.swap_dims(0, 1),
            labels: (0..b).map(|n| n % classes).collect(),
        };
        let result = train_step(net, &mut optimizer, &train, train.optimizer.lr(), batch).unwrap();
        let relative = (result.loss - expected).abs() / expected;
        assert!(
            relative < 1e-5,
            "step {step}: loss {} where SpikingJelly has {expected} (relative difference {relative:e})",
            result.loss
        );
        net = result.model;
    }
}
