//! The fused seed-CNN op (T-sum → conv → ReLU → Linear) against the same network composed
//! of burn ops: scores and the gradients of all four parameters within 1e-5 on random shapes,
//! results independent of the thread count, and differentiable frames left to the
//! composition.

mod common;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_close, uniform, values};
use snn::conv_head::{composed, sum_conv_relu_linear};

/// `[T, N, Ci, h, w]`, `Co`, classes.
#[derive(Debug, Clone, Copy)]
struct Case {
    shape: [usize; 5],
    co: usize,
    classes: usize,
    seed: u64,
}

/// Scores and the gradients of `Σ scores · upstream`: `[scores, conv w, conv b, fc w, fc b]`.
fn run(fused: bool, case: Case) -> [Vec<f32>; 5] {
    let device = Device::flex().autodiff();
    let [t, n, ci, h, w] = case.shape;
    let data = |seed: u64, shape: Vec<usize>, low: f32, high: f32| {
        let len = shape.iter().product();
        TensorData::new(uniform(seed, len, low, high), shape)
    };
    let x: Tensor<5> = Tensor::from_data(data(case.seed, vec![t, n, ci, h, w], 0.0, 1.0), &device);
    let conv_weight: Tensor<4> = Tensor::from_data(
        data(case.seed + 1, vec![case.co, ci, 3, 3], -0.5, 0.5),
        &device,
    )
    .require_grad();
    let conv_bias: Tensor<1> =
        Tensor::from_data(data(case.seed + 2, vec![case.co], -0.2, 0.3), &device).require_grad();
    let features = case.co * h * w;
    let linear = Linear {
        weight: Param::from_data(
            data(case.seed + 3, vec![features, case.classes], -0.3, 0.3),
            &device,
        ),
        bias: Some(Param::from_data(
            data(case.seed + 4, vec![case.classes], -0.1, 0.1),
            &device,
        )),
    };
    let upstream: Tensor<2> = Tensor::from_data(
        data(case.seed + 5, vec![n, case.classes], -1.0, 1.0),
        &device,
    );
    let scores = if fused {
        sum_conv_relu_linear(x, conv_weight.clone(), conv_bias.clone(), &linear)
    } else {
        composed(x, conv_weight.clone(), conv_bias.clone(), &linear)
    };
    let grads = (scores.clone() * upstream).sum().backward();
    [
        values(scores),
        values(conv_weight.grad(&grads).unwrap()),
        values(conv_bias.grad(&grads).unwrap()),
        values(linear.weight.val().grad(&grads).unwrap()),
        values(linear.bias.as_ref().unwrap().val().grad(&grads).unwrap()),
    ]
}

fn check(case: Case) {
    let (fused, reference) = (run(true, case), run(false, case));
    let names = [
        "scores",
        "grad conv weight",
        "grad conv bias",
        "grad fc weight",
        "grad fc bias",
    ];
    for (name, (a, e)) in names.iter().zip(fused.iter().zip(&reference)) {
        assert_close(&format!("{name} {case:?}"), a, e, 1e-5);
    }
}

#[test]
fn seed_shape_equals_the_composition() {
    check(Case {
        shape: [8, 4, 2, 32, 32],
        co: 32,
        classes: 10,
        seed: 3,
    });
}

#[test]
fn random_shapes_equal_the_composition() {
    let mut runner = common::seeded_runner(24, 5);
    let shapes = (
        1usize..5,
        1usize..6,
        1usize..4,
        1usize..6,
        1usize..12,
        1usize..40,
        1usize..12,
    );
    runner
        .run(
            &(shapes, 0u64..1000),
            |((t, n, ci, co, h, w, classes), seed)| {
                check(Case {
                    shape: [t, n, ci, h, w],
                    co,
                    classes,
                    seed,
                });
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let case = Case {
        shape: [3, 11, 2, 9, 13],
        co: 5,
        classes: 4,
        seed: 8,
    };
    let on = |threads: usize| common::on_threads(threads, || run(true, case));
    assert!(
        on(1) == on(3),
        "fused CNN results differ between 1 and 3 threads"
    );
}

#[test]
fn differentiable_frames_use_the_composition() {
    let device = Device::flex().autodiff();
    let x: Tensor<5> = Tensor::from_data(
        TensorData::new(uniform(1, 2 * 2 * 2 * 4 * 4, 0.0, 1.0), [2, 2, 2, 4, 4]),
        &device,
    )
    .require_grad();
    let weight: Tensor<4> = Tensor::from_data(
        TensorData::new(uniform(2, 3 * 2 * 9, -0.5, 0.5), [3, 2, 3, 3]),
        &device,
    );
    let linear = Linear {
        weight: Param::from_data(
            TensorData::new(uniform(3, 48 * 2, -0.3, 0.3), [48, 2]),
            &device,
        ),
        bias: None,
    };
    let scores = sum_conv_relu_linear(x.clone(), weight, Tensor::zeros([3], &device), &linear);
    let grads = scores.sum().backward();
    assert!(x.grad(&grads).is_some(), "the frames get a gradient");
}
