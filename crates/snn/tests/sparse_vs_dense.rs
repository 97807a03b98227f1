//! Event-driven inference against the dense forward pass: with parameters and inputs on a
//! coarse binary grid every sum is exact in `f32`, whatever its order, so scores and spike
//! counts must be identical; CNNs and malformed frames are refused.

mod common;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use common::{uniform, values};
use snn::NeuronConfig;
use snn::model::{NetKind, SeedNet, SeedNetConfig};
use snn::sparse::{SparseError, SparseSeedSnn};

const SHAPE: [usize; 5] = [4, 5, 2, 6, 7];

/// `len` values, multiples of 1/8 in [−1, 1].
fn eighths(seed: u64, len: usize) -> Vec<f32> {
    uniform(seed, len, -8.0, 9.0)
        .into_iter()
        .map(|v| v.floor() / 8.0)
        .collect()
}

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

fn net_on_grid(neuron: NeuronConfig, seed: u64) -> SeedNet {
    let device = Device::flex();
    let config = SeedNetConfig {
        channels: 4,
        neuron,
        ..SeedNetConfig::seed(NetKind::Snn, 3, (SHAPE[3], SHAPE[4]))
    };
    let mut net = config.init(seed, &device).unwrap();
    let param = |seed: u64, shape: Vec<usize>| {
        let len = shape.iter().product();
        TensorData::new(eighths(seed, len), shape)
    };
    net.conv.weight = Param::from_data(param(seed, vec![4, 2, 3, 3]), &device);
    net.conv.bias = Some(Param::from_data(param(seed + 1, vec![4]), &device));
    net.fc.weight = Param::from_data(param(seed + 2, vec![config.features(), 3]), &device);
    net.fc.bias = Some(Param::from_data(param(seed + 3, vec![3]), &device));
    net
}

fn check(neuron: NeuronConfig, seed: u64) {
    let net = net_on_grid(neuron, seed);
    let frames = event_frames(seed + 10);
    let input: Tensor<5> =
        Tensor::from_data(TensorData::new(frames.clone(), SHAPE), &Device::flex());
    let (dense, activity) = net.forward_with_activity(input).unwrap();
    let sparse = SparseSeedSnn::new(&net)
        .unwrap()
        .forward(&frames, SHAPE[0], SHAPE[1])
        .unwrap();
    assert_eq!(sparse.scores, values(dense), "scores for {neuron:?}");
    assert_eq!(
        sparse.spikes as f64,
        activity.active(),
        "spikes for {neuron:?}"
    );
    assert!(sparse.spikes > 0, "the test should make the layer fire");
    assert_eq!(sparse.neuron_steps as usize, activity.len());
    let events = frames.iter().filter(|&&v| v != 0.0).count() as u64;
    assert_eq!(
        (sparse.input_events, sparse.input_values),
        (events, frames.len() as u64)
    );
}

#[test]
fn if_neurons_match_the_dense_pass_exactly() {
    for seed in [1, 2, 3] {
        check(NeuronConfig::if_node().with_threshold(0.5), seed);
    }
}

#[test]
fn lif_neurons_match_the_dense_pass_exactly() {
    check(NeuronConfig::lif(2.0).with_threshold(0.25), 4);
}

#[test]
fn cnns_and_malformed_frames_are_refused() {
    let device = Device::flex();
    let cnn = SeedNetConfig::seed(NetKind::Cnn, 3, (6, 7))
        .init(0, &device)
        .unwrap();
    assert!(matches!(
        SparseSeedSnn::new(&cnn),
        Err(SparseError::Unsupported(_))
    ));
    let snn = net_on_grid(NeuronConfig::if_node(), 1);
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
