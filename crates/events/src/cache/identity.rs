//! What a cache's frames are made from. Everything that decides a cache's content is in its
//! identity, recorded in its manifest and compared on every use and every resume: a
//! difference builds the cache anew, it never mixes old frames with new ones.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::checksum::Checksum;
use crate::dataset::RecordingFormat;
use crate::error::{EventsError, Result};

use super::{FrameSettings, PrepareRequest};

/// A cache's identity: the dataset, where its recordings are and what they are, the split,
/// and the frame settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CacheIdentity {
    /// The dataset's kind (`nmnist`, `cifar10-dvs`, …).
    pub dataset: String,
    /// The dataset root, canonical (absolute, symbolic links resolved).
    pub root: PathBuf,
    /// The recordings' file format.
    pub format: RecordingFormat,
    /// The split's hash (its classes, recordings, labels and time windows).
    pub split_hash: String,
    /// The frame settings.
    pub settings: FrameSettings,
    /// xxh3 over every recording file of the split: its path, size, modification and
    /// status-change times, inode and device (a missing file counts as such), so that a
    /// recording replaced, grown, touched or copied over (even keeping its modification
    /// time, as `cp -p` and `rsync -t` do) makes another identity.
    pub recordings: String,
    /// [`FRAMES_VERSION`] of the code that made the frames.
    pub frames_version: u32,
}

/// The version of the frame-making code (readers, integration, resizing): raised when a
/// change there changes any frame, so that caches made before are rebuilt.
pub const FRAMES_VERSION: u32 = 1;

impl CacheIdentity {
    /// The identity of the cache `request` asks for: stats every recording file once.
    pub fn of(request: &PrepareRequest) -> Result<Self> {
        let root = canonical_root(&request.index.root)?;
        let files: BTreeSet<&Path> = request
            .split
            .train
            .iter()
            .chain(&request.split.test)
            .map(|r| r.file.as_path())
            .collect();
        let mut fingerprint = Checksum::new();
        for file in files {
            fingerprint
                .update(file.as_os_str().as_encoded_bytes())
                .update(&[0]);
            match std::fs::metadata(root.join(file)) {
                Ok(metadata) => {
                    for value in [
                        metadata.len(),
                        metadata.mtime() as u64,
                        metadata.mtime_nsec() as u64,
                        metadata.ctime() as u64,
                        metadata.ctime_nsec() as u64,
                        metadata.ino(),
                        metadata.dev(),
                    ] {
                        fingerprint.update(&value.to_le_bytes());
                    }
                }
                Err(_) => {
                    fingerprint.update(b"missing");
                }
            }
        }
        Ok(Self {
            dataset: request.dataset.to_string(),
            root,
            format: request.index.format,
            split_hash: request.split.hash.clone(),
            settings: request.settings,
            recordings: fingerprint.hex(),
            frames_version: FRAMES_VERSION,
        })
    }

    /// What tells this identity's recordings apart from `other`'s, if anything.
    pub fn difference(&self, other: &Self) -> Option<String> {
        // The dataset, root, format and split are also in the folder's name: differing here
        // means a hash collision or a folder given by hand.
        let what = if self.dataset != other.dataset || self.format != other.format {
            "another dataset"
        } else if self.root != other.root {
            "another dataset folder"
        } else if self.split_hash != other.split_hash {
            "another split"
        } else if self.settings != other.settings {
            "other frame settings"
        } else if self.frames_version != other.frames_version {
            "frames of another spikeforge version"
        } else if self.recordings != other.recordings {
            "recordings that changed since (size, times or file)"
        } else {
            return None;
        };
        Some(format!(
            "it was built from {what} ({} → {})",
            self.summary(),
            other.summary()
        ))
    }

    fn summary(&self) -> String {
        format!(
            "{} in {}, split {}, {}, recordings {}",
            self.dataset,
            self.root.display(),
            self.split_hash.get(..12).unwrap_or(&self.split_hash),
            self.settings.key(),
            self.recordings
        )
    }
}

/// The folder name of the caches of `request`'s dataset, split and settings:
/// `<settings key>-<12 hex digits>`, the digits hashing the dataset kind, its canonical root,
/// format and split, so that caches of two dataset folders or two splits never share a
/// folder.
pub(super) fn folder_name(request: &PrepareRequest) -> Result<String> {
    let root = canonical_root(&request.index.root)?;
    let format = serde_json::to_string(&request.index.format).expect("a format serialises");
    let source = Checksum::new()
        .update(request.dataset.as_bytes())
        .update(&[0])
        .update(root.as_os_str().as_encoded_bytes())
        .update(&[0])
        .update(format.as_bytes())
        .update(&[0])
        .update(request.split.hash.as_bytes())
        .hex();
    Ok(format!("{}-{}", request.settings.key(), &source[..12]))
}

/// The canonical form of a dataset root, which must be UTF-8 (manifests are JSON).
fn canonical_root(root: &Path) -> Result<PathBuf> {
    let canonical = std::fs::canonicalize(root).map_err(|e| EventsError::io(root, e))?;
    if canonical.to_str().is_none() {
        return Err(EventsError::malformed(
            root,
            0,
            "a dataset folder whose path is UTF-8 (a cache manifest records it)",
        ));
    }
    Ok(canonical)
}
