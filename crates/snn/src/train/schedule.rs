//! Learning-rate schedules, stepped once per epoch as SpikingJelly's examples step PyTorch's
//! schedulers: constant, cosine annealing (`CosineAnnealingLR`) and step decay (`StepLR`).

use serde::{Deserialize, Serialize};

/// How the learning rate changes from epoch to epoch.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum Schedule {
    /// The optimiser's learning rate throughout.
    #[default]
    Constant,
    /// `lr_e = min_lr + (lr − min_lr)·(1 + cos(π·e / t_max))/2` for 0-based epoch `e`.
    Cosine {
        /// Epochs of one half cosine (PyTorch's `T_max`; usually the number of epochs).
        t_max: usize,
        /// The floor (PyTorch's `eta_min`).
        min_lr: f64,
    },
    /// `lr_e = lr·gamma^⌊e / step⌋`.
    Step {
        /// Epochs between decays.
        step: usize,
        /// The factor of each decay.
        gamma: f64,
    },
}

impl Schedule {
    /// The learning rate of 0-based `epoch`, from the optimiser's `lr`.
    pub fn lr(self, lr: f64, epoch: usize) -> f64 {
        match self {
            Schedule::Constant => lr,
            Schedule::Cosine { t_max, min_lr } => {
                // lr − (lr − min_lr)·(1 − cos)/2: exactly `lr` at epoch 0.
                let phase = std::f64::consts::PI * epoch as f64 / t_max as f64;
                lr - (lr - min_lr) * (1.0 - phase.cos()) / 2.0
            }
            Schedule::Step { step, gamma } => lr * gamma.powi((epoch / step) as i32),
        }
    }

    /// Checks the settings.
    pub fn validate(self) -> Result<(), String> {
        match self {
            Schedule::Constant => Ok(()),
            Schedule::Cosine { t_max, min_lr } => {
                if t_max == 0 || !(min_lr.is_finite() && min_lr >= 0.0) {
                    return Err(format!(
                        "a cosine schedule needs t_max ≥ 1 and a finite min_lr ≥ 0, got \
                         t_max {t_max}, min_lr {min_lr}"
                    ));
                }
                Ok(())
            }
            Schedule::Step { step, gamma } => {
                if step == 0 || !(gamma.is_finite() && gamma > 0.0) {
                    return Err(format!(
                        "a step schedule needs step ≥ 1 and a finite gamma > 0, got step \
                         {step}, gamma {gamma}"
                    ));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_goes_from_lr_to_the_floor_over_t_max_epochs() {
        let cosine = Schedule::Cosine {
            t_max: 10,
            min_lr: 0.001,
        };
        assert_eq!(cosine.lr(0.1, 0), 0.1);
        assert!((cosine.lr(0.1, 5) - 0.0505).abs() < 1e-12);
        assert!((cosine.lr(0.1, 10) - 0.001).abs() < 1e-12);
    }

    #[test]
    fn step_decays_every_step_epochs() {
        let step = Schedule::Step {
            step: 3,
            gamma: 0.5,
        };
        let lrs: Vec<f64> = (0..7).map(|e| step.lr(0.08, e)).collect();
        assert_eq!(lrs, [0.08, 0.08, 0.08, 0.04, 0.04, 0.04, 0.02]);
        assert!(
            Schedule::Step {
                step: 0,
                gamma: 0.5
            }
            .validate()
            .is_err()
        );
        assert!(
            Schedule::Cosine {
                t_max: 0,
                min_lr: 0.0
            }
            .validate()
            .is_err()
        );
    }
}
