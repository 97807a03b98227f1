//! Shared helpers of the snn integration tests: fixture loading and tolerant comparison.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use serde_json::Value;
use snn::{NeuronConfig, NeuronModel, Reset, Surrogate};

/// The SpikingJelly golden data copied into this crate.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spikingjelly")
}

/// The manifest cases of one kind (`surrogate`, `neuron_multistep`) of the SpikingJelly data.
pub fn cases(kind: &str) -> Vec<Value> {
    cases_in(&fixtures_dir(), kind)
}

/// The cases of one kind in the manifest of fixture folder `dir`, with every `file` made a
/// path under `dir` (so that [`load`] finds it).
pub fn cases_in(dir: &Path, kind: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let mut manifest: Value = serde_json::from_str(&text).unwrap();
    resolve_files(&mut manifest, dir);
    let cases: Vec<Value> = manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|case| case["kind"] == kind)
        .cloned()
        .collect();
    assert!(!cases.is_empty(), "no `{kind}` case in {}", dir.display());
    cases
}

/// Makes every `"file"` string in `value` a path under `dir`.
fn resolve_files(value: &mut Value, dir: &Path) {
    match value {
        Value::Object(entries) => {
            for (key, entry) in entries.iter_mut() {
                match (key.as_str(), &*entry) {
                    ("file", Value::String(file)) => {
                        *entry = Value::String(dir.join(file).display().to_string());
                    }
                    _ => resolve_files(entry, dir),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| resolve_files(item, dir)),
        _ => {}
    }
}

/// An f32 `.npy` array named by a manifest entry `{file, shape}` (relative to the SpikingJelly
/// fixtures, or resolved by [`cases_in`]): values and shape.
pub fn load(entry: &Value) -> (Vec<f32>, Vec<usize>) {
    let path = fixtures_dir().join(entry["file"].as_str().unwrap());
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    (npy.into_vec::<f32>().unwrap(), shape)
}

/// A 2-D fixture array as a tensor on `device`.
pub fn load_tensor(entry: &Value, device: &Device) -> Tensor<2> {
    let (values, shape) = load(entry);
    Tensor::from_data(TensorData::new(values, [shape[0], shape[1]]), device)
}

/// `n` deterministic pseudo-random values, uniform in `[low, high)` (SplitMix64), so that
/// inputs do not depend on a backend's random generator or thread count.
pub fn uniform(seed: u64, n: usize, low: f32, high: f32) -> Vec<f32> {
    splitmix64(seed)
        .take(n)
        .map(|z| {
            let unit = (z >> 40) as f32 / (1u64 << 24) as f32;
            low + (high - low) * unit
        })
        .collect()
}

/// The SplitMix64 stream seeded with `seed`.
pub fn splitmix64(seed: u64) -> impl Iterator<Item = u64> {
    let mut state = seed;
    std::iter::repeat_with(move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// `f()` on a rayon pool of `threads` threads.
pub fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// The GPU devices the GPU tests run on: one per GPU feature of this build (`wgpu`: the
/// default adapter, lavapipe on CI; `cuda`: the first NVIDIA GPU) that this machine can open,
/// or those of them that `SPIKEFORGE_GPU` names (`cuda`, `wgpu`, `cuda,wgpu`).
/// A device that cannot be opened is skipped with a note on stderr, unless
/// `SPIKEFORGE_REQUIRE_GPU` is set (CI installs lavapipe and sets it): then the test fails.
#[cfg(feature = "cube")]
pub fn gpu_devices() -> Vec<Device> {
    let chosen = std::env::var("SPIKEFORGE_GPU").ok();
    let required = std::env::var_os("SPIKEFORGE_REQUIRE_GPU").is_some();
    let mut candidates = Vec::new();
    #[cfg(feature = "wgpu")]
    candidates.push((
        "wgpu",
        Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
    ));
    #[cfg(feature = "cuda")]
    candidates.push(("cuda", Device::cuda(0)));
    candidates.retain(|(name, _)| {
        chosen
            .as_ref()
            .is_none_or(|list| list.split(',').any(|n| n == *name))
    });
    if required && candidates.is_empty() {
        panic!(
            "SPIKEFORGE_REQUIRE_GPU is set but this build has no GPU backend that SPIKEFORGE_GPU names"
        );
    }
    candidates
        .into_iter()
        .filter_map(|(name, device)| {
            let probe = std::panic::catch_unwind(|| {
                Tensor::<1>::from_floats([1.0], &device).into_data();
            });
            match probe {
                Ok(()) => Some(device),
                Err(_) if required => {
                    panic!("SPIKEFORGE_REQUIRE_GPU is set but the {name} device could not be opened")
                }
                Err(_) => {
                    eprintln!(
                        "SKIPPED on {name}: no such device on this machine (for wgpu without a GPU, \
                         install a software Vulkan driver such as Debian's mesa-vulkan-drivers)"
                    );
                    None
                }
            }
        })
        .collect()
}

/// The values of a tensor.
pub fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().unwrap()
}

/// Bit-for-bit equality of two f32 arrays (as values: `-0.0 == 0.0`).
pub fn assert_exact(what: &str, actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            a == e,
            "{what}[{i}]: got {a:e}, expected {e:e} (must be exact)"
        );
    }
}

/// `|a − e| ≤ rtol · max(|e|, floor)` element-wise, with `floor = 0.1 · max|e|`.
///
/// Elements much smaller than the largest come from cancellations of terms of the array's
/// scale (`(1 − S) + (V_r − H)·σ′`, `g − g/τ`), whose f32 rounding (a few ulps of those
/// terms) depends on the order of operations; they are judged against a tenth of the scale.
/// Everything else must agree to `rtol` of its own value.
pub fn assert_close(what: &str, actual: &[f32], expected: &[f32], rtol: f32) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let scale = expected.iter().fold(0.0f32, |m, e| m.max(e.abs()));
    let floor = (0.1 * scale).max(f32::MIN_POSITIVE);
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let tolerance = rtol * e.abs().max(floor);
        assert!(
            (a - e).abs() <= tolerance,
            "{what}[{i}]: got {a:e}, expected {e:e} (|diff| {:e} > {tolerance:e})",
            (a - e).abs()
        );
    }
}

