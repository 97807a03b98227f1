//! The frame cache: a dataset converted once into frames at the training size, memory-mapped
//! at training time (design: "cache (once, parallel, atomic)").
//!
//! Layout of one cache, `<cache root>/<dataset>/<settings key>-<source>/`, where `<source>`
//! hashes the dataset's canonical root, format and split (so two dataset folders, or two
//! splits of one, never share a cache):
//! - `train.f32`, `test.f32`: little-endian f32 frames `[slots, T, 2, h, w]`, one slot per
//!   recording of the split;
//! - `manifest.json`: the cache's [`CacheIdentity`] (dataset, canonical root, format, split
//!   hash, frame settings, a fingerprint of every recording file's size and modification
//!   time), the split, which recordings sit in which slot, the recordings skipped as
//!   unreadable, the xxh3 checksums of both parts and of the manifest itself. Written last,
//!   atomically: a cache without it is unfinished and never read as good;
//! - `lock`: held shared while the cache is read and exclusive while it is built, so a
//!   second `prepare` of the same cache is a clear error, not a race.
//!
//! While it is being built, `building.json` holds the identity being built, data go to
//! `*.f32.partial` at fixed offsets and every finished slot is appended to `*.done`; an
//! interrupted `prepare` resumes from there only if the identity is the same, and starts
//! over otherwise. A finished cache whose identity differs from the one asked for (the
//! recordings changed) is rebuilt; one that fails its checks is an error naming the file.

mod frame_cache;
mod identity;
mod lock;

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use memmap2::Mmap;
use rayon::prelude::*;

pub use frame_cache::FrameCache;
pub use identity::CacheIdentity;
use lock::CacheLock;

use crate::checksum::checksum;
use crate::dataset::{DatasetIndex, Recording, RecordingFormat, Window};
use crate::error::{EventsError, Result};
use crate::frames::{EmptyWindows, SplitBy};
use crate::pipeline::{frames_from_bytes, frames_from_events, parse, sensor_size};
use crate::resize::Resize;
use crate::split::SplitManifest;

/// The version of the cache layout; a manifest of another is refused with a clear error.
pub const CACHE_FORMAT: u32 = 2;
/// The most frames per recording a cache holds.
pub const MAX_FRAMES: usize = 1024;
const MANIFEST_FILE: &str = "manifest.json";
const BUILDING_FILE: &str = "building.json";

/// Everything that decides the frames of a recording.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FrameSettings {
    /// Frames per recording, `T`.
    pub frames: usize,
    /// How recordings are cut into frames.
    pub split_by: SplitBy,
    /// What split-by-time does with empty windows.
    pub empty_windows: EmptyWindows,
    /// Output size `(h, w)`.
    pub size: (usize, usize),
    /// How frames are brought to `size`.
    pub resize: Resize,
}

impl Default for FrameSettings {
    /// The seed experiment's frames: T = 8 split by number, 32×32 by area mean, empty
    /// windows an error.
    fn default() -> Self {
        Self {
            frames: 8,
            split_by: SplitBy::Number,
            empty_windows: EmptyWindows::Error,
            size: (32, 32),
            resize: Resize::Area,
        }
    }
}

impl FrameSettings {
    /// The cache folder name for these settings, e.g. `T8-number-32x32-area`.
    pub fn key(&self) -> String {
        let split = match self.split_by {
            SplitBy::Number => "number",
            SplitBy::Time => "time",
        };
        let empty = match self.empty_windows {
            EmptyWindows::Error => "",
            EmptyWindows::Allow => "-empty-windows",
        };
        format!(
            "T{}-{split}-{}x{}-{}{empty}",
            self.frames,
            self.size.0,
            self.size.1,
            self.resize.name()
        )
    }

    /// Checks the settings against the recordings' `sensor` size `(H, W)`, before anything is
    /// allocated: 1 to [`MAX_FRAMES`] frames, a frame size of at least 1×1 and at most the
    /// sensor's (frames are pooled down from the sensor, never blown up).
    pub fn validate(&self, sensor: (usize, usize)) -> std::result::Result<(), String> {
        let (h, w) = self.size;
        if !(1..=MAX_FRAMES).contains(&self.frames) {
            return Err(format!(
                "1 to {MAX_FRAMES} frames per recording, not {}",
                self.frames
            ));
        }
        if h == 0 || w == 0 || h > sensor.0 || w > sensor.1 {
            return Err(format!(
                "a frame size of at most the sensor's {}×{}, not {h}×{w}",
                sensor.0, sensor.1
            ));
        }
        Ok(())
    }

