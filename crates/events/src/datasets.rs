//! Datasets ready for a frame cache: one entry, [`DatasetKind::open`], per kind of dataset,
//! which finds its recordings (or, for the built-in dataset, generates them once) and splits
//! them into training and test sets as SpikingJelly does.

use std::path::{Path, PathBuf};

use crate::dataset::{
    DatasetIndex, Recording, RecordingFormat, cifar10_dvs, dvs128_gesture, n_caltech101,
    nmnist_class_folders, nmnist_id_lists,
};
use crate::default_dataset::{DefaultDatasetSpec, ensure};
use crate::error::Result;
use crate::heidelberg::Heidelberg;
use crate::split::{SplitManifest, SplitRule};

/// The datasets spikeforge reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetKind {
    /// The built-in dataset, emulated once into the cache root's `datasets/` folder.
    Default,
    /// CIFAR10-DVS (AEDAT 2.0, ten class folders), split by a [`SplitRule`].
    Cifar10Dvs,
    /// N-MNIST (`Train|Test/<digit>/*.bin`, or the small layout with `train1K.txt`).
    Nmnist,
    /// DVS128 Gesture (AEDAT 3.1 trials with label CSVs, `trials_to_*.txt` lists).
    DvsGesture,
    /// N-Caltech101 (101 class folders of `.bin` recordings), split by a [`SplitRule`].
    NCaltech101,
    /// Spiking Heidelberg Digits (`shd_train.h5`, `shd_test.h5`), extracted once into the
    /// cache root's `datasets/` folder.
    Shd,
    /// Spiking Speech Commands (`ssc_train.h5`, `ssc_test.h5`), likewise.
    Ssc,
}

/// A dataset's recordings and split, ready for [`crate::cache::prepare`].
#[derive(Debug, Clone)]
pub struct OpenedDataset {
    /// Its short name (`default`, `cifar10-dvs`, `nmnist`, `dvs-gesture`).
    pub name: &'static str,
    /// The name its frame caches are filed under (the built-in dataset's versioned folder,
    /// so that frames of another version are never reused).
    pub cache_name: String,
    /// Every recording.
    pub index: DatasetIndex,
    /// The training and test recordings.
    pub split: SplitManifest,
}

impl DatasetKind {
    /// Opens the dataset at `root` (ignored for the built-in one, which lives under
    /// `cache_root/datasets`); `rule` splits CIFAR10-DVS and N-Caltech101 (the others have
    /// their own train/test parts); `progress` is called once per generated built-in
    /// recording or extracted SHD/SSC sample.
    pub fn open(
        self,
        root: &Path,
        cache_root: &Path,
        rule: SplitRule,
        progress: &(dyn Fn() + Sync),
    ) -> Result<OpenedDataset> {
        let opened = match self {
            Self::Default => {
                let spec = DefaultDatasetSpec::default();
                let (train, test) = ensure(&cache_root.join("datasets"), spec, progress)?;
                let prefixed = |part: &str, recordings: &[Recording]| -> Vec<Recording> {
                    recordings
                        .iter()
                        .map(|r| Recording {
                            file: Path::new(part).join(&r.file),
                            ..r.clone()
                        })
                        .collect()
                };
                let split = SplitManifest::new(
                    None,
                    train.classes.clone(),
                    prefixed("train", &train.recordings),
                    prefixed("test", &test.recordings),
                );
                let root: PathBuf = train.root.parent().unwrap_or(&train.root).to_path_buf();
                let index = DatasetIndex {
                    root,
                    classes: train.classes,
                    recordings: split.train.iter().chain(&split.test).cloned().collect(),
                    format: RecordingFormat::Aedat2,
                };
                OpenedDataset {
                    name: "default",
                    cache_name: spec.folder_name(),
                    index,
                    split,
                }
            }
            Self::Cifar10Dvs => {
                let index = cifar10_dvs(root)?;
                let split = SplitManifest::split(&index, rule)?;
                OpenedDataset::named("cifar10-dvs", index, split)
            }
            Self::Nmnist => {
                let (train, test) = if root.join("train1K.txt").is_file() {
                    nmnist_id_lists(root, "train1K.txt", "test100.txt")?
                } else {
                    nmnist_class_folders(root)?
                };
                OpenedDataset::from_parts("nmnist", train, test)
            }
            Self::DvsGesture => {
                let (train, test) = dvs128_gesture(root)?;
                OpenedDataset::from_parts("dvs-gesture", train, test)
            }
            Self::NCaltech101 => {
                let index = n_caltech101(root)?;
                let split = SplitManifest::split(&index, rule)?;
                OpenedDataset::named("n-caltech101", index, split)
            }
            Self::Shd | Self::Ssc => {
                let which = if self == Self::Shd {
                    Heidelberg::Shd
                } else {
                    Heidelberg::Ssc
                };
                let (train, test) = which.open(root, &cache_root.join("datasets"), progress)?;
                OpenedDataset::from_parts(which.name(), train, test)
            }
        };
        Ok(opened)
    }
}

impl OpenedDataset {
    fn named(name: &'static str, index: DatasetIndex, split: SplitManifest) -> Self {
        Self {
            name,
            cache_name: name.to_string(),
            index,
            split,
        }
    }

    /// A dataset with its own training and test parts (the same root and classes).
    fn from_parts(name: &'static str, train: DatasetIndex, test: DatasetIndex) -> Self {
        let split = SplitManifest::new(
            None,
            train.classes.clone(),
            train.recordings.clone(),
            test.recordings.clone(),
        );
        let index = DatasetIndex {
            recordings: train
                .recordings
                .into_iter()
                .chain(test.recordings)
                .collect(),
            ..train
        };
        Self::named(name, index, split)
    }
}
