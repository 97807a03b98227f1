//! `spikeforge prepare`: a dataset folder into a frame cache.

use anyhow::Result;
use clap::Args;

use super::data::{DataArgs, prepare_data};

/// Options of `spikeforge prepare`.
#[derive(Debug, Args)]
pub struct PrepareArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Seed of the `random` split.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Runs `spikeforge prepare`.
pub fn run(args: &PrepareArgs) -> Result<()> {
    let prepared = prepare_data(&args.data, args.seed)?;
    let settings = &prepared.cache.manifest.settings();
    println!(
        "cache ready: {} frames of [{}, 2, {}, {}] per recording; {} skipped; manifest {}",
        settings.key(),
        settings.frames,
        settings.size.0,
        settings.size.1,
        prepared.cache.manifest.skipped.len(),
        prepared.cache.dir.join("manifest.json").display()
    );
    Ok(())
}
