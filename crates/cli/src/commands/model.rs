//! The network options shared by `train` and `compare`: a preset or a network file, its
//! parameters, and overrides of every neuron setting.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use snn::models;
use snn::network::{NetworkConfig, NetworkFile};
use snn::nn::{LayerConfig, ModelName, NeuronSpec, SurrogateName};

/// The network options.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// The network's width parameter (`width` in its file: the seed nets' channels C).
    #[arg(long, alias = "channels")]
    pub width: Option<usize>,
    /// Another parameter of the network file, `KEY=VALUE` (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, usize)>,
    /// Every neuron layer's model (default: the network's).
    #[arg(long, value_enum)]
    pub neuron: Option<NeuronChoice>,
    /// LIF's `tau`, PLIF's `init_tau`.
    #[arg(long)]
    pub tau: Option<f32>,
    /// LIF/PLIF: whether the input decays with the membrane (`--decay-input` = true).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub decay_input: Option<bool>,
    /// Firing threshold.
    #[arg(long)]
    pub v_threshold: Option<f32>,
    /// Hard-reset potential.
    #[arg(long)]
    pub v_reset: Option<f32>,
    /// Soft reset (subtract the threshold) instead of the hard one (`--soft-reset` = true).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub soft_reset: Option<bool>,
    /// Detach the reset from the gradient (`--detach-reset` = true).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub detach_reset: Option<bool>,
    /// The surrogate gradient (default: the network's; SpikingJelly's Sigmoid(4) unless it
    /// says otherwise).
    #[arg(long, value_enum)]
    pub surrogate: Option<SurrogateChoice>,
    /// The surrogate's shape parameter (alpha; PiecewiseLeakyReLU's w).
    #[arg(long)]
    pub alpha: Option<f32>,
    /// PiecewiseLeakyReLU's leak c outside its window (default 0.01).
    #[arg(long)]
    pub leak: Option<f32>,
    /// What a network that starts from one frame (the seed CNN) sees: the mean of the T
    /// frames, their sum, or each frame with the outputs averaged.
    #[arg(long, value_enum)]
    pub cnn_input: Option<CnnInputChoice>,
}

/// Neuron models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NeuronChoice {
    /// Integrate-and-fire.
    If,
    /// Leaky integrate-and-fire (`--tau`).
    Lif,
    /// Parametric LIF (learnable leak, initial `--tau`).
    Plif,
}

/// Surrogate functions (SpikingJelly's, with their default shapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SurrogateChoice {
    /// Sigmoid, α = 4.
    Sigmoid,
    /// ATan, α = 2.
    Atan,
    /// PiecewiseQuadratic, α = 1.
    PiecewiseQuadratic,
    /// PiecewiseExp, α = 1.
    PiecewiseExp,
    /// SoftSign, α = 2.
    SoftSign,
    /// SuperSpike, α = 1.
    SuperSpike,
    /// Erf, α = 2.
    Erf,
    /// PiecewiseLeakyReLU, w = 1, c = 0.01.
    PiecewiseLeakyRelu,
}

/// The input rule of a network that starts from one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CnnInputChoice {
    /// One frame: the mean of the T frames.
    Mean,
    /// One frame: the T frames summed.
    Sum,
    /// Each frame through the network, the outputs averaged over T.
    PerFrame,
}

/// Where a network that starts from one frame reduces its steps to it (its
/// `mean_over_time` or `sum_over_time` layer).
fn time_reduction(network: &NetworkConfig) -> Option<usize> {
    network.layers.iter().position(|l| {
        matches!(
            l.layer,
            LayerConfig::MeanOverTime | LayerConfig::SumOverTime
        )
    })
}

