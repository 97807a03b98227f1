//! The training loop: epochs of shuffled batches, evaluation after each epoch, the run
//! record and checkpoints written as it goes, and resumption of a stopped run.

use std::path::PathBuf;
use std::time::Instant;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor};

use super::augment::{Augmented, augmented_batch, mixed_targets};
use super::checkpoint::{Checkpoint, STATE_OFFSET, SectionOffsets};
use super::clip::clip_grad_norm;
use super::data::{Batch, FrameSource, batch, epoch_order};
use super::parallel::{DataParallel, EpochData};
use super::record::{
    DatasetInfo, DatasetSource, EpochMetrics, Evaluation, LayerRate, ModelInfo, RECORD_VERSION,
    RUN_RECORD, RunRecord, TrainConfig,
};
use super::{LossKind, Schedule, TrainError};
use crate::denormals::FlushToZero;
use crate::network::{Classifier, Network, NetworkConfig};
use crate::ops::network_ops;

/// A loss above this many times the untrained network's test loss (or 1, if larger) counts
/// as exploded: the run stops instead of training on garbage.
pub const EXPLOSION_FACTOR: f64 = 1e3;

/// The file of the last epoch's checkpoint in a run folder.
pub const LAST_CHECKPOINT: &str = "last.ckpt";
/// The file of the best epoch's checkpoint in a run folder.
pub const BEST_CHECKPOINT: &str = "best.ckpt";

/// One training run: the network, the loop's settings, the data and where it all goes.
pub struct Run<'a> {
    /// The network to build (for the data's frame shape and classes).
    pub network: NetworkConfig,
    /// The loop's settings.
    pub config: TrainConfig,
    /// Where the data comes from (the record adds the sample counts and shape).
    pub dataset: DatasetSource,
    /// Training samples.
    pub train: &'a dyn FrameSource,
    /// Test samples.
    pub test: &'a dyn FrameSource,
    /// The run folder: `run.json`, `epochs.csv`, `last.ckpt`, `best.ckpt`.
    pub dir: PathBuf,
    /// The device to train on (without autodiff; [`fit`] adds it).
    pub device: Device,
    /// A name for the device(s) in the record.
    pub device_name: String,
    /// More devices for data-parallel training beside `device`, or none to train on `device`
    /// alone: CUDA devices (burn's collectives), each training a replica of the network on its
    /// share of every batch, the gradients summed by NCCL.
    pub replica_devices: Vec<Device>,
}

/// What [`fit`] reports while it works.
#[derive(Debug)]
pub enum Progress<'a> {
    /// An epoch starts; it has `batches` batches.
    EpochStart {
        /// 1-based epoch number.
        epoch: usize,
        /// Batches in the epoch.
        batches: usize,
    },
    /// A batch was trained.
    Batch {
        /// Its loss.
        loss: f64,
    },
    /// The test set is being evaluated.
    Evaluating,
    /// An epoch is done.
    EpochEnd(&'a EpochMetrics),
}

