//! The scalar neuron equations (spec §1.2–§1.5), in SpikingJelly 2.0.0's operation order,
//! shared by the fused kernels. One [`Dynamics`] value describes one neuron layer.

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
    #[inline(always)]
    fn rest(&self) -> f32 {
        self.v_reset.unwrap_or(0.0)
    }

    /// The membrane potential before the first step: `V_r` (hard) or 0 (soft).
    pub fn initial_v(&self) -> f32 {
        self.rest()
    }

    /// Charge: `H[t]` from `V[t-1]` and `X[t]`.
    #[inline(always)]
    pub fn charge(&self, v: f32, x: f32) -> f32 {
        let r = self.rest();
        match self.charge {
            Charge::If => v + x,
            Charge::Lif {
                tau,
                decay_input: true,
            } => v + (x - (v - r)) / tau,
            Charge::Lif {
                tau,
                decay_input: false,
            } => v - (v - r) / tau + x,
            Charge::Plif {
                k,
                decay_input: true,
            } => v + (x - (v - r)) * k,
            Charge::Plif {
                k,
                decay_input: false,
            } => v - (v - r) * k + x,
        }
    }

    /// Fire and reset: `(S[t], V[t])` from `H[t]`.
    #[inline(always)]
    pub fn fire_and_reset(&self, h: f32) -> (f32, f32) {
        let fired = h >= self.v_threshold;
        let v = match self.v_reset {
            Some(v_reset) => {
                if fired {
                    v_reset
                } else {
                    h
                }
            }
            None => {
                if fired {
                    h - self.v_threshold
                } else {
                    h
                }
            }
        };
        (if fired { 1.0 } else { 0.0 }, v)
    }

    /// `R[t] = ∂V[t]/∂H[t]`, given `H[t]` and the surrogate slope `d = σ'(H[t] − θ)`.
    #[inline(always)]
    pub fn reset_derivative(&self, h: f32, slope: f32) -> f32 {
        match (self.v_reset, self.detach_reset) {
            (None, true) => 1.0,
            (None, false) => 1.0 - self.v_threshold * slope,
            (Some(v_reset), detach) => {
                let kept = if h >= self.v_threshold { 0.0 } else { 1.0 };
                if detach {
                    kept
                } else {
                    kept + (v_reset - h) * slope
                }
            }
        }
    }

    /// Splits `∂L/∂H[t]` into `(∂L/∂X[t], ∂L/∂V[t-1])` through the charge equation.
    #[inline(always)]
    pub fn split_charge_gradient(&self, grad_h: f32) -> (f32, f32) {
        let (scaled, decay_input) = match self.charge {
            Charge::If => return (grad_h, grad_h),
            Charge::Lif { tau, decay_input } => (grad_h / tau, decay_input),
            Charge::Plif { k, decay_input } => (grad_h * k, decay_input),
        };
        let grad_x = if decay_input { scaled } else { grad_h };
        (grad_x, grad_h - scaled)
    }

    /// `∂H[t]/∂k` for PLIF (0 for IF and LIF): `X − (V − r)` or `−(V − r)`.
    #[inline(always)]
    pub fn charge_k_derivative(&self, v_prev: f32, x: f32) -> f32 {
        let r = self.rest();
        match self.charge {
            Charge::Plif {
                decay_input: true, ..
            } => x - (v_prev - r),
            Charge::Plif {
                decay_input: false, ..
            } => -(v_prev - r),
            Charge::If | Charge::Lif { .. } => 0.0,
        }
    }
}
