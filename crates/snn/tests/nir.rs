//! NIR export and import: a network exported and imported again computes the same spikes and
//! scores bit for bit (batch norm folded: within float tolerance of the unfolded network);
//! a file written by the Python `nir` package is imported and computes the spikes NumPy
//! computed for it; what NIR or spikeforge cannot express is an error naming the layer or
//! node; damaged files are errors, never panics.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use common::{assert_close, assert_exact, uniform, values};
use snn::network::{Network, NetworkConfig};
use snn::nir::{self, Array, ExportOptions, NirError, NirGraph, Node};
use snn::nn::{
    BatchNorm2dConfig, Conv2dConfig, LayerConfig, LinearConfig, ModelName, NeuronSpec, PoolConfig,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/nir")
        .join(name)
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikeforge-nir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn neuron(
    model: ModelName,
    tau: Option<f32>,
    decay_input: Option<bool>,
    v_threshold: f32,
) -> LayerConfig {
    LayerConfig::Neuron(NeuronSpec {
        model: Some(model),
        tau,
        decay_input,
        v_threshold: Some(v_threshold),
        v_reset: Some(0.0),
        ..NeuronSpec::default()
    })
}

/// Binary frames `[T, N, C, H, W]`, a third of them events.
fn frames(seed: u64, shape: [usize; 5]) -> Tensor<5> {
    let len = shape.iter().product();
    let data: Vec<f32> = uniform(seed, len, 0.0, 1.0)
        .into_iter()
        .map(|u| f32::from(u < 0.33))
        .collect();
    Tensor::from_data(TensorData::new(data, shape), &Device::flex())
}

/// conv → IF → avg pool → conv (no bias) → LIF (no decay_input) → flatten → linear → LIF.
fn spiking_net() -> NetworkConfig {
    NetworkConfig::sequential(
        "round-trip",
        "layers",
        vec![
            LayerConfig::Conv2d(Conv2dConfig::same3x3(6)),
            neuron(ModelName::If, None, None, 0.25),
            LayerConfig::AvgPool2d(PoolConfig::new(2)),
            LayerConfig::Conv2d(Conv2dConfig {
                out_channels: 4,
                kernel: 3,
                stride: 2,
                padding: 1,
                bias: false,
            }),
            neuron(ModelName::Lif, Some(1.5), Some(false), 0.2),
            LayerConfig::Flatten,
            LayerConfig::Linear(LinearConfig::new(5)),
            neuron(ModelName::Lif, Some(2.0), Some(true), 0.1),
        ],
    )
    .with_input([2, 12, 12])
}

fn outputs(net: &Network, frames: &Tensor<5>) -> (Vec<(String, Vec<f32>)>, Vec<f32>) {
    let spikes = net
        .spikes(frames.clone())
        .unwrap()
        .into_iter()
        .map(|(name, s)| (name, values(s)))
        .collect();
    (spikes, values(net.forward(frames.clone()).unwrap()))
}

fn round_trip(net: &Network, name: &str) -> (NirGraph, Network) {
    let path = temp(&format!("{name}.nir"));
    let warnings = nir::export_file(net, &path, &ExportOptions::default()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let graph = nir::hdf5::read(&path).unwrap();
    let imported = nir::import_file(&path, nir::DEFAULT_DT).unwrap();
    (graph, imported.build(&Device::flex()).unwrap())
}

#[test]
fn export_then_import_gives_the_same_network_and_outputs_bit_for_bit() {
    let device = Device::flex();
    let config = spiking_net();
    let net = config.init([2, 12, 12], 5, 7, &device).unwrap();
    let (graph, back) = round_trip(&net, "spiking");

    // The graph as NIR lays it out: every layer a node, neuron parameters at full shape.
    let kinds: Vec<&str> = graph.nodes.iter().map(|(_, n)| n.kind()).collect();
    assert_eq!(
        kinds,
        [
            "Input",
            "Conv2d",
            "IF",
            "AvgPool2d",
            "Conv2d",
            "LIF",
            "Flatten",
            "Affine",
            "LIF",
            "Output"
        ]
    );
    match graph.node("layers.1").unwrap() {
        Node::If { r, v_threshold, .. } => {
            assert_eq!(r.shape, [6, 12, 12]);
            assert_eq!(r.uniform(), Some(1e4));
            assert_eq!(v_threshold.uniform(), Some(0.25));
        }
        other => panic!("{other:?}"),
    }
    match graph.node("layers.4").unwrap() {
        Node::Lif { tau, r, v_leak, .. } => {
            assert_eq!(tau.shape, [4, 3, 3]);
            assert_eq!(tau.uniform(), Some(1.5 * 1e-4));
            assert_eq!(r.uniform(), Some(1.5), "decay_input off: r = tau");
            assert_eq!(v_leak.uniform(), Some(0.0));
        }
        other => panic!("{other:?}"),
    }
    match graph.node("layers.7").unwrap() {
        Node::Lif { r, .. } => assert_eq!(r.uniform(), Some(1.0), "decay_input on: r = 1"),
        other => panic!("{other:?}"),
    }
    match graph.node("layers.3").unwrap() {
        Node::Conv2d {
            input_shape,
            bias,
            stride,
            ..
        } => {
            assert_eq!(*input_shape, [6, 6]);
            assert_eq!(*stride, [2, 2]);
            assert!(bias.values.iter().all(|&b| b == 0.0), "no bias: zeros");
        }
        other => panic!("{other:?}"),
    }

    // The same description and weights…
    assert_eq!(back.config().layers, config.layers);
    let original: Vec<_> = net
        .torch_tensors()
        .iter()
        .map(|t| (t.name.clone(), t.values()))
        .collect();
    let imported: Vec<_> = back
        .torch_tensors()
        .iter()
        .map(|t| (t.name.clone(), t.values()))
        .collect();
    assert_eq!(original, imported);
    // …so the same spikes of every layer and the same scores, bit for bit.
    let x = frames(3, [6, 4, 2, 12, 12]);
    let (spikes, scores) = outputs(&net, &x);
    let (spikes_back, scores_back) = outputs(&back, &x);
    for (name, s) in &spikes {
        assert!(s.contains(&1.0), "{name} spikes");
    }
    assert_eq!(spikes.len(), 3);
    for ((name, a), (name_back, b)) in spikes.iter().zip(&spikes_back) {
        assert_eq!(name, name_back);
        assert_exact(name, b, a);
    }
    assert_exact("scores", &scores_back, &scores);

    // Written again, the file holds the same graph.
    let again = nir::hdf5::from_bytes(nir::hdf5::to_bytes(&graph).unwrap(), "memory").unwrap();
    assert_eq!(again, graph);
}

#[test]
fn batch_norm_is_folded_into_the_convolution_within_float_tolerance() {
    let device = Device::flex();
    let config = NetworkConfig::sequential(
        "bn",
        "layers",
        vec![
            LayerConfig::Conv2d(Conv2dConfig::same3x3(4)),
            LayerConfig::BatchNorm2d(BatchNorm2dConfig::default()),
            neuron(ModelName::If, None, None, 1.0),
            LayerConfig::Dropout { p: 0.5 },
            LayerConfig::Flatten,
            LayerConfig::Linear(LinearConfig::new(3)),
        ],
    );
    let net = config.init([2, 8, 8], 3, 11, &device).unwrap();
    // Running statistics and affine parameters of a trained batch norm.
    let mut state: BTreeMap<String, (Vec<f32>, Vec<usize>)> = net
        .torch_tensors()
        .iter()
        .map(|t| (t.name.clone(), (t.values(), t.shape().to_vec())))
        .collect();
    state.insert(
        "layers.1.weight".into(),
        (vec![1.5, 0.75, 2.0, 1.25], vec![4]),
    );
    state.insert("layers.1.bias".into(), (vec![0.3, -0.2, 0.5, 0.1], vec![4]));
    state.insert(
        "layers.1.running_mean".into(),
        (vec![0.1, -0.3, 0.2, 0.05], vec![4]),
    );
    state.insert(
        "layers.1.running_var".into(),
        (vec![0.5, 1.7, 0.3, 2.2], vec![4]),
    );
    let net = net.load_torch(&|name| state.get(name).cloned()).unwrap();

    let (graph, folded) = round_trip(&net, "bn");
    let kinds: Vec<&str> = graph.nodes.iter().map(|(_, n)| n.kind()).collect();
    assert_eq!(
        kinds,
        ["Input", "Conv2d", "IF", "Flatten", "Affine", "Output"],
        "BN folded, dropout gone"
    );
    let x = frames(5, [8, 4, 2, 8, 8]);
    let (spikes, scores) = outputs(&net, &x);
    let (spikes_folded, scores_folded) = outputs(&folded, &x);
    assert!(spikes[0].1.contains(&1.0), "some spikes");
    assert_exact(
        "spikes (no potential is within rounding of θ here)",
        &spikes_folded[0].1,
        &spikes[0].1,
    );
    assert_close("scores", &scores_folded, &scores, 1e-5);
}

#[test]
fn a_file_written_by_the_python_nir_package_imports_and_computes_its_spikes() {
    let path = fixture("small.nir");
    let graph = nir::hdf5::read(&path).unwrap();
    let mut names: Vec<&str> = graph.nodes.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "conv", "fc", "flatten", "if", "input", "lif", "output", "pool"
        ]
    );
    assert_eq!(graph.edges.len(), 7);
    match graph.node("conv").unwrap() {
        Node::Conv2d {
            input_shape,
            weight,
            padding,
            groups,
            ..
        } => {
            assert_eq!(*input_shape, [6, 6]);
            assert_eq!(weight.shape, [3, 2, 3, 3]);
            assert_eq!((*padding, *groups), ([1, 1], 1));
        }
        other => panic!("{other:?}"),
    }

    let imported = nir::import_file(&path, 1e-4).unwrap();
    assert_eq!(imported.input, [2, 6, 6]);
    assert_eq!(imported.classes, 4);
    let net = imported.build(&Device::flex()).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("small_expected.json")).unwrap())
            .unwrap();
    let floats = |key: &str| -> Vec<f32> {
        expected[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect()
    };
    let shape: Vec<usize> = expected["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let x = Tensor::<5>::from_data(
        TensorData::new(
            floats("frames"),
            [shape[0], shape[1], shape[2], shape[3], shape[4]],
        ),
        &Device::flex(),
    );
    let (spikes, scores) = outputs(&net, &x);
    assert_eq!(spikes[0].0, "if");
    assert_exact("if spikes", &spikes[0].1, &floats("if_spikes"));
    assert_eq!(spikes[1].0, "lif");
    assert_exact("lif spikes", &spikes[1].1, &floats("lif_spikes"));
    assert_exact("scores", &scores, &floats("scores"));
    assert!(floats("lif_spikes").contains(&1.0), "the fixture spikes");

    // The network file reads back as the same description.
    let text = imported.network_file("imported from small.nir").unwrap();
    let file = snn::network::NetworkFile::parse(&text, "small.toml").unwrap();
    assert_eq!(file.resolve(4, &BTreeMap::new()).unwrap(), imported.network);
}

