//! `--device`: where a command computes.

use anyhow::{Result, bail};
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
            DeviceChoice::Cuda => cuda(),
            DeviceChoice::Wgpu => wgpu(),
        }
    }
}

#[cfg(feature = "cuda")]
fn cuda() -> Result<(Device, String)> {
    named("cuda:0", Device::cuda(0))
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<(Device, String)> {
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
