//! SpikingJelly's own caches, so that its users can bring what they already have:
//! `events_np/**.npz` (arrays `t, x, y, p`, as its dataset classes write them) and
//! `frames_number_*_split_by_*/**.npz` (array `frames`, `[T, 2, H, W]` float64 counts).
//!
//! SpikingJelly stores the arrays in the dtypes of each dataset's parser (CIFAR10-DVS: `t`
//! big-endian `u32`, `x`/`y` `u32`, `p` `i64`; N-MNIST: `u32`; DVS128 Gesture: `i64`); every
//! integer dtype is accepted here and range-checked. Polarity keeps only `p ≠ 0` (the frame
//! channel).

use std::path::Path;

use npyz::npz::NpzArchive;

use crate::error::{EventsError, Result};
use crate::events::Events;
use crate::frames::Frames;

/// Reads an `events_np` `.npz` file.
pub fn read_events(path: &Path) -> Result<Events> {
    parse_events(&super::read_bytes(path)?, path)
}

/// Parses the bytes of an `events_np` `.npz` file (`path` names it in errors).
pub fn parse_events(bytes: &[u8], path: &Path) -> Result<Events> {
    let mut archive = open(bytes, path)?;
    let t = integers(&mut archive, "t", path)?;
    let x = integers(&mut archive, "x", path)?;
    let y = integers(&mut archive, "y", path)?;
    let p = integers(&mut archive, "p", path)?;
    if [x.len(), y.len(), p.len()] != [t.len(); 3] {
        return Err(EventsError::malformed(
            path,
            0,
            format!(
                "arrays t, x, y, p of one length; found {}, {}, {}, {}",
                t.len(),
                x.len(),
                y.len(),
                p.len()
            ),
        ));
    }
    let mut events = Events::with_capacity(t.len());
    for i in 0..t.len() {
        let (Ok(time), Ok(column), Ok(row)) = (
            u64::try_from(t[i]),
            u16::try_from(x[i]),
            u16::try_from(y[i]),
        ) else {
            return Err(EventsError::Unrepresentable {
                path: path.to_path_buf(),
                index: i,
                problem: format!(
                    "event (t {}, x {}, y {}) has a negative or too large value",
                    t[i], x[i], y[i]
                ),
            });
        };
        events.push(time, column, row, u8::from(p[i] != 0));
    }
    Ok(events)
}

/// Reads a SpikingJelly frames `.npz` file: `frames`, `[T, 2, H, W]` counts.
pub fn read_frames(path: &Path) -> Result<Frames> {
    let bytes = super::read_bytes(path)?;
    let mut archive = open(&bytes, path)?;
    let npy = archive
        .by_name("frames")
        .map_err(|e| zip_error(path, e))?
        .ok_or_else(|| EventsError::malformed(path, 0, "an array named `frames`"))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let [frames, 2, height, width] = shape[..] else {
        return Err(EventsError::malformed(
            path,
            0,
            format!("`frames` of shape [T, 2, H, W]; found {shape:?}"),
        ));
    };
    let values: Vec<f64> = npy.into_vec().map_err(|e| zip_error(path, e))?;
    let mut counts = Vec::with_capacity(values.len());
    for (i, &v) in values.iter().enumerate() {
        if !(v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX)) {
            return Err(EventsError::Unrepresentable {
                path: path.to_path_buf(),
                index: i,
                problem: format!("frame value {v} is not an event count"),
            });
        }
        counts.push(v as u32);
    }
    Ok(Frames {
        frames,
        height,
        width,
        counts,
    })
}

type Archive<'a> = NpzArchive<std::io::Cursor<&'a [u8]>>;

fn open<'a>(bytes: &'a [u8], path: &Path) -> Result<Archive<'a>> {
    NpzArchive::new(std::io::Cursor::new(bytes)).map_err(|e| zip_error(path, e))
}

fn zip_error(path: &Path, error: std::io::Error) -> EventsError {
    EventsError::malformed(path, 0, format!("a NumPy .npz archive: {error}"))
}

/// An integer array of any NumPy integer dtype, widened to i64.
fn integers(archive: &mut Archive, name: &str, path: &Path) -> Result<Vec<i64>> {
    macro_rules! try_as {
        ($($ty:ty),*) => {$(
            let npy = archive
                .by_name(name)
                .map_err(|e| zip_error(path, e))?
                .ok_or_else(|| EventsError::malformed(path, 0, format!("an array named `{name}`")))?;
            if let Ok(values) = npy.into_vec::<$ty>() {
                return values
                    .into_iter()
                    .map(|v| i64::try_from(v).map_err(|_| {
                        EventsError::malformed(path, 0, format!("`{name}` values that fit in i64"))
                    }))
                    .collect();
            }
        )*};
    }
    try_as!(i64, u32, i32, u64, u16, i16, u8, i8);
    Err(EventsError::malformed(
        path,
        0,
        format!("`{name}` as an integer array"),
    ))
}
