//! `spikeforge train`: one network (a preset or a network file) on a dataset, with
//! progress, a run record, checkpoints and plots.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, ensure};
use clap::{Args, ValueEnum};
use events::cache::Part;
use indicatif::{ProgressBar, ProgressStyle};
use snn::nn::ModelName;
use snn::train::data::{CachePart, FrameSource, Subset};
use snn::train::{
    DatasetSource, LossKind, OptimizerSpec, Progress, RUN_RECORD, Run, RunRecord, Schedule,
    TrainConfig, fit,
};

use super::data::{DataArgs, PreparedData, prepare_data};
use super::device::{self, DeviceChoice};
use super::model::{ModelSource, NetworkArgs};
use super::report;

/// Options of `spikeforge train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The network: a preset (`spikeforge models` lists them; `snn` and `cnn` are the seed
    /// nets) or a network file (TOML).
    #[arg(long, default_value = "seed-snn")]
    model: String,
    #[command(flatten)]
    experiment: ExperimentArgs,
}

/// The options of an experiment, shared by `train` and `compare`.
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Loss against the labels.
    #[arg(long, value_enum, default_value_t = LossChoice::Mse)]
    pub loss: LossChoice,
    /// TET's weight λ of the MSE term (`--loss tet`; default 1e-3).
    #[arg(long)]
    pub tet_lambda: Option<f64>,
    /// TET's constant φ the outputs are pulled towards (`--loss tet`; default 1).
    #[arg(long)]
    pub tet_phi: Option<f64>,
    /// Optimiser.
    #[arg(long, value_enum, default_value_t = OptimizerChoice::Sgd)]
    pub optimizer: OptimizerChoice,
    /// Learning rate.
    #[arg(long, default_value_t = 0.05)]
    pub lr: f64,
    /// SGD momentum (default 0).
    #[arg(long)]
    pub momentum: Option<f64>,
    /// SGD with Nesterov momentum.
    #[arg(long)]
    pub nesterov: bool,
    /// Weight decay (L2 for SGD and Adam, decoupled for AdamW).
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Learning-rate schedule, stepped per epoch: constant, cosine annealing over the
    /// epochs (to `--min-lr`), or step decay (× `--gamma` every `--step-size` epochs).
    #[arg(long, value_enum, default_value_t = ScheduleChoice::Constant)]
    pub schedule: ScheduleChoice,
    /// The cosine schedule's floor (default 0).
    #[arg(long)]
    pub min_lr: Option<f64>,
    /// Epochs between the step schedule's decays (default 10).
    #[arg(long)]
    pub step_size: Option<usize>,
    /// The step schedule's factor (default 0.1).
    #[arg(long)]
    pub gamma: Option<f64>,
    /// Clip the gradients to this global L2 norm before each step.
    #[arg(long)]
    pub clip_grad_norm: Option<f64>,
    /// Augment the training batches on the fly (seeded; never the cache or the test set):
    /// a comma-separated list of flip-x, roll:K (pixels), rotate:DEGREES, shear:DEGREES,
    /// cutout:SIDE (pixels), cutmix:P or eventmix:P (probability), e.g.
    /// `flip-x,roll:5,cutout:16`.
    #[arg(long, default_value = "none")]
    pub augment: snn::train::Augment,
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
    /// Data-parallel training on several GPUs, `cuda:0,cuda:1`: one replica of the network per
    /// device, each batch split between them, gradients summed by NCCL (needs a build with
    /// `--features cuda`). Batch norms normalise each device's share of a batch.
    #[arg(long, conflicts_with = "device")]
    pub devices: Option<String>,
    /// The run folder (default: `runs/<dataset>-<model>-seed<S>`, `runs/compare-<dataset>-seed<S>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the stopped run in the output folder (same settings; `--epochs` may grow).
    #[arg(long)]
    pub resume: bool,
}

