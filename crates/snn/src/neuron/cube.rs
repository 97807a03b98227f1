//! The fused multi-step neuron kernels for GPUs, written in CubeCL: burn's CubeCL backend
//! compiles them for whichever runtime the tensors live on (CUDA, or Vulkan/Metal through
//! wgpu).
//!
//! One launch runs all `T` steps of a layer; one thread owns one neuron and keeps its membrane
//! potential in a register. The equations are the CPU kernels' ([`super::dynamics`]), in the
//! same operation order: the charge rule, the reset and the surrogate are compile-time
//! choices (one kernel per combination), the numbers they use are launch arguments.
//!
//! The backward pass keeps nothing from the forward pass but its inputs `X` and `V[-1]`: each
//! thread recomputes its neuron's `H[t]` into its own column of the `∂L/∂X` buffer, then runs
//! the BPTT recursion backwards in time, overwriting `H[t]` with `∂L/∂X[t]` (the spikes
//! `Θ(H − θ)` and PLIF's `V[t-1]` follow from `H`). So the backward needs no memory beyond its
//! outputs.
//!
//! No fused multiply-add: CubeCL's optimiser rewrites every `a·b + c` whose product has no
//! other use into one FMA (rounding once), before NVRTC or a Vulkan driver, which may contract
//! too, sees the kernel. The CPU kernels and SpikingJelly round the product first, and a
//! potential one ulp off can flip a spike. So every product that meets a sum goes through
//! [`product`], which multiplies it by `one`, a launch argument equal to 1 that no compiler
//! can see through: what may still be fused is `FMA(a·b, one, c) = round(round(a·b) + c)`,
//! the two-rounding result.

use burn::backend::Cube;
use burn::backend::DType;
use burn::backend::ops::{ActivationOps, FloatTensorOps};
use burn::tensor::Shape;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::tensor::CubeTensor;

use super::dynamics::{Charge, Dynamics};
use super::fused::{InputGradients, Layer, NeuronKernels, Saved};
use crate::surrogate::Surrogate;

/// Threads per cube (work group).
const CUBE_SIZE: u32 = 256;

/// Charge rules, as compile-time codes.
const CHARGE_IF: u32 = 0;
const CHARGE_LIF: u32 = 1;
const CHARGE_LIF_NO_DECAY_INPUT: u32 = 2;
const CHARGE_PLIF: u32 = 3;
const CHARGE_PLIF_NO_DECAY_INPUT: u32 = 4;

/// Surrogate derivatives, as compile-time codes.
const SURROGATE_SIGMOID: u32 = 0;
const SURROGATE_ATAN: u32 = 1;
const SURROGATE_PIECEWISE_QUADRATIC: u32 = 2;
const SURROGATE_PIECEWISE_EXP: u32 = 3;
const SURROGATE_SOFT_SIGN: u32 = 4;
const SURROGATE_SUPER_SPIKE: u32 = 5;
const SURROGATE_ERF: u32 = 6;
const SURROGATE_PIECEWISE_LEAKY_RELU: u32 = 7;

/// Which potentials follow the spikes, as compile-time codes (also the upstream gradient's).
const V_NONE: u32 = 0;
const V_LAST: u32 = 1;
const V_SEQUENCE: u32 = 2;

/// The compile-time half of a layer's equations: which charge rule, reset and surrogate, and
/// which potentials the output (and so its gradient) carries. Each value is its own kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Rule {
    charge: u32,
    hard_reset: bool,
    detach_reset: bool,
    surrogate: u32,
    v_output: u32,
}

/// The run-time half: the numbers the equations use.
#[derive(Debug, Clone, Copy)]
struct Numbers {
    v_threshold: f32,
    /// `V_r` (hard reset) or 0 (soft reset): where the leak pulls towards.
    rest: f32,
    /// LIF's τ (unused by IF and PLIF, whose `k` arrives as a tensor).
    tau: f32,
    /// The surrogate's constants, as [`surrogate_slope`] reads them.
    surrogate: [f32; 3],
}

