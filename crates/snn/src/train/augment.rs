//! Frame augmentations for training, as state-of-the-art CIFAR10-DVS recipes use them:
//! a left–right flip, NDA's geometric ops (Li et al. 2022: roll, rotate, shear) and cutout,
//! and CutMix or EventMix across the batch (labels mixed by area or by events).
//!
//! An [`Augment`] is written as a list such as `"flip-x,roll:5,rotate:15,shear:30,cutout:16,
//! cutmix:0.5"` (`--augment`). It is part of the run's settings ([`super::TrainConfig`]),
//! so a run record says how it was trained and `--resume` refuses other augmentations.
//! Every draw comes from a ChaCha8 stream keyed by (run seed, epoch, batch, position in the
//! batch), so a resumed run sees exactly the augmented batches of an uninterrupted one. Only
//! the training batches are augmented, on their way from the frame source to the tensor:
//! the frame cache and the test set never are.
//!
//! Per sample, in this order: the flip (probability ½, `x ← W − 1 − x`); one of the
//! geometric ops that are set, chosen uniformly as NDA does; cutout. Then CutMix or EventMix
//! (one of them: both mix labels).

use std::fmt;
use std::str::FromStr;

use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::data::{Batch, FrameSource, batch, gather};

/// The augmentations of a training run; the default is none.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Augment {
    /// `flip-x`: mirror left–right with probability ½.
    pub flip_x: bool,
    /// `roll:K`: shift circularly (`torch.roll`) by `(dy, dx)`, each uniform in `[−K, K]`.
    pub roll: Option<usize>,
    /// `rotate:D`: rotate about the centre by an angle uniform in `[−D, D]` degrees (nearest
    /// pixel, zeros outside; with rows counted downwards, positive turns clockwise on screen;
    /// NDA's `RandomRotation(D)`, same angle for every step and channel).
    pub rotate: Option<f64>,
    /// `shear:D`: shear along x by an angle uniform in `[−D, D]` degrees,
    /// `x ← x + tan(a)·(y − centre)` (nearest pixel, zeros outside; torchvision's
    /// `RandomAffine(degrees=0, shear=(−D, D))`, as NDA uses it).
    pub shear: Option<f64>,
    /// `cutout:S`: zero an `S × S` square (clipped at the borders) at a uniform centre, in
    /// every step and channel.
    pub cutout: Option<usize>,
    /// `cutmix:P`: with probability `P` per sample, paste the same box of another sample of
    /// the batch into it (λ ~ U(0, 1), box side `√(1 − λ)` of the frame's, uniform centre,
    /// clipped); its label becomes `λ'·own + (1 − λ')·other`, `λ'` the share of the frame
    /// left uncovered.
    pub cutmix: Option<f64>,
    /// `eventmix:P`: with probability `P` per sample, replace the part of its frames under a
    /// random 3-D mask (over T × H × W, both polarities) with another sample's, as BrainCog's
    /// EventMix (Shen et al. 2023) does: the mask thresholds a sum of 2–4 Gaussian bumps
    /// (weights U(0, 1), centres uniform, σ per axis `max(U(0, 1), 0.1)` of half the extent)
    /// to cover a share λ ~ U(0, 1) of the grid; the label weight follows the events moved,
    /// `λ' = 1 − r₂ / (1 − r₁ + r₂)` with `r₁`, `r₂` the shares of each sample's events under
    /// the mask. BrainCog's salt-and-pepper noise after the mix is not applied.
    pub eventmix: Option<f64>,
}

impl Augment {
    /// Whether nothing is augmented.
    pub fn is_none(&self) -> bool {
        *self == Self::default()
    }

    /// The geometric ops that are set, in a fixed order (one is chosen per sample).
    fn geometric(&self) -> Vec<Geometric> {
        let mut ops = Vec::new();
        ops.extend(self.roll.map(Geometric::Roll));
        ops.extend(self.rotate.map(Geometric::Rotate));
        ops.extend(self.shear.map(Geometric::Shear));
        ops
    }