/// Losses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LossChoice {
    /// Mean squared error against one-hot labels.
    Mse,
    /// Cross-entropy of the scores.
    Ce,
    /// TET: cross-entropy at every step plus λ · MSE of the outputs against φ.
    Tet,
}

/// Optimisers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OptimizerChoice {
    /// SGD (`--lr`, `--momentum`, `--nesterov`, `--weight-decay`).
    Sgd,
    /// Adam (`--lr`, `--weight-decay`).
    Adam,
    /// AdamW (`--lr`, `--weight-decay`, decoupled).
    Adamw,
}

/// Learning-rate schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScheduleChoice {
    /// The same learning rate throughout.
    Constant,
    /// Cosine annealing over `--epochs` epochs to `--min-lr`.
    Cosine,
    /// × `--gamma` every `--step-size` epochs.
    Step,
}

impl ExperimentArgs {
    /// Checks every numeric option of the network and the training, before any data is read
    /// or any folder written (the data options: [`prepare_data`], first thing).
    pub fn validate(&self) -> Result<()> {
        if let Some(list) = &self.devices {
            device::parse_devices(list)?;
        }
        let config = self.config();
        config.optimizer.validate().map_err(|problem| {
            anyhow!("{problem} (--lr, --momentum, --nesterov, --weight-decay)")
        })?;
        config
            .schedule
            .validate()
            .map_err(|problem| anyhow!("{problem} (--schedule, --min-lr, --step-size, --gamma)"))?;
        if let Some(norm) = self.clip_grad_norm {
            ensure!(
                norm.is_finite() && norm > 0.0,
                "--clip-grad-norm must be finite and above 0, not {norm}"
            );
        }
        // An option of another choice would be silently ignored: refused.
        for (given, option, applies, choice) in [
            (
                self.tet_lambda.is_some(),
                "--tet-lambda",
                self.loss == LossChoice::Tet,
                "--loss tet",
            ),
            (
                self.tet_phi.is_some(),
                "--tet-phi",
                self.loss == LossChoice::Tet,
                "--loss tet",
            ),
            (
                self.momentum.is_some(),
                "--momentum",
                self.optimizer == OptimizerChoice::Sgd,
                "--optimizer sgd",
            ),
            (
                self.nesterov,
                "--nesterov",
                self.optimizer == OptimizerChoice::Sgd,
                "--optimizer sgd",
            ),
            (
                self.min_lr.is_some(),
                "--min-lr",
                self.schedule == ScheduleChoice::Cosine,
                "--schedule cosine",
            ),
            (
                self.step_size.is_some(),
                "--step-size",
                self.schedule == ScheduleChoice::Step,
                "--schedule step",
            ),
            (
                self.gamma.is_some(),
                "--gamma",
                self.schedule == ScheduleChoice::Step,
                "--schedule step",
            ),
        ] {
            ensure!(!given || applies, "{option} applies only with {choice}");
        }
        if let LossKind::Tet { lambda, phi } = config.loss {
            ensure!(
                (0.0..=1.0).contains(&lambda) && phi.is_finite(),
                "--tet-lambda must be in [0, 1] and --tet-phi finite, not {lambda} and {phi}"
            );
        }
        if let Schedule::Cosine { min_lr, .. } = config.schedule {
            ensure!(
                min_lr <= self.lr,
                "--min-lr {min_lr} is above --lr {}: the cosine schedule would raise the rate",
                self.lr
            );
        }
        // The neuron options' own ranges (how they combine with a network's neurons is
        // checked once the network is known): a tau alone is checked as a LIF's.
        let mut neuron = self.network.neuron_spec();
        if neuron.model.is_none() && (neuron.tau.is_some() || neuron.decay_input.is_some()) {
            neuron.model = Some(ModelName::Lif);
        }
        neuron
            .config()
            .map_err(|problem| anyhow!("{problem} (the neuron options)"))?;
        for (name, value) in [
            ("--width", self.network.width.unwrap_or(1)),
            ("--epochs", self.epochs),
            ("--batch", self.batch),
            ("--train-samples", self.train_samples.unwrap_or(1)),
            ("--test-samples", self.test_samples.unwrap_or(1)),
        ] {
            ensure!(value >= 1, "{name} must be at least 1, not {value}");
        }
        Ok(())
    }