/// Trains `run` for its epochs, evaluating on the test set after each, and returns the
/// complete record.
///
/// After every epoch it writes `run.json` and `epochs.csv`, `last.ckpt` (network, optimiser
/// and record) and, when the test accuracy improved, `best.ckpt`, each atomically. With
/// `resume`, a run folder holding `last.ckpt` continues after its last finished epoch and
/// ends with the same result as an uninterrupted run; without it, a folder that already
/// holds a run is an error rather than overwritten.
pub fn fit(
    run: &Run,
    resume: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunRecord, TrainError> {
    let dataset = check_data(run)?;
    let parallel = if run.replica_devices.is_empty() {
        None
    } else {
        let devices = std::iter::once(&run.device).chain(&run.replica_devices);
        Some(DataParallel::new(devices.cloned().collect())?)
    };
    let device = run.device.clone().autodiff();
    let last_path = run.dir.join(LAST_CHECKPOINT);
    let [_, channels, height, width] = dataset.sample_shape;
    let mut model_info = ModelInfo {
        network: run.network.clone(),
        input: [channels, height, width],
        classes: dataset.source.classes.len(),
        parameters: 0,
    };
    let fresh = model_info.init(run.config.seed, &device)?;
    model_info.parameters = fresh.num_parameters();
    let mut record = RunRecord {
        record_version: RECORD_VERSION,
        spikeforge_version: env!("CARGO_PKG_VERSION").to_string(),
        status: "running".to_string(),
        model: model_info,
        training: run.config,
        dataset,
        device: run.device_name.clone(),
        threads: rayon::current_num_threads(),
        initial_test: Evaluation {
            loss: f64::NAN,
            accuracy: f64::NAN,
            hidden_activity: f64::NAN,
            layers: Vec::new(),
        },
        epochs: Vec::new(),
        best_test_accuracy: 0.0,
        best_epoch: 0,
        ops: None,
    };
    if !resume && (last_path.exists() || run.dir.join(RUN_RECORD).exists()) {
        return Err(TrainError::RunExists(run.dir.clone()));
    }
    let (mut model, mut optimizer) = if last_path.exists() {
        let (checkpoint, offsets) = Checkpoint::load_with_offsets(&last_path)?;
        let saved = run_record(&checkpoint, &last_path)?;
        check_same_run(&saved, &record, &run.dir)?;
        if saved.epochs.len() > run.config.epochs {
            return Err(TrainError::ResumeMismatch {
                dir: run.dir.clone(),
                what: format!(
                    "number of epochs: the run has finished {}, more than the {} asked for",
                    saved.epochs.len(),
                    run.config.epochs
                ),
            });
        }
        record.initial_test = saved.initial_test;
        record.epochs = saved.epochs;
        record.best_test_accuracy = saved.best_test_accuracy;
        record.best_epoch = saved.best_epoch;
        record.ops = saved.ops;
        let model = load_model(fresh, checkpoint.model, &last_path, offsets)?;
        let optimizer = run
            .config
            .optimizer
            .build()
            .from_bytes(Bytes::from_bytes_vec(checkpoint.optimizer))
            .map_err(|e| TrainError::Checkpoint {
                path: last_path.clone(),
                offset: offsets.optimizer,
                expected: format!("the optimiser's state for these settings ({e})"),
            })?;
        (model, optimizer)
    } else {
        // A run stopped before its first epoch ended: it starts over, if it is this run.
        let record_path = run.dir.join(RUN_RECORD);
        if record_path.exists() {
            let saved = RunRecord::read(&record_path)?;
            check_same_run(&saved, &record, &run.dir)?;
        }
        std::fs::create_dir_all(&run.dir).map_err(|error| TrainError::Io {
            path: run.dir.clone(),
            error,
        })?;
        progress(Progress::Evaluating);
        record.initial_test = evaluate(
            &fresh.valid(),
            run.test,
            run.config.batch_size,
            run.config.loss,
            &run.device,
        )?;
        record.write(&run.dir)?;
        (fresh, run.config.optimizer.build())
    };

    for epoch in record.epochs.len() + 1..=run.config.epochs {
        let started = Instant::now();
        let lr = run.config.schedule.lr(run.config.optimizer.lr(), epoch - 1);
        let epoch_data = EpochData {
            source: run.train,
            config: &run.config,
            epoch,
            lr,
        };
        let (next, train_loss, train_accuracy, batches) = match &parallel {
            None => train_epoch(
                model,
                &mut optimizer,
                epoch_data,
                &record.initial_test,
                &device,
                progress,
            )?,
            Some(parallel) => train_epoch_parallel(
                parallel,
                model,
                &mut optimizer,
                epoch_data,
                &record.initial_test,
                progress,
            )?,
        };
        model = next;
        let train_seconds = started.elapsed().as_secs_f64();
        progress(Progress::Evaluating);
        let test = evaluate(
            &model.valid(),
            run.test,
            run.config.batch_size,
            run.config.loss,
            &run.device,
        )?;
        let limit = EXPLOSION_FACTOR * record.initial_test.loss.max(1.0);
        let healthy = test.loss.is_finite() && test.loss <= limit && parameters_finite(&model);
        if !healthy {
            let all: Vec<usize> = (0..run.train.len()).collect();
            if let Some(sample) = non_finite_sample(run.train, &all) {
                return Err(non_finite_input(sample));
            }
            return Err(TrainError::NonFinite {
                epoch,
                test_loss: test.loss,
                initial: record.initial_test.loss,
            });
        }
        if test.accuracy > record.best_test_accuracy || record.best_epoch == 0 {
            record.best_test_accuracy = test.accuracy;
            record.best_epoch = epoch;
            record.ops = Some(network_ops(
                &model,
                record.dataset.sample_shape[0],
                &|name| test.rate_of(name),
            ));
            save(&model, None, &record, &run.dir.join(BEST_CHECKPOINT))?;
        }
        let samples = run.train.len() as f64;
        record.epochs.push(EpochMetrics {
            epoch,
            train_loss,
            train_accuracy,
            test,
            best_test_accuracy: record.best_test_accuracy,
            lr,
            train_seconds,
            wall_seconds: started.elapsed().as_secs_f64(),
            seconds_per_100_batches: 100.0 * train_seconds / batches as f64,
            samples_per_second: samples / train_seconds,
        });
        if epoch == run.config.epochs {
            record.status = "complete".to_string();
        }
        save(&model, Some(&optimizer), &record, &last_path)?;
        record.write(&run.dir)?;
        progress(Progress::EpochEnd(
            record.epochs.last().expect("just pushed"),
        ));
    }
    if record.status != "complete" {
        // Resumed a run that had already finished all its epochs.
        record.status = "complete".to_string();
        record.write(&run.dir)?;
    }
    Ok(record)
}

/// One epoch of training; returns the model, mean loss, accuracy and batch count.
fn train_epoch(
    model: Network,
    optimizer: &mut ModuleOptimizer,
    data: EpochData,
    initial: &Evaluation,
    device: &Device,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Network, f64, f64, usize), TrainError> {
    let mut model = Some(model);
    let (loss, accuracy, batches) = each_batch(data, initial, progress, &mut |index, indices| {
        let seeds = (data.config.seed, data.epoch, index);
        let augmented = augmented_batch(data.source, indices, &data.config.augment, seeds, device);
        let current = model.take().expect("the model is back after every step");
        let step = train_step_augmented(current, optimizer, data.config, data.lr, augmented)?;
        model = Some(step.model);
        Ok((step.loss, step.correct))
    })?;
    let model = model.expect("the model is back after every step");
    Ok((model, loss, accuracy, batches))
}

/// [`train_epoch`] on the replicas of `parallel`; the first replica's network and optimiser
/// go on.
fn train_epoch_parallel(
    parallel: &DataParallel,
    model: Network,
    optimizer: &mut ModuleOptimizer,
    data: EpochData,
    initial: &Evaluation,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Network, f64, f64, usize), TrainError> {
    std::thread::scope(|scope| {
        let replicas = parallel.replicas(scope, model, optimizer, data);
        let (loss, accuracy, batches) =
            each_batch(data, initial, progress, &mut |index, indices| {
                replicas.step(index, indices)
            })?;
        let (model, trained) = replicas.finish()?;
        *optimizer = trained;
        Ok((model, loss, accuracy, batches))
    })
}

/// A training step's mean loss and the samples it classified right, or why it failed.
pub(super) type BatchOutcome = Result<(f64, usize), TrainError>;

/// Runs `step` (batch index, samples → [`BatchOutcome`]) on each batch of the
/// epoch in its seeded order, stopping on non-finite input or a diverging loss; returns the
/// mean loss, accuracy and batch count.
fn each_batch(
    data: EpochData,
    initial: &Evaluation,
    progress: &mut dyn FnMut(Progress),
    step: &mut dyn FnMut(usize, &[usize]) -> BatchOutcome,
) -> Result<(f64, f64, usize), TrainError> {
    let EpochData {
        source,
        config,
        epoch,
        ..
    } = data;
    let order = epoch_order(source.len(), config.seed, epoch - 1);
    let batches = order.len().div_ceil(config.batch_size);
    progress(Progress::EpochStart { epoch, batches });
    let limit = EXPLOSION_FACTOR * initial.loss.max(1.0);
    let (mut loss_sum, mut correct) = (0.0, 0usize);
    for (index, indices) in order.chunks(config.batch_size).enumerate() {
        let (loss, right) = step(index, indices)?;
        if !loss.is_finite()
            && let Some(sample) = non_finite_sample(source, indices)
        {
            return Err(non_finite_input(sample));
        }
        if !loss.is_finite() || loss > limit {
            return Err(TrainError::Diverged {
                epoch,
                batch: index + 1,
                loss,
                initial: initial.loss,
            });
        }
        correct += right;
        loss_sum += loss * indices.len() as f64;
        progress(Progress::Batch { loss });
    }
    let samples = order.len() as f64;
    Ok((loss_sum / samples, correct as f64 / samples, batches))
}

fn non_finite_input(sample: usize) -> TrainError {
    TrainError::Data(format!(
        "training sample {sample} holds NaN or infinite frame values"
    ))
}

/// The first of `indices` whose frames in `source` are not all finite.
fn non_finite_sample(source: &dyn FrameSource, indices: &[usize]) -> Option<usize> {
    let shape = source.sample_shape();
    let mut frames = vec![0.0; shape.iter().product()];
    indices.iter().copied().find(|&index| {
        source.copy_frames(index, &mut frames);
        frames.iter().any(|v| !v.is_finite())
    })
}

/// Whether every float parameter of `model` is finite (a spiking layer can hide NaN weights
/// from the loss: a NaN potential never crosses the threshold).
fn parameters_finite<M: Module>(model: &M) -> bool {
    struct AllFinite(bool);
    impl ModuleVisitor for AllFinite {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0 = self.0
                && param
                    .val()
                    .into_data()
                    .iter::<f32>()
                    .all(|v: f32| v.is_finite());
        }
    }
    let mut visitor = AllFinite(true);
    model.visit(&mut visitor);
    visitor.0
}

