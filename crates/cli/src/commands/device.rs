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
    let device = Device::cuda(0);
    Ok((device.clone(), format!("cuda:0 ({device:?})")))
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<(Device, String)> {
    bail!("this spikeforge was built without CUDA; rebuild it with `--features cuda`")
}

#[cfg(feature = "wgpu")]
fn wgpu() -> Result<(Device, String)> {
    let device = Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
    Ok((device.clone(), format!("wgpu ({device:?})")))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu() -> Result<(Device, String)> {
    bail!("this spikeforge was built without wgpu; rebuild it with `--features wgpu`")
}
