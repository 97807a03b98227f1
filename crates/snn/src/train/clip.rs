//! Gradient clipping by the global L2 norm over all parameters, as PyTorch's
//! `clip_grad_norm_` (burn's own clipping is per tensor).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// Scales every gradient of `module` in `grads` by `max_norm / (norm + 1e-6)` when the
/// global norm exceeds `max_norm`; returns the norm before clipping.
pub fn clip_grad_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    struct SumOfSquares<'a> {
        grads: &'a GradientsParams,
        sum: f64,
    }
    impl ModuleVisitor for SumOfSquares<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(grad) = self.grads.get::<D>(param.id) {
                self.sum += f64::from(grad.square().sum().into_scalar::<f32>());
            }
        }
    }
    struct Scale<'a> {
        grads: &'a mut GradientsParams,
        factor: f32,
    }
    impl ModuleVisitor for Scale<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(grad) = self.grads.remove::<D>(param.id) {
                self.grads.register(param.id, grad.mul_scalar(self.factor));
            }
        }
    }
    let mut squares = SumOfSquares { grads, sum: 0.0 };
    module.visit(&mut squares);
    let norm = squares.sum.sqrt();
    let coefficient = max_norm / (norm + 1e-6);
    if coefficient < 1.0 {
        module.visit(&mut Scale {
            grads,
            factor: coefficient as f32,
        });
    }
    norm
}
