//! Readers and writers of the neuromorphic file formats, each exact to SpikingJelly 2.0.0's
//! parser; the camera formats ([`aedat4`], [`prophesee`]; readers only, returning a
//! [`sensor::SensorRecording`]) exact to Tonic's reader and the vendor's specification.
//!
//! Every reader reads one file with a few large reads (no per-event system calls) and parses
//! it from memory; a dataset is read file by file, never whole. Every error names the file
//! and the byte offset.

pub mod aedat2;
pub mod aedat3;
pub mod aedat4;
pub mod hdf5_limits;
pub mod nmnist;
pub mod prophesee;
pub mod sensor;
pub mod shd;
pub mod spikingjelly_npz;

use std::path::Path;

use crate::error::{EventsError, Result};
use crate::events::Events;

/// Checks that event `index` fits a writer's format: coordinates up to `max_coordinate`,
/// polarity 0 or 1, a timestamp of at most `time_bits` bits.
pub(crate) fn check_writable(
    events: &Events,
    index: usize,
    max_coordinate: u16,
    time_bits: u32,
    path: &Path,
) -> Result<()> {
    let (t, x, y, p) = (
        events.t[index],
        events.x[index],
        events.y[index],
        events.p[index],
    );
    let problem = if x > max_coordinate || y > max_coordinate {
        format!("pixel ({x}, {y}) has a coordinate above the format's {max_coordinate}")
    } else if p > 1 {
        format!("polarity {p} is not 0 or 1")
    } else if t >> time_bits != 0 {
        format!("timestamp {t} µs does not fit in {time_bits} bits")
    } else {
        return Ok(());
    };
    Err(EventsError::Unrepresentable {
        path: path.to_path_buf(),
        index,
        problem,
    })
}

/// The largest file read: 4 GiB (a DVS128 Gesture recording is under 100 MB).
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// The bytes of a file.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    read_into(path, &mut bytes)?;
    Ok(bytes)
}

/// Reads the file `path` into `buffer` (cleared first, sized once). Only regular files
/// (symbolic links followed) of at most [`MAX_FILE_BYTES`] are read: a FIFO would block and
/// a device such as `/dev/zero` would never end.
pub fn read_into(path: &Path, buffer: &mut Vec<u8>) -> Result<()> {
    use std::io::Read;
    // Checked before opening: opening a FIFO blocks until something writes to it.
    let metadata = std::fs::metadata(path).map_err(|e| EventsError::io(path, e))?;
    if !metadata.is_file() {
        return Err(EventsError::malformed(
            path,
            0,
            "a regular file; this is a directory, FIFO, socket or device",
        ));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(EventsError::malformed(
            path,
            MAX_FILE_BYTES,
            format!(
                "a file of at most {MAX_FILE_BYTES} bytes; it has {}",
                metadata.len()
            ),
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| EventsError::io(path, e))?;
    buffer.clear();
    buffer.reserve(metadata.len() as usize);
    // One byte more than the bound shows a file that grew while being read.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(buffer)
        .map_err(|e| EventsError::io(path, e))?;
    if buffer.len() as u64 > MAX_FILE_BYTES {
        return Err(EventsError::malformed(
            path,
            MAX_FILE_BYTES,
            format!("a file of at most {MAX_FILE_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: a crash
/// never leaves a half-written file under the final name.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| EventsError::io(parent, e))?;
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    let temporary = std::path::PathBuf::from(temporary);
    std::fs::write(&temporary, bytes).map_err(|e| EventsError::io(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| EventsError::io(path, e))
}
