//! Data-parallel training over several GPUs, through burn's own distributed support.
//!
//! Each device holds a replica of the network and its optimiser. Every batch is cut into one
//! contiguous share per device; each replica computes its share's loss, weighted by the share's
//! part of the batch, and during the backward pass burn sums the replicas' gradients with a
//! collective all-reduce (NCCL, on CUDA). Every replica then holds the gradient of the whole
//! batch's mean loss and takes the same optimiser step, so the replicas stay equal: the first
//! device's is the run's network.
//!
//! As in PyTorch's `DistributedDataParallel` (without `SyncBatchNorm`), batch normalisation
//! normalises each share by its own statistics. The running statistics are burn's
//! `RunningState`, which the replicas share (as in burn-train's DDP): each step, every replica
//! updates them from its share, and the next read averages those updates. With two devices the
//! average is the same bits on every run; with more, its summation order follows a hash map.
//! Collectives exist in burn 0.22's CUDA backend only.
//!
//! A replica that fails (a panic on its device, say) answers with an error; the others may then
//! be waiting in a collective that cannot be cancelled, and if they do not answer within
//! [`STUCK_AFTER`], the process stops with the error rather than hang (the last epoch's
//! checkpoint stays, for `--resume`).

use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::Scope;
use std::time::Duration;

use burn::module::{Module, ModuleMapper, Param};
use burn::optim::ModuleOptimizer;
use burn::tensor::distributed::{DistributedConfig, DistributedContext, ReduceOperation};
use burn::tensor::{Device, Tensor};

use super::augment::{Augmented, augmented_batch};
use super::data::{Batch, FrameSource};
use super::fit::{BatchOutcome, batch_loss, descend};
use super::{TrainConfig, TrainError};
use crate::denormals::FlushToZero;
use crate::network::Network;

/// How long the other replicas may take to answer once one has failed.
const STUCK_AFTER: Duration = Duration::from_secs(60);

/// The devices of a data-parallel run, and burn's collective context over them: created for a
/// run, it keeps the gradient synchronisation running until dropped (one per process at a
/// time: burn keeps one synchronisation server per backend).
pub(super) struct DataParallel {
    devices: Vec<Device>,
    _context: DistributedContext,
}

impl DataParallel {
    /// Data parallelism over `devices` (at least two, all different; CUDA devices, the only
    /// ones with collectives in burn 0.22).
    pub(super) fn new(devices: Vec<Device>) -> Result<Self, TrainError> {
        if devices.len() < 2 {
            return Err(TrainError::Settings(format!(
                "data-parallel training needs at least 2 devices, not {}",
                devices.len()
            )));
        }
        for (i, device) in devices.iter().enumerate() {
            if devices[..i].contains(device) {
                return Err(TrainError::Settings(format!(
                    "device {device:?} is named twice for data-parallel training"
                )));
            }
        }
        for device in &devices {
            if !is_cuda(device) {
                return Err(TrainError::Settings(format!(
                    "data-parallel training runs on CUDA devices only (burn's collectives), and \
                     {device:?} is not one or cannot be opened"
                )));
            }
        }
        let config = DistributedConfig {
            all_reduce_op: ReduceOperation::Sum,
        };
        let context = DistributedContext::init(devices.clone(), config);
        Ok(Self {
            devices,
            _context: context,
        })
    }

    /// Starts one replica of `model` and `optimizer` per device on `scope`'s threads, for one
    /// epoch of batches sent through [`Replicas::step`].
    pub(super) fn replicas<'scope, 'env: 'scope>(
        &'env self,
        scope: &'scope Scope<'scope, 'env>,
        model: Network,
        optimizer: &ModuleOptimizer,
        data: EpochData<'env>,
    ) -> Replicas<'scope> {
        let (replies, answers) = channel();
        let mut jobs = Vec::new();
        let mut threads = Vec::new();
        for (rank, device) in self.devices.iter().enumerate() {
            let (job_sender, job_receiver) = channel();
            let worker = Worker {
                rank,
                replicas: self.devices.len(),
                model: model.clone(),
                optimizer: optimizer.clone(),
                data,
                replies: replies.clone(),
            };
            let device = device.clone();
            threads.push(scope.spawn(move || worker.run(&device, job_receiver)));
            jobs.push(job_sender);
        }
        Replicas {
            jobs,
            answers,
            threads,
        }
    }
}

