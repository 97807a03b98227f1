//! Losses: the seed experiment's MSE against one-hot, and cross-entropy.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Which loss compares the network's scores with the labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// `mean((scores − one_hot(label))²)` over all `N·classes` entries, as SpikingJelly's
    /// examples train (`F.mse_loss(out_fr, F.one_hot(label))`).
    #[default]
    Mse,
    /// `mean_n(−log_softmax(scores)[label])` (`F.cross_entropy`).
    CrossEntropy,
}

impl LossKind {
    /// The mean loss of `scores: [N, classes]` against `labels` (length N), a `[1]` tensor.
    ///
    /// # Panics
    /// If a label is not below `classes` or `labels` is not N long (the callers check labels
    /// against the dataset's classes when they load it).
    pub fn loss(self, scores: Tensor<2>, labels: &[usize]) -> Tensor<1> {
        let [n, classes] = scores.dims();
        assert_eq!(labels.len(), n, "one label per sample");
        let one_hot = one_hot(labels, classes, &scores);
        match self {
            LossKind::Mse => (scores - one_hot).square().mean(),
            LossKind::CrossEntropy => {
                let picked = (log_softmax(scores, 1) * one_hot).sum();
                picked.neg().div_scalar(n as f32)
            }
        }
    }
}

/// `[N, classes]` one-hot rows of `labels`, on the device of `like`.
fn one_hot(labels: &[usize], classes: usize, like: &Tensor<2>) -> Tensor<2> {
    let mut values = vec![0.0f32; labels.len() * classes];
    for (row, &label) in labels.iter().enumerate() {
        assert!(
            label < classes,
            "label {label} is not below {classes} classes"
        );
        values[row * classes + label] = 1.0;
    }
    Tensor::from_data(
        TensorData::new(values, [labels.len(), classes]),
        &like.device(),
    )
}