    /// Augments one sample, drawing from `key`'s stream: `values` are its `[T, C, H, W]`
    /// frames of `shape`.
    fn sample(&self, key: Key, values: &mut [f32], shape: [usize; 4]) {
        let mut rng = key.rng();
        if self.flip_x && rng.random_bool(0.5) {
            flip_x(values, shape);
        }
        let ops = self.geometric();
        if !ops.is_empty() {
            match ops[rng.random_range(0..ops.len())] {
                Geometric::Roll(k) => {
                    let k = k as i64;
                    let dy = rng.random_range(-k..=k);
                    let dx = rng.random_range(-k..=k);
                    roll(values, shape, dy, dx);
                }
                Geometric::Rotate(degrees) => {
                    let angle = rng.random_range(-degrees..=degrees).to_radians();
                    let (sin, cos) = angle.sin_cos();
                    warp(values, shape, [[cos, -sin], [sin, cos]]);
                }
                Geometric::Shear(degrees) => {
                    let tan = rng.random_range(-degrees..=degrees).to_radians().tan();
                    warp(values, shape, [[1.0, tan], [0.0, 1.0]]);
                }
            }
        }
        if let Some(side) = self.cutout {
            let [_, _, h, w] = shape;
            let (cy, cx) = (rng.random_range(0..h), rng.random_range(0..w));
            cutout(values, shape, (cy, cx), side);
        }
    }
}

/// One of NDA's geometric ops with its range.
#[derive(Clone, Copy)]
enum Geometric {
    Roll(usize),
    Rotate(f64),
    Shear(f64),
}

/// What an augmentation's draws are keyed by.
#[derive(Debug, Clone, Copy)]
struct Key {
    /// The run's seed.
    seed: u64,
    /// 1-based epoch.
    epoch: usize,
    /// 0-based batch within the epoch.
    batch: usize,
    /// 0-based position in the batch (`u64::MAX` for the batch's CutMix or EventMix).
    position: u64,
}

impl Key {
    /// The ChaCha8 stream of these draws: the 32-byte key is seed, epoch, batch, position.
    fn rng(self) -> ChaCha8Rng {
        let mut bytes = [0u8; 32];
        for (chunk, value) in bytes.chunks_exact_mut(8).zip([
            self.seed,
            self.epoch as u64,
            self.batch as u64,
            self.position,
        ]) {
            chunk.copy_from_slice(&value.to_le_bytes());
        }
        ChaCha8Rng::from_seed(bytes)
    }
}

/// An augmented training batch: the frames, the samples' own labels and, with CutMix, how
/// each sample's label is mixed.
pub struct Augmented {
    /// Frames `[T, N, C, H, W]` and each sample's own label (the one its accuracy counts).
    pub batch: Batch,
    /// Per sample: the other label and the weight λ of its own (1 when it was not mixed);
    /// `None` without CutMix.
    pub mixed: Option<Vec<(usize, f32)>>,
}

/// The target rows `[N, classes]` of a batch with labels `labels` that CutMix `mixed`:
/// `λ·one_hot(own) + (1 − λ)·one_hot(other)` (each row sums to 1).
pub fn mixed_targets(
    labels: &[usize],
    mixed: &[(usize, f32)],
    classes: usize,
    device: &Device,
) -> Tensor<2> {
    let n = mixed.len();
    let mut values = vec![0.0f32; n * classes];
    for (row, (&own, &(other, lambda))) in labels.iter().zip(mixed).enumerate() {
        values[row * classes + own] += lambda;
        values[row * classes + other] += 1.0 - lambda;
    }
    Tensor::from_data(TensorData::new(values, [n, classes]), device)
}

/// The samples `indices` of `source` as batch `index` (0-based) of epoch `epoch` (1-based) of
/// a run seeded with `seed`, augmented by `augment`, on `device` (without augmentations,
/// [`batch`]'s batch).
pub fn augmented_batch(
    source: &dyn FrameSource,
    indices: &[usize],
    augment: &Augment,
    (seed, epoch, index): (u64, usize, usize),
    device: &Device,
) -> Augmented {
    if augment.is_none() {
        return Augmented {
            batch: batch(source, indices, device),
            mixed: None,
        };
    }
    let shape = source.sample_shape();
    let key = |position: u64| Key {
        seed,
        epoch,
        batch: index,
        position,
    };
    let (mut values, labels) = gather(source, indices, &mut |position, sample| {
        augment.sample(key(position as u64), sample, shape);
    });
    let [t, c, h, w] = shape;
    let n = indices.len();
    let shape = [t, n, c, h, w];
    let mixed = match (augment.cutmix, augment.eventmix) {
        (Some(p), _) => Some(cutmix(&mut values, &labels, shape, p, key(u64::MAX))),
        (None, Some(p)) => Some(eventmix(&mut values, &labels, shape, p, key(u64::MAX))),
        (None, None) => None,
    };
    Augmented {
        batch: Batch {
            frames: Tensor::from_data(TensorData::new(values, [t, n, c, h, w]), device),
            labels,
        },
        mixed,
    }
}

