//! A finished cache, opened for reading: every open verifies the manifest's own checksum,
//! its slots, the parts' sizes and checksums and that every frame value is finite, so that
//! a damaged or edited cache is an error naming the file, never data.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::checksum::{checksum, first_non_finite};
use crate::error::{EventsError, Result};
use crate::pipeline::sensor_size;

use super::lock::CacheLock;
use super::{CACHE_FORMAT, CacheManifest, MANIFEST_FILE, Part};

/// A finished cache, memory-mapped, held with a shared lock (no process rebuilds it while it
/// is open).
pub struct FrameCache {
    /// Its folder.
    pub dir: PathBuf,
    /// Its record.
    pub manifest: CacheManifest,
    train: Mmap,
    test: Mmap,
    lock: CacheLock,
}

impl FrameCache {
    /// Opens and verifies the finished cache in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_locked(dir, CacheLock::shared(dir)?)
    }

    /// Opens and verifies the finished cache in `dir`, whose lock is held.
    pub(super) fn open_locked(dir: &Path, lock: CacheLock) -> Result<Self> {
        let manifest = read_manifest(&dir.join(MANIFEST_FILE))?;
        let sample_bytes = manifest.settings().sample_len() * 4;
        let map = |part: Part| -> Result<Mmap> {
            let path = dir.join(part.file_name());
            let slots = manifest.slots(part).len();
            let file = File::open(&path).map_err(|e| EventsError::io(&path, e))?;
            let len = file
                .metadata()
                .map_err(|e| EventsError::io(&path, e))?
                .len();
            if len != (slots * sample_bytes) as u64 {
                return Err(EventsError::malformed(
                    &path,
                    len.min((slots * sample_bytes) as u64),
                    format!("{slots} samples of {sample_bytes} bytes; the file is {len} bytes"),
                ));
            }
            // SAFETY: the cache files are only ever written under a `.partial` name and
            // renamed into place when complete, and this cache holds the folder's shared
            // lock, so no process rebuilds it while it is mapped.
            let map = unsafe { Mmap::map(&file) }.map_err(|e| EventsError::io(&path, e))?;
            let found = checksum(&map);
            let recorded = manifest.part_checksum(part);
            if found != recorded {
                return Err(EventsError::malformed(
                    &path,
                    0,
                    format!(
                        "frames matching the manifest's checksum {recorded}; they hash to \
                         {found} (the file is damaged: remove {} to rebuild the cache)",
                        dir.display()
                    ),
                ));
            }
            if let Some(index) = first_non_finite(&map) {
                return Err(EventsError::malformed(
                    &path,
                    4 * index as u64,
                    format!(
                        "finite frame values; value {index} (sample {}) is NaN or infinite",
                        index * 4 / sample_bytes
                    ),
                ));
            }
            Ok(map)
        };
        let train = map(Part::Train)?;
        let test = map(Part::Test)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            train,
            test,
            lock,
        })
    }

    /// Closes the cache, keeping its lock.
    pub(super) fn into_lock(self) -> CacheLock {
        self.lock
    }

    /// The usable samples of a part: `(slot, label)` in split order, skipped ones left out.
    pub fn samples(&self, part: Part) -> Vec<(usize, u16)> {
        self.manifest
            .recordings(part)
            .iter()
            .zip(self.manifest.slots(part))
            .filter_map(|(r, slot)| slot.map(|s| (s, r.label)))
            .collect()
    }

    /// Every slot's frames of a part as mapped from its file, without a copy: `[slots, T, 2,
    /// h, w]` little-endian `f32`, 4-byte aligned (the map starts on a page).
    pub fn part_bytes(&self, part: Part) -> &[u8] {
        match part {
            Part::Train => &self.train,
            Part::Test => &self.test,
        }
    }

    /// The frames of one slot, `[T, 2, h, w]`.
    pub fn frames(&self, part: Part, slot: usize) -> Vec<f32> {
        let mut frames = vec![0.0; self.manifest.settings().sample_len()];
        self.copy_frames(part, slot, &mut frames);
        frames
    }

    /// Copies the frames of one slot, `[T, 2, h, w]`, into `out` (of exactly that length).
    ///
    /// # Panics
    /// If `slot` is not a slot of `part` (the slots of [`FrameCache::samples`] are).
    pub fn copy_frames(&self, part: Part, slot: usize, out: &mut [f32]) {
        let bytes = self.part_bytes(part);
        let sample_bytes = self.manifest.settings().sample_len() * 4;
        let sample = &bytes[slot * sample_bytes..(slot + 1) * sample_bytes];
        for (value, b) in out.iter_mut().zip(sample.chunks_exact(4)) {
            *value = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
}

/// Reads a cache manifest and checks its checksum and slots.
fn read_manifest(path: &Path) -> Result<CacheManifest> {
    let text = std::fs::read_to_string(path).map_err(|e| EventsError::io(path, e))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| EventsError::json(path, &text, "a cache manifest", &e))?;
    let version = value.get("format_version").and_then(|v| v.as_u64());
    if version != Some(u64::from(CACHE_FORMAT)) {
        return Err(EventsError::malformed(
            path,
            0,
            format!(
                "a cache manifest of format {CACHE_FORMAT}, found {}: written by another \
                 spikeforge version; remove its folder to rebuild the cache",
                version.map_or("none".to_string(), |v| v.to_string())
            ),
        ));
    }
    let manifest: CacheManifest = serde_json::from_str(&text)
        .map_err(|e| EventsError::json(path, &text, "a cache manifest", &e))?;
    // Bounded settings keep every size computed from them far from overflowing.
    manifest
        .settings()
        .validate(sensor_size(manifest.identity.format))
        .map_err(|problem| {
            EventsError::malformed(path, 0, format!("valid frame settings: {problem}"))
        })?;
    let found = manifest.own_checksum();
    if found != manifest.checksum {
        return Err(EventsError::malformed(
            path,
            0,
            format!(
                "a manifest matching its checksum {}; it hashes to {found} (edited or damaged: \
                 remove its folder to rebuild the cache)",
                manifest.checksum
            ),
        ));
    }
    for part in [Part::Train, Part::Test] {
        let slots = manifest.slots(part);
        let recordings = manifest.recordings(part).len();
        if slots.len() != recordings {
            return Err(EventsError::malformed(
                path,
                0,
                format!(
                    "one {} slot per {} recording ({recordings}); found {}",
                    part.name(),
                    part.name(),
                    slots.len()
                ),
            ));
        }
        let mut used = vec![false; slots.len()];
        for (index, slot) in slots.iter().enumerate() {
            if let Some(slot) = *slot
                && (slot >= slots.len() || std::mem::replace(&mut used[slot], true))
            {
                return Err(EventsError::malformed(
                    path,
                    0,
                    format!(
                        "{} slot {index}: a distinct slot below {}; found {slot}",
                        part.name(),
                        slots.len()
                    ),
                ));
            }
        }
    }
    Ok(manifest)
}
