//! Resizing count frames `[T, 2, H, W]` to `[T, 2, h, w]` floats, as PyTorch does it for
//! SpikingJelly users. SpikingJelly's CIFAR10-DVS frames are 128×128; the seed experiment
//! trains at 32×32.

use crate::frames::Frames;

/// How frames are resized.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Resize {
    /// Area averaging, `F.interpolate(mode='area')` = adaptive average pooling (for 128→32,
    /// the 4×4 mean). The default: with the seed's hyper-parameters SpikingJelly trains on
    /// averaged frames and fails to train on raw summed counts.
    #[default]
    Area,
    /// Sum pooling over the same windows as `Area` (keeps event counts).
    Sum,
    /// `F.interpolate(mode='nearest')`: keeps pixel `floor(i · H/h)`.
    Nearest,
    /// `F.interpolate(mode='bilinear', align_corners=False)`, no antialiasing.
    Bilinear,
    /// `torchvision.transforms.Resize` on a tensor: bilinear with antialiasing (its default).
    BilinearAntialias,
}

impl Resize {
    /// Every method, for listings and tests.
    pub const ALL: [Resize; 5] = [
        Self::Area,
        Self::Sum,
        Self::Nearest,
        Self::Bilinear,
        Self::BilinearAntialias,
    ];

    /// The method's name on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Area => "area",
            Self::Sum => "sum",
            Self::Nearest => "nearest",
            Self::Bilinear => "bilinear",
            Self::BilinearAntialias => "bilinear-antialias",
        }
    }
}

/// `frames` resized to `height × width` by `method`, as `[T, 2, height, width]` f32.
pub fn resize(frames: &Frames, (height, width): (usize, usize), method: Resize) -> Vec<f32> {
    let rows = axis_weights(frames.height, height, method);
    let columns = axis_weights(frames.width, width, method);
    let planes = frames.frames * 2;
    let in_plane = frames.height * frames.width;
    let mut out = Vec::with_capacity(planes * height * width);
    let mut row_pass = vec![0.0f32; height * frames.width];
    for plane in frames.counts.chunks_exact(in_plane) {
        // Rows first (each output row mixes input rows), then columns.
        for (i, taps) in rows.iter().enumerate() {
            let dst = &mut row_pass[i * frames.width..(i + 1) * frames.width];
            dst.fill(0.0);
            for &(src, weight) in taps {
                let src_row = &plane[src * frames.width..(src + 1) * frames.width];
                for (d, &count) in dst.iter_mut().zip(src_row) {
                    *d += weight * count as f32;
                }
            }
        }
        for row in row_pass.chunks_exact(frames.width) {
            for taps in &columns {
                out.push(taps.iter().map(|&(src, weight)| weight * row[src]).sum());
            }
        }
    }
    out
}

/// For each output index along one axis, the input indices and weights that make it.
fn axis_weights(input: usize, output: usize, method: Resize) -> Vec<Vec<(usize, f32)>> {
    let scale = input as f32 / output as f32;
    (0..output)
        .map(|i| match method {
            Resize::Area | Resize::Sum => {
                // Adaptive pooling windows: [floor(i·in/out), ceil((i+1)·in/out)).
                let start = i * input / output;
                let end = ((i + 1) * input).div_ceil(output);
                let weight = match method {
                    Resize::Area => 1.0 / (end - start) as f32,
                    _ => 1.0,
                };
                (start..end).map(|j| (j, weight)).collect()
            }
            Resize::Nearest => {
                let src = ((i as f32 * scale).floor() as usize).min(input - 1);
                vec![(src, 1.0)]
            }
            Resize::Bilinear => {
                let src = (scale * (i as f32 + 0.5) - 0.5).max(0.0);
                let low = src as usize;
                let high = (low + 1).min(input - 1);
                let lambda = src - low as f32;
                vec![(low, 1.0 - lambda), (high, lambda)]
            }
            Resize::BilinearAntialias => antialias_taps(input, scale as f64, i),
        })
        .collect()
}

/// PyTorch's antialiased bilinear weights (`_upsample_bilinear2d_aa`): a triangle filter
/// stretched by the scale when downsampling, normalised to sum to 1.
fn antialias_taps(input: usize, scale: f64, i: usize) -> Vec<(usize, f32)> {
    let support = if scale >= 1.0 { scale } else { 1.0 };
    let inverse = if scale >= 1.0 { 1.0 / scale } else { 1.0 };
    let center = scale * (i as f64 + 0.5);
    let start = ((center - support + 0.5) as i64).max(0) as usize;
    let end = ((center + support + 0.5) as i64).min(input as i64) as usize;
    let weights: Vec<f64> = (start..end)
        .map(|j| (1.0 - ((j as f64 - center + 0.5) * inverse).abs()).max(0.0))
        .collect();
    let total: f64 = weights.iter().sum();
    (start..end)
        .zip(weights)
        .filter(|&(_, w)| w > 0.0)
        .map(|(j, w)| (j, (w / total) as f32))
        .collect()
}
