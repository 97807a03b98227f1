//! Event-driven inference of a trained SNN of the seed's shape (`conv 3×3 padding 1 → IF or
//! LIF → flatten → linear`, mean readout): work in proportion to the events and spikes
//! instead of to the neurons.
//!
//! - The convolution scatters each non-zero input pixel (an event count) into the 3×3
//!   neighbourhood of output currents, all output channels at once (channel-last layout);
//!   zero pixels cost nothing, and pixels of exactly one event are added without a
//!   multiplication.
//! - The neuron layer updates every membrane once per step (a state update is per neuron),
//!   and each spike adds its row of the Linear weight to the sample's sums: binary inputs
//!   need no multiplications, silent neurons no work.
//! - Scores are those sums over T plus the bias: the same as the dense
//!   `Linear(mean_t S_t)` up to the order of the floating-point additions.
//!
//! Plain Rust over `f32` slices, one rayon task per sample. IF and LIF neurons (the
//! ParametricLIF leak would need the trained `k`; it is refused).

use multiversion::multiversion;
use rayon::prelude::*;
use thiserror::Error;

use crate::denormals::FlushToZero;
use crate::network::{Network, Readout};
use crate::neuron::NeuronModel;
use crate::neuron::dynamics::{ChargeRule, Dynamics, with_charge_rule};
use crate::nn::Layer;

/// Why a network cannot run event-driven.
#[derive(Debug, Error)]
pub enum SparseError {
    /// A network of another shape, or an SNN whose neuron the engine does not run.
    #[error(
        "event-driven inference runs networks `conv 3×3 (padding 1) → IF or LIF neuron → \
         flatten → linear` with the mean readout (the seed SNN): {0}"
    )]
    Unsupported(&'static str),
    /// Frames of the wrong size.
    #[error(
        "expected {expected} frame values ([T, N, {channels}, {h}, {w}] with T = {steps}, N = {samples}), got {found}"
    )]
    FrameLength {
        /// Values expected.
        expected: usize,
        /// Values given.
        found: usize,
        /// T.
        steps: usize,
        /// N.
        samples: usize,
        /// Input channels.
        channels: usize,
        /// Height.
        h: usize,
        /// Width.
        w: usize,
    },
}

/// A seed SNN's parameters in the layouts the event-driven kernels read.
#[derive(Debug, Clone)]
pub struct SparseSeedSnn {
    dynamics: Dynamics,
    in_channels: usize,
    channels: usize,
    classes: usize,
    h: usize,
    w: usize,
    /// Conv weight `[in, kh, 2 − kw, out]`: an input pixel at column x reaches output
    /// columns x−1, x, x+1 through kw = 2, 1, 0, so one kernel row's taps line up with three
    /// neighbouring output pixels (channel-last) and scatter as one contiguous add.
    conv_weight: Vec<f32>,
    conv_bias: Vec<f32>,
    /// The conv bias repeated for every pixel of a row (`[w, out]`), as the neurons of a row
    /// are laid out.
    bias_row: Vec<f32>,
    /// Linear weight rows in the neurons' channel-last order `[h, w, out, classes]` (PyTorch
    /// flattens `(out, h, w)`): the spikes of one row of pixels read neighbouring rows.
    fc_weight: Vec<f32>,
    fc_bias: Vec<f32>,
}

/// Scores and activity of one call of [`SparseSeedSnn::forward`].
#[derive(Debug, Clone, PartialEq)]
pub struct SparseOutput {
    /// `[N, classes]`.
    pub scores: Vec<f32>,
    /// Spikes of the hidden layer, all samples and steps.
    pub spikes: u64,
    /// Neuron-steps of the hidden layer (spikes / this = the firing rate).
    pub neuron_steps: u64,
    /// Non-zero input values (pixels with events), all samples and steps.
    pub input_events: u64,
    /// Input values in all.
    pub input_values: u64,
}

/// What one sample contributes to a [`SparseOutput`].
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    spikes: u64,
    input_events: u64,
}

fn values(tensor: burn::tensor::Tensor<1>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().unwrap_or_default()
}

