//! A network's parameters and buffers by PyTorch's state-dict names and layouts
//! (`conv_fc.0.weight`, `conv_fc.1.running_var`, `conv_fc.2.w`), to load SpikingJelly's
//! weights and to compare with them.
//!
//! Names are the layer's name and PyTorch's attribute: `weight`/`bias` of convolutions and
//! Linear layers (burn stores the Linear weight `[in, out]`, PyTorch `[out, in]`), `weight`,
//! `bias`, `running_mean`, `running_var` of batch norms (γ, β), PLIF's `w` (0-d in PyTorch),
//! and inside a SEW block `conv1`, `bn1`, `sn1`, `conv2`, `bn2`, `sn2`, `downsample.0`,
//! `downsample.1` and `downsample_sn`.

use burn::module::{Param, RunningState};
use burn::tensor::{Gradients, Tensor, TensorData};
use thiserror::Error;

use super::Network;
use crate::neuron::SpikingNeuron;
use crate::nn::{BatchNorm2d, Conv2d, Layer, SewBlock};

/// A state dict that does not fit the network.
#[derive(Debug, Error, PartialEq)]
pub enum TorchError {
    /// A tensor the network needs is not there.
    #[error("the state dict has no `{0}`")]
    Missing(String),
    /// A tensor of another shape.
    #[error("`{name}` has shape {found:?}, the network needs {expected:?}")]
    Shape {
        /// The tensor's name.
        name: String,
        /// Its shape in PyTorch's layout.
        expected: Vec<usize>,
        /// The shape given.
        found: Vec<usize>,
    },
}

/// A state-dict array: values and shape, in PyTorch's layout.
pub type TorchArray = (Vec<f32>, Vec<usize>);

/// How a tensor's layout differs from PyTorch's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// The same.
    Same,
    /// A Linear weight: burn `[in, out]`, PyTorch `[out, in]`.
    Transposed,
    /// PLIF's `w`: burn `[1]`, PyTorch 0-d.
    Scalar,
}

/// One parameter or buffer, named and shaped as in PyTorch.
#[derive(Debug, Clone)]
pub struct TorchTensor {
    /// The state-dict name.
    pub name: String,
    /// Whether it is a buffer (running statistics) rather than a trained parameter.
    pub is_buffer: bool,
    /// The tensor as the network holds it (its own node, so that its gradient is found).
    value: Held,
    layout: Layout,
    shape: Vec<usize>,
}

/// A parameter tensor of any rank the blocks hold.
#[derive(Debug, Clone)]
enum Held {
    Rank1(Tensor<1>),
    Rank2(Tensor<2>),
    Rank4(Tensor<4>),
}

impl Held {
    /// The tensor itself, or its gradient in `grads`, flattened to `[rows, columns]` (rows:
    /// the first axis of a rank-2 tensor, else 1).
    fn flat(&self, grads: Option<&Gradients>) -> Option<Tensor<2>> {
        fn as_2d<const D: usize>(t: Tensor<D>, grads: Option<&Gradients>) -> Option<Tensor<2>> {
            let t = match grads {
                Some(grads) => t.grad(grads)?,
                None => t,
            };
            let dims = t.dims();
            let rows = if D == 2 { dims[0] } else { 1 };
            let len = dims.iter().product::<usize>();
            Some(t.reshape([rows, len / rows.max(1)]))
        }
        match self {
            Held::Rank1(t) => as_2d(t.clone(), grads),
            Held::Rank2(t) => as_2d(t.clone(), grads),
            Held::Rank4(t) => as_2d(t.clone(), grads),
        }
    }
}

/// A tensor the network holds, by rank.
trait Holdable {
    fn held(self) -> Held;
}

impl Holdable for Tensor<1> {
    fn held(self) -> Held {
        Held::Rank1(self)
    }
}

impl Holdable for Tensor<2> {
    fn held(self) -> Held {
        Held::Rank2(self)
    }
}

impl Holdable for Tensor<4> {
    fn held(self) -> Held {
        Held::Rank4(self)
    }
}

impl TorchTensor {
    fn new<const D: usize>(name: String, tensor: Tensor<D>, layout: Layout, buffer: bool) -> Self
    where
        Tensor<D>: Holdable,
    {
        let dims = tensor.dims();
        let shape = match layout {
            Layout::Same => dims.to_vec(),
            Layout::Transposed => vec![dims[1], dims[0]],
            Layout::Scalar => Vec::new(),
        };
        Self {
            name,
            is_buffer: buffer,
            value: tensor.held(),
            layout,
            shape,
        }
    }

    /// The shape in PyTorch's layout.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The values in PyTorch's layout.
    pub fn values(&self) -> Vec<f32> {
        self.in_torch_layout(self.value.flat(None).expect("a tensor"))
    }

    /// The gradient in PyTorch's layout (`None` for buffers and untracked tensors).
    pub fn grad(&self, grads: &Gradients) -> Option<Vec<f32>> {
        let grad = self.value.flat(Some(grads))?;
        Some(self.in_torch_layout(grad))
    }