/// Mirrors every row: `x ← W − 1 − x`.
pub fn flip_x(values: &mut [f32], [_, _, _, w]: [usize; 4]) {
    for row in values.chunks_exact_mut(w) {
        row.reverse();
    }
}

/// `torch.roll(shifts=(dy, dx), dims=(H, W))`: `out[y][x] = in[(y − dy) mod H][(x − dx) mod W]`.
pub fn roll(values: &mut [f32], [_, _, h, w]: [usize; 4], dy: i64, dx: i64) {
    let (sy, sx) = (
        dy.rem_euclid(h as i64) as usize,
        dx.rem_euclid(w as i64) as usize,
    );
    for plane in values.chunks_exact_mut(h * w) {
        plane.rotate_right(sy * w);
        for row in plane.chunks_exact_mut(w) {
            row.rotate_right(sx);
        }
    }
}

/// Resamples every plane through the linear map `forward` about the centre
/// `((W − 1)/2, (H − 1)/2)`: `out(p) = in(forward⁻¹ · p)` at the nearest pixel (halves
/// rounded to even, as `grid_sample`'s nearest mode), 0 where that falls outside.
fn warp(values: &mut [f32], [_, _, h, w]: [usize; 4], forward: [[f64; 2]; 2]) {
    let [[a, b], [c, d]] = forward;
    let det = a * d - b * c;
    let inverse = [[d / det, -b / det], [-c / det, a / det]];
    let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
    // The source pixel of every output pixel, the same for every plane.
    let sources: Vec<Option<usize>> = (0..h * w)
        .map(|i| {
            let (u, v) = ((i % w) as f64 - cx, (i / w) as f64 - cy);
            let x = (inverse[0][0] * u + inverse[0][1] * v + cx).round_ties_even();
            let y = (inverse[1][0] * u + inverse[1][1] * v + cy).round_ties_even();
            ((0.0..w as f64).contains(&x) && (0.0..h as f64).contains(&y))
                .then(|| y as usize * w + x as usize)
        })
        .collect();
    let mut copy = vec![0.0f32; h * w];
    for plane in values.chunks_exact_mut(h * w) {
        copy.copy_from_slice(plane);
        for (out, source) in plane.iter_mut().zip(&sources) {
            *out = source.map_or(0.0, |s| copy[s]);
        }
    }
}

/// The rows or columns `[centre − side/2, centre − side/2 + side)` inside `[0, size)`.
fn span(centre: usize, side: usize, size: usize) -> std::ops::Range<usize> {
    let start = centre as i64 - (side / 2) as i64;
    let clip = |v: i64| v.clamp(0, size as i64) as usize;
    clip(start)..clip(start + side as i64)
}

/// Zeroes the `side × side` square centred at `(cy, cx)`, clipped to the frame, in every
/// plane.
pub fn cutout(values: &mut [f32], [_, _, h, w]: [usize; 4], (cy, cx): (usize, usize), side: usize) {
    let (rows, cols) = (span(cy, side, h), span(cx, side, w));
    for plane in values.chunks_exact_mut(h * w) {
        for y in rows.clone() {
            plane[y * w + cols.start..y * w + cols.end].fill(0.0);
        }
    }
}

/// One CutMix paste: sample `to` gets the box `rows × cols` of sample `from`.
struct Paste {
    to: usize,
    from: usize,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
}

impl Paste {
    /// The offsets (in `to`, in `from`) where each of the box's rows starts in a batch of
    /// `[T, N, C, H, W]`, every step and channel.
    fn row_starts(&self, [t, n, c, h, w]: [usize; 5]) -> Vec<(usize, usize)> {
        let mut starts = Vec::with_capacity(t * c * self.rows.len());
        for plane in 0..t * c {
            let (step, channel) = (plane / c, plane % c);
            let at = |sample: usize| ((step * n + sample) * c + channel) * h * w;
            for y in self.rows.clone() {
                let offset = y * w + self.cols.start;
                starts.push((at(self.to) + offset, at(self.from) + offset));
            }
        }
        starts
    }
}