/// What one training step did.
pub struct Step<M = Network> {
    /// The network after the optimiser step.
    pub model: M,
    /// The batch's mean loss before the step.
    pub loss: f64,
    /// Samples of the batch classified right before the step.
    pub correct: usize,
}

/// One training step on `batch` at learning rate `lr`: forward, loss, backward, gradient
/// clipping (when set), optimiser step; denormals flushed ([`crate::denormals`]).
pub fn train_step<M: Classifier>(
    model: M,
    optimizer: &mut ModuleOptimizer,
    config: &TrainConfig,
    lr: f64,
    batch: Batch,
) -> Result<Step<M>, TrainError> {
    let augmented = Augmented { batch, mixed: None };
    train_step_augmented(model, optimizer, config, lr, augmented)
}

/// [`train_step`] on an augmented batch: against its mixed labels when CutMix mixed them
/// (the accuracy counts each sample's own label).
fn train_step_augmented<M: Classifier>(
    model: M,
    optimizer: &mut ModuleOptimizer,
    config: &TrainConfig,
    lr: f64,
    augmented: Augmented,
) -> Result<Step<M>, TrainError> {
    let _flush = FlushToZero::begin();
    let (loss, correct) = batch_loss(&model, config, augmented)?;
    let value = f64::from(loss.clone().into_scalar::<f32>());
    Ok(Step {
        model: descend(model, optimizer, config, lr, loss),
        loss: value,
        correct,
    })
}

