//! Dataset folders: which recordings a dataset has, with their labels, in SpikingJelly's order.
//!
//! SpikingJelly's datasets are torchvision `DatasetFolder`s: class folders sorted by name, and
//! the files of each class sorted by name as strings (so `cifar10_x_10` comes before
//! `cifar10_x_2`). That order is what its splits cut, so it is reproduced exactly here.

use std::path::{Path, PathBuf};

use crate::error::{EventsError, Result};

/// The ten CIFAR10-DVS classes; their alphabetical order gives the labels 0..9.
pub const CIFAR10_DVS_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// The file formats a dataset's recordings come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RecordingFormat {
    /// jAER AEDAT 2.0 (CIFAR10-DVS).
    Aedat2,
    /// AEDAT 3.1 (DVS128 Gesture).
    Aedat3,
    /// N-MNIST `.bin` / `.bs2`.
    NMnistBin,
    /// N-Caltech101 `.bin`: N-MNIST's record format from an ATIS sensor of 180×240.
    NCaltech101Bin,
    /// A spike train of SHD or SSC, extracted from its HDF5 file into a one-sample file
    /// ([`crate::formats::shd`]), integrated at one row of 700 units.
    SpikeTrain,
    /// SpikingJelly's `events_np` `.npz` cache of recordings from a sensor of this
    /// `(height, width)`.
    SpikingJellyNpz(usize, usize),
}

/// One recording (or a labelled time window of one) and its label.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recording {
    /// Path relative to the dataset root.
    pub file: PathBuf,
    /// Class index.
    pub label: u16,
    /// For a sample cut from a longer recording (DVS128 Gesture), its events' time window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

/// The events `start ≤ t < end` (µs) of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Window {
    /// First time, inclusive.
    pub start: u64,
    /// End time, exclusive.
    pub end: u64,
}

/// A dataset's recordings in SpikingJelly's `DatasetFolder` order (class-major, names sorted
/// as strings), and the class names in label order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetIndex {
    /// The dataset root the recording paths are relative to.
    pub root: PathBuf,
    /// Class names, index = label.
    pub classes: Vec<String>,
    /// The recordings.
    pub recordings: Vec<Recording>,
    /// Their file format.
    pub format: RecordingFormat,
}

/// Scans a folder laid out as `<root>/<class>/<file>.<extension>`: classes are the
/// sub-folders sorted by name (their index is the label; hidden ones left out), files of the
/// given extensions sorted by extension (in the order given), then by name as strings.
///
/// As torchvision's `DatasetFolder`, every class folder must hold at least one recording (an
/// empty class would train a class that never appears). Symbolic links are followed; an entry
/// with a recording's extension that is not a regular file (a FIFO, a device, a broken link)
/// is an error, never skipped.
pub fn scan_class_folders(
    root: &Path,
    extensions: &[&str],
    format: RecordingFormat,
) -> Result<DatasetIndex> {
    let wanted = extensions.join("|");
    let mut classes = sorted_entries(root, |path| path.is_dir())?;
    classes.retain(|name| !name.starts_with('.'));
    if classes.is_empty() {
        return Err(EventsError::malformed(
            root,
            0,
            format!("class folders `<class>/*.{wanted}`; this folder has none"),
        ));
    }
    let mut recordings = Vec::new();
    for (label, class) in classes.iter().enumerate() {
        let folder = root.join(class);
        let before = recordings.len();
        for extension in extensions {
            let files = sorted_entries(&folder, |path| {
                path.extension().is_some_and(|e| e == *extension)
            })?;
            for file in files {
                let path = folder.join(&file);
                if !path.is_file() {
                    return Err(EventsError::malformed(
                        &path,
                        0,
                        "a regular file (a recording); this is a directory, FIFO, socket, \
                         device or broken link",
                    ));
                }
                recordings.push(Recording {
                    file: Path::new(class).join(file),
                    label: label as u16,
                    window: None,
                });
            }
        }
        if recordings.len() == before {
            return Err(EventsError::malformed(
                &folder,
                0,
                format!("at least one `*.{wanted}` file in every class folder; this one has none"),
            ));
        }
    }
    Ok(DatasetIndex {
        root: root.to_path_buf(),
        classes,
        recordings,
        format,
    })
}

