//! Moving a still image in front of the emulated sensor, as N-MNIST and CIFAR10-DVS were
//! recorded: the image is shown at the centre of the sensor, scaled to fill it, and moved
//! along a path of small saccades; frames are rendered with sub-pixel (bilinear) sampling at a
//! fixed rate and fed to the [`Emulator`].

use crate::emulator::{Emulator, SensorConfig};
use crate::events::Events;

/// A grayscale image, intensities in `[0, 1]`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// `height · width` intensities.
    pub pixels: Vec<f32>,
}

impl Image {
    /// The intensity at real coordinates `(x, y)` (pixel centres at integers), bilinear,
    /// with the border colour `background` outside the image.
    fn sample(&self, x: f32, y: f32, background: f32) -> f32 {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let at = |xi: f32, yi: f32| -> f32 {
            if xi < 0.0 || yi < 0.0 || xi >= self.width as f32 || yi >= self.height as f32 {
                background
            } else {
                self.pixels[yi as usize * self.width + xi as usize]
            }
        };
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
        let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

/// How the image moves.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Motion {
    /// Corners of the saccade path, in sensor pixels relative to the centred image; the image
    /// moves along straight lines between them and back to the first.
    pub path: Vec<(f32, f32)>,
    /// Duration of each saccade (µs).
    pub saccade_us: u64,
    /// Time between rendered frames (µs).
    pub frame_interval_us: u64,
    /// Share of the sensor the image fills (1.0: the sensor's smaller side).
    pub fill: f32,
    /// Intensity around the image.
    pub background: f32,
}

impl Default for Motion {
    /// N-MNIST's three saccades along a small triangle, 100 ms each, rendered at 1 kHz.
    fn default() -> Self {
        Self {
            path: vec![(0.0, 0.0), (3.0, 3.0), (6.0, 0.0)],
            saccade_us: 100_000,
            frame_interval_us: 1_000,
            fill: 0.75,
            background: 0.5,
        }
    }
}

impl Motion {
    /// The image's offset at time `t` (µs from the start).
    fn offset(&self, t: u64) -> (f32, f32) {
        let n = self.path.len();
        if n < 2 {
            return self.path.first().copied().unwrap_or((0.0, 0.0));
        }
        let leg = ((t / self.saccade_us) as usize) % n;
        let along = (t % self.saccade_us) as f32 / self.saccade_us as f32;
        let (a, b) = (self.path[leg], self.path[(leg + 1) % n]);
        (a.0 + (b.0 - a.0) * along, a.1 + (b.1 - a.1) * along)
    }

    /// Total duration: one saccade per corner.
    pub fn duration_us(&self) -> u64 {
        self.saccade_us * self.path.len().max(1) as u64
    }
}

/// Renders the sensor's view of `image` shifted by `offset`.
fn render(image: &Image, sensor: (usize, usize), motion: &Motion, offset: (f32, f32)) -> Vec<f32> {
    let (height, width) = sensor;
    let scale = motion.fill * height.min(width) as f32 / image.height.max(image.width) as f32;
    let (cx, cy) = (
        width as f32 / 2.0 + offset.0,
        height as f32 / 2.0 + offset.1,
    );
    let mut frame = Vec::with_capacity(height * width);
    for y in 0..height {
        for x in 0..width {
            // Sensor pixel centre → image coordinates.
            let u = (x as f32 + 0.5 - cx) / scale + image.width as f32 / 2.0 - 0.5;
            let v = (y as f32 + 0.5 - cy) / scale + image.height as f32 / 2.0 - 0.5;
            frame.push(image.sample(u, v, motion.background));
        }
    }
    frame
}

/// Records `image` moving by `motion` in front of a sensor: the events, sorted by time, in
/// image orientation (`x` grows to the right, `y` downwards).
pub fn record(image: &Image, sensor: SensorConfig, motion: &Motion) -> Events {
    let start = render(image, sensor.size, motion, motion.offset(0));
    let mut emulator = Emulator::new(sensor, &start, 0);
    let mut events = Events::default();
    let mut t = motion.frame_interval_us;
    while t <= motion.duration_us() {
        let frame = render(image, sensor.size, motion, motion.offset(t));
        emulator.advance(&frame, t, &mut events);
        t += motion.frame_interval_us;
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square_in_top_left() -> Image {
        // The image's own background matches the sensor's surround, so only the square's
        // edges have contrast.
        let mut pixels = vec![0.5f32; 32 * 32];
        for y in 4..12 {
            for x in 4..12 {
                pixels[y * 32 + x] = 0.9;
            }
        }
        Image {
            height: 32,
            width: 32,
            pixels,
        }
    }

    fn quiet_sensor() -> SensorConfig {
        SensorConfig {
            size: (64, 64),
            background_rate_hz: 0.0,
            ..SensorConfig::default()
        }
    }

    #[test]
    fn a_moving_image_gives_events_where_its_edges_are() {
        let motion = Motion {
            saccade_us: 20_000,
            ..Motion::default()
        };
        let events = record(&square_in_top_left(), quiet_sensor(), &motion);
        assert!(events.len() > 100, "{}", events.len());
        assert!(events.t.windows(2).all(|w| w[0] <= w[1]));
        assert!(*events.t.last().unwrap() <= motion.duration_us());
        // The square sits in the image's top-left quarter; so do its events (upright).
        let mean_x = events.x.iter().map(|&x| f64::from(x)).sum::<f64>() / events.len() as f64;
        let mean_y = events.y.iter().map(|&y| f64::from(y)).sum::<f64>() / events.len() as f64;
        assert!(
            mean_x < 28.0 && mean_y < 28.0,
            "events centred at ({mean_x}, {mean_y})"
        );
        assert!(events.p.contains(&0) && events.p.contains(&1));
    }

    #[test]
    fn without_motion_there_are_no_events() {
        let still = Motion {
            path: vec![(1.5, 0.5)],
            ..Motion::default()
        };
        assert!(record(&square_in_top_left(), quiet_sensor(), &still).is_empty());
    }

    #[test]
    fn recording_is_deterministic() {
        let noisy = SensorConfig {
            background_rate_hz: 1.0,
            seed: 3,
            ..quiet_sensor()
        };
        let motion = Motion {
            saccade_us: 10_000,
            ..Motion::default()
        };
        let image = square_in_top_left();
        assert_eq!(
            record(&image, noisy, &motion),
            record(&image, noisy, &motion)
        );
    }
}
