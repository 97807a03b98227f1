//! Readers and writers of the neuromorphic file formats, each exact to SpikingJelly 2.0.0's
//! parser (`spikingjelly-spec.md` §4–§6).
//!
//! Every reader reads one file with a few large reads (no per-event system calls) and parses
//! it from memory; a dataset is read file by file, never whole. Every error names the file
//! and the byte offset.

pub mod aedat2;
pub mod aedat3;
pub mod nmnist;
pub mod spikingjelly_npz;

use std::path::Path;

use crate::error::{EventsError, Result};

/// The bytes of a file.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| EventsError::io(path, e))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: a crash
/// never leaves a half-written file under the final name.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| EventsError::io(parent, e))?;
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    let temporary = std::path::PathBuf::from(temporary);
    std::fs::write(&temporary, bytes).map_err(|e| EventsError::io(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| EventsError::io(path, e))
}
