//! The long fuzz run of every reader, the frame pipeline, the split manifest and the cache
//! loader (the test suite runs the same targets briefly):
//!
//! ```text
//! TMPDIR=/dev/shm cargo run --release -p spikeforge-events --example fuzz -- [INPUTS_PER_TARGET] [SEED] [TARGET,…]
//! ```

#[path = "../tests/fuzz/mod.rs"]
mod fuzz;

fn main() -> std::process::ExitCode {
    events::fuzz::long_run("spikeforge-fuzz", fuzz::targets)
}
