//! The scalar neuron equations (charge, fire, reset and their BPTT derivatives), in
//! SpikingJelly 2.0.0's operation order, shared by the fused kernels. One [`Dynamics`] value
//! describes one neuron layer.
//!
//! The charge equation is a type ([`ChargeRule`], one per model and `decay_input`), chosen
//! once per kernel call by [`with_charge_rule!`], so that the kernels' inner loops are
//! branch-free and vectorise. Reset and firing are loop-invariant selects.

use crate::surrogate::Surrogate;

/// How the membrane charges at each step: `H[t] = f(V[t-1], X[t])`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Charge {
    /// `H = V + X`.
    If,
    /// `H = V + (X − (V − r)) / τ` (decay_input) or `H = V − (V − r)/τ + X`.
    Lif { tau: f32, decay_input: bool },
    /// As LIF with `1/τ` replaced by `k = sigmoid(w)`: `H = V + (X − (V − r))·k` or
    /// `H = V − (V − r)·k + X`.
    Plif { k: f32, decay_input: bool },
}

/// Everything one multi-step neuron layer needs, as plain numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dynamics {
    /// The charge equation.
    pub charge: Charge,
    /// Firing threshold θ.
    pub v_threshold: f32,
    /// `Some(V_r)`: hard reset to `V_r`; `None`: soft reset (subtract θ).
    pub v_reset: Option<f32>,
    /// Stop the gradient through the spike in the reset.
    pub detach_reset: bool,
    /// The surrogate whose derivative replaces `Θ'` in the backward pass.
    pub surrogate: Surrogate,
}

impl Dynamics {
    /// The value `r` the membrane leaks towards: `V_r` for hard reset, 0 for soft reset.
    pub fn rest(&self) -> f32 {
        self.v_reset.unwrap_or(0.0)
    }

    /// Fire and reset: `(S[t], V[t])` from `H[t]`, as SpikingJelly: hard `V = V_r` where
    /// it fired, soft `V = H − θ`; `H` where it did not.
    #[inline(always)]
    pub fn fire_and_reset(&self, h: f32) -> (f32, f32) {
        let fired = h >= self.v_threshold;
        let after_spike = match self.v_reset {
            Some(v_reset) => v_reset,
            None => h - self.v_threshold,
        };
        (
            if fired { 1.0 } else { 0.0 },
            if fired { after_spike } else { h },
        )
    }

    /// `R[t] = ∂V[t]/∂H[t]`, given `H[t]` and the surrogate slope `d = σ'(H[t] − θ)`.
    #[inline(always)]
    pub fn reset_derivative(&self, h: f32, slope: f32) -> f32 {
        let through_spike = if self.detach_reset { 0.0 } else { slope };
        match self.v_reset {
            None => 1.0 - self.v_threshold * through_spike,
            Some(v_reset) => {
                let kept = if h >= self.v_threshold { 0.0 } else { 1.0 };
                kept + (v_reset - h) * through_spike
            }
        }
    }
}

/// One charge equation, with the derivatives the backward pass needs.
pub trait ChargeRule: Copy + Send + Sync {
    /// Whether the leak is PLIF's learnable `k`, whose gradient the backward pass sums.
    const PARAMETRIC: bool;

    /// `H[t]` from `V[t-1]` and `X[t]`.
    fn charge(&self, v: f32, x: f32) -> f32;

    /// Splits `∂L/∂H[t]` into `(∂L/∂X[t], ∂L/∂V[t-1])`.
    fn split_gradient(&self, grad_h: f32) -> (f32, f32);

    /// `∂H[t]/∂k` (PLIF only).
    fn k_derivative(&self, _v_prev: f32, _x: f32) -> f32 {
        0.0
    }
}

/// `H = V + X`.
#[derive(Debug, Clone, Copy)]
pub struct IfRule;

/// `H = V + (X − (V − r)) / τ`.
#[derive(Debug, Clone, Copy)]
pub struct LifRule {
    /// τ.
    pub tau: f32,
    /// r.
    pub rest: f32,
}

/// `H = V − (V − r)/τ + X`.
#[derive(Debug, Clone, Copy)]
pub struct LifNoDecayInputRule {
    /// τ.
    pub tau: f32,
    /// r.
    pub rest: f32,
}

