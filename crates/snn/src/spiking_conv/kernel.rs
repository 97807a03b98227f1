//! CPU kernels of the convolution fused with a spiking layer and its mean over time.
//!
//! Work is one rayon task per sample. A task copies the sample's `T` frames once into a
//! zero-bordered buffer, then for each output channel runs the convolution plane by plane
//! and the neuron over the steps, keeping one plane of membrane state and one of currents
//! (4 KiB each at 32×32) in L1: the `[T, N, C, h, w]` currents and spikes never exist in
//! memory. The backward pass recomputes a channel's currents and charged potentials `H`
//! (`T` planes, 32 KiB at the seed shape), runs the BPTT recursion over them in place, and
//! sums the weight gradient from the same cache-resident planes. Per-sample weight-gradient
//! sums are added in `f64` in sample order, so results do not depend on the thread count.

use multiversion::multiversion;
use rayon::prelude::*;

use crate::conv::kernel::{Dims, TapSums, output_plane, pad, weight_and_bias};
use crate::neuron::dynamics::{ChargeRule, Dynamics, with_charge_rule};
use crate::surrogate::with_derivative;

/// The sizes of one call: `steps` frames of a convolution of `dims` (`dims.n` samples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Time steps T.
    pub steps: usize,
    /// The convolution of one step.
    pub dims: Dims,
}

impl Layout {
    /// Elements of one sample's zero-bordered frames `[T, ci, h+2, w+2]`.
    fn padded_sample(&self) -> usize {
        self.steps * self.padded_frame()
    }

    fn padded_frame(&self) -> usize {
        self.dims.ci * self.dims.padded_plane()
    }

    fn taps(&self) -> usize {
        self.dims.ci * 9
    }

    /// Copies all steps of sample `n` of `x` (`[T, N, ci, h, w]`) into the interiors of
    /// `padded`, whose borders are zero.
    fn pad_sample(&self, x: &[f32], n: usize, padded: &mut [f32]) {
        let frame = self.dims.ci * self.dims.plane();
        for (t, padded) in padded.chunks_exact_mut(self.padded_frame()).enumerate() {
            pad(
                &x[(t * self.dims.n + n) * frame..][..frame],
                self.dims,
                padded,
            );
        }
    }
}

/// `rates[n, o] = mean_t S[t, n, o]` where `S` are the spikes of the neuron layer
/// `dynamics` (from its rest state) driven by `conv3x3(x[t], weight, bias)`. `x` is
/// `[T, N, ci, h, w]`, `rates` `[N, co, h, w]`.
pub fn forward(
    dynamics: &Dynamics,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    layout: Layout,
    rates: &mut [f32],
) {
    let d = layout.dims;
    assert_eq!(x.len(), layout.steps * d.n * d.ci * d.plane());
    assert_eq!(weight.len(), d.co * layout.taps());
    assert_eq!(bias.len(), d.co);
    assert_eq!(rates.len(), d.n * d.co * d.plane());
    with_charge_rule!(dynamics, rule => {
        rates.par_chunks_mut(d.co * d.plane()).enumerate().for_each_init(
            || (vec![0.0f32; layout.padded_sample()], vec![0.0f32; 2 * d.plane()]),
            |(padded, scratch), (n, rates)| {
                layout.pad_sample(x, n, padded);
                forward_sample(rule, *dynamics, padded, (weight, bias), layout, scratch, rates);
            },
        )
    })
}

/// One sample: per output channel, the currents of each step into `scratch` and the neuron
/// over them; spike counts into `rates`, divided by T at the end. `rule` and `dynamics`
/// arrive by value so that the loops see them as constants.
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn forward_sample<R: ChargeRule>(
    rule: R,
    dynamics: Dynamics,
    padded: &[f32],
    (weight, bias): (&[f32], &[f32]),
    layout: Layout,
    scratch: &mut [f32],
    rates: &mut [f32],
) {
    let d = layout.dims;
    let taps = layout.taps();
    let (v, current) = scratch.split_at_mut(d.plane());
    for (o, counts) in rates.chunks_exact_mut(d.plane()).enumerate() {
        v.fill(dynamics.rest());
        counts.fill(0.0);
        for frame in padded.chunks_exact(layout.padded_frame()) {
            output_plane(frame, &weight[o * taps..][..taps], bias[o], d, current);
            for ((v, &x), count) in v.iter_mut().zip(current.iter()).zip(counts.iter_mut()) {
                let (spike, next) = dynamics.fire_and_reset(rule.charge(*v, x));
                *v = next;
                *count += spike;
            }
        }
        let steps = layout.steps as f32;
        counts.iter_mut().for_each(|count| *count /= steps);
    }
}

/// Gradients of [`backward`].
pub struct Gradients {
    /// `∂L/∂weight`, `[co, ci, 3, 3]`.
    pub weight: Vec<f32>,
    /// `∂L/∂bias`, `[co]`.
    pub bias: Vec<f32>,
}

