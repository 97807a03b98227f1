//! SpikingJelly's own cache files (written by SpikingJelly 2.0.0): `events_np` archives read
//! to the same events as our readers give for the original files, and a frames archive equal
//! to our integration.

mod common;

use std::path::PathBuf;

use common::{case, path_of};
use events::formats::{aedat2, nmnist, spikingjelly_npz};
use events::frames::{EmptyWindows, SplitBy, integrate};

fn npz(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spikingjelly_npz")
        .join(name)
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