/// The surrogate a manifest entry names, with its parameters.
pub fn surrogate_of(class: &str, params: &Value) -> Surrogate {
    let base = Surrogate::from_name(class).unwrap();
    match base {
        Surrogate::PiecewiseLeakyReLU { .. } => Surrogate::PiecewiseLeakyReLU {
            w: params["w"].as_f64().unwrap() as f32,
            c: params["c"].as_f64().unwrap() as f32,
        },
        other => other.with_alpha(params["alpha"].as_f64().unwrap() as f32),
    }
}

/// The neuron settings of a `neuron_multistep` case.
pub fn neuron_config_of(case: &Value) -> NeuronConfig {
    let params = &case["params"];
    let decay_input = params["decay_input"].as_bool().unwrap_or(true);
    let model = match case["neuron"].as_str().unwrap() {
        "IF" => NeuronModel::If,
        "LIF" => NeuronModel::Lif {
            tau: params["tau"].as_f64().unwrap() as f32,
            decay_input,
        },
        "PLIF" => NeuronModel::ParametricLif {
            init_tau: params["init_tau"].as_f64().unwrap() as f32,
            decay_input,
        },
        other => panic!("unknown neuron {other}"),
    };
    NeuronConfig {
        model,
        v_threshold: params["v_threshold"].as_f64().unwrap() as f32,
        reset: match params["v_reset"].as_f64() {
            Some(v_reset) => Reset::Hard {
                v_reset: v_reset as f32,
            },
            None => Reset::Soft,
        },
        detach_reset: params["detach_reset"].as_bool().unwrap(),
        surrogate: surrogate_of(
            params["surrogate"].as_str().unwrap(),
            &params["surrogate_params"],
        ),
    }
}

/// A proptest runner for `cases` cases whose random stream is fixed by `seed`, so that a
/// failure reproduces.
pub fn seeded_runner(cases: u32, seed: u8) -> proptest::test_runner::TestRunner {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let config = Config {
        cases,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

/// `len` multiples of 1/8 in [−1, 1]: sums of a few products of them are exact in `f32` in
/// any order, so fused and composed ops must agree bit for bit on them.
pub fn eighths(seed: u64, len: usize) -> Vec<f32> {
    uniform(seed, len, -8.0, 9.0)
        .into_iter()
        .map(|v| v.floor() / 8.0)
        .collect()
}

/// `net` with every parameter replaced by multiples of 1/8 (tensor `i` drawn from seed
/// `seed + i`); PLIF's `w` by 0, so that `k = sigmoid(w)` is a dyadic 1/2.
pub fn on_grid(net: snn::network::Network, seed: u64) -> snn::network::Network {
    let shapes: Vec<(String, Vec<usize>)> = net
        .torch_tensors()
        .iter()
        .map(|t| (t.name.clone(), t.shape().to_vec()))
        .collect();
    net.load_torch(&|name| {
        let (index, (_, shape)) = shapes.iter().enumerate().find(|(_, (n, _))| n == name)?;
        let len = shape.iter().product::<usize>();
        let values = if shape.is_empty() {
            vec![0.0]
        } else {
            eighths(seed + index as u64, len)
        };
        Some((values, shape.clone()))
    })
    .unwrap()
}
