//! The deeper SNN (`[Conv→BN→IF→MaxPool]×k → Linear`): it checks its settings and inputs,
//! and its training steps fit a fixed batch (the loss falls), so every block's gradient
//! flows through BatchNorm, the fused neurons and the poolings.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::uniform;
use snn::model::{DeepSnnConfig, ModelError};
use snn::train::data::Batch;
use snn::train::{OptimizerSpec, TrainConfig, train_step};

fn small() -> DeepSnnConfig {
    DeepSnnConfig {
        channels: vec![4, 8],
        ..DeepSnnConfig::three_blocks(3, (8, 8))
    }
}

#[test]
fn settings_and_inputs_are_checked() {
    let device = Device::flex();
    let odd = DeepSnnConfig::three_blocks(10, (30, 32));
    assert!(matches!(odd.init(0, &device), Err(ModelError::Config(_))));
    assert_eq!(
        DeepSnnConfig::three_blocks(10, (32, 32)).features(),
        128 * 4 * 4
    );
    let net = small().init(0, &device).unwrap();
    let wrong_size = Tensor::zeros([2, 1, 2, 16, 16], &device);
    assert!(matches!(
        net.forward(wrong_size),
        Err(ModelError::InputShape { .. })
    ));
    let scores = net
        .forward(Tensor::zeros([2, 3, 2, 8, 8], &device))
        .unwrap();
    assert_eq!(scores.dims(), [3, 3]);
}

#[test]
fn training_steps_fit_a_fixed_batch() {
    let device = Device::flex().autodiff();
    let mut net = small().init(1, &device).unwrap();
    let config = TrainConfig {
        optimizer: OptimizerSpec::Sgd {
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 0.0,
        },
        ..TrainConfig::default()
    };
    let mut optimizer = config.optimizer.build();
    let shape = [4, 6, 2, 8, 8];
    let frames = uniform(9, shape.iter().product(), 0.0, 2.0);
    let batch = || Batch {
        frames: Tensor::from_data(TensorData::new(frames.clone(), shape), &device),
        labels: (0..6).map(|i| i % 3).collect(),
    };
    let weights = |net: &snn::model::DeepSnn| -> Vec<Vec<f32>> {
        net.blocks
            .iter()
            .map(|block| common::values(block.conv.val()))
            .collect()
    };
    let initial = weights(&net);
    let mut losses = Vec::new();
    for _ in 0..30 {
        let step = train_step(net, &mut optimizer, &config, batch()).unwrap();
        losses.push(step.loss);
        net = step.model;
    }
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(
        last < 0.5 * first,
        "the loss should fall on a fixed batch: {losses:?}"
    );
    for (block, (before, after)) in initial.iter().zip(weights(&net)).enumerate() {
        assert!(
            before != &after,
            "block {block}'s convolution did not train"
        );
    }
}
