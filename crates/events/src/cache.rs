//! The frame cache: a dataset converted once into frames at the training size, memory-mapped
//! at training time (design: "cache (once, parallel, atomic)").
//!
//! Layout of one cache, `<cache root>/<dataset>/<settings key>/`:
//! - `train.f32`, `test.f32`: little-endian f32 frames `[slots, T, 2, h, w]`, one slot per
//!   recording of the split;
//! - `manifest.json`: the settings, the split manifest and its hash, which recordings sit in
//!   which slot, and the recordings skipped as unreadable. Written last, atomically: a cache
//!   without it is unfinished and never read as good.
//!
//! While it is being built, data go to `*.f32.partial` at fixed offsets and every finished
//! slot is appended to `*.done`; an interrupted `prepare` resumes from there. The key folder
//! is named by every setting that changes the frames, so other settings make another cache,
//! never a wrong reuse.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use memmap2::Mmap;
use rayon::prelude::*;

use crate::dataset::{DatasetIndex, Recording, RecordingFormat, Window};
use crate::error::{EventsError, Result};
use crate::frames::{EmptyWindows, SplitBy};
use crate::pipeline::{frames_from_bytes, frames_from_events, parse, sensor_size};
use crate::resize::Resize;
use crate::split::SplitManifest;

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

    /// Floats per sample: `T · 2 · h · w`.
    pub fn sample_len(&self) -> usize {
        self.frames * 2 * self.size.0 * self.size.1
    }
}

/// A recording that could not be read, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SkippedRecording {
    /// The recording, relative to the dataset root.
    pub file: PathBuf,
    /// The error.
    pub error: String,
}

/// The record of a finished cache.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CacheManifest {
    /// The frame settings.
    pub settings: FrameSettings,
    /// The split, with its hash.
    pub split: SplitManifest,
    /// For each training recording of the split, its slot in `train.f32` (`None`: skipped).
    pub train_slots: Vec<Option<usize>>,
    /// Likewise for `test.f32`.
    pub test_slots: Vec<Option<usize>>,
    /// Recordings left out by `--skip-bad`, with their errors.
    pub skipped: Vec<SkippedRecording>,
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
    fn name(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Test => "test",
        }
    }
}

/// What to prepare.
#[derive(Debug, Clone)]
pub struct PrepareRequest<'a> {
    /// Where the recordings are, and their format.
    pub index: &'a DatasetIndex,
    /// The split to cache.
    pub split: &'a SplitManifest,
    /// The frame settings.
    pub settings: FrameSettings,
    /// Record unreadable recordings in the manifest and go on, instead of stopping.
    pub skip_bad: bool,
}

/// The cache folder of `request` under `cache_root/<dataset>`.
pub fn cache_dir(cache_root: &Path, dataset: &str, settings: &FrameSettings) -> PathBuf {
    cache_root.join(dataset).join(settings.key())
}

/// Converts the recordings of `request` into a cache in `dir` (in parallel), resuming an
/// interrupted run, or reusing a finished cache of the same split and settings. `progress`
/// is called once per recording done.
pub fn prepare(
    request: &PrepareRequest,
    dir: &Path,
    progress: &(dyn Fn() + Sync),
) -> Result<FrameCache> {
    let manifest_path = dir.join("manifest.json");
    if manifest_path.exists() {
        let cache = FrameCache::open(dir)?;
        if cache.manifest.settings == request.settings
            && cache.manifest.split.hash == request.split.hash
        {
            return Ok(cache);
        }
        return Err(EventsError::integration(
            dir,
            "a finished cache of another split is here; remove it or choose another cache folder",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| EventsError::io(dir, e))?;
    let mut skipped = Vec::new();
    let mut slots = Vec::new();
    for (part, recordings) in [
        (Part::Train, &request.split.train),
        (Part::Test, &request.split.test),
    ] {
        let (part_slots, part_skipped) = fill_part(request, dir, part, recordings, progress)?;
        slots.push(part_slots);
        skipped.extend(part_skipped);
    }
    let test_slots = slots.pop().expect("two parts");
    let train_slots = slots.pop().expect("two parts");
    let manifest = CacheManifest {
        settings: request.settings,
        split: request.split.clone(),
        train_slots,
        test_slots,
        skipped,
    };
    let text = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
    crate::formats::write_atomically(&manifest_path, text.as_bytes())?;
    FrameCache::open(dir)
}

/// Converts one part into `<part>.f32`; returns each recording's slot and the skipped ones.
fn fill_part(
    request: &PrepareRequest,
    dir: &Path,
    part: Part,
    recordings: &[Recording],
    progress: &(dyn Fn() + Sync),
) -> Result<(Vec<Option<usize>>, Vec<SkippedRecording>)> {
    let final_path = dir.join(format!("{}.f32", part.name()));
    let partial_path = dir.join(format!("{}.f32.partial", part.name()));
    let journal_path = dir.join(format!("{}.done", part.name()));
    let sample_bytes = (request.settings.sample_len() * 4) as u64;

    // Slots already finished by an interrupted run (the journal holds u32 slot numbers).
    let done: Vec<bool> = {
        let mut done = vec![false; recordings.len()];
        if partial_path.exists() && journal_path.exists() {
            let journal =
                std::fs::read(&journal_path).map_err(|e| EventsError::io(&journal_path, e))?;
            for entry in journal.chunks_exact(4) {
                let slot = u32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]) as usize;
                if let Some(flag) = done.get_mut(slot) {
                    *flag = true;
                }
            }
        } else {
            let _ = std::fs::remove_file(&journal_path);
        }
        done
    };
    let data = OpenOptions::new()
        .create(true)
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

    let outcomes: Vec<Result<Option<SkippedRecording>>> = recordings
        .par_iter()
        .enumerate()
        .map(|(slot, recording)| {
            if done[slot] {
                progress();
                return Ok(None);
            }
            let path = request.index.root.join(&recording.file);
            match recording_frames(
                &path,
                request.index.format,
                &request.settings,
                recording.window,
            ) {
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
                        error: error.to_string(),
                    }))
                }
                Err(error) => Err(error),
            }
        })
        .collect();
    let mut skipped = Vec::new();
    for outcome in outcomes {
        if let Some(bad) = outcome? {
            skipped.push(bad);
        }
    }
    data.sync_all()
        .map_err(|e| EventsError::io(&partial_path, e))?;
    std::fs::rename(&partial_path, &final_path).map_err(|e| EventsError::io(&final_path, e))?;
    let _ = std::fs::remove_file(&journal_path);
    let slots = recordings
        .iter()
        .enumerate()
        .map(|(slot, r)| (!skipped.iter().any(|s| s.file == r.file)).then_some(slot))
        .collect();
    Ok((slots, skipped))
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
        buffer.clear();
        File::open(path)
            .and_then(|mut file| file.read_to_end(&mut buffer))
            .map_err(|e| EventsError::io(path, e))?;
        match window {
            None => frames_from_bytes(&buffer, format, settings, path),
            Some(window) => {
                let events = parse(&buffer, format, path)?;
                let sample = events
                    .filter_indices(|i| window.start <= events.t[i] && events.t[i] < window.end);
                frames_from_events(&sample, sensor_size(format), settings, path)
            }
        }
    })
}

