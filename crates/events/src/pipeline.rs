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
use crate::formats::{aedat2, aedat3, nmnist};
use crate::frames::{Frames, SplitBy, integrate};
use crate::resize::{Resize, resize};

/// The frame settings that `frames_from_bytes` needs.
pub use crate::cache::FrameSettings;

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
    let (events, sensor) = match format {
        RecordingFormat::Aedat2 => (aedat2::parse(bytes, path)?, aedat2::SENSOR_SIZE),
        RecordingFormat::Aedat3 => (aedat3::parse(bytes, path)?, aedat3::SENSOR_SIZE),
        RecordingFormat::NMnistBin => (nmnist::parse(bytes, path)?, nmnist::SENSOR_SIZE),
    };
    let frames = integrate(
        &events,
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
        RecordingFormat::NMnistBin => (nmnist::SENSOR_SIZE, bytes, 5),
        RecordingFormat::Aedat3 => return None,
    };
    if body.len() % record != 0 {
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

    let n = body.len() / record;
    let steps = settings.frames;
    let per_frame = n / steps;
    let frame_size = 2 * bins_h * bins_w;
    let mut counts = vec![0u32; steps * frame_size];
    let plane = bins_h * bins_w;
    let mut count = |i: usize, x: usize, y: usize, on: bool| {
        let frame = if per_frame == 0 {
            steps - 1
        } else {
            (i / per_frame).min(steps - 1)
        };
        let index =
            frame * frame_size + usize::from(on) * plane + (y / factor_h) * bins_w + x / factor_w;
        counts[index] += 1;
    };
    match format {
        RecordingFormat::Aedat2 => {
            for (i, record) in body.chunks_exact(8).enumerate() {
                let address = u32::from_be_bytes([record[0], record[1], record[2], record[3]]);
                let x_raw = ((address & 0xFE) >> 1) as usize;
                let y_raw = ((address & 0x7F00) >> 8) as usize;
                // x = 127 − y_raw, y = 127 − x_raw, p = 1 − polarity (channel 1 where p ≠ 0).
                count(i, 127 - y_raw, 127 - x_raw, address & 1 == 0);
            }
        }
        RecordingFormat::NMnistBin => {
            if body
                .chunks_exact(5)
                .any(|e| usize::from(e[0]) >= width || usize::from(e[1]) >= height)
            {
                return None;
            }
            for (i, event) in body.chunks_exact(5).enumerate() {
                count(
                    i,
                    usize::from(event[0]),
                    usize::from(event[1]),
                    event[2] >> 7 != 0,
                );
            }
        }
        RecordingFormat::Aedat3 => unreachable!("returned above"),
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