/// A layer's equations as the kernels take them: the compile-time [`Rule`] (with the output
/// code `v_output`) and the run-time [`Numbers`].
fn equations(dynamics: &Dynamics, v_output: u32) -> (Rule, Numbers) {
    let (charge, tau) = match dynamics.charge {
        Charge::If => (CHARGE_IF, 1.0),
        Charge::Lif {
            tau,
            decay_input: true,
        } => (CHARGE_LIF, tau),
        Charge::Lif {
            tau,
            decay_input: false,
        } => (CHARGE_LIF_NO_DECAY_INPUT, tau),
        Charge::Plif {
            decay_input: true, ..
        } => (CHARGE_PLIF, 1.0),
        Charge::Plif {
            decay_input: false, ..
        } => (CHARGE_PLIF_NO_DECAY_INPUT, 1.0),
    };
    let (surrogate, constants) = surrogate_code(&dynamics.surrogate);
    let rule = Rule {
        charge,
        hard_reset: dynamics.v_reset.is_some(),
        detach_reset: dynamics.detach_reset,
        surrogate,
        v_output,
    };
    let numbers = Numbers {
        v_threshold: dynamics.v_threshold,
        rest: dynamics.rest(),
        tau,
        surrogate: constants,
    };
    (rule, numbers)
}

/// A surrogate's code and its constants, pre-computed in `f32` exactly as the CPU derivatives
/// compute them (`surrogate::derivatives`), so that the kernel repeats their operations.
fn surrogate_code(surrogate: &Surrogate) -> (u32, [f32; 3]) {
    use std::f32::consts::PI;
    match *surrogate {
        Surrogate::Sigmoid { alpha } => (SURROGATE_SIGMOID, [alpha, 0.0, 0.0]),
        Surrogate::ATan { alpha } => (SURROGATE_ATAN, [alpha / 2.0, PI / 2.0 * alpha, 0.0]),
        Surrogate::PiecewiseQuadratic { alpha } => (
            SURROGATE_PIECEWISE_QUADRATIC,
            [alpha, 1.0 / alpha, alpha * alpha],
        ),
        Surrogate::PiecewiseExp { alpha } => (SURROGATE_PIECEWISE_EXP, [alpha / 2.0, alpha, 0.0]),
        Surrogate::SoftSign { alpha } => (SURROGATE_SOFT_SIGN, [1.0 / alpha, 2.0 * alpha, 0.0]),
        Surrogate::SuperSpike { alpha } => (SURROGATE_SUPER_SPIKE, [alpha, 0.0, 0.0]),
        Surrogate::Erf { alpha } => (SURROGATE_ERF, [alpha / PI.sqrt(), alpha, 0.0]),
        Surrogate::PiecewiseLeakyReLU { w, c } => {
            (SURROGATE_PIECEWISE_LEAKY_RELU, [w, 1.0 / (2.0 * w), c])
        }
    }
}

/// `a · b` rounded to `f32` before it meets a sum, whatever the compilers fuse; `one` is the
/// launch argument 1 (see the module's documentation).
#[cube]
fn product(a: f32, b: f32, one: f32) -> f32 {
    a * b * one
}

/// `H[t]` from `V[t-1]` and `X[t]` (the charge equation of `rule`).
#[cube]
fn charge(v: f32, x: f32, tau: f32, k: f32, rest: f32, one: f32, #[comptime] rule: u32) -> f32 {
    let mut h = v + x;
    if comptime![rule == CHARGE_LIF] {
        h = v + (x - (v - rest)) / tau;
    }
    if comptime![rule == CHARGE_LIF_NO_DECAY_INPUT] {
        h = v - (v - rest) / tau + x;
    }
    if comptime![rule == CHARGE_PLIF] {
        h = v + product(x - (v - rest), k, one);
    }
    if comptime![rule == CHARGE_PLIF_NO_DECAY_INPUT] {
        h = v - product(v - rest, k, one) + x;
    }
    h
}

/// `V[t]` from `H[t]`: `V_r` (hard) or `H − θ` (soft) where it fired, `H` elsewhere.
#[cube]
fn reset(h: f32, v_threshold: f32, rest: f32, #[comptime] hard_reset: bool) -> f32 {
    let mut after_spike = h - v_threshold;
    if comptime![hard_reset] {
        after_spike = rest;
    }
    select(h >= v_threshold, after_spike, h)
}