/// The mean loss of `model` on an augmented batch (against its mixed labels when CutMix mixed
/// them) and the samples it classifies right (by their own labels).
pub(super) fn batch_loss<M: Classifier>(
    model: &M,
    config: &TrainConfig,
    augmented: Augmented,
) -> Result<(Tensor<1>, usize), TrainError> {
    let Augmented {
        batch: Batch { frames, labels },
        mixed,
    } = augmented;
    let device = frames.device();
    let targets = |classes| {
        mixed
            .as_ref()
            .map(|mixed| mixed_targets(&labels, mixed, classes, &device))
    };
    let (scores, loss) = if config.loss.needs_steps() {
        let steps = model.step_scores(frames)?;
        let [_, n, classes] = steps.dims();
        let scores = steps.clone().mean_dim(0).reshape([n, classes]);
        let loss = match targets(classes) {
            Some(targets) => config.loss.loss_steps_targets(steps, targets),
            None => config.loss.loss_steps(steps, &labels),
        };
        (scores, loss)
    } else {
        let scores = model.scores(frames)?;
        let loss = match targets(scores.dims()[1]) {
            Some(targets) => config.loss.loss_targets(scores.clone(), targets),
            None => config.loss.loss(scores.clone(), &labels),
        };
        (scores, loss)
    };
    Ok((loss, count_correct(scores, &labels)))
}

