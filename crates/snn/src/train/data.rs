//! Labelled frame samples and the batches made from them.

use burn::tensor::{Device, Tensor, TensorData};
use events::cache::{FrameCache, Part};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// A set of labelled samples, each `T` frames of `[2, h, w]`.
pub trait FrameSource: Sync {
    /// Number of samples.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The shape of one sample, `[T, 2, h, w]`.
    fn sample_shape(&self) -> [usize; 4];
    /// The class of sample `index`.
    fn label(&self, index: usize) -> usize;
    /// Copies the frames of sample `index` into `out` (`T·2·h·w` values).
    fn copy_frames(&self, index: usize, out: &mut [f32]);
}

/// One part of a frame cache, in split order, without skipped recordings.
pub struct CachePart<'a> {
    cache: &'a FrameCache,
    part: Part,
    samples: Vec<(usize, u16)>,
}

impl<'a> CachePart<'a> {
    /// The usable samples of `part`.
    pub fn new(cache: &'a FrameCache, part: Part) -> Self {
        Self {
            cache,
            part,
            samples: cache.samples(part),
        }
    }
}

impl FrameSource for CachePart<'_> {
    fn len(&self) -> usize {
        self.samples.len()
    }

    fn sample_shape(&self) -> [usize; 4] {
        let settings = &self.cache.manifest.settings();
        [settings.frames, 2, settings.size.0, settings.size.1]
    }

    fn label(&self, index: usize) -> usize {
        usize::from(self.samples[index].1)
    }

    fn copy_frames(&self, index: usize, out: &mut [f32]) {
        self.cache
            .copy_frames(self.part, self.samples[index].0, out);
    }
}

/// Samples held in memory.
#[derive(Debug, Clone)]
pub struct InMemoryFrames {
    /// `[T, 2, h, w]` of one sample.
    pub shape: [usize; 4],
    /// All samples' frames, one after another.
    pub frames: Vec<f32>,
    /// One class per sample.
    pub labels: Vec<usize>,
}

impl FrameSource for InMemoryFrames {
    fn len(&self) -> usize {
        self.labels.len()
    }

    fn sample_shape(&self) -> [usize; 4] {
        self.shape
    }

    fn label(&self, index: usize) -> usize {
        self.labels[index]
    }

    fn copy_frames(&self, index: usize, out: &mut [f32]) {
        let len = out.len();
        out.copy_from_slice(&self.frames[index * len..(index + 1) * len]);
    }
}

/// A seeded selection of another source's samples (for quick runs on part of a dataset).
pub struct Subset<'a> {
    source: &'a dyn FrameSource,
    indices: Vec<usize>,
}

impl<'a> Subset<'a> {
    /// At most `count` samples of `source`, drawn without replacement by a ChaCha8 shuffle
    /// seeded with `seed`, kept in their original order.
    pub fn random(source: &'a dyn FrameSource, count: usize, seed: u64) -> Self {
        let mut indices: Vec<usize> = (0..source.len()).collect();
        indices.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        indices.truncate(count);
        indices.sort_unstable();
        Self { source, indices }
    }
}

impl FrameSource for Subset<'_> {
    fn len(&self) -> usize {
        self.indices.len()
    }

    fn sample_shape(&self) -> [usize; 4] {
        self.source.sample_shape()
    }

    fn label(&self, index: usize) -> usize {
        self.source.label(self.indices[index])
    }

    fn copy_frames(&self, index: usize, out: &mut [f32]) {
        self.source.copy_frames(self.indices[index], out);
    }
}

/// The order in which epoch `epoch` visits the `len` training samples: a ChaCha8 shuffle
/// seeded with `seed` on stream `epoch`, so that every epoch's order depends only on the
/// seed and its number (a resumed run sees the same batches).
pub fn epoch_order(len: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch as u64 + 1);
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(&mut rng);
    order
}

/// A batch: frames `[T, N, 2, h, w]` (time first) and the N labels.
#[derive(Clone)]
pub struct Batch {
    /// The frames.
    pub frames: Tensor<5>,
    /// The classes.
    pub labels: Vec<usize>,
}

/// Gathers the samples `indices` of `source` into a time-first batch on `device`.
pub fn batch(source: &dyn FrameSource, indices: &[usize], device: &Device) -> Batch {
    let [t, c, h, w] = source.sample_shape();
    let (values, labels) = gather(source, indices, &mut |_, _| {});
    Batch {
        frames: Tensor::from_data(TensorData::new(values, [t, indices.len(), c, h, w]), device),
        labels,
    }
}

/// The values of the samples `indices` of `source`, time-first `[T, N, C, h, w]`, and their
/// labels; each sample's `[T, C, h, w]` values pass through `edit(position, values)` on the
/// way (the training augmentations: the source's own frames are never changed).
pub fn gather(
    source: &dyn FrameSource,
    indices: &[usize],
    edit: &mut dyn FnMut(usize, &mut [f32]),
) -> (Vec<f32>, Vec<usize>) {
    let [t, c, h, w] = source.sample_shape();
    let n = indices.len();
    let frame = c * h * w;
    let mut sample = vec![0.0f32; t * frame];
    let mut values = vec![0.0f32; t * n * frame];
    let mut labels = Vec::with_capacity(n);
    for (position, &index) in indices.iter().enumerate() {
        source.copy_frames(index, &mut sample);
        edit(position, &mut sample);
        for (step, frame_values) in sample.chunks_exact(frame).enumerate() {
            let start = (step * n + position) * frame;
            values[start..start + frame].copy_from_slice(frame_values);
        }
        labels.push(source.label(index));
    }
    (values, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_time_first_and_epochs_are_seeded_permutations() {
        let source = InMemoryFrames {
            shape: [2, 2, 1, 1],
            frames: (0..12).map(|v| v as f32).collect(),
            labels: vec![0, 1, 2],
        };
        let Batch { frames, labels } = batch(&source, &[2, 0], &Device::flex());
        assert_eq!(frames.dims(), [2, 2, 2, 1, 1]);
        let values = frames.into_data().try_to_vec::<f32>().unwrap();
        // step 0: sample 2's [8, 9], sample 0's [0, 1]; step 1: [10, 11], [2, 3].
        assert_eq!(values, [8.0, 9.0, 0.0, 1.0, 10.0, 11.0, 2.0, 3.0]);
        assert_eq!(labels, [2, 0]);

        let first = epoch_order(100, 7, 0);
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_eq!(first, epoch_order(100, 7, 0));
        assert_ne!(first, epoch_order(100, 7, 1));
        assert_ne!(first, epoch_order(100, 8, 0));
    }
}
