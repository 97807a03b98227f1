//! Benchmark workloads, shared by `cargo bench` and `spikeforge bench` so that both time
//! exactly the same thing.

use burn::tensor::{Device, Distribution, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::models;
use crate::network::NetworkConfig;
use crate::nn::{
    BatchNorm2dConfig, Conv2dConfig, LayerConfig, LinearConfig, NeuronSpec, PoolConfig,
};
use crate::train::data::Batch;
use crate::{Implementation, NeuronConfig, NeuronError, SpikingNeuron};

/// The input of one multi-step neuron layer of the seed SNN at batch 32:
/// `[T=8, N=32, C=32, 32, 32]`.
pub const SEED_LAYER_SHAPE: [usize; 5] = [8, 32, 32, 32, 32];

/// The neuron layers benchmarked: SpikingJelly's `IFNode()` and `LIFNode(tau=2)`.
pub fn seed_neurons() -> [(&'static str, NeuronConfig); 2] {
    [
        ("IF", NeuronConfig::if_node()),
        ("LIF", NeuronConfig::lif(2.0)),
    ]
}

/// A layer input of about a fifth firing neurons, and a dense upstream gradient, on
/// `device` (seeded, so every run times the same numbers).
pub fn layer_inputs(shape: [usize; 5], device: &Device) -> (Tensor<5>, Tensor<5>) {
    device.seed(0);
    let x = Tensor::random(shape, Distribution::Normal(0.3, 0.5), device).detach();
    let upstream = Tensor::random(shape, Distribution::Normal(0.0, 1.0), device).detach();
    (x, upstream)
}

/// One training step of a neuron layer: forward, the loss `Σ spikes · upstream` (so that a
/// dense gradient arrives, as from the next layer), backward to the input. Returns the first
/// input gradient, so that nothing can be optimised away.
pub fn layer_training_step(
    neuron: &SpikingNeuron,
    x: &Tensor<5>,
    upstream: &Tensor<5>,
    implementation: Implementation,
) -> Result<f32, NeuronError> {
    let x = x.clone().require_grad();
    let spikes = neuron.forward_with(x.clone(), implementation)?;
    let grads = (spikes * upstream.clone()).sum().backward();
    let grad = x.grad(&grads).expect("the input is tracked");
    Ok(grad
        .narrow(0, 0, 1)
        .into_data()
        .iter::<f32>()
        .next()
        .unwrap_or(0.0))
}

/// The seed experiment's training batch, time first: `[T=8, B=32, 2, 32, 32]`.
pub const SEED_BATCH_SHAPE: [usize; 5] = [8, 32, 2, 32, 32];

/// A batch of `shape` (`[T, N, C, h, w]`) on `device`: frames uniform in `[0, 1)` (the range
/// of area-averaged event counts) and labels `i mod 10`, seeded so that every run times the
/// same numbers.
pub fn uniform_batch(shape: [usize; 5], device: &Device) -> Batch {
    device.seed(0);
    let frames = Tensor::random(shape, Distribution::Uniform(0.0, 1.0), device);
    Batch {
        frames,
        labels: (0..shape[1]).map(|i| i % 10).collect(),
    }
}

/// The seed SNN (`IFNode()`, C = 32) and CNN (T-mean input) for 10 classes.
pub fn seed_nets() -> [(&'static str, NetworkConfig); 2] {
    let preset = |name| {
        models::preset(name)
            .expect("a preset")
            .resolve(10, &Default::default())
            .expect("the preset resolves")
    };
    [("SNN", preset("seed-snn")), ("CNN", preset("seed-cnn"))]
}

/// The deep benchmark SNN: `[conv 3×3 (no bias) → BN → IF → max pool 2] × 3` with 64, 128
/// and 128 channels, then flatten → linear to 10 classes.
pub fn deep_snn() -> NetworkConfig {
    let mut layers = Vec::new();
    for channels in [64, 128, 128] {
        layers.extend([
            LayerConfig::Conv2d(Conv2dConfig::same3x3(channels).without_bias()),
            LayerConfig::BatchNorm2d(BatchNorm2dConfig::default()),
            LayerConfig::Neuron(NeuronSpec::default()),
            LayerConfig::MaxPool2d(PoolConfig::new(2)),
        ]);
    }
    layers.extend([
        LayerConfig::Flatten,
        LayerConfig::Linear(LinearConfig::new(10)),
    ]);
    NetworkConfig::sequential("deep-snn", "layers", layers)
}

/// Seed-shaped binary event frames (`SEED_BATCH_SHAPE`): each pixel of each frame holds one
/// event with probability `density`, else none; seeded ChaCha8.
pub fn event_frames(density: f64, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..SEED_BATCH_SHAPE.iter().product::<usize>())
        .map(|_| if rng.random_bool(density) { 1.0 } else { 0.0 })
        .collect()
}
