//! The fused neuron kernels round every product before it is summed, as the CPU kernels and
//! SpikingJelly do, whatever the GPU compilers fuse.
//!
//! CubeCL's optimiser turns `a·b + c` into `fma(a, b, c)` (one rounding) in every backend's
//! source; on a GPU with fused multiply-add (any NVIDIA card, through CUDA or Vulkan) that
//! moves potentials by an ulp and can flip spikes. The kernels therefore write each such
//! product as `a·b·one`, with `one` their first `f32` launch argument (always 1): the only
//! fusion left is `fma(a·b, one, c)`, which rounds like the unfused sum. This test compiles the
//! kernels through wgpu (WGSL; lavapipe on CI) with CubeCL's compilation log on, and checks
//! that every `fma` in their source has `one` as a factor. Lavapipe does not fuse, so a
//! numerical comparison could not see the difference here; the source can.
#![cfg(feature = "wgpu")]

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use burn_cubecl::cubecl::config::compilation::CompilationLogLevel;
use burn_cubecl::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
use common::uniform;
use snn::{Implementation, MultiStepOptions, NeuronConfig, NeuronState, Reset, Surrogate};

/// One layer's forward and backward through the fused kernels on `device`.
fn run_fused(config: NeuronConfig, device: &Device) {
    let device = device.clone().autodiff();
    let (steps, neurons) = (4, 64);
    let tensor = |salt, low, high| {
        let values = uniform(salt, steps * neurons, low, high);
        Tensor::<3>::from_data(TensorData::new(values, [steps, 1, neurons]), &device)
    };
    let x = tensor(1, -0.6, 1.4).require_grad();
    let v0 = tensor(2, -0.5, 0.5).narrow(0, 0, 1);
    let neuron = config.init(&device).unwrap();
    let out = neuron
        .multi_step(
            x.clone(),
            Some(NeuronState { v: v0 }),
            MultiStepOptions {
                store_v_seq: true,
                implementation: Implementation::Fused,
            },
        )
        .unwrap();
    let loss = (out.spikes * tensor(3, -1.0, 1.0)).sum() + out.v_seq.unwrap().sum();
    x.grad(&loss.backward()).unwrap().into_data();
}

/// The kernels' functions (`fn forward_kernel_…` / `fn backward_kernel_…`) in a compilation log.
fn neuron_kernels(log: &str) -> Vec<&str> {
    log.split("\nfn ")
        .skip(1)
        .filter(|f| f.starts_with("forward_kernel_") || f.starts_with("backward_kernel_"))
        .map(|f| f.split("\n}\n\n").next().unwrap_or(f))
        .collect()
}

/// The `fma(a, b, c)` calls of a WGSL function without the variable `one` as a factor.
fn unrounded_fmas<'a>(function: &'a str, one: &str) -> Vec<&'a str> {
    function
        .lines()
        .filter_map(|line| {
            let args = line.split_once("fma(")?.1.split(')').next()?;
            let factors: Vec<&str> = args.split(',').map(str::trim).take(2).collect();
            (!factors.contains(&one)).then_some(line)
        })
        .collect()
}

/// The WGSL variable a function loads its first `f32` launch argument into.
fn first_f32_argument(function: &str) -> Option<&str> {
    function.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("let ")?;
        let (name, value) = rest.split_once(" = ")?;
        (value.trim_end_matches(';') == "info_var.scalars_f32[0]").then_some(name)
    })
}

#[test]
fn every_fused_product_is_rounded_first() {
    let log_path =
        std::env::temp_dir().join(format!("spikeforge-kernels-{}.log", std::process::id()));
    let mut config = CubeClRuntimeConfig::default();
    config.compilation.logger.level = CompilationLogLevel::Full;
    config.compilation.logger.file = Some(log_path.clone());
    CubeClRuntimeConfig::set(config);

    let devices = common::gpu_devices();
    if devices.is_empty() {
        return; // `gpu_devices` said why (or failed, under SPIKEFORGE_REQUIRE_GPU).
    }
    // Every kind of product site: PLIF's two charge rules, both resets, the two surrogates
    // with a product inside, the PLIF gradient split and its `k` sum.
    for model in [
        NeuronConfig::plif(2.0),
        NeuronConfig::plif(4.0).with_decay_input(false),
    ] {
        for surrogate in [
            Surrogate::ATan { alpha: 2.0 },
            Surrogate::PiecewiseQuadratic { alpha: 1.0 },
        ] {
            for reset in [Reset::Hard { v_reset: 0.0 }, Reset::Soft] {
                let config = model.with_surrogate(surrogate).with_reset(reset);
                run_fused(config, &devices[0]);
            }
        }
    }

    let log = std::fs::read_to_string(&log_path).expect("CubeCL wrote no compilation log");
    std::fs::remove_file(&log_path).ok();
    let kernels = neuron_kernels(&log);
    assert!(
        kernels.len() >= 2,
        "found {} neuron kernels in the compilation log (WGSL expected)",
        kernels.len()
    );
    let mut fused = 0;
    for kernel in &kernels {
        let name = kernel.split('(').next().unwrap_or("?");
        let one = first_f32_argument(kernel)
            .unwrap_or_else(|| panic!("{name}: no first f32 launch argument in its source"));
        let bad = unrounded_fmas(kernel, one);
        assert!(
            bad.is_empty(),
            "{name}: fused multiply-adds without the rounding factor `{one}`:\n{}",
            bad.join("\n")
        );
        fused += kernel.matches("fma(").count();
    }
    // The optimiser does fuse (else this test would check nothing): `fma(a·b, one, c)`.
    assert!(
        fused > 0,
        "no fma in any neuron kernel: has CubeCL stopped fusing?"
    );
}
