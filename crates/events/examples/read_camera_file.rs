//! Reads camera event files (AEDAT 4 `.aedat4`, Prophesee `.raw` and `.dat`) and prints
//! what each holds and how fast it was read (the file already in memory; best of three):
//!
//! ```sh
//! cargo run --release -p spikeforge-events --example read_camera_file -- FILE...
//! ```

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use events::formats::prophesee::{self, dat};
use events::formats::sensor::SensorRecording;
use events::formats::{aedat4, read_into};

fn parse(bytes: &[u8], path: &Path) -> events::Result<SensorRecording> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("dat") => dat::parse(bytes, path),
        Some("raw") => prophesee::parse_raw(bytes, path),
        _ => aedat4::parse(bytes, path),
    }
}

fn main() -> ExitCode {
    let mut bytes = Vec::new();
    for argument in std::env::args().skip(1) {
        let path = Path::new(&argument);
        let read = read_into(path, &mut bytes).and_then(|()| {
            let mut best = f64::INFINITY;
            let mut recording = SensorRecording::default();
            for _ in 0..3 {
                let started = Instant::now();
                recording = parse(&bytes, path)?;
                best = best.min(started.elapsed().as_secs_f64());
            }
            Ok((recording, best))
        });
        match read {
            Ok((recording, seconds)) => println!(
                "{argument}: {} events, sensor {:?}, {} skipped; {:.1} MB in {:.1} ms: \
                 {:.0} M events/s, {:.0} MB/s",
                recording.events.len(),
                recording.sensor,
                recording.skipped,
                bytes.len() as f64 / 1e6,
                seconds * 1e3,
                recording.events.len() as f64 / seconds / 1e6,
                bytes.len() as f64 / seconds / 1e6,
            ),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