/// Backward pass of `loss`, gradient clipping (when set) and the optimiser's step.
pub(super) fn descend<M: Classifier>(
    model: M,
    optimizer: &mut ModuleOptimizer,
    config: &TrainConfig,
    lr: f64,
    loss: Tensor<1>,
) -> M {
    let mut grads = GradientsParams::from_grads(loss.backward(), &model);
    if let Some(max_norm) = config.clip_grad_norm {
        clip_grad_norm(&model, &mut grads, max_norm);
    }
    optimizer.step(lr, model, grads)
}

/// Loss, accuracy and the activity of every spiking (or ReLU) layer of `model` on all of
/// `source`, on `device`.
pub fn evaluate(
    model: &Network,
    source: &dyn FrameSource,
    batch_size: usize,
    loss: LossKind,
    device: &Device,
) -> Result<Evaluation, TrainError> {
    let indices: Vec<usize> = (0..source.len()).collect();
    let mut loss_sum = 0.0;
    let mut correct = 0usize;
    // Per layer, in call order: name, active outputs, outputs.
    let mut layers: Vec<(String, f64, usize)> = Vec::new();
    for chunk in indices.chunks(batch_size.max(1)) {
        let batch = batch(source, chunk, device);
        let (scores, activity) = if loss.needs_steps() {
            // TET's loss is on the outputs of every step; the activity from the same pass.
            let (steps, activity) = model.forward_steps_with_activity(batch.frames)?;
            let value = loss.loss_steps(steps.clone(), &batch.labels);
            loss_sum += f64::from(value.into_scalar::<f32>()) * chunk.len() as f64;
            let [_, n, classes] = steps.dims();
            (steps.mean_dim(0).reshape([n, classes]), activity)
        } else {
            let (scores, activity) = model.forward_with_activity(batch.frames)?;
            let value = loss.loss(scores.clone(), &batch.labels);
            loss_sum += f64::from(value.into_scalar::<f32>()) * chunk.len() as f64;
            (scores, activity)
        };
        correct += count_correct(scores, &batch.labels);
        for (i, layer) in activity.iter().enumerate() {
            if layers.len() <= i {
                layers.push((layer.name.clone(), 0.0, 0));
            }
            layers[i].1 += layer.active();
            layers[i].2 += layer.len();
        }
    }
    let samples = source.len() as f64;
    let (active, outputs) = layers
        .iter()
        .fold((0.0, 0usize), |(a, o), layer| (a + layer.1, o + layer.2));
    Ok(Evaluation {
        loss: loss_sum / samples,
        accuracy: correct as f64 / samples,
        hidden_activity: if outputs == 0 {
            0.0
        } else {
            active / outputs as f64
        },
        layers: layers
            .into_iter()
            .map(|(name, active, outputs)| LayerRate {
                name,
                rate: active / outputs.max(1) as f64,
            })
            .collect(),
    })
}

/// Samples whose highest score (the first, on ties) is their label.
fn count_correct(scores: Tensor<2>, labels: &[usize]) -> usize {
    let predicted = scores.detach().argmax(1).into_data();
    predicted
        .iter::<i64>()
        .zip(labels)
        .filter(|&(p, &label)| p as usize == label)
        .count()
}

/// Saves `model` (and the optimiser, when given) with the record to `path`.
fn save(
    model: &Network,
    optimizer: Option<&ModuleOptimizer>,
    record: &RunRecord,
    path: &std::path::Path,
) -> Result<(), TrainError> {
    let record_error =
        |e: burn::store::RecordError| TrainError::Record(path.to_path_buf(), e.to_string());
    let model_bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(record_error)?;
    let optimizer_bytes = match optimizer {
        Some(optimizer) => optimizer.into_bytes().map_err(record_error)?.to_vec(),
        None => Vec::new(),
    };
    Checkpoint {
        state: serde_json::json!({ "record": record }),
        model: model_bytes.to_vec(),
        optimizer: optimizer_bytes,
    }
    .save(path)
}

/// Loads a network saved by [`fit`] from the checkpoint at `path` into `model`.
pub fn load_checkpoint_model(
    model: Network,
    path: &std::path::Path,
) -> Result<(Network, RunRecord), TrainError> {
    let (checkpoint, offsets) = Checkpoint::load_with_offsets(path)?;
    let record = run_record(&checkpoint, path)?;
    Ok((load_model(model, checkpoint.model, path, offsets)?, record))
}

