//! `spikeforge export RUN --nir FILE`: a trained run's network as a NIR graph (HDF5), for
//! SpikingJelly, snnTorch, Norse, Sinabs, Rockpool, Lava and other NIR readers; the mapping
//! is `snn::nir::export`'s.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::tensor::Device;
use clap::Args;
use snn::nir::{DEFAULT_DT, ExportOptions, export_file};

use super::eval::{Which, load_trained};

/// Options of `spikeforge export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A run folder written by `spikeforge train` (or by `spikeforge import`).
    run: PathBuf,
    /// The NIR file to write (HDF5, written atomically).
    #[arg(long, value_name = "FILE")]
    nir: PathBuf,
    /// Which checkpoint to export.
    #[arg(long, value_enum, default_value_t = Which::Best)]
    checkpoint: Which,
    /// The time step in seconds that maps the discrete neurons to NIR's continuous ones
    /// (IF: r = 1/dt; LIF: tau·dt). SpikingJelly's and snnTorch's default.
    #[arg(long, default_value_t = DEFAULT_DT)]
    dt: f64,
    /// Export soft-reset neurons as hard-reset ones (to 0), as SpikingJelly does: NIR has no
    /// soft reset, so the exported graph then spikes differently (a warning says so).
    /// Without it a soft reset is an error.
    #[arg(long)]
    soft_reset_as_hard: bool,
}

/// Runs `spikeforge export`.
pub fn run(args: &ExportArgs) -> Result<()> {
    let (network, record, checkpoint) = load_trained(&args.run, args.checkpoint, &Device::flex())?;
    let options = ExportOptions {
        dt: args.dt,
        soft_reset_as_hard: args.soft_reset_as_hard,
    };
    let warnings = export_file(&network, &args.nir, &options)
        .with_context(|| format!("exporting {}", checkpoint.display()))?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    println!(
        "wrote {}: `{}` ({} layers, input {:?}, {} classes) from {}, dt = {} s; its output at \
         each step averaged over the steps is the run's class scores",
        args.nir.display(),
        record.model.network.name,
        record.model.network.layers.len(),
        record.model.input,
        record.model.classes,
        checkpoint.display(),
        args.dt
    );
    Ok(())
}
