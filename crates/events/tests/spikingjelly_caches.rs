//! SpikingJelly's own cache files (written by SpikingJelly 2.0.0): `events_np` archives read
//! to the same events as our readers give for the original files, and a frames archive equal
//! to our integration.

mod common;

use std::path::PathBuf;

use common::{case, fixture_file, path_of};
use events::formats::{aedat2, nmnist, spikingjelly_npz};
use events::frames::{EmptyWindows, SplitBy, integrate};

fn npz(name: &str) -> PathBuf {
    fixture_file("spikingjelly_npz", name)
}

#[test]
fn events_archives_hold_what_the_readers_read() {
    let aedat = aedat2::read(&path_of(&case("cifar10dvs_aedat", "random3003")["aedat"])).unwrap();
    assert_eq!(
        spikingjelly_npz::read_events(&npz("random3003_events.npz")).unwrap(),
        aedat
    );
    let bin = nmnist::read(&path_of(&case("nmnist_bin", "sample30")["bin"])).unwrap();
    assert_eq!(
        spikingjelly_npz::read_events(&npz("sample30_events.npz")).unwrap(),
        bin
    );
}

#[test]
fn a_frames_archive_equals_our_integration() {
    let path = npz("random3003_frames_T8_number.npz");
    let theirs = spikingjelly_npz::read_frames(&path).unwrap();
    let events = spikingjelly_npz::read_events(&npz("random3003_events.npz")).unwrap();
    let ours = integrate(
        &events,
        8,
        SplitBy::Number,
        (128, 128),
        EmptyWindows::Error,
        &path,
    )
    .unwrap();
    assert_eq!(theirs, ours);
}

#[test]
fn a_damaged_archive_is_a_clear_error() {
    let bytes = std::fs::read(npz("sample30_events.npz")).unwrap();
    let broken = std::env::temp_dir().join(format!("spikeforge-broken-{}.npz", std::process::id()));
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let error = spikingjelly_npz::read_events(&broken)
        .unwrap_err()
        .to_string();
    assert!(error.contains("a NumPy .npz archive"), "{error}");
    assert!(error.starts_with(&broken.display().to_string()), "{error}");
    std::fs::remove_file(broken).unwrap();
    let error = spikingjelly_npz::read_frames(&npz("sample30_events.npz"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("an array named `frames`"), "{error}");
}

#[test]
fn prepare_reads_a_spikingjelly_events_np_folder() {
    use events::cache::{FrameSettings, Part, PrepareRequest, prepare, recording_frames};
    use events::dataset::{CIFAR10_DVS_CLASSES, RecordingFormat, cifar10_dvs};
    use events::split::{SplitManifest, SplitRule};

    let root = std::env::temp_dir().join(format!("spikeforge-events-np-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for class in CIFAR10_DVS_CLASSES {
        std::fs::create_dir_all(root.join(class)).unwrap();
        std::fs::copy(
            npz("random3003_events.npz"),
            root.join(class).join(format!("cifar10_{class}_0.npz")),
        )
        .unwrap();
    }
    let index = cifar10_dvs(&root).unwrap();
    assert_eq!(index.format, RecordingFormat::SpikingJellyNpz(128, 128));
    let split = SplitManifest::split(&index, SplitRule::SpikingJelly { train_ratio: 1.0 }).unwrap();
    let settings = FrameSettings::default();
    let request = PrepareRequest {
        dataset: "cifar10-dvs",
        index: &index,
        split: &split,
        settings,
        skip_bad: false,
    };
    let (cache, _) = prepare(&request, &root.join("cache"), &|| {}).unwrap();
    let aedat = path_of(&case("cifar10dvs_aedat", "random3003")["aedat"]);
    let from_aedat = recording_frames(&aedat, RecordingFormat::Aedat2, &settings, None).unwrap();
    assert_eq!(cache.samples(Part::Train).len(), 10);
    assert_eq!(cache.frames(Part::Train, 0), from_aedat);
    std::fs::remove_dir_all(root).unwrap();
}