/// The run record in a checkpoint's state, read from the file `path`.
fn run_record(checkpoint: &Checkpoint, path: &std::path::Path) -> Result<RunRecord, TrainError> {
    RunRecord::check_version(&checkpoint.state["record"], path)?;
    serde_json::from_value(checkpoint.state["record"].clone()).map_err(|e| TrainError::Checkpoint {
        path: path.to_path_buf(),
        offset: STATE_OFFSET,
        expected: format!("a run record in the state section ({e})"),
    })
}

fn load_model(
    model: Network,
    bytes: Vec<u8>,
    path: &std::path::Path,
    offsets: SectionOffsets,
) -> Result<Network, TrainError> {
    let error = |e: String| TrainError::Checkpoint {
        path: path.to_path_buf(),
        offset: offsets.model,
        expected: format!("the parameters of this network ({e})"),
    };
    // burn panics on some malformed records (a tensor of another dtype): an error here too.
    events::panics::quietly(std::panic::AssertUnwindSafe(|| {
        let record =
            ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| e.to_string())?;
        model.try_load_record(record).map_err(|e| e.to_string())
    }))
    .and_then(|loaded| loaded)
    .map_err(error)
}

/// The data's record, after checking that the sets are usable by the network.
fn check_data(run: &Run) -> Result<DatasetInfo, TrainError> {
    let shape = run.train.sample_shape();
    let classes = run.dataset.classes.len();
    for (name, source) in [("training", run.train), ("test", run.test)] {
        if source.is_empty() {
            return Err(TrainError::Data(format!("the {name} set is empty")));
        }
        if source.sample_shape() != shape || shape.contains(&0) {
            return Err(TrainError::Data(format!(
                "the {name} samples are {:?}, the training samples {shape:?}: both sets need \
                 one non-empty shape [T, C, H, W]",
                source.sample_shape()
            )));
        }
        if let Some(index) = (0..source.len()).find(|&i| source.label(i) >= classes) {
            return Err(TrainError::Data(format!(
                "{name} sample {index} has label {}, but the data has {classes} classes",
                source.label(index),
            )));
        }
    }
    if run.config.batch_size == 0 || run.config.epochs == 0 {
        return Err(TrainError::Settings(
            "epochs and batch size must be at least 1".to_string(),
        ));
    }
    run.config
        .optimizer
        .validate()
        .map_err(TrainError::Settings)?;
    run.config
        .schedule
        .validate()
        .map_err(TrainError::Settings)?;
    if let Some(norm) = run.config.clip_grad_norm
        && !(norm.is_finite() && norm > 0.0)
    {
        return Err(TrainError::Settings(format!(
            "the gradient norm limit must be finite and above 0, not {norm}"
        )));
    }
    Ok(DatasetInfo {
        source: run.dataset.clone(),
        train_samples: run.train.len(),
        test_samples: run.test.len(),
        sample_shape: shape,
    })
}

/// A resumed run must continue the same experiment.
fn check_same_run(
    saved: &RunRecord,
    now: &RunRecord,
    dir: &std::path::Path,
) -> Result<(), TrainError> {
    let differs = |what: &str, a: String, b: String| {
        Err(TrainError::ResumeMismatch {
            dir: dir.to_path_buf(),
            what: format!("{what}: the run has {a}, now {b}"),
        })
    };
    if saved.model != now.model {
        return differs(
            "network",
            format!("{:?}", saved.model),
            format!("{:?}", now.model),
        );
    }
    let same_schedule = TrainConfig {
        epochs: now.training.epochs,
        ..saved.training
    };
    if let (Schedule::Cosine { t_max: before, .. }, Schedule::Cosine { t_max: after, .. }) =
        (saved.training.schedule, now.training.schedule)
        && before != after
        && same_schedule.schedule != now.training.schedule
    {
        return differs(
            "schedule",
            format!("a cosine schedule over {before} epochs"),
            format!(
                "one over {after} (a cosine schedule spans the run's epochs, so they cannot \
                 grow on resume: its first epochs would have had other learning rates; start \
                 a new run)"
            ),
        );
    }
    if same_schedule != now.training {
        return differs(
            "training settings",
            format!("{:?}", saved.training),
            format!("{:?}", now.training),
        );
    }
    if saved.dataset != now.dataset {
        return differs(
            "data",
            format!("{:?}", saved.dataset),
            format!("{:?}", now.dataset),
        );
    }
    Ok(())
}
