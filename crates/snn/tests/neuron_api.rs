//! The neuron API's contract beyond the fixtures: settings are validated, states of the
//! wrong shape and misplaced weights are errors, the state carries over between calls, and
//! non-autodiff inputs run the fused forward.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_exact, uniform, values};
use snn::neuron::{NeuronError, multi_step, spikes, step};
use snn::{Implementation, MultiStepOptions, NeuronConfig, NeuronState, Reset, Surrogate};

fn input(steps: usize, neurons: usize, device: &Device) -> Tensor<2> {
    let values = uniform(11, steps * neurons, -0.5, 1.5);
    Tensor::from_data(TensorData::new(values, [steps, neurons]), device)
}

#[test]
fn invalid_settings_are_rejected_with_the_reason() {
    let device = Device::flex();
    for (config, needle) in [
        (NeuronConfig::lif(1.0), "tau"),
        (NeuronConfig::lif(f32::NAN), "tau"),
        (NeuronConfig::plif(0.5), "init_tau"),
        (
            NeuronConfig::if_node().with_threshold(f32::INFINITY),
            "v_threshold",
        ),
        (
            NeuronConfig::if_node().with_reset(Reset::Hard { v_reset: f32::NAN }),
            "v_reset",
        ),
        (
            NeuronConfig::if_node().with_surrogate(Surrogate::ATan { alpha: 0.0 }),
            "ATan",
        ),
    ] {
        let error = config.init(&device).unwrap_err();
        assert!(
            matches!(&error, NeuronError::InvalidConfig(why) if why.contains(needle)),
            "{config:?}: {error}"
        );
        let error = spikes(
            &config,
            None,
            input(2, 3, &device),
            None,
            Implementation::Fused,
        )
        .unwrap_err();
        assert!(matches!(error, NeuronError::InvalidConfig(_)), "{config:?}");
    }
}

#[test]
fn weights_must_match_the_model() {
    let device = Device::flex();
    let w = Tensor::<1>::zeros([1], &device);
    let plif = NeuronConfig::plif(2.0);
    assert!(matches!(
        spikes(
            &plif,
            None,
            input(2, 3, &device),
            None,
            Implementation::Fused
        ),
        Err(NeuronError::Weight(_))
    ));
    assert!(matches!(
        step(
            &NeuronConfig::if_node(),
            Some(&w),
            input(1, 3, &device),
            None
        ),
        Err(NeuronError::Weight(_))
    ));
    assert_eq!(plif.initial_w(), Some(0.0));
    assert!((NeuronConfig::plif(3.0).initial_w().unwrap() + 2f32.ln()).abs() < 1e-7);
}

#[test]
fn a_state_of_the_wrong_shape_is_an_error_not_a_silent_reset() {
    let device = Device::flex();
    let config = NeuronConfig::if_node();
    let state = NeuronState {
        v: Tensor::<2>::zeros([1, 4], &device),
    };
    let error = multi_step(
        &config,
        None,
        input(3, 5, &device),
        Some(state),
        MultiStepOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        error,
        NeuronError::StateShape {
            expected: vec![1, 5],
            found: vec![1, 4]
        }
    );
    let empty = Tensor::<2>::zeros([0, 5], &device);
    assert!(matches!(
        multi_step(&config, None, empty, None, MultiStepOptions::default()),
        Err(NeuronError::NoSteps(_))
    ));
}

#[test]
fn state_carries_over_between_chunks() {
    // Running 8 steps at once equals running 3 then 5 from the returned state, for both
    // implementations: the state is the whole memory of the layer.
    let device = Device::flex();
    for config in [
        NeuronConfig::if_node(),
        NeuronConfig::lif(2.0).with_reset(Reset::Soft),
    ] {
        for implementation in [Implementation::Fused, Implementation::Reference] {
            let options = MultiStepOptions {
                store_v_seq: false,
                implementation,
            };
            let x = input(8, 37, &device);
            let whole = multi_step(&config, None, x.clone(), None, options).unwrap();
            let first =
                multi_step(&config, None, x.clone().narrow(0, 0, 3), None, options).unwrap();
            let second =
                multi_step(&config, None, x.narrow(0, 3, 5), Some(first.state), options).unwrap();
            let chunked = Tensor::cat(vec![first.spikes, second.spikes], 0);
            assert_exact("spikes", &values(chunked), &values(whole.spikes));
            assert_exact("state", &values(second.state.v), &values(whole.state.v));
        }
    }
}

#[test]
fn the_default_neuron_is_spikingjellys_ifnode() {
    let config = NeuronConfig::default();
    assert_eq!(config, NeuronConfig::if_node());
    assert_eq!(config.v_threshold, 1.0);
    assert_eq!(config.reset, Reset::Hard { v_reset: 0.0 });
    assert!(!config.detach_reset);
    assert_eq!(config.surrogate, Surrogate::Sigmoid { alpha: 4.0 });
}

#[test]
fn fires_at_exactly_the_threshold() {
    // H = θ fires (Θ(0) = 1): one step of IF from rest with X = θ.
    let device = Device::flex();
    let x = Tensor::<1>::from_floats([1.0, 0.999_999_94, 2.0], &device);
    let (spikes, state) = step(&NeuronConfig::if_node(), None, x, None).unwrap();
    assert_eq!(values(spikes), vec![1.0, 0.0, 1.0]);
    assert_eq!(values(state.v), vec![0.0, 0.999_999_94, 0.0]);
}
