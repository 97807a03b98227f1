//! Stub of `cubecl-llvm` 0.11.3 with no LLVM in it: the names `cubecl-cuda` 0.11.3 refers to,
//! for a build whose CUDA runtime uses the CUDA C++/NVRTC backend (`cubecl-cuda/cpp`).
//! Compiling through the LLVM backend returns an error naming the cause.

use cubecl_core::ir::nvidia::SmArch;
use cubecl_core::prelude::KernelDefinition;
use cubecl_core::{CompilationError, Compiler};
use cubecl_environment::backtrace::BackTrace;
use cubecl_runtime::kernel::BufferIOAttr;

pub mod nvptx {
    pub mod ptx_version {
        //! Copied from cubecl-llvm 0.11.3 `src/nvptx/ptx_version.rs` (pure Rust, no LLVM).
        use core::fmt;

        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct PtxVersion(u32);

        impl PtxVersion {
            pub fn for_driver(driver: i32) -> Option<Self> {
                DRIVER_PTX
                    .iter()
                    .find(|(first_driver, _)| driver >= *first_driver)
                    .map(|(_, ptx)| Self(*ptx))
            }
        }

        impl fmt::Display for PtxVersion {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "ptx{}", self.0)
            }
        }

        /// The first driver version of each PTX ISA version, newest first.
        #[rustfmt::skip]
        const DRIVER_PTX: &[(i32, u32)] = &[
            (13030, 93), (13020, 92), (13010, 91), (13000, 90), (12090, 88), (12080, 87),
            (12050, 85), (12040, 84), (12030, 83), (12020, 82), (12010, 81), (12000, 80),
            (11080, 78), (11070, 77), (11060, 76), (11050, 75), (11040, 74), (11030, 73),
            (11020, 72), (11010, 71), (11000, 70), (10020, 65), (10010, 64), (10000, 63),
        ];
    }
}

pub mod shared {
    pub mod lowered_features {
        use cubecl_core::ir::DeviceProperties;

        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum GpuTarget {
            Nvptx,
        }

        /// Only called when the LLVM backend is selected, which this stub cannot serve.
        pub fn restrict_features(_props: &mut DeviceProperties, _target: GpuTarget) {
            panic!("{}", super::super::NO_LLVM);
        }
    }
}

const NO_LLVM: &str = "this build has no LLVM backend (stub cubecl-llvm): enable \
                       cubecl-cuda's `cpp` feature so that CUDA kernels go through NVRTC";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LlvmTarget {
    #[default]
    Cpu,
    Nvptx,
}

#[derive(Clone, Debug, Default)]
pub struct PlironCompiler {
    pub target: LlvmTarget,
}

#[derive(Clone, Debug, Default)]
pub struct PlironOptions {
    pub cpu_buffer_alignment: Option<u32>,
    pub arch: Option<()>,
    pub sm_arch: Option<SmArch>,
    pub ptx_version: Option<nvptx::ptx_version::PtxVersion>,
    pub grid_constants: bool,
}

#[derive(Clone, Debug)]
pub struct NvptxModule {
    pub ptx: Vec<core::ffi::c_char>,
    pub entrypoint: String,
    pub ir: String,
    pub shared_memory_size: usize,
    pub io: Vec<BufferIOAttr>,
}

#[derive(Clone, Debug)]
pub enum PlironArtifact {
    NvptxCode(NvptxModule),
    /// Never constructed; keeps `cubecl-cuda`'s catch-all match arm meaningful.
    Unavailable,
}

impl core::fmt::Display for PlironArtifact {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PlironArtifact::NvptxCode(module) => write!(f, "{}", module.ir),
            PlironArtifact::Unavailable => f.write_str(NO_LLVM),
        }
    }
}

impl Compiler for PlironCompiler {
    type Representation = PlironArtifact;
    type CompilationOptions = PlironOptions;

    fn compile(
        &mut self,
        _kernel: KernelDefinition,
        _options: &Self::CompilationOptions,
    ) -> Result<Self::Representation, CompilationError> {
        Err(CompilationError::Generic {
            reason: NO_LLVM.to_string(),
            backtrace: BackTrace::capture(),
        })
    }

    fn extension(&self) -> &'static str {
        "ll"
    }

    fn lang_tag(&self) -> &'static str {
        "llvm"
    }
}