/// Whether `device` opens as a device of cubecl's CUDA runtime (which compiles for `ptx_sm…`).
fn is_cuda(device: &Device) -> bool {
    let identity = events::panics::quietly(AssertUnwindSafe(|| device.identity()));
    identity
        .ok()
        .flatten()
        .is_some_and(|identity| identity.fingerprint.starts_with("ptx_"))
}

/// What every replica needs for an epoch: the training data and settings, the epoch and its
/// learning rate.
#[derive(Clone, Copy)]
pub(super) struct EpochData<'a> {
    pub source: &'a dyn FrameSource,
    pub config: &'a TrainConfig,
    pub epoch: usize,
    pub lr: f64,
}

/// One batch for every replica: its index in the epoch and its samples.
struct Job {
    index: usize,
    indices: Vec<usize>,
}

/// A replica's answer to a job: its rank and outcome.
type Answer = (usize, BatchOutcome);

/// The running replicas of one epoch.
pub(super) struct Replicas<'scope> {
    jobs: Vec<Sender<Job>>,
    answers: Receiver<Answer>,
    threads: Vec<std::thread::ScopedJoinHandle<'scope, Option<(Network, ModuleOptimizer)>>>,
}

impl Replicas<'_> {
    /// One training step of every replica on batch `index` (samples `indices`): the batch's
    /// mean loss (the sum of the shares' weighted losses) and the samples classified right.
    ///
    /// It waits for every replica before the next batch is sent: burn's synchronisation server
    /// must see every device's gradients of one step before any of the next.
    pub fn step(&self, index: usize, indices: &[usize]) -> BatchOutcome {
        for (rank, jobs) in self.jobs.iter().enumerate() {
            let job = Job {
                index,
                indices: indices.to_vec(),
            };
            jobs.send(job)
                .map_err(|_| lost(rank, "its thread has ended"))?;
        }
        let mut shares = vec![None; self.jobs.len()];
        let mut failed = None;
        for _ in &self.jobs {
            let (rank, outcome) = match failed {
                None => self
                    .answers
                    .recv()
                    .map_err(|_| lost(0, "no replica answers"))?,
                Some(_) => match self.answers.recv_timeout(STUCK_AFTER) {
                    Ok(answer) => answer,
                    // Every replica's thread has ended: none is stuck, the error is returned.
                    Err(RecvTimeoutError::Disconnected) => break,
                    Err(RecvTimeoutError::Timeout) => stop_stuck(failed.expect("an error came")),
                },
            };
            match outcome {
                Ok(share) => shares[rank] = Some(share),
                Err(error) => {
                    failed.get_or_insert(error);
                }
            }
        }
        if let Some(error) = failed {
            return Err(error);
        }
        // In rank order, so that the loss is the same bits on every run.
        let (mut loss, mut correct) = (0.0, 0);
        for (share_loss, share_correct) in shares.into_iter().flatten() {
            loss += share_loss;
            correct += share_correct;
        }
        Ok((loss, correct))
    }

    /// Ends the epoch: the first replica's network and optimiser.
    pub fn finish(self) -> Result<(Network, ModuleOptimizer), TrainError> {
        drop(self.jobs);
        let mut replicas = self.threads.into_iter().map(|thread| thread.join());
        match replicas.next() {
            Some(Ok(Some(first))) => Ok(first),
            _ => Err(lost(0, "it ended without its network")),
        }
    }
}

fn lost(rank: usize, why: &str) -> TrainError {
    TrainError::ReplicaLost {
        rank,
        why: why.to_string(),
    }
}

