//! Networks from files: every preset builds for its own input and for the built-in data's
//! frames; bad files and misfitting layers are errors that name the layer and what was
//! expected; and a network's planned forward pass (fused ops, time collapses) equals the
//! composition of the blocks' reference ops, on random networks.

mod common;

use std::collections::BTreeMap;

use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_close, assert_exact, eighths, on_grid, seeded_runner, values};
use proptest::prelude::*;
use snn::models;
use snn::network::{ModelError, Network, NetworkConfig, NetworkFile};
use snn::neuron::adaptive::AdaptiveLifConfig;
use snn::nn::{
    Conv2dConfig, Implementation, LayerConfig, LinearConfig, ModelName, NeuronSpec, PoolConfig,
    SurrogateName,
};

#[test]
fn every_preset_builds_for_its_input_and_for_the_built_in_frames() {
    let device = Device::flex();
    let names: Vec<&str> = models::names().collect();
    assert_eq!(
        names,
        [
            "seed-snn",
            "seed-cnn",
            "nmnist-net",
            "cifar10dvs-net",
            "dvsgesture-net",
            "vggsnn",
            "sew-resnet",
            "shd-net"
        ]
    );
    for name in names {
        let file = models::preset(name).unwrap();
        let input = file.input().unwrap();
        for (shape, classes) in [(input, 10), ([2, 32, 32], 10), (input, 11)] {
            let config = file.resolve(classes, &BTreeMap::new()).unwrap();
            let net = config
                .init(shape, classes, 0, &device)
                .unwrap_or_else(|e| panic!("{name} at {shape:?}: {e}"));
            let scores = net.forward(Tensor::zeros([2, 1, shape[0], shape[1], shape[2]], &device));
            assert_eq!(scores.unwrap().dims(), [1, classes], "{name}");
        }
        // The file in examples/networks is the preset.
        let path = format!(
            "{}/../../examples/networks/{name}.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            models::text(name).unwrap()
        );
    }
}

#[test]
fn the_width_parameter_scales_a_preset() {
    let file = models::preset("cifar10dvs-net").unwrap();
    let width = BTreeMap::from([("width".to_string(), 8)]);
    let net = file
        .resolve(10, &width)
        .unwrap()
        .init([2, 128, 128], 10, 0, &Device::flex())
        .unwrap();
    // SpikingJelly's CIFAR10DVSNet(channels=8) with PLIF neurons has 315898 parameters.
    assert_eq!(net.num_parameters(), 315_898);
    let unknown = BTreeMap::from([("depth".to_string(), 3)]);
    let error = file.resolve(10, &unknown).unwrap_err().to_string();
    assert!(
        error.contains("no parameter `depth`") && error.contains("width"),
        "{error}"
    );
}

fn parse_error(text: &str) -> String {
    match NetworkFile::parse(text, "net.toml").and_then(|f| f.resolve(10, &BTreeMap::new())) {
        Ok(config) => panic!("accepted: {config:?}"),
        Err(error) => error.to_string(),
    }
}

