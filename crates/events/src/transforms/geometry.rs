//! Geometric transforms of Tonic: flips, crops and spatial jitter, on a sensor of
//! `width × height` pixels.

use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use super::{Transform, TransformError, coordinate, normal, setting, uniform};
use crate::Events;

/// With probability `p` (Tonic draws `rand() ≤ p`), mirrors every event left–right:
/// `x ← W − 1 − x` (`tonic.transforms.RandomFlipLR`). An event with `x ≥ W` is an error.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomFlipLR {
    /// Sensor width W.
    pub width: u16,
    /// Probability of the flip, in `[0, 1]` (default ½).
    #[serde(default = "half")]
    pub p: f64,
}

/// With probability `p`, mirrors every event top–bottom: `y ← H − 1 − y`
/// (`tonic.transforms.RandomFlipUD`). An event with `y ≥ H` is an error.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomFlipUD {
    /// Sensor height H.
    pub height: u16,
    /// Probability of the flip, in `[0, 1]` (default ½).
    #[serde(default = "half")]
    pub p: f64,
}

impl Transform for RandomFlipLR {
    fn apply(&self, events: &Events, rng: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        let mut out = events.clone();
        if flips("RandomFlipLR", self.p, rng)? {
            mirror("RandomFlipLR", &mut out.x, self.width)?;
        }
        Ok(out)
    }
}

impl Transform for RandomFlipUD {
    fn apply(&self, events: &Events, rng: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        let mut out = events.clone();
        if flips("RandomFlipUD", self.p, rng)? {
            mirror("RandomFlipUD", &mut out.y, self.height)?;
        }
        Ok(out)
    }
}

/// Whether a flip of probability `p` happens this call.
fn flips(transform: &'static str, p: f64, rng: &mut ChaCha8Rng) -> Result<bool, TransformError> {
    if !(0.0..=1.0).contains(&p) {
        return Err(setting(transform, format!("p {p} is not in [0, 1]")));
    }
    Ok(uniform(rng) <= p)
}

/// `v ← size − 1 − v` for every coordinate.
fn mirror(transform: &'static str, values: &mut [u16], size: u16) -> Result<(), TransformError> {
    for (index, v) in values.iter_mut().enumerate() {
        *v = size
            .checked_sub(1)
            .and_then(|last| last.checked_sub(*v))
            .ok_or_else(|| TransformError::Unrepresentable {
                transform,
                index,
                problem: format!("coordinate {v} is outside the sensor's {size}"),
            })?;
    }
    Ok(())
}

/// Keeps the events inside a random `target_width × target_height` window of the sensor and
/// moves them to its origin (`tonic.transforms.RandomCrop`): the window's corner is
/// `(int(rand·(W − w)), int(rand·(H − h)))`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomCrop {
    /// Sensor width W.
    pub width: u16,
    /// Sensor height H.
    pub height: u16,
    /// The window's width w (at most W).
    pub target_width: u16,
    /// The window's height h (at most H).
    pub target_height: u16,
}

impl Transform for RandomCrop {
    fn apply(&self, events: &Events, rng: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        if self.target_width > self.width || self.target_height > self.height {
            return Err(setting(
                "RandomCrop",
                format!(
                    "the crop {}×{} is larger than the sensor {}×{}",
                    self.target_width, self.target_height, self.width, self.height
                ),
            ));
        }
        let x0 = (uniform(rng) * f64::from(self.width - self.target_width)) as i32;
        let y0 = (uniform(rng) * f64::from(self.height - self.target_height)) as i32;
        shift_window(
            "RandomCrop",
            events,
            [x0, y0],
            [x0, y0],
            [self.target_width, self.target_height],
        )
    }
}

/// Keeps the events inside the centred `size_width × size_height` window and moves them to
/// its origin (`tonic.transforms.CenterCrop`): offset `((W − w) // 2, (H − h) // 2)` (floor
/// division). A window larger than the sensor pads, as in Tonic: nothing is dropped on that
/// axis and the events move by the (negative) offset's size.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CenterCrop {
    /// Sensor width W.
    pub width: u16,
    /// Sensor height H.
    pub height: u16,
    /// The window's width w.
    pub size_width: u16,
    /// The window's height h.
    pub size_height: u16,
}