/// CutMix over a time-first batch `[T, N, C, H, W]`: per sample, with probability `p`, the
/// box of another sample (its frames before any mixing) is pasted into it. Returns each
/// sample's other label and own weight λ.
fn cutmix(
    values: &mut [f32],
    labels: &[usize],
    [t, n, c, h, w]: [usize; 5],
    p: f64,
    key: Key,
) -> Vec<(usize, f32)> {
    let mut rng = key.rng();
    let plane = h * w;
    let mut mixed = Vec::with_capacity(n);
    let mut pastes = Vec::new();
    for i in 0..n {
        let Some((other, lambda)) = partner(&mut rng, i, n, p) else {
            mixed.push((labels[i], 1.0));
            continue;
        };
        let ratio = (1.0 - lambda).sqrt();
        let (cut_h, cut_w) = ((h as f64 * ratio) as usize, (w as f64 * ratio) as usize);
        let (cy, cx) = (rng.random_range(0..h), rng.random_range(0..w));
        let (rows, cols) = (span(cy, cut_h, h), span(cx, cut_w, w));
        let covered = (rows.len() * cols.len()) as f64 / plane as f64;
        mixed.push((labels[other], (1.0 - covered) as f32));
        pastes.push(Paste {
            to: i,
            from: other,
            rows,
            cols,
        });
    }
    // The boxes are copied out of the unmixed batch before any is pasted.
    let shape = [t, n, c, h, w];
    let patches: Vec<Vec<f32>> = pastes
        .iter()
        .map(|paste| {
            let width = paste.cols.len();
            let starts = paste.row_starts(shape);
            starts
                .iter()
                .flat_map(|&(_, from)| values[from..from + width].iter().copied())
                .collect()
        })
        .collect();
    for (paste, patch) in pastes.iter().zip(&patches) {
        let width = paste.cols.len();
        for (k, &(to, _)) in paste.row_starts(shape).iter().enumerate() {
            values[to..to + width].copy_from_slice(&patch[k * width..(k + 1) * width]);
        }
    }
    mixed
}

/// Whether sample `i` of a batch of `n` is mixed (probability `p`), and if so with which
/// other sample and λ ~ U(0, 1): the draws CutMix and EventMix share, in this order.
fn partner(rng: &mut ChaCha8Rng, i: usize, n: usize, p: f64) -> Option<(usize, f64)> {
    if n < 2 || !rng.random_bool(p) {
        return None;
    }
    let other = (i + rng.random_range(1..n)) % n;
    Some((other, rng.random()))
}

/// EventMix over a time-first batch `[T, N, C, H, W]`: per sample, with probability `p`, the
/// frames under a Gaussian-mixture mask come from another sample (its frames before any
/// mixing). Returns each sample's other label and own weight λ. A sample or partner without
/// events, or a mix that would hold no events, is left unmixed (BrainCog's weight would
/// divide by zero).
fn eventmix(
    values: &mut [f32],
    labels: &[usize],
    [t, n, c, h, w]: [usize; 5],
    p: f64,
    key: Key,
) -> Vec<(usize, f32)> {
    let mut rng = key.rng();
    let original = values.to_vec();
    let at =
        |step: usize, sample: usize, channel: usize| ((step * n + sample) * c + channel) * h * w;
    // The sum of a sample's values, all of them or those under a mask, in one running sum.
    let events = |sample: usize, mask: Option<&[bool]>| -> f64 {
        let mut sum = 0.0f64;
        for step in 0..t {
            let cells = mask.map(|m| &m[step * h * w..][..h * w]);
            for channel in 0..c {
                let plane = &original[at(step, sample, channel)..][..h * w];
                for (k, &v) in plane.iter().enumerate() {
                    if cells.is_none_or(|cells| cells[k]) {
                        sum += f64::from(v);
                    }
                }
            }
        }
        sum
    };
    let mut mixed = Vec::with_capacity(n);
    for i in 0..n {
        let Some((other, lambda)) = partner(&mut rng, i, n, p) else {
            mixed.push((labels[i], 1.0));
            continue;
        };
        let mask = gaussian_mixture_mask([t, h, w], 1.0 - lambda, &mut rng);
        let (own, theirs) = (events(i, None), events(other, None));
        if own <= 0.0 || theirs <= 0.0 {
            mixed.push((labels[i], 1.0));
            continue;
        }
        let r1 = events(i, Some(&mask)) / own;
        let r2 = events(other, Some(&mask)) / theirs;
        // The mixed sample's events in both samples' shares; none (the mask covers all of its
        // own events and none of the other's) leaves the sample as it was.
        let total = 1.0 - r1 + r2;
        if total <= 0.0 {
            mixed.push((labels[i], 1.0));
            continue;
        }
        let weight = 1.0 - r2 / total;
        for step in 0..t {
            for channel in 0..c {
                let (to, from) = (at(step, i, channel), at(step, other, channel));
                for (k, &covered) in mask[step * h * w..][..h * w].iter().enumerate() {
                    if covered {
                        values[to + k] = original[from + k];
                    }
                }
            }
        }
        mixed.push((labels[other], weight as f32));
    }
    mixed
}

