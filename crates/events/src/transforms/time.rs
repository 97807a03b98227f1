//! Time transforms of Tonic: `TimeSkew` and `TimeJitter`.

use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use super::{Range, Transform, TransformError, normal, setting, timestamp};
use crate::Events;

/// `t ← trunc(t · coefficient + offset)` (`tonic.transforms.TimeSkew`); a range draws its
/// value once per call. A negative result is an error.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSkew {
    /// The multiplier.
    pub coefficient: Range,
    /// Added after the multiplication, in µs (default 0).
    #[serde(default)]
    pub offset: Range,
}

impl Transform for TimeSkew {
    fn apply(&self, events: &Events, rng: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        let coefficient = self.coefficient.sample(rng);
        let offset = self.offset.sample(rng);
        let mut out = events.clone();
        for (index, t) in out.t.iter_mut().enumerate() {
            *t = timestamp("TimeSkew", index, *t as f64 * coefficient + offset)?;
        }
        Ok(out)
    }
}

/// Adds a draw from `N(0, std²)` to every timestamp, truncated toward zero
/// (`tonic.transforms.TimeJitter`). With `clip_negative` (Tonic's default) events that end
/// up before 0 are dropped, otherwise they are an error; with `sort_timestamps` the result
/// is sorted by time (stably: Tonic's `argsort` leaves the order of ties unspecified).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeJitter {
    /// The standard deviation in µs.
    pub std: f64,
    /// Drop events moved before 0 (default yes).
    #[serde(default = "yes")]
    pub clip_negative: bool,
    /// Sort the result by time (default no).
    #[serde(default)]
    pub sort_timestamps: bool,
}

impl Transform for TimeJitter {
    fn apply(&self, events: &Events, rng: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        if !(self.std >= 0.0 && self.std.is_finite()) {
            return Err(setting(
                "TimeJitter",
                format!("std {} is not finite and ≥ 0", self.std),
            ));
        }
        let mut out = Events::with_capacity(events.len());
        for i in 0..events.len() {
            let t = (events.t[i] as f64 + self.std * normal(rng)).trunc();
            if t < 0.0 && self.clip_negative {
                continue;
            }
            out.push(
                timestamp("TimeJitter", i, t)?,
                events.x[i],
                events.y[i],
                events.p[i],
            );
        }
        if self.sort_timestamps {
            let mut order: Vec<usize> = (0..out.len()).collect();
            order.sort_by_key(|&i| out.t[i]);
            let sorted = Events {
                t: order.iter().map(|&i| out.t[i]).collect(),
                x: order.iter().map(|&i| out.x[i]).collect(),
                y: order.iter().map(|&i| out.y[i]).collect(),
                p: order.iter().map(|&i| out.p[i]).collect(),
            };
            out = sorted;
        }
        Ok(out)
    }
}

/// Tonic's default of `clip_negative`.
fn yes() -> bool {
    true
}
