//! The dataset options shared by every command that reads a dataset, and the frame cache
//! they lead to.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use clap::{Args, ValueEnum};
use events::cache::{
    CacheOrigin, FrameCache, FrameSettings, MAX_FRAMES, PrepareRequest, cache_dir, prepare,
};
use events::datasets::{DatasetKind, OpenedDataset};
use events::default_dataset::DefaultDatasetSpec;
use events::split::SplitRule;
use events::{EmptyWindows, Resize, SplitBy};
use indicatif::{ProgressBar, ProgressStyle};

/// Which dataset to read and how to turn it into frames: shared by `prepare`, `train` and
/// `compare`.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Which dataset the folder holds (`default`: the built-in dataset).
    #[arg(long, value_enum, default_value_t = Dataset::Default)]
    pub dataset: Dataset,
    /// The dataset folder (not for `default`) (CIFAR10-DVS: `<root>/<class>/*.aedat`; N-MNIST: `Train|Test/<digit>/*.bin`,
    /// or `<id>.bs2` files with `train1K.txt` and `test100.txt`; DVS128 Gesture: the `.aedat`
    /// files with their `_labels.csv` and `trials_to_train.txt`, `trials_to_test.txt`;
    /// N-Caltech101: `<class>/*.bin`, also under `Caltech101/` or `extract/Caltech101/`;
    /// SHD/SSC: `shd_train.h5` and `shd_test.h5` (`ssc_…`), also under `events_h5/`).
    #[arg(long, required_if_eq_any([("dataset", "cifar10-dvs"), ("dataset", "nmnist"), ("dataset", "dvs-gesture"), ("dataset", "n-caltech101"), ("dataset", "shd"), ("dataset", "ssc")]))]
    pub root: Option<PathBuf>,
    /// Where caches live (default: `$XDG_CACHE_HOME/spikeforge` or `~/.cache/spikeforge`).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    #[command(flatten)]
    pub frames: FrameArgs,
    /// How a dataset without its own split is cut (CIFAR10-DVS, N-Caltech101).
    #[arg(long, value_enum, default_value_t = SplitChoice::Spikingjelly)]
    pub split: SplitChoice,
    /// Share of each class that trains (`spikingjelly` and `random` splits).
    #[arg(long, default_value_t = 0.9)]
    pub train_ratio: f64,
    /// Record unreadable recordings in the cache manifest and go on, instead of stopping.
    #[arg(long)]
    pub skip_bad: bool,
}

impl DataArgs {
    /// Checks the options the frame settings do not (those are checked by
    /// [`FrameArgs::settings`], and the frame size against the sensor when the cache is
    /// prepared).
    pub fn validate(&self) -> Result<()> {
        ensure!(
            self.train_ratio > 0.0 && self.train_ratio <= 1.0,
            "--train-ratio must be in (0, 1], not {}",
            self.train_ratio
        );
        Ok(())
    }
}

/// A dataset's frame cache, ready to read.
pub struct PreparedData {
    /// The dataset's name (`default`, `nmnist`, …).
    pub name: &'static str,
    /// The cache.
    pub cache: FrameCache,
}