/// BrainCog's `GMM_mask` over a `[T, H, W]` grid: 2–4 Gaussian bumps, the cells above the
/// value at sorted position `⌊N·below⌋ − 1` (ascending) are masked — about `1 − below` of
/// the grid.
fn gaussian_mixture_mask([t, h, w]: [usize; 3], below: f64, rng: &mut ChaCha8Rng) -> Vec<bool> {
    let bumps: Vec<([f64; 3], [f64; 3], f64)> = (0..rng.random_range(2..5))
        .map(|_| {
            let weight: f64 = rng.random();
            let extent = [t, h, w].map(|e| e as f64);
            let centre = extent.map(|e| rng.random::<f64>() * e);
            let sigma = extent.map(|e| rng.random::<f64>().max(0.1) * e * 0.5);
            (centre, sigma, weight)
        })
        .collect();
    let mut value = Vec::with_capacity(t * h * w);
    for step in 0..t {
        for y in 0..h {
            for x in 0..w {
                let point = [step as f64, y as f64, x as f64];
                let sum: f64 = bumps
                    .iter()
                    .map(|(centre, sigma, weight)| {
                        let d2: f64 = (0..3)
                            .map(|a| ((point[a] - centre[a]) / sigma[a]).powi(2))
                            .sum();
                        weight * (-0.5 * d2).exp()
                    })
                    .sum();
                value.push(sum);
            }
        }
    }
    let mut sorted = value.clone();
    sorted.sort_by(f64::total_cmp);
    let position = (value.len() as f64 * below) as usize;
    // Python's index −1 (the largest value) when the position is 0: nothing is masked.
    let threshold = sorted[position.checked_sub(1).unwrap_or(sorted.len() - 1)];
    value.iter().map(|&v| v > threshold).collect()
}

/// The names of the augmentations, as `--augment` lists them.
const NAMES: &str =
    "flip-x, roll:K, rotate:DEGREES, shear:DEGREES, cutout:SIDE, cutmix:P, eventmix:P";

impl FromStr for Augment {
    type Err = String;

