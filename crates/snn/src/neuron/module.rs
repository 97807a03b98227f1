//! The burn `Module` wrapper around the functional neuron core.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

use super::{
    Implementation, MultiStepOptions, MultiStepOutput, NeuronConfig, NeuronError, NeuronState,
    multi_step, spikes, step,
};

/// A neuron layer as a burn `Module`: its settings plus, for ParametricLIF, the learnable
/// weight `w` (a `[1]` parameter). It stores no membrane state: every call takes and
/// returns it.
#[derive(Module, Debug)]
pub struct SpikingNeuron {
    /// The settings (not a parameter; not saved in records).
    #[module(skip)]
    pub config: NeuronConfig,
    /// PLIF's weight `w`, `k = sigmoid(w)`; `None` for IF and LIF.
    pub w: Option<Param<Tensor<1>>>,
}

impl NeuronConfig {
    /// Builds the layer, checking the settings; PLIF's `w` starts at `−ln(init_tau − 1)`.
    pub fn init(&self, device: &Device) -> Result<SpikingNeuron, NeuronError> {
        self.validate()?;
        Ok(SpikingNeuron {
            config: *self,
            w: self
                .initial_w()
                .map(|w0| Param::from_tensor(Tensor::from_floats([w0], device))),
        })
    }
}

impl SpikingNeuron {
    /// One step on `x: [N, …]`; see [`step`].
    pub fn step<const D: usize>(
        &self,
        x: Tensor<D>,
        state: Option<NeuronState<D>>,
    ) -> Result<(Tensor<D>, NeuronState<D>), NeuronError> {
        step(&self.config, self.weight().as_ref(), x, state)
    }

    /// All steps of `x: [T, N, …]`; see [`multi_step`].
    pub fn multi_step<const D: usize>(
        &self,
        x: Tensor<D>,
        state: Option<NeuronState<D>>,
        options: MultiStepOptions,
    ) -> Result<MultiStepOutput<D>, NeuronError> {
        multi_step(&self.config, self.weight().as_ref(), x, state, options)
    }

    /// The spikes of all steps of `x: [T, N, …]` from the initial state, fused where
    /// possible: the everyday forward pass of a layer.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>, NeuronError> {
        self.forward_with(x, Implementation::default())
    }

    /// [`forward`](Self::forward) with a chosen implementation.
    pub fn forward_with<const D: usize>(
        &self,
        x: Tensor<D>,
        implementation: Implementation,
    ) -> Result<Tensor<D>, NeuronError> {
        spikes(
            &self.config,
            self.weight().as_ref(),
            x,
            None,
            implementation,
        )
    }

    fn weight(&self) -> Option<Tensor<1>> {
        self.w.as_ref().map(Param::val)
    }
}
