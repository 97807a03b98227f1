//! The fused training-mode batch normalisation against burn's: output, batch statistics and
//! the gradients of input, γ and β within 1e-5; and the multi-step `BatchNorm2d` block's
//! running statistics (PyTorch's rule) and inference mode.

mod common;

use burn::module::Module;
use burn::tensor::module::batch_norm_train as burn_batch_norm_train;
use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_close, uniform, values};
use snn::nn::{BatchNorm2dConfig, Implementation, Init};
use snn::norm::batch_norm_train;

fn inputs(shape: [usize; 4], seed: u64) -> (Tensor<4>, Tensor<1>, Tensor<1>, Tensor<4>) {
    let device = Device::flex().autodiff();
    let data = |seed: u64, shape: Vec<usize>, low: f32, high: f32| {
        let len = shape.iter().product();
        TensorData::new(uniform(seed, len, low, high), shape)
    };
    let c = shape[1];
    (
        Tensor::from_data(data(seed, shape.to_vec(), -1.0, 3.0), &device).require_grad(),
        Tensor::from_data(data(seed + 1, vec![c], 0.5, 1.5), &device).require_grad(),
        Tensor::from_data(data(seed + 2, vec![c], -0.5, 0.5), &device).require_grad(),
        Tensor::from_data(data(seed + 3, shape.to_vec(), -1.0, 1.0), &device),
    )
}

#[test]
fn output_statistics_and_gradients_match_burn() {
    for (seed, shape) in [[4, 3, 5, 7], [16, 8, 4, 4], [1, 2, 3, 1]]
        .into_iter()
        .enumerate()
    {
        let run = |fused: bool| {
            let (x, gamma, beta, upstream) = inputs(shape, seed as u64 * 10);
            let (out, mean, var) = if fused {
                batch_norm_train(x.clone(), gamma.clone(), beta.clone(), 1e-5)
            } else {
                let r = burn_batch_norm_train(x.clone(), gamma.clone(), beta.clone(), 1e-5);
                (r.output, r.mean, r.variance)
            };
            let grads = (out.clone() * upstream).sum().backward();
            [
                values(out),
                values(mean),
                values(var),
                values(x.grad(&grads).unwrap()),
                values(gamma.grad(&grads).unwrap()),
                values(beta.grad(&grads).unwrap()),
            ]
        };
        let (fused, reference) = (run(true), run(false));
        let names = [
            "output",
            "mean",
            "variance",
            "grad x",
            "grad gamma",
            "grad beta",
        ];
        for (name, (a, e)) in names.iter().zip(fused.iter().zip(&reference)) {
            assert_close(&format!("{name} {shape:?}"), a, e, 1e-5);
        }
    }
}

/// The multi-step block normalises `[T, N, C, H, W]` over T·N·H·W as burn's op does on the
/// `[T·N, C, H, W]` frames, and updates its running statistics as PyTorch does: the mean, and
/// the unbiased variance (`n/(n − 1)` times the biased one normalising the batch).
#[test]
fn the_block_keeps_pytorchs_running_statistics() {
    let device = Device::flex().autodiff();
    let (x, ..) = inputs([6, 4, 3, 3], 5);
    let norm = BatchNorm2dConfig::default()
        .init(4, &Init::new(0, &device))
        .unwrap();
    let out = norm.forward(x.clone().reshape([2, 3, 4, 3, 3]), Implementation::Fused);
    let (expected, mean, variance) = batch_norm_train(
        x.clone(),
        Tensor::ones([4], &device),
        Tensor::zeros([4], &device),
        1e-5,
    );
    assert_close("output", &values(out), &values(expected), 1e-5);
    let n = (6 * 3 * 3) as f32;
    let expected_mean: Vec<f32> = values(mean).iter().map(|m| 0.1 * m).collect();
    let expected_var: Vec<f32> = values(variance)
        .iter()
        .map(|v| 0.9 + 0.1 * v * n / (n - 1.0))
        .collect();
    assert_close(
        "running mean",
        &values(norm.running_mean.value_sync()),
        &expected_mean,
        1e-5,
    );
    assert_close(
        "running var",
        &values(norm.running_var.value_sync()),
        &expected_var,
        1e-5,
    );
    // In inference (no autodiff device) the running statistics normalise.
    let inference = norm.valid();
    let y = inference.forward(
        x.clone().inner().reshape([2, 3, 4, 3, 3]),
        Implementation::Fused,
    );
    let xs = values(x.clone());
    let (rm, rv) = (
        values(inference.running_mean.value_sync()),
        values(inference.running_var.value_sync()),
    );
    let normalised: Vec<f32> = xs
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let c = (i / 9) % 4;
            (v - rm[c]) / (rv[c] + 1e-5).sqrt()
        })
        .collect();
    assert_close("inference output", &values(y), &normalised, 1e-5);
}
