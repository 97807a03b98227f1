//! Event-driven inference of a trained SNN of the seed's shape (`conv 3×3 padding 1 → IF or
//! LIF → flatten → linear`, mean readout): work in proportion to the events and spikes
//! instead of to the neurons.
//!
//! - The convolution scatters each non-zero input pixel (an event count) into the 3×3
//!   neighbourhood of output currents, all output channels at once (channel-last layout);
//!   zero pixels cost nothing, and pixels of exactly one event are added without a
//!   multiplication.
//! - The neuron layer updates every membrane once per step (a state update is per neuron),
//!   and each spike adds its row of the Linear weight to the sample's sums (kept in
//!   registers, in firing order): binary inputs need no multiplications, silent neurons no
//!   work. IF neurons (`H = V + X`, linear in the input) take the events straight into their
//!   potentials, which start each step at `V + bias`: a step is one load, compare, blend,
//!   add and store per 16 neurons, with no current to read and reset. Spikes are listed
//!   without a branch per neuron (compressed from the compare's mask).
//! - Scores are those sums over T plus the bias: the same as the dense
//!   `Linear(mean_t S_t)` up to the order of the floating-point additions.
//!
//! Plain Rust over `f32` slices, one rayon task per sample. IF and LIF neurons (the
//! ParametricLIF leak would need the trained `k`; it is refused).

use multiversion::multiversion;
use multiversion::target::match_target;
use rayon::prelude::*;
use thiserror::Error;

use crate::bitmask::{self, Compare32};
use crate::denormals::FlushToZero;
use crate::network::{Network, Readout};
use crate::neuron::NeuronModel;
use crate::neuron::dynamics::{Charge, ChargeRule, Dynamics, with_charge_rule};
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
    /// flattens `(out, h, w)`), followed by [`SCORE_LANES`] zeros so that any row can be
    /// read as that many values.
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
#[derive(Debug, Clone, Copy)]
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
        if u32::try_from(features).is_err() {
            return Err(SparseError::Unsupported(
                "its hidden layer has more than 2³² neurons",
            ));
        }
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
/// reordered to `(pixel, channel)`, followed by [`SCORE_LANES`] zeros.
fn channel_last_rows(weight: &[f32], channels: usize, plane: usize, classes: usize) -> Vec<f32> {
    let mut reordered = vec![0.0; weight.len() + SCORE_LANES];
    for (feature, row) in weight.chunks_exact(classes).enumerate() {
        let (channel, pixel) = (feature / plane, feature % plane);
        reordered[(pixel * channels + channel) * classes..][..classes].copy_from_slice(row);
    }
    reordered
}

/// One sample's working memory: sums `[h+2, w+2, channels]` (a border that scattered events
/// may write to and nothing reads, so the scatter needs no bounds checks) — the currents,
/// or for IF neurons the potentials themselves —, the potentials `[h, w, channels]` of the
/// other neurons (unused for IF), and the hidden neurons' spikes (channel-last indices, in firing order; 32
/// bits, so that a vector register compresses 16 at a time).
struct Scratch {
    sums: Vec<f32>,
    v: Vec<f32>,
    spikes: Vec<u32>,
}

impl Scratch {
    fn new(sums: usize, v: usize) -> Self {
        Self {
            sums: vec![0.0; sums],
            v: vec![0.0; v],
            spikes: Vec::new(),
        }
    }
}

/// All steps of one sample; writes its scores, returns its counts. Picks the bit-mask
/// instructions of the CPU it runs on.
#[multiversion(targets("x86_64+avx512f+avx2+fma+popcnt", "x86_64+avx2+fma+popcnt"))]
fn sample_forward<'a, R: ChargeRule>(
    rule: R,
    dynamics: Dynamics,
    net: &SparseSeedSnn,
    frames: impl ExactSizeIterator<Item = &'a [f32]>,
    scratch: &mut Scratch,
    scores: &mut [f32],
) -> Counts {
    let sample = (rule, dynamics, net);
    match_target! {
        // SAFETY: this arm runs only on CPUs with AVX-512F.
        "x86_64+avx512f" => sample_steps(unsafe { bitmask::Avx512::assume() }, sample, frames, scratch, scores),
        // SAFETY: this arm runs only on CPUs with AVX2.
        "x86_64+avx2" => sample_steps(unsafe { bitmask::Avx2::assume() }, sample, frames, scratch, scores),
        _ => sample_steps(bitmask::Portable, sample, frames, scratch, scores),
    }
}

