//! Every `surrogate` fixture of SpikingJelly 2.0.0: forward Θ exact, σ′ and σ within 1e-5
//! relative, for both the scalar functions and the tensor (autodiff) versions.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_close, assert_exact, cases, load, surrogate_of, values};
use snn::Surrogate;
use snn::surrogate::SurrogateError;

const RTOL: f32 = 1e-5;

#[test]
fn scalar_functions_match_spikingjelly() {
    for case in cases("surrogate") {
        let name = case["name"].as_str().unwrap();
        let surrogate = surrogate_of(case["class"].as_str().unwrap(), &case["params"]);
        let (x, _) = load(&case["x"]);

        let forward: Vec<f32> = x.iter().map(|&v| Surrogate::heaviside(v)).collect();
        assert_exact(
            &format!("{name} forward"),
            &forward,
            &load(&case["forward"]).0,
        );

        let grad: Vec<f32> = x.iter().map(|&v| surrogate.derivative(v)).collect();
        assert_close(&format!("{name} grad"), &grad, &load(&case["grad"]).0, RTOL);

        match case.get("primitive") {
            Some(entry) => {
                let primitive: Vec<f32> =
                    x.iter().map(|&v| surrogate.primitive(v).unwrap()).collect();
                assert_close(
                    &format!("{name} primitive"),
                    &primitive,
                    &load(entry).0,
                    RTOL,
                );
            }
            None => assert_eq!(
                surrogate.primitive(0.0),
                Err(SurrogateError::NoPrimitive("SuperSpike")),
                "{name}: only SuperSpike lacks a primitive"
            ),
        }
    }
}

#[test]
fn tensor_functions_match_spikingjelly() {
    let device = Device::flex().autodiff();
    for case in cases("surrogate") {
        let name = case["name"].as_str().unwrap();
        let surrogate = surrogate_of(case["class"].as_str().unwrap(), &case["params"]);
        let (x, shape) = load(&case["x"]);
        let input: Tensor<1> = Tensor::from_data(TensorData::new(x, shape), &device).require_grad();

        let spikes = surrogate.spike(input.clone());
        let grads = spikes.clone().sum().backward();
        assert_exact(
            &format!("{name} spike forward"),
            &values(spikes),
            &load(&case["forward"]).0,
        );
        let grad = values(input.grad(&grads).unwrap());
        assert_close(
            &format!("{name} spike grad"),
            &grad,
            &load(&case["grad"]).0,
            RTOL,
        );

        let slope = values(surrogate.derivative_tensor(input.clone().detach()));
        assert_close(
            &format!("{name} derivative"),
            &slope,
            &load(&case["grad"]).0,
            RTOL,
        );

        if let Some(entry) = case.get("primitive") {
            let primitive = values(surrogate.primitive_tensor(input.detach()).unwrap());
            assert_close(
                &format!("{name} primitive"),
                &primitive,
                &load(entry).0,
                RTOL,
            );
        }
    }
}

#[test]
fn names_round_trip_and_defaults_are_spikingjelly_defaults() {
    assert_eq!(Surrogate::default(), Surrogate::Sigmoid { alpha: 4.0 });
    for surrogate in Surrogate::ALL_DEFAULTS {
        assert_eq!(Surrogate::from_name(surrogate.name()).unwrap(), surrogate);
    }
    assert_eq!(
        Surrogate::from_name("atan").unwrap(),
        Surrogate::ATan { alpha: 2.0 }
    );
    assert!(matches!(
        Surrogate::from_name("Rect"),
        Err(SurrogateError::UnknownName(_))
    ));
}

#[test]
fn spike_fires_at_exactly_zero() {
    for surrogate in Surrogate::ALL_DEFAULTS {
        assert_eq!(Surrogate::heaviside(0.0), 1.0);
        assert_eq!(Surrogate::heaviside(-f32::MIN_POSITIVE), 0.0);
        let out = values(surrogate.spike(Tensor::<1>::from_floats([0.0, -1e-30], &Device::flex())));
        assert_eq!(out, vec![1.0, 0.0], "{surrogate}");
    }
}
