//! The normalisation as a burn backend extension: a [`FusedOp`] (Flex forward and backward
//! kernels), on `Autodiff<Flex>` through [`fused::autodiff`].

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::FlexTensor;
use burn::backend::{
    Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension, tensor::FloatTensor,
};
use burn::tensor::{Shape, Tensor};
use rayon::prelude::*;

use super::kernel;
use crate::flex::{contiguous, dims, f32_slice, flex_tensor};
use crate::fused::{self, FusedOp};

/// The backend extension behind [`batch_norm_train`](super::batch_norm_train).
#[backend_extension(Flex, Autodiff)]
pub trait NormOps: Backend {
    /// `x: [B, C, h, w]` → one flat tensor: the normalised output (`B·C·h·w` values), then
    /// the `C` batch means, then the `C` biased variances.
    fn batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self>;
}

/// Calls the op on high-level tensors.
pub fn batch_norm_train(
    x: Tensor<4>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
) -> Tensor<1> {
    Tensor::from_dispatch(<Dispatch as NormOps>::batch_norm_train(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        epsilon,
    ))
}

/// `[B, C, h·w]` sizes.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    batch: usize,
    channels: usize,
    plane: usize,
}

impl Sizes {
    fn of(x: &FlexTensor) -> Self {
        let d = dims(x);
        Self {
            batch: d[0],
            channels: d[1],
            plane: d[2..].iter().product(),
        }
    }

    fn len(&self) -> usize {
        self.batch * self.channels * self.plane
    }

    /// Values per channel.
    fn count(&self) -> f64 {
        (self.batch * self.plane) as f64
    }

    /// Channel `c`'s pieces of a `[B, C, plane]` buffer, grouped per channel so that channels
    /// can be written from different threads.
    fn per_channel<'a>(&self, data: &'a mut [f32]) -> Vec<Vec<&'a mut [f32]>> {
        let mut channels: Vec<Vec<&mut [f32]>> = (0..self.channels).map(|_| Vec::new()).collect();
        for (index, piece) in data.chunks_exact_mut(self.plane).enumerate() {
            channels[index % self.channels].push(piece);
        }
        channels
    }

    /// Channel `c`'s pieces of a read-only `[B, C, plane]` buffer.
    fn pieces<'a>(&self, data: &'a [f32], c: usize) -> impl Iterator<Item = &'a [f32]> + 'a {
        let (channels, plane) = (self.channels, self.plane);
        (0..self.batch).map(move |b| &data[(b * channels + c) * plane..][..plane])
    }
}

/// Per channel: the mean and biased variance (summed in `f64`), then the output; also
/// returns the statistics in `f64`, for the backward pass (their `f32` roundings would shift
/// every `x − mean` by up to an ulp of the mean, which a channel with a large mean and a
/// small spread turns into a visible error of `Σ dy·x̂`).
fn forward(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    epsilon: f64,
) -> (FlexTensor, Vec<(f64, f64)>) {
    let sizes = Sizes::of(x);
    let (x, gamma, beta) = (contiguous(x), contiguous(gamma), contiguous(beta));
    let (x, gamma, beta) = (f32_slice(&x), f32_slice(&gamma), f32_slice(&beta));
    let mut flat = vec![0.0f32; sizes.len() + 2 * sizes.channels];
    let (out, stats) = flat.split_at_mut(sizes.len());
    let computed: Vec<(f64, f64)> = sizes
        .per_channel(out)
        .into_par_iter()
        .enumerate()
        .map(|(c, mut out)| {
            let pieces: Vec<&[f32]> = sizes.pieces(x, c).collect();
            let (mean, variance) = kernel::statistics(&pieces, sizes.count());
            let scale = (f64::from(gamma[c]) / (variance + epsilon).sqrt()) as f32;
            let shift = beta[c] - mean as f32 * scale;
            kernel::affine(&mut out, &pieces, scale, shift);
            (mean, variance)
        })
        .collect();
    let (means, variances) = stats.split_at_mut(sizes.channels);
    for ((mean, variance), &(m, v)) in means.iter_mut().zip(variances.iter_mut()).zip(&computed) {
        (*mean, *variance) = (m as f32, v as f32);
    }
    let out = flex_tensor(flat, Shape::new([sizes.len() + 2 * sizes.channels]));
    (out, computed)
}

