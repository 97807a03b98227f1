//! Every reader on truncated, random and hostile bytes: never a panic, never an allocation
//! beyond the input's size, always an error that names the file.

use std::path::Path;

use events::formats::prophesee::{self, dat};
use events::formats::{aedat2, aedat3, aedat4, nmnist};
use proptest::prelude::*;

const NAME: &str = "fuzzed.bin";

fn check<T: std::fmt::Debug>(result: events::Result<T>) {
    if let Err(error) = result {
        assert!(error.to_string().starts_with(NAME), "{error}");
    }
}

/// A packet header claiming `capacity` events of `size` bytes.
fn packet(event_type: u16, size: u32, capacity: u32) -> Vec<u8> {
    let mut header = Vec::new();
    header.extend_from_slice(&event_type.to_le_bytes());
    header.extend_from_slice(&0u16.to_le_bytes());
    for value in [size, 0, 0, capacity, capacity, capacity] {
        header.extend_from_slice(&value.to_le_bytes());
    }
    header
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED_F0CE), ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let path = Path::new(NAME);
        check(aedat2::parse(&bytes, path));
        check(aedat3::parse(&bytes, path));
        check(nmnist::parse(&bytes, path));
        check(aedat3::parse_labels(&bytes, path));
        check(aedat4::parse(&bytes, path));
        check(prophesee::parse_raw(&bytes, path));
        check(dat::parse(&bytes, path));
    }

    #[test]
    fn headers_then_garbage_never_panic(
        header in "(#[ -~]{0,20}\r?\n){0,4}(#!END-HEADER\r\n)?",
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = header.into_bytes();
        bytes.extend(body);
        let path = Path::new(NAME);
        check(aedat2::parse(&bytes, path));
        check(aedat3::parse(&bytes, path));
    }

    #[test]
    fn prophesee_headers_then_garbage_never_panic(
        header in "(% (evt [23]\\.0|format EVT[23];height=[0-9]{1,3};width=[0-9]{1,3}|\
                   geometry [0-9]{1,3}x[0-9]{1,3}|Height [0-9]{1,3}|Width [0-9]{1,3}|[ -~]{0,20})\n)\
                   {0,4}(% end\n)?",
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = header.into_bytes();
        bytes.extend(body);
        let path = Path::new(NAME);
        check(prophesee::parse_raw(&bytes, path));
        check(prophesee::evt2::parse(&bytes, path));
        check(prophesee::evt3::parse(&bytes, path));
        check(dat::parse(&bytes, path));
    }

    #[test]
    fn hostile_packet_sizes_are_refused_without_allocating(
        event_type in 0u16..3,
        size in any::<u32>(),
        capacity in any::<u32>(),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = b"#!AER-DAT3.1\r\n#!END-HEADER\r\n".to_vec();
        bytes.extend(packet(event_type, size, capacity));
        bytes.extend(tail);
        check(aedat3::parse(&bytes, Path::new(NAME)));
    }

    #[test]
    fn truncations_of_valid_files_are_errors_or_shorter_recordings(cut in 0usize..400) {
        let mut events = events::Events::default();
        for i in 0..40u16 {
            events.push(u64::from(i) * 10, i % 128, (i * 7) % 128, (i % 2) as u8);
        }
        let path = Path::new(NAME);
        let bytes = aedat2::encode(&events, path).unwrap();
        let cut = cut.min(bytes.len());
        match aedat2::parse(&bytes[..cut], path) {
            Ok(prefix) => prop_assert!(prefix.len() <= events.len()),
            Err(error) => prop_assert!(error.to_string().starts_with(NAME)),
        }
    }
}
