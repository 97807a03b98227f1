//! `spikeforge prepare`: a dataset folder into a frame cache.

use anyhow::Result;
use clap::Args;

use super::data::{DataArgs, PreparedData, prepare_data};

/// Options of `spikeforge prepare`.
#[derive(Debug, Args)]
pub struct PrepareArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Seed of the `random` split.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

impl PrepareArgs {
    /// The frame cache these options name, built or reused (with progress bars).
    pub fn prepare(&self) -> Result<PreparedData> {
        prepare_data(&self.data, self.seed)
    }
}

/// Runs `spikeforge prepare`.
pub fn run(args: &PrepareArgs) -> Result<()> {
    let prepared = args.prepare()?;
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