    fn in_torch_layout(&self, tensor: Tensor<2>) -> Vec<f32> {
        let tensor = match self.layout {
            Layout::Transposed => tensor.transpose(),
            Layout::Same | Layout::Scalar => tensor,
        };
        tensor
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32 values")
    }
}

/// A slot a state-dict tensor is loaded into.
enum Slot<'a> {
    Param1(&'a mut Param<Tensor<1>>),
    Param2(&'a mut Param<Tensor<2>>),
    Param4(&'a mut Param<Tensor<4>>),
    Running(&'a mut RunningState<Tensor<1>>),
}

impl Network {
    /// Every parameter and buffer by its PyTorch name, in layer order.
    pub fn torch_tensors(&self) -> Vec<TorchTensor> {
        let mut out = Vec::new();
        for (layer, name) in self.layers.iter().zip(self.names()) {
            match layer {
                Layer::Conv2d(conv) => conv_tensors(conv, name, &mut out),
                Layer::BatchNorm2d(norm) => norm_tensors(norm, name, &mut out),
                Layer::Linear(linear) => {
                    out.push(TorchTensor::new(
                        format!("{name}.weight"),
                        linear.weight.val(),
                        Layout::Transposed,
                        false,
                    ));
                    if let Some(bias) = &linear.bias {
                        out.push(bias_tensor(name, bias));
                    }
                }
                Layer::Neuron(neuron) => neuron_tensors(neuron, name, &mut out),
                Layer::SewBlock(block) => {
                    for (suffix, part) in sew_parts(block) {
                        let name = format!("{name}.{suffix}");
                        match part {
                            SewPart::Conv(conv) => conv_tensors(conv, &name, &mut out),
                            SewPart::Norm(norm) => norm_tensors(norm, &name, &mut out),
                            SewPart::Neuron(neuron) => neuron_tensors(neuron, &name, &mut out),
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Trained parameters (what PyTorch's `sum(p.numel() for p in net.parameters())`
    /// counts; burn's `num_params` also counts the batch norms' running statistics).
    pub fn num_parameters(&self) -> usize {
        self.torch_tensors()
            .iter()
            .filter(|t| !t.is_buffer)
            .map(|t| t.shape().iter().product::<usize>())
            .sum()
    }

    /// The network with every parameter and buffer replaced by the state dict's, looked up
    /// by `lookup(name) → (values, shape)` in PyTorch's layout (`num_batches_tracked` and
    /// other extra entries are ignored).
    pub fn load_torch(
        mut self,
        lookup: &dyn Fn(&str) -> Option<TorchArray>,
    ) -> Result<Self, TorchError> {
        let expected: Vec<(String, Vec<usize>)> = self
            .torch_tensors()
            .into_iter()
            .map(|t| (t.name.clone(), t.shape.clone()))
            .collect();
        let mut slots = Vec::new();
        let names: Vec<String> = self.names().map(str::to_string).collect();
        for (layer, name) in self.layers.iter_mut().zip(&names) {
            layer_slots(layer, name, &mut slots);
        }
        for ((name, slot), (expected_name, shape)) in slots.into_iter().zip(expected) {
            debug_assert_eq!(name, expected_name);
            let (values, found) = lookup(&name).ok_or_else(|| TorchError::Missing(name.clone()))?;
            if found != shape {
                return Err(TorchError::Shape {
                    name,
                    expected: shape,
                    found,
                });
            }
            load_slot(slot, values);
        }
        Ok(self)
    }
}

fn load_slot(slot: Slot<'_>, values: Vec<f32>) {
    match slot {
        Slot::Param1(param) => {
            let device = param.device();
            let len = values.len();
            *param = Param::from_data(TensorData::new(values, [len]), &device);
        }
        Slot::Param2(param) => {
            let [rows, columns] = param.dims();
            let device = param.device();
            // PyTorch `[out, in]` = burn `[in, out]` transposed.
            let torch = Tensor::<2>::from_data(
                TensorData::new(values, [columns, rows]),
                &burn::tensor::Device::flex(),
            );
            *param = Param::from_data(torch.transpose().into_data(), &device);
        }
        Slot::Param4(param) => {
            let device = param.device();
            let dims = param.dims();
            *param = Param::from_data(TensorData::new(values, dims), &device);
        }
        Slot::Running(state) => {
            let device = state.value_sync().device();
            let len = values.len();
            *state = RunningState::new(Tensor::from_data(TensorData::new(values, [len]), &device));
        }
    }
}

fn layer_slots<'a>(layer: &'a mut Layer, name: &str, slots: &mut Vec<(String, Slot<'a>)>) {
    match layer {
        Layer::Conv2d(conv) => conv_slots(conv, name, slots),
        Layer::BatchNorm2d(norm) => norm_slots(norm, name, slots),
        Layer::Linear(linear) => {
            slots.push((format!("{name}.weight"), Slot::Param2(&mut linear.weight)));
            if let Some(bias) = &mut linear.bias {
                slots.push((format!("{name}.bias"), Slot::Param1(bias)));
            }
        }
        Layer::Neuron(neuron) => neuron_slots(neuron, name, slots),
        Layer::SewBlock(block) => {
            let SewBlock {
                conv1,
                bn1,
                sn1,
                conv2,
                bn2,
                sn2,
                downsample,
                ..
            } = block;
            conv_slots(conv1, &format!("{name}.conv1"), slots);
            norm_slots(bn1, &format!("{name}.bn1"), slots);
            neuron_slots(sn1, &format!("{name}.sn1"), slots);
            conv_slots(conv2, &format!("{name}.conv2"), slots);
            norm_slots(bn2, &format!("{name}.bn2"), slots);
            neuron_slots(sn2, &format!("{name}.sn2"), slots);
            if let Some(d) = downsample {
                conv_slots(&mut d.conv, &format!("{name}.downsample.0"), slots);
                norm_slots(&mut d.bn, &format!("{name}.downsample.1"), slots);
                neuron_slots(&mut d.sn, &format!("{name}.downsample_sn"), slots);
            }
        }
        _ => {}
    }
}

fn conv_slots<'a>(conv: &'a mut Conv2d, name: &str, slots: &mut Vec<(String, Slot<'a>)>) {
    slots.push((format!("{name}.weight"), Slot::Param4(&mut conv.weight)));
    if let Some(bias) = &mut conv.bias {
        slots.push((format!("{name}.bias"), Slot::Param1(bias)));
    }
}

fn norm_slots<'a>(norm: &'a mut BatchNorm2d, name: &str, slots: &mut Vec<(String, Slot<'a>)>) {
    slots.push((format!("{name}.weight"), Slot::Param1(&mut norm.gamma)));
    slots.push((format!("{name}.bias"), Slot::Param1(&mut norm.beta)));
    slots.push((
        format!("{name}.running_mean"),
        Slot::Running(&mut norm.running_mean),
    ));
    slots.push((
        format!("{name}.running_var"),
        Slot::Running(&mut norm.running_var),
    ));
}

fn neuron_slots<'a>(
    neuron: &'a mut SpikingNeuron,
    name: &str,
    slots: &mut Vec<(String, Slot<'a>)>,
) {
    if let Some(w) = &mut neuron.w {
        slots.push((format!("{name}.w"), Slot::Param1(w)));
    }
}

fn bias_tensor(name: &str, bias: &Param<Tensor<1>>) -> TorchTensor {
    TorchTensor::new(format!("{name}.bias"), bias.val(), Layout::Same, false)
}

fn conv_tensors(conv: &Conv2d, name: &str, out: &mut Vec<TorchTensor>) {
    out.push(TorchTensor::new(
        format!("{name}.weight"),
        conv.weight.val(),
        Layout::Same,
        false,
    ));
    if let Some(bias) = &conv.bias {
        out.push(bias_tensor(name, bias));
    }
}

fn norm_tensors(norm: &BatchNorm2d, name: &str, out: &mut Vec<TorchTensor>) {
    let param = |suffix: &str, p: &Param<Tensor<1>>| {
        TorchTensor::new(format!("{name}.{suffix}"), p.val(), Layout::Same, false)
    };
    out.push(param("weight", &norm.gamma));
    out.push(param("bias", &norm.beta));
    for (suffix, state) in [
        ("running_mean", &norm.running_mean),
        ("running_var", &norm.running_var),
    ] {
        out.push(TorchTensor::new(
            format!("{name}.{suffix}"),
            state.value_sync(),
            Layout::Same,
            true,
        ));
    }
}

fn neuron_tensors(neuron: &SpikingNeuron, name: &str, out: &mut Vec<TorchTensor>) {
    if let Some(w) = &neuron.w {
        out.push(TorchTensor::new(
            format!("{name}.w"),
            w.val(),
            Layout::Scalar,
            false,
        ));
    }
}

enum SewPart<'a> {
    Conv(&'a Conv2d),
    Norm(&'a BatchNorm2d),
    Neuron(&'a SpikingNeuron),
}

/// A SEW block's parts in SpikingJelly's state-dict order.
fn sew_parts(block: &SewBlock) -> Vec<(&'static str, SewPart<'_>)> {
    let mut parts = vec![
        ("conv1", SewPart::Conv(&block.conv1)),
        ("bn1", SewPart::Norm(&block.bn1)),
        ("sn1", SewPart::Neuron(&block.sn1)),
        ("conv2", SewPart::Conv(&block.conv2)),
        ("bn2", SewPart::Norm(&block.bn2)),
        ("sn2", SewPart::Neuron(&block.sn2)),
    ];
    if let Some(d) = &block.downsample {
        parts.push(("downsample.0", SewPart::Conv(&d.conv)));
        parts.push(("downsample.1", SewPart::Norm(&d.bn)));
        parts.push(("downsample_sn", SewPart::Neuron(&d.sn)));
    }
    parts
}