/// `σ'(x)` of the surrogate `kind`, with the constants of [`surrogate_code`].
#[cube]
fn surrogate_slope(x: f32, c0: f32, c1: f32, c2: f32, one: f32, #[comptime] kind: u32) -> f32 {
    let mut slope = 0.0f32;
    if comptime![kind == SURROGATE_SIGMOID] {
        let s = 1.0f32 / (1.0f32 + f32::exp(-c0 * x));
        slope = (1.0f32 - s) * s * c0;
    }
    if comptime![kind == SURROGATE_ATAN] {
        let z = x * c1;
        slope = c0 / (1.0f32 + product(z, z, one));
    }
    if comptime![kind == SURROGATE_PIECEWISE_QUADRATIC] {
        let inside = f32::max(c0 - product(c2, f32::abs(x), one), 0.0f32);
        slope = select(f32::abs(x) > c1, 0.0f32, inside);
    }
    if comptime![kind == SURROGATE_PIECEWISE_EXP] {
        slope = c0 * f32::exp(-c1 * f32::abs(x));
    }
    if comptime![kind == SURROGATE_SOFT_SIGN] {
        let z = c0 + f32::abs(x);
        slope = 1.0f32 / (c1 * z * z);
    }
    if comptime![kind == SURROGATE_SUPER_SPIKE] {
        let z = 1.0f32 + f32::abs(x);
        slope = c0 / (z * z);
    }
    if comptime![kind == SURROGATE_ERF] {
        let z = c1 * x;
        slope = c0 * f32::exp(-z * z);
    }
    if comptime![kind == SURROGATE_PIECEWISE_LEAKY_RELU] {
        slope = select(f32::abs(x) < c0, c1, c2);
    }
    slope
}

/// All steps of one neuron per thread: writes `[S; V]` into `out` (`V` as `v_output` says).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
fn forward_kernel(
    x: &[f32],
    v0: &[f32],
    k: &[f32],
    out: &mut [f32],
    neurons: usize,
    steps: usize,
    one: f32,
    v_threshold: f32,
    rest: f32,
    tau: f32,
    #[comptime] rule: Rule,
) {
    let charge_rule = comptime![rule.charge];
    let hard_reset = comptime![rule.hard_reset];
    let v_output = comptime![rule.v_output];
    let i = ABSOLUTE_POS;
    if i >= neurons {
        terminate!();
    }
    let leak = k[0];
    let mut v = v0[i];
    for t in 0..steps {
        let h = charge(v, x[t * neurons + i], tau, leak, rest, one, charge_rule);
        out[t * neurons + i] = select(h >= v_threshold, 1.0f32, 0.0f32);
        v = reset(h, v_threshold, rest, hard_reset);
        if comptime![v_output == V_SEQUENCE] {
            out[(steps + t) * neurons + i] = v;
        }
    }
    if comptime![v_output == V_LAST] {
        out[steps * neurons + i] = v;
    }
}

