//! The fused conv → neuron → mean-over-time layer against the same layer composed of
//! separate ops: firing rates exactly equal, gradients of weight, bias and (when tracked)
//! input within 1e-5, on random shapes and neuron settings; results independent of the
//! thread count; ParametricLIF (not fused) still trains its leak.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_close, uniform, values};
use proptest::prelude::*;
use snn::spiking_conv::{composed, conv3x3_spike_rates};
use snn::{Implementation, NeuronConfig, Reset, SpikingNeuron, Surrogate};

/// One layer's inputs: `[T, N, Ci, h, w]` frames and `Co` output channels.
#[derive(Debug, Clone, Copy)]
struct Case {
    shape: [usize; 5],
    co: usize,
    seed: u64,
    track_input: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Layer {
    Fused,
    Composed(Implementation),
}

/// Rates and the gradients of `loss = Σ rates · upstream`: `[rates, grad x, grad weight,
/// grad bias]`.
fn run(layer: Layer, neuron: &SpikingNeuron, case: Case) -> [Vec<f32>; 4] {
    let device = Device::flex().autodiff();
    let [t, n, ci, h, w] = case.shape;
    let tensor = |seed: u64, shape: Vec<usize>, low: f32, high: f32| {
        let len = shape.iter().product();
        TensorData::new(uniform(seed, len, low, high), shape)
    };
    let mut x: Tensor<5> =
        Tensor::from_data(tensor(case.seed, vec![t, n, ci, h, w], 0.0, 1.5), &device);
    if case.track_input {
        x = x.require_grad();
    }
    let weight: Tensor<4> = Tensor::from_data(
        tensor(case.seed + 1, vec![case.co, ci, 3, 3], -0.4, 0.6),
        &device,
    )
    .require_grad();
    let bias: Tensor<1> =
        Tensor::from_data(tensor(case.seed + 2, vec![case.co], -0.3, 0.3), &device).require_grad();
    let upstream: Tensor<4> = Tensor::from_data(
        tensor(case.seed + 3, vec![n, case.co, h, w], -1.0, 1.0),
        &device,
    );
    let rates = match layer {
        Layer::Fused => conv3x3_spike_rates(x.clone(), weight.clone(), Some(bias.clone()), neuron),
        Layer::Composed(implementation) => composed(
            x.clone(),
            weight.clone(),
            Some(bias.clone()),
            neuron,
            implementation,
        ),
    }
    .unwrap();
    let grads = (rates.clone() * upstream).sum().backward();
    let grad_x = x.grad(&grads).map(values).unwrap_or_default();
    assert_eq!(
        case.track_input,
        !grad_x.is_empty(),
        "input gradient presence"
    );
    [
        values(rates),
        grad_x,
        values(weight.grad(&grads).unwrap()),
        values(bias.grad(&grads).unwrap()),
    ]
}

fn check(config: NeuronConfig, case: Case) {
    let neuron = config.init(&Device::flex().autodiff()).unwrap();
    let fused = run(Layer::Fused, &neuron, case);
    for implementation in [Implementation::Fused, Implementation::Reference] {
        let composed = run(Layer::Composed(implementation), &neuron, case);
        assert!(
            fused[0] == composed[0],
            "rates differ from the composition ({implementation:?} neuron) for {config:?}, {case:?}"
        );
        for (name, (a, e)) in ["grad x", "grad weight", "grad bias"]
            .iter()
            .zip(fused[1..].iter().zip(&composed[1..]))
        {
            assert_close(&format!("{name} {config:?} {case:?}"), a, e, 1e-5);
        }
    }
}

fn neuron_config() -> impl Strategy<Value = NeuronConfig> {
    let model = prop_oneof![
        Just(NeuronConfig::if_node()),
        (1.5f32..4.0, any::<bool>())
            .prop_map(|(tau, decay)| NeuronConfig::lif(tau).with_decay_input(decay)),
    ];
    let surrogate = prop_oneof![
        Just(Surrogate::Sigmoid { alpha: 4.0 }),
        Just(Surrogate::ATan { alpha: 2.0 }),
        Just(Surrogate::PiecewiseQuadratic { alpha: 1.0 }),
    ];
    let reset = prop_oneof![
        Just(Reset::Soft),
        (-0.2f32..0.2).prop_map(|v_reset| Reset::Hard { v_reset }),
    ];
    (model, surrogate, reset, any::<bool>(), 0.5f32..1.5).prop_map(
        |(model, surrogate, reset, detach, threshold)| {
            model
                .with_surrogate(surrogate)
                .with_reset(reset)
                .with_detach_reset(detach)
                .with_threshold(threshold)
        },
    )
}

#[test]
fn seed_layer_equals_the_composition() {
    let case = Case {
        shape: [8, 4, 2, 32, 32],
        co: 32,
        seed: 11,
        track_input: false,
    };
    check(NeuronConfig::if_node(), case);
}

#[test]
fn random_layers_equal_the_composition() {
    let mut runner = common::seeded_runner(32, 3);
    let shapes = (
        1usize..6,
        1usize..4,
        1usize..4,
        1usize..6,
        1usize..10,
        1usize..40,
    );
    runner
        .run(
            &(neuron_config(), shapes, any::<bool>(), 0u64..1000),
            |(config, (t, n, ci, co, h, w), track_input, seed)| {
                let case = Case {
                    shape: [t, n, ci, h, w],
                    co,
                    seed,
                    track_input,
                };
                check(config, case);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let neuron = NeuronConfig::lif(2.0).init(&Device::flex()).unwrap();
    let case = Case {
        shape: [4, 9, 2, 7, 21],
        co: 5,
        seed: 5,
        track_input: true,
    };
    let on = |threads: usize| common::on_threads(threads, || run(Layer::Fused, &neuron, case));
    assert!(
        on(1) == on(3),
        "fused layer results differ between 1 and 3 threads"
    );
}

#[test]
fn parametric_lif_falls_back_and_trains_its_leak() {
    let device = Device::flex().autodiff();
    let neuron = NeuronConfig::plif(2.0).init(&device).unwrap();
    let x: Tensor<5> = Tensor::from_data(
        TensorData::new(uniform(1, 3 * 2 * 2 * 6 * 6, 0.0, 1.5), [3, 2, 2, 6, 6]),
        &device,
    );
    let weight: Tensor<4> = Tensor::from_data(
        TensorData::new(uniform(2, 4 * 2 * 9, -0.4, 0.6), [4, 2, 3, 3]),
        &device,
    )
    .require_grad();
    let rates = conv3x3_spike_rates(x.clone(), weight.clone(), None, &neuron).unwrap();
    let expected = composed(x, weight, None, &neuron, Implementation::Reference).unwrap();
    assert_eq!(values(rates.clone()), values(expected));
    let grads = rates.sum().backward();
    let grad_w = neuron.w.as_ref().unwrap().val().grad(&grads);
    assert!(
        grad_w.is_some_and(|g| values(g)[0] != 0.0),
        "PLIF's w gets a gradient"
    );
}
