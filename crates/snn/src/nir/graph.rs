//! A NIR graph in memory: named, typed nodes with their arrays and the edges between them,
//! the subset of NIR 1.0 that spikeforge writes and reads.

/// An array of a node: row-major values and their shape (empty for a 0-d array).
#[derive(Debug, Clone, PartialEq)]
pub struct Array<T> {
    /// The shape (`[]`: one value).
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<T>,
}

impl<T: Copy> Array<T> {
    /// An array of `values` shaped `shape`.
    ///
    /// # Panics
    /// If the shape does not hold exactly the values.
    pub fn new(shape: Vec<usize>, values: Vec<T>) -> Self {
        assert_eq!(shape.iter().product::<usize>(), values.len(), "{shape:?}");
        Self { shape, values }
    }

    /// `value` repeated over `shape`.
    pub fn full(shape: &[usize], value: T) -> Self {
        Self::new(shape.to_vec(), vec![value; shape.iter().product()])
    }
}

impl Array<f64> {
    /// The one value every element has, or `None` when they differ (or there are none).
    pub fn uniform(&self) -> Option<f64> {
        let first = *self.values.first()?;
        self.values.iter().all(|&v| v == first).then_some(first)
    }
}

/// A NIR node: its type and fields, as the Python `nir` package names them.
///
/// Shapes exclude time and batch; neuron parameters have the full per-sample shape of the
/// tensor they act on (`[C, H, W]` or `[F]`), as NIR requires. Weights are in PyTorch's
/// layout. Neuron parameters are `f64`, as SpikingJelly writes them.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// The graph's input, per-sample shape `[C, H, W]` (or `[F]`).
    Input {
        /// The shape.
        shape: Vec<usize>,
    },
    /// The graph's output.
    Output {
        /// The shape.
        shape: Vec<usize>,
    },
    /// A 2-D convolution (`input_shape` is the input's `[H, W]`).
    Conv2d {
        /// The input's `[H, W]`.
        input_shape: [usize; 2],
        /// `[out, in / groups, kH, kW]`.
        weight: Array<f32>,
        /// `[out]`.
        bias: Array<f32>,
        /// `[sH, sW]`.
        stride: [usize; 2],
        /// `[pH, pW]`.
        padding: [usize; 2],
        /// `[dH, dW]`.
        dilation: [usize; 2],
        /// Groups.
        groups: usize,
    },
    /// `y = W x` (weight `[out, in]`).
    Linear {
        /// `[out, in]`.
        weight: Array<f32>,
    },
    /// `y = W x + b`.
    Affine {
        /// `[out, in]`.
        weight: Array<f32>,
        /// `[out]`.
        bias: Array<f32>,
    },
    /// Flattens dimensions `start_dim..=end_dim` of the per-sample shape.
    Flatten {
        /// The input's per-sample shape.
        input_type: Vec<usize>,
        /// First dimension (of the per-sample shape).
        start_dim: i64,
        /// Last dimension (`-1`: the last).
        end_dim: i64,
    },
    /// Average pooling (padding counted in the mean, PyTorch's default).
    AvgPool2d {
        /// `[kH, kW]`.
        kernel_size: [usize; 2],
        /// `[sH, sW]`.
        stride: [usize; 2],
        /// `[pH, pW]`.
        padding: [usize; 2],
    },
    /// Sum pooling.
    SumPool2d {
        /// `[kH, kW]`.
        kernel_size: [usize; 2],
        /// `[sH, sW]`.
        stride: [usize; 2],
        /// `[pH, pW]`.
        padding: [usize; 2],
    },
    /// Integrate-and-fire: `dv/dt = r·I`; spike and hard reset to `v_reset` at threshold.
    If {
        /// Input resistance.
        r: Array<f64>,
        /// Threshold.
        v_threshold: Array<f64>,
        /// Reset potential.
        v_reset: Array<f64>,
    },
    /// Leaky integrate-and-fire: `τ dv/dt = (v_leak − v) + r·I`.
    Lif {
        /// Time constant (seconds).
        tau: Array<f64>,
        /// Input resistance.
        r: Array<f64>,
        /// Leak potential.
        v_leak: Array<f64>,
        /// Threshold.
        v_threshold: Array<f64>,
        /// Reset potential.
        v_reset: Array<f64>,
    },
    /// A node type spikeforge does not map, kept by name so that errors can name it.
    Other {
        /// The NIR type name.
        kind: String,
    },
}

impl Node {
    /// The node's NIR type name (`Conv2d`, `IF`, …).
    pub fn kind(&self) -> &str {
        match self {
            Self::Input { .. } => "Input",
            Self::Output { .. } => "Output",
            Self::Conv2d { .. } => "Conv2d",
            Self::Linear { .. } => "Linear",
            Self::Affine { .. } => "Affine",
            Self::Flatten { .. } => "Flatten",
            Self::AvgPool2d { .. } => "AvgPool2d",
            Self::SumPool2d { .. } => "SumPool2d",
            Self::If { .. } => "IF",
            Self::Lif { .. } => "LIF",
            Self::Other { kind } => kind,
        }
    }
}

/// A NIR graph: nodes by name (in the order given) and directed edges `(from, to)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NirGraph {
    /// The nodes.
    pub nodes: Vec<(String, Node)>,
    /// The edges, `(source, target)` by node name.
    pub edges: Vec<(String, String)>,
}

impl NirGraph {
    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, node)| node)
    }

    /// A chain `input → … → output` built from `nodes` in order, edges between neighbours.
    pub fn chain(nodes: Vec<(String, Node)>) -> Self {
        let edges = nodes
            .windows(2)
            .map(|pair| (pair[0].0.clone(), pair[1].0.clone()))
            .collect();
        Self { nodes, edges }
    }
}