    /// Parses `"flip-x,roll:5,cutout:16"`: comma-separated, each at most once, in any order;
    /// `""` or `"none"` is no augmentation.
    fn from_str(text: &str) -> Result<Self, String> {
        let mut augment = Augment::default();
        let text = text.trim();
        if text.is_empty() || text == "none" {
            return Ok(augment);
        }
        for item in text.split(',').map(str::trim) {
            let (name, value) = match item.split_once(':') {
                Some((name, value)) => (name.trim(), Some(value.trim())),
                None => (item, None),
            };
            let number = |low: f64, high: f64| -> Result<f64, String> {
                let value = value.ok_or(format!("`{name}` needs a value: `{name}:VALUE`"))?;
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| *v > low && *v <= high)
                    .ok_or(format!(
                        "`{item}`: the value must be a number in ({low}, {high}]"
                    ))
            };
            let size = |high: f64| -> Result<usize, String> {
                let v = number(0.0, high)?;
                if v.fract() != 0.0 {
                    return Err(format!(
                        "`{item}`: the value must be a whole number of pixels"
                    ));
                }
                Ok(v as usize)
            };
            let duplicate = match name {
                "flip-x" if value.is_none() => std::mem::replace(&mut augment.flip_x, true),
                "roll" => augment.roll.replace(size(1024.0)?).is_some(),
                "rotate" => augment.rotate.replace(number(0.0, 180.0)?).is_some(),
                "shear" => augment.shear.replace(number(0.0, 89.0)?).is_some(),
                "cutout" => augment.cutout.replace(size(1024.0)?).is_some(),
                "cutmix" => augment.cutmix.replace(number(0.0, 1.0)?).is_some(),
                "eventmix" => augment.eventmix.replace(number(0.0, 1.0)?).is_some(),
                _ => {
                    return Err(format!(
                        "unknown augmentation `{item}`; the augmentations are {NAMES}"
                    ));
                }
            };
            if duplicate {
                return Err(format!("`{name}` is given twice"));
            }
        }
        if augment.cutmix.is_some() && augment.eventmix.is_some() {
            return Err("`cutmix` and `eventmix` both mix labels; choose one".into());
        }
        Ok(augment)
    }
}

impl fmt::Display for Augment {
    /// The canonical list (the order of [`Augment`]'s fields), `none` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items = Vec::new();
        if self.flip_x {
            items.push("flip-x".to_string());
        }
        items.extend(self.roll.map(|v| format!("roll:{v}")));
        items.extend(self.rotate.map(|v| format!("rotate:{v}")));
        items.extend(self.shear.map(|v| format!("shear:{v}")));
        items.extend(self.cutout.map(|v| format!("cutout:{v}")));
        items.extend(self.cutmix.map(|v| format!("cutmix:{v}")));
        items.extend(self.eventmix.map(|v| format!("eventmix:{v}")));
        if items.is_empty() {
            return f.write_str("none");
        }
        f.write_str(&items.join(","))
    }
}

impl From<Augment> for String {
    fn from(augment: Augment) -> String {
        augment.to_string()
    }
}

