//! The machine-readable record of a training run: its settings, the data it saw, and the
//! metrics of every epoch; written as JSON and as CSV after each epoch.

use std::path::Path;

use serde::{Deserialize, Serialize};

use burn::tensor::Device;

use super::{Augment, LossKind, OptimizerSpec, Schedule, TrainError};
use crate::network::{ModelError, Network, NetworkConfig};
use crate::ops::SynapticOps;

/// The network of a run, as recorded: its full description (every layer, every neuron
/// setting) and what it was built for, so that `eval` and `--resume` rebuild it exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The network.
    pub network: NetworkConfig,
    /// Its per-step input `[C, H, W]`.
    pub input: [usize; 3],
    /// Classes.
    pub classes: usize,
    /// Learnable parameters.
    pub parameters: usize,
}

impl ModelInfo {
    /// Builds the network this record describes, initialised from `seed`.
    pub fn init(&self, seed: u64, device: &Device) -> Result<Network, ModelError> {
        self.network.init(self.input, self.classes, seed, device)
    }

    /// Whether the network spikes.
    pub fn is_spiking(&self) -> bool {
        self.network.is_spiking()
    }
}

/// The run record's file in a run folder.
pub const RUN_RECORD: &str = "run.json";

/// Where a run's data comes from: what the caller knows of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSource {
    /// Dataset name (`default`, `nmnist`, …).
    pub name: String,
    /// Where its frames came from (the cache folder).
    pub location: String,
    /// The split manifest's SHA-256.
    pub split_hash: String,
    /// The frames' checksum (`CacheManifest::frames_checksum`: both parts' checksums, slots
    /// and split): the exact frames trained on, so that a resumed run or an evaluation on
    /// other frames is caught (empty when the frames are not from a cache).
    #[serde(default)]
    pub frames_checksum: String,
    /// Class names, in label order.
    pub classes: Vec<String>,
}

/// The data of a run, as recorded: its source and what training found in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Name, location, split hash and classes.
    #[serde(flatten)]
    pub source: DatasetSource,
    /// Training samples used.
    pub train_samples: usize,
    /// Test samples used.
    pub test_samples: usize,
    /// One sample's shape `[T, 2, h, w]`.
    pub sample_shape: [usize; 4],
}

/// The settings of the training loop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Epochs to train.
    pub epochs: usize,
    /// Samples per batch.
    pub batch_size: usize,
    /// Optimiser and learning rate.
    pub optimizer: OptimizerSpec,
    /// How the learning rate changes from epoch to epoch.
    #[serde(default)]
    pub schedule: Schedule,
    /// Gradients scaled down to at most this L2 norm (over all parameters) before each step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f64>,
    /// Loss.
    pub loss: LossKind,
    /// Seeds the initialisation, every epoch's shuffle and the augmentations.
    pub seed: u64,
    /// The training batches' augmentations ([`Augment`]; none in records without it).
    #[serde(default, skip_serializing_if = "Augment::is_none")]
    pub augment: Augment,
}

impl Default for TrainConfig {
    /// The seed experiment's schedule: 20 epochs of batch 32, SGD lr 0.05, MSE, seed 0.
    fn default() -> Self {
        Self {
            epochs: 20,
            batch_size: 32,
            optimizer: OptimizerSpec::default(),
            schedule: Schedule::Constant,
            clip_grad_norm: None,
            loss: LossKind::Mse,
            seed: 0,
            augment: Augment::default(),
        }
    }
}

/// Loss, accuracy and activity on one pass over a set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Mean loss per sample.
    pub loss: f64,
    /// Share of samples classified right.
    pub accuracy: f64,
    /// The hidden layers' activity: spikes per neuron and step over all spiking layers, or
    /// the share of non-zero ReLU outputs in a conventional network.
    pub hidden_activity: f64,
    /// Each spiking (or ReLU) layer's rate, in call order.
    #[serde(default)]
    pub layers: Vec<LayerRate>,
}

impl Evaluation {
    /// The measured rate of the layer called `name` (0 if it was not measured).
    pub fn rate_of(&self, name: &str) -> f64 {
        self.layers
            .iter()
            .find(|layer| layer.name == name)
            .map_or(0.0, |layer| layer.rate)
    }
}

/// One layer's measured activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerRate {
    /// The layer's name.
    pub name: String,
    /// Spikes per neuron and step (ReLU: share of non-zero outputs).
    pub rate: f64,
}

