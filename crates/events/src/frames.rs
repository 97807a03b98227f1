//! Integration of events into count frames `[T, 2, H, W]`, exactly as SpikingJelly 2.0.0's
//! `integrate_events_by_fixed_frames_number` and `integrate_events_by_fixed_duration`.
//!
//! Channel 0 counts events with `p == 0`, channel 1 the others; every event counts, repeated
//! pixels included. Differences from SpikingJelly, all of which are errors there or silent
//! corruption:
//! - an event outside the `H × W` frame is an error (SpikingJelly lets `x ≥ W` spill into
//!   the next row, or fails on the reshape);
//! - split by time with an empty time window is an error by default, naming the window
//!   ([`EmptyWindows::Error`]; SpikingJelly raises `IndexError`), or gives an empty frame with
//!   [`EmptyWindows::Allow`];
//! - a recording without events is an error, whatever the split (SpikingJelly's frames
//!   would be all zero, a sample that teaches nothing and hides a broken file);
//! - split by time of a recording whose last timestamp is before its first is an error
//!   (SpikingJelly wraps around in unsigned arithmetic).

use std::path::Path;

use crate::error::{EventsError, Result};
use crate::events::Events;

/// How a recording is cut into `T` frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SplitBy {
    /// `N / T` events per frame, the remainder to the last frame.
    Number,
    /// `T` equal time windows between the first and the last event.
    Time,
}

/// What split-by-time does with a time window that holds no event.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum EmptyWindows {
    /// Fail with an error naming the window (SpikingJelly crashes here).
    #[default]
    Error,
    /// Give an empty frame for it.
    Allow,
}

/// Count frames `[T, 2, H, W]`, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frames {
    /// Number of frames `T`.
    pub frames: usize,
    /// Height `H`.
    pub height: usize,
    /// Width `W`.
    pub width: usize,
    /// Event counts, `T · 2 · H · W` of them.
    pub counts: Vec<u32>,
}

impl Frames {
    /// All-zero frames.
    pub fn zeros(frames: usize, height: usize, width: usize) -> Self {
        Self {
            frames,
            height,
            width,
            counts: vec![0; frames * 2 * height * width],
        }
    }

    /// The counts of frame `t`, `[2, H, W]`.
    pub fn frame(&self, t: usize) -> &[u32] {
        let size = 2 * self.height * self.width;
        &self.counts[t * size..(t + 1) * size]
    }
}

/// The index ranges `[j_l, j_r)` of the events of each of `frames` frames (SpikingJelly's
/// `cal_fixed_frames_number_segment_index`).
pub fn segment_bounds(
    t: &[u64],
    frames: usize,
    split_by: SplitBy,
    empty: EmptyWindows,
    path: &Path,
) -> Result<Vec<(usize, usize)>> {
    let n = t.len();
    let fail = |problem: String| Err(EventsError::integration(path, problem));
    if frames == 0 {
        return fail("the number of frames must be at least 1".into());
    }
    if n == 0 {
        return fail("the recording holds no events; there is nothing to integrate".into());
    }
    let mut bounds = match split_by {
        SplitBy::Number => number_bounds(n, frames),
        SplitBy::Time => {
            let (first, last) = (t[0], t[n - 1]);
            if last < first {
                return fail(format!(
                    "split by time needs the last timestamp ({last} µs) not before the first \
                     ({first} µs)"
                ));
            }
            let dt = (last - first) / frames as u64;
            let windows: Vec<(u64, u64)> = (0..frames as u64)
                .map(|i| (first + dt * i, first + dt * i + dt))
                .collect();
            window_bounds(t, &windows, empty, ("event", "µs"), path)?
        }
    };
    if let Some(last) = bounds.last_mut() {
        last.1 = n;
    }
    Ok(bounds)
}

