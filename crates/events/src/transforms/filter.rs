//! Per-pixel filters of Tonic: `Denoise`, `RefractoryPeriod`, `Decimation`. Each keeps a
//! memory per pixel of a grid `(max x + 1) × (max y + 1)`, walks the events in order and
//! keeps some; the kept events stay in order.

use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use super::{PixelMemory, Range, Transform, TransformError, setting};
use crate::Events;

/// Drops events with no event at a 4-neighbour within `filter_time` µs before them
/// (`tonic.transforms.Denoise`).
///
/// Tonic's rule, exactly: every pixel's memory starts at `filter_time`; for each event in
/// order, its own pixel's memory becomes `t + filter_time`, and the event is kept if the
/// memory of a pixel left, right, above or below it (inside the grid; not the pixel itself,
/// not diagonals) is greater than `t`. Because of the initial value, an event with
/// `t < filter_time` is kept whenever it has a neighbour inside the grid.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Denoise {
    /// The time window in µs.
    pub filter_time: f64,
}

impl Transform for Denoise {
    fn apply(&self, events: &Events, _: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        let mut memory = PixelMemory::new(events, self.filter_time);
        let (width, height) = (memory.width, memory.height);
        Ok(events.filter_indices(|i| {
            let (x, y, t) = (
                usize::from(events.x[i]),
                usize::from(events.y[i]),
                events.t[i] as f64,
            );
            *memory.get_mut(x, y) = t + self.filter_time;
            (x > 0 && memory.get(x - 1, y) > t)
                || (x + 1 < width && memory.get(x + 1, y) > t)
                || (y > 0 && memory.get(x, y - 1) > t)
                || (y + 1 < height && memory.get(x, y + 1) > t)
        }))
    }
}

/// Drops events that come within `delta` µs of the previous event at their pixel
/// (`tonic.transforms.RefractoryPeriod`).
///
/// Tonic's rule: every pixel's last time starts at `−delta`; an event is kept if
/// `t − last > delta`, and `last = t` for every event, kept or not (so a burst keeps being
/// dropped). A pixel's first event is therefore dropped when `t = 0`. A range draws
/// `delta` once per call and truncates it to an integer, as Tonic does.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefractoryPeriod {
    /// The refractory period in µs.
    pub delta: Range,
}

impl Transform for RefractoryPeriod {
    fn apply(&self, events: &Events, rng: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        let delta = match self.delta {
            Range::Fixed(delta) => delta,
            range => range.sample(rng).trunc(),
        };
        let mut last = PixelMemory::new(events, -delta);
        Ok(events.filter_indices(|i| {
            let cell = last.get_mut(usize::from(events.x[i]), usize::from(events.y[i]));
            let t = events.t[i] as f64;
            let keep = t - *cell > delta;
            *cell = t;
            keep
        }))
    }
}

/// Keeps every `n`-th event of each pixel (the `n`-th, `2n`-th, …;
/// `tonic.transforms.Decimation`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decimation {
    /// Keep one event in `n` per pixel (at least 1).
    pub n: usize,
}

impl Transform for Decimation {
    fn apply(&self, events: &Events, _: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        if self.n == 0 {
            return Err(setting("Decimation", "n must be at least 1"));
        }
        let mut count = PixelMemory::new(events, 0usize);
        Ok(events.filter_indices(|i| {
            let cell = count.get_mut(usize::from(events.x[i]), usize::from(events.y[i]));
            *cell += 1;
            let keep = *cell >= self.n;
            if keep {
                *cell = 0;
            }
            keep
        }))
    }
}