#[test]
fn what_nir_cannot_express_is_an_error_naming_the_layer() {
    let device = Device::flex();
    let with = |layers: Vec<LayerConfig>| {
        NetworkConfig::sequential("x", "layers", layers)
            .init([2, 8, 8], 3, 0, &device)
            .unwrap()
    };
    let tail = || {
        vec![
            LayerConfig::Flatten,
            LayerConfig::Linear(LinearConfig::new(3)),
        ]
    };
    let max_pool = with(
        [
            vec![
                LayerConfig::Conv2d(Conv2dConfig::same3x3(2)),
                neuron(ModelName::If, None, None, 1.0),
                LayerConfig::MaxPool2d(PoolConfig::new(2)),
            ],
            tail(),
        ]
        .concat(),
    );
    let error = nir::export(&max_pool, &ExportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("layers.2") && error.contains("max pooling"),
        "{error}"
    );

    let soft = with(
        [
            vec![
                LayerConfig::Conv2d(Conv2dConfig::same3x3(2)),
                LayerConfig::Neuron(NeuronSpec {
                    soft_reset: Some(true),
                    ..NeuronSpec::default()
                }),
            ],
            tail(),
        ]
        .concat(),
    );
    let error = nir::export(&soft, &ExportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("layers.1") && error.contains("soft reset"),
        "{error}"
    );
    let lossy = ExportOptions {
        soft_reset_as_hard: true,
        ..ExportOptions::default()
    };
    let exported = nir::export(&soft, &lossy).unwrap();
    assert_eq!(exported.warnings.len(), 1);
    assert!(
        exported.warnings[0].contains("layers.1"),
        "{:?}",
        exported.warnings
    );

    let relu = with([vec![LayerConfig::Relu], tail()].concat());
    let error = nir::export(&relu, &ExportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("layers.0") && error.contains("ReLU"),
        "{error}"
    );
}