/// Builds the frame cache of the dataset `args` names (or reuses the finished one), with
/// progress bars; `seed` seeds a `random` split.
pub fn prepare_data(args: &DataArgs, seed: u64) -> Result<PreparedData> {
    args.validate()?;
    let settings = args
        .frames
        .settings_or_size(args.dataset.default_frame_size())?;
    let OpenedDataset {
        name,
        cache_name,
        index,
        split,
    } = open_dataset(args, seed)?;
    let request = PrepareRequest {
        dataset: &cache_name,
        index: &index,
        split: &split,
        settings,
        skip_bad: args.skip_bad,
    };
    let cache_root = args.cache.clone().unwrap_or_else(default_cache_root);
    let dir =
        cache_dir(&cache_root, &request).with_context(|| format!("the {name} dataset folder"))?;
    println!(
        "{name}: {} training and {} test recordings (split {}) → {}",
        split.train.len(),
        split.test.len(),
        &split.hash[..12],
        dir.display()
    );
    let bar = ProgressBar::new((split.train.len() + split.test.len()) as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} recordings, {per_sec}, eta {eta}")
            .expect("a valid template"),
    );
    let (cache, origin) = prepare(&request, &dir, &|| bar.inc(1))
        .with_context(|| format!("preparing the {name} cache in {}", dir.display()))?;
    bar.finish_and_clear();
    match origin {
        CacheOrigin::Reused | CacheOrigin::Built => {}
        CacheOrigin::Resumed { done } => {
            println!("resumed an interrupted build ({done} recordings were already converted)")
        }
        CacheOrigin::Rebuilt { reason } => println!("rebuilt the cache: {reason}"),
    }
    for skipped in &cache.manifest.skipped {
        let window = skipped
            .window
            .map(|w| format!(" (window [{}, {}) µs)", w.start, w.end))
            .unwrap_or_default();
        eprintln!(
            "skipped {}{window}: {}",
            skipped.file.display(),
            skipped.error
        );
    }
    if !cache.manifest.skipped.is_empty() {
        eprintln!(
            "{} of {} samples skipped (--skip-bad)",
            cache.manifest.skipped.len(),
            split.train.len() + split.test.len()
        );
    }
    Ok(PreparedData { name, cache })
}

/// The frame settings, shared by every command that reads a dataset.
#[derive(Debug, Args)]
pub struct FrameArgs {
    /// Frames per recording (T).
    #[arg(long, default_value_t = 8)]
    pub frames: usize,
    /// Cut recordings into frames by event number or by time.
    #[arg(long, value_enum, default_value_t = SplitByChoice::Number)]
    pub split_by: SplitByChoice,
    /// Frame size: `32` (32×32) or `HxW` (default: 32; SHD and SSC: 1x700, their 700
    /// channels).
    #[arg(long, value_parser = parse_size)]
    pub size: Option<(usize, usize)>,
    /// How frames are brought to that size.
    #[arg(long, value_enum, default_value_t = ResizeChoice::Area)]
    pub resize: ResizeChoice,
    /// Give empty frames for empty time windows (split by time) instead of failing.
    #[arg(long)]
    pub allow_empty_windows: bool,
}

impl FrameArgs {
    /// The frame settings these options name (32×32 frames unless `--size` says otherwise).
    pub fn settings(&self) -> Result<FrameSettings> {
        self.settings_or_size(DEFAULT_FRAME_SIZE)
    }

