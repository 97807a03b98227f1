//! An event-camera model in the style of v2e/ESIM: still images moved in front of a simulated
//! DVS become event recordings, the way CIFAR10-DVS and N-MNIST were made.
//!
//! Each pixel keeps the log intensity at which it last fired (its reference). Between two
//! rendered frames its log intensity is taken to change linearly; every crossing of the
//! pixel's ON or OFF contrast threshold (which differ from pixel to pixel, like a real
//! sensor's mismatch) emits an event at the interpolated time and moves the reference by one
//! threshold. A refractory period drops events that follow a pixel's last one too closely.
//! Background activity and shot noise add random events at a given rate per pixel. Events
//! come out sorted by time; the same seed gives the same events.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::events::Events;

/// The sensor's settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SensorConfig {
    /// `(height, width)` in pixels (DVS128: 128×128).
    pub size: (usize, usize),
    /// Mean ON threshold, in log-intensity units.
    pub threshold_on: f32,
    /// Mean OFF threshold, in log-intensity units.
    pub threshold_off: f32,
    /// Standard deviation of the per-pixel thresholds, relative to their mean.
    pub threshold_mismatch: f32,
    /// Minimum time between two events of one pixel (µs).
    pub refractory_us: u64,
    /// Background-activity events per pixel per second (either polarity).
    pub background_rate_hz: f32,
    /// Shot-noise events per pixel per second (either polarity).
    pub shot_noise_rate_hz: f32,
    /// Intensities are taken as `ln(I + floor)`, so that black pixels stay finite.
    pub log_floor: f32,
    /// Seed of the mismatch and the noise.
    pub seed: u64,
}

impl Default for SensorConfig {
    fn default() -> Self {
        Self {
            size: (128, 128),
            threshold_on: 0.2,
            threshold_off: 0.2,
            threshold_mismatch: 0.03,
            refractory_us: 100,
            background_rate_hz: 0.1,
            shot_noise_rate_hz: 0.0,
            log_floor: 0.02,
            seed: 0,
        }
    }
}

/// A simulated sensor: feed it frames of intensity in `[0, 1]` with their times.
pub struct Emulator {
    config: SensorConfig,
    /// Log intensity of each pixel at the last frame.
    log_now: Vec<f32>,
    /// Log intensity at each pixel's last event (its reference).
    reference: Vec<f32>,
    threshold_on: Vec<f32>,
    threshold_off: Vec<f32>,
    /// Time of each pixel's last event, if any.
    last_event: Vec<Option<u64>>,
    time: u64,
    rng: ChaCha8Rng,
}

impl Emulator {
    /// A sensor that has been looking at `first` (row-major `height × width` intensities)
    /// until time `t0` µs.
    pub fn new(config: SensorConfig, first: &[f32], t0: u64) -> Self {
        let pixels = config.size.0 * config.size.1;
        assert_eq!(
            first.len(),
            pixels,
            "a frame has height × width intensities"
        );
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut mismatched = |mean: f32| -> Vec<f32> {
            (0..pixels)
                .map(|_| (mean * (1.0 + config.threshold_mismatch * gaussian(&mut rng))).max(0.01))
                .collect()
        };
        let threshold_on = mismatched(config.threshold_on);
        let threshold_off = mismatched(config.threshold_off);
        let log_now: Vec<f32> = first
            .iter()
            .map(|&i| (i.max(0.0) + config.log_floor).ln())
            .collect();
        Self {
            config,
            reference: log_now.clone(),
            log_now,
            threshold_on,
            threshold_off,
            last_event: vec![None; pixels],
            time: t0,
            rng,
        }
    }

    /// Advances to time `t` µs, where the sensor sees `frame`, appending the events of the
    /// interval (sorted by time) to `events`.
    pub fn advance(&mut self, frame: &[f32], t: u64, events: &mut Events) {
        assert_eq!(
            frame.len(),
            self.log_now.len(),
            "a frame has height × width intensities"
        );
        assert!(t > self.time, "frames must come in increasing time");
        let (t0, span) = (self.time, (t - self.time) as f32);
        let width = self.config.size.1;
        let mut interval: Vec<(u64, u16, u16, u8)> = Vec::new();
        for (pixel, &intensity) in frame.iter().enumerate() {
            let start = self.log_now[pixel];
            let end = (intensity.max(0.0) + self.config.log_floor).ln();
            self.log_now[pixel] = end;
            let (x, y) = ((pixel % width) as u16, (pixel / width) as u16);
            loop {
                let reference = self.reference[pixel];
                let (level, polarity) = if end >= reference + self.threshold_on[pixel] {
                    (reference + self.threshold_on[pixel], 1)
                } else if end <= reference - self.threshold_off[pixel] {
                    (reference - self.threshold_off[pixel], 0)
                } else {
                    break;
                };
                self.reference[pixel] = level;
                let fraction = if end == start {
                    1.0
                } else {
                    ((level - start) / (end - start)).clamp(0.0, 1.0)
                };
                let time = t0 + (fraction * span) as u64;
                if self.last_event[pixel]
                    .is_some_and(|last| time < last + self.config.refractory_us)
                {
                    continue;
                }
                self.last_event[pixel] = Some(time);
                interval.push((time, x, y, polarity));
            }
        }
        self.add_noise(t0, t, &mut interval);
        interval.sort_by_key(|&(time, ..)| time);
        for (time, x, y, p) in interval {
            events.push(time, x, y, p);
        }
        self.time = t;
    }