impl NormOps for Flex {
    fn batch_norm_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> FlexTensor {
        forward(&x, &gamma, &beta, epsilon).0
    }
}

/// What the backward pass keeps: the input, γ and the `f64` mean and variance per channel.
#[derive(Debug, Clone)]
struct Saved {
    x: FlexTensor,
    gamma: FlexTensor,
    stats: Vec<(f64, f64)>,
}

/// The op's kernels, for one ε.
#[derive(Debug, Clone, Copy)]
struct BatchNormTrain {
    epsilon: f64,
}

impl FusedOp<3> for BatchNormTrain {
    type Saved = Saved;

    fn forward(
        &self,
        [x, gamma, beta]: [&FlexTensor; 3],
        save: bool,
    ) -> (FlexTensor, Option<Saved>) {
        let (out, stats) = forward(x, gamma, beta, self.epsilon);
        let saved = save.then(|| Saved {
            x: x.clone(),
            gamma: gamma.clone(),
            stats,
        });
        (out, saved)
    }

    fn backward(
        &self,
        saved: Saved,
        grad: FlexTensor,
        [want_x, want_gamma, want_beta]: [bool; 3],
    ) -> [Option<FlexTensor>; 3] {
        let epsilon = self.epsilon;
        let Saved { x, gamma, stats } = saved;
        let sizes = Sizes::of(&x);
        let shape = x.shape();
        let (x, gamma) = (contiguous(&x), contiguous(&gamma));
        let (x, gamma) = (f32_slice(&x), f32_slice(&gamma));
        // Only the output part carries a gradient: the statistics are returned detached.
        let dy = &f32_slice(&grad)[..sizes.len()];
        let mut grad_x = vec![0.0f32; sizes.len()];
        let sums: Vec<(f32, f32)> = sizes
            .per_channel(&mut grad_x)
            .into_par_iter()
            .enumerate()
            .map(|(c, mut grad_x)| {
                let (mean, variance) = stats[c];
                let inv_std = 1.0 / (variance + epsilon).sqrt();
                let (dy, x): (Vec<&[f32]>, Vec<&[f32]>) =
                    (sizes.pieces(dy, c).collect(), sizes.pieces(x, c).collect());
                // Σ dy and Σ dy·x̂, x̂ = (x − mean)/σ.
                let (sum_dy, sum_dy_centred) = kernel::gradient_sums(&dy, &x, mean);
                let sum_dy_xhat = sum_dy_centred * inv_std;
                // dx = γ/σ · (dy − Σdy/M − x̂·Σ(dy·x̂)/M).
                let count = sizes.count();
                let scale = f64::from(gamma[c]) * inv_std;
                let means = (sum_dy / count, sum_dy_xhat / count);
                kernel::input_gradient(
                    &mut grad_x,
                    (&dy, &x),
                    (mean, inv_std),
                    (scale, means.0, means.1),
                );
                (sum_dy_xhat as f32, sum_dy as f32)
            })
            .collect();
        let channels = Shape::new([sizes.channels]);
        let grad_gamma = sums.iter().map(|&(g, _)| g).collect();
        let grad_beta = sums.iter().map(|&(_, b)| b).collect();
        [
            want_x.then(|| flex_tensor(grad_x, shape)),
            want_gamma.then(|| flex_tensor(grad_gamma, channels.clone())),
            want_beta.then(|| flex_tensor(grad_beta, channels)),
        ]
    }
}

impl<C: CheckpointStrategy> NormOps for Autodiff<Flex, C> {
    fn batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        fused::autodiff::<C, _, 3>(BatchNormTrain { epsilon }, [x, gamma, beta])
    }
}
