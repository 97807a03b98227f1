//! Training any network: losses (MSE, cross-entropy, TET), optimisers (SGD, Adam, AdamW),
//! learning-rate schedules, gradient clipping, batches from frame caches, and the training
//! loop with its run record and checkpoints.

pub mod augment;
mod checkpoint;
mod clip;
pub mod data;
mod fit;
mod loss;
mod optimizer;
mod parallel;
mod record;
mod schedule;

use std::path::PathBuf;

use thiserror::Error;

pub use augment::Augment;
pub use checkpoint::Checkpoint;
pub use clip::clip_grad_norm;
pub use fit::{
    BEST_CHECKPOINT, EXPLOSION_FACTOR, LAST_CHECKPOINT, Progress, Run, Step, evaluate, fit,
    load_checkpoint_model, train_step,
};
pub use loss::LossKind;
pub use optimizer::OptimizerSpec;
pub use record::{
    DatasetInfo, DatasetSource, EpochMetrics, Evaluation, LayerRate, ModelInfo, RECORD_VERSION,
    RUN_RECORD, RunRecord, TrainConfig, median,
};
pub use schedule::Schedule;

use crate::network::ModelError;

/// Why training stopped.
#[derive(Debug, Error)]
pub enum TrainError {
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: std::io::Error,
    },
    /// A checkpoint file is not what it should be.
    #[error("{path}: at byte {offset}: expected {expected}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// Where the problem starts.
        offset: u64,
        /// What was expected there.
        expected: String,
    },
    /// A parameter or optimiser record could not be written or applied.
    #[error("{0}: {1}")]
    Record(PathBuf, String),
    /// The data does not fit the network or the settings.
    #[error("unusable data: {0}")]
    Data(String),
    /// The training settings are out of range.
    #[error("invalid training settings: {0}")]
    Settings(String),
    /// The network refused its input.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A replica of data-parallel training failed (burn panics when a device or a collective
    /// fails).
    #[error("data-parallel training: replica {rank} failed: {why}")]
    ReplicaLost {
        /// Its rank (0: the first device).
        rank: usize,
        /// What happened.
        why: String,
    },
    /// The loss became NaN or exploded.
    #[error(
        "training diverged at epoch {epoch}, batch {batch}: loss {loss:e} (test loss before \
         training: {initial:.4}). Large inputs such as raw event counts make MSE with SGD \
         diverge: lower the learning rate, average the frames (a smaller `--size` resizes by \
         area; the CNN's `--cnn-input mean`), or use `--loss ce`"
    )]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// The offending loss.
        loss: f64,
        /// The untrained network's test loss.
        initial: f64,
    },
    /// An epoch left the weights NaN or infinite, or the test loss NaN, infinite or exploded,
    /// while every batch's loss (measured before its step) was fine: the damage came from the
    /// epoch's last steps.
    #[error(
        "training diverged at epoch {epoch}: after its last step the test loss is {test_loss:e} \
         (before training: {initial:.4}) or the weights are no longer finite; lower the \
         learning rate"
    )]
    NonFinite {
        /// 1-based epoch.
        epoch: usize,
        /// The test loss after it.
        test_loss: f64,
        /// The untrained network's test loss.
        initial: f64,
    },
    /// The run folder already holds a run and `resume` was not asked for.
    #[error(
        "{0} already holds a training run; resume it (`--resume`) or choose another output folder"
    )]
    RunExists(PathBuf),
    /// `resume` on a run with different settings.
    #[error("cannot resume the run in {dir}: different {what}")]
    ResumeMismatch {
        /// The run folder.
        dir: PathBuf,
        /// What differs.
        what: String,
    },
}

impl From<events::EventsError> for TrainError {
    fn from(error: events::EventsError) -> Self {
        match error {
            events::EventsError::Io { path, error } => TrainError::Io { path, error },
            other => TrainError::Data(other.to_string()),
        }
    }
}
