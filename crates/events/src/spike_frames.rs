//! Integration of audio spike trains (SHD, SSC) into count frames `[T, 2, 1, 700]`, exactly as
//! SpikingJelly 2.0.0's `spikingjelly.datasets.shd` integrates them (`[T, 700]`; here in
//! channel 0 of the usual frame layout, channel 1 empty).
//!
//! Split by number is the usual rule. Split by time is SpikingJelly's SHD-specific one, in the
//! file's own `float16` seconds with NumPy's half-precision arithmetic (each operation computed
//! in `f32` and rounded to `f16`): `dt = (t[N−1] − t[0]) / T`, window `i` is
//! `[dt·i + t[0], that + dt)`, its events run from the first to the last index inside it, and
//! the last frame takes every event to the end. Differences, as in [`crate::frames`]: a sample
//! without spikes is an error, and so is an empty time window unless
//! [`EmptyWindows::Allow`] (SpikingJelly raises `IndexError`).

use std::path::Path;

use half::f16;

use crate::error::{EventsError, Result};
use crate::formats::shd::{SENSOR_SIZE, SpikeTrain, UNITS};
use crate::frames::{EmptyWindows, Frames, SplitBy, number_bounds, window_bounds};

/// `frames` count frames of `train` split by `split_by`.
pub fn integrate_spike_train(
    train: &SpikeTrain,
    frames: usize,
    split_by: SplitBy,
    empty: EmptyWindows,
    path: &Path,
) -> Result<Frames> {
    let fail = |problem: String| Err(EventsError::integration(path, problem));
    if frames == 0 {
        return fail("the number of frames must be at least 1".into());
    }
    let n = train.len();
    if n == 0 {
        return fail("the sample holds no spikes; there is nothing to integrate".into());
    }
    let mut bounds = match split_by {
        SplitBy::Number => number_bounds(n, frames),
        SplitBy::Time => time_bounds(&train.times, frames, empty, path)?,
    };
    if let Some(last) = bounds.last_mut() {
        last.1 = n;
    }
    let mut out = Frames::zeros(frames, SENSOR_SIZE.0, SENSOR_SIZE.1);
    let frame_size = 2 * UNITS;
    for (frame, &(left, right)) in out.counts.chunks_exact_mut(frame_size).zip(&bounds) {
        for &unit in &train.units[left..right] {
            frame[usize::from(unit)] += 1;
        }
    }
    Ok(out)
}

/// SpikingJelly's SHD split by time, in `float16` arithmetic.
fn time_bounds(
    times: &[f16],
    frames: usize,
    empty: EmptyWindows,
    path: &Path,
) -> Result<Vec<(usize, usize)>> {
    let half = |value: f32| f16::from_f32(value);
    let (first, last) = (times[0], times[times.len() - 1]);
    let dt = half(half(last.to_f32() - first.to_f32()).to_f32() / frames as f32);
    let windows: Vec<(f16, f16)> = (0..frames)
        .map(|i| {
            let start = half(half(dt.to_f32() * i as f32).to_f32() + first.to_f32());
            (start, half(start.to_f32() + dt.to_f32()))
        })
        .collect();
    window_bounds(times, &windows, empty, ("spike", "s"), path)
}
