//! A small mutation fuzzer for the readers and loaders: valid inputs mutated (bits flipped,
//! bytes set to extremes, ranges inserted, deleted or repeated, files cut, `u32` fields set
//! to extremes) from a seeded ChaCha8 stream, each run through a target's property check
//! with panics caught. Stable Rust, no instrumentation: the test suites run every target
//! briefly, the `fuzz` example long.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::process::ExitCode;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A target's property check: `Ok(true)`: accepted, `Ok(false)`: refused with a proper
/// error, `Err`: the property failed (why).
pub type Check = Box<dyn Fn(&[u8]) -> Result<bool, String>>;

/// One fuzz target: valid seed inputs and the property every mutated input must keep.
pub struct Target {
    /// Its name.
    pub name: &'static str,
    /// Valid inputs the mutations start from.
    pub seeds: Vec<Vec<u8>>,
    /// The property.
    pub check: Check,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Inputs tried.
    pub inputs: u64,
    /// Inputs accepted.
    pub accepted: u64,
    /// Properties that failed, panics included (the first few).
    pub failures: Vec<String>,
    /// Failed inputs in all.
    pub failed: u64,
}

/// Runs `inputs` mutated inputs through `target`, from the stream `seed`.
///
/// # Panics
/// If `target` has no seed input.
pub fn run(target: &Target, inputs: u64, seed: u64) -> Outcome {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut outcome = Outcome::default();
    for _ in 0..inputs {
        let seed_input = &target.seeds[rng.random_range(0..target.seeds.len())];
        let input = mutate(seed_input, &mut rng);
        let result = crate::panics::quietly(AssertUnwindSafe(|| (target.check)(&input)));
        outcome.inputs += 1;
        let failure = match result {
            Ok(Ok(accepted)) => {
                outcome.accepted += u64::from(accepted);
                None
            }
            Ok(Err(why)) => Some(why),
            Err(panic) => Some(format!("panic: {panic}")),
        };
        if let Some(why) = failure {
            outcome.failed += 1;
            if outcome.failures.len() < 5 {
                let shown = &input[..input.len().min(48)];
                outcome.failures.push(format!(
                    "{}: {why} (input of {} bytes, starting {shown:?})",
                    target.name,
                    input.len()
                ));
            }
        }
    }
    outcome
}

/// One to four mutations of `seed`.
pub fn mutate(seed: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    const INTERESTING: [u8; 8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, b'\n', b'#', b'"'];
    let mut bytes = seed.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let len = bytes.len();
        let at = if len == 0 {
            0
        } else {
            rng.random_range(0..len)
        };
        match rng.random_range(0..8) {
            0 if len > 0 => bytes[at] ^= 1 << rng.random_range(0..8),
            1 if len > 0 => bytes[at] = rng.random(),
            2 if len > 0 => bytes[at] = INTERESTING[rng.random_range(0..INTERESTING.len())],
            3 => {
                let count = rng.random_range(1..=16);
                let inserted: Vec<u8> = (0..count).map(|_| rng.random()).collect();
                bytes.splice(at..at, inserted);
            }
            4 if len > 0 => {
                let end = (at + rng.random_range(1..=64)).min(len);
                bytes.drain(at..end);
            }
            5 if len > 0 => {
                let end = (at + rng.random_range(1..=64)).min(len);
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            6 => bytes.truncate(at),
            _ if len >= 4 => {
                // A little-endian u32 field set to an extreme.
                let at = at.min(len - 4);
                let value: u32 =
                    [0, 1, u32::MAX, u32::MAX / 2 + 1, rng.random()][rng.random_range(0..5)];
                bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
            }
            _ => bytes.push(rng.random()),
        }
    }
    bytes
}

/// Runs `inputs` mutated inputs through each of `targets` (stream `seed`), printing one line
/// per target and the failures; returns whether every property held.
pub fn run_and_report(targets: &[Target], inputs: u64, seed: u64) -> bool {
    println!("{inputs} inputs per target, seed {seed}");
    println!(
        "{:<18} {:>10} {:>10} {:>8} {:>9} {:>11}",
        "target", "inputs", "accepted", "failed", "seconds", "inputs/s"
    );
    let mut failures = Vec::new();
    for target in targets {
        let started = std::time::Instant::now();
        let outcome = run(target, inputs, seed);
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{:<18} {:>10} {:>10} {:>8} {:>9.1} {:>11.0}",
            target.name,
            outcome.inputs,
            outcome.accepted,
            outcome.failed,
            seconds,
            outcome.inputs as f64 / seconds
        );
        failures.extend(outcome.failures);
    }
    for failure in &failures {
        eprintln!("{failure}");
    }
    failures.is_empty()
}

/// The main of a long run: `[INPUTS_PER_TARGET (default 10⁶)] [SEED]` from the command line,
/// the targets `targets` makes in a scratch folder under the temporary directory (put it on
/// a RAM disk, `TMPDIR=/dev/shm`: the loader targets write a file per input), one line per
/// target; fails if any property failed.
pub fn long_run(name: &str, targets: impl FnOnce(&Path) -> Vec<Target>) -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut number = |default: u64| {
        args.next().map_or(default, |a| {
            a.parse()
                .unwrap_or_else(|_| panic!("expected a number, got `{a}`"))
        })
    };
    let (inputs, seed) = (number(1_000_000), number(0x5EED));
    // An optional third argument: the targets to run, comma-separated (default: all).
    let only: Option<Vec<String>> = args
        .next()
        .map(|names| names.split(',').map(str::to_string).collect());
    let scratch = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let mut chosen = targets(&scratch);
    if let Some(only) = &only {
        let names: Vec<&str> = chosen.iter().map(|target| target.name).collect();
        if let Some(unknown) = only.iter().find(|name| !names.contains(&name.as_str())) {
            eprintln!(
                "no fuzz target `{unknown}`; the targets are {}",
                names.join(", ")
            );
            return ExitCode::FAILURE;
        }
        chosen.retain(|target| only.iter().any(|name| name == target.name));
    }
    let held = run_and_report(&chosen, inputs, seed);
    let _ = std::fs::remove_dir_all(&scratch);
    if held {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