    /// Floats per sample: `T · 2 · h · w`.
    pub fn sample_len(&self) -> usize {
        self.frames * 2 * self.size.0 * self.size.1
    }
}

/// A recording (or time window) that could not be read, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SkippedRecording {
    /// The recording, relative to the dataset root.
    pub file: PathBuf,
    /// The sample's time window, for a sample cut from a longer recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// The error.
    pub error: String,
}

/// The record of a finished cache.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CacheManifest {
    /// The cache layout's version, [`CACHE_FORMAT`].
    pub format_version: u32,
    /// What the frames are made from.
    pub identity: CacheIdentity,
    /// The split, with its hash.
    pub split: SplitManifest,
    /// For each training recording of the split, its slot in `train.f32` (`None`: skipped).
    pub train_slots: Vec<Option<usize>>,
    /// Likewise for `test.f32`.
    pub test_slots: Vec<Option<usize>>,
    /// Recordings left out by `--skip-bad`, with their errors.
    pub skipped: Vec<SkippedRecording>,
    /// xxh3 of `train.f32`.
    pub train_checksum: String,
    /// xxh3 of `test.f32`.
    pub test_checksum: String,
    /// xxh3 of this manifest serialised compactly by serde_json with this field empty (not
    /// of the pretty-printed file: whitespace may change).
    pub checksum: String,
}

impl CacheManifest {
    /// The frame settings.
    pub fn settings(&self) -> &FrameSettings {
        &self.identity.settings
    }

    /// The recordings of a part, in split order.
    pub fn recordings(&self, part: Part) -> &[Recording] {
        match part {
            Part::Train => &self.split.train,
            Part::Test => &self.split.test,
        }
    }

    /// The slots of a part's recordings (`None`: skipped).
    pub fn slots(&self, part: Part) -> &[Option<usize>] {
        match part {
            Part::Train => &self.train_slots,
            Part::Test => &self.test_slots,
        }
    }

    fn part_checksum(&self, part: Part) -> &str {
        match part {
            Part::Train => &self.train_checksum,
            Part::Test => &self.test_checksum,
        }
    }

    /// What identifies the frames themselves (both parts' checksums, the slots, the split):
    /// equal for two builds of the same frames, whatever else changed (the recordings'
    /// times, say). Run records keep it, so that a run never continues on other frames.
    pub fn frames_checksum(&self) -> String {
        let slots =
            serde_json::to_vec(&(&self.train_slots, &self.test_slots)).expect("slots serialise");
        crate::checksum::Checksum::new()
            .update(self.train_checksum.as_bytes())
            .update(self.test_checksum.as_bytes())
            .update(&slots)
            .update(self.split.hash.as_bytes())
            .hex()
    }

    /// The checksum of everything but the `checksum` field.
    fn own_checksum(&self) -> String {
        let unsigned = Self {
            checksum: String::new(),
            ..self.clone()
        };
        checksum(&serde_json::to_vec(&unsigned).expect("a manifest serialises"))
    }
}

/// The two parts of a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Training recordings.
    Train,
    /// Test recordings.
    Test,
}

impl Part {
    /// `train` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Test => "test",
        }
    }

    /// The finished part's file, `<part>.f32`.
    fn file_name(self) -> String {
        format!("{}.f32", self.name())
    }

    /// The part's file while it is being built, `<part>.f32.partial`.
    fn partial_name(self) -> String {
        format!("{}.f32.partial", self.name())
    }

    /// The journal of its finished slots while it is being built, `<part>.done`.
    fn journal_name(self) -> String {
        format!("{}.done", self.name())
    }
}

/// What to prepare.
#[derive(Debug, Clone)]
pub struct PrepareRequest<'a> {
    /// The dataset's kind (`nmnist`, `cifar10-dvs`, …), part of the cache's identity.
    pub dataset: &'a str,
    /// Where the recordings are, and their format.
    pub index: &'a DatasetIndex,
    /// The split to cache.
    pub split: &'a SplitManifest,
    /// The frame settings.
    pub settings: FrameSettings,
    /// Record unreadable recordings in the manifest and go on, instead of stopping.
    pub skip_bad: bool,
}