fn build_error(text: &str, input: [usize; 3]) -> String {
    let config = NetworkFile::parse(text, "net.toml")
        .unwrap()
        .resolve(10, &BTreeMap::new())
        .unwrap();
    match config.init(input, 10, 0, &Device::flex()) {
        Ok(_) => panic!("built"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn bad_files_are_errors_naming_the_file_the_layer_and_the_problem() {
    let head = "name = \"bad\"\n";
    for (body, expected) in [
        (
            "[[layers]]\ntype = \"conv3d\"\n",
            "layer layers.0: unknown variant `conv3d`",
        ),
        (
            "[[layers]]\ntype = \"conv2d\"\nout_channels = 4\nkernal = 3\n",
            "unknown field `kernal`",
        ),
        (
            "[[layers]]\ntype = \"linear\"\nout_features = \"wdth\"\n",
            "`wdth` in \"wdth\" is not a number or a parameter (known: classes)",
        ),
        (
            "[[layers]]\nname = 3\ntype = \"flatten\"\n",
            "`name` must be a string",
        ),
        (
            "[params]\nclasses = 3\n[[layers]]\ntype = \"flatten\"\n",
            "cannot be a parameter",
        ),
        ("layers = []\n", "no [[layers]]"),
        (
            "[neuron]\nmodel = \"if\"\ntau = 2.0\n[[layers]]\ntype = \"neuron\"\n",
            "",
        ),
    ] {
        let text = format!("{head}{body}");
        if expected.is_empty() {
            // Valid TOML, but an IF neuron with a tau: refused when the neuron is built.
            let error = build_error(
                &format!(
                    "{text}[[layers]]\ntype = \"flatten\"\n[[layers]]\ntype = \"linear\"\nout_features = 10\n"
                ),
                [2, 4, 4],
            );
            assert!(
                error.contains("layer layers.0 (neuron)") && error.contains("no tau"),
                "{error}"
            );
            continue;
        }
        let error = parse_error(&text);
        assert!(error.starts_with("net.toml: "), "{error}");
        assert!(error.contains(expected), "{body}: {error}");
    }
}

#[test]
fn layers_that_do_not_fit_their_input_are_errors_naming_the_layer() {
    let net = |layers: &str| format!("name = \"n\"\n{layers}");
    let linear = "[[layers]]\ntype = \"linear\"\nout_features = 10\n";
    let flatten = "[[layers]]\ntype = \"flatten\"\n";
    for (layers, expected) in [
        (
            linear.to_string(),
            "layer layers.0 (linear): linear needs vectors, but its input is maps [2, 4, 4] (add a flatten)",
        ),
        (
            format!(
                "[[layers]]\ntype = \"conv2d\"\nout_channels = 3\nkernel = 7\n{flatten}{linear}"
            ),
            "layer layers.0 (conv2d): a 7×7 window (stride 1, padding 0) does not fit a side of 4",
        ),
        (
            format!("{flatten}[[layers]]\ntype = \"voting\"\nsize = 3\n"),
            "voting groups of 3 do not divide 32 features",
        ),
        (
            format!("{flatten}[[layers]]\ntype = \"linear\"\nout_features = 7\n"),
            "ends with outputs [7], but the data has 10 classes",
        ),
        (
            "[[layers]]\nname = \"a\"\ntype = \"flatten\"\n[[layers]]\nname = \"a\"\ntype = \"linear\"\nout_features = 10\n".to_string(),
            "two layers are named `a`",
        ),
        (
            format!("{flatten}[[layers]]\ntype = \"dropout\"\np = 1.0\n{linear}"),
            "dropout p must be in [0, 1)",
        ),
    ] {
        let error = build_error(&net(&layers), [2, 4, 4]);
        assert!(error.contains(expected), "{layers}\n→ {error}");
    }
    let config = NetworkFile::parse(&net(&format!("{flatten}{linear}")), "n")
        .unwrap()
        .resolve(10, &BTreeMap::new())
        .unwrap();
    let net = config.init([2, 4, 4], 10, 0, &Device::flex()).unwrap();
    let wrong = Tensor::zeros([2, 1, 2, 5, 4], &Device::flex());
    assert!(matches!(
        net.forward(wrong),
        Err(ModelError::InputShape { .. })
    ));
}

/// A random network of blocks without batch norm (whose square roots are not exact): a 3×3
/// padding-1 convolution (the fused ops' shape) or another one, a neuron (or an adaptive
/// LIF layer, every fourth network), optionally max
/// pooling of either kind, then a second conv + neuron or not, average pooling or not,
/// flatten, dropout (p = 0), linear, maybe voting.
fn random_network(choice: [u8; 8], classes: usize) -> NetworkConfig {
    let neuron = NeuronSpec {
        model: Some([ModelName::If, ModelName::Lif, ModelName::Plif][choice[0] as usize % 3]),
        tau: (!choice[0].is_multiple_of(3)).then_some(2.0),
        v_threshold: Some([0.5, 0.25, 1.0][choice[1] as usize % 3]),
        soft_reset: (choice[1] % 2 == 1).then_some(true),
        detach_reset: Some(choice[2].is_multiple_of(2)),
        surrogate: Some(
            [
                SurrogateName::Atan,
                SurrogateName::Sigmoid,
                SurrogateName::Erf,
            ][choice[2] as usize % 3],
        ),
        ..NeuronSpec::default()
    };
    let conv = |out, same: bool| {
        LayerConfig::Conv2d(if same {
            Conv2dConfig::same3x3(out)
        } else {
            Conv2dConfig {
                out_channels: out,
                kernel: 2,
                stride: 1,
                padding: 0,
                bias: false,
            }
        })
    };
    // Every fourth network's first spiking layer is an adaptive LIF.
    let first = if choice[1] % 4 == 3 {
        LayerConfig::AdaptiveLif(AdaptiveLifConfig {
            beta: 0.5,
            v_threshold: 0.5,
            ..AdaptiveLifConfig::default()
        })
    } else {
        LayerConfig::Neuron(neuron)
    };
    let mut layers = vec![conv(3, !choice[3].is_multiple_of(3)), first];
    match choice[4] % 3 {
        0 => layers.push(LayerConfig::MaxPool2d(PoolConfig::new(2))),
        1 => layers.push(LayerConfig::MaxPool2d(PoolConfig {
            kernel: 3,
            stride: Some(2),
            padding: 1,
        })),
        _ => {}
    }
    if choice[5].is_multiple_of(2) {
        layers.extend([
            conv(4, choice[5].is_multiple_of(4)),
            LayerConfig::Neuron(neuron),
        ]);
    }
    if choice[6].is_multiple_of(2) {
        layers.push(LayerConfig::AvgPool2d(PoolConfig::new(2)));
    }
    layers.extend([LayerConfig::Flatten, LayerConfig::Dropout { p: 0.0 }]);
    if choice[7].is_multiple_of(2) {
        layers.extend([
            LayerConfig::Linear(LinearConfig::new(classes * 2)),
            LayerConfig::Voting { size: 2 },
        ]);
    } else {
        layers.push(LayerConfig::Linear(LinearConfig::new(classes)));
    }
    NetworkConfig::sequential("random", "layers", layers)
}

#[test]
fn the_planned_forward_pass_equals_the_reference_composition() {
    let device = Device::flex().autodiff();
    let mut runner = seeded_runner(24, 17);
    let fired = std::cell::Cell::new(0usize);
    runner
        .run(&(any::<[u8; 8]>(), 1u64..1000), |(choice, seed)| {
            let classes = 3;
            let config = random_network(choice, classes);
            let shape = [4, 2, 2, 8, 8];
            let net = config.init([2, 8, 8], classes, seed, &device).unwrap();
            let net = on_grid(net, seed);
            let reference = net.clone().with_implementation(Implementation::Reference);
            let frames = eighths(seed + 99, shape.iter().product())
                .into_iter()
                .map(|v| (v * 8.0).abs().floor().min(2.0))
                .collect::<Vec<_>>();
            let x = || Tensor::<5>::from_data(TensorData::new(frames.clone(), shape), &device);
            let spikes = |net: &Network| -> Vec<Vec<f32>> {
                net.spikes(x())
                    .unwrap()
                    .into_iter()
                    .map(|(_, s)| values(s))
                    .collect()
            };
            for (a, b) in spikes(&net).iter().zip(spikes(&reference)) {
                assert_exact(&format!("{choice:?} spikes"), a, &b);
                fired.set(fired.get() + a.iter().filter(|&&s| s > 0.0).count());
            }
            let fused = net.forward(x()).unwrap();
            let composed = reference.forward(x()).unwrap();
            assert_exact(
                &format!("{choice:?} scores"),
                &values(fused.clone()),
                &values(composed.clone()),
            );
            let fused_grads = fused.sum().backward();
            let composed_grads = composed.sum().backward();
            for (a, b) in net.torch_tensors().iter().zip(reference.torch_tensors()) {
                if let (Some(ga), Some(gb)) = (a.grad(&fused_grads), b.grad(&composed_grads)) {
                    assert_close(&format!("{choice:?} grad {}", a.name), &ga, &gb, 1e-5);
                }
            }
            Ok(())
        })
        .unwrap();
    assert!(
        fired.get() > 1000,
        "the networks should fire: {} spikes",
        fired.get()
    );
}

/// The network file the README shows parses, builds and runs (so the README stays true).
#[test]
fn the_readme_network_file_builds() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = readme.split("## Networks").nth(1).unwrap();
    let text = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let file = NetworkFile::parse(text, "README.md").unwrap();
    let width = BTreeMap::from([("width".to_string(), 4)]);
    let config = file.resolve(10, &width).unwrap();
    let net = config.init([2, 32, 32], 10, 0, &Device::flex()).unwrap();
    let scores = net
        .forward(Tensor::zeros([2, 3, 2, 32, 32], &Device::flex()))
        .unwrap();
    assert_eq!(scores.dims(), [3, 10]);
    assert_eq!(net.names().next(), Some("layers.0"));
}

/// An override replaces what it contradicts: `--neuron if` over a PLIF network drops its
/// `tau`, a soft reset its `v_reset`, another surrogate the old `alpha`; an adaptive LIF layer
/// takes the settings it shares and refuses a neuron model.
#[test]
fn neuron_overrides_replace_what_they_contradict() {
    let device = Device::flex();
    let nmnist = models::preset("nmnist-net")
        .unwrap()
        .resolve(10, &BTreeMap::from([("width".to_string(), 2)]))
        .unwrap();
    let overridden = nmnist
        .clone()
        .with_neurons(&NeuronSpec {
            model: Some(ModelName::If),
            soft_reset: Some(true),
            surrogate: Some(SurrogateName::Sigmoid),
            ..NeuronSpec::default()
        })
        .unwrap();
    let net = overridden.init([2, 34, 34], 10, 0, &device).unwrap();
    let LayerConfig::Neuron(spec) = &net.config().layers[2].layer else {
        panic!("conv_fc.2 is a neuron layer")
    };
    assert_eq!((spec.tau, spec.v_reset, spec.alpha), (None, None, None));
    assert_eq!(spec.detach_reset, Some(true), "kept from the file");

    let adaptive = NetworkConfig::sequential(
        "a",
        "layers",
        vec![
            LayerConfig::AdaptiveLif(AdaptiveLifConfig::default()),
            LayerConfig::Flatten,
            LayerConfig::Linear(LinearConfig::new(10)),
        ],
    );
    let tuned = adaptive
        .clone()
        .with_neurons(&NeuronSpec {
            v_threshold: Some(0.5),
            surrogate: Some(SurrogateName::Atan),
            ..NeuronSpec::default()
        })
        .unwrap();
    let LayerConfig::AdaptiveLif(config) = &tuned.layers[0].layer else {
        panic!("an adaptive LIF")
    };
    assert_eq!(
        (config.v_threshold, config.surrogate),
        (0.5, SurrogateName::Atan)
    );
    let refused = adaptive.with_neurons(&NeuronSpec {
        model: Some(ModelName::Lif),
        ..NeuronSpec::default()
    });
    assert!(refused.unwrap_err().contains("layers.0 is an adaptive LIF"));
}

/// Sizes beyond what a tensor can hold are errors naming the layer, not aborted allocations.
#[test]
fn oversized_layers_are_errors() {
    for (layer, expected) in [
        (
            "type = \"linear\"\nout_features = 100000000000",
            "layer layers.1 (linear): a tensor of [32, 100000000000] would hold more than",
        ),
        (
            "type = \"adaptive_avg_pool2d\"\noutput = [100000, 100000]",
            "would hold more than",
        ),
    ] {
        let (first, second) = if layer.contains("linear") {
            ("type = \"flatten\"", layer)
        } else {
            (layer, "type = \"flatten\"")
        };
        let text = format!("name = \"big\"\n[[layers]]\n{first}\n[[layers]]\n{second}\n");
        let error = build_error(&text, [2, 4, 4]);
        assert!(error.contains(expected), "{error}");
    }
}

/// PiecewiseLeakyReLU's leak is settable; on another surrogate it is an error.
#[test]
fn the_leak_sets_piecewise_leaky_relus_c() {
    let leaky = NeuronSpec {
        surrogate: Some(SurrogateName::PiecewiseLeakyRelu),
        alpha: Some(2.0),
        leak: Some(0.1),
        ..NeuronSpec::default()
    };
    assert_eq!(
        leaky.config().unwrap().surrogate,
        snn::Surrogate::PiecewiseLeakyReLU { w: 2.0, c: 0.1 }
    );
    let wrong = NeuronSpec {
        surrogate: Some(SurrogateName::Atan),
        leak: Some(0.1),
        ..NeuronSpec::default()
    };
    assert!(
        wrong
            .config()
            .unwrap_err()
            .to_string()
            .contains("does not apply")
    );
}
