//! Train/test splits, recorded as a manifest (files, labels, a content hash) that every
//! cache and training run refers to.

use std::path::Path;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use sha2::{Digest, Sha256};

use crate::dataset::{DatasetIndex, Recording};
use crate::error::{EventsError, Result};

/// How a dataset without an official split is cut.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SplitRule {
    /// SpikingJelly's `split_to_train_test_set(train_ratio, random_split=False)`: per class,
    /// in dataset order, the first `ceil(n · ratio)` recordings train, the rest test.
    SpikingJelly { train_ratio: f64 },
    /// The TEBN split of CIFAR10-DVS: recordings `cifar10_<class>_<i>` with `i < 100` test,
    /// the others train (each part in dataset order).
    Tebn,
    /// Per class, a seeded shuffle (ChaCha8), then the first `ceil(n · ratio)` train.
    Random { train_ratio: f64, seed: u64 },
}

/// A train/test split of a dataset, as the recordings themselves.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SplitManifest {
    /// How the split was made (`None` for a dataset's own split).
    pub rule: Option<SplitRule>,
    /// Class names, index = label.
    pub classes: Vec<String>,
    /// Training recordings, in order.
    pub train: Vec<Recording>,
    /// Test recordings, in order.
    pub test: Vec<Recording>,
    /// SHA-256 of the classes, files and labels (hex): equal hashes, equal splits.
    pub hash: String,
}

impl SplitManifest {
    /// A manifest of given train and test recordings (a dataset's own split).
    pub fn new(
        rule: Option<SplitRule>,
        classes: Vec<String>,
        train: Vec<Recording>,
        test: Vec<Recording>,
    ) -> Self {
        let hash = content_hash(&classes, &train, &test);
        Self {
            rule,
            classes,
            train,
            test,
            hash,
        }
    }

    /// Cuts `index` by `rule`.
    pub fn split(index: &DatasetIndex, rule: SplitRule) -> Result<Self> {
        let classes = index.classes.len();
        let mut per_class: Vec<Vec<&Recording>> = vec![Vec::new(); classes];
        for recording in &index.recordings {
            per_class[usize::from(recording.label)].push(recording);
        }
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for (label, mut members) in per_class.into_iter().enumerate() {
            let cut = match rule {
                SplitRule::SpikingJelly { train_ratio } => {
                    ratio_cut(members.len(), train_ratio, &index.root)?
                }
                SplitRule::Random { train_ratio, seed } => {
                    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
                        seed ^ (label as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    );
                    members.shuffle(&mut rng);
                    ratio_cut(members.len(), train_ratio, &index.root)?
                }
                SplitRule::Tebn => {
                    let (tebn_test, tebn_train): (Vec<&Recording>, Vec<&Recording>) = members
                        .iter()
                        .partition(|r| tebn_index(&r.file).is_some_and(|i| i < 100));
                    if let Some(bad) = members.iter().find(|r| tebn_index(&r.file).is_none()) {
                        return Err(EventsError::malformed(
                            index.root.join(&bad.file),
                            0,
                            "a file named `cifar10_<class>_<i>.aedat` (the TEBN split is by index i)",
                        ));
                    }
                    train.extend(tebn_train.into_iter().cloned());
                    test.extend(tebn_test.into_iter().cloned());
                    continue;
                }
            };
            train.extend(members[..cut].iter().map(|r| (*r).clone()));
            test.extend(members[cut..].iter().map(|r| (*r).clone()));
        }
        Ok(Self::new(Some(rule), index.classes.clone(), train, test))
    }

    /// Writes the manifest as JSON (atomically).
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("a manifest serialises");
        crate::formats::write_atomically(path, text.as_bytes())
    }

    /// Reads a manifest written by [`SplitManifest::write`], checking its hash.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| EventsError::io(path, e))?;
        Self::from_json(&text, path)
    }

    /// Parses a manifest's JSON `text`, read from `path`, checking its hash.
    pub fn from_json(text: &str, path: &Path) -> Result<Self> {
        let manifest: Self = serde_json::from_str(text)
            .map_err(|e| EventsError::json(path, text, "a split manifest", &e))?;
        let hash = content_hash(&manifest.classes, &manifest.train, &manifest.test);
        if hash != manifest.hash {
            return Err(EventsError::malformed(
                path,
                0,
                format!(
                    "content matching the recorded hash {}; it hashes to {hash}",
                    manifest.hash
                ),
            ));
        }
        Ok(manifest)
    }
}

/// `ceil(n · ratio)` in f64, as SpikingJelly's `math.ceil(len * train_ratio)`.
fn ratio_cut(n: usize, ratio: f64, root: &Path) -> Result<usize> {
    if !(0.0..=1.0).contains(&ratio) {
        return Err(EventsError::integration(
            root,
            format!("the train ratio must be in [0, 1], got {ratio}"),
        ));
    }
    Ok(((n as f64 * ratio).ceil() as usize).min(n))
}

/// The `i` of `…_<i>.<ext>`.
fn tebn_index(file: &Path) -> Option<u32> {
    file.file_stem()?.to_str()?.rsplit('_').next()?.parse().ok()
}

fn content_hash(classes: &[String], train: &[Recording], test: &[Recording]) -> String {
    let mut hasher = Sha256::new();
    for class in classes {
        hasher.update(class.as_bytes());
        hasher.update([0]);
    }
    for (part, recordings) in [("train", train), ("test", test)] {
        hasher.update(part.as_bytes());
        for recording in recordings {
            hasher.update(recording.file.to_string_lossy().as_bytes());
            hasher.update([0]);
            hasher.update(recording.label.to_le_bytes());
            if let Some(window) = recording.window {
                hasher.update(window.start.to_le_bytes());
                hasher.update(window.end.to_le_bytes());
            }
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
