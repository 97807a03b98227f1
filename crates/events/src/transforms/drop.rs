//! Random event drops of Tonic: `DropEvent`, `DropEventByTime`, `DropEventByArea`. The kept
//! events stay in order.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use super::{Range, Transform, TransformError, setting, uniform};
use crate::Events;

/// Drops `round(p · n)` events (`int(p·n + 0.5)`) chosen uniformly without replacement
/// (`tonic.transforms.DropEvent`); `p` in `[0, 1]`, or a range drawn once per call.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropEvent {
    /// The share of events dropped.
    pub p: Range,
}

impl Transform for DropEvent {
    fn apply(&self, events: &Events, rng: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        if !(self.p.within(0.0, 1.0) || self.p == Range::Fixed(1.0)) {
            return Err(setting(
                "DropEvent",
                format!("p {:?} is not in [0, 1]", self.p),
            ));
        }
        let n = events.len();
        let dropped = ((self.p.sample(rng) * n as f64 + 0.5) as usize).min(n);
        let mut drop = vec![false; n];
        for index in rand::seq::index::sample(rng, n, dropped) {
            drop[index] = true;
        }
        Ok(events.filter_indices(|i| !drop[i]))
    }
}

/// Drops the events of one random time window (`tonic.transforms.DropEventByTime`): its
/// length is `ratio · max t` and its start uniform in `[0, max t − length)` (Tonic measures
/// from 0, not from the first event); events with `start ≤ t ≤ start + length` go.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropEventByTime {
    /// The window's share of the recording, in `[0, 1)` (default 0.2).
    #[serde(default = "default_ratio")]
    pub duration_ratio: Range,
}

impl Transform for DropEventByTime {
    fn apply(&self, events: &Events, rng: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        if !self.duration_ratio.within(0.0, 1.0) {
            return Err(setting(
                "DropEventByTime",
                format!("duration_ratio {:?} is not in [0, 1)", self.duration_ratio),
            ));
        }
        let end = events.t.iter().max().map_or(0.0, |&t| t as f64);
        let length = end * self.duration_ratio.sample(rng);
        let start = (end - length) * uniform(rng);
        Ok(events.filter_indices(|i| {
            let t = events.t[i] as f64;
            !(t >= start && t <= start + length)
        }))
    }
}

/// Drops the events of one random box of the sensor (`tonic.transforms.DropEventByArea`):
/// `int(W·r) × int(H·r)` pixels, its corner uniform over the integer positions
/// `[0, W − int(W·r)) × [0, H − int(H·r))`.
///
/// A range draws `r` uniformly from it; Tonic's own tuple handling
/// (`np.random.uniform(a0 and a1)`) draws from `[a1, 1)` instead whenever `a0 ≠ 0`, which
/// is not followed here.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropEventByArea {
    /// Sensor width W.
    pub width: u16,
    /// Sensor height H.
    pub height: u16,
    /// The box's side as a share of the sensor's, in `[0, 1)` (default 0.2).
    #[serde(default = "default_ratio")]
    pub area_ratio: Range,
}

impl Transform for DropEventByArea {
    fn apply(&self, events: &Events, rng: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        if !self.area_ratio.within(0.0, 1.0) || self.width == 0 || self.height == 0 {
            return Err(setting(
                "DropEventByArea",
                format!(
                    "area_ratio {:?} must be in [0, 1) and the sensor {}×{} not empty",
                    self.area_ratio, self.width, self.height
                ),
            ));
        }
        let ratio = self.area_ratio.sample(rng);
        let (w, h) = (u32::from(self.width), u32::from(self.height));
        let cut_w = (f64::from(w) * ratio) as u32;
        let cut_h = (f64::from(h) * ratio) as u32;
        let x1 = rng.random_range(0..w - cut_w);
        let y1 = rng.random_range(0..h - cut_h);
        Ok(events.filter_indices(|i| {
            let (x, y) = (u32::from(events.x[i]), u32::from(events.y[i]));
            !(x >= x1 && x < x1 + cut_w && y >= y1 && y < y1 + cut_h)
        }))
    }
}

/// Tonic's default drop ratio, 0.2.
fn default_ratio() -> Range {
    Range::Fixed(0.2)
}
