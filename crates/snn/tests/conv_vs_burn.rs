//! The fused 3×3 convolution against burn's `conv2d`: forward and the gradients of input,
//! weight and bias, on random shapes — through its direct kernels (up to
//! `DIRECT_MAX_INPUT_CHANNELS` input channels), its im2col + gemm kernels (beyond) and its
//! sparse kernels (beyond, for inputs that are mostly zeros: spikes, pooled spikes).

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_close, uniform, values};
use proptest::prelude::*;
use snn::conv::{ConvImplementation, MAX_ACTIVE_RATE, conv3x3_with, is_sparse};

/// The input of a test convolution.
#[derive(Debug, Clone, Copy)]
enum Input {
    /// Uniform in [0, 1).
    Uniform,
    /// Spikes (0 or 1) at this rate.
    Spikes(f32),
    /// 2×2 average-pooled spikes: non-zero at this rate, each then ¼, ½, ¾ or 1.
    Pooled(f32),
}

/// Forward and all gradients of one implementation for `loss = Σ out · upstream`.
fn run(
    implementation: ConvImplementation,
    [n, ci, co, h, w]: [usize; 5],
    seed: u64,
    track_input: bool,
    input: Input,
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
    match input {
        Input::Uniform => {}
        Input::Spikes(rate) => x = x.lower_elem(rate).float(),
        Input::Pooled(rate) => {
            let quarters = (tensor(seed + 4, [n, ci, h, w], 0.0, 4.0).floor() + 1.0) / 4.0;
            x = x.lower_elem(rate).float() * quarters;
        }
    }
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

/// `∂L/∂bias[o] = Σ upstream[·, o, ·, ·]`, summed in `f64`: burn's sum in `f32` over
/// thousands of positions is itself off by more than the tolerance.
fn bias_gradient([n, _, co, h, w]: [usize; 5], seed: u64) -> Vec<f32> {
    let upstream = uniform(seed + 3, n * co * h * w, -1.0, 1.0);
    let mut sums = vec![0.0f64; co];
    for (i, &value) in upstream.iter().enumerate() {
        sums[i / (h * w) % co] += f64::from(value);
    }
    sums.into_iter().map(|sum| sum as f32).collect()
}

fn check(shape: [usize; 5], seed: u64, track_input: bool) {
    check_input(shape, seed, track_input, Input::Uniform);
}

fn check_input(shape: [usize; 5], seed: u64, track_input: bool, input: Input) {
    let fused = run(ConvImplementation::Fused, shape, seed, track_input, input);
    let mut reference = run(
        ConvImplementation::Reference,
        shape,
        seed,
        track_input,
        input,
    );
    reference[3] = bias_gradient(shape, seed);
    for (name, (a, e)) in ["output", "grad x", "grad weight", "grad bias"]
        .iter()
        .zip(fused.iter().zip(&reference))
    {
        assert_close(&format!("{name} {shape:?} {input:?}"), a, e, 1e-5);
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
fn sparse_inputs_match_burn() {
    // Sparse spikes and pooled spikes (the sparse kernels; pooled ones through their fused
    // multiply-adds), at the deep SNN's and the VGGSNN's layer shapes and at a tall map that
    // the forward pass accumulates in several bands of rows; dense ones (above the limit:
    // gemm).
    for (shape, input) in [
        ([3, 64, 128, 16, 16], Input::Spikes(0.15)),
        ([20, 128, 16, 8, 8], Input::Spikes(0.02)),
        ([2, 20, 64, 150, 64], Input::Spikes(0.2)),
        ([3, 64, 32, 16, 16], Input::Spikes(0.6)),
        ([3, 64, 128, 12, 12], Input::Pooled(0.1)),
        ([2, 20, 64, 150, 64], Input::Pooled(0.2)),
        ([3, 64, 32, 16, 16], Input::Pooled(0.6)),
    ] {
        check_input(shape, 4, true, input);
    }
}

#[test]
fn sparse_inputs_are_told_from_dense_ones() {
    let device = Device::flex();
    let x: Tensor<4> = Tensor::from_data(
        TensorData::new(uniform(9, 4096, 0.0, 1.0), [1, 16, 16, 16]),
        &device,
    );
    let sparse = values(x.clone().lower_elem(0.1).float());
    let dense = values(x.clone().lower_elem(MAX_ACTIVE_RATE as f32 + 0.05).float());
    let pooled = values(x.clone().lower_elem(0.1).float() * x.clone());
    assert!(is_sparse(&sparse));
    assert!(is_sparse(&pooled), "sparse values other than 1");
    assert!(!is_sparse(&dense), "active above the limit");
    assert!(!is_sparse(&values(x)), "no zeros");
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
        prop_oneof![
            Just(Input::Uniform),
            (0.0f32..0.3).prop_map(Input::Spikes),
            (0.0f32..0.3).prop_map(Input::Pooled),
        ],
    );
    runner
        .run(&shapes, |(n, ci, co, h, w, track_input, input)| {
            check_input(
                [n, ci, co, h, w],
                (n * 1000 + ci * 100 + co) as u64,
                track_input,
                input,
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    for (shape, input) in [
        ([37, 3, 5, 9, 11], Input::Uniform),
        ([37, 20, 5, 9, 11], Input::Uniform),
        ([37, 20, 5, 9, 11], Input::Spikes(0.1)),
        ([37, 20, 5, 9, 11], Input::Pooled(0.1)),
    ] {
        let on = |threads: usize| {
            common::on_threads(threads, || {
                run(ConvImplementation::Fused, shape, 5, true, input)
            })
        };
        assert!(
            on(1) == on(3),
            "fused conv results {shape:?} {input:?} differ between 1 and 3 threads"
        );
    }
}