/// The metrics of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (per sample).
    pub train_loss: f64,
    /// Training accuracy over the epoch (with the weights of each batch's forward pass).
    pub train_accuracy: f64,
    /// Test loss, accuracy and activity after the epoch.
    pub test: Evaluation,
    /// Best test accuracy so far.
    pub best_test_accuracy: f64,
    /// The learning rate of the epoch.
    #[serde(default)]
    pub lr: f64,
    /// Seconds of training (forward, backward, optimiser step).
    pub train_seconds: f64,
    /// Seconds of the whole epoch, test evaluation included (checkpoint writing not).
    pub wall_seconds: f64,
    /// Training seconds per 100 batches.
    pub seconds_per_100_batches: f64,
    /// Training samples per second.
    pub samples_per_second: f64,
}

/// The version of the run record's format: 2 since networks are described layer by layer.
pub const RECORD_VERSION: u32 = 2;

/// Everything about a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The record format's version ([`RECORD_VERSION`]).
    pub record_version: u32,
    /// spikeforge's version.
    pub spikeforge_version: String,
    /// `running` until the last epoch is done, then `complete`.
    pub status: String,
    /// The network.
    pub model: ModelInfo,
    /// The training loop's settings.
    pub training: TrainConfig,
    /// The data.
    pub dataset: DatasetInfo,
    /// The device the run trained on.
    pub device: String,
    /// Worker threads of the CPU backend.
    pub threads: usize,
    /// The test set before any training.
    pub initial_test: Evaluation,
    /// One entry per finished epoch.
    pub epochs: Vec<EpochMetrics>,
    /// Best test accuracy and the epoch that reached it (0: none yet).
    pub best_test_accuracy: f64,
    /// The epoch of [`best_test_accuracy`](Self::best_test_accuracy).
    pub best_epoch: usize,
    /// Synaptic operations and energy per sample at the best epoch's measured activity.
    pub ops: Option<SynapticOps>,
}

impl RunRecord {
    /// Training seconds per 100 batches over all epochs.
    pub fn seconds_per_100_batches(&self) -> f64 {
        median(self.epochs.iter().map(|e| e.seconds_per_100_batches))
    }

    /// Training samples per second over all epochs.
    pub fn samples_per_second(&self) -> f64 {
        median(self.epochs.iter().map(|e| e.samples_per_second))
    }

    /// Reads a `run.json`, naming the byte offset of anything malformed.
    pub fn read(path: &Path) -> Result<Self, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|error| TrainError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        let malformed = |e: serde_json::Error| TrainError::Checkpoint {
            path: path.to_path_buf(),
            offset: events::error::json_offset(&text, &e),
            expected: format!("a spikeforge run record ({e})"),
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(malformed)?;
        Self::check_version(&value, path)?;
        serde_json::from_str(&text).map_err(malformed)
    }

    /// A record of another format version is refused by name, before its fields are read.
    pub fn check_version(value: &serde_json::Value, path: &Path) -> Result<(), TrainError> {
        let version = value
            .get("record_version")
            .and_then(serde_json::Value::as_u64);
        if version == Some(u64::from(RECORD_VERSION)) {
            return Ok(());
        }
        Err(TrainError::Checkpoint {
            path: path.to_path_buf(),
            offset: 0,
            expected: format!(
                "a run record of format version {RECORD_VERSION}, found {} (written by an \
                 older spikeforge, before networks were described layer by layer; train the \
                 run again)",
                version.map_or("none".to_string(), |v| v.to_string())
            ),
        })
    }

    /// Writes `run.json` and `epochs.csv` into `dir`, each atomically.
    pub fn write(&self, dir: &Path) -> Result<(), TrainError> {
        let json = serde_json::to_vec_pretty(self).expect("the record serialises");
        events::formats::write_atomically(&dir.join(RUN_RECORD), &json)?;
        events::formats::write_atomically(&dir.join("epochs.csv"), self.csv().as_bytes())?;
        Ok(())
    }

    /// The per-epoch metrics as CSV (epoch 0: the test set before training).
    pub fn csv(&self) -> String {
        let mut csv = String::from(
            "epoch,train_loss,train_accuracy,test_loss,test_accuracy,best_test_accuracy,\
             hidden_activity,lr,train_seconds,wall_seconds,seconds_per_100_batches,\
             samples_per_second\n",
        );
        let initial = &self.initial_test;
        csv += &format!(
            "0,,,{},{},,{},,,,,\n",
            initial.loss, initial.accuracy, initial.hidden_activity
        );
        for e in &self.epochs {
            csv += &format!(
                "{},{},{},{},{},{},{},{},{},{},{},{}\n",
                e.epoch,
                e.train_loss,
                e.train_accuracy,
                e.test.loss,
                e.test.accuracy,
                e.best_test_accuracy,
                e.test.hidden_activity,
                e.lr,
                e.train_seconds,
                e.wall_seconds,
                e.seconds_per_100_batches,
                e.samples_per_second
            );
        }
        csv
    }
}

/// The median of some values (NaN if there are none).
pub fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}
