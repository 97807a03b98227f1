//! `spikeforge`'s commands as a library: the binary parses its arguments with [`Cli`] and
//! runs [`Command::run`]; the Python package runs the same commands in-process, so both have
//! the same options, defaults and checks.

pub mod commands;
mod plots;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "spikeforge", version, about)]
pub struct Cli {
    /// The subcommand and its options.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert a dataset folder into a frame cache (parallel, resumable, atomic).
    Prepare(commands::prepare::PrepareArgs),
    /// Train a network, a preset or a network file (progress, run record, checkpoints,
    /// plots; resumable).
    Train(commands::train::TrainArgs),
    /// Train networks on the same data and compare them (default: the seed SNN and CNN).
    Compare(commands::compare::CompareArgs),
    /// The model zoo: presets with parameter counts and input shapes (`--show NAME`: one's file).
    Models(commands::models::ModelsArgs),
    /// Evaluate a trained run's checkpoint on its test set (`--sparse`: also event-driven).
    Eval(commands::eval::EvalArgs),
    /// Export a trained run's network as a NIR graph (`--nir FILE`) for other frameworks.
    Export(commands::export::ExportArgs),
    /// Import a NIR graph as a network file and a run folder holding its weights.
    Import(commands::import::ImportArgs),
    /// The table and plots of finished runs (run folders or `compare` folders).
    Report(commands::report::ReportArgs),
    /// Turn still images into event recordings with an emulated event camera.
    Emulate(commands::emulate::EmulateArgs),
    /// Measure speed and write the figures as JSON.
    #[command(subcommand)]
    Bench(commands::bench::Bench),
}

impl Command {
    /// Runs the command. Returns the JSON record it wrote, for the commands that write one
    /// (`train`: the run's `run.json`, `compare`: `compare.json`, `eval`: its record,
    /// `import`: the imported run's `run.json`).
    pub fn run(self) -> Result<Option<PathBuf>> {
        match self {
            Command::Train(args) => commands::train::run(&args).map(Some),
            Command::Compare(args) => commands::compare::run(&args).map(Some),
            Command::Eval(args) => commands::eval::run(&args).map(Some),
            Command::Import(args) => commands::import::run(&args).map(Some),
            Command::Export(args) => commands::export::run(&args).map(|()| None),
            Command::Prepare(args) => commands::prepare::run(&args).map(|()| None),
            Command::Models(args) => commands::models::run(&args).map(|()| None),
            Command::Report(args) => commands::report::run(&args).map(|()| None),
            Command::Emulate(args) => commands::emulate::run(&args).map(|()| None),
            Command::Bench(bench) => commands::bench::run(bench).map(|()| None),
        }
    }
}