/// The index ranges of `windows` (`[start, end)` in the times' unit) over `times`, as
/// SpikingJelly finds them: from the first to the last index inside the window. A window
/// without any is an error naming it (`what` the samples are, in `unit`), or with
/// [`EmptyWindows::Allow`] an empty range (the last one placed at its window's start, so that
/// the last frame takes everything from there on).
pub(crate) fn window_bounds<T: PartialOrd + Copy + std::fmt::Display>(
    times: &[T],
    windows: &[(T, T)],
    empty: EmptyWindows,
    (what, unit): (&str, &str),
    path: &Path,
) -> Result<Vec<(usize, usize)>> {
    let frames = windows.len();
    let mut bounds = Vec::with_capacity(frames);
    for (i, &(start, end)) in windows.iter().enumerate() {
        let inside = |time: &T| start <= *time && *time < end;
        let left = times.iter().position(inside);
        let right = times.iter().rposition(inside).map(|j| j + 1);
        match (left, right, empty) {
            (Some(left), Some(right), _) => bounds.push((left, right)),
            (_, _, EmptyWindows::Error) => {
                return Err(EventsError::integration(
                    path,
                    format!(
                        "split by time into {frames} frames: window {i} ([{start}, {end}) \
                         {unit}) holds no {what}; use fewer frames, split by number, or allow \
                         empty windows"
                    ),
                ));
            }
            (_, _, EmptyWindows::Allow) if i + 1 == frames => {
                let left = times.iter().position(|time| *time >= start);
                let left = left.unwrap_or(times.len());
                bounds.push((left, left));
            }
            (_, _, EmptyWindows::Allow) => bounds.push((0, 0)),
        }
    }
    Ok(bounds)
}

/// Split by number: `n / frames` events per frame, the remainder to the last (whose end the
/// caller sets to `n`).
pub(crate) fn number_bounds(n: usize, frames: usize) -> Vec<(usize, usize)> {
    let per_frame = n / frames;
    (0..frames)
        .map(|i| (i * per_frame, (i + 1) * per_frame))
        .collect()
}

/// Integrates `events` into `frames` count frames of `height × width`.
pub fn integrate(
    events: &Events,
    frames: usize,
    split_by: SplitBy,
    (height, width): (usize, usize),
    empty: EmptyWindows,
    path: &Path,
) -> Result<Frames> {
    check_coordinates(events, height, width, path)?;
    let bounds = segment_bounds(&events.t, frames, split_by, empty, path)?;
    Ok(count_frames(events, &bounds, height, width))
}

/// Integrates `events` into frames of `duration` µs each (SpikingJelly's
/// `integrate_events_by_fixed_duration`): times are shifted to start at 0, there are
/// `ceil(t_last / duration)` frames, and the last frame also takes every later event.
pub fn integrate_by_duration(
    events: &Events,
    duration: u64,
    (height, width): (usize, usize),
    path: &Path,
) -> Result<Frames> {
    let fail = |problem: String| Err(EventsError::integration(path, problem));
    if duration == 0 {
        return fail("the frame duration must be at least 1 µs".into());
    }
    check_coordinates(events, height, width, path)?;
    let (Some(&min), Some(&last)) = (events.t.iter().min(), events.t.last()) else {
        return fail(
            "integration by duration needs at least one event; the recording has none".into(),
        );
    };
    let frames = (last - min).div_ceil(duration) as usize;
    if frames == 0 {
        return fail(format!(
            "integration by duration needs the last event after the first ({} µs span)",
            last - min
        ));
    }
    let mut bounds = Vec::with_capacity(frames);
    let mut left = 0;
    for i in 0..frames {
        let right = if i + 1 == frames {
            events.len()
        } else {
            // First index whose frame is past i (SpikingJelly's searchsorted on sorted times).
            let boundary = (i as u64 + 1) * duration;
            left + events.t[left..].partition_point(|&time| time - min < boundary)
        };
        bounds.push((left, right));
        left = right;
    }
    Ok(count_frames(events, &bounds, height, width))
}

/// Frame `i` counts the events of index range `bounds[i]`.
fn count_frames(events: &Events, bounds: &[(usize, usize)], height: usize, width: usize) -> Frames {
    let mut out = Frames::zeros(bounds.len(), height, width);
    let frame_size = 2 * height * width;
    for (frame, &(left, right)) in out.counts.chunks_exact_mut(frame_size).zip(bounds) {
        count_into(events, left..right, width, height, frame);
    }
    out
}

fn count_into(
    events: &Events,
    range: std::ops::Range<usize>,
    width: usize,
    height: usize,
    frame: &mut [u32],
) {
    let plane = height * width;
    for j in range {
        let channel = usize::from(events.p[j] != 0);
        frame[channel * plane + usize::from(events.y[j]) * width + usize::from(events.x[j])] += 1;
    }
}

fn check_coordinates(events: &Events, height: usize, width: usize, path: &Path) -> Result<()> {
    let outside = (0..events.len())
        .find(|&j| usize::from(events.x[j]) >= width || usize::from(events.y[j]) >= height);
    match outside {
        Some(index) => Err(EventsError::Unrepresentable {
            path: path.to_path_buf(),
            index,
            problem: format!(
                "pixel ({}, {}) is outside the {width}×{height} frame",
                events.x[index], events.y[index]
            ),
        }),
        None => Ok(()),
    }
}