impl Transform for CenterCrop {
    fn apply(&self, events: &Events, _: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        let offset = |sensor: u16, size: u16| (i32::from(sensor) - i32::from(size)).div_euclid(2);
        let ox = offset(self.width, self.size_width);
        let oy = offset(self.height, self.size_height);
        shift_window(
            "CenterCrop",
            events,
            [ox.max(0), oy.max(0)],
            [ox, oy],
            [self.size_width, self.size_height],
        )
    }
}

/// The events with `start ≤ (x, y) < start + size`, moved by `−offset` (`transform` names
/// the crop in errors).
fn shift_window(
    transform: &'static str,
    events: &Events,
    start: [i32; 2],
    offset: [i32; 2],
    size: [u16; 2],
) -> Result<Events, TransformError> {
    let end = [start[0] + i32::from(size[0]), start[1] + i32::from(size[1])];
    let inside = |v: u16, axis: usize| (start[axis]..end[axis]).contains(&i32::from(v));
    let mut out = Events::default();
    for i in 0..events.len() {
        if inside(events.x[i], 0) && inside(events.y[i], 1) {
            let x = coordinate(transform, i, f64::from(i32::from(events.x[i]) - offset[0]))?;
            let y = coordinate(transform, i, f64::from(i32::from(events.y[i]) - offset[1]))?;
            out.push(events.t[i], x, y, events.p[i]);
        }
    }
    Ok(out)
}

/// Moves every event by a draw from the 2-D normal with covariance
/// `[[var_x, sigma_xy], [sigma_xy, var_y]]`, truncated toward zero
/// (`tonic.transforms.SpatialJitter`). With `clip_outliers`, events that land outside the
/// `width × height` sensor are dropped; without it, one that lands at a negative coordinate is
/// an error (Tonic keeps it).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpatialJitter {
    /// Sensor width W.
    pub width: u16,
    /// Sensor height H.
    pub height: u16,
    /// Variance along x (pixels²; default 1).
    #[serde(default = "one")]
    pub var_x: f64,
    /// Variance along y (default 1).
    #[serde(default = "one")]
    pub var_y: f64,
    /// Covariance of x and y (default 0).
    #[serde(default)]
    pub sigma_xy: f64,
    /// Drop events moved off the sensor (default no).
    #[serde(default)]
    pub clip_outliers: bool,
}

impl Transform for SpatialJitter {
    fn apply(&self, events: &Events, rng: &mut ChaCha8Rng) -> Result<Events, TransformError> {
        // Cholesky factor of the covariance: dx = a·z1, dy = b·z1 + c·z2.
        let a = self.var_x.sqrt();
        let b = if a > 0.0 { self.sigma_xy / a } else { 0.0 };
        let c2 = self.var_y - b * b;
        // With var_x = 0 a non-zero covariance has no factor (the matrix is not positive
        // semi-definite), and a NaN one would pass the checks below.
        let degenerate = a == 0.0 && self.sigma_xy != 0.0 || !self.sigma_xy.is_finite();
        if degenerate || !(self.var_x >= 0.0 && c2 >= 0.0 && c2.is_finite()) {
            return Err(setting(
                "SpatialJitter",
                "the covariance must be positive semi-definite",
            ));
        }
        let c = c2.sqrt();
        let mut out = Events::with_capacity(events.len());
        for i in 0..events.len() {
            let (z1, z2) = (normal(rng), normal(rng));
            let x = (f64::from(events.x[i]) + a * z1).trunc();
            let y = (f64::from(events.y[i]) + b * z1 + c * z2).trunc();
            if self.clip_outliers
                && !(x >= 0.0
                    && x < f64::from(self.width)
                    && y >= 0.0
                    && y < f64::from(self.height))
            {
                continue;
            }
            let x = coordinate("SpatialJitter", i, x)?;
            let y = coordinate("SpatialJitter", i, y)?;
            out.push(events.t[i], x, y, events.p[i]);
        }
        Ok(out)
    }
}

/// Tonic's default flip probability.
fn half() -> f64 {
    0.5
}

/// Tonic's default jitter variance.
fn one() -> f64 {
    1.0
}
