//! How active a layer was on a forward pass: spikes of a neuron layer, or non-zero outputs
//! of a ReLU. Nothing is computed until asked, so a training step does not pay for it.

use burn::tensor::Tensor;

use crate::nn::Recorded;

/// A spiking (or ReLU) layer's outputs on one forward pass.
#[derive(Debug, Clone)]
pub struct LayerActivity {
    /// The layer's name.
    pub name: String,
    /// The outputs, flattened and detached.
    outputs: Tensor<1>,
    /// Spike counts over this many steps per recorded value (a fused pass averaged over
    /// time), or `None`: one output per value.
    counts_over: Option<usize>,
}

impl LayerActivity {
    /// The activity of a layer's recorded outputs.
    pub fn of(recorded: Recorded) -> Self {
        let flat = recorded.signal.flat_steps();
        let len = flat.shape().num_elements();
        Self {
            name: recorded.name,
            outputs: flat.reshape([len]),
            counts_over: recorded.counts_over,
        }
    }

    /// Active outputs: spikes, or ReLU outputs that are not zero.
    pub fn active(&self) -> f64 {
        let outputs = self.outputs.clone();
        if self.counts_over.is_none() {
            return f64::from(outputs.greater_elem(0.0).float().sum().into_scalar::<f32>());
        }
        // Spike counts are small integers: exact in f32, summed exactly in f64.
        let counts = outputs.into_data().try_to_vec::<f32>().unwrap_or_default();
        counts.iter().map(|&c| f64::from(c)).sum::<f64>().round()
    }

    /// Outputs in all (neuron-steps for spiking layers).
    pub fn len(&self) -> usize {
        self.outputs.shape().num_elements() * self.counts_over.unwrap_or(1)
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
