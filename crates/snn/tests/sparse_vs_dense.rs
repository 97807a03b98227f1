//! Event-driven inference against the dense forward pass: with parameters and inputs on a
//! coarse binary grid every sum is exact in `f32`, whatever its order, so scores and spike
//! counts must be identical; networks of another shape and malformed frames are refused.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{on_grid, uniform, values};
use snn::network::{Network, NetworkConfig};
use snn::nn::NeuronSpec;
use snn::sparse::{SparseError, SparseSeedSnn};

const SHAPE: [usize; 5] = [4, 5, 2, 6, 7];

/// Event counts: ~80 % zero, else 1, 2 or 0.5.
fn event_frames(seed: u64) -> Vec<f32> {
    uniform(seed, SHAPE.iter().product(), 0.0, 1.0)
        .into_iter()
        .map(|u| match u {
            u if u < 0.8 => 0.0,
            u if u < 0.9 => 1.0,
            u if u < 0.95 => 2.0,
            _ => 0.5,
        })
        .collect()
}

/// A preset at `width` channels for `classes` classes.
fn preset_sized(name: &str, classes: usize, width: usize) -> NetworkConfig {
    let width = [("width".to_string(), width)].into_iter().collect();
    snn::models::preset(name)
        .unwrap()
        .resolve(classes, &width)
        .unwrap()
}

/// A preset at width 4 for 3 classes.
fn preset(name: &str) -> NetworkConfig {
    preset_sized(name, 3, 4)
}

fn net_on_grid(neuron: NeuronSpec, seed: u64, classes: usize, width: usize) -> Network {
    let device = Device::flex();
    let config = preset_sized("seed-snn", classes, width)
        .with_neurons(&neuron)
        .unwrap();
    let net = config
        .init([2, SHAPE[3], SHAPE[4]], classes, seed, &device)
        .unwrap();
    on_grid(net, seed)
}

fn check(neuron: NeuronSpec, seed: u64) {
    check_sized(neuron, seed, 3, 4);
}

/// Event-driven = dense for a seed SNN of `width` channels and `classes` classes.
fn check_sized(neuron: NeuronSpec, seed: u64, classes: usize, width: usize) {
    let net = net_on_grid(neuron, seed, classes, width);
    let frames = event_frames(seed + 10);
    let input: Tensor<5> =
        Tensor::from_data(TensorData::new(frames.clone(), SHAPE), &Device::flex());
    let (dense, activity) = net.forward_with_activity(input).unwrap();
    let sparse = SparseSeedSnn::new(&net)
        .unwrap()
        .forward(&frames, SHAPE[0], SHAPE[1])
        .unwrap();
    assert_eq!(sparse.scores, values(dense), "scores for {neuron:?}");
    let [hidden] = &activity[..] else {
        panic!("one spiking layer")
    };
    assert_eq!(
        sparse.spikes as f64,
        hidden.active(),
        "spikes for {neuron:?}"
    );
    assert!(sparse.spikes > 0, "the test should make the layer fire");
    assert_eq!(sparse.neuron_steps as usize, hidden.len());
    let events = frames.iter().filter(|&&v| v != 0.0).count() as u64;
    assert_eq!(
        (sparse.input_events, sparse.input_values),
        (events, frames.len() as u64)
    );
}

/// IF neurons take the path that scatters events straight into the potentials: hard
/// reset to 0 and to another value, and soft reset.
#[test]
fn if_neurons_match_the_dense_pass_exactly() {
    let resets = [(None, None), (Some(-0.25), None), (None, Some(true))];
    for (seed, (v_reset, soft_reset)) in [1, 2, 3].into_iter().zip(resets) {
        check(
            NeuronSpec {
                v_threshold: Some(0.5),
                v_reset,
                soft_reset,
                ..NeuronSpec::default()
            },
            seed,
        );
    }
}

/// At 32 channels every row of neurons is whole groups of 32 (the vector path and its
/// compare masks); up to 16 classes the scores are summed in registers, beyond that in
/// memory.
#[test]
fn seed_width_networks_match_the_dense_pass_exactly() {
    for (classes, seed) in [(10, 5), (20, 6)] {
        let neuron = NeuronSpec {
            v_threshold: Some(0.5),
            ..NeuronSpec::default()
        };
        check_sized(neuron, seed, classes, 32);
    }
}

#[test]
fn lif_neurons_match_the_dense_pass_exactly() {
    check(
        NeuronSpec {
            model: Some(snn::nn::ModelName::Lif),
            tau: Some(2.0),
            v_threshold: Some(0.25),
            ..NeuronSpec::default()
        },
        4,
    );
}

#[test]
fn other_networks_and_malformed_frames_are_refused() {
    let device = Device::flex();
    let cnn = preset("seed-cnn").init([2, 6, 7], 3, 0, &device).unwrap();
    assert!(matches!(
        SparseSeedSnn::new(&cnn),
        Err(SparseError::Unsupported(_))
    ));
    let plif = preset("seed-snn")
        .with_neurons(&NeuronSpec {
            model: Some(snn::nn::ModelName::Plif),
            ..NeuronSpec::default()
        })
        .unwrap()
        .init([2, 6, 7], 3, 0, &device)
        .unwrap();
    assert!(matches!(
        SparseSeedSnn::new(&plif),
        Err(SparseError::Unsupported(_))
    ));
    let snn = net_on_grid(NeuronSpec::default(), 1, 3, 4);
    let engine = SparseSeedSnn::new(&snn).unwrap();
    assert!(matches!(
        engine.forward(&[0.0; 10], 4, 5),
        Err(SparseError::FrameLength {
            expected: 1680,
            found: 10,
            ..
        })
    ));
}