fn small_graph(middle: Vec<(String, Node)>) -> NirGraph {
    let mut nodes = vec![(
        "in".to_string(),
        Node::Input {
            shape: vec![2, 4, 4],
        },
    )];
    nodes.push((
        "flat".into(),
        Node::Flatten {
            input_type: vec![2, 4, 4],
            start_dim: 0,
            end_dim: -1,
        },
    ));
    nodes.push((
        "fc".into(),
        Node::Linear {
            weight: Array::full(&[3, 32], 0.5),
        },
    ));
    nodes.extend(middle);
    nodes.push(("out".into(), Node::Output { shape: vec![3] }));
    NirGraph::chain(nodes)
}

#[test]
fn what_spikeforge_cannot_import_is_an_error_naming_the_node() {
    let if_node = |r: f64, v_threshold: Array<f64>| Node::If {
        r: Array::full(&[3], r),
        v_threshold,
        v_reset: Array::full(&[3], 0.0),
    };
    let ok = small_graph(vec![("sn".into(), if_node(1e4, Array::full(&[3], 1.0)))]);
    nir::import(&ok, "ok", 1e-4).unwrap();

    let cases: Vec<(NirGraph, &str, &str)> = vec![
        (
            small_graph(vec![(
                "cuba".into(),
                Node::Other {
                    kind: "CubaLIF".into(),
                },
            )]),
            "`cuba`",
            "CubaLIF",
        ),
        (
            small_graph(vec![("sn".into(), if_node(1.0, Array::full(&[3], 1.0)))]),
            "`sn`",
            "1/dt",
        ),
        (
            small_graph(vec![(
                "sn".into(),
                if_node(1e4, Array::new(vec![3], vec![1.0, 2.0, 1.0])),
            )]),
            "`sn`",
            "differs between neurons",
        ),
    ];
    for (graph, node, why) in cases {
        let error = nir::import(&graph, "x", 1e-4).unwrap_err().to_string();
        assert!(error.contains(node) && error.contains(why), "{error}");
    }

    let mut branching = ok.clone();
    branching.edges.push(("flat".into(), "out".into()));
    let error = nir::import(&branching, "x", 1e-4).unwrap_err();
    assert!(
        matches!(error, NirError::Graph(_)) && error.to_string().contains("`flat`"),
        "{error}"
    );
    let mut stray = ok.clone();
    stray.nodes.push((
        "lost".into(),
        Node::Other {
            kind: "Scale".into(),
        },
    ));
    let error = nir::import(&stray, "x", 1e-4).unwrap_err().to_string();
    assert!(
        error.contains("`lost`") && error.contains("not on the path"),
        "{error}"
    );
}

#[test]
fn damaged_files_are_errors_naming_the_file() {
    let bytes = std::fs::read(fixture("small.nir")).unwrap();
    let error = nir::hdf5::from_bytes(b"not an HDF5 file".to_vec(), "junk.nir")
        .unwrap_err()
        .to_string();
    assert!(error.contains("junk.nir"), "{error}");
    let error = nir::hdf5::from_bytes(bytes[..bytes.len() / 2].to_vec(), "half.nir");
    assert!(error.is_err_and(|e| e.to_string().contains("half.nir")));
}
