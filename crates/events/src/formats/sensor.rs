//! What the readers of camera formats that declare their sensor (AEDAT 4, Prophesee EVT 2.0,
//! EVT 3.0 and `.dat`) return: the events, the sensor size the file declares, and how many
//! records that are not change-detection events (triggers, IMU samples, frames, vendor
//! extensions) were skipped. Coordinates are checked against the declared size, or against
//! the format's own range where the file declares none.

use std::path::Path;

use crate::error::{EventsError, Result};
use crate::events::Events;

/// A recording read from a camera format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SensorRecording {
    /// The change-detection events, in file order.
    pub events: Events,
    /// The sensor's `(height, width)` where the file declares it.
    pub sensor: Option<(usize, usize)>,
    /// Records skipped because they are not change-detection events: Prophesee trigger,
    /// `OTHERS` and `CONTINUED` words; AEDAT 4 packets of other streams.
    pub skipped: u64,
}

/// Builds a [`SensorRecording`], checking every event's pixel.
pub(crate) struct Collector<'a> {
    recording: SensorRecording,
    /// Columns and rows allowed: the declared sensor's, or the format's range.
    width: u64,
    height: u64,
    path: &'a Path,
}

impl<'a> Collector<'a> {
    /// A collector for the file `path` of a sensor of `sensor` = `(height, width)` where
    /// declared, else of the format's largest `(height, width)`, `format_range`.
    pub(crate) fn new(
        path: &'a Path,
        sensor: Option<(usize, usize)>,
        format_range: (usize, usize),
        capacity: usize,
    ) -> Self {
        let (height, width) = sensor.unwrap_or(format_range);
        Self {
            recording: SensorRecording {
                events: Events::with_capacity(capacity),
                sensor,
                skipped: 0,
            },
            width: width as u64,
            height: height as u64,
            path,
        }
    }

    /// Appends the event of the record at byte `offset`, or fails if its pixel is outside
    /// the sensor.
    #[inline]
    pub(crate) fn push(&mut self, t: u64, x: u64, y: u64, p: u8, offset: usize) -> Result<()> {
        if x >= self.width || y >= self.height {
            return Err(self.outside(x, y, offset));
        }
        // Both fit: the ranges are at most 2^16.
        self.recording.events.push(t, x as u16, y as u16, p);
        Ok(())
    }

    #[cold]
    fn outside(&self, x: u64, y: u64, offset: usize) -> EventsError {
        let what = if self.recording.sensor.is_some() {
            "the header's sensor"
        } else {
            "the format's range"
        };
        EventsError::malformed(
            self.path,
            offset as u64,
            format!(
                "an event inside {what} of {}×{} (width × height); pixel ({x}, {y}) is outside",
                self.width, self.height
            ),
        )
    }

    /// Counts a skipped record.
    #[inline]
    pub(crate) fn skip(&mut self) {
        self.recording.skipped += 1;
    }

    /// The recording.
    pub(crate) fn finish(self) -> SensorRecording {
        self.recording
    }
}
