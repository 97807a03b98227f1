//! The long fuzz run of the checkpoint loader (the test suite runs the same targets
//! briefly):
//!
//! ```text
//! TMPDIR=/dev/shm cargo run --release -p spikeforge-snn --example fuzz_checkpoint -- [INPUTS_PER_TARGET] [SEED]
//! ```

#[path = "../tests/checkpoint_fuzz/mod.rs"]
mod checkpoint_fuzz;

fn main() -> std::process::ExitCode {
    events::fuzz::long_run("spikeforge-fuzz-checkpoint", checkpoint_fuzz::targets)
}