fn parse_param(text: &str) -> Result<(String, usize), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    let value = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` in `{text}` is not a whole number"))?;
    Ok((key.trim().to_string(), value))
}

/// A network given by name or file.
pub struct ModelSource {
    /// Its short name: the preset's, or the file's stem (for folder names and tables).
    pub name: String,
    file: NetworkFile,
}

impl ModelSource {
    /// A preset (`snn` and `cnn` are the seed nets) or, if `text` names a file, that file.
    pub fn find(text: &str) -> Result<Self> {
        let text = text.trim();
        let preset = match text {
            "snn" => "seed-snn",
            "cnn" => "seed-cnn",
            other => other,
        };
        if let Some(file) = models::preset(preset) {
            return Ok(Self {
                name: preset.to_string(),
                file,
            });
        }
        let path = Path::new(text);
        if path.is_file() {
            let file = NetworkFile::read(path)?;
            let name = path.file_stem().map_or_else(
                || file.name().to_string(),
                |s| s.to_string_lossy().into_owned(),
            );
            return Ok(Self { name, file });
        }
        bail!(
            "`{text}`: neither a preset ({}) nor a network file",
            models::names().collect::<Vec<_>>().join(", ")
        )
    }

    /// The network for `classes` classes with the file's own parameters.
    pub fn resolve(&self, classes: usize) -> Result<NetworkConfig> {
        self.file
            .resolve(classes, &BTreeMap::new())
            .with_context(|| format!("the network `{}`", self.name))
    }
}

impl NetworkArgs {
    /// The neuron options and `--cnn-input`, when given, must apply to at least one of
    /// `networks` (the unmodified networks of `compare`'s `--models`).
    pub fn check_applies(&self, sources: &[ModelSource]) -> Result<()> {
        let networks = sources
            .iter()
            .map(|source| source.file.resolve(10, &self.params()))
            .collect::<Result<Vec<_>, _>>()?;
        if self.neuron_spec() != NeuronSpec::default() && !networks.iter().any(|n| n.is_spiking()) {
            bail!(
                "none of --models has a neuron layer for the neuron options (--neuron, --tau, …)"
            );
        }
        let one_frame = |n: &NetworkConfig| time_reduction(n).is_some();
        if self.cnn_input.is_some() && !networks.iter().any(one_frame) {
            bail!(
                "--cnn-input: none of --models starts from one frame (a mean_over_time or sum_over_time layer)"
            );
        }
        Ok(())
    }

    /// `--param`s and `--width` as the file's parameter overrides.
    fn params(&self) -> BTreeMap<String, usize> {
        let mut params: BTreeMap<String, usize> = self.params.iter().cloned().collect();
        if let Some(width) = self.width {
            params.insert("width".into(), width);
        }
        params
    }

    /// Checks what can be checked of the network options before any data is read: the
    /// parameters resolve (for 10 classes) and the options fit the network's layers.
    pub fn precheck(&self, source: &ModelSource, alone: bool) -> Result<NetworkConfig> {
        if let Some((key, _)) = self.params.iter().find(|(_, value)| *value == 0) {
            bail!("--param {key}=0: a network parameter must be at least 1");
        }
        self.network(source, 10, alone)
    }

    /// The neuron overrides given.
    pub fn neuron_spec(&self) -> NeuronSpec {
        NeuronSpec {
            model: self.neuron.map(|n| match n {
                NeuronChoice::If => ModelName::If,
                NeuronChoice::Lif => ModelName::Lif,
                NeuronChoice::Plif => ModelName::Plif,
            }),
            tau: self.tau,
            decay_input: self.decay_input,
            v_threshold: self.v_threshold,
            v_reset: self.v_reset,
            soft_reset: self.soft_reset,
            detach_reset: self.detach_reset,
            surrogate: self.surrogate.map(|s| match s {
                SurrogateChoice::Sigmoid => SurrogateName::Sigmoid,
                SurrogateChoice::Atan => SurrogateName::Atan,
                SurrogateChoice::PiecewiseQuadratic => SurrogateName::PiecewiseQuadratic,
                SurrogateChoice::PiecewiseExp => SurrogateName::PiecewiseExp,
                SurrogateChoice::SoftSign => SurrogateName::SoftSign,
                SurrogateChoice::SuperSpike => SurrogateName::SuperSpike,
                SurrogateChoice::Erf => SurrogateName::Erf,
                SurrogateChoice::PiecewiseLeakyRelu => SurrogateName::PiecewiseLeakyRelu,
            }),
            alpha: self.alpha,
            leak: self.leak,
        }
    }

    /// The network of `source` for `classes` classes with these options applied; every
    /// neuron layer's settings are checked (the layers themselves when the network is built).
    /// The neuron options apply to a network with neuron layers and `--cnn-input` to one
    /// that starts from one frame; for another they are an error when `alone` (the only
    /// network of the command), else they do not apply ([`Self::check_applies`] checks that
    /// they apply to one of several).
    pub fn network(
        &self,
        source: &ModelSource,
        classes: usize,
        alone: bool,
    ) -> Result<NetworkConfig> {
        let mut network = source
            .file
            .resolve(classes, &self.params())
            .with_context(|| format!("the network `{}`", source.name))?;
        let overrides = self.neuron_spec();
        if overrides != NeuronSpec::default() {
            if network.is_spiking() {
                network = network
                    .with_neurons(&overrides)
                    .map_err(|problem| anyhow::anyhow!("`{}`: {problem}", source.name))?;
            } else if alone {
                bail!(
                    "`{}` has no neuron layer for the neuron options (--neuron, --tau, …)",
                    source.name
                );
            }
        }
        for layer in &network.layers {
            let checked = match &layer.layer {
                LayerConfig::Neuron(spec) => spec.config().map(drop),
                LayerConfig::SewBlock(block) => block.neuron.config().map(drop),
                LayerConfig::AdaptiveLif(adaptive) => adaptive.init().map(drop),
                _ => continue,
            };
            checked.with_context(|| {
                format!(
                    "`{}` layer {} with the neuron options (--neuron, --tau, …)",
                    source.name, layer.name
                )
            })?;
        }
        let reduce = time_reduction(&network);
        if let Some(rule) = self.cnn_input {
            let Some(reduce) = reduce else {
                if alone {
                    bail!(
                        "--cnn-input: `{}` does not start from one frame (it has no \
                         mean_over_time or sum_over_time layer)",
                        source.name
                    );
                }
                return Ok(network);
            };
            match rule {
                CnnInputChoice::Mean => network.layers[reduce].layer = LayerConfig::MeanOverTime,
                CnnInputChoice::Sum => network.layers[reduce].layer = LayerConfig::SumOverTime,
                CnnInputChoice::PerFrame => {
                    network.layers.remove(reduce);
                }
            }
        }
        Ok(network)
    }
}