    /// The frame settings, with frames of `size` unless `--size` says otherwise.
    pub fn settings_or_size(&self, size: (usize, usize)) -> Result<FrameSettings> {
        if !(1..=MAX_FRAMES).contains(&self.frames) {
            bail!("--frames must be 1 to {MAX_FRAMES}, not {}", self.frames);
        }
        Ok(FrameSettings {
            frames: self.frames,
            split_by: match self.split_by {
                SplitByChoice::Number => SplitBy::Number,
                SplitByChoice::Time => SplitBy::Time,
            },
            empty_windows: if self.allow_empty_windows {
                EmptyWindows::Allow
            } else {
                EmptyWindows::Error
            },
            size: self.size.unwrap_or(size),
            resize: match self.resize {
                ResizeChoice::Area => Resize::Area,
                ResizeChoice::Sum => Resize::Sum,
                ResizeChoice::Nearest => Resize::Nearest,
                ResizeChoice::Bilinear => Resize::Bilinear,
                ResizeChoice::BilinearAntialias => Resize::BilinearAntialias,
            },
        })
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Dataset {
    /// The built-in dataset of ten procedurally drawn shape classes, emulated into DVS128
    /// recordings (generated on first use into the cache folder; `--root` is not needed).
    Default,
    /// CIFAR10-DVS `.aedat` recordings.
    Cifar10Dvs,
    /// N-MNIST `.bin` / `.bs2` recordings.
    Nmnist,
    /// DVS128 Gesture `.aedat` recordings with their labels and trial lists.
    DvsGesture,
    /// N-Caltech101 `.bin` recordings in 101 class folders (180×240).
    NCaltech101,
    /// Spiking Heidelberg Digits: spike trains of 700 channels in HDF5 files, 20 classes.
    Shd,
    /// Spiking Speech Commands: as SHD, 35 classes.
    Ssc,
}

/// The frame size without `--size`.
pub const DEFAULT_FRAME_SIZE: (usize, usize) = (32, 32);

impl Dataset {
    /// Its frame size without `--size`: the audio datasets' whole row of 700 channels, else
    /// [`DEFAULT_FRAME_SIZE`].
    pub fn default_frame_size(self) -> (usize, usize) {
        match self {
            Self::Shd | Self::Ssc => events::formats::shd::SENSOR_SIZE,
            _ => DEFAULT_FRAME_SIZE,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SplitChoice {
    /// SpikingJelly's per-class split in its file order.
    Spikingjelly,
    /// CIFAR10-DVS recordings 0–99 of each class test, the rest train.
    Tebn,
    /// A seeded per-class shuffle, then the ratio.
    Random,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SplitByChoice {
    Number,
    Time,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ResizeChoice {
    Area,
    Sum,
    Nearest,
    Bilinear,
    BilinearAntialias,
}

/// A size argument: `32` (square) or `HxW`.
pub fn parse_size(text: &str) -> std::result::Result<(usize, usize), String> {
    let parse = |s: &str| s.trim().parse::<usize>().ok().filter(|&n| n > 0);
    match text.split_once(['x', 'X']) {
        Some((h, w)) => parse(h).zip(parse(w)),
        None => parse(text).map(|n| (n, n)),
    }
    .ok_or_else(|| format!("expected a size like `32` or `34x34`, got `{text}`"))
}

/// The default cache root.
pub fn default_cache_root() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("spikeforge")
}

/// A dataset's recordings and the split to cache.
/// The dataset the options name, opened (the built-in one generated on first use, with a
/// progress bar).
fn open_dataset(args: &DataArgs, seed: u64) -> Result<OpenedDataset> {
    let cache_root = args.cache.clone().unwrap_or_else(default_cache_root);
    let root = args.root.clone().unwrap_or_default();
    let kind = match args.dataset {
        Dataset::Default => DatasetKind::Default,
        Dataset::Cifar10Dvs => DatasetKind::Cifar10Dvs,
        Dataset::Nmnist => DatasetKind::Nmnist,
        Dataset::DvsGesture => DatasetKind::DvsGesture,
        Dataset::NCaltech101 => DatasetKind::NCaltech101,
        Dataset::Shd => DatasetKind::Shd,
        Dataset::Ssc => DatasetKind::Ssc,
    };
    let rule = match args.split {
        SplitChoice::Spikingjelly => SplitRule::SpikingJelly {
            train_ratio: args.train_ratio,
        },
        SplitChoice::Tebn => SplitRule::Tebn,
        SplitChoice::Random => SplitRule::Random {
            train_ratio: args.train_ratio,
            seed,
        },
    };
    let bar = match kind {
        DatasetKind::Default => {
            let spec = DefaultDatasetSpec::default();
            let total = (spec.train_per_class + spec.test_per_class) * 10;
            ProgressBar::new(total as u64).with_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} default recordings, eta {eta}")
                    .expect("a valid template"),
            )
        }
        DatasetKind::Shd | DatasetKind::Ssc => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {pos} spike trains extracted, {per_sec}")
                .expect("a valid template"),
        ),
        _ => ProgressBar::hidden(),
    };
    let opened = kind.open(&root, &cache_root, rule, &|| bar.inc(1))?;
    bar.finish_and_clear();
    Ok(opened)
}
