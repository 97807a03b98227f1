//! `spikeforge import FILE --out DIR`: a NIR graph as a spikeforge network. The folder gets
//! `network.toml`, the network file (`spikeforge train --model DIR/network.toml` trains it
//! from scratch on any data of its input shape and classes), and the graph's weights as a
//! run of no epochs (`run.json`, `best.ckpt`, `last.ckpt`, status `imported`), which
//! `spikeforge export`, the library's `load_trained` and the Python package's
//! `TrainedNetwork` read. The mapping is `snn::nir::import`'s.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use clap::Args;
use snn::nir::{DEFAULT_DT, import_file, write_run};
use snn::train::{BEST_CHECKPOINT, LAST_CHECKPOINT, RUN_RECORD};

/// The network file in an import folder.
pub const NETWORK_FILE: &str = "network.toml";

/// Options of `spikeforge import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The NIR file (HDF5) to read.
    nir: PathBuf,
    /// The folder to write (`network.toml`, `run.json`, `best.ckpt`, `last.ckpt`).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The time step in seconds of the graph's neurons (IF needs r = 1/dt; LIF's tau/dt
    /// is the discrete time constant). SpikingJelly's and snnTorch's default.
    #[arg(long, default_value_t = DEFAULT_DT)]
    dt: f64,
}

/// Runs `spikeforge import`; returns the written `run.json`.
pub fn run(args: &ImportArgs) -> Result<PathBuf> {
    for existing in [RUN_RECORD, BEST_CHECKPOINT, LAST_CHECKPOINT, NETWORK_FILE] {
        if args.out.join(existing).exists() {
            bail!(
                "{} already holds {existing}; choose another output folder",
                args.out.display()
            );
        }
    }
    let imported = import_file(&args.nir, args.dt)?;
    let network = imported.build(&Device::flex())?;
    let text = imported.network_file(&format!(
        "Imported from {} by `spikeforge import` (dt = {} s); the weights are in this \
         folder's best.ckpt.",
        args.nir.display(),
        args.dt
    ))?;
    let file = args.out.join(NETWORK_FILE);
    events::formats::write_atomically(&file, text.as_bytes())
        .with_context(|| format!("writing {}", file.display()))?;
    let source = args.nir.display().to_string();
    write_run(&imported, &network, &args.out, &source)?;
    println!(
        "wrote {}: `{}` ({} layers, input {:?}, {} classes, {} parameters) as {} and a run \
         folder with its weights (spikeforge export {} --nir FILE; train it anew: spikeforge \
         train --model {})",
        args.out.display(),
        imported.network.name,
        imported.network.layers.len(),
        imported.input,
        imported.classes,
        network.num_parameters(),
        NETWORK_FILE,
        args.out.display(),
        file.display()
    );
    Ok(args.out.join(RUN_RECORD))
}
