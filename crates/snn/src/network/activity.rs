//! How active a layer was on a forward pass: spikes of a neuron layer, or non-zero outputs
//! of a ReLU. Nothing is computed until asked, so a training step does not pay for it.

use burn::tensor::Tensor;

use crate::nn::Signal;

/// A spiking (or ReLU) layer's outputs on one forward pass.
#[derive(Debug, Clone)]
pub struct LayerActivity {
    /// The layer's name.
    pub name: String,
    /// The outputs, flattened and detached.
    outputs: Tensor<1>,
    /// Output values per recorded value: T where the pass recorded spike counts over T
    /// (rates · T, after a fused mean over time), else 1.
    steps_per_value: usize,
}

impl LayerActivity {
    /// The activity of `signal`, recorded on a pass over `steps` steps: per-step outputs, or
    /// (one step) spike counts over all `steps`.
    pub fn of(name: String, signal: &Signal, steps: usize) -> Self {
        let (recorded_steps, _) = signal.steps_and_samples();
        let flat = signal.flat_steps();
        let len = flat.shape().num_elements();
        Self {
            name,
            outputs: flat.reshape([len]),
            steps_per_value: if recorded_steps == steps { 1 } else { steps },
        }
    }

    /// Active outputs: spikes, or ReLU outputs that are not zero.
    pub fn active(&self) -> f64 {
        let outputs = self.outputs.clone();
        if self.steps_per_value == 1 {
            return f64::from(outputs.greater_elem(0.0).float().sum().into_scalar::<f32>());
        }
        // Spike counts are small integers: exact in f32, summed exactly in f64.
        let counts = outputs.into_data().try_to_vec::<f32>().unwrap_or_default();
        counts.iter().map(|&c| f64::from(c)).sum::<f64>().round()
    }

    /// Outputs in all (neuron-steps for spiking layers).
    pub fn len(&self) -> usize {
        self.outputs.shape().num_elements() * self.steps_per_value
    }

    /// Whether the layer had no outputs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The fraction of outputs that were active.
    pub fn rate(&self) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            self.active() / self.len() as f64
        }
    }
}