/// Where a prepared cache came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOrigin {
    /// A finished cache of the same identity, reused.
    Reused,
    /// Built now from the recordings.
    Built,
    /// An interrupted build of the same identity, finished now; `done` recordings were
    /// already converted.
    Resumed {
        /// Recordings converted by the interrupted run.
        done: usize,
    },
    /// A finished cache of another identity was here and has been replaced, because `reason`.
    Rebuilt {
        /// What differed.
        reason: String,
    },
}

/// The cache folder for `request` under `cache_root`:
/// `<cache_root>/<dataset>/<settings key>-<source>`, `<source>` hashing the dataset's
/// canonical root, format and split.
pub fn cache_dir(cache_root: &Path, request: &PrepareRequest) -> Result<PathBuf> {
    Ok(cache_root
        .join(request.dataset)
        .join(identity::folder_name(request)?))
}

/// Converts the recordings of `request` into a cache in `dir` (in parallel), reusing a
/// finished cache of the same identity, resuming an interrupted build of the same identity,
/// or replacing a cache of another. `progress` is called once per recording done.
pub fn prepare(
    request: &PrepareRequest,
    dir: &Path,
    progress: &(dyn Fn() + Sync),
) -> Result<(FrameCache, CacheOrigin)> {
    request
        .settings
        .validate(sensor_size(request.index.format))
        .map_err(|problem| {
            EventsError::integration(&request.index.root, format!("frames: {problem}"))
        })?;
    let identity = CacheIdentity::of(request)?;
    std::fs::create_dir_all(dir).map_err(|e| EventsError::io(dir, e))?;
    let manifest_path = dir.join(MANIFEST_FILE);
    let lock = CacheLock::shared(dir)?;
    let mut replaced = None;
    let lock = if manifest_path.exists() {
        let cache = FrameCache::open_locked(dir, lock)?;
        match cache.manifest.identity.difference(&identity) {
            None => return reuse(cache, request),
            Some(reason) => replaced = Some(reason),
        }
        cache.into_lock()
    } else {
        lock
    };
    lock.make_exclusive()?;
    if replaced.is_some() {
        // The manifest first: from here on the folder holds no finished cache.
        for file in [MANIFEST_FILE, "train.f32", "test.f32"] {
            remove_if_present(&dir.join(file))?;
        }
    }
    let building_path = dir.join(BUILDING_FILE);
    let resuming = std::fs::read(&building_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CacheIdentity>(&bytes).ok())
        .is_some_and(|building| building == identity);
    if !resuming {
        for part in [Part::Train, Part::Test] {
            for file in [part.partial_name(), part.journal_name()] {
                remove_if_present(&dir.join(file))?;
            }
        }
    }
    check_free_space(request, dir)?;
    if !resuming {
        let text = serde_json::to_vec_pretty(&identity).expect("an identity serialises");
        crate::formats::write_atomically(&building_path, &text)?;
    }

    let mut skipped = Vec::new();
    let mut done = 0;
    let mut parts = Vec::new();
    for part in [Part::Train, Part::Test] {
        let filled = fill_part(request, dir, part, progress)?;
        done += filled.already_done;
        skipped.extend(filled.skipped);
        parts.push((filled.slots, filled.checksum));
    }
    // Both parts complete: into place, then the manifest that makes them a cache.
    for part in [Part::Train, Part::Test] {
        let partial = dir.join(part.partial_name());
        let done = dir.join(part.file_name());
        std::fs::rename(&partial, &done).map_err(|e| EventsError::io(&done, e))?;
    }
    let (test_slots, test_checksum) = parts.pop().expect("two parts");
    let (train_slots, train_checksum) = parts.pop().expect("two parts");
    let mut manifest = CacheManifest {
        format_version: CACHE_FORMAT,
        identity,
        split: request.split.clone(),
        train_slots,
        test_slots,
        skipped,
        train_checksum,
        test_checksum,
        checksum: String::new(),
    };
    manifest.checksum = manifest.own_checksum();
    let text = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
    crate::formats::write_atomically(&manifest_path, text.as_bytes())?;
    for part in [Part::Train, Part::Test] {
        remove_if_present(&dir.join(part.journal_name()))?;
    }
    remove_if_present(&building_path)?;
    lock.make_shared()?;
    let origin = match (replaced, done) {
        (Some(reason), _) => CacheOrigin::Rebuilt { reason },
        (None, 0) => CacheOrigin::Built,
        (None, done) => CacheOrigin::Resumed { done },
    };
    Ok((FrameCache::open_locked(dir, lock)?, origin))
}