    /// Background activity and shot noise: Poisson counts at the configured rates, at
    /// uniformly random pixels, times and polarities.
    fn add_noise(&mut self, t0: u64, t: u64, interval: &mut Vec<(u64, u16, u16, u8)>) {
        let (height, width) = self.config.size;
        let rate = f64::from(self.config.background_rate_hz + self.config.shot_noise_rate_hz);
        let expected = rate * (height * width) as f64 * (t - t0) as f64 * 1e-6;
        for _ in 0..poisson(&mut self.rng, expected) {
            let time = self.rng.random_range(t0..t);
            let x = self.rng.random_range(0..width) as u16;
            let y = self.rng.random_range(0..height) as u16;
            interval.push((time, x, y, self.rng.random_range(0..2u8)));
        }
    }
}

/// A standard normal sample (Box–Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
}

/// A Poisson sample of mean `mean` (Knuth's method for small means, normal approximation for
/// large ones).
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> usize {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 50.0 {
        let sample = mean + mean.sqrt() * f64::from(gaussian(rng));
        return sample.round().max(0.0) as usize;
    }
    let limit = (-mean).exp();
    let (mut count, mut product) = (0, rng.random::<f64>());
    while product > limit {
        count += 1;
        product *= rng.random::<f64>();
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet() -> SensorConfig {
        SensorConfig {
            size: (8, 8),
            background_rate_hz: 0.0,
            shot_noise_rate_hz: 0.0,
            threshold_mismatch: 0.0,
            ..SensorConfig::default()
        }
    }

    fn uniform(value: f32) -> Vec<f32> {
        vec![value; 64]
    }

    #[test]
    fn a_static_scene_without_noise_gives_no_events() {
        let mut sensor = Emulator::new(quiet(), &uniform(0.5), 0);
        let mut events = Events::default();
        for step in 1..=50 {
            sensor.advance(&uniform(0.5), step * 1000, &mut events);
        }
        assert!(events.is_empty());
    }

    #[test]
    fn brightening_gives_on_events_and_darkening_off_events() {
        let mut sensor = Emulator::new(quiet(), &uniform(0.1), 0);
        let mut events = Events::default();
        sensor.advance(&uniform(0.8), 1000, &mut events);
        assert!(!events.is_empty());
        assert!(
            events.p.iter().all(|&p| p == 1),
            "rising brightness: ON only"
        );
        // ln(0.82 / 0.12) ≈ 1.92 log units: 9 crossings of 0.2 per pixel.
        assert_eq!(events.len(), 9 * 64);
        assert!(events.t.windows(2).all(|w| w[0] <= w[1]), "sorted by time");
        assert!(events.t.iter().all(|&t| t <= 1000));

        let mut darker = Events::default();
        sensor.advance(&uniform(0.1), 2000, &mut darker);
        assert!(
            darker.p.iter().all(|&p| p == 0),
            "falling brightness: OFF only"
        );
        assert!(darker.t.iter().all(|&t| (1000..=2000).contains(&t)));
    }

    #[test]
    fn the_event_rate_grows_with_contrast() {
        let count = |bright: f32| {
            let mut sensor = Emulator::new(quiet(), &uniform(0.2), 0);
            let mut events = Events::default();
            sensor.advance(&uniform(bright), 1000, &mut events);
            sensor.advance(&uniform(0.2), 2000, &mut events);
            events.len()
        };
        let (low, mid, high) = (count(0.3), count(0.5), count(0.9));
        assert!(low < mid && mid < high, "{low} < {mid} < {high}");
    }

    #[test]
    fn the_same_seed_gives_the_same_events_and_noise_follows_its_rate() {
        let noisy = SensorConfig {
            size: (8, 8),
            background_rate_hz: 5.0,
            seed: 7,
            ..SensorConfig::default()
        };
        let run = |config: SensorConfig| {
            let mut sensor = Emulator::new(config, &uniform(0.3), 0);
            let mut events = Events::default();
            for step in 1..=100 {
                let level = if step % 2 == 0 { 0.3 } else { 0.6 };
                sensor.advance(&uniform(level), step * 10_000, &mut events);
            }
            events
        };
        assert_eq!(run(noisy), run(noisy));
        assert_ne!(run(noisy), run(SensorConfig { seed: 8, ..noisy }));

        // A static scene: only noise, about 5 Hz × 64 pixels × 1 s = 320 events.
        let mut sensor = Emulator::new(noisy, &uniform(0.3), 0);
        let mut events = Events::default();
        for step in 1..=100 {
            sensor.advance(&uniform(0.3), step * 10_000, &mut events);
        }
        assert!((250..400).contains(&events.len()), "{}", events.len());
    }

    #[test]
    fn the_refractory_period_limits_a_pixel_s_rate() {
        let slow = SensorConfig {
            refractory_us: 500,
            ..quiet()
        };
        let mut sensor = Emulator::new(slow, &uniform(0.05), 0);
        let mut events = Events::default();
        sensor.advance(&uniform(1.0), 1000, &mut events);
        // Many crossings within 1 ms, at most 2 events per pixel 500 µs apart.
        assert!(events.len() <= 2 * 64, "{}", events.len());
        assert!(!events.is_empty());
    }
}
