//! The Heidelberg spiking audio datasets, SHD (Spiking Heidelberg Digits) and SSC (Spiking
//! Speech Commands): one HDF5 file per split holding every sample's spike train, and the
//! one-sample files spikeforge extracts from it for the frame cache.
//!
//! The published files (read by SpikingJelly's `SpikingHeidelbergDigits` and Tonic's `SHD`)
//! hold `spikes/times` (variable-length `float16` seconds per sample), `spikes/units`
//! (variable-length `uint16` channels, `0..700`) and `labels`. The variable-length arrays are
//! HDF5 global-heap references (16 bytes each: element count, collection address, object
//! index), resolved here against the file's bytes.
//!
//! A sample file (`.spk`) is [`SAMPLE_MAGIC`] followed by little-endian `u16` pairs (the
//! time's IEEE half-precision bits, the unit), so that integration sees SpikingJelly's own
//! `float16` times.

use std::collections::HashMap;
use std::path::Path;

use half::f16;
use hdf5_pure::{Dataset, Datatype, File};

use super::hdf5_limits::{read_limit, size_problem};
use crate::error::{EventsError, Result};
use crate::events::Events;

/// Input channels of the cochlea model (units `0..700`).
pub const UNITS: usize = 700;

/// The sensor size `(H, W)` spike trains are integrated at: one row of [`UNITS`].
pub const SENSOR_SIZE: (usize, usize) = (1, UNITS);

/// First bytes of a sample file.
pub const SAMPLE_MAGIC: &[u8; 8] = b"SFSPK16\n";

/// Bytes of one global-heap reference of a variable-length element.
const REFERENCE_BYTES: usize = 16;

/// One sample: spike times (`float16` seconds) and units, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpikeTrain {
    /// Spike times in seconds, as the file stores them.
    pub times: Vec<f16>,
    /// The unit (channel) of each spike, `< UNITS`.
    pub units: Vec<u16>,
}

impl SpikeTrain {
    /// Number of spikes.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether there are no spikes.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The spikes as events: unit as `x`, `y = 0`, `p = 0`, and the time in whole µs,
    /// truncated as Tonic does (`int(t · 10⁶)`, computed in `f64`).
    pub fn to_events(&self) -> Events {
        let mut events = Events::with_capacity(self.len());
        for (&time, &unit) in self.times.iter().zip(&self.units) {
            events.push((f64::from(time) * 1e6) as u64, unit, 0, 0);
        }
        events
    }

    /// The bytes of a sample file.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(SAMPLE_MAGIC.len() + 4 * self.len());
        bytes.extend_from_slice(SAMPLE_MAGIC);
        for (&time, &unit) in self.times.iter().zip(&self.units) {
            bytes.extend_from_slice(&time.to_bits().to_le_bytes());
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        bytes
    }

    /// Parses a sample file's bytes (`path` names it in errors).
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        let Some(body) = bytes.strip_prefix(SAMPLE_MAGIC.as_slice()) else {
            return Err(EventsError::malformed(
                path,
                0,
                "a spikeforge spike-train sample file starting with \"SFSPK16\\n\"",
            ));
        };
        if body.len() % 4 != 0 {
            return Err(EventsError::malformed(
                path,
                (bytes.len() - body.len() % 4) as u64,
                format!(
                    "whole 4-byte spikes after the 8-byte header; {} bytes are left over",
                    body.len() % 4
                ),
            ));
        }
        let half = |spike: &[u8], at: usize| u16::from_le_bytes([spike[at], spike[at + 1]]);
        let train = Self {
            times: body
                .chunks_exact(4)
                .map(|spike| f16::from_bits(half(spike, 0)))
                .collect(),
            units: body.chunks_exact(4).map(|spike| half(spike, 2)).collect(),
        };
        let header = SAMPLE_MAGIC.len() as u64;
        train.check(path, None, |i| {
            let at = header + 4 * i as u64;
            (at, at + 2)
        })?;
        Ok(train)
    }

    /// Checks every spike: a finite time of at least 0 s, a unit below [`UNITS`]. An error
    /// names the byte `offsets(i)` gives for spike `i`'s time or unit (and the sample).
    fn check(
        &self,
        path: &Path,
        sample: Option<usize>,
        offsets: impl Fn(usize) -> (u64, u64),
    ) -> Result<()> {
        for (i, (&time, &unit)) in self.times.iter().zip(&self.units).enumerate() {
            let (time_at, unit_at) = offsets(i);
            let (offset, problem) =
                if !time.is_finite() || time.is_sign_negative() && time != f16::ZERO {
                    (
                        time_at,
                        format!("a finite spike time of at least 0 s, not {time}"),
                    )
                } else if usize::from(unit) >= UNITS {
                    (unit_at, format!("a unit below {UNITS}, not {unit}"))
                } else {
                    continue;
                };
            let expected = match sample {
                Some(sample) => format!("sample {sample}, spike {i}: {problem}"),
                None => problem,
            };
            return Err(EventsError::malformed(path, offset, expected));
        }
        Ok(())
    }
}

