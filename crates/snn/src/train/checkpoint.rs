//! Checkpoint files: the training state (JSON), the network's parameters and the
//! optimiser's state (both burnpack records), in one file written atomically.
//!
//! Layout: `SPKFCKPT`, a little-endian `u32` version, then three sections, each a
//! little-endian `u64` length and that many bytes: state JSON, network record, optimiser
//! record (empty when not saved); last, the xxh3-64 checksum of all bytes before it, as 16
//! hex digits, so that a damaged checkpoint is an error, never a silently different network.

use std::path::{Path, PathBuf};

use events::checksum::checksum;

use super::TrainError;

const MAGIC: &[u8; 8] = b"SPKFCKPT";
const VERSION: u32 = 2;
/// Hex digits of the trailing checksum.
const CHECKSUM_LEN: usize = 16;
/// Where the state JSON starts: after the magic, the version and its length.
pub(crate) const STATE_OFFSET: u64 = 8 + 4 + 8;

/// What a checkpoint holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The training state (epochs done, the run record so far).
    pub state: serde_json::Value,
    /// The network's parameters (burnpack bytes of `Module::into_record`).
    pub model: Vec<u8>,
    /// The optimiser's state (burnpack bytes), empty if none.
    pub optimizer: Vec<u8>,
}

/// Where a loaded checkpoint's sections start in its file, for errors that name a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionOffsets {
    /// The network record's first byte.
    pub model: u64,
    /// The optimiser record's first byte.
    pub optimizer: u64,
}

impl Checkpoint {
    /// Writes the checkpoint to a temporary file beside `path`, then renames it over `path`,
    /// so that a crash leaves the previous checkpoint intact.
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let state = serde_json::to_vec(&self.state).expect("JSON values serialise");
        let mut bytes = Vec::with_capacity(
            MAGIC.len() + 4 + 24 + state.len() + self.model.len() + self.optimizer.len(),
        );
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        for section in [&state[..], &self.model, &self.optimizer] {
            bytes.extend_from_slice(&(section.len() as u64).to_le_bytes());
            bytes.extend_from_slice(section);
        }
        let sum = checksum(&bytes);
        bytes.extend_from_slice(sum.as_bytes());
        events::formats::write_atomically(path, &bytes).map_err(TrainError::from)
    }

    /// Reads a checkpoint, naming the file and byte offset of anything malformed or damaged.
    pub fn load(path: &Path) -> Result<Self, TrainError> {
        Self::load_with_offsets(path).map(|(checkpoint, _)| checkpoint)
    }

    /// Reads a checkpoint and where its sections start.
    pub fn load_with_offsets(path: &Path) -> Result<(Self, SectionOffsets), TrainError> {
        let bytes = std::fs::read(path).map_err(|error| TrainError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        Self::parse(&bytes, path)
    }

    /// Parses the bytes of a checkpoint file read from `path`, and where its sections start.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<(Self, SectionOffsets), TrainError> {
        let malformed = |offset: usize, expected: &str| TrainError::Checkpoint {
            path: PathBuf::from(path),
            offset: offset as u64,
            expected: expected.to_string(),
        };
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(malformed(0, "a spikeforge checkpoint (magic `SPKFCKPT`)"));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(malformed(
                8,
                &format!(
                    "checkpoint version {VERSION}, found {version} (written by another \
                     spikeforge version)"
                ),
            ));
        }
        let Some(body_len) = bytes.len().checked_sub(CHECKSUM_LEN).filter(|&n| n >= 12) else {
            return Err(malformed(bytes.len(), "a checksum (truncated file)"));
        };
        let (body, recorded) = bytes.split_at(body_len);
        let found = checksum(body);
        if recorded != found.as_bytes() {
            return Err(malformed(
                body_len,
                &format!(
                    "the checksum of the bytes before, {found}; found `{}` (the file is \
                     damaged or truncated)",
                    String::from_utf8_lossy(recorded)
                ),
            ));
        }
        let bytes = body;
        let mut offset = 12;
        let mut starts = Vec::with_capacity(3);
        let mut sections = Vec::with_capacity(3);
        for name in ["state", "model", "optimizer"] {
            let header = bytes
                .get(offset..offset + 8)
                .ok_or_else(|| malformed(offset, &format!("the length of the {name} section")))?;
            let len = u64::from_le_bytes(header.try_into().expect("8 bytes"));
            offset += 8;
            starts.push(offset as u64);
            let section = usize::try_from(len)
                .ok()
                .and_then(|len| bytes.get(offset..offset.checked_add(len)?))
                .ok_or_else(|| {
                    malformed(
                        offset,
                        &format!("{len} bytes of the {name} section (truncated file)"),
                    )
                })?;
            sections.push(section.to_vec());
            offset += section.len();
        }
        if offset != bytes.len() {
            return Err(malformed(offset, "the end of the file"));
        }
        let optimizer = sections.pop().expect("three sections");
        let model = sections.pop().expect("three sections");
        let state = serde_json::from_slice(&sections[0]).map_err(|e| {
            let text = String::from_utf8_lossy(&sections[0]);
            let at = STATE_OFFSET + events::error::json_offset(&text, &e);
            malformed(at as usize, &format!("the state as JSON ({e})"))
        })?;
        let offsets = SectionOffsets {
            model: starts[1],
            optimizer: starts[2],
        };
        Ok((
            Self {
                state,
                model,
                optimizer,
            },
            offsets,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_the_offset_of_a_truncation() {
        let dir = std::env::temp_dir().join(format!("spikeforge-ckpt-{}", std::process::id()));
        let path = dir.join("last.ckpt");
        let checkpoint = Checkpoint {
            state: serde_json::json!({"epoch": 3}),
            model: vec![1, 2, 3],
            optimizer: vec![],
        };
        checkpoint.save(&path).unwrap();
        assert_eq!(Checkpoint::load(&path).unwrap(), checkpoint);

        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 9]).unwrap();
        let error = Checkpoint::load(&path).unwrap_err().to_string();
        assert!(
            error.contains("last.ckpt") && error.contains("truncated"),
            "{error}"
        );
        // Every single flipped bit is caught, wherever it is.
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            std::fs::write(&path, &damaged).unwrap();
            let error = Checkpoint::load(&path).unwrap_err().to_string();
            assert!(error.contains("last.ckpt: at byte"), "bit {bit}: {error}");
        }
        std::fs::write(&path, b"not a checkpoint").unwrap();
        let error = Checkpoint::load(&path).unwrap_err().to_string();
        assert!(
            error.contains("byte 0") && error.contains("SPKFCKPT"),
            "{error}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
