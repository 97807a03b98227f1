//! NIR files under mutation (`events::fuzz`): a file written by the Python `nir` package and
//! one written by spikeforge, mutated byte by byte, are read and, where they still read,
//! imported and built. Nothing may panic, the HDF5 reader included (it would show as an
//! error saying that the reader failed); an error must name the file.

use burn::tensor::Device;
use events::fuzz::Target;
use snn::network::NetworkConfig;
use snn::nir::{self, ExportOptions};
use snn::nn::{Conv2dConfig, LayerConfig, LinearConfig, ModelName, NeuronSpec, PoolConfig};

/// Inputs of the suite's run; `SPIKEFORGE_FUZZ_INPUTS` sets a long run's.
const INPUTS: u64 = 2_000;

fn check(bytes: &[u8]) -> Result<bool, String> {
    let graph = match nir::hdf5::from_bytes(bytes.to_vec(), "fuzz.nir") {
        Ok(graph) => graph,
        Err(error) => {
            let message = error.to_string();
            if !message.starts_with("fuzz.nir: ") {
                return Err(format!("an error that does not name the file: {message}"));
            }
            if message.contains("the HDF5 reader failed") {
                return Err(message);
            }
            return Ok(false);
        }
    };
    let Ok(imported) = nir::import(&graph, "fuzz", nir::DEFAULT_DT) else {
        return Ok(false);
    };
    let small = imported
        .tensors
        .values()
        .all(|(values, _)| values.len() <= 1 << 16);
    if !small {
        return Ok(false);
    }
    Ok(imported.build(&Device::flex()).is_ok())
}

/// A small network's NIR file as spikeforge writes it.
fn spikeforge_file() -> Vec<u8> {
    let lif = NeuronSpec {
        model: Some(ModelName::Lif),
        tau: Some(2.0),
        ..NeuronSpec::default()
    };
    let net = NetworkConfig::sequential(
        "fuzz",
        "layers",
        vec![
            LayerConfig::Conv2d(Conv2dConfig::same3x3(2)),
            LayerConfig::Neuron(NeuronSpec::default()),
            LayerConfig::AvgPool2d(PoolConfig::new(2)),
            LayerConfig::Flatten,
            LayerConfig::Linear(LinearConfig::new(3)),
            LayerConfig::Neuron(lif),
        ],
    )
    .init([2, 4, 4], 3, 0, &Device::flex())
    .unwrap();
    let exported = nir::export(&net, &ExportOptions::default()).unwrap();
    nir::hdf5::to_bytes(&exported.graph).unwrap()
}

#[test]
fn nir_files_never_panic_under_mutation() {
    let python = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/nir/small.nir"
    ))
    .unwrap();
    let ours = spikeforge_file();
    for seed in [&python, &ours] {
        assert_eq!(check(seed), Ok(true), "the seeds import");
    }
    let target = Target {
        name: "nir",
        seeds: vec![python, ours],
        check: Box::new(check),
    };
    let inputs = std::env::var("SPIKEFORGE_FUZZ_INPUTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(INPUTS);
    let started = std::time::Instant::now();
    let outcome = events::fuzz::run(&target, inputs, 0x5EED);
    println!(
        "{} inputs, {} imported, {:.1} s",
        outcome.inputs,
        outcome.accepted,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(outcome.inputs, inputs);
    assert!(outcome.failures.is_empty(), "{:#?}", outcome.failures);
    assert!(
        outcome.accepted >= 10,
        "only {} mutations imported",
        outcome.accepted
    );
}
