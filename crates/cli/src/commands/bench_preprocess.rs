//! `spikeforge bench preprocess`: how fast `prepare` turns CIFAR10-DVS recordings into the
//! seed's frames, next to the time it takes just to read their bytes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use events::Events;
use events::cache::{FrameSettings, PrepareRequest, prepare};
use events::dataset::{CIFAR10_DVS_CLASSES, cifar10_dvs};
use events::formats::aedat2;
use events::split::{SplitManifest, SplitRule};
use rayon::prelude::*;
use serde::Serialize;

use super::bench::write_json_atomically;

/// Options of `spikeforge bench preprocess`.
#[derive(Debug, Args)]
pub struct PreprocessArgs {
    /// Recordings to generate (spread over the ten classes), 100k–300k events each.
    #[arg(long, default_value_t = 1000)]
    files: usize,
    /// Where the generated CIFAR10-DVS folder is kept (reused when complete).
    #[arg(long, default_value = "target/bench/cifar10-dvs-synthetic")]
    data: PathBuf,
    /// Timed runs of each measurement; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Where to write the JSON record.
    #[arg(long, default_value = "target/bench/preprocess.json")]
    json: PathBuf,
}

#[derive(Debug, Serialize)]
struct PreprocessRecord {
    benchmark: &'static str,
    files: usize,
    events: u64,
    bytes: u64,
    threads: usize,
    settings: String,
    read_bytes_s: f64,
    prepare_s: f64,
    prepare_over_read: f64,
    events_per_s: f64,
    files_per_s: f64,
}

/// Runs the benchmark.
pub fn run(args: &PreprocessArgs) -> Result<()> {
    anyhow::ensure!(
        args.repeats > 0 && args.files > 0,
        "--files and --repeats must be at least 1"
    );
    let started = Instant::now();
    let (events, bytes) = generate(&args.data, args.files)?;
    println!(
        "{} recordings, {events} events, {:.2} GB in {} (ready in {:.1} s)",
        args.files,
        bytes as f64 / 1e9,
        args.data.display(),
        started.elapsed().as_secs_f64()
    );
    let index = cifar10_dvs(&args.data)?;
    let split = SplitManifest::split(&index, SplitRule::SpikingJelly { train_ratio: 0.9 })?;
    let settings = FrameSettings::default();
    let files: Vec<PathBuf> = index
        .recordings
        .iter()
        .map(|r| args.data.join(&r.file))
        .collect();
    read_all(&files)?; // warm the page cache
    let read_s = median(args.repeats, || read_all(&files).map(|_| ()))?;
    let scratch = args.data.with_extension("cache");
    let prepare_s = median(args.repeats, || {
        let _ = std::fs::remove_dir_all(&scratch);
        let request = PrepareRequest {
            dataset: "cifar10-dvs",
            index: &index,
            split: &split,
            settings,
            skip_bad: false,
        };
        prepare(&request, &scratch, &|| {})?;
        Ok(())
    })?;
    let _ = std::fs::remove_dir_all(&scratch);
    let record = PreprocessRecord {
        benchmark: "prepare_cifar10dvs",
        files: args.files,
        events,
        bytes,
        threads: rayon::current_num_threads(),
        settings: settings.key(),
        read_bytes_s: read_s,
        prepare_s,
        prepare_over_read: prepare_s / read_s,
        events_per_s: events as f64 / prepare_s,
        files_per_s: args.files as f64 / prepare_s,
    };
    println!(
        "read bytes {:.3} s   prepare {:.3} s ({:.2}× the read)   {:.1} M events/s   {:.0} files/s",
        record.read_bytes_s,
        record.prepare_s,
        record.prepare_over_read,
        record.events_per_s / 1e6,
        record.files_per_s
    );
    write_json_atomically(&args.json, &record)?;
    println!("wrote {}", args.json.display());
    Ok(())
}

/// The median of `repeats` timed runs of `work`, in seconds.
fn median(repeats: usize, mut work: impl FnMut() -> Result<()>) -> Result<f64> {
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        work()?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Reads every file's bytes (in parallel, into reused buffers); returns the byte count.
fn read_all(files: &[PathBuf]) -> Result<u64> {
    files
        .par_iter()
        .map_init(Vec::new, |buffer, path| -> Result<u64> {
            buffer.clear();
            let mut file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
            Ok(file
                .read_to_end(buffer)
                .with_context(|| path.display().to_string())? as u64)
        })
        .sum()
}

/// Writes `files` deterministic CIFAR10-DVS-format recordings under `root` (unless a complete
/// set is there) and returns their total events and bytes.
fn generate(root: &Path, files: usize) -> Result<(u64, u64)> {
    let paths: Vec<(usize, PathBuf)> = (0..files)
        .map(|i| {
            let class = CIFAR10_DVS_CLASSES[i % 10];
            (
                i,
                root.join(class)
                    .join(format!("cifar10_{class}_{}.aedat", i / 10)),
            )
        })
        .collect();
    let totals: Vec<(u64, u64)> = paths
        .par_iter()
        .map(|(i, path)| -> Result<(u64, u64)> {
            if !path.is_file() {
                aedat2::write(path, &synthetic_recording(*i as u64))?;
            }
            let bytes = std::fs::metadata(path)?.len();
            Ok((
                (bytes
                    - aedat2::header_len(&std::fs::read(path)?[..256.min(bytes as usize)]) as u64)
                    / 8,
                bytes,
            ))
        })
        .collect::<Result<_>>()?;
    Ok(totals
        .iter()
        .fold((0, 0), |(e, b), &(e2, b2)| (e + e2, b + b2)))
}

/// A recording like CIFAR10-DVS's: 100k–300k events over about 1.3 s, clustered around a
/// moving object with background noise, both polarities.
fn synthetic_recording(seed: u64) -> Events {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let n = 100_000 + (next() % 200_001) as usize;
    let (cx, cy) = (32 + next() % 64, 32 + next() % 64);
    let mut events = Events::with_capacity(n);
    let mut t = next() % 1000;
    for i in 0..n {
        t += next() % 14;
        let r = next();
        let (x, y) = if r % 10 == 0 {
            ((r >> 8) % 128, (r >> 24) % 128)
        } else {
            let drift = (i * 20 / n) as u64;
            let dx = (r >> 8) % 41;
            let dy = (r >> 24) % 41;
            (
                (cx + dx + drift).saturating_sub(20).min(127),
                (cy + dy).saturating_sub(20).min(127),
            )
        };
        events.push(t, x as u16, y as u16, ((r >> 40) & 1) as u8);
    }
    events
}
