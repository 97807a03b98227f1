//! Any stateless per-frame module over every step: SpikingJelly's `SeqToANNContainer` (and
//! its multi-step wrappers) as a burn module. The T·N frames of `[T, N, C, H, W]` go through
//! the module as one batch.

use burn::module::Module;
use burn::tensor::Tensor;

use super::{AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Implementation, MaxPool2d};

/// A module that maps a batch of frames `[B, C, H, W]` to `[B, C', H', W']`, the same for
/// every frame (no state across calls).
pub trait FrameModule {
    /// The module on a batch of frames.
    fn forward_frames(&self, frames: Tensor<4>) -> Tensor<4>;
}

/// `inner` on every step: `[T, N, C, H, W]` → `[T, N, C', H', W']`.
#[derive(Module, Debug)]
pub struct TimeDistributed<M: Module> {
    /// The per-frame module.
    pub inner: M,
}

impl<M: Module + FrameModule> TimeDistributed<M> {
    /// Wraps `inner`.
    pub fn new(inner: M) -> Self {
        Self { inner }
    }

    /// `inner` on all T·N frames at once.
    pub fn forward(&self, x: Tensor<5>) -> Tensor<5> {
        super::per_frame(x, |frames| self.inner.forward_frames(frames))
    }
}

impl FrameModule for burn::nn::conv::Conv2d {
    fn forward_frames(&self, frames: Tensor<4>) -> Tensor<4> {
        self.forward(frames)
    }
}

impl FrameModule for burn::nn::BatchNorm {
    fn forward_frames(&self, frames: Tensor<4>) -> Tensor<4> {
        self.forward(frames)
    }
}

impl FrameModule for burn::nn::pool::MaxPool2d {
    fn forward_frames(&self, frames: Tensor<4>) -> Tensor<4> {
        self.forward(frames)
    }
}

impl FrameModule for burn::nn::pool::AvgPool2d {
    fn forward_frames(&self, frames: Tensor<4>) -> Tensor<4> {
        self.forward(frames)
    }
}

impl FrameModule for burn::nn::Relu {
    fn forward_frames(&self, frames: Tensor<4>) -> Tensor<4> {
        self.forward(frames)
    }
}

impl FrameModule for Conv2d {
    fn forward_frames(&self, frames: Tensor<4>) -> Tensor<4> {
        Conv2d::forward_frames(self, frames, Implementation::Fused)
    }
}

impl FrameModule for BatchNorm2d {
    fn forward_frames(&self, frames: Tensor<4>) -> Tensor<4> {
        BatchNorm2d::forward_frames(self, frames, Implementation::Fused)
    }
}

impl FrameModule for MaxPool2d {
    fn forward_frames(&self, frames: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = frames.dims();
        let out = self.forward(frames.reshape([1, b, c, h, w]), Implementation::Fused);
        let [_, _, c, h, w] = out.dims();
        out.reshape([b, c, h, w])
    }
}

impl FrameModule for AvgPool2d {
    fn forward_frames(&self, frames: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = frames.dims();
        let out = self.forward(frames.reshape([1, b, c, h, w]), Implementation::Fused);
        let [_, _, c, h, w] = out.dims();
        out.reshape([b, c, h, w])
    }
}

impl FrameModule for AdaptiveAvgPool2d {
    fn forward_frames(&self, frames: Tensor<4>) -> Tensor<4> {
        burn::tensor::module::adaptive_avg_pool2d(frames, self.output)
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::{Device, Distribution, Tensor};

    use super::*;
    use crate::nn::PoolConfig;

    /// burn's module, wrapped, gives what the block gives: every step pooled alike.
    #[test]
    fn a_wrapped_module_runs_on_every_step() {
        let device = Device::flex();
        device.seed(3);
        let x = Tensor::<5>::random([3, 2, 4, 6, 6], Distribution::Uniform(0.0, 1.0), &device);
        let wrapped = TimeDistributed::new(MaxPool2dConfig::new([2, 2]).init());
        let block = MaxPool2d {
            window: PoolConfig::new(2),
        };
        let (a, b) = (
            wrapped.forward(x.clone()),
            block.forward(x.clone(), Implementation::Fused),
        );
        assert_eq!(a.dims(), [3, 2, 4, 3, 3]);
        assert_eq!(a.into_data(), b.into_data());
        // Step 1 of the output is the pooling of step 1 alone.
        let step = wrapped
            .inner
            .forward(x.clone().narrow(0, 1, 1).reshape([2, 4, 6, 6]));
        let out = wrapped.forward(Tensor::cat(
            vec![Tensor::zeros([1, 2, 4, 6, 6], &device), x.narrow(0, 1, 1)],
            0,
        ));
        assert_eq!(
            out.narrow(0, 1, 1).reshape([2, 4, 3, 3]).into_data(),
            step.into_data()
        );
    }
}