/// A finished cache of the asked identity: refused if it leaves recordings out that the
/// request does not allow to skip; what a build killed after its manifest left is cleared.
fn reuse(cache: FrameCache, request: &PrepareRequest) -> Result<(FrameCache, CacheOrigin)> {
    if let Some(first) = cache.manifest.skipped.first().filter(|_| !request.skip_bad) {
        return Err(EventsError::integration(
            &cache.dir,
            format!(
                "this cache was built with --skip-bad and leaves out {} recordings (the first: \
                 {}: {}); use it with --skip-bad, or repair them and remove the folder",
                cache.manifest.skipped.len(),
                first.file.display(),
                first.error
            ),
        ));
    }
    for file in [
        BUILDING_FILE.to_string(),
        Part::Train.journal_name(),
        Part::Test.journal_name(),
    ] {
        remove_if_present(&cache.dir.join(file))?;
    }
    Ok((cache, CacheOrigin::Reused))
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(EventsError::io(path, e)),
        _ => Ok(()),
    }
}

/// Refuses a cache larger than the free space of its file system, before any file grows.
fn check_free_space(request: &PrepareRequest, dir: &Path) -> Result<()> {
    let sample_bytes = (request.settings.sample_len() * 4) as u64;
    let recordings = (request.split.train.len() + request.split.test.len()) as u64;
    let mut needed = sample_bytes.saturating_mul(recordings);
    for part in [Part::Train, Part::Test] {
        let partial = dir.join(part.partial_name());
        // The blocks written, not the length: a partial part is sparse at its full length.
        let written = std::fs::metadata(partial).map_or(0, |m| m.blocks() * 512);
        needed = needed.saturating_sub(written);
    }
    let free = fs4::available_space(dir).map_err(|e| EventsError::io(dir, e))?;
    if needed > free {
        let gb = |bytes: u64| bytes as f64 / 1e9;
        return Err(EventsError::integration(
            dir,
            format!(
                "the cache needs {:.2} GB ({recordings} recordings of {sample_bytes} bytes); \
                 the file system has {:.2} GB free",
                gb(needed),
                gb(free)
            ),
        ));
    }
    Ok(())
}

/// One part, converted.
struct FilledPart {
    /// Each recording's slot (`None`: skipped).
    slots: Vec<Option<usize>>,
    /// The skipped recordings.
    skipped: Vec<SkippedRecording>,
    /// xxh3 of the part's file.
    checksum: String,
    /// Recordings converted by an interrupted run.
    already_done: usize,
}