    /// The training loop's settings.
    fn config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch,
            optimizer: match self.optimizer {
                OptimizerChoice::Sgd => OptimizerSpec::Sgd {
                    lr: self.lr,
                    momentum: self.momentum.unwrap_or(0.0),
                    weight_decay: self.weight_decay,
                    nesterov: self.nesterov,
                },
                OptimizerChoice::Adam => OptimizerSpec::Adam {
                    lr: self.lr,
                    weight_decay: self.weight_decay,
                },
                OptimizerChoice::Adamw => OptimizerSpec::AdamW {
                    lr: self.lr,
                    weight_decay: self.weight_decay,
                },
            },
            schedule: match self.schedule {
                ScheduleChoice::Constant => Schedule::Constant,
                ScheduleChoice::Cosine => Schedule::Cosine {
                    t_max: self.epochs,
                    min_lr: self.min_lr.unwrap_or(0.0),
                },
                ScheduleChoice::Step => Schedule::Step {
                    step: self.step_size.unwrap_or(10),
                    gamma: self.gamma.unwrap_or(0.1),
                },
            },
            clip_grad_norm: self.clip_grad_norm,
            loss: match self.loss {
                LossChoice::Mse => LossKind::Mse,
                LossChoice::Ce => LossKind::CrossEntropy,
                LossChoice::Tet => LossKind::Tet {
                    lambda: self.tet_lambda.unwrap_or(1e-3),
                    phi: self.tet_phi.unwrap_or(1.0),
                },
            },
            seed: self.seed,
            augment: self.augment,
        }
    }

    /// The output folder, `default` under `runs/` unless `--out` names one.
    pub fn out_dir(&self, default: String) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| Path::new("runs").join(default))
    }
}

/// Runs `spikeforge train`; returns the run record's path.
pub fn run(args: &TrainArgs) -> Result<PathBuf> {
    let experiment = &args.experiment;
    experiment.validate()?;
    let source = ModelSource::find(&args.model).context("--model")?;
    experiment.network.precheck(&source, true)?;
    let prepared = prepare_data(&experiment.data, experiment.seed)?;
    let dir = experiment.out_dir(format!(
        "{}-{}-seed{}",
        prepared.name, source.name, experiment.seed
    ));
    let record = train_one(experiment, (&source, true), &prepared, &dir)?;
    report::print_table(&[(source.name.as_str(), &record)]);
    report::plot_runs(&dir, &[(source.name.as_str(), &record)]);
    let record = dir.join(RUN_RECORD);
    println!("run record: {}", record.display());
    Ok(record)
}

/// Trains the network of `source` on the prepared data into `dir`, showing progress
/// (`alone`: the command's only network, see [`NetworkArgs::network`]).
pub fn train_one(
    args: &ExperimentArgs,
    (source, alone): (&ModelSource, bool),
    prepared: &PreparedData,
    dir: &Path,
) -> Result<RunRecord> {
    let manifest = &prepared.cache.manifest;
    let network = args
        .network
        .network(source, manifest.split.classes.len(), alone)?;
    let (device, device_name, replica_devices) = match &args.devices {
        Some(list) => {
            let (mut devices, name) = device::data_parallel(list)?;
            let first = devices.remove(0);
            (first, name, devices)
        }
        None => {
            let (device, name) = args.device.device()?;
            (device, name, Vec::new())
        }
    };
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
    let run = Run {
        network,
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
        replica_devices,
    };
    let label = source.name.as_str();
    let spiking = run.network.is_spiking();
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
            report::print_epoch(label, spiking, epochs, metrics);
        }
    })
    .with_context(|| format!("training the {label} in {}", dir.display()))?;
    Ok(record)
}