impl TryFrom<String> for Augment {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[T, C, H, W]` values 1, 2, 3, … (all distinct and non-zero).
    fn ramp(shape: [usize; 4]) -> Vec<f32> {
        (1..=shape.iter().product::<usize>())
            .map(|v| v as f32)
            .collect()
    }

    #[test]
    fn the_list_parses_prints_and_refuses_what_it_does_not_know() {
        let augment: Augment = "flip-x, roll:5,rotate:15,shear:30,cutout:16,cutmix:0.5"
            .parse()
            .unwrap();
        assert_eq!(
            augment,
            Augment {
                flip_x: true,
                roll: Some(5),
                rotate: Some(15.0),
                shear: Some(30.0),
                cutout: Some(16),
                cutmix: Some(0.5),
                eventmix: None,
            }
        );
        assert_eq!(
            augment.to_string(),
            "flip-x,roll:5,rotate:15,shear:30,cutout:16,cutmix:0.5"
        );
        assert_eq!(
            "cutout:8,flip-x".parse::<Augment>().unwrap().to_string(),
            "flip-x,cutout:8"
        );
        let json = serde_json::to_string(&augment).unwrap();
        assert_eq!(serde_json::from_str::<Augment>(&json).unwrap(), augment);
        assert!("".parse::<Augment>().unwrap().is_none());
        assert!("none".parse::<Augment>().unwrap().is_none());
        for bad in [
            "flip-y",
            "roll",
            "roll:0",
            "roll:2.5",
            "rotate:-3",
            "cutmix:1.5",
            "cutout:4,cutout:8",
            "flip-x:1",
            "shear:nan",
            "cutmix:0.5,eventmix:0.5",
        ] {
            assert!(bad.parse::<Augment>().is_err(), "{bad}");
        }
        assert!(
            "blur"
                .parse::<Augment>()
                .unwrap_err()
                .contains("flip-x, roll:K")
        );
    }

    #[test]
    fn roll_shifts_circularly_and_flip_twice_is_identity() {
        let shape = [2, 2, 4, 5];
        let original = ramp(shape);
        let mut rolled = original.clone();
        roll(&mut rolled, shape, 1, -2);
        for plane in 0..4 {
            for y in 0..4 {
                for x in 0..5 {
                    let source = plane * 20 + ((y + 3) % 4) * 5 + (x + 2) % 5;
                    assert_eq!(rolled[plane * 20 + y * 5 + x], original[source]);
                }
            }
        }
        roll(&mut rolled, shape, -1, 2);
        assert_eq!(rolled, original);

        let mut flipped = original.clone();
        flip_x(&mut flipped, shape);
        assert_eq!(flipped[0], original[4]);
        assert_ne!(flipped, original);
        flip_x(&mut flipped, shape);
        assert_eq!(flipped, original);
    }

    #[test]
    fn rotations_by_right_angles_and_zero_shear_move_pixels_exactly() {
        let shape = [1, 1, 4, 4];
        let original = ramp(shape);
        let mut turned = original.clone();
        warp(&mut turned, shape, [[0.0, -1.0], [1.0, 0.0]]); // 90°
        let mut back = turned.clone();
        warp(&mut back, shape, [[0.0, 1.0], [-1.0, 0.0]]); // −90°
        assert_eq!(back, original);
        // A quarter turn is a permutation of the pixels (nothing falls outside).
        let mut sorted = turned.clone();
        sorted.sort_by(f32::total_cmp);
        assert_eq!(sorted, original);
        assert_ne!(turned, original);
        let mut sheared = original.clone();
        warp(&mut sheared, shape, [[1.0, 0.0], [0.0, 1.0]]);
        assert_eq!(sheared, original);
        // A shear of 45° moves row y by y − 1.5: output x reads input x − (y − 1.5), to the
        // nearest pixel with ties to even, zeros coming in.
        let mut sheared = original.clone();
        warp(&mut sheared, shape, [[1.0, 1.0], [0.0, 1.0]]);
        assert_eq!(&sheared[0..4], &[3.0, 3.0, 0.0, 0.0]);
        assert_eq!(&sheared[12..16], &[0.0, 13.0, 13.0, 15.0]);
    }

    #[test]
    fn cutout_zeroes_exactly_a_square_clipped_at_the_borders() {
        let shape = [3, 2, 32, 32];
        let mut values = ramp(shape);
        cutout(&mut values, shape, (10, 20), 16);
        let zeros = values.iter().filter(|&&v| v == 0.0).count();
        assert_eq!(zeros, 6 * 16 * 16);
        for plane in values.chunks_exact(32 * 32) {
            assert_eq!(plane[2 * 32 + 12], 0.0);
            assert_eq!(plane[17 * 32 + 27], 0.0);
            assert_ne!(plane[18 * 32 + 27], 0.0);
            assert_ne!(plane[2 * 32 + 28], 0.0);
        }
        let mut corner = ramp(shape);
        cutout(&mut corner, shape, (0, 31), 5);
        assert_eq!(corner.iter().filter(|&&v| v == 0.0).count(), 6 * 3 * 3);
    }

    struct Frames {
        values: Vec<f32>,
        labels: Vec<usize>,
    }

    impl FrameSource for Frames {
        fn len(&self) -> usize {
            self.labels.len()
        }
        fn sample_shape(&self) -> [usize; 4] {
            [2, 2, 8, 8]
        }
        fn label(&self, index: usize) -> usize {
            self.labels[index]
        }
        fn copy_frames(&self, index: usize, out: &mut [f32]) {
            out.copy_from_slice(&self.values[index * 256..(index + 1) * 256]);
        }
    }

    #[test]
    fn cutmix_pastes_boxes_and_mixes_labels_by_area() {
        // Sample k is all k + 1: every value tells which sample it came from.
        let source = Frames {
            values: (0..6).flat_map(|k| vec![k as f32 + 1.0; 256]).collect(),
            labels: vec![0, 1, 2, 3, 4, 0],
        };
        let augment: Augment = "cutmix:1".parse().unwrap();
        let device = Device::flex();
        let out = augmented_batch(&source, &[0, 1, 2, 3, 4, 5], &augment, (7, 1, 0), &device);
        let values = out
            .batch
            .frames
            .clone()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let mixed = out.mixed.clone().unwrap();
        let targets = mixed_targets(&out.batch.labels, &mixed, 5, &device)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for (i, &(other, lambda)) in mixed.iter().enumerate() {
            assert!(other < 5);
            let row = &targets[i * 5..(i + 1) * 5];
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
            // The share of sample i's values that are its own is λ, in every step.
            let own = i as f32 + 1.0;
            for step in 0..2 {
                let start = (step * 6 + i) * 128;
                let kept = values[start..start + 128]
                    .iter()
                    .filter(|&&v| v == own)
                    .count();
                assert_eq!(kept as f32 / 128.0, lambda, "sample {i}");
            }
        }
        assert!(mixed.iter().any(|&(_, lambda)| lambda < 1.0));
        // Same key, same batch; another epoch, another.
        let again = augmented_batch(&source, &[0, 1, 2, 3, 4, 5], &augment, (7, 1, 0), &device);
        assert_eq!(again.mixed, out.mixed);
        let next = augmented_batch(&source, &[0, 1, 2, 3, 4, 5], &augment, (7, 2, 0), &device);
        assert_ne!(next.mixed, out.mixed);
    }

    #[test]
    fn eventmix_moves_a_masked_share_of_events_and_weighs_labels_by_it() {
        // Sample k is all k + 1, except sample 5, which has no events (never mixed).
        let mut values: Vec<f32> = (0..6).flat_map(|k| vec![k as f32 + 1.0; 256]).collect();
        values[5 * 256..].fill(0.0);
        let source = Frames {
            values,
            labels: vec![0, 1, 2, 3, 4, 0],
        };
        let augment: Augment = "eventmix:1".parse().unwrap();
        assert_eq!(augment.to_string(), "eventmix:1");
        let device = Device::flex();
        let indices = [0, 1, 2, 3, 4, 5];
        let out = augmented_batch(&source, &indices, &augment, (3, 1, 0), &device);
        let values = out.batch.frames.into_data().try_to_vec::<f32>().unwrap();
        let mixed = out.mixed.unwrap();
        // [T = 2, N = 6, C = 2, 8, 8]: sample i's plane of (step, channel).
        let plane = |step: usize, i: usize, channel: usize| {
            let start = ((step * 6 + i) * 2 + channel) * 64;
            &values[start..start + 64]
        };
        for (i, &(_, lambda)) in mixed.iter().enumerate().take(5) {
            let own = i as f32 + 1.0;
            let mut kept = 0;
            for step in 0..2 {
                // One mask for both polarities.
                let on: Vec<bool> = plane(step, i, 0).iter().map(|&v| v == own).collect();
                let off: Vec<bool> = plane(step, i, 1).iter().map(|&v| v == own).collect();
                assert_eq!(on, off, "sample {i} step {step}");
                kept += on.iter().filter(|&&k| k).count();
            }
            // Uniform samples: the label weight is the share of the sample left its own.
            assert!((kept as f32 / 128.0 - lambda).abs() < 1e-6, "sample {i}");
        }
        assert!(mixed[..5].iter().any(|&(_, lambda)| lambda < 1.0));
        assert_eq!(mixed[5], (0, 1.0), "a sample without events is not mixed");
        assert!(plane(0, 5, 0).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn augmented_batches_are_seeded_and_leave_the_source_alone() {
        let source = Frames {
            values: (0..4 * 256).map(|v| (v % 7) as f32).collect(),
            labels: vec![0, 1, 2, 3],
        };
        let before = source.values.clone();
        let augment: Augment = "flip-x,roll:2,rotate:20,shear:15,cutout:3".parse().unwrap();
        let device = Device::flex();
        let values = |key: (u64, usize, usize)| {
            augmented_batch(&source, &[3, 1, 0], &augment, key, &device)
                .batch
                .frames
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        assert_eq!(values((1, 1, 0)), values((1, 1, 0)));
        assert_ne!(values((1, 1, 0)), values((1, 1, 1)));
        assert_ne!(values((1, 1, 0)), values((2, 1, 0)));
        assert_eq!(source.values, before);
        let plain = batch(&source, &[3, 1, 0], &device);
        let none = augmented_batch(&source, &[3, 1, 0], &Augment::default(), (1, 1, 0), &device);
        assert_eq!(
            none.batch.frames.into_data().try_to_vec::<f32>().unwrap(),
            plain.frames.into_data().try_to_vec::<f32>().unwrap()
        );
        assert!(none.mixed.is_none());
    }
}
