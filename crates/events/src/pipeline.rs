//! One recording file to training frames in a single pass over its bytes: the hot path of
//! `prepare`.
//!
//! For split by number, the frame of event `i` is known from `i` and the event count (the
//! file size), so events are decoded and counted straight into the frames, without building
//! [`Events`](crate::Events). For area or sum resizing by an integer factor (the seed's
//! 128→32), they are counted straight into the pooled frame: a sum of counts is the count of
//! the pooled pixel, and the area mean is that count over the window size, exactly as pooling
//! the full frames. Everything else (split by time, other resizes, coordinates outside the
//! frame) takes the general path — [`formats`](crate::formats), [`integrate`], [`resize`] —
//! whose result this path equals bit for bit.

use std::path::Path;

use crate::dataset::RecordingFormat;
use crate::error::Result;
use crate::events::Events;
use crate::formats::{aedat2, aedat3, nmnist, shd, spikingjelly_npz};
use crate::frames::{Frames, SplitBy, integrate};
use crate::resize::{Resize, resize};
use crate::spike_frames::integrate_spike_train;

use crate::cache::FrameSettings;

/// `[T, 2, h, w]` training frames of one recording given as its file bytes.
pub fn frames_from_bytes(
    bytes: &[u8],
    format: RecordingFormat,
    settings: &FrameSettings,
    path: &Path,
) -> Result<Vec<f32>> {
    if let Some(frames) = single_pass(bytes, format, settings) {
        return Ok(frames);
    }
    if format == RecordingFormat::SpikeTrain {
        let train = shd::SpikeTrain::parse(bytes, path)?;
        let frames = integrate_spike_train(
            &train,
            settings.frames,
            settings.split_by,
            settings.empty_windows,
            path,
        )?;
        return Ok(resize(&frames, settings.size, settings.resize));
    }
    let events = parse(bytes, format, path)?;
    frames_from_events(&events, sensor_size(format), settings, path)
}

/// The events of a recording file's bytes.
pub fn parse(bytes: &[u8], format: RecordingFormat, path: &Path) -> Result<Events> {
    match format {
        RecordingFormat::Aedat2 => aedat2::parse(bytes, path),
        RecordingFormat::Aedat3 => aedat3::parse(bytes, path),
        RecordingFormat::NMnistBin | RecordingFormat::NCaltech101Bin => nmnist::parse(bytes, path),
        RecordingFormat::SpikingJellyNpz(..) => spikingjelly_npz::parse_events(bytes, path),
        RecordingFormat::SpikeTrain => Ok(shd::SpikeTrain::parse(bytes, path)?.to_events()),
    }
}

/// The sensor size `(H, W)` of a format's recordings.
pub fn sensor_size(format: RecordingFormat) -> (usize, usize) {
    match format {
        RecordingFormat::Aedat2 => aedat2::SENSOR_SIZE,
        RecordingFormat::Aedat3 => aedat3::SENSOR_SIZE,
        RecordingFormat::NMnistBin => nmnist::SENSOR_SIZE,
        RecordingFormat::NCaltech101Bin => nmnist::NCALTECH101_SENSOR_SIZE,
        RecordingFormat::SpikingJellyNpz(height, width) => (height, width),
        RecordingFormat::SpikeTrain => shd::SENSOR_SIZE,
    }
}

/// `[T, 2, h, w]` training frames of `events` from a `sensor`-sized camera: integrate, then
/// resize.
pub fn frames_from_events(
    events: &Events,
    sensor: (usize, usize),
    settings: &FrameSettings,
    path: &Path,
) -> Result<Vec<f32>> {
    let frames = integrate(
        events,
        settings.frames,
        settings.split_by,
        sensor,
        settings.empty_windows,
        path,
    )?;
    Ok(resize(&frames, settings.size, settings.resize))
}

