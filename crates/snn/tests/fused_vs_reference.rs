//! The fused multi-step op equals the reference composition: forward bit-exact (spikes,
//! `v_seq`, final state), gradients (input, initial state, PLIF's weight) within 1e-5
//! relative (growing with chains longer than 8 steps, see [`rtol`]), on random shapes with T from 1 to 32, for every neuron × surrogate × reset ×
//! detach_reset combination.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_close, assert_exact, uniform, values};
use proptest::prelude::*;
use snn::{
    Implementation, MultiStepOptions, NeuronConfig, NeuronModel, NeuronState, Reset, Surrogate,
};

const RTOL: f32 = 1e-5;

/// The tolerance for a chain of `steps` time steps: 1e-5 up to the fixtures' 8 steps, then
/// growing with the chain. Each step multiplies the carried gradient by `R[t]` (up to
/// `|1 − θ·σ′| ≈ 3.5` for a steep surrogate), so the two implementations' different but
/// equally valid f32 roundings drift apart in proportion to the chain's length.
fn rtol(steps: usize) -> f32 {
    RTOL * (steps as f32 / 8.0).max(1.0)
}

/// One comparison problem: settings, input, state and upstream gradients.
#[derive(Debug, Clone)]
struct Problem {
    config: NeuronConfig,
    steps: usize,
    neurons: [usize; 2],
    store_v_seq: bool,
    seed: u64,
}

struct Outcome {
    spikes: Vec<f32>,
    v: Vec<f32>,
    grad_x: Vec<f32>,
    grad_v0: Vec<f32>,
    grad_w: Option<Vec<f32>>,
    /// The spikes-only path (`SpikingNeuron::forward`): spikes and input gradient.
    spikes_only: (Vec<f32>, Vec<f32>),
}

fn run(problem: &Problem, implementation: Implementation, device: &Device) -> Outcome {
    let device = device.clone().autodiff();
    let [n1, n2] = problem.neurons;
    let steps_v = if problem.store_v_seq {
        problem.steps
    } else {
        1
    };
    let random = |salt: u64, steps: usize, low: f32, high: f32| {
        let values = uniform(problem.seed ^ salt, steps * n1 * n2, low, high);
        Tensor::<3>::from_data(TensorData::new(values, [steps, n1, n2]), &device)
    };
    // Inputs around the threshold, so that neurons fire, reset and stay silent.
    let x = random(1, problem.steps, -0.6, 1.4).require_grad();
    let v0 = random(2, 1, -0.5, 0.9).require_grad();
    let upstream_spikes = random(3, problem.steps, -1.0, 1.0);
    let upstream_v = random(4, steps_v, -1.0, 1.0);

    let neuron = problem.config.init(&device).unwrap();
    let out = neuron
        .multi_step(
            x.clone(),
            Some(NeuronState { v: v0.clone() }),
            MultiStepOptions {
                store_v_seq: problem.store_v_seq,
                implementation,
            },
        )
        .unwrap();
    let v = out.v_seq.unwrap_or(out.state.v);
    let loss =
        (out.spikes.clone() * upstream_spikes.clone()).sum() + (v.clone() * upstream_v).sum();
    let grads = loss.backward();

    let x_alone = x.clone().detach().require_grad();
    let spikes_alone = neuron
        .forward_with(x_alone.clone(), implementation)
        .unwrap();
    let grads_alone = (spikes_alone.clone() * upstream_spikes).sum().backward();
    let spikes_only = (
        values(spikes_alone),
        values(x_alone.grad(&grads_alone).unwrap()),
    );
    Outcome {
        spikes: values(out.spikes),
        v: values(v),
        grad_x: values(x.grad(&grads).unwrap()),
        grad_v0: values(v0.grad(&grads).unwrap()),
        grad_w: neuron
            .w
            .as_ref()
            .map(|w| values(w.val().grad(&grads).unwrap())),
        spikes_only,
    }
}

fn check(problem: &Problem) {
    check_on(problem, &Device::flex());
}

/// Fused against reference, both on `device`.
fn check_on(problem: &Problem, device: &Device) {
    let fused = run(problem, Implementation::Fused, device);
    let reference = run(problem, Implementation::Reference, device);
    let what = format!("{problem:?} on {device:?}");
    assert_exact(&format!("spikes {what}"), &fused.spikes, &reference.spikes);
    assert_exact(&format!("v {what}"), &fused.v, &reference.v);
    let rtol = rtol(problem.steps);
    assert_close(
        &format!("grad_x {what}"),
        &fused.grad_x,
        &reference.grad_x,
        rtol,
    );
    assert_close(
        &format!("grad_v0 {what}"),
        &fused.grad_v0,
        &reference.grad_v0,
        rtol,
    );
    let (fused_spikes, fused_grad) = &fused.spikes_only;
    let (reference_spikes, reference_grad) = &reference.spikes_only;
    assert_exact(
        &format!("spikes only {what}"),
        fused_spikes,
        reference_spikes,
    );
    assert_close(
        &format!("spikes-only grad_x {what}"),
        fused_grad,
        reference_grad,
        rtol,
    );
    match (&fused.grad_w, &reference.grad_w) {
        (Some(f), Some(r)) => {
            // grad_w is one sum of T·N terms `∂L/∂H · ∂H/∂k` of both signs; its f32 rounding
            // (which depends on summation order) is relative to the size of those terms, not
            // to the smaller sum. Each term is a few times |∂L/∂X| at most (the factors are
            // X − (V − r) or k⁻¹, both O(1) here), so Σ|∂L/∂X| is the scale of what is summed.
            let scale: f32 = reference.grad_x.iter().map(|g| g.abs()).sum();
            let diff = (f[0] - r[0]).abs();
            assert!(
                diff <= rtol * scale.max(r[0].abs()),
                "grad_w {what}: fused {} vs reference {} (|diff| {diff:e}, scale {scale:e})",
                f[0],
                r[0]
            );
        }
        (None, None) => {}
        _ => panic!("grad_w present in one implementation only: {what}"),
    }
}