/// SpikingJelly's closed-form BPTT recursion for one neuron per thread. `grad_x` first holds
/// the recomputed `H`, then, step by step from the last, `∂L/∂X`. `grad_k` gets the neuron's
/// `Σ_t ∂L/∂H[t]·∂H[t]/∂k` (PLIF only).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
fn backward_kernel(
    x: &[f32],
    v0: &[f32],
    k: &[f32],
    grad_out: &[f32],
    grad_x: &mut [f32],
    grad_v0: &mut [f32],
    grad_k: &mut [f32],
    neurons: usize,
    steps: usize,
    one: f32,
    v_threshold: f32,
    rest: f32,
    tau: f32,
    c0: f32,
    c1: f32,
    c2: f32,
    #[comptime] rule: Rule,
) {
    let charge_rule = comptime![rule.charge];
    let hard_reset = comptime![rule.hard_reset];
    let detach_reset = comptime![rule.detach_reset];
    let surrogate = comptime![rule.surrogate];
    let v_output = comptime![rule.v_output];
    let parametric =
        comptime![charge_rule == CHARGE_PLIF || charge_rule == CHARGE_PLIF_NO_DECAY_INPUT];
    let i = ABSOLUTE_POS;
    if i >= neurons {
        terminate!();
    }
    let leak = k[0];
    let mut v = v0[i];
    for t in 0..steps {
        let h = charge(v, x[t * neurons + i], tau, leak, rest, one, charge_rule);
        grad_x[t * neurons + i] = h;
        v = reset(h, v_threshold, rest, hard_reset);
    }

    let mut carry = 0.0f32;
    let mut sum_k = 0.0f32;
    for back in 0..steps {
        let t = steps - 1 - back;
        let at = t * neurons + i;
        let h = grad_x[at];
        let slope = surrogate_slope(h - v_threshold, c0, c1, c2, one, surrogate);
        let mut through_spike = slope;
        if comptime![detach_reset] {
            through_spike = 0.0f32;
        }
        let mut reset_derivative = 1.0f32 - product(v_threshold, through_spike, one);
        if comptime![hard_reset] {
            let kept = select(h >= v_threshold, 0.0f32, 1.0f32);
            reset_derivative = kept + product(rest - h, through_spike, one);
        }
        let mut external = 0.0f32;
        if comptime![v_output == V_SEQUENCE] {
            external = grad_out[(steps + t) * neurons + i];
        }
        if comptime![v_output == V_LAST] {
            // The last step's row exists whatever `t`: read it, keep it at the last step only.
            external = select(t == steps - 1, grad_out[steps * neurons + i], 0.0f32);
        }
        let grad_h =
            product(grad_out[at], slope, one) + product(external + carry, reset_derivative, one);

        // Split ∂L/∂H into ∂L/∂X and ∂L/∂V[t-1], as `ChargeRule::split_gradient`.
        let mut gx = grad_h;
        let mut gv = grad_h;
        if comptime![charge_rule == CHARGE_LIF] {
            gx = grad_h / tau;
            gv = grad_h - gx;
        }
        if comptime![charge_rule == CHARGE_LIF_NO_DECAY_INPUT] {
            gv = grad_h - grad_h / tau;
        }
        if comptime![charge_rule == CHARGE_PLIF] {
            gx = product(grad_h, leak, one);
            gv = grad_h - gx;
        }
        if comptime![charge_rule == CHARGE_PLIF_NO_DECAY_INPUT] {
            gv = grad_h - product(grad_h, leak, one);
        }
        if comptime![parametric] {
            let mut v_prev = v0[i];
            if t > 0 {
                v_prev = reset(grad_x[at - neurons], v_threshold, rest, hard_reset);
            }
            let mut k_derivative = -(v_prev - rest);
            if comptime![charge_rule == CHARGE_PLIF] {
                k_derivative = x[at] - (v_prev - rest);
            }
            sum_k += product(grad_h, k_derivative, one);
        }
        grad_x[at] = gx;
        carry = gv;
    }
    grad_v0[i] = carry;
    if comptime![parametric] {
        grad_k[i] = sum_k;
    }
}

/// The `v_output` code of a layer. One step's sequence is its last step: the same layout.
fn v_output_code(layer: &Layer) -> u32 {
    match layer.steps_v {
        0 => V_NONE,
        rows if rows == layer.steps && rows > 1 => V_SEQUENCE,
        _ => V_LAST,
    }
}

/// What one launch of either kernel needs besides its buffers: the equations, split into
/// the compile-time [`Rule`] and the run-time [`Numbers`], and the grid of one thread per
/// neuron, [`CUBE_SIZE`] per cube.
struct Launch {
    client: Client,
    count: CubeCount,
    dim: CubeDim,
    rule: Rule,
    numbers: Numbers,
}

impl Launch {
    fn new(layer: &Layer, on: &CubeTensor) -> Self {
        let dim = CubeDim::new_1d(CUBE_SIZE);
        let (rule, numbers) = equations(&layer.dynamics, v_output_code(layer));
        Self {
            client: on.client.clone(),
            count: cubecl::calculate_cube_count_elemwise(&on.client, layer.neurons, dim),
            dim,
            rule,
            numbers,
        }
    }
}