/// Converts one part into `<part>.f32.partial` (renamed into place by [`prepare`] once both
/// parts are complete, so that an interrupted run resumes either part).
fn fill_part(
    request: &PrepareRequest,
    dir: &Path,
    part: Part,
    progress: &(dyn Fn() + Sync),
) -> Result<FilledPart> {
    let recordings = match part {
        Part::Train => &request.split.train,
        Part::Test => &request.split.test,
    };
    let partial_path = dir.join(part.partial_name());
    let journal_path = dir.join(part.journal_name());
    let sample_bytes = (request.settings.sample_len() * 4) as u64;

    // Slots already finished by an interrupted run of the same identity (the journal holds
    // u32 slot numbers).
    let done: Vec<bool> = {
        let mut done = vec![false; recordings.len()];
        if partial_path.exists() && journal_path.exists() {
            let journal =
                std::fs::read(&journal_path).map_err(|e| EventsError::io(&journal_path, e))?;
            // A torn last entry is cut off, so that the entries appended next stay aligned.
            let whole = journal.len() - journal.len() % 4;
            if whole != journal.len() {
                OpenOptions::new()
                    .write(true)
                    .open(&journal_path)
                    .and_then(|file| file.set_len(whole as u64))
                    .map_err(|e| EventsError::io(&journal_path, e))?;
            }
            for entry in journal[..whole].chunks_exact(4) {
                let slot = u32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]) as usize;
                if let Some(flag) = done.get_mut(slot) {
                    *flag = true;
                }
            }
        } else {
            remove_if_present(&journal_path)?;
        }
        done
    };
    let data = OpenOptions::new()
        .create(true)
        .read(true)
        .write(true)
        .truncate(false)
        .open(&partial_path)
        .map_err(|e| EventsError::io(&partial_path, e))?;
    data.set_len(sample_bytes * recordings.len() as u64)
        .map_err(|e| EventsError::io(&partial_path, e))?;
    let journal = Mutex::new(
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&journal_path)
            .map_err(|e| EventsError::io(&journal_path, e))?,
    );

    // Collected as one `Result`: the first error (without `--skip-bad`) stops the others.
    let outcomes: Vec<Option<SkippedRecording>> = recordings
        .par_iter()
        .enumerate()
        .map(|(slot, recording)| {
            if done[slot] {
                progress();
                return Ok(None);
            }
            let path = request.index.root.join(&recording.file);
            let converted = recording_frames(
                &path,
                request.index.format,
                &request.settings,
                recording.window,
            )
            .and_then(|frames| match frames.iter().position(|v| !v.is_finite()) {
                Some(i) => Err(EventsError::integration(
                    &path,
                    format!("frame value {i} is not finite"),
                )),
                None => Ok(frames),
            });
            match converted {
                Ok(frames) => {
                    let bytes: Vec<u8> = frames.iter().flat_map(|v| v.to_le_bytes()).collect();
                    data.write_all_at(&bytes, slot as u64 * sample_bytes)
                        .map_err(|e| EventsError::io(&partial_path, e))?;
                    journal
                        .lock()
                        .expect("journal lock")
                        .write_all(&(slot as u32).to_le_bytes())
                        .map_err(|e| EventsError::io(&journal_path, e))?;
                    progress();
                    Ok(None)
                }
                Err(error) if request.skip_bad => {
                    progress();
                    Ok(Some(SkippedRecording {
                        file: recording.file.clone(),
                        window: recording.window,
                        error: error.to_string(),
                    }))
                }
                Err(error) => Err(error),
            }
        })
        .collect::<Result<_>>()?;
    let mut slots = Vec::with_capacity(recordings.len());
    let mut skipped = Vec::new();
    for (slot, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Some(bad) => {
                skipped.push(bad);
                slots.push(None);
            }
            None => slots.push(Some(slot)),
        }
    }
    data.sync_all()
        .map_err(|e| EventsError::io(&partial_path, e))?;
    // SAFETY: this process holds the cache's exclusive lock and has finished writing.
    let map = unsafe { Mmap::map(&data) }.map_err(|e| EventsError::io(&partial_path, e))?;
    let checksum = checksum(&map);
    Ok(FilledPart {
        slots,
        skipped,
        checksum,
        already_done: done.iter().filter(|&&d| d).count(),
    })
}

/// Reads, integrates and resizes one recording: `[T, 2, h, w]` floats.
///
/// The file is read with one `read` into a buffer kept per thread: measured here, that beats
/// memory-mapping each recording (a page fault per 64 KiB and a TLB shootdown at every unmap).
pub fn recording_frames(
    path: &Path,
    format: RecordingFormat,
    settings: &FrameSettings,
    window: Option<Window>,
) -> Result<Vec<f32>> {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        crate::formats::read_into(path, &mut buffer)?;
        match window {
            None => frames_from_bytes(&buffer, format, settings, path),
            Some(window) => {
                let events = parse(&buffer, format, path)?;
                let sample = events
                    .filter_indices(|i| window.start <= events.t[i] && events.t[i] < window.end);
                if sample.is_empty() {
                    return Err(EventsError::integration(
                        path,
                        format!(
                            "the time window [{}, {}) µs holds no events (of {} in the \
                             recording, from {} to {} µs)",
                            window.start,
                            window.end,
                            events.len(),
                            events.t.iter().min().copied().unwrap_or(0),
                            events.t.iter().max().copied().unwrap_or(0),
                        ),
                    ));
                }
                frames_from_events(&sample, sensor_size(format), settings, path)
            }
        }
    })
}