/// The single-pass path, or `None` where the general path must run (including every input
/// the general path reports as an error).
fn single_pass(
    bytes: &[u8],
    format: RecordingFormat,
    settings: &FrameSettings,
) -> Option<Vec<f32>> {
    if settings.split_by != SplitBy::Number || settings.frames == 0 {
        return None;
    }
    let (sensor, body, record) = match format {
        RecordingFormat::Aedat2 => (aedat2::SENSOR_SIZE, &bytes[aedat2::header_len(bytes)..], 8),
        RecordingFormat::NMnistBin | RecordingFormat::NCaltech101Bin => {
            (sensor_size(format), bytes, 5)
        }
        RecordingFormat::Aedat3
        | RecordingFormat::SpikingJellyNpz(..)
        | RecordingFormat::SpikeTrain => return None,
    };
    // An empty recording, or a truncated record: the general path names the error.
    if body.is_empty() || body.len() % record != 0 {
        return None;
    }
    let (height, width) = sensor;
    let (out_h, out_w) = settings.size;
    let pooled = matches!(settings.resize, Resize::Area | Resize::Sum)
        && height % out_h == 0
        && width % out_w == 0;
    let (factor_h, factor_w) = if pooled {
        (height / out_h, width / out_w)
    } else {
        (1, 1)
    };
    let (bins_h, bins_w) = (height / factor_h, width / factor_w);
    let plane = bins_h * bins_w;
    let frame_size = 2 * plane;
    // The bin offset of each column and row: the hot loops neither divide nor branch.
    let column_bin: Vec<usize> = (0..width).map(|x| x / factor_w).collect();
    let row_bin: Vec<usize> = (0..height).map(|y| (y / factor_h) * bins_w).collect();

    let n = body.len() / record;
    let steps = settings.frames;
    let per_frame = n / steps;
    // Frame f holds events [f·⌊N/T⌋, (f+1)·⌊N/T⌋); the last frame also the remainder.
    let frame_bytes = |f: usize| {
        let end = if f + 1 == steps {
            n
        } else {
            (f + 1) * per_frame
        };
        &body[f * per_frame * record..end * record]
    };
    let mut counts = vec![0u32; steps * frame_size];
    let mut spare = Vec::new();
    match format {
        RecordingFormat::Aedat2 => {
            // Address byte 3 holds polarity and x_raw, byte 2 (low 7 bits) y_raw; with
            // x = 127 − y_raw, y = 127 − x_raw and channel 1 where p = 1 − polarity ≠ 0, the bin
            // is a sum of one entry of each of these two small (L1-resident) tables.
            let by_low_byte: Vec<u32> = (0..=255u8)
                .map(|b| {
                    let channel = usize::from(b & 1 == 0);
                    (channel * plane + row_bin[127 - usize::from(b >> 1)]) as u32
                })
                .collect();
            let by_high_byte: Vec<u32> = (0..128usize)
                .map(|y_raw| column_bin[127 - y_raw] as u32)
                .collect();
            for (f, frame) in counts.chunks_exact_mut(frame_size).enumerate() {
                histogram(frame_bytes(f), 8, frame, &mut spare, |r| {
                    by_high_byte[usize::from(r[2] & 0x7F)] + by_low_byte[usize::from(r[3])]
                });
            }
        }
        RecordingFormat::NMnistBin | RecordingFormat::NCaltech101Bin => {
            if body
                .chunks_exact(5)
                .any(|e| usize::from(e[0]) >= width || usize::from(e[1]) >= height)
            {
                return None;
            }
            for (f, frame) in counts.chunks_exact_mut(frame_size).enumerate() {
                histogram(frame_bytes(f), 5, frame, &mut spare, |e| {
                    let channel = usize::from(e[2] >> 7);
                    (channel * plane + row_bin[usize::from(e[1])] + column_bin[usize::from(e[0])])
                        as u32
                });
            }
        }
        RecordingFormat::Aedat3
        | RecordingFormat::SpikingJellyNpz(..)
        | RecordingFormat::SpikeTrain => {
            unreachable!("returned above")
        }
    }
    let frames = Frames {
        frames: steps,
        height: bins_h,
        width: bins_w,
        counts,
    };
    Some(if pooled {
        let window = (factor_h * factor_w) as f32;
        match settings.resize {
            Resize::Area => frames.counts.iter().map(|&c| c as f32 / window).collect(),
            _ => frames.counts.iter().map(|&c| c as f32).collect(),
        }
    } else {
        resize(&frames, settings.size, settings.resize)
    })
}

/// Counts the `record`-byte records of `bytes` into `frame` (all zero) at `bin(record)`.
/// Even and odd records count into two histograms, `frame` and `spare`, so that consecutive
/// events of one pixel (hot pixels are common) need not wait for each other's increment.
#[inline(always)]
fn histogram(
    bytes: &[u8],
    record: usize,
    frame: &mut [u32],
    spare: &mut Vec<u32>,
    bin: impl Fn(&[u8]) -> u32,
) {
    spare.clear();
    spare.resize(frame.len(), 0);
    let mut pairs = bytes.chunks_exact(2 * record);
    for pair in &mut pairs {
        let (even, odd) = pair.split_at(record);
        frame[bin(even) as usize] += 1;
        spare[bin(odd) as usize] += 1;
    }
    for r in pairs.remainder().chunks_exact(record) {
        frame[bin(r) as usize] += 1;
    }
    for (total, extra) in frame.iter_mut().zip(spare.iter()) {
        *total += extra;
    }
}
