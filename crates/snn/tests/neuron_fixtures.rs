//! Every `neuron_multistep` fixture of SpikingJelly 2.0.0, for both multi-step
//! implementations and for the single-step function looped over time: spikes and `v_seq`
//! bit-exact, input gradients and PLIF's `grad_w` within 1e-5 relative.

mod common;

use burn::tensor::{Device, Tensor};
use common::{assert_close, assert_exact, cases, load, load_tensor, neuron_config_of, values};
use serde_json::Value;
use snn::{Implementation, MultiStepOptions};

const RTOL: f32 = 1e-5;

fn check_multi_step(case: &Value, implementation: Implementation, device: &Device) {
    let name = format!(
        "{} ({implementation:?} on {device:?})",
        case["name"].as_str().unwrap()
    );
    let device = device.clone().autodiff();
    let neuron = neuron_config_of(case).init(&device).unwrap();
    let options = MultiStepOptions {
        store_v_seq: true,
        implementation,
    };

    for (upstream_name, grad_x_key, grad_w_key) in [
        ("ones", "grad_x_ones", "grad_w_ones"),
        ("rand", "grad_x_rand", "grad_w_rand"),
    ] {
        let x = load_tensor(&case["x"], &device).require_grad();
        let upstream = match upstream_name {
            "ones" => x.ones_like(),
            _ => load_tensor(&case["upstream_rand"], &device),
        };
        let out = neuron.multi_step(x.clone(), None, options).unwrap();
        let v_seq = out.v_seq.expect("v_seq was asked for");
        assert_exact(
            &format!("{name} spikes"),
            &values(out.spikes.clone()),
            &load(&case["spike"]).0,
        );
        assert_exact(
            &format!("{name} v_seq"),
            &values(v_seq.clone()),
            &load(&case["v_seq"]).0,
        );
        let last: Vec<f32> = load(&case["v_seq"]).0[7 * 64..].to_vec();
        assert_exact(&format!("{name} final state"), &values(out.state.v), &last);

        let grads = (out.spikes * upstream).sum().backward();
        assert_close(
            &format!("{name} grad_x ({upstream_name})"),
            &values(x.grad(&grads).unwrap()),
            &load(&case[grad_x_key]).0,
            RTOL,
        );
        if let Some(entry) = case.get(grad_w_key) {
            let w = neuron.w.as_ref().expect("PLIF has a weight").val();
            assert_close(
                &format!("{name} grad_w ({upstream_name})"),
                &values(w.grad(&grads).unwrap()),
                &load(entry).0,
                RTOL,
            );
        }
    }
}

#[test]
fn fused_multi_step_matches_spikingjelly() {
    for case in cases("neuron_multistep") {
        check_multi_step(&case, Implementation::Fused, &Device::flex());
    }
}

/// The fused op's CubeCL kernels on each GPU of the build (wgpu: lavapipe on CI), against
/// the same fixtures.
#[cfg(feature = "cube")]
#[test]
fn fused_multi_step_on_gpu_matches_spikingjelly() {
    for device in common::gpu_devices() {
        assert!(
            snn::neuron::fused::is_supported(&device.clone().autodiff(), burn::tensor::DType::F32),
            "the fused op must run natively on {device:?}, not fall back to the reference"
        );
        for case in cases("neuron_multistep") {
            check_multi_step(&case, Implementation::Fused, &device);
        }
    }
}

#[test]
fn reference_multi_step_matches_spikingjelly() {
    for case in cases("neuron_multistep") {
        check_multi_step(&case, Implementation::Reference, &Device::flex());
    }
}

#[test]
fn single_step_loop_matches_spikingjelly() {
    let device = Device::flex().autodiff();
    for case in cases("neuron_multistep") {
        let name = case["name"].as_str().unwrap();
        let neuron = neuron_config_of(&case).init(&device).unwrap();
        let x = load_tensor(&case["x"], &device).require_grad();
        let upstream = load_tensor(&case["upstream_rand"], &device);
        let mut state = None;
        let mut spikes = Vec::new();
        let mut v_seq = Vec::new();
        for t in 0..8 {
            let x_t: Tensor<1> = x.clone().narrow(0, t, 1).squeeze_dim(0);
            let (spike, next) = neuron.step(x_t, state).unwrap();
            spikes.push(spike.unsqueeze_dim::<2>(0));
            v_seq.push(next.v.clone().unsqueeze_dim::<2>(0));
            state = Some(next);
        }
        let spikes = Tensor::cat(spikes, 0);
        assert_exact(
            &format!("{name} step spikes"),
            &values(spikes.clone()),
            &load(&case["spike"]).0,
        );
        assert_exact(
            &format!("{name} step v_seq"),
            &values(Tensor::cat(v_seq, 0)),
            &load(&case["v_seq"]).0,
        );
        let grads = (spikes * upstream).sum().backward();
        assert_close(
            &format!("{name} step grad_x"),
            &values(x.grad(&grads).unwrap()),
            &load(&case["grad_x_rand"]).0,
            RTOL,
        );
    }
}

#[test]
fn fused_forward_without_autodiff_matches_spikingjelly() {
    check_forward_without_autodiff(&Device::flex());
}

#[cfg(feature = "cube")]
#[test]
fn fused_forward_without_autodiff_on_gpu_matches_spikingjelly() {
    common::gpu_devices()
        .iter()
        .for_each(check_forward_without_autodiff);
}

fn check_forward_without_autodiff(device: &Device) {
    let device = device.clone();
    for case in cases("neuron_multistep") {
        let neuron = neuron_config_of(&case).init(&device).unwrap();
        let out = neuron.forward(load_tensor(&case["x"], &device)).unwrap();
        assert_exact(
            case["name"].as_str().unwrap(),
            &values(out),
            &load(&case["spike"]).0,
        );
    }
}