/// [`sample_forward`] with the masks of `compare`.
#[inline(always)]
fn sample_steps<'a, R: ChargeRule>(
    compare: impl Compare32,
    (rule, dynamics, net): (R, Dynamics, &SparseSeedSnn),
    frames: impl ExactSizeIterator<Item = &'a [f32]>,
    scratch: &mut Scratch,
    scores: &mut [f32],
) -> Counts {
    let (h, w, channels) = (net.h, net.w, net.channels);
    let plane = h * w;
    let steps = frames.len();
    let mut input_events = 0;
    // `H = V + X` is linear in the input: IF neurons' events are scattered straight into
    // their potentials, which start each step at `V + bias`. Other neurons sum a current
    // that starts at the bias; their step puts it back after reading.
    let integrate = matches!(dynamics.charge, Charge::If);
    let firing = (dynamics.v_threshold, dynamics.v_reset);
    let start = if integrate { dynamics.rest() } else { 0.0 };
    for sums in scratch.sums.chunks_exact_mut(channels) {
        let pairs = sums.iter_mut().zip(&net.conv_bias);
        pairs.for_each(|(sum, &bias)| *sum = start + bias);
    }
    if !integrate {
        scratch.v.fill(dynamics.rest());
    }
    scratch.spikes.clear();
    let spikes = &mut scratch.spikes;
    let padded_row = (w + 2) * channels;
    let (bias_groups, bias_tail) = net.bias_row.as_chunks::<MASK_BITS>();
    for frame in frames {
        // Row by row: input row y reaches output rows y − 1 … y + 1, so once it is scattered
        // (every channel) output row y − 1 is complete and its neurons step. The rows being
        // summed stay in L1.
        for y in 0..=h {
            if y < h {
                for (c, input) in frame.chunks_exact(plane).enumerate() {
                    let kernel = &net.conv_weight[c * 9 * channels..][..9 * channels];
                    let row = &input[y * w..][..w];
                    input_events +=
                        scatter_input_row(compare, row, y, kernel, channels, &mut scratch.sums);
                }
            }
            let Some(y) = y.checked_sub(1) else {
                continue;
            };
            let sum_row = &mut scratch.sums[(y + 1) * padded_row + channels..][..w * channels];
            let (sum_groups, sum_tail) = sum_row.as_chunks_mut::<MASK_BITS>();
            let first = y * w * channels;
            let tail_first = (first + sum_groups.len() * MASK_BITS) as u32;
            if integrate {
                for (group, (h, bias)) in sum_groups.iter_mut().zip(bias_groups).enumerate() {
                    let fired = compare.fire_and_add(h, firing, bias);
                    compare.append_set_bits(spikes, (first + group * MASK_BITS) as u32, fired);
                }
                let fired = bitmask::fire_and_add(sum_tail, firing, bias_tail);
                compare.append_set_bits(spikes, tail_first, fired);
            } else {
                let v_row = &mut scratch.v[first..][..w * channels];
                let (v_groups, v_tail) = v_row.as_chunks_mut::<MASK_BITS>();
                let groups = v_groups.iter_mut().zip(sum_groups).zip(bias_groups);
                for (group, ((v, currents), bias)) in groups.enumerate() {
                    let fired = step_group(compare, rule, dynamics, (v, currents), bias);
                    compare.append_set_bits(spikes, (first + group * MASK_BITS) as u32, fired);
                }
                let fired = step_tail(rule, dynamics, (v_tail, sum_tail), bias_tail);
                compare.append_set_bits(spikes, tail_first, fired);
            }
        }
    }
    add_rows(&net.fc_weight, net.classes, &scratch.spikes, scores);
    let steps = steps as f32;
    for (score, &bias) in scores.iter_mut().zip(&net.fc_bias) {
        *score = *score / steps + bias;
    }
    Counts {
        spikes: scratch.spikes.len() as u64,
        input_events,
    }
}

