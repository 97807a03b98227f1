//! `spikeforge models`: the model zoo's presets with their parameter counts and input
//! shapes, or one preset's network file.

use anyhow::{Result, bail};
use burn::tensor::Device;
use clap::Args;
use snn::models;

/// Options of `spikeforge models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Print this preset's network file instead of the list.
    #[arg(long, value_name = "NAME")]
    show: Option<String>,
    /// Classes the parameter counts are for (1 to 1000).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    classes: u16,
}

/// Runs `spikeforge models`.
pub fn run(args: &ModelsArgs) -> Result<()> {
    let classes = usize::from(args.classes);
    if let Some(name) = &args.show {
        let name = match name.as_str() {
            "snn" => "seed-snn",
            "cnn" => "seed-cnn",
            other => other,
        };
        match models::text(name) {
            Some(text) => print!("{text}"),
            None => bail!(
                "no preset `{name}` (presets: {})",
                models::names().collect::<Vec<_>>().join(", ")
            ),
        }
        return Ok(());
    }
    println!(
        "{:<16} {:>14} {:>11} {:>7}  description",
        "name", "input [C,H,W]", "parameters", "layers"
    );
    for name in models::names() {
        let file = models::preset(name).expect("a listed preset");
        let input = file.input().unwrap_or([2, 32, 32]);
        let config = file.resolve(classes, &Default::default())?;
        let network = config.init(input, classes, 0, &Device::flex())?;
        println!(
            "{:<16} {:>14} {:>11} {:>7}  {}",
            name,
            format!("{input:?}"),
            network.num_parameters(),
            network.layers.len(),
            file.description()
        );
    }
    println!(
        "(parameters for {} classes at the input shown; a network is built for the data's \
         shape; `--show NAME` prints its file)",
        classes
    );
    Ok(())
}