/// The leak tensor the kernels read: PLIF's `k = sigmoid(w)` (burn's sigmoid on the device,
/// the very bits the reference composition uses; no read back to the host), else `w` itself
/// (unused).
fn leak_tensor(layer: &Layer, w: CubeTensor) -> CubeTensor {
    match layer.dynamics.charge {
        Charge::Plif { .. } => into_contiguous(Cube::sigmoid(w)),
        _ => into_contiguous(w),
    }
}

/// A new contiguous `f32` tensor on `like`'s device.
fn empty_like(like: &CubeTensor, shape: Shape) -> CubeTensor {
    empty_device_contiguous_dtype(like.client.clone(), like.device.clone(), shape, DType::F32)
}

impl NeuronKernels for Cube {
    fn forward(layer: &Layer, x: CubeTensor, v0: CubeTensor, w: CubeTensor) -> CubeTensor {
        let k = leak_tensor(layer, w);
        let (x, v0) = (into_contiguous(x), into_contiguous(v0));
        let out = empty_like(&x, layer.output_shape());
        if layer.neurons == 0 {
            return out;
        }
        let Launch {
            client,
            count,
            dim,
            rule,
            numbers,
        } = Launch::new(layer, &x);
        // SAFETY: every index the kernel reads or writes is below `neurons · (steps +
        // steps_v)` for `out` and `neurons · steps` for `x`, the lengths of the buffers.
        unsafe {
            forward_kernel::launch_unchecked(
                &client,
                count,
                dim,
                x.into_buffer_arg(),
                v0.into_buffer_arg(),
                k.into_buffer_arg(),
                out.clone().into_buffer_arg(),
                layer.neurons,
                layer.steps,
                1.0f32,
                numbers.v_threshold,
                numbers.rest,
                numbers.tau,
                rule,
            )
        };
        out
    }

    fn backward(layer: &Layer, inputs: Saved<Self>, grad_out: CubeTensor) -> InputGradients<Self> {
        let k = leak_tensor(layer, inputs.w);
        let (x, v0, grad_out) = (
            into_contiguous(inputs.x),
            into_contiguous(inputs.v0),
            into_contiguous(grad_out),
        );
        let parametric = matches!(layer.dynamics.charge, Charge::Plif { .. });
        let grad_x = empty_like(&x, layer.x_shape.clone());
        let grad_v0 = empty_like(&x, layer.v0_shape.clone());
        let grad_k = empty_like(&x, Shape::new([if parametric { layer.neurons } else { 1 }]));
        if layer.neurons > 0 {
            let Launch {
                client,
                count,
                dim,
                rule,
                numbers,
            } = Launch::new(layer, &x);
            let [c0, c1, c2] = numbers.surrogate;
            // SAFETY: as in `forward`; `grad_k` has `neurons` elements whenever the kernel
            // writes it (PLIF).
            unsafe {
                backward_kernel::launch_unchecked(
                    &client,
                    count,
                    dim,
                    x.into_buffer_arg(),
                    v0.into_buffer_arg(),
                    k.clone().into_buffer_arg(),
                    grad_out.into_buffer_arg(),
                    grad_x.clone().into_buffer_arg(),
                    grad_v0.clone().into_buffer_arg(),
                    grad_k.clone().into_buffer_arg(),
                    layer.neurons,
                    layer.steps,
                    1.0f32,
                    numbers.v_threshold,
                    numbers.rest,
                    numbers.tau,
                    c0,
                    c1,
                    c2,
                    rule,
                )
            };
        }
        // dL/dw = (Σ dL/dH · dH/dk) · k(1 − k), on the device.
        let grad_w = parametric.then(|| {
            let one_minus_k = Cube::float_add_scalar(Cube::float_neg(k.clone()), 1.0f32.into());
            let sum = Cube::float_reshape(Cube::float_sum(grad_k), Shape::new([1]));
            Cube::float_mul(Cube::float_mul(sum, k), one_minus_k)
        });
        InputGradients {
            x: grad_x,
            v0: grad_v0,
            w: grad_w,
        }
    }
}
