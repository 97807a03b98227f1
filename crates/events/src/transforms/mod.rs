//! Event transforms with the names and semantics of Tonic's `tonic.transforms` (Tonic 1.7):
//! filters (`Denoise`, `RefractoryPeriod`, `Decimation`), random drops (`DropEvent`,
//! `DropEventByTime`, `DropEventByArea`), geometry (`RandomFlipLR`/`UD`, `RandomCrop`,
//! `CenterCrop`, `SpatialJitter`), time (`TimeSkew`, `TimeJitter`) and `MergePolarities`.
//!
//! Each transform is a small value whose [`Transform::apply`] maps a recording to a new one,
//! drawing any randomness from the caller's seeded ChaCha8 generator (the same seed gives
//! the same result). The deterministic ones are tested against Tonic's output on the same
//! events (`tests/transforms.rs`, fixtures in `tests/fixtures/tonic_transforms/`). Tonic works on a structured array with integer
//! fields: where it adds a float to `x`, `y` or `t`, numpy truncates toward zero, and so do
//! these. A result that [`Events`] cannot hold (a negative timestamp or coordinate, which
//! Tonic would keep or wrap) is an error naming the transform and event, never clamped.

mod drop;
mod filter;
mod geometry;
mod named;
mod polarity;
mod time;

use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use thiserror::Error;

use crate::Events;

pub use drop::{DropEvent, DropEventByArea, DropEventByTime};
pub use filter::{Decimation, Denoise, RefractoryPeriod};
pub use geometry::{CenterCrop, RandomCrop, RandomFlipLR, RandomFlipUD, SpatialJitter};
pub use named::{NAMES, named};
pub use polarity::MergePolarities;
pub use time::{TimeJitter, TimeSkew};

/// Why a transform could not be applied.
#[derive(Debug, Error, PartialEq)]
pub enum TransformError {
    /// A setting out of its range (a probability above 1, a crop larger than the sensor…).
    #[error("{transform}: {problem}")]
    Setting {
        /// The transform (Tonic's name).
        transform: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// A transformed event that [`Events`] cannot hold.
    #[error("{transform}: event {index}: {problem}")]
    Unrepresentable {
        /// The transform (Tonic's name).
        transform: &'static str,
        /// The event's index in the input.
        index: usize,
        /// What does not fit.
        problem: String,
    },
}

/// One event transform.
pub trait Transform {
    /// The transformed copy of `events`; randomness comes from `rng` only.
    fn apply(&self, events: &Events, rng: &mut ChaCha8Rng) -> Result<Events, TransformError>;

    /// [`apply`](Self::apply) with a generator seeded from `seed` alone.
    fn apply_seeded(&self, events: &Events, seed: u64) -> Result<Events, TransformError> {
        self.apply(events, &mut rand::SeedableRng::seed_from_u64(seed))
    }
}

/// Transforms applied one after the other (`tonic.transforms.Compose`).
#[derive(Default)]
pub struct Compose(pub Vec<Box<dyn Transform + Send + Sync>>);

impl Transform for Compose {
    fn apply(&self, events: &Events, rng: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        self.0.iter().try_fold(events.clone(), |events, transform| {
            transform.apply(&events, rng)
        })
    }
}

/// A setting that is either fixed or drawn uniformly from `[low, high)` on every call
/// (Tonic's `float | tuple[float, float]`; in settings a number or a pair `[low, high]`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Range {
    /// Always this value.
    Fixed(f64),
    /// Uniform in `[low, high)`.
    Uniform(f64, f64),
}

impl Range {
    /// The value for one call.
    pub fn sample(self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            Range::Fixed(value) => value,
            Range::Uniform(low, high) => low + (high - low) * uniform(rng),
        }
    }

    /// Whether every value it can take lies in `[low, high)`.
    fn within(self, low: f64, high: f64) -> bool {
        let inside = |v: f64| v >= low && v < high;
        match self {
            Range::Fixed(v) => inside(v),
            Range::Uniform(a, b) => inside(a) && inside(b) && a <= b,
        }
    }
}

impl Default for Range {
    /// Fixed at 0.
    fn default() -> Self {
        Range::Fixed(0.0)
    }
}

impl From<f64> for Range {
    fn from(value: f64) -> Self {
        Range::Fixed(value)
    }
}

/// A uniform draw from `[0, 1)` (numpy's `random_sample`).
fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    rand::Rng::random::<f64>(rng)
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - uniform(rng); // (0, 1]: ln is finite
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A value per pixel of Tonic's grid `(max x + 1) × (max y + 1)`, each starting at `initial`:
/// a dense array for sensor-sized grids, a map where a stray large coordinate would make the
/// dense array huge.
struct PixelMemory<T> {
    width: usize,
    height: usize,
    initial: T,
    dense: Vec<T>,
    sparse: std::collections::HashMap<(u16, u16), T>,
}

/// Grids up to this many pixels are dense (a 4096 × 4096 sensor).
const DENSE_PIXELS: usize = 1 << 24;

impl<T: Copy> PixelMemory<T> {
    fn new(events: &Events, initial: T) -> Self {
        let width = events.x.iter().max().map_or(0, |&x| usize::from(x) + 1);
        let height = events.y.iter().max().map_or(0, |&y| usize::from(y) + 1);
        let dense = if width * height <= DENSE_PIXELS {
            vec![initial; width * height]
        } else {
            Vec::new()
        };
        Self {
            width,
            height,
            initial,
            dense,
            sparse: Default::default(),
        }
    }

    /// The value at `(x, y)`, which must lie in the grid.
    fn get(&self, x: usize, y: usize) -> T {
        if self.dense.is_empty() {
            *self
                .sparse
                .get(&(x as u16, y as u16))
                .unwrap_or(&self.initial)
        } else {
            self.dense[x * self.height + y]
        }
    }

    /// The value at `(x, y)`, which must lie in the grid, for writing.
    fn get_mut(&mut self, x: usize, y: usize) -> &mut T {
        if self.dense.is_empty() {
            self.sparse
                .entry((x as u16, y as u16))
                .or_insert(self.initial)
        } else {
            &mut self.dense[x * self.height + y]
        }
    }
}

/// `value` truncated toward zero into a coordinate, or the error for event `index`.
fn coordinate(transform: &'static str, index: usize, value: f64) -> Result<u16, TransformError> {
    let truncated = value.trunc();
    if (0.0..=f64::from(u16::MAX)).contains(&truncated) {
        Ok(truncated as u16)
    } else {
        Err(TransformError::Unrepresentable {
            transform,
            index,
            problem: format!("coordinate {value} is outside 0..=65535"),
        })
    }
}

/// `value` truncated toward zero into a timestamp, or the error for event `index`.
fn timestamp(transform: &'static str, index: usize, value: f64) -> Result<u64, TransformError> {
    let truncated = value.trunc();
    if truncated >= 0.0 && truncated < u64::MAX as f64 {
        Ok(truncated as u64)
    } else {
        Err(TransformError::Unrepresentable {
            transform,
            index,
            problem: format!("timestamp {value} µs is negative or too large"),
        })
    }
}

/// The error for a probability or ratio outside its range.
fn setting(transform: &'static str, problem: impl Into<String>) -> TransformError {
    TransformError::Setting {
        transform,
        problem: problem.into(),
    }
}
