//! The Heidelberg spiking audio datasets as frame-cache datasets: each split's HDF5 file
//! (`shd_train.h5`, … in the dataset folder or its `events_h5/`, SpikingJelly's raw folder)
//! is extracted once into one small sample file per spike train, so that the frame cache reads,
//! fingerprints and resumes them like any recording.
//!
//! Labels are the files' own. (SpikingJelly's frame datasets store samples in folders named
//! by label and list them with `DatasetFolder`, which sorts the names as strings: its class
//! index 2 is label 10. Accuracy is unaffected; spikeforge keeps the true labels.)

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::dataset::{DatasetIndex, Recording, RecordingFormat};
use crate::error::{EventsError, Result};
use crate::formats::shd::ShdFile;
use crate::formats::write_atomically;

/// Which of the two datasets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heidelberg {
    /// Spiking Heidelberg Digits: 20 classes (German and English digits), train and test.
    Shd,
    /// Spiking Speech Commands: 35 classes, train, valid and test (valid is not used).
    Ssc,
}

/// Marks an extracted folder as complete (written last).
const COMPLETE: &str = "COMPLETE";

/// Each part's labels in file order, beside its samples.
const LABELS: &str = "labels.json";

/// The parts extracted, in order.
const PARTS: [&str; 2] = ["train", "test"];

impl Heidelberg {
    /// The files' prefix and the dataset's short name (`shd`, `ssc`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Shd => "shd",
            Self::Ssc => "ssc",
        }
    }

    /// Number of classes.
    pub fn classes(self) -> usize {
        match self {
            Self::Shd => 20,
            Self::Ssc => 35,
        }
    }

    /// The HDF5 file of `part` (`train`, `test`) under `root` or `root/events_h5`.
    fn source(self, root: &Path, part: &str) -> Result<PathBuf> {
        let name = format!("{}_{part}.h5", self.name());
        [root.join(&name), root.join("events_h5").join(&name)]
            .into_iter()
            .find(|path| path.is_file())
            .ok_or_else(|| {
                EventsError::malformed(
                    root,
                    0,
                    format!("a dataset folder holding `{name}` (or `events_h5/{name}`)"),
                )
            })
    }

    /// The training and test samples, extracted under `datasets_root` on first use (and again
    /// whenever a source file changes); `progress` is called once per sample extracted.
    pub fn open(
        self,
        root: &Path,
        datasets_root: &Path,
        progress: &(dyn Fn() + Sync),
    ) -> Result<(DatasetIndex, DatasetIndex)> {
        let sources = [self.source(root, "train")?, self.source(root, "test")?];
        let folder = datasets_root.join(format!("{}-{}", self.name(), fingerprint(&sources)?));
        if !folder.join(COMPLETE).is_file() {
            for (part, source) in PARTS.iter().zip(&sources) {
                self.extract(source, &folder.join(part), progress)?;
            }
            write_atomically(&folder.join(COMPLETE), b"")?;
        }
        let [train, test] = PARTS.map(|part| self.index(&folder, part));
        Ok((train?, test?))
    }

    /// Writes every sample of `source` as `<dir>/<label>/<index>.spk` and the labels in file
    /// order as `<dir>/labels.json` (each atomically).
    fn extract(self, source: &Path, dir: &Path, progress: &(dyn Fn() + Sync)) -> Result<()> {
        let file = ShdFile::open(source)?;
        self.check_labels(&file, source)?;
        for (index, &label) in file.labels().iter().enumerate() {
            let train = file.sample(index)?;
            write_atomically(&sample_path(dir, label, index), &train.encode())?;
            progress();
        }
        let labels = serde_json::to_vec(file.labels()).expect("labels serialise");
        write_atomically(&dir.join(LABELS), &labels)
    }

    /// The extracted samples of one part, in file order.
    fn index(self, folder: &Path, part: &str) -> Result<DatasetIndex> {
        let path = folder.join(part).join(LABELS);
        let bytes = std::fs::read(&path).map_err(|e| EventsError::io(&path, e))?;
        let labels: Vec<u16> = serde_json::from_slice(&bytes).map_err(|e| {
            EventsError::malformed(
                &path,
                e.column() as u64,
                format!("a JSON list of labels ({e})"),
            )
        })?;
        let recordings = labels
            .iter()
            .enumerate()
            .map(|(index, &label)| Recording {
                file: sample_path(Path::new(part), label, index),
                label,
                window: None,
            })
            .collect();
        Ok(DatasetIndex {
            root: folder.to_path_buf(),
            classes: (0..self.classes()).map(|c| c.to_string()).collect(),
            recordings,
            format: RecordingFormat::SpikeTrain,
        })
    }

    fn check_labels(self, file: &ShdFile, source: &Path) -> Result<()> {
        match file
            .labels()
            .iter()
            .position(|&l| usize::from(l) >= self.classes())
        {
            Some(i) => Err(EventsError::malformed(
                source,
                0,
                format!(
                    "`labels` below {} ({}'s classes); sample {i} has label {}",
                    self.classes(),
                    self.name(),
                    file.labels()[i]
                ),
            )),
            None => Ok(()),
        }
    }
}

fn sample_path(dir: &Path, label: u16, index: usize) -> PathBuf {
    dir.join(label.to_string()).join(format!("{index:06}.spk"))
}

/// 16 hex digits of SHA-256 over the source files' canonical paths, sizes and modification
/// times: a changed file gets a fresh extraction, never a stale one.
fn fingerprint(sources: &[PathBuf]) -> Result<String> {
    let mut hash = Sha256::new();
    for source in sources {
        let canonical = source
            .canonicalize()
            .map_err(|e| EventsError::io(source, e))?;
        let metadata = std::fs::metadata(source).map_err(|e| EventsError::io(source, e))?;
        let modified = metadata
            .modified()
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        hash.update(canonical.as_os_str().as_encoded_bytes());
        hash.update(metadata.len().to_le_bytes());
        hash.update(modified.to_le_bytes());
    }
    Ok(hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