/// CIFAR10-DVS: `<root>/<class>/cifar10_<class>_<i>.aedat`, or SpikingJelly's converted
/// `events_np/<class>/cifar10_<class>_<i>.npz` (when `root` holds `.npz` files and no
/// `.aedat`). The ten class folders must all be there (a missing class would shift every
/// label after it).
pub fn cifar10_dvs(root: &Path) -> Result<DatasetIndex> {
    let mut classes = sorted_entries(root, |path| path.is_dir())?;
    classes.retain(|name| !name.starts_with('.'));
    if classes != CIFAR10_DVS_CLASSES {
        return Err(EventsError::malformed(
            root,
            0,
            format!("the ten CIFAR10-DVS class folders {CIFAR10_DVS_CLASSES:?}; found {classes:?}"),
        ));
    }
    if holds_files(root, "aedat")? || !holds_files(root, "npz")? {
        scan_class_folders(root, &["aedat"], RecordingFormat::Aedat2)
    } else {
        let (height, width) = crate::formats::aedat2::SENSOR_SIZE;
        scan_class_folders(
            root,
            &["npz"],
            RecordingFormat::SpikingJellyNpz(height, width),
        )
    }
}

/// N-Caltech101 as SpikingJelly lays it out: 101 class folders of `.bin` recordings (N-MNIST's
/// record format, 180×240) in `root`, `root/Caltech101` or `root/extract/Caltech101`, classes
/// in code-point order (`BACKGROUND_Google`, `Faces_easy`, … before `accordion`). There is no
/// published split: the caller splits per class ([`crate::split::SplitManifest::split`]).
pub fn n_caltech101(root: &Path) -> Result<DatasetIndex> {
    let folder = [root.join("extract/Caltech101"), root.join("Caltech101")]
        .into_iter()
        .find(|folder| folder.is_dir())
        .unwrap_or_else(|| root.to_path_buf());
    let index = scan_class_folders(&folder, &["bin"], RecordingFormat::NCaltech101Bin)?;
    if index.classes.len() != 101 {
        return Err(EventsError::malformed(
            &folder,
            0,
            format!(
                "N-Caltech101's 101 class folders; this folder has {}",
                index.classes.len()
            ),
        ));
    }
    Ok(index)
}

/// The small N-MNIST subset layout (SLAYER's NMNISTsmall): `<id>.bs2` files and two label
/// lists (`train1K.txt`, `test100.txt`: a `#` header line, then `<id>\t<digit>`). Returns the
/// train and the test recordings, each in list order.
pub fn nmnist_id_lists(
    root: &Path,
    train_list: &str,
    test_list: &str,
) -> Result<(DatasetIndex, DatasetIndex)> {
    let read_list = |name: &str| -> Result<DatasetIndex> {
        let path = root.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| EventsError::io(&path, e))?;
        let mut recordings = Vec::new();
        let mut offset = 0u64;
        for line in text.split_inclusive('\n') {
            let row = line.trim();
            let start = offset;
            offset += line.len() as u64;
            if row.is_empty() || row.starts_with('#') {
                continue;
            }
            let mut fields = row.split_whitespace();
            let parsed = (fields.next(), fields.next(), fields.next());
            let (Some(id), Some(digit), None) = parsed else {
                return Err(EventsError::malformed(
                    &path,
                    start,
                    format!("`<id> <digit>`, found `{row}`"),
                ));
            };
            let (Ok(id), Ok(digit)) = (id.parse::<u32>(), digit.parse::<u16>()) else {
                return Err(EventsError::malformed(
                    &path,
                    start,
                    format!("`<id> <digit>` as numbers, found `{row}`"),
                ));
            };
            if digit > 9 {
                return Err(EventsError::malformed(
                    &path,
                    start,
                    format!("a digit 0..9, found {digit}"),
                ));
            }
            recordings.push(Recording {
                file: PathBuf::from(format!("{id}.bs2")),
                label: digit,
                window: None,
            });
        }
        Ok(DatasetIndex {
            root: root.to_path_buf(),
            classes: (0..10).map(|d| d.to_string()).collect(),
            recordings,
            format: RecordingFormat::NMnistBin,
        })
    };
    Ok((read_list(train_list)?, read_list(test_list)?))
}

/// The full N-MNIST layout: `<root>/Train/<digit>/*.bin` and `<root>/Test/<digit>/*.bin`.
/// A recording's label is its folder's digit, not the folder's position, so that a part
/// without some digit's folder cannot shift the labels of the others; any other folder name
/// is an error. Returns the train and the test recordings (paths relative to `root`), each in
/// `DatasetFolder` order, with the classes `0` … the highest digit of either part (`9` for
/// the whole dataset).
pub fn nmnist_class_folders(root: &Path) -> Result<(DatasetIndex, DatasetIndex)> {
    let part = |name: &str| -> Result<DatasetIndex> {
        let folder = root.join(name);
        let scanned = scan_class_folders(&folder, &["bin"], RecordingFormat::NMnistBin)?;
        let mut digits = Vec::with_capacity(scanned.classes.len());
        for class in &scanned.classes {
            match class.parse::<u16>() {
                Ok(digit) if digit <= 9 && *class == digit.to_string() => digits.push(digit),
                _ => {
                    return Err(EventsError::malformed(
                        folder.join(class),
                        0,
                        "a digit class folder `0` … `9`",
                    ));
                }
            }
        }
        Ok(DatasetIndex {
            root: root.to_path_buf(),
            classes: Vec::new(),
            recordings: scanned
                .recordings
                .into_iter()
                .map(|r| Recording {
                    file: Path::new(name).join(r.file),
                    label: digits[usize::from(r.label)],
                    window: None,
                })
                .collect(),
            format: RecordingFormat::NMnistBin,
        })
    };
    let (mut train, mut test) = (part("Train")?, part("Test")?);
    let highest = train
        .recordings
        .iter()
        .chain(&test.recordings)
        .map(|r| r.label)
        .max()
        .unwrap_or(0);
    let classes: Vec<String> = (0..=highest).map(|d| d.to_string()).collect();
    train.classes.clone_from(&classes);
    test.classes = classes;
    Ok((train, test))
}

