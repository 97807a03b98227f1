//! The adaptive LIF neuron, a model written against `NeuronDynamics`: its fused CPU op equals
//! its reference (spikes bit for bit, input gradients within 1e-5) on random settings and
//! inputs across blocks of neurons; with β = 0 it is SpikingJelly's LIF; with β > 0 its
//! threshold rises, so a constant drive fires less and less often.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_close, assert_exact, seeded_runner, uniform, values};
use proptest::prelude::*;
use snn::neuron::adaptive::AdaptiveLifConfig;
use snn::nn::{Implementation, SurrogateName};
use snn::{NeuronConfig, Surrogate};

const SHAPE: [usize; 3] = [7, 3, 700];

fn inputs(seed: u64) -> (Tensor<3>, Tensor<3>) {
    let device = Device::flex().autodiff();
    let len = SHAPE.iter().product();
    let x = Tensor::from_data(
        TensorData::new(uniform(seed, len, -0.5, 2.5), SHAPE),
        &device,
    );
    let upstream = Tensor::from_data(
        TensorData::new(uniform(seed + 1, len, -1.0, 1.0), SHAPE),
        &device,
    );
    (x.require_grad(), upstream)
}

/// Spikes and `∂(Σ spikes · upstream)/∂x` of one implementation.
fn run(
    config: &AdaptiveLifConfig,
    seed: u64,
    implementation: Implementation,
) -> (Vec<f32>, Vec<f32>) {
    let layer = config.init().unwrap();
    let (x, upstream) = inputs(seed);
    let spikes = layer.forward(x.clone(), implementation);
    let grads = (spikes.clone() * upstream).sum().backward();
    (values(spikes), values(x.grad(&grads).unwrap()))
}

#[test]
fn the_fused_op_equals_the_reference() {
    let mut runner = seeded_runner(16, 3);
    let surrogates = [
        SurrogateName::Sigmoid,
        SurrogateName::Atan,
        SurrogateName::Erf,
        SurrogateName::PiecewiseQuadratic,
    ];
    runner
        .run(
            &(
                1.5f32..4.0,
                2.0f32..30.0,
                0.0f32..1.5,
                any::<bool>(),
                0usize..4,
                1u64..1000,
            ),
            |(tau, tau_adaptation, beta, detach_reset, surrogate, seed)| {
                let config = AdaptiveLifConfig {
                    tau,
                    tau_adaptation,
                    beta,
                    detach_reset,
                    surrogate: surrogates[surrogate],
                    ..AdaptiveLifConfig::default()
                };
                let (fused_spikes, fused_grad) = run(&config, seed, Implementation::Fused);
                let (spikes, grad) = run(&config, seed, Implementation::Reference);
                assert_exact(&format!("{config:?} spikes"), &fused_spikes, &spikes);
                assert!(spikes.contains(&1.0) && spikes.contains(&0.0));
                assert_close(&format!("{config:?} ∂x"), &fused_grad, &grad, 1e-5);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn without_adaptation_it_is_spikingjellys_lif() {
    let config = AdaptiveLifConfig {
        tau: 2.0,
        beta: 0.0,
        surrogate: SurrogateName::Atan,
        ..AdaptiveLifConfig::default()
    };
    let (spikes, grad) = run(&config, 5, Implementation::Fused);
    let lif = NeuronConfig::lif(2.0)
        .with_surrogate(Surrogate::atan())
        .init(&Device::flex())
        .unwrap();
    let (x, upstream) = inputs(5);
    let expected = lif.forward(x.clone()).unwrap();
    let grads = (expected.clone() * upstream).sum().backward();
    assert_exact("spikes", &spikes, &values(expected));
    assert_close("∂x", &grad, &values(x.grad(&grads).unwrap()), 1e-5);
}

#[test]
fn adaptation_slows_a_constant_drive() {
    let device = Device::flex();
    let x = Tensor::<2>::full([60, 1], 1.5, &device);
    let count = |beta| {
        let layer = AdaptiveLifConfig {
            beta,
            ..AdaptiveLifConfig::default()
        }
        .init()
        .unwrap();
        values(layer.forward(x.clone(), Implementation::Fused))
    };
    let (plain, adaptive) = (count(0.0), count(1.0));
    let late = |s: &[f32]| s[30..].iter().sum::<f32>();
    assert!(late(&adaptive) < late(&plain), "{plain:?}\n{adaptive:?}");
    assert!(late(&adaptive) > 0.0);
    // Invalid settings are refused.
    assert!(
        AdaptiveLifConfig {
            tau: 1.0,
            ..AdaptiveLifConfig::default()
        }
        .init()
        .is_err()
    );
    assert!(
        AdaptiveLifConfig {
            beta: -0.1,
            ..AdaptiveLifConfig::default()
        }
        .init()
        .is_err()
    );
}