/// Ends the process after a replica's `error` when the other replicas stay silent: they wait in
/// a collective that nothing can cancel, and returning would wait for them forever.
fn stop_stuck(error: TrainError) -> ! {
    eprintln!(
        "error: {error}\nthe other data-parallel replicas are waiting in a collective operation \
         that cannot be cancelled: stopping (the last finished epoch's checkpoint is kept)"
    );
    std::process::exit(1)
}

/// One replica's thread.
struct Worker<'a> {
    rank: usize,
    replicas: usize,
    model: Network,
    optimizer: ModuleOptimizer,
    data: EpochData<'a>,
    replies: Sender<Answer>,
}

impl Worker<'_> {
    /// Trains the replica on its share of each batch it receives, until the jobs end or a step
    /// fails; returns the replica (none if a step panicked with it).
    fn run(self, device: &Device, jobs: Receiver<Job>) -> Option<(Network, ModuleOptimizer)> {
        let Worker {
            rank,
            replicas,
            model,
            mut optimizer,
            data,
            replies,
        } = self;
        let device = device.clone().autodiff();
        let mut model = model.fork(&device).map(&mut SyncGradients);
        for job in jobs {
            let outcome = events::panics::quietly(AssertUnwindSafe(|| {
                step((rank, replicas), model, &mut optimizer, data, &job, &device)
            }));
            let (outcome, next) = match outcome {
                Ok(stepped) => stepped,
                Err(why) => {
                    let _ = replies.send((rank, Err(TrainError::ReplicaLost { rank, why })));
                    return None;
                }
            };
            model = next;
            let failed = outcome.is_err();
            if replies.send((rank, outcome)).is_err() || failed {
                break;
            }
        }
        Some((model, optimizer))
    }
}

/// One replica's step on its share of `job`'s batch (the backward pass all-reduces the
/// gradients); returns the answer and the replica.
fn step(
    (rank, replicas): (usize, usize),
    model: Network,
    optimizer: &mut ModuleOptimizer,
    data: EpochData,
    job: &Job,
    device: &Device,
) -> (BatchOutcome, Network) {
    let _flush = FlushToZero::begin();
    // The whole batch, then this replica's share: augmentations and CutMix partners are those
    // of the same run on one device.
    let seeds = (data.config.seed, data.epoch, job.index);
    let batch = augmented_batch(
        data.source,
        &job.indices,
        &data.config.augment,
        seeds,
        device,
    );
    let (range, weight) = share(job.indices.len(), rank, replicas);
    let part = slice(batch, range);
    let (loss, correct) = match batch_loss(&model, data.config, part) {
        Ok(outcome) => outcome,
        Err(error) => return (Err(error), model),
    };
    let loss = loss.mul_scalar(weight);
    let value = f64::from(loss.clone().into_scalar::<f32>());
    let model = descend(model, optimizer, data.config, data.lr, loss);
    let correct = if weight == 0.0 { 0 } else { correct };
    (Ok((value, correct)), model)
}

/// Replica `rank`'s share of a batch of `len` samples over `replicas`: a contiguous range and
/// the weight of its mean loss in the batch's (its share of the samples). A replica left
/// without samples (a batch smaller than the replica count) computes on the first sample with
/// weight 0, so that it still takes part in every collective.
pub(super) fn share(len: usize, rank: usize, replicas: usize) -> (Range<usize>, f32) {
    let start = len * rank / replicas;
    let end = len * (rank + 1) / replicas;
    if start == end {
        (0..1, 0.0)
    } else {
        (start..end, (end - start) as f32 / len as f32)
    }
}

/// The samples `range` of an augmented batch.
pub(super) fn slice(augmented: Augmented, range: Range<usize>) -> Augmented {
    let Augmented {
        batch: Batch { frames, labels },
        mixed,
    } = augmented;
    let frames: Tensor<5> = frames.narrow(1, range.start, range.len());
    Augmented {
        batch: Batch {
            frames,
            labels: labels[range.clone()].to_vec(),
        },
        mixed: mixed.map(|mixed| mixed[range].to_vec()),
    }
}

/// Marks every parameter of a replica as distributed, so that the backward pass all-reduces
/// its gradient (keyed by the parameter's id, the same in every replica).
struct SyncGradients;

