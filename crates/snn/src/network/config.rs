//! A network's description: its layers in order, each with a name, and how its outputs
//! become class scores. What a network file gives, what run records keep, and what
//! [`NetworkConfig::init`] builds a [`Network`](super::Network) from.

use serde::{Deserialize, Serialize};

use crate::nn::{LayerConfig, NeuronSpec, SignalShape};

/// How the outputs of the T steps become the prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Readout {
    /// The mean over T of the last layer's outputs (SpikingJelly's `out.mean(0)`).
    #[default]
    Mean,
    /// Every step's output is kept (for the TET loss); the prediction is still their mean.
    PerStep,
}

/// One layer and its name (PyTorch's state-dict prefix, e.g. `conv_fc.0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedLayer {
    /// The layer's name, unique in the network.
    pub name: String,
    /// Its settings.
    #[serde(flatten)]
    pub layer: LayerConfig,
}

/// A network: layers in order and a readout. Neuron layers hold their full settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// A short name (`nmnist-net`, `my-net`).
    pub name: String,
    /// The per-step input `[C, H, W]` it is meant for (informative; a network is built for
    /// the data's shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<[usize; 3]>,
    /// How the T outputs become the prediction.
    #[serde(default)]
    pub readout: Readout,
    /// The layers.
    pub layers: Vec<NamedLayer>,
}

impl NetworkConfig {
    /// A network named `name` of `layers` named by their index (`prefix.i`, or `i` when
    /// `prefix` is empty), mean readout.
    pub fn sequential(name: &str, prefix: &str, layers: Vec<LayerConfig>) -> Self {
        let layers = layers
            .into_iter()
            .enumerate()
            .map(|(i, layer)| NamedLayer {
                name: if prefix.is_empty() {
                    i.to_string()
                } else {
                    format!("{prefix}.{i}")
                },
                layer,
            })
            .collect();
        Self {
            name: name.to_string(),
            input: None,
            readout: Readout::Mean,
            layers,
        }
    }

    /// With the input shape it is meant for.
    pub fn with_input(mut self, input: [usize; 3]) -> Self {
        self.input = Some(input);
        self
    }

    /// Every neuron layer's settings overridden by `spec` ([`NeuronSpec::overriding`]: the
    /// CLI's options); an adaptive LIF layer takes the settings it shares (`tau`,
    /// `v_threshold`, `v_reset`, `detach_reset`, `surrogate`, `alpha`). Fails, naming the
    /// layer, where an override does not apply (a model, `decay_input` or a soft reset for
    /// an adaptive LIF).
    pub fn with_neurons(mut self, spec: &NeuronSpec) -> Result<Self, String> {
        for layer in &mut self.layers {
            match &mut layer.layer {
                LayerConfig::Neuron(neuron) => *neuron = spec.overriding(neuron),
                LayerConfig::SewBlock(block) => block.neuron = spec.overriding(&block.neuron),
                LayerConfig::AdaptiveLif(adaptive) => {
                    if spec.model.is_some()
                        || spec.decay_input.is_some()
                        || spec.soft_reset == Some(true)
                    {
                        return Err(format!(
                            "layer {} is an adaptive LIF: the neuron model, decay_input and \
                             soft_reset do not apply to it",
                            layer.name
                        ));
                    }
                    adaptive.tau = spec.tau.unwrap_or(adaptive.tau);
                    adaptive.v_threshold = spec.v_threshold.unwrap_or(adaptive.v_threshold);
                    adaptive.v_reset = spec.v_reset.unwrap_or(adaptive.v_reset);
                    adaptive.detach_reset = spec.detach_reset.unwrap_or(adaptive.detach_reset);
                    if let Some(surrogate) = spec.surrogate {
                        (adaptive.surrogate, adaptive.alpha) = (surrogate, None);
                    }
                    adaptive.alpha = spec.alpha.or(adaptive.alpha);
                }
                _ => {}
            }
        }
        Ok(self)
    }

    /// Whether any layer spikes.
    pub fn is_spiking(&self) -> bool {
        self.layers.iter().any(|layer| layer.layer.is_spiking())
    }

    /// The per-step input shape `[C, H, W]` as a signal shape.
    pub fn input_shape(input: [usize; 3]) -> SignalShape {
        SignalShape::Maps {
            channels: input[0],
            height: input[1],
            width: input[2],
        }
    }
}
