//! The seed SNN and CNN against all 8 `seed_snn` / `seed_cnn` fixtures of SpikingJelly
//! 2.0.0, and the CNN fed the mean of its frames against PyTorch's (`pytorch_cnn_mean`):
//! output, IF spikes (bit for bit), loss, every parameter gradient, and the parameters after
//! one SGD(lr 0.05) step, within 1e-5 relative.

mod common;

use burn::module::Param;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Gradients, Tensor, TensorData};
use common::{assert_close, assert_exact, cases, cases_in, fixtures_dir, load, values};
use serde_json::Value;
use snn::model::{CnnInput, NetKind, SeedNet, SeedNetConfig};
use snn::train::{LossKind, OptimizerSpec};
use snn::{NeuronConfig, Surrogate};

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

/// The network of a case, holding the fixture's initial parameters.
fn network(case: &Value, device: &Device) -> SeedNet {
    let name = case["name"].as_str().unwrap();
    let kind = if case["kind"] == "seed_snn" {
        NetKind::Snn
    } else {
        NetKind::Cnn
    };
    let mut neuron = NeuronConfig::if_node();
    if name.contains("ATan") {
        neuron.surrogate = Surrogate::atan();
    }
    let config = SeedNetConfig {
        channels: 4,
        neuron,
        cnn_input: if kind == NetKind::Snn {
            CnnInput::default()
        } else if name.contains("perframe") {
            CnnInput::PerFrameMean
        } else if name.contains("sumT") {
            CnnInput::SumOverTime
        } else {
            assert!(name.contains("meanT"), "{name}: which CNN input?");
            CnnInput::MeanOverTime
        },
        ..SeedNetConfig::seed(kind, 10, (8, 8))
    };
    let mut net = config.init(0, device).unwrap();
    let init = &case["init"];
    net.conv.weight = Param::from_tensor(tensor(&init["conv.weight"], device));
    net.conv.bias = Some(Param::from_tensor(tensor(&init["conv.bias"], device)));
    let fc: Tensor<2> = tensor(&init["fc.weight"], &Device::flex());
    net.fc.weight = Param::from_data(fc.transpose().into_data(), device);
    net.fc.bias = Some(Param::from_tensor(tensor(&init["fc.bias"], device)));
    net
}

/// A `[in, out]` Linear weight (or its gradient) in PyTorch's `[out, in]` order.
fn transposed(weight: Tensor<2>) -> Vec<f32> {
    values(weight.transpose())
}

/// The four parameters' values in PyTorch's layout, named as in the fixtures.
fn parameter_values(net: &SeedNet) -> [(&'static str, Vec<f32>); 4] {
    [
        ("conv.weight", values(net.conv.weight.val())),
        ("conv.bias", values(net.conv.bias.as_ref().unwrap().val())),
        ("fc.weight", transposed(net.fc.weight.val())),
        ("fc.bias", values(net.fc.bias.as_ref().unwrap().val())),
    ]
}

/// The four parameters' gradients in PyTorch's layout.
fn gradient_values(net: &SeedNet, grads: &Gradients) -> [(&'static str, Vec<f32>); 4] {
    [
        (
            "conv.weight",
            values(net.conv.weight.val().grad(grads).unwrap()),
        ),
        (
            "conv.bias",
            values(net.conv.bias.as_ref().unwrap().val().grad(grads).unwrap()),
        ),
        (
            "fc.weight",
            transposed(net.fc.weight.val().grad(grads).unwrap()),
        ),
        (
            "fc.bias",
            values(net.fc.bias.as_ref().unwrap().val().grad(grads).unwrap()),
        ),
    ]
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
        let [t, n, c, h, w] = x.dims();
        let currents = net.conv.forward(x.clone().reshape([t * n, c, h, w]));
        let neuron = net.neuron.as_ref().expect("the SNN has a neuron");
        let out = neuron.forward(currents.reshape([t, n, 4, h, w])).unwrap();
        assert_exact(&format!("{name} IF spikes"), &values(out), &load(spikes).0);
    }
    // The composed path (which also measures the hidden layer) computes the same scores.
    let (composed, _) = net.forward_with_activity(x.clone()).unwrap();
    let scores = net.forward(x).unwrap();
    for (path, scores) in [("out", &scores), ("composed out", &composed)] {
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
    for (param, actual) in gradient_values(&net, &grads) {
        let expected = load(&case["grads"][param]).0;
        assert_close(&format!("{name} grad {param}"), &actual, &expected, RTOL);
    }
    let grads = GradientsParams::from_grads(grads, &net);
    let optimizer = OptimizerSpec::default();
    let net = optimizer.build().step(optimizer.lr(), net, grads);
    for (param, actual) in parameter_values(&net) {
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
