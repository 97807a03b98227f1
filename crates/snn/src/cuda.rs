//! What a CUDA run needs from the machine, checked before burn's CUDA backend starts: that
//! backend loads the driver and NVRTC on a thread of its own and panics there without saying
//! which piece is missing.
//!
//! Nothing of CUDA is needed to build: the driver (`libcuda.so`, API 13.0 unless
//! `CUDARC_CUDA_VERSION` said otherwise at build time) and NVRTC (`libnvrtc.so`, which compiles
//! the kernels from CUDA C++ at run time) are loaded when a device opens, and NVRTC reads the
//! CUDA headers (`$CUDA_PATH/include`, else `/usr/local/cuda/include`, `/opt/cuda/include`).

use std::path::PathBuf;

/// Checks that the CUDA driver, NVRTC and the CUDA headers can be found; the error names the
/// one missing and where it was looked for.
pub fn check_runtime() -> Result<(), String> {
    // SAFETY: each probe loads a shared library and unloads it; these are the libraries that
    // opening a CUDA device loads anyway, and their initialisers have no other effect.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err(missing_library(
            "the CUDA driver library (libcuda.so.1)",
            "install the NVIDIA driver",
        ));
    }
    // SAFETY: as above.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(missing_library(
            "NVRTC (libnvrtc.so, which compiles the kernels at run time)",
            "add a CUDA toolkit's lib64 folder, or that of the pip package \
             nvidia-cuda-nvrtc, to LD_LIBRARY_PATH",
        ));
    }
    match cubecl_cuda::install::cuda_path().map(|root| root.join("include")) {
        Some(include) if include.join("cuda_fp16.h").is_file() => Ok(()),
        found => Err(format!(
            "the CUDA headers that NVRTC compiles the kernels with are missing ({}): set \
             CUDA_PATH to a CUDA toolkit, whose include/ folder holds cuda_fp16.h",
            found.map_or_else(
                || "no CUDA_PATH, /usr/local/cuda, /opt/cuda or /usr/bin/nvcc".to_string(),
                |path: PathBuf| format!("no cuda_fp16.h in {}", path.display())
            )
        )),
    }
}

/// Checks that NCCL, which sums the gradients of data-parallel training, can be loaded.
pub fn check_nccl() -> Result<(), String> {
    // SAFETY: as in `check_runtime`; NCCL is what the first all-reduce loads anyway.
    if unsafe { cudarc::nccl::sys::is_culib_present() } {
        Ok(())
    } else {
        Err(missing_library(
            "NCCL (libnccl.so.2, which sums the replicas' gradients)",
            "add the folder of NCCL's library (a system package, or the pip package \
             nvidia-nccl-cu13) to LD_LIBRARY_PATH",
        ))
    }
}

fn missing_library(what: &str, remedy: &str) -> String {
    format!(
        "{what} could not be loaded (searched the library path: LD_LIBRARY_PATH, then the \
         system's): {remedy}"
    )
}