impl SparseSeedSnn {
    /// Copies the parameters of a trained network of the seed SNN's shape.
    pub fn new(net: &Network) -> Result<Self, SparseError> {
        let [
            Layer::Conv2d(conv),
            Layer::Neuron(neuron),
            Layer::Flatten(_),
            Layer::Linear(fc),
        ] = &net.layers[..]
        else {
            return Err(SparseError::Unsupported("its layers are of another kind"));
        };
        if !conv.is_same3x3() || net.config().readout != Readout::Mean {
            return Err(SparseError::Unsupported(
                "its convolution is not 3×3 with stride and padding 1, or its readout is not the mean",
            ));
        }
        if matches!(neuron.config.model, NeuronModel::ParametricLif { .. }) {
            return Err(SparseError::Unsupported("ParametricLIF is not supported"));
        }
        let [channels, in_channels, _, _] = conv.weight.dims();
        let [features, classes] = fc.weight.dims();
        let crate::nn::SignalShape::Maps {
            height: h,
            width: w,
            ..
        } = net.input()
        else {
            unreachable!("a network's input is maps")
        };
        let conv_values = values(conv.weight.val().flatten(0, 3));
        // [out, in, kh, kw] → [in, kh, 2 − kw, out].
        let mut conv_weight = vec![0.0; conv_values.len()];
        for (o, taps) in conv_values.chunks_exact(in_channels * 9).enumerate() {
            for (tap, &value) in taps.iter().enumerate() {
                let (row, kw) = (tap / 3, tap % 3);
                conv_weight[(row * 3 + 2 - kw) * channels + o] = value;
            }
        }
        let conv_bias = conv
            .bias
            .as_ref()
            .map_or_else(|| vec![0.0; channels], |b| values(b.val()));
        let fc_bias = fc
            .bias
            .as_ref()
            .map_or_else(|| vec![0.0; classes], |b| values(b.val()));
        debug_assert_eq!(features, channels * h * w);
        Ok(Self {
            dynamics: neuron.config.dynamics(),
            in_channels,
            channels,
            classes,
            h,
            w,
            conv_weight,
            bias_row: conv_bias.repeat(w),
            conv_bias,
            fc_weight: channel_last_rows(
                &values(fc.weight.val().flatten(0, 1)),
                channels,
                h * w,
                classes,
            ),
            fc_bias,
        })
    }

    /// Classes the scores cover.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Scores of `samples` samples of `steps` frames, `frames` time-first `[T, N, C, h, w]`
    /// (the layout of [`train::data::batch`](crate::train::data::batch)).
    pub fn forward(
        &self,
        frames: &[f32],
        steps: usize,
        samples: usize,
    ) -> Result<SparseOutput, SparseError> {
        let frame = self.in_channels * self.h * self.w;
        let expected = steps * samples * frame;
        if frames.len() != expected || steps == 0 {
            return Err(SparseError::FrameLength {
                expected,
                found: frames.len(),
                steps,
                samples,
                channels: self.in_channels,
                h: self.h,
                w: self.w,
            });
        }
        let _flush = FlushToZero::begin();
        let mut scores = vec![0.0f32; samples * self.classes];
        let plane = self.h * self.w;
        let counts: Vec<Counts> = with_charge_rule!(self.dynamics, rule => {
            scores
                .par_chunks_mut(self.classes)
                .enumerate()
                .map_init(
                    || Scratch::new((self.h + 2) * (self.w + 2) * self.channels, plane * self.channels),
                    |scratch, (n, scores)| {
                        let sample = (0..steps)
                            .map(|t| &frames[(t * samples + n) * frame..][..frame]);
                        sample_forward(rule, self.dynamics, self, sample, scratch, scores)
                    },
                )
                .collect()
        });
        let neuron_steps = (steps * samples * plane * self.channels) as u64;
        Ok(SparseOutput {
            scores,
            spikes: counts.iter().map(|c| c.spikes).sum(),
            neuron_steps,
            input_events: counts.iter().map(|c| c.input_events).sum(),
            input_values: expected as u64,
        })
    }
}

/// The Linear weight's rows `[channels·plane, classes]` in PyTorch's `(channel, pixel)` order,
/// reordered to `(pixel, channel)`.
fn channel_last_rows(weight: &[f32], channels: usize, plane: usize, classes: usize) -> Vec<f32> {
    let mut reordered = vec![0.0; weight.len()];
    for (feature, row) in weight.chunks_exact(classes).enumerate() {
        let (channel, pixel) = (feature / plane, feature % plane);
        reordered[(pixel * channels + channel) * classes..][..classes].copy_from_slice(row);
    }
    reordered
}

/// One sample's working memory: currents `[h+2, w+2, channels]` (a border that scattered
/// events may write to and nothing reads, so the scatter needs no bounds checks) and
/// potentials `[h, w, channels]`.
struct Scratch {
    current: Vec<f32>,
    v: Vec<f32>,
}

impl Scratch {
    fn new(current: usize, v: usize) -> Self {
        Self {
            current: vec![0.0; current],
            v: vec![0.0; v],
        }
    }
}

