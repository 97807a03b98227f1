//! `spikeforge`: train and run spiking neural networks on event-camera data.
//!
//! The binary only parses arguments and prints; the work is done by the `events` and `snn`
//! libraries.

mod allocator;
mod commands;
mod plots;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static GLOBAL: allocator::Allocator = allocator::Allocator;

#[derive(Debug, Parser)]
#[command(name = "spikeforge", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
    /// The table and plots of finished runs (run folders or `compare` folders).
    Report(commands::report::ReportArgs),
    /// Turn still images into event recordings with an emulated event camera.
    Emulate(commands::emulate::EmulateArgs),
    /// Measure speed and write the figures as JSON.
    #[command(subcommand)]
    Bench(commands::bench::Bench),
}

fn main() -> ExitCode {
    end_quietly_on_closed_pipe();
    let result = match Cli::parse().command {
        Command::Prepare(args) => commands::prepare::run(&args),
        Command::Train(args) => commands::train::run(&args),
        Command::Compare(args) => commands::compare::run(&args),
        Command::Models(args) => commands::models::run(&args),
        Command::Eval(args) => commands::eval::run(&args),
        Command::Report(args) => commands::report::run(&args),
        Command::Emulate(args) => commands::emulate::run(&args),
        Command::Bench(bench) => commands::bench::run(bench),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A user's error is its message and causes; a backtrace is for panics (bugs).
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Restores the default action of SIGPIPE, which Rust's runtime ignores: when the reader of
/// our output goes away (`spikeforge train … | head -1`), the process ends as Unix tools do,
/// instead of panicking on the next line it prints. Files already written stay whole: every
/// record and checkpoint is written to a temporary file, then renamed.
fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first in `main`, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
