//! The seed SNN and CNN against all 8 `seed_snn` / `seed_cnn` fixtures of SpikingJelly
//! 2.0.0, and the CNN fed the mean of its frames against PyTorch's (`pytorch_cnn_mean`):
//! output, IF spikes (bit for bit), loss, every parameter gradient, and the parameters after
//! one SGD(lr 0.05) step, within 1e-5 relative.

mod common;

use std::collections::BTreeMap;

use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_close, assert_exact, cases, cases_in, fixtures_dir, load, values};
use serde_json::Value;
use snn::models;
use snn::network::Network;
use snn::nn::{LayerConfig, NeuronSpec, SurrogateName};
use snn::train::{LossKind, OptimizerSpec};

const RTOL: f32 = 1e-5;

fn tensor<const D: usize>(entry: &Value, device: &Device) -> Tensor<D> {
    let (values, shape) = load(entry);
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn labels(entry: &Value) -> Vec<usize> {
    let path = fixtures_dir().join(entry["file"].as_str().unwrap());
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    npy.into_vec::<i64>()
        .unwrap()
        .into_iter()
        .map(|l| l as usize)
        .collect()
}

/// The network of a case (the `seed-snn` or `seed-cnn` preset at width 4 with the case's
/// surrogate and CNN input), holding the fixture's initial parameters.
fn network(case: &Value, device: &Device) -> Network {
    let name = case["name"].as_str().unwrap();
    let snn = case["kind"] == "seed_snn";
    let preset = if snn { "seed-snn" } else { "seed-cnn" };
    let width = BTreeMap::from([("width".to_string(), 4)]);
    let mut config = models::preset(preset).unwrap().resolve(10, &width).unwrap();
    if name.contains("ATan") {
        config = config
            .with_neurons(&NeuronSpec {
                surrogate: Some(SurrogateName::Atan),
                ..NeuronSpec::default()
            })
            .unwrap();
    }
    if !snn {
        if name.contains("perframe") {
            config.layers.remove(0);
        } else if name.contains("sumT") {
            config.layers[0].layer = LayerConfig::SumOverTime;
        } else {
            assert!(name.contains("meanT"), "{name}: which CNN input?");
        }
    }
    let net = config.init([2, 8, 8], 10, 0, device).unwrap();
    let init = &case["init"];
    net.load_torch(&|name| init.get(name).map(load)).unwrap()
}

fn check(case: &Value) {
    check_on(case, &Device::flex());
}

/// One case on `device`: forward, loss, backward and one SGD step.
fn check_on(case: &Value, device: &Device) {
    let name = format!("{} on {device:?}", case["name"].as_str().unwrap());
    let device = device.clone().autodiff();
    let net = network(case, &device);
    let loss_kind = if case["loss"].as_str().unwrap().contains("cross_entropy") {
        LossKind::CrossEntropy
    } else {
        LossKind::Mse
    };
    let x_bt: Tensor<5> = tensor(&case["x_BT"], &device);
    let x = x_bt.swap_dims(0, 1);
    let labels = labels(&case["label"]);

    if let Some(spikes) = case.get("if_spikes_TB") {
        let recorded = net.spikes(x.clone()).unwrap();
        let [(layer, out)] = &recorded[..] else {
            panic!("{name}: one spiking layer, got {}", recorded.len())
        };
        assert_eq!(layer, "sn");
        assert_exact(
            &format!("{name} IF spikes"),
            &values(out.clone()),
            &load(spikes).0,
        );
    }
    // The pass without fusions (and the one measuring activity) compute the same scores.
    let (measured, _) = net.forward_with_activity(x.clone()).unwrap();
    let steps = net.forward_steps(x.clone()).unwrap();
    let [_, n, classes] = steps.dims();
    let unfused = steps.mean_dim(0).reshape([n, classes]);
    let scores = net.forward(x).unwrap();
    for (path, scores) in [
        ("out", &scores),
        ("measured out", &measured),
        ("unfused out", &unfused),
    ] {
        assert_close(
            &format!("{name} {path}"),
            &values(scores.clone()),
            &load(&case["out"]).0,
            RTOL,
        );
    }
    let loss = loss_kind.loss(scores, &labels);
    let expected_loss = case["loss_value"].as_f64().unwrap() as f32;
    assert_close(
        &format!("{name} loss"),
        &values(loss.clone()),
        &[expected_loss],
        RTOL,
    );

    let grads = loss.backward();
    let tensors = net.torch_tensors();
    assert_eq!(tensors.len(), 4);
    for tensor in &tensors {
        let param = &tensor.name;
        let expected = load(&case["grads"][param]).0;
        let actual = tensor.grad(&grads).unwrap();
        assert_close(&format!("{name} grad {param}"), &actual, &expected, RTOL);
    }
    let grads = GradientsParams::from_grads(grads, &net);
    let optimizer = OptimizerSpec::default();
    let net = optimizer.build().step(optimizer.lr(), net, grads);
    for tensor in net.torch_tensors() {
        let (param, actual) = (&tensor.name, tensor.values());
        let expected = load(&case["params_after_step"][param]).0;
        assert_close(
            &format!("{name} {param} after one SGD step"),
            &actual,
            &expected,
            RTOL,
        );
    }
}

#[test]
fn seed_snn_matches_spikingjelly() {
    let cases = cases("seed_snn");
    assert_eq!(cases.len(), 4);
    cases.iter().for_each(check);
}

/// One training step of the seed SNN on each GPU of the build (wgpu: lavapipe on CI), its
/// neuron layer run by the fused CubeCL kernels, against SpikingJelly's.
#[cfg(feature = "cube")]
#[test]
fn seed_snn_on_gpu_matches_spikingjelly() {
    for device in common::gpu_devices() {
        for case in cases("seed_snn") {
            check_on(&case, &device);
        }
    }
}

#[test]
fn seed_cnn_matches_pytorch() {
    let cases = cases("seed_cnn");
    assert_eq!(cases.len(), 4);
    cases.iter().for_each(check);
}

/// The CNN on the mean of the T frames (the default), MSE and cross-entropy, against PyTorch
/// on the same inputs and initial parameters as the SpikingJelly CNN cases.
#[test]
fn seed_cnn_on_mean_frames_matches_pytorch() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytorch_cnn_mean");
    let cases = cases_in(&dir, "seed_cnn_mean");
    assert_eq!(cases.len(), 2);
    cases.iter().for_each(check);
}