/// `H = V + (X − (V − r))·k`.
#[derive(Debug, Clone, Copy)]
pub struct PlifRule {
    /// k = sigmoid(w).
    pub k: f32,
    /// r.
    pub rest: f32,
}

/// `H = V − (V − r)·k + X`.
#[derive(Debug, Clone, Copy)]
pub struct PlifNoDecayInputRule {
    /// k = sigmoid(w).
    pub k: f32,
    /// r.
    pub rest: f32,
}

impl ChargeRule for IfRule {
    const PARAMETRIC: bool = false;
    #[inline(always)]
    fn charge(&self, v: f32, x: f32) -> f32 {
        v + x
    }
    #[inline(always)]
    fn split_gradient(&self, grad_h: f32) -> (f32, f32) {
        (grad_h, grad_h)
    }
}

impl ChargeRule for LifRule {
    const PARAMETRIC: bool = false;
    #[inline(always)]
    fn charge(&self, v: f32, x: f32) -> f32 {
        v + (x - (v - self.rest)) / self.tau
    }
    #[inline(always)]
    fn split_gradient(&self, grad_h: f32) -> (f32, f32) {
        let scaled = grad_h / self.tau;
        (scaled, grad_h - scaled)
    }
}

impl ChargeRule for LifNoDecayInputRule {
    const PARAMETRIC: bool = false;
    #[inline(always)]
    fn charge(&self, v: f32, x: f32) -> f32 {
        v - (v - self.rest) / self.tau + x
    }
    #[inline(always)]
    fn split_gradient(&self, grad_h: f32) -> (f32, f32) {
        (grad_h, grad_h - grad_h / self.tau)
    }
}

impl ChargeRule for PlifRule {
    const PARAMETRIC: bool = true;
    #[inline(always)]
    fn charge(&self, v: f32, x: f32) -> f32 {
        v + (x - (v - self.rest)) * self.k
    }
    #[inline(always)]
    fn split_gradient(&self, grad_h: f32) -> (f32, f32) {
        let scaled = grad_h * self.k;
        (scaled, grad_h - scaled)
    }
    #[inline(always)]
    fn k_derivative(&self, v_prev: f32, x: f32) -> f32 {
        x - (v_prev - self.rest)
    }
}

impl ChargeRule for PlifNoDecayInputRule {
    const PARAMETRIC: bool = true;
    #[inline(always)]
    fn charge(&self, v: f32, x: f32) -> f32 {
        v - (v - self.rest) * self.k + x
    }
    #[inline(always)]
    fn split_gradient(&self, grad_h: f32) -> (f32, f32) {
        (grad_h, grad_h - grad_h * self.k)
    }
    #[inline(always)]
    fn k_derivative(&self, v_prev: f32, _x: f32) -> f32 {
        -(v_prev - self.rest)
    }
}

/// Binds `$rule` to the [`ChargeRule`] of `$dynamics` and evaluates `$body`, once per rule
/// type (so that `$body` is compiled once for each, with no branch on the model inside).
macro_rules! with_charge_rule {
    ($dynamics:expr, $rule:ident => $body:expr) => {{
        use $crate::neuron::dynamics::{
            Charge, IfRule, LifNoDecayInputRule, LifRule, PlifNoDecayInputRule, PlifRule,
        };
        let rest = $dynamics.rest();
        match $dynamics.charge {
            Charge::If => {
                let $rule = IfRule;
                $body
            }
            Charge::Lif {
                tau,
                decay_input: true,
            } => {
                let $rule = LifRule { tau, rest };
                $body
            }
            Charge::Lif {
                tau,
                decay_input: false,
            } => {
                let $rule = LifNoDecayInputRule { tau, rest };
                $body
            }
            Charge::Plif {
                k,
                decay_input: true,
            } => {
                let $rule = PlifRule { k, rest };
                $body
            }
            Charge::Plif {
                k,
                decay_input: false,
            } => {
                let $rule = PlifNoDecayInputRule { k, rest };
                $body
            }
        }
    }};
}
pub(crate) use with_charge_rule;
