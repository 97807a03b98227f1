//! The fused training-mode batch normalisation against burn's: output, batch statistics and
//! the gradients of input, γ and β within 1e-5, and the same running statistics in burn's
//! `BatchNorm` module.

mod common;

use burn::module::Param;
use burn::nn::BatchNormConfig;
use burn::tensor::module::batch_norm_train as burn_batch_norm_train;
use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_close, uniform, values};
use snn::norm::{batch_norm_layer, batch_norm_train};

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

#[test]
fn the_layer_keeps_burns_running_statistics() {
    let device = Device::flex().autodiff();
    let (x, ..) = inputs([6, 4, 3, 3], 5);
    let make = || {
        let mut norm = BatchNormConfig::new(4).init(&device);
        norm.gamma = Param::from_data(TensorData::new(vec![1.0, 2.0, 0.5, 1.5], [4]), &device);
        norm
    };
    let (ours, theirs) = (make(), make());
    let out = batch_norm_layer(&ours, x.clone());
    let expected = theirs.forward(x);
    assert_close("output", &values(out), &values(expected), 1e-5);
    for (a, e) in [
        (ours.running_mean.value(), theirs.running_mean.value()),
        (ours.running_var.value(), theirs.running_var.value()),
    ] {
        assert_close("running statistic", &values(a), &values(e), 1e-5);
    }
}
