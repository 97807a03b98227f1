//! Losses: the seed experiment's MSE against one-hot, cross-entropy, and TET (Deng et al.
//! 2022: cross-entropy at every step, plus an MSE pull of every output towards a constant).

use burn::tensor::activation::log_softmax;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Which loss compares the network's scores with the labels.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// `mean((scores − one_hot(label))²)` over all `N·classes` entries, as SpikingJelly's
    /// examples train (`F.mse_loss(out_fr, F.one_hot(label))`).
    #[default]
    Mse,
    /// `mean_n(−log_softmax(scores)[label])` (`F.cross_entropy`).
    CrossEntropy,
    /// Temporal efficient training, as TET's reference code computes it:
    /// `(1 − λ)·mean_t CE(O_t, y) + λ·mean((O − φ)²)` over the per-step outputs `O_t`.
    Tet {
        /// The weight λ of the MSE term (TET: 1e-3).
        lambda: f64,
        /// The constant φ the outputs are pulled towards (TET: 1).
        phi: f64,
    },
}

impl LossKind {
    /// The mean loss of `scores: [N, classes]` against `labels` (length N), a `[1]` tensor.
    ///
    /// # Panics
    /// If a label is not below `classes` or `labels` is not N long (the callers check labels
    /// against the dataset's classes when they load it).
    ///
    /// TET, given only the mean scores, is its loss on one step.
    pub fn loss(self, scores: Tensor<2>, labels: &[usize]) -> Tensor<1> {
        let [n, classes] = scores.dims();
        assert_eq!(labels.len(), n, "one label per sample");
        let one_hot = one_hot(labels, classes, &scores);
        match self {
            LossKind::Mse => (scores - one_hot).square().mean(),
            LossKind::CrossEntropy => cross_entropy(scores, one_hot),
            LossKind::Tet { .. } => {
                let [n, classes] = scores.dims();
                self.loss_steps(scores.reshape([1, n, classes]), labels)
            }
        }
    }

    /// Whether the loss needs every step's outputs ([`loss_steps`](Self::loss_steps)).
    pub fn needs_steps(self) -> bool {
        matches!(self, LossKind::Tet { .. })
    }

    /// The loss of per-step outputs `[T, N, classes]`: TET's; the others on their mean over
    /// T.
    pub fn loss_steps(self, steps: Tensor<3>, labels: &[usize]) -> Tensor<1> {
        let [t, n, classes] = steps.dims();
        let LossKind::Tet { lambda, phi } = self else {
            return self.loss(steps.mean_dim(0).reshape([n, classes]), labels);
        };
        assert_eq!(labels.len(), n, "one label per sample");
        let flat = steps.clone().reshape([t * n, classes]);
        let repeated: Vec<usize> = (0..t).flat_map(|_| labels.iter().copied()).collect();
        // mean over t of the per-step means over n = the mean over all t·n rows.
        let per_step = cross_entropy(flat.clone(), one_hot(&repeated, classes, &flat));
        let pull = steps.sub_scalar(phi as f32).square().mean();
        per_step
            .mul_scalar((1.0 - lambda) as f32)
            .add(pull.mul_scalar(lambda as f32))
    }
}

/// `mean_n(−Σ log_softmax(scores) · one_hot)`.
fn cross_entropy(scores: Tensor<2>, one_hot: Tensor<2>) -> Tensor<1> {
    let n = scores.dims()[0];
    let picked = (log_softmax(scores, 1) * one_hot).sum();
    picked.neg().div_scalar(n as f32)
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
