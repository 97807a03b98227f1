//! `spikeforge train`: one seed network on a dataset, with progress, a run record,
//! checkpoints and plots.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, ensure};
use clap::{Args, ValueEnum};
use events::cache::Part;
use indicatif::{ProgressBar, ProgressStyle};
use snn::model::{CnnInput, NetKind, SeedNetConfig};
use snn::train::data::{CachePart, FrameSource, Subset};
use snn::train::{
    DatasetSource, LossKind, OptimizerSpec, Progress, Run, RunRecord, TrainConfig, fit,
};
use snn::{NeuronConfig, Surrogate};

use super::data::{DataArgs, PreparedData, prepare_data};
use super::device::DeviceChoice;
use super::report;

/// Options of `spikeforge train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Which network to train.
    #[arg(long, value_enum, default_value_t = ModelChoice::Snn)]
    model: ModelChoice,
    #[command(flatten)]
    experiment: ExperimentArgs,
}

/// The seed networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelChoice {
    /// Conv → spiking neuron → Linear over T steps, output averaged over T.
    Snn,
    /// Conv → ReLU → Linear.
    Cnn,
}

/// The options of an experiment, shared by `train` and `compare`.
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Convolution channels C.
    #[arg(long, default_value_t = 32)]
    pub channels: usize,
    /// The SNN's neuron: SpikingJelly's `IFNode()` or `LIFNode(tau)`.
    #[arg(long, value_enum, default_value_t = NeuronChoice::If)]
    pub neuron: NeuronChoice,
    /// LIF time constant.
    #[arg(long, default_value_t = 2.0)]
    pub tau: f32,
    /// Surrogate gradient: `sigmoid` (α = 4, SpikingJelly's default) or `atan` (α = 2).
    #[arg(long, value_enum, default_value_t = SurrogateChoice::Sigmoid)]
    pub surrogate: SurrogateChoice,
    /// What the CNN sees: the mean of the T frames, their sum, or each frame with the outputs
    /// averaged.
    #[arg(long, value_enum, default_value_t = CnnInputChoice::Mean)]
    pub cnn_input: CnnInputChoice,
    /// Loss against the labels.
    #[arg(long, value_enum, default_value_t = LossChoice::Mse)]
    pub loss: LossChoice,
    /// Optimiser.
    #[arg(long, value_enum, default_value_t = OptimizerChoice::Sgd)]
    pub optimizer: OptimizerChoice,
    /// Learning rate.
    #[arg(long, default_value_t = 0.05)]
    pub lr: f64,
    /// SGD momentum.
    #[arg(long, default_value_t = 0.0)]
    pub momentum: f64,
    /// L2 weight decay.
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Epochs.
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Samples per batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Seeds the initialisation, the shuffles and a `random` split.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Train on a seeded random subset of this many training samples.
    #[arg(long)]
    pub train_samples: Option<usize>,
    /// Evaluate on a seeded random subset of this many test samples.
    #[arg(long)]
    pub test_samples: Option<usize>,
    /// Where to compute.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    pub device: DeviceChoice,
    /// The run folder (default: `runs/<dataset>-<model>-seed<S>`, `runs/compare-<dataset>-seed<S>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the stopped run in the output folder (same settings; `--epochs` may grow).
    #[arg(long)]
    pub resume: bool,
}

/// Neuron models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NeuronChoice {
    /// Integrate-and-fire.
    If,
    /// Leaky integrate-and-fire (`--tau`).
    Lif,
}

/// Surrogate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SurrogateChoice {
    /// Sigmoid, α = 4.
    Sigmoid,
    /// ATan, α = 2.
    Atan,
}

/// The CNN's input rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CnnInputChoice {
    /// One frame: the mean of the T frames (on the scale of the frames the SNN sees).
    Mean,
    /// One frame: the T frames summed.
    Sum,
    /// Each frame through the network, the outputs averaged over T.
    PerFrame,
}

/// Losses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LossChoice {
    /// Mean squared error against one-hot labels.
    Mse,
    /// Cross-entropy of the scores.
    Ce,
}

/// Optimisers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OptimizerChoice {
    /// SGD (`--lr`, `--momentum`, `--weight-decay`).
    Sgd,
    /// Adam (`--lr`, `--weight-decay`).
    Adam,
}

impl ExperimentArgs {
    /// Checks every numeric option of the network and the training, before any data is read
    /// or any folder written (the data options: [`prepare_data`], first thing).
    pub fn validate(&self) -> Result<()> {
        self.config()
            .optimizer
            .validate()
            .map_err(|problem| anyhow!("{problem} (--lr, --momentum, --weight-decay)"))?;
        self.neuron().validate()?;
        for (name, value) in [
            ("--channels", self.channels),
            ("--epochs", self.epochs),
            ("--batch", self.batch),
            ("--train-samples", self.train_samples.unwrap_or(1)),
            ("--test-samples", self.test_samples.unwrap_or(1)),
        ] {
            ensure!(value >= 1, "{name} must be at least 1, not {value}");
        }
        Ok(())
    }

    /// The SNN's neuron.
    fn neuron(&self) -> NeuronConfig {
        let mut neuron = match self.neuron {
            NeuronChoice::If => NeuronConfig::if_node(),
            NeuronChoice::Lif => NeuronConfig::lif(self.tau),
        };
        neuron.surrogate = match self.surrogate {
            SurrogateChoice::Sigmoid => Surrogate::sigmoid(),
            SurrogateChoice::Atan => Surrogate::atan(),
        };
        neuron
    }

