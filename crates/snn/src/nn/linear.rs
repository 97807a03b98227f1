//! `Linear` over every step: `[T, N, in] → [T, N, out]`.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use super::BuildError;
use super::init::{Init, default_bound};

/// The settings of a Linear layer (the input features come from the input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearConfig {
    /// Output features.
    pub out_features: usize,
    /// Whether there is a bias (default true).
    #[serde(default = "yes")]
    pub bias: bool,
}

fn yes() -> bool {
    true
}

impl LinearConfig {
    /// `out_features` outputs with a bias.
    pub fn new(out_features: usize) -> Self {
        Self {
            out_features,
            bias: true,
        }
    }

    /// burn's `Linear` (weight stored `[in, out]`) with PyTorch's default initialisation:
    /// the weight drawn in PyTorch's `[out, in]` order, then the bias, `U(±1/√in)`.
    pub fn init(&self, in_features: usize, init: &mut Init) -> Result<Linear, BuildError> {
        if self.out_features == 0 || in_features == 0 {
            return Err(BuildError::new(format!(
                "linear needs positive features, got {in_features} → {}",
                self.out_features
            )));
        }
        let out = self.out_features;
        super::conv::checked_product(&[in_features, out])?;
        let bound = default_bound(in_features);
        let drawn = init.uniform_values(out * in_features, bound);
        let mut weight = vec![0.0; drawn.len()];
        for (row, values) in drawn.chunks_exact(in_features).enumerate() {
            for (column, &value) in values.iter().enumerate() {
                weight[column * out + row] = value;
            }
        }
        Ok(Linear {
            weight: Param::from_data(TensorData::new(weight, [in_features, out]), init.device()),
            bias: self.bias.then(|| init.uniform([out], bound)),
        })
    }
}