impl ModuleMapper for SyncGradients {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        Param::from_mapped_value(id, tensor.set_distributed(id), mapper)
    }
}

#[cfg(test)]
mod tests {
    use burn::module::ModuleVisitor;
    use burn::tensor::Gradients;

    use super::*;
    use crate::bench::{seed_nets, uniform_batch};
    use crate::train::LossKind;

    #[test]
    fn shares_cover_each_sample_once_with_weights_summing_to_one() {
        for replicas in 2..5 {
            for len in 1..40 {
                let shares: Vec<_> = (0..replicas).map(|r| share(len, r, replicas)).collect();
                let covered: Vec<usize> = shares
                    .iter()
                    .filter(|(_, weight)| *weight > 0.0)
                    .flat_map(|(range, _)| range.clone())
                    .collect();
                assert_eq!(
                    covered,
                    (0..len).collect::<Vec<_>>(),
                    "{len} over {replicas}"
                );
                let total: f32 = shares.iter().map(|(_, weight)| weight).sum();
                assert!((total - 1.0).abs() < 1e-6, "{len} over {replicas}: {total}");
                for (range, weight) in &shares {
                    assert!(!range.is_empty(), "every replica computes on something");
                    if *weight > 0.0 {
                        assert_eq!(*weight, range.len() as f32 / len as f32);
                    }
                }
            }
        }
    }

    /// Every parameter gradient of `model` in `grads`, in visiting order.
    fn gradients(model: &Network, grads: &Gradients) -> Vec<f32> {
        struct Collect<'a>(&'a Gradients, Vec<f32>);
        impl ModuleVisitor for Collect<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let grad = param.val().grad(self.0).expect("a gradient");
                self.1.extend(grad.into_data().iter::<f32>());
            }
        }
        let mut collect = Collect(grads, Vec::new());
        model.visit(&mut collect);
        collect.1
    }

    /// What the all-reduce sums: the shares' weighted losses and their gradients, which must
    /// be the whole batch's (the seed SNN has no batch norm, so the shares are independent).
    #[test]
    fn weighted_shares_sum_to_the_whole_batch_loss_and_gradient() {
        let device = Device::flex().autodiff();
        let [(_, snn), _] = seed_nets();
        let model = snn.init([2, 8, 8], 10, 3, &device).unwrap();
        let batch = uniform_batch([4, 7, 2, 8, 8], &device);
        let whole = || Augmented {
            batch: batch.clone(),
            mixed: None,
        };
        for loss in [LossKind::Mse, LossKind::CrossEntropy] {
            let config = TrainConfig {
                loss,
                ..TrainConfig::default()
            };
            let (full, _) = batch_loss(&model, &config, whole()).unwrap();
            let expected = gradients(&model, &full.backward());
            let expected_loss = full.into_scalar::<f32>();
            let (mut loss_sum, mut gradient_sum) = (0.0f32, vec![0.0f32; expected.len()]);
            for rank in 0..3 {
                let (range, weight) = share(7, rank, 3);
                let (part, _) = batch_loss(&model, &config, slice(whole(), range)).unwrap();
                let part = part.mul_scalar(weight);
                for (sum, g) in gradient_sum
                    .iter_mut()
                    .zip(gradients(&model, &part.backward()))
                {
                    *sum += g;
                }
                loss_sum += part.into_scalar::<f32>();
            }
            assert!(
                (loss_sum - expected_loss).abs() <= 1e-6 * expected_loss.abs(),
                "{loss:?}: {loss_sum} vs {expected_loss}"
            );
            let scale = expected.iter().fold(0.0f32, |m, g| m.max(g.abs()));
            assert!(scale > 0.0, "{loss:?}: no gradient at all");
            for (i, (sum, g)) in gradient_sum.iter().zip(&expected).enumerate() {
                assert!(
                    (sum - g).abs() <= 1e-5 * scale,
                    "{loss:?}: gradient {i}: {sum} vs {g}"
                );
            }
        }
    }
}