/// All steps of one sample; writes its scores, returns its counts.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn sample_forward<'a, R: ChargeRule>(
    rule: R,
    dynamics: Dynamics,
    net: &SparseSeedSnn,
    frames: impl ExactSizeIterator<Item = &'a [f32]>,
    scratch: &mut Scratch,
    scores: &mut [f32],
) -> Counts {
    let (h, w, channels, classes) = (net.h, net.w, net.channels, net.classes);
    let plane = h * w;
    let steps = frames.len();
    let mut counts = Counts::default();
    scratch.v.fill(dynamics.rest());
    scores.fill(0.0);
    // Every frame's currents start from the bias; the neuron pass puts it back after reading.
    for currents in scratch.current.chunks_exact_mut(channels) {
        currents.copy_from_slice(&net.conv_bias);
    }
    let padded_row = (w + 2) * channels;
    for frame in frames {
        for (c, input) in frame.chunks_exact(plane).enumerate() {
            let kernel = &net.conv_weight[c * 9 * channels..][..9 * channels];
            for (index, value) in non_zero(input) {
                counts.input_events += 1;
                let (y, x) = (index / w, index % w);
                // Kernel row kh takes input row y to output row y + 1 − kh, padded row
                // y + 2 − kh; its three taps to padded columns x, x + 1, x + 2.
                for (kh, taps) in kernel.chunks_exact(3 * channels).enumerate() {
                    let start = (y + 2 - kh) * padded_row + x * channels;
                    scatter_row(&mut scratch.current[start..][..3 * channels], taps, value);
                }
            }
        }
        for (y, v_row) in scratch.v.chunks_exact_mut(w * channels).enumerate() {
            let current_row =
                &mut scratch.current[(y + 1) * padded_row + channels..][..w * channels];
            let groups = v_row
                .chunks_mut(MASK_BITS)
                .zip(current_row.chunks_mut(MASK_BITS))
                .zip(net.bias_row.chunks(MASK_BITS));
            for (group, ((v, currents), bias)) in groups.enumerate() {
                let mut fired = step_neurons(rule, dynamics, (v, currents), bias);
                while fired != 0 {
                    let j = group * MASK_BITS + fired.trailing_zeros() as usize;
                    fired &= fired - 1;
                    counts.spikes += 1;
                    let row = &net.fc_weight[(y * w * channels + j) * classes..][..classes];
                    scores.iter_mut().zip(row).for_each(|(s, &k)| *s += k);
                }
            }
        }
    }
    let steps = steps as f32;
    for (score, &bias) in scores.iter_mut().zip(&net.fc_bias) {
        *score = *score / steps + bias;
    }
    counts
}

/// One step of up to [`MASK_BITS`] neurons: their spikes as a bit mask, the currents back
/// to `bias` for the next frame. Full groups take a fixed-length path (whole registers, the
/// mask from one compare); its slices are known not to alias, so the loops vectorise.
#[inline(always)]
fn step_neurons<R: ChargeRule>(
    rule: R,
    dynamics: Dynamics,
    (v, currents): (&mut [f32], &mut [f32]),
    bias: &[f32],
) -> u32 {
    match (
        <&mut [f32; MASK_BITS]>::try_from(&mut *v),
        <&mut [f32; MASK_BITS]>::try_from(&mut *currents),
        <&[f32; MASK_BITS]>::try_from(bias),
    ) {
        (Ok(v), Ok(currents), Ok(bias)) => step_group(rule, dynamics, v, currents, bias),
        _ => step_group(rule, dynamics, v, currents, bias),
    }
}

#[inline(always)]
fn step_group<R: ChargeRule>(
    rule: R,
    dynamics: Dynamics,
    v: &mut [f32],
    currents: &mut [f32],
    bias: &[f32],
) -> u32 {
    let len = v.len().min(MASK_BITS);
    let (v, currents, bias) = (&mut v[..len], &mut currents[..len], &bias[..len]);
    let mut fired = 0u32;
    for j in 0..len {
        let (spike, next) = dynamics.fire_and_reset(rule.charge(v[j], currents[j]));
        v[j] = next;
        currents[j] = bias[j];
        fired |= u32::from(spike != 0.0) << j;
    }
    fired
}

/// `out += value · taps`, without the multiplication for a single event (`value` = 1). The
/// seed SNN's rows (3 taps × 32 channels) take a fixed-length path the compiler unrolls into
/// whole registers.
#[inline(always)]
fn scatter_row(out: &mut [f32], taps: &[f32], value: f32) {
    const SEED_ROW: usize = 3 * 32;
    match (
        <&mut [f32; SEED_ROW]>::try_from(&mut *out),
        <&[f32; SEED_ROW]>::try_from(taps),
    ) {
        (Ok(out), Ok(taps)) => add_scaled(out, taps, value),
        _ => add_scaled(out, taps, value),
    }
}

#[inline(always)]
fn add_scaled(out: &mut [f32], taps: &[f32], value: f32) {
    if value == 1.0 {
        out.iter_mut().zip(taps).for_each(|(o, &k)| *o += k);
    } else {
        out.iter_mut().zip(taps).for_each(|(o, &k)| *o += value * k);
    }
}

/// Bits of a spike or event mask.
const MASK_BITS: usize = 32;

/// The non-zero values of `values` with their indices, found [`MASK_BITS`] at a time through
/// a bit mask (one vector compare each), so that the zeros cost no branch of their own.
#[inline(always)]
fn non_zero(values: &[f32]) -> impl Iterator<Item = (usize, f32)> + '_ {
    values
        .chunks(MASK_BITS)
        .enumerate()
        .flat_map(|(chunk, values)| {
            let mut mask = values
                .iter()
                .enumerate()
                .fold(0u32, |mask, (l, &v)| mask | (u32::from(v != 0.0) << l));
            std::iter::from_fn(move || {
                (mask != 0).then(|| {
                    let l = mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    (chunk * MASK_BITS + l, values[l])
                })
            })
        })
}