/// The backward pass of [`forward`] from `grad_rates` (`[N, co, h, w]`): the weight and bias
/// gradients, and, when `grad_currents` is given (`[T, N, co, h, w]`), the gradient of the
/// convolution's output, from which the caller can get the input's.
pub fn backward(
    dynamics: &Dynamics,
    x: &[f32],
    (weight, bias): (&[f32], &[f32]),
    grad_rates: &[f32],
    layout: Layout,
    grad_currents: Option<&mut [f32]>,
) -> Gradients {
    let d = layout.dims;
    assert_eq!(x.len(), layout.steps * d.n * d.ci * d.plane());
    assert_eq!(grad_rates.len(), d.n * d.co * d.plane());
    let sample_out = d.co * d.plane();
    // The currents' gradient of sample n is the `n`-th `[co, h, w]` piece of every step.
    let mut per_sample: Vec<Vec<&mut [f32]>> = (0..d.n).map(|_| Vec::new()).collect();
    if let Some(grad_currents) = grad_currents {
        assert_eq!(grad_currents.len(), layout.steps * d.n * sample_out);
        for (index, piece) in grad_currents.chunks_exact_mut(sample_out).enumerate() {
            per_sample[index % d.n].push(piece);
        }
    }
    let weight_len = d.co * layout.taps();
    let partials: Vec<Vec<f64>> = with_charge_rule!(dynamics, rule => {
        with_derivative!(dynamics.surrogate, slope => {
            grad_rates
                .par_chunks(sample_out)
                .zip(per_sample)
                .enumerate()
                .map_init(
                    || {
                        let padded = vec![0.0f32; layout.padded_sample()];
                        let scratch = vec![0.0f32; (layout.steps + 1) * d.plane()];
                        (padded, scratch, TapSums::new(d.ci))
                    },
                    |(padded, scratch, tap_sums), (n, (grad_rates, mut grad_currents))| {
                        layout.pad_sample(x, n, padded);
                        let mut sums = vec![0.0f64; weight_len + d.co];
                        backward_sample(
                            rule,
                            &slope,
                            *dynamics,
                            padded,
                            (weight, bias),
                            grad_rates,
                            layout,
                            (scratch, tap_sums),
                            &mut sums,
                            &mut grad_currents,
                        );
                        sums
                    },
                )
                .collect()
        })
    });
    let (weight, bias) = weight_and_bias(&partials, weight_len);
    Gradients { weight, bias }
}

/// One sample's backward pass: per output channel, recompute `H` for all steps, run the
/// closed-form BPTT recursion backwards over it in place (`H[t]` becomes `∂L/∂X[t]`), and
/// add each step's taps and bias sums into `sums` (`[co·ci·9 + co]`).
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)] // the monomorphised rules, the inputs, the buffers, the outputs
fn backward_sample<R: ChargeRule, F: Fn(f32) -> f32>(
    rule: R,
    slope_of: &F,
    dynamics: Dynamics,
    padded: &[f32],
    (weight, bias): (&[f32], &[f32]),
    grad_rates: &[f32],
    layout: Layout,
    (scratch, tap_sums): (&mut [f32], &mut TapSums),
    sums: &mut [f64],
    grad_currents: &mut [&mut [f32]],
) {
    let d = layout.dims;
    let (plane, taps, frame) = (d.plane(), layout.taps(), layout.padded_frame());
    let steps = layout.steps as f32;
    let (charged, carry) = scratch.split_at_mut(layout.steps * plane);
    for (o, grad_rate) in grad_rates.chunks_exact(plane).enumerate() {
        // H[t] for every step, with `carry` holding V meanwhile.
        carry.fill(dynamics.rest());
        for (h_row, frame) in charged
            .chunks_exact_mut(plane)
            .zip(padded.chunks_exact(frame))
        {
            output_plane(frame, &weight[o * taps..][..taps], bias[o], d, h_row);
            charge_row(rule, dynamics, h_row, carry);
        }
        carry.fill(0.0);
        tap_sums.clear();
        for t in (0..layout.steps).rev() {
            let row = &mut charged[t * plane..][..plane];
            bptt_row(rule, slope_of, dynamics, row, carry, grad_rate, steps);
            tap_sums.add(&padded[t * frame..][..frame], row, d);
            if let Some(out) = grad_currents.get_mut(t) {
                out[o * plane..][..plane].copy_from_slice(row);
            }
        }
        tap_sums.fold_into(&mut sums[o * taps..][..taps]);
        sums[d.co * taps + o] += tap_sums.bias_total();
    }
}

/// `H = charge(V, X)` in place of the currents `row`, and `V` (in `v`) on to after the
/// step. Its own function so that its slices are known not to alias anything: the loop
/// vectorises.
#[inline(always)]
fn charge_row<R: ChargeRule>(rule: R, dynamics: Dynamics, row: &mut [f32], v: &mut [f32]) {
    for (v, h) in v.iter_mut().zip(row.iter_mut()) {
        *h = rule.charge(*v, *h);
        *v = dynamics.fire_and_reset(*h).1;
    }
}

/// One step of the BPTT recursion, backwards: `row` holds `H[t]` and becomes `∂L/∂X[t]`;
/// `carry` holds `∂L/∂V[t]` from the later steps and becomes `∂L/∂V[t-1]`. The spikes'
/// gradient is the rates' gradient over T, the same at every step.
#[inline(always)]
fn bptt_row<R: ChargeRule, F: Fn(f32) -> f32>(
    rule: R,
    slope_of: &F,
    dynamics: Dynamics,
    row: &mut [f32],
    carry: &mut [f32],
    grad_rate: &[f32],
    steps: f32,
) {
    let theta = dynamics.v_threshold;
    let len = row.len();
    let (carry, grad_rate) = (&mut carry[..len], &grad_rate[..len]);
    for j in 0..len {
        let h = row[j];
        let slope = slope_of(h - theta);
        let reset = dynamics.reset_derivative(h, slope);
        let grad_h = grad_rate[j] / steps * slope + carry[j] * reset;
        let (grad_x, grad_v) = rule.split_gradient(grad_h);
        row[j] = grad_x;
        carry[j] = grad_v;
    }
}
