//! Parameter initialisation: PyTorch's defaults, drawn from one seeded ChaCha8 stream in
//! layer order, so that a network starts the same on every backend and thread count.

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The random stream and device a network's layers are built with, in order.
pub struct Init {
    rng: ChaCha8Rng,
    device: Device,
}

impl Init {
    /// A stream seeded with `seed`, parameters on `device`.
    pub fn new(seed: u64, device: &Device) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            device: device.clone(),
        }
    }

    /// The device parameters are built on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// A parameter of `shape` with values `U(−bound, bound)` in row-major order.
    pub fn uniform<const D: usize>(&mut self, shape: [usize; D], bound: f32) -> Param<Tensor<D>> {
        let values = self.uniform_values(shape.iter().product(), bound);
        Param::from_data(TensorData::new(values, shape), &self.device)
    }

    /// `len` values `U(−bound, bound)`.
    pub fn uniform_values(&mut self, len: usize, bound: f32) -> Vec<f32> {
        (0..len)
            .map(|_| self.rng.random_range(-bound..bound))
            .collect()
    }

    /// A parameter of `shape` filled with `value`.
    pub fn constant<const D: usize>(&self, shape: [usize; D], value: f32) -> Param<Tensor<D>> {
        Param::from_tensor(Tensor::full(shape, value, &self.device))
    }
}

/// PyTorch's default bound `1/√fan_in` of `Conv2d` and `Linear` weights and biases
/// (`kaiming_uniform(a=√5)` gives the same for weights).
pub fn default_bound(fan_in: usize) -> f32 {
    1.0 / (fan_in as f32).sqrt()
}