/// DVS128 Gesture: `<root>/<user>_<lighting>.aedat` recordings with `<…>_labels.csv` files,
/// and the lists `trials_to_train.txt` / `trials_to_test.txt` naming the recordings of each
/// part. Every labels row is one sample (a time window of its recording; empty ones kept).
/// Returns the train and the test samples, each in the order of SpikingJelly's
/// `DatasetFolder` over its `<label>/<file>_<k>.npz` output: label folders sorted as strings
/// (`0, 1, 10, 2, …`), then file names. Labels here are the true `class − 1`; SpikingJelly's
/// folder quirk (a folder's position in that order) returns 2 for folder `10`, 3 for `2`, ….
pub fn dvs128_gesture(root: &Path) -> Result<(DatasetIndex, DatasetIndex)> {
    // Every trial, with the list and byte offset that named it first.
    let mut seen: std::collections::HashMap<String, (&str, u64)> = Default::default();
    let mut part = |list: &'static str| -> Result<DatasetIndex> {
        let list_path = root.join(list);
        let text =
            std::fs::read_to_string(&list_path).map_err(|e| EventsError::io(&list_path, e))?;
        let mut samples: Vec<(String, String, Recording)> = Vec::new();
        let mut offset = 0u64;
        for line in text.split_inclusive('\n') {
            let line_offset = offset;
            offset += line.len() as u64;
            let name = line.trim();
            if name.is_empty() {
                continue;
            }
            let stem = name.strip_suffix(".aedat").unwrap_or(name);
            if let Some(listed) = seen.insert(stem.to_string(), (list, line_offset)) {
                return Err(EventsError::malformed(
                    &list_path,
                    line_offset,
                    format!(
                        "each trial listed once in trials_to_train.txt and trials_to_test.txt; \
                         `{stem}` is already listed in {} at byte {}",
                        listed.0, listed.1
                    ),
                ));
            }
            let windows =
                crate::formats::aedat3::read_labels(&root.join(format!("{stem}_labels.csv")))?;
            let mut count = [0usize; 11];
            for window in windows {
                let k = count[usize::from(window.label)];
                count[usize::from(window.label)] += 1;
                samples.push((
                    window.label.to_string(),
                    format!("{stem}_{k}.npz"),
                    Recording {
                        file: PathBuf::from(format!("{stem}.aedat")),
                        label: u16::from(window.label),
                        window: Some(Window {
                            start: window.start,
                            end: window.end,
                        }),
                    },
                ));
            }
        }
        samples.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        Ok(DatasetIndex {
            root: root.to_path_buf(),
            classes: (1..=11).map(|class| format!("gesture {class}")).collect(),
            recordings: samples
                .into_iter()
                .map(|(_, _, recording)| recording)
                .collect(),
            format: RecordingFormat::Aedat3,
        })
    };
    Ok((part("trials_to_train.txt")?, part("trials_to_test.txt")?))
}

/// Whether any class folder of `root` holds a file with `extension`.
fn holds_files(root: &Path, extension: &str) -> Result<bool> {
    let mut classes = sorted_entries(root, |path| path.is_dir())?;
    classes.retain(|name| !name.starts_with('.'));
    for class in classes {
        let folder = root.join(class);
        if !sorted_entries(&folder, |path| {
            path.extension().is_some_and(|e| e == extension)
        })?
        .is_empty()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The names of the entries of `folder` that `keep` accepts, sorted as strings.
fn sorted_entries(folder: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(folder).map_err(|e| EventsError::io(folder, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| EventsError::io(folder, e))?;
        let path = entry.path();
        if keep(&path) {
            let name = entry.file_name().into_string().map_err(|name| {
                EventsError::malformed(folder, 0, format!("UTF-8 file names; found {name:?}"))
            })?;
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}