/// Scatters the non-zero values of input row `y` of one channel (`kernel`, its
/// `[3, 3, channels]` weights) into the padded sums; returns how many there were. The
/// non-zero values are found [`MASK_BITS`] at a time through a bit mask, so that the zeros
/// cost no branch of their own. (Loops, not iterator adaptors: their methods would be
/// functions of their own, compiled without the calling clone's features.)
#[inline(always)]
fn scatter_input_row(
    compare: impl Compare32,
    row: &[f32],
    y: usize,
    kernel: &[f32],
    channels: usize,
    sums: &mut [f32],
) -> u64 {
    let padded_row = (row.len() + 2) * channels;
    let mut events = 0;
    for (chunk, values) in row.chunks(MASK_BITS).enumerate() {
        let mut mask = non_zero_mask(compare, values);
        while mask != 0 {
            let l = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            events += 1;
            let x = chunk * MASK_BITS + l;
            // Kernel row kh takes input row y to output row y + 1 − kh, padded row
            // y + 2 − kh; its three taps to padded columns x, x + 1, x + 2.
            for (kh, taps) in kernel.chunks_exact(3 * channels).enumerate() {
                let start = (y + 2 - kh) * padded_row + x * channels;
                scatter_row(&mut sums[start..][..3 * channels], taps, values[l]);
            }
        }
    }
    events
}

/// `scores` = the sum of the Linear weight rows of the `spikes` (neuron indices, in the
/// order they fired). Up to [`SCORE_LANES`] classes, the sums stay in registers: each row
/// is read as [`SCORE_LANES`] values (the lanes past `classes` belong to the next rows or to
/// the weight's padding, and are dropped), so no sum waits for the previous one's store.
#[inline(always)]
fn add_rows(fc_weight: &[f32], classes: usize, spikes: &[u32], scores: &mut [f32]) {
    if classes <= SCORE_LANES {
        let mut sums = [0.0f32; SCORE_LANES];
        for neuron in spikes.iter().map(|&n| n as usize) {
            let row: &[f32; SCORE_LANES] = fc_weight[neuron * classes..][..SCORE_LANES]
                .try_into()
                .expect("the weight is padded by SCORE_LANES values");
            sums.iter_mut().zip(row).for_each(|(s, &k)| *s += k);
        }
        scores
            .iter_mut()
            .zip(sums)
            .for_each(|(score, sum)| *score = sum);
    } else {
        scores.fill(0.0);
        for neuron in spikes.iter().map(|&n| n as usize) {
            let row = &fc_weight[neuron * classes..][..classes];
            scores.iter_mut().zip(row).for_each(|(s, &k)| *s += k);
        }
    }
}

/// Classes whose scores [`add_rows`] keeps in one register-sized array.
const SCORE_LANES: usize = 16;

/// One step of [`MASK_BITS`] neurons: their spikes as a bit mask (from two vector
/// compares), the currents back to `bias` for the next frame. Whole arrays that do not
/// alias: the loop vectorises.
#[inline(always)]
fn step_group<R: ChargeRule>(
    compare: impl Compare32,
    rule: R,
    dynamics: Dynamics,
    (v, currents): (&mut [f32; MASK_BITS], &mut [f32; MASK_BITS]),
    bias: &[f32; MASK_BITS],
) -> u32 {
    let mut charged = [0.0f32; MASK_BITS];
    for j in 0..MASK_BITS {
        charged[j] = rule.charge(v[j], currents[j]);
        v[j] = dynamics.fire_and_reset(charged[j]).1;
        currents[j] = bias[j];
    }
    compare.at_least(&charged, dynamics.v_threshold)
}

/// [`step_group`] for the fewer than [`MASK_BITS`] neurons at the end of a row.
#[inline(always)]
fn step_tail<R: ChargeRule>(
    rule: R,
    dynamics: Dynamics,
    (v, currents): (&mut [f32], &mut [f32]),
    bias: &[f32],
) -> u32 {
    let mut fired = 0u32;
    for (j, ((v, current), &bias)) in v.iter_mut().zip(currents).zip(bias).enumerate() {
        let (spike, next) = dynamics.fire_and_reset(rule.charge(*v, *current));
        *v = next;
        *current = bias;
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

/// Bit `l` set where `values[l]` (up to [`MASK_BITS`] values) is not zero.
#[inline(always)]
fn non_zero_mask(compare: impl Compare32, values: &[f32]) -> u32 {
    match <&[f32; MASK_BITS]>::try_from(values) {
        Ok(full) => compare.non_zero(full),
        Err(_) => {
            let mut full = [0.0; MASK_BITS];
            full[..values.len()].copy_from_slice(values);
            bitmask::Portable.non_zero(&full)
        }
    }
}