/// A finished cache, memory-mapped.
pub struct FrameCache {
    /// Its folder.
    pub dir: PathBuf,
    /// Its record.
    pub manifest: CacheManifest,
    train: Mmap,
    test: Mmap,
}

impl FrameCache {
    /// Opens the finished cache in `dir`, checking that its data files have the sizes its
    /// manifest says.
    pub fn open(dir: &Path) -> Result<Self> {
        let manifest_path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|e| EventsError::io(&manifest_path, e))?;
        let manifest: CacheManifest = serde_json::from_str(&text).map_err(|e| {
            EventsError::malformed(&manifest_path, 0, format!("a cache manifest (JSON): {e}"))
        })?;
        let sample_bytes = manifest.settings.sample_len() * 4;
        let map = |part: Part, slots: usize| -> Result<Mmap> {
            let path = dir.join(format!("{}.f32", part.name()));
            let file = File::open(&path).map_err(|e| EventsError::io(&path, e))?;
            let len = file
                .metadata()
                .map_err(|e| EventsError::io(&path, e))?
                .len();
            if len != (slots * sample_bytes) as u64 {
                return Err(EventsError::malformed(
                    &path,
                    len,
                    format!("{slots} samples of {sample_bytes} bytes; the file is {len} bytes"),
                ));
            }
            // SAFETY: the cache files are only ever written under a `.partial` name and
            // renamed into place when complete; nothing writes to them afterwards.
            unsafe { Mmap::map(&file) }.map_err(|e| EventsError::io(&path, e))
        };
        let train = map(Part::Train, manifest.train_slots.len())?;
        let test = map(Part::Test, manifest.test_slots.len())?;
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            train,
            test,
        })
    }

    /// The usable samples of a part: `(slot, label)` in split order, skipped ones left out.
    pub fn samples(&self, part: Part) -> Vec<(usize, u16)> {
        let (recordings, slots) = match part {
            Part::Train => (&self.manifest.split.train, &self.manifest.train_slots),
            Part::Test => (&self.manifest.split.test, &self.manifest.test_slots),
        };
        recordings
            .iter()
            .zip(slots)
            .filter_map(|(r, slot)| slot.map(|s| (s, r.label)))
            .collect()
    }

    /// The frames of one slot, `[T, 2, h, w]`.
    pub fn frames(&self, part: Part, slot: usize) -> Vec<f32> {
        let mut frames = vec![0.0; self.manifest.settings.sample_len()];
        self.copy_frames(part, slot, &mut frames);
        frames
    }

    /// Copies the frames of one slot, `[T, 2, h, w]`, into `out` (of exactly that length).
    pub fn copy_frames(&self, part: Part, slot: usize, out: &mut [f32]) {
        let bytes = match part {
            Part::Train => &self.train,
            Part::Test => &self.test,
        };
        let sample_bytes = self.manifest.settings.sample_len() * 4;
        let sample = &bytes[slot * sample_bytes..(slot + 1) * sample_bytes];
        for (value, b) in out.iter_mut().zip(sample.chunks_exact(4)) {
            *value = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
}
