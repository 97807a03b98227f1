//! Losses: the seed experiment's MSE against one-hot, cross-entropy, and TET (Deng et al.
//! 2022: cross-entropy at every step, plus an MSE pull of every output towards a constant).

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor, TensorData};
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
        let one_hot = one_hot(labels, classes, &scores.device());
        self.loss_targets(scores, one_hot)
    }

    /// The mean loss of `scores: [N, classes]` against target rows `[N, classes]` that sum
    /// to 1: one-hot labels, or labels mixed by CutMix (`λ·one_hot(a) + (1 − λ)·one_hot(b)`;
    /// for cross-entropy that is `λ·CE(a) + (1 − λ)·CE(b)`, the CutMix criterion).
    pub fn loss_targets(self, scores: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
        match self {
            LossKind::Mse => (scores - targets).square().mean(),
            LossKind::CrossEntropy => cross_entropy(scores, targets),
            LossKind::Tet { .. } => {
                let [n, classes] = scores.dims();
                self.loss_steps_targets(scores.reshape([1, n, classes]), targets)
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
        let [_, n, classes] = steps.dims();
        assert_eq!(labels.len(), n, "one label per sample");
        let one_hot = one_hot(labels, classes, &steps.device());
        self.loss_steps_targets(steps, one_hot)
    }

    /// [`loss_steps`](Self::loss_steps) against target rows `[N, classes]`, as
    /// [`loss_targets`](Self::loss_targets) takes them (TET's cross-entropy at every step
    /// against the same rows).
    pub fn loss_steps_targets(self, steps: Tensor<3>, targets: Tensor<2>) -> Tensor<1> {
        let [t, n, classes] = steps.dims();
        let LossKind::Tet { lambda, phi } = self else {
            return self.loss_targets(steps.mean_dim(0).reshape([n, classes]), targets);
        };
        let flat = steps.clone().reshape([t * n, classes]);
        let repeated = Tensor::cat(vec![targets; t], 0);
        // mean over t of the per-step means over n = the mean over all t·n rows.
        let per_step = cross_entropy(flat, repeated);
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

/// `[N, classes]` one-hot rows of `labels`, on `device`.
fn one_hot(labels: &[usize], classes: usize, device: &Device) -> Tensor<2> {
    let mut values = vec![0.0f32; labels.len() * classes];
    for (row, &label) in labels.iter().enumerate() {
        assert!(
            label < classes,
            "label {label} is not below {classes} classes"
        );
        values[row * classes + label] = 1.0;
    }
    Tensor::from_data(TensorData::new(values, [labels.len(), classes]), device)
}
