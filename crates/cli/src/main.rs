//! `spikeforge`: train and run spiking neural networks on event-camera data.
//!
//! The binary only parses arguments and prints; the commands are the `spikeforge` library's,
//! the work is done by the `events` and `snn` libraries.

mod allocator;

use std::process::ExitCode;

use clap::Parser;
use spikeforge::Cli;

#[global_allocator]
static GLOBAL: allocator::Allocator = allocator::Allocator;

fn main() -> ExitCode {
    end_quietly_on_closed_pipe();
    match Cli::parse().command.run() {
        Ok(_) => ExitCode::SUCCESS,
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
