//! The fused 3×3 convolution against burn's `conv2d`: forward and the gradients of input,
//! weight and bias, on random shapes — through its direct kernels (up to
//! `DIRECT_MAX_INPUT_CHANNELS` input channels) and its im2col + gemm kernels (beyond).

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_close, uniform, values};
use proptest::prelude::*;
use snn::conv::{ConvImplementation, conv3x3_with};

/// Forward and all gradients of one implementation for `loss = Σ out · upstream`.
fn run(
    implementation: ConvImplementation,
    [n, ci, co, h, w]: [usize; 5],
    seed: u64,
    track_input: bool,
) -> [Vec<f32>; 4] {
    let device = Device::flex().autodiff();
    let tensor = |seed: u64, shape: [usize; 4], low: f32, high: f32| -> Tensor<4> {
        let len = shape.iter().product();
        Tensor::from_data(
            TensorData::new(uniform(seed, len, low, high), shape),
            &device,
        )
    };
    let mut x = tensor(seed, [n, ci, h, w], 0.0, 1.0);
    if track_input {
        x = x.require_grad();
    }
    let weight = tensor(seed + 1, [co, ci, 3, 3], -0.5, 0.5).require_grad();
    let bias: Tensor<1> = tensor(seed + 2, [1, 1, 1, co], -0.5, 0.5)
        .reshape([co])
        .detach()
        .require_grad();
    let upstream = tensor(seed + 3, [n, co, h, w], -1.0, 1.0);
    let out = conv3x3_with(
        x.clone(),
        weight.clone(),
        Some(bias.clone()),
        implementation,
    );
    let grads = (out.clone() * upstream).sum().backward();
    let grad_x = if track_input {
        values(x.grad(&grads).unwrap())
    } else {
        assert!(x.grad(&grads).is_none());
        Vec::new()
    };
    [
        values(out),
        grad_x,
        values(weight.grad(&grads).unwrap()),
        values(bias.grad(&grads).unwrap()),
    ]
}

fn check(shape: [usize; 5], seed: u64, track_input: bool) {
    let fused = run(ConvImplementation::Fused, shape, seed, track_input);
    let reference = run(ConvImplementation::Reference, shape, seed, track_input);
    for (name, (a, e)) in ["output", "grad x", "grad weight", "grad bias"]
        .iter()
        .zip(fused.iter().zip(&reference))
    {
        assert_close(&format!("{name} {shape:?}"), a, e, 1e-5);
    }
}

#[test]
fn seed_layer_shape_matches_burn() {
    check([8, 2, 32, 32, 32], 1, false);
}

#[test]
fn deep_layer_shapes_match_burn() {
    // The deep SNN's second and third layers (fewer frames); 20 frames of 8×8 are one full
    // block of 16 and a partial one.
    check([3, 64, 128, 16, 16], 2, true);
    check([20, 128, 16, 8, 8], 3, true);
}

#[test]
fn random_shapes_match_burn() {
    let mut runner = common::seeded_runner(24, 7);
    let shapes = (
        1usize..24,
        1usize..24,
        1usize..9,
        1usize..20,
        1usize..40,
        any::<bool>(),
    );
    runner
        .run(&shapes, |(n, ci, co, h, w, track_input)| {
            check(
                [n, ci, co, h, w],
                (n * 1000 + ci * 100 + co) as u64,
                track_input,
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    for shape in [[37, 3, 5, 9, 11], [37, 20, 5, 9, 11]] {
        let on = |threads: usize| {
            common::on_threads(threads, || run(ConvImplementation::Fused, shape, 5, true))
        };
        assert!(
            on(1) == on(3),
            "fused conv results {shape:?} differ between 1 and 3 threads"
        );
    }
}
