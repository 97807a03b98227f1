//! What flows between layers: time-major feature maps `[T, N, C, H, W]` or vectors
//! `[T, N, F]`, and their per-step shapes, which a network infers once at `init`.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// A layer's input or output, time-major.
#[derive(Debug, Clone)]
pub enum Signal {
    /// Feature maps `[T, N, C, H, W]`.
    Maps(Tensor<5>),
    /// Vectors `[T, N, F]`.
    Vectors(Tensor<3>),
}

/// The shape of one step of one sample of a [`Signal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalShape {
    /// `[C, H, W]` maps.
    Maps {
        /// Channels C.
        channels: usize,
        /// Height H.
        height: usize,
        /// Width W.
        width: usize,
    },
    /// `[F]` vectors.
    Vectors {
        /// Features F.
        features: usize,
    },
}

impl SignalShape {
    /// Values per step and sample.
    pub fn len(&self) -> usize {
        match *self {
            Self::Maps {
                channels,
                height,
                width,
            } => channels * height * width,
            Self::Vectors { features } => features,
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The extents per step and sample: `[C, H, W]` or `[F]`.
    pub fn dims(&self) -> Vec<usize> {
        match *self {
            Self::Maps {
                channels,
                height,
                width,
            } => vec![channels, height, width],
            Self::Vectors { features } => vec![features],
        }
    }
}

impl std::fmt::Display for SignalShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Maps {
                channels,
                height,
                width,
            } => write!(f, "[{channels}, {height}, {width}]"),
            Self::Vectors { features } => write!(f, "[{features}]"),
        }
    }
}

/// Runs the same (generic) expression on the tensor of either kind of signal.
macro_rules! on_signal {
    ($signal:expr, $tensor:ident => $body:expr) => {
        match $signal {
            $crate::nn::Signal::Maps($tensor) => $crate::nn::Signal::Maps($body),
            $crate::nn::Signal::Vectors($tensor) => $crate::nn::Signal::Vectors($body),
        }
    };
}
pub(crate) use on_signal;

impl Signal {
    /// Steps T and samples N.
    pub fn steps_and_samples(&self) -> (usize, usize) {
        match self {
            Self::Maps(x) => {
                let [t, n, ..] = x.dims();
                (t, n)
            }
            Self::Vectors(x) => {
                let [t, n, _] = x.dims();
                (t, n)
            }
        }
    }

    /// The per-step shape.
    pub fn shape(&self) -> SignalShape {
        match self {
            Self::Maps(x) => {
                let [_, _, channels, height, width] = x.dims();
                SignalShape::Maps {
                    channels,
                    height,
                    width,
                }
            }
            Self::Vectors(x) => SignalShape::Vectors {
                features: x.dims()[2],
            },
        }
    }

    /// The maps; a network checks the kinds of its layers' inputs once, at `init`.
    ///
    /// # Panics
    /// If the signal is vectors.
    pub fn into_maps(self) -> Tensor<5> {
        match self {
            Self::Maps(x) => x,
            Self::Vectors(x) => panic!("a map layer got vectors {:?}", x.dims()),
        }
    }

    /// The vectors.
    ///
    /// # Panics
    /// If the signal is maps.
    pub fn into_vectors(self) -> Tensor<3> {
        match self {
            Self::Vectors(x) => x,
            Self::Maps(x) => panic!("a vector layer got maps {:?}", x.dims()),
        }
    }

    /// All values as `[T, N·len]`, for measurements.
    pub fn flat_steps(&self) -> Tensor<2> {
        let (t, n) = self.steps_and_samples();
        let len = n * self.shape().len();
        match self {
            Self::Maps(x) => x.clone().reshape([t, len]),
            Self::Vectors(x) => x.clone().reshape([t, len]),
        }
    }

    /// The signal detached from the autodiff graph.
    pub fn detach(self) -> Self {
        on_signal!(self, x => x.detach())
    }
}

/// Applies a per-frame op to every step of `[T, N, C, H, W]` maps at once (as one batch of
/// T·N frames), SpikingJelly's multi-step `SeqToANNContainer`.
pub fn per_frame(x: Tensor<5>, op: impl FnOnce(Tensor<4>) -> Tensor<4>) -> Tensor<5> {
    let [t, n, c, h, w] = x.dims();
    let y = op(x.reshape([t * n, c, h, w]));
    let [_, c, h, w] = y.dims();
    y.reshape([t, n, c, h, w])
}
