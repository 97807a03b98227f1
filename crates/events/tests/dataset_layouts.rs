//! Dataset folders as users leave them: labels come from class names, empty classes and
//! entries that are not regular files are errors naming them, links to recordings are
//! followed, and no file is read that could block or never end.

use std::path::{Path, PathBuf};

use events::Events;
use events::dataset::{RecordingFormat, n_caltech101, nmnist_class_folders, scan_class_folders};
use events::formats::{nmnist, read_into};

fn scratch(test: &str) -> PathBuf {
    let root =
        std::env::temp_dir().join(format!("spikeforge-layout-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    root
}

fn recording(path: &Path) {
    let mut events = Events::default();
    events.push(1, 2, 3, 1);
    nmnist::write(path, &events).unwrap();
}

#[test]
fn nmnist_labels_are_the_digit_folders_names() {
    let root = scratch("nmnist");
    for (part, digits) in [
        ("Train", &[0, 1, 2, 3, 4, 5][..]),
        ("Test", &[0, 1, 2, 3, 5][..]),
    ] {
        for digit in digits {
            recording(&root.join(part).join(digit.to_string()).join("00001.bin"));
        }
    }
    let (train, test) = nmnist_class_folders(&root).unwrap();
    assert_eq!(train.classes, test.classes);
    assert_eq!(train.classes, ["0", "1", "2", "3", "4", "5"]);
    let labels = |index: &events::dataset::DatasetIndex| -> Vec<(String, u16)> {
        index
            .recordings
            .iter()
            .map(|r| (r.file.to_str().unwrap().to_string(), r.label))
            .collect()
    };
    // Test has no folder 4: its folder 5 is still digit 5, not the fifth class.
    assert_eq!(
        labels(&test),
        [
            ("Test/0/00001.bin".to_string(), 0),
            ("Test/1/00001.bin".to_string(), 1),
            ("Test/2/00001.bin".to_string(), 2),
            ("Test/3/00001.bin".to_string(), 3),
            ("Test/5/00001.bin".to_string(), 5),
        ]
    );
    assert_eq!(labels(&train).last().unwrap().1, 5);

    recording(&root.join("Test/seven/00001.bin"));
    let error = nmnist_class_folders(&root).unwrap_err().to_string();
    assert!(
        error.contains("Test/seven") && error.contains("a digit class folder"),
        "{error}"
    );
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn empty_classes_and_special_files_are_errors_links_are_followed() {
    let root = scratch("special");
    recording(&root.join("a/1.bin"));
    recording(&root.join("b/1.bin"));
    std::fs::create_dir_all(root.join("c")).unwrap();
    let error = scan_class_folders(&root, &["bin"], RecordingFormat::NMnistBin)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("/c: ") && error.contains("at least one `*.bin` file in every class folder"),
        "{error}"
    );
    // A link to a recording elsewhere is a recording.
    std::os::unix::fs::symlink(root.join("a/1.bin"), root.join("c/linked.bin")).unwrap();
    let index = scan_class_folders(&root, &["bin"], RecordingFormat::NMnistBin).unwrap();
    assert_eq!(index.recordings.len(), 3);
    assert_eq!(index.recordings[2].file, Path::new("c/linked.bin"));

    // A FIFO named like a recording would block a reader forever: an error, before opening.
    let fifo = root.join("b/2.bin");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|status| status.success()) {
        let error = scan_class_folders(&root, &["bin"], RecordingFormat::NMnistBin)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("b/2.bin") && error.contains("a regular file"),
            "{error}"
        );
        let mut buffer = Vec::new();
        let error = read_into(&fifo, &mut buffer).unwrap_err().to_string();
        assert!(error.contains("a regular file"), "{error}");
        std::fs::remove_file(&fifo).unwrap();
    } else {
        eprintln!("mkfifo unavailable: the FIFO case is not checked");
    }
    // A link to /dev/zero would read until memory runs out.
    let zero = root.join("b/3.bin");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let mut buffer = Vec::new();
    let error = read_into(&zero, &mut buffer).unwrap_err().to_string();
    assert!(
        error.contains("b/3.bin") && error.contains("a regular file"),
        "{error}"
    );
    let error = scan_class_folders(&root, &["bin"], RecordingFormat::NMnistBin)
        .unwrap_err()
        .to_string();
    assert!(error.contains("b/3.bin"), "{error}");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn n_caltech101_classes_are_in_code_point_order_under_spikingjellys_extract_folder() {
    let root = scratch("caltech");
    let folder = root.join("extract/Caltech101");
    let mut names: Vec<String> = (0..97).map(|i| format!("class_{i:02}")).collect();
    names.extend(["accordion", "BACKGROUND_Google", "Faces_easy", "Leopards"].map(String::from));
    for name in &names[..100] {
        recording(&folder.join(name).join("image_0001.bin"));
    }
    let error = n_caltech101(&root).unwrap_err().to_string();
    assert!(
        error.contains("101 class folders") && error.contains("has 100"),
        "{error}"
    );
    recording(&folder.join(&names[100]).join("image_0001.bin"));
    let index = n_caltech101(&root).unwrap();
    assert_eq!(index.root, folder);
    assert_eq!(index.format, RecordingFormat::NCaltech101Bin);
    assert_eq!(
        index.classes[..4],
        ["BACKGROUND_Google", "Faces_easy", "Leopards", "accordion"]
    );
    assert_eq!(index.recordings.len(), 101);
    let _ = std::fs::remove_dir_all(&root);
}