/// An SHD or SSC HDF5 file, read whole; samples are decoded on request.
pub struct ShdFile {
    path: std::path::PathBuf,
    file: File,
    labels: Vec<u16>,
    /// Per sample, the byte ranges of its times and of its units in `bytes`.
    times: Vec<std::ops::Range<usize>>,
    units: Vec<std::ops::Range<usize>>,
}

impl ShdFile {
    /// Reads the file at `path` and checks its layout: `spikes/times` (variable-length
    /// `float16`), `spikes/units` (variable-length 16-bit integers) and `labels` of one
    /// length, every sample's times and units of one length.
    pub fn open(path: &Path) -> Result<Self> {
        Self::parse(super::read_bytes(path)?, path)
    }

    /// Parses a whole file's bytes (`path` names it in errors), as [`ShdFile::open`].
    pub fn parse(bytes: Vec<u8>, path: &Path) -> Result<Self> {
        let hdf5 = |e: hdf5_pure::Error| {
            EventsError::malformed(path, 0, format!("an HDF5 file of SHD's layout ({e})"))
        };
        let limit = read_limit(bytes.len());
        let file = File::from_bytes(bytes).map_err(hdf5)?;
        let dataset = |name: &str| -> Result<Dataset> {
            let dataset = file.dataset(name).map_err(hdf5)?;
            match size_problem(&dataset, limit) {
                Some(problem) => Err(EventsError::malformed(
                    path,
                    0,
                    format!("`{name}`: {problem}"),
                )),
                None => Ok(dataset),
            }
        };
        let labels = dataset("labels")?.read_u16().map_err(hdf5)?;
        let mut heaps = HeapIndex::default();
        let mut ranges = |name: &str, float: bool| -> Result<Vec<std::ops::Range<usize>>> {
            let dataset = dataset(name)?;
            check_element_type(&dataset.datatype().map_err(hdf5)?, float, name, path)?;
            let references = dataset.read_raw().map_err(hdf5)?;
            if references.len() != labels.len() * REFERENCE_BYTES {
                return Err(EventsError::malformed(
                    path,
                    0,
                    format!(
                        "`{name}` of {} samples, one per label ({} bytes of references), not \
                         {} bytes",
                        labels.len(),
                        labels.len() * REFERENCE_BYTES,
                        references.len()
                    ),
                ));
            }
            references
                .chunks_exact(REFERENCE_BYTES)
                .map(|reference| heaps.resolve(file.as_bytes(), reference, path))
                .collect()
        };
        let times = ranges("spikes/times", true)?;
        let units = ranges("spikes/units", false)?;
        for (i, (t, u)) in times.iter().zip(&units).enumerate() {
            if t.len() != u.len() {
                return Err(EventsError::malformed(
                    path,
                    if t.is_empty() { u.start } else { t.start } as u64,
                    format!(
                        "sample {i}: as many units as times; it has {} times and {} units",
                        t.len() / 2,
                        u.len() / 2
                    ),
                ));
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            labels,
            times,
            units,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the file holds no sample.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Every sample's label, in file order.
    pub fn labels(&self) -> &[u16] {
        &self.labels
    }

    /// Sample `index` (checked: finite non-negative times, units below [`UNITS`]).
    pub fn sample(&self, index: usize) -> Result<SpikeTrain> {
        let (times, units) = (&self.times[index], &self.units[index]);
        let halves = |range: &std::ops::Range<usize>| {
            self.file.as_bytes()[range.clone()]
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect::<Vec<_>>()
        };
        let train = SpikeTrain {
            times: halves(times).into_iter().map(f16::from_bits).collect(),
            units: halves(units),
        };
        train.check(&self.path, Some(index), |i| {
            ((times.start + 2 * i) as u64, (units.start + 2 * i) as u64)
        })?;
        Ok(train)
    }
}

/// `spikes/times` must be variable-length little-endian `float16`, `spikes/units`
/// variable-length little-endian 16-bit integers.
fn check_element_type(datatype: &Datatype, float: bool, name: &str, path: &Path) -> Result<()> {
    use hdf5_pure::DatatypeByteOrder::LittleEndian;
    let fits = match datatype {
        Datatype::VariableLength {
            is_string: false,
            base_type,
            ..
        } => matches!(
            (base_type.as_ref(), float),
            (
                Datatype::FloatingPoint {
                    size: 2,
                    byte_order: LittleEndian,
                    ..
                },
                true
            ) | (
                Datatype::FixedPoint {
                    size: 2,
                    byte_order: LittleEndian,
                    ..
                },
                false
            )
        ),
        _ => false,
    };
    if fits {
        return Ok(());
    }
    let wanted = if float { "float16" } else { "uint16" };
    Err(EventsError::malformed(
        path,
        0,
        format!("`{name}` of variable-length little-endian {wanted} arrays, not {datatype:?}"),
    ))
}

/// The objects of the global-heap collections met so far: (collection address, object
/// index) → the object's byte range.
#[derive(Default)]
struct HeapIndex {
    objects: HashMap<(u64, u16), std::ops::Range<usize>>,
    collections: std::collections::HashSet<u64>,
}

impl HeapIndex {
    /// The byte range of the `u16` elements a 16-byte variable-length reference points to.
    fn resolve(
        &mut self,
        file: &[u8],
        reference: &[u8],
        path: &Path,
    ) -> Result<std::ops::Range<usize>> {
        let count = u32::from_le_bytes(reference[0..4].try_into().expect("4 bytes")) as usize;
        let collection = u64::from_le_bytes(reference[4..12].try_into().expect("8 bytes"));
        let object = u32::from_le_bytes(reference[12..16].try_into().expect("4 bytes"));
        if count == 0 {
            return Ok(0..0);
        }
        if self.collections.insert(collection) {
            self.read_collection(file, collection, path)?;
        }
        let range = u16::try_from(object)
            .ok()
            .and_then(|object| self.objects.get(&(collection, object)))
            .ok_or_else(|| {
                EventsError::malformed(
                    path,
                    collection,
                    format!("a global heap holding object {object}"),
                )
            })?;
        if range.len() < 2 * count {
            return Err(EventsError::malformed(
                path,
                range.start as u64,
                format!(
                    "a heap object of {count} 2-byte elements; it has {} bytes",
                    range.len()
                ),
            ));
        }
        Ok(range.start..range.start + 2 * count)
    }

    /// Indexes the objects of the collection at `address`: `"GCOL"`, version 1, the
    /// collection size, then objects (index, reference count, size, data padded to 8 bytes)
    /// up to the free-space object (index 0).
    fn read_collection(&mut self, file: &[u8], address: u64, path: &Path) -> Result<()> {
        let malformed =
            |offset: usize, expected: &str| EventsError::malformed(path, offset as u64, expected);
        let start = usize::try_from(address).unwrap_or(usize::MAX);
        let header = file
            .get(start..start.saturating_add(16))
            .filter(|h| &h[..4] == b"GCOL" && h[4] == 1)
            .ok_or_else(|| malformed(start, "a global heap collection (\"GCOL\", version 1)"))?;
        let size = u64::from_le_bytes(header[8..16].try_into().expect("8 bytes"));
        let end = usize::try_from(size)
            .ok()
            .and_then(|size| start.checked_add(size))
            .filter(|&end| end <= file.len())
            .ok_or_else(|| malformed(start + 8, "a collection size within the file"))?;
        let mut at = start + 16;
        while at + 16 <= end {
            let index = u16::from_le_bytes([file[at], file[at + 1]]);
            if index == 0 {
                break;
            }
            let size = u64::from_le_bytes(file[at + 8..at + 16].try_into().expect("8 bytes"));
            let data = at + 16;
            let data_end = usize::try_from(size)
                .ok()
                .and_then(|size| data.checked_add(size))
                .filter(|&data_end| data_end <= end)
                .ok_or_else(|| malformed(at + 8, "a heap object within its collection"))?;
            self.objects.insert((address, index), data..data_end);
            at = data + (data_end - data).div_ceil(8) * 8;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_files_round_trip_and_refuse_bad_spikes() {
        let path = Path::new("sample.spk");
        let train = SpikeTrain {
            times: [0.0, 0.25, 1.5].map(f16::from_f32).to_vec(),
            units: vec![0, 699, 3],
        };
        assert_eq!(SpikeTrain::parse(&train.encode(), path).unwrap(), train);
        let mut bytes = train.encode();
        bytes[8 + 4 + 2..8 + 4 + 4].copy_from_slice(&700u16.to_le_bytes());
        let error = SpikeTrain::parse(&bytes, path).unwrap_err().to_string();
        assert!(
            error.contains("at byte 14") && error.contains("below 700"),
            "{error}"
        );
        let mut bytes = train.encode();
        bytes[8 + 4..8 + 6].copy_from_slice(&f16::NAN.to_bits().to_le_bytes());
        let error = SpikeTrain::parse(&bytes, path).unwrap_err().to_string();
        assert!(
            error.contains("at byte 12") && error.contains("time"),
            "{error}"
        );
        let error = SpikeTrain::parse(&bytes[..bytes.len() - 1], path).unwrap_err();
        assert!(error.to_string().contains("at byte 16"), "{error}");
        assert!(SpikeTrain::parse(b"not a sample", path).is_err());
    }
}