/// Every neuron model × surrogate × reset × detach_reset, with default shape parameters.
fn all_configs() -> Vec<NeuronConfig> {
    let models = [
        NeuronConfig::if_node(),
        NeuronConfig::lif(2.0),
        NeuronConfig::lif(3.0).with_decay_input(false),
        NeuronConfig::plif(2.0),
        NeuronConfig::plif(4.0).with_decay_input(false),
    ];
    let mut configs = Vec::new();
    for model in models {
        for surrogate in Surrogate::ALL_DEFAULTS {
            for reset in [Reset::Hard { v_reset: 0.0 }, Reset::Soft] {
                for detach_reset in [false, true] {
                    configs.push(
                        model
                            .with_surrogate(surrogate)
                            .with_reset(reset)
                            .with_detach_reset(detach_reset),
                    );
                }
            }
        }
    }
    configs
}

/// One problem per combination of [`all_configs`], with T from 1 to 32.
fn every_combination() -> Vec<Problem> {
    let configs = all_configs();
    assert_eq!(configs.len(), 5 * 8 * 2 * 2);
    configs
        .into_iter()
        .enumerate()
        .map(|(i, config)| Problem {
            config,
            steps: 1 + i % 32,
            neurons: [3, 23],
            store_v_seq: i % 3 != 0,
            seed: i as u64,
        })
        .collect()
}

#[test]
fn every_combination_agrees() {
    every_combination().iter().for_each(check);
}

/// The CubeCL kernels against the reference composition on each GPU of the build (wgpu:
/// lavapipe on CI), including more neurons than one cube of threads.
#[cfg(feature = "cube")]
#[test]
fn every_combination_agrees_on_gpu() {
    for device in common::gpu_devices() {
        check_all_on(&device);
    }
}

#[cfg(feature = "cube")]
fn check_all_on(device: &Device) {
    for problem in every_combination().iter().chain(&many_block_problems()) {
        check_on(problem, device);
    }
}

#[test]
fn many_blocks_agree() {
    many_block_problems().iter().for_each(check);
}

/// More neurons than one CPU kernel block (and one GPU cube), with a ragged last block.
fn many_block_problems() -> Vec<Problem> {
    [NeuronConfig::if_node(), NeuronConfig::plif(2.0)]
        .into_iter()
        .map(|config| Problem {
            config,
            steps: 8,
            neurons: [5, 1000],
            store_v_seq: true,
            seed: 7,
        })
        .collect()
}

fn config_strategy() -> impl Strategy<Value = NeuronConfig> {
    let model = prop_oneof![
        Just(NeuronModel::If),
        (1.05f32..8.0, any::<bool>())
            .prop_map(|(tau, decay_input)| NeuronModel::Lif { tau, decay_input }),
        (1.05f32..8.0, any::<bool>()).prop_map(|(init_tau, decay_input)| {
            NeuronModel::ParametricLif {
                init_tau,
                decay_input,
            }
        }),
    ];
    let surrogate = (0usize..8, 0.5f32..4.0).prop_map(|(i, shape)| {
        let base = Surrogate::ALL_DEFAULTS[i];
        match base {
            Surrogate::PiecewiseLeakyReLU { .. } => Surrogate::PiecewiseLeakyReLU {
                w: shape,
                c: 0.01 * shape,
            },
            other => other.with_alpha(shape),
        }
    });
    let reset = prop_oneof![
        (-0.5f32..0.5).prop_map(|v_reset| Reset::Hard { v_reset }),
        Just(Reset::Soft)
    ];
    (model, surrogate, reset, any::<bool>(), 0.5f32..1.5).prop_map(
        |(model, surrogate, reset, detach_reset, v_threshold)| NeuronConfig {
            model,
            v_threshold,
            reset,
            detach_reset,
            surrogate,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        // A fixed seed: CI explores the same cases every run (a failure reproduces).
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED_F0CE),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_problems_agree(
        config in config_strategy(),
        steps in 1usize..=32,
        n1 in 1usize..4,
        n2 in 1usize..50,
        store_v_seq in any::<bool>(),
        seed in any::<u64>(),
    ) {
        check(&Problem { config, steps, neurons: [n1, n2], store_v_seq, seed });
    }
}
