//! The fused 2×2 poolings: equal to burn's `max_pool2d` and `avg_pool2d` bit for bit on
//! random values (forward and gradient, odd sizes floored), and PyTorch's rule on ties and
//! NaN in max pooling: the first maximum in row-major order wins and takes the gradient; a
//! NaN wins.

mod common;

use burn::nn::pool::MaxPool2dConfig;
use burn::tensor::module::avg_pool2d;
use burn::tensor::ops::AvgPoolOptions;
use burn::tensor::{Device, Tensor, TensorData};
use common::{uniform, values};
use snn::pool::{avg_pool2x2, max_pool2x2};

/// A pooling of `[N, C, h, w]`.
type Pool = fn(Tensor<4>) -> Tensor<4>;

fn burn_max_pool(x: Tensor<4>) -> Tensor<4> {
    MaxPool2dConfig::new([2, 2])
        .with_strides([2, 2])
        .init()
        .forward(x)
}

fn burn_avg_pool(x: Tensor<4>) -> Tensor<4> {
    avg_pool2d(x, AvgPoolOptions::new([2, 2]).with_stride([2, 2]))
}

fn pooled_and_grad(x: Vec<f32>, shape: [usize; 4], pool: Pool) -> (Vec<f32>, Vec<f32>) {
    let device = Device::flex().autodiff();
    let x: Tensor<4> = Tensor::from_data(TensorData::new(x, shape), &device).require_grad();
    let out = pool(x.clone());
    let [n, c, h, w] = out.dims();
    let upstream: Tensor<4> = Tensor::from_data(
        TensorData::new(uniform(9, n * c * h * w, -1.0, 1.0), [n, c, h, w]),
        &device,
    );
    let grads = (out.clone() * upstream).sum().backward();
    (values(out), values(x.grad(&grads).unwrap()))
}

#[test]
fn random_values_match_burn() {
    let cases: [(&str, Pool, Pool); 2] = [
        ("max", max_pool2x2, burn_max_pool),
        ("average", avg_pool2x2, burn_avg_pool),
    ];
    for (name, fused, reference) in cases {
        for (seed, shape) in [[3, 4, 8, 8], [2, 3, 7, 9], [1, 1, 1, 5], [5, 2, 16, 32]]
            .into_iter()
            .enumerate()
        {
            let x = uniform(seed as u64, shape.iter().product(), -2.0, 2.0);
            // Binary spikes too: ties in most windows, each of the 16 patterns many times.
            let spikes = x.iter().map(|&v| f32::from(u8::from(v > 0.0))).collect();
            for x in [x, spikes] {
                assert_eq!(
                    pooled_and_grad(x.clone(), shape, fused),
                    pooled_and_grad(x, shape, reference),
                    "{name} pooling, shape {shape:?}"
                );
            }
        }
    }
}

#[test]
fn ties_go_to_the_first_maximum_and_nan_wins() {
    // One 2×4 plane, two windows: binary spikes with a tie (positions 1 and 2 of the first
    // window, row-major: top-right and bottom-left), and a NaN in the second.
    let x = vec![0.0, 1.0, 5.0, 2.0, 1.0, 0.0, f32::NAN, 3.0];
    let device = Device::flex().autodiff();
    let x: Tensor<4> = Tensor::from_data(TensorData::new(x, [1, 1, 2, 4]), &device).require_grad();
    let out = max_pool2x2(x.clone());
    let pooled = values(out.clone());
    assert_eq!(pooled[0], 1.0);
    assert!(pooled[1].is_nan());
    let grads = (out * Tensor::from_floats([[[[10.0, 20.0]]]], &device))
        .sum()
        .backward();
    assert_eq!(
        values(x.grad(&grads).unwrap()),
        vec![0.0, 10.0, 0.0, 0.0, 0.0, 0.0, 20.0, 0.0]
    );
}
