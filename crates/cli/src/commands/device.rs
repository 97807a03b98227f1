//! `--device`: where a command computes.

use anyhow::{Context, Result, bail, ensure};
use burn::tensor::Device;
use clap::ValueEnum;

/// A compute device choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum DeviceChoice {
    /// The CPU (burn's Flex backend, all cores unless `RAYON_NUM_THREADS` says otherwise).
    #[default]
    Cpu,
    /// The first NVIDIA GPU (burn's CUDA backend; needs a build with `--features cuda`).
    Cuda,
    /// The default GPU adapter through wgpu (Vulkan/Metal; needs `--features wgpu`).
    Wgpu,
}

impl DeviceChoice {
    /// The burn device and a name for run records.
    pub fn device(self) -> Result<(Device, String)> {
        match self {
            DeviceChoice::Cpu => Ok((
                Device::flex(),
                format!("cpu (flex, {} threads)", rayon::current_num_threads()),
            )),
            DeviceChoice::Cuda => cuda(0),
            DeviceChoice::Wgpu => wgpu(),
        }
    }
}

/// The CUDA device indices that `--devices` names (`cuda:0,cuda:1`): at least two, each once;
/// an error in a build without CUDA. Opens nothing, so that settings are checked before any
/// data is read.
pub fn parse_devices(list: &str) -> Result<Vec<usize>> {
    let mut indices = Vec::new();
    for item in list.split(',').map(str::trim) {
        let index: usize = item
            .strip_prefix("cuda:")
            .and_then(|index| index.parse().ok())
            .with_context(|| {
                format!(
                    "--devices: `{item}` is not a CUDA device such as `cuda:1` (data-parallel \
                     training runs on CUDA devices only)"
                )
            })?;
        ensure!(
            !indices.contains(&index),
            "--devices: cuda:{index} is named twice"
        );
        indices.push(index);
    }
    ensure!(
        indices.len() >= 2,
        "--devices needs at least two devices (`cuda:0,cuda:1`); for one, use --device"
    );
    ensure!(
        cfg!(feature = "cuda"),
        "--devices: this spikeforge was built without CUDA; rebuild it with `--features cuda`"
    );
    Ok(indices)
}

/// `--devices`: the opened devices of a data-parallel run and a name for the run record.
/// CUDA only: the collectives that sum the replicas' gradients exist in burn's CUDA backend
/// alone.
pub fn data_parallel(list: &str) -> Result<(Vec<Device>, String)> {
    let indices = parse_devices(list)?;
    #[cfg(feature = "cuda")]
    snn::cuda::check_nccl()
        .map_err(|why| anyhow::anyhow!("cannot train on several GPUs: {why}"))?;
    let mut devices = Vec::new();
    let mut names = Vec::new();
    for index in indices {
        let (device, name) = cuda(index)?;
        devices.push(device);
        names.push(name);
    }
    Ok((devices, names.join(" + ")))
}

#[cfg(feature = "cuda")]
fn cuda(index: usize) -> Result<(Device, String)> {
    snn::cuda::check_runtime().map_err(|why| anyhow::anyhow!("cannot use CUDA: {why}"))?;
    named(&format!("cuda:{index}"), Device::cuda(index))
}

#[cfg(not(feature = "cuda"))]
fn cuda(_index: usize) -> Result<(Device, String)> {
    bail!("this spikeforge was built without CUDA; rebuild it with `--features cuda`")
}

#[cfg(feature = "wgpu")]
fn wgpu() -> Result<(Device, String)> {
    named(
        "wgpu",
        Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
    )
}

/// Opens a GPU device and names it for run records by what the device calls itself
/// (`NVIDIA H100 PCIe`, `llvmpipe (LLVM 15.0.6, 256 bits)`). Opening fails with an error, not a
/// panic, where the machine has no such device.
#[cfg(any(feature = "cuda", feature = "wgpu"))]
fn named(choice: &str, device: Device) -> Result<(Device, String)> {
    match events::panics::quietly(|| device.identity()) {
        Ok(identity) => {
            let name = identity.map_or_else(|| format!("{device:?}"), |id| id.name);
            Ok((device, format!("{choice} ({name})")))
        }
        Err(why) => bail!("could not open the {choice} device: {why}; is a driver installed?"),
    }
}

#[cfg(not(feature = "wgpu"))]
fn wgpu() -> Result<(Device, String)> {
    bail!("this spikeforge was built without wgpu; rebuild it with `--features wgpu`")
}