    /// The network of `kind` for the prepared data.
    fn net(&self, kind: NetKind, prepared: &PreparedData) -> SeedNetConfig {
        let manifest = &prepared.cache.manifest;
        SeedNetConfig {
            channels: self.channels,
            neuron: self.neuron(),
            cnn_input: match self.cnn_input {
                CnnInputChoice::Mean => CnnInput::MeanOverTime,
                CnnInputChoice::Sum => CnnInput::SumOverTime,
                CnnInputChoice::PerFrame => CnnInput::PerFrameMean,
            },
            ..SeedNetConfig::seed(kind, manifest.split.classes.len(), manifest.settings().size)
        }
    }

    /// The training loop's settings.
    fn config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch,
            optimizer: match self.optimizer {
                OptimizerChoice::Sgd => OptimizerSpec::Sgd {
                    lr: self.lr,
                    momentum: self.momentum,
                    weight_decay: self.weight_decay,
                },
                OptimizerChoice::Adam => OptimizerSpec::Adam {
                    lr: self.lr,
                    weight_decay: self.weight_decay,
                },
            },
            loss: match self.loss {
                LossChoice::Mse => LossKind::Mse,
                LossChoice::Ce => LossKind::CrossEntropy,
            },
            seed: self.seed,
        }
    }

    /// The output folder, `default` under `runs/` unless `--out` names one.
    pub fn out_dir(&self, default: String) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| Path::new("runs").join(default))
    }
}

/// Runs `spikeforge train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let experiment = &args.experiment;
    experiment.validate()?;
    let prepared = prepare_data(&experiment.data, experiment.seed)?;
    let kind = match args.model {
        ModelChoice::Snn => NetKind::Snn,
        ModelChoice::Cnn => NetKind::Cnn,
    };
    let name = kind_name(kind);
    let dir = experiment.out_dir(format!("{}-{name}-seed{}", prepared.name, experiment.seed));
    let record = train_one(experiment, kind, &prepared, &dir)?;
    report::print_table(&[(kind_label(kind), &record)]);
    report::plot_runs(&dir, &[(kind_label(kind), &record)]);
    println!("run record: {}", dir.join("run.json").display());
    Ok(())
}

/// `snn` or `cnn`.
pub fn kind_name(kind: NetKind) -> &'static str {
    match kind {
        NetKind::Snn => "snn",
        NetKind::Cnn => "cnn",
    }
}

/// `SNN` or `CNN`, as tables and plots name the networks.
pub fn kind_label(kind: NetKind) -> &'static str {
    match kind {
        NetKind::Snn => "SNN",
        NetKind::Cnn => "CNN",
    }
}

/// Trains one network of `kind` on the prepared data into `dir`, showing progress.
pub fn train_one(
    args: &ExperimentArgs,
    kind: NetKind,
    prepared: &PreparedData,
    dir: &Path,
) -> Result<RunRecord> {
    let (device, device_name) = args.device.device()?;
    let train_part = CachePart::new(&prepared.cache, Part::Train);
    let test_part = CachePart::new(&prepared.cache, Part::Test);
    let train_subset = args
        .train_samples
        .map(|n| Subset::random(&train_part, n, args.seed));
    let test_subset = args
        .test_samples
        .map(|n| Subset::random(&test_part, n, args.seed));
    let train: &dyn FrameSource = train_subset.as_ref().map_or(&train_part, |s| s);
    let test: &dyn FrameSource = test_subset.as_ref().map_or(&test_part, |s| s);
    let manifest = &prepared.cache.manifest;
    let run = Run {
        net: args.net(kind, prepared),
        config: args.config(),
        dataset: DatasetSource {
            name: prepared.name.to_string(),
            location: prepared.cache.dir.display().to_string(),
            split_hash: manifest.split.hash.clone(),
            frames_checksum: manifest.frames_checksum(),
            classes: manifest.split.classes.clone(),
        },
        train,
        test,
        dir: dir.to_path_buf(),
        device,
        device_name,
    };
    let label = kind_label(kind);
    println!(
        "{label}: {} training and {} test samples of {:?}, {} epochs, batch {}, {:?}, {:?}, on {} → {}",
        train.len(),
        test.len(),
        train.sample_shape(),
        run.config.epochs,
        run.config.batch_size,
        run.config.optimizer,
        run.config.loss,
        run.device_name,
        dir.display()
    );
    let epochs = run.config.epochs;
    let mut bar = ProgressBar::hidden();
    let style = ProgressStyle::with_template(
        "{prefix} {bar:30} {pos}/{len} batches, {msg}, {per_sec}, eta {eta}",
    )
    .expect("a valid template");
    let record = fit(&run, args.resume, &mut |progress| match progress {
        Progress::EpochStart { epoch, batches } => {
            bar = ProgressBar::new(batches as u64)
                .with_style(style.clone())
                .with_prefix(format!("{label} epoch {epoch}/{epochs}"));
        }
        Progress::Batch { loss } => {
            bar.set_message(format!("loss {loss:.4}"));
            bar.inc(1);
        }
        Progress::Evaluating => bar.set_message("evaluating"),
        Progress::EpochEnd(metrics) => {
            bar.finish_and_clear();
            report::print_epoch(label, kind, epochs, metrics);
        }
    })
    .with_context(|| format!("training the {label} in {}", dir.display()))?;
    Ok(record)
}
