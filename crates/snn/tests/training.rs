//! The training loop on a small synthetic task: it learns, records everything, resumes to
//! the same result, refuses to overwrite a run, and stops when the loss explodes — for the
//! seed nets and for a network from a file (two conv layers, LIF neurons, pooling) trained
//! with TET, AdamW, a cosine schedule and gradient clipping.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use snn::network::{NetworkConfig, NetworkFile};
use snn::train::data::InMemoryFrames;
use snn::train::{
    BEST_CHECKPOINT, DatasetSource, Evaluation, LAST_CHECKPOINT, LossKind, OptimizerSpec, Progress,
    Run, RunRecord, Schedule, TrainConfig, TrainError, fit, load_checkpoint_model,
};

const SNN: &str = "seed-snn";
const CNN: &str = "seed-cnn";

/// A user's network file: two conv layers, LIF neurons, pooling.
const TWO_CONV_LIF: &str = r#"
name = "two-conv-lif"
[params]
width = 4
[neuron]
model = "lif"
tau = 2.0
surrogate = "atan"
detach_reset = true
[[layers]]
type = "conv2d"
out_channels = "width"
padding = 1
bias = false
[[layers]]
type = "batch_norm2d"
[[layers]]
type = "neuron"
[[layers]]
type = "max_pool2d"
kernel = 2
[[layers]]
type = "conv2d"
out_channels = "2 * width"
padding = 1
[[layers]]
type = "neuron"
[[layers]]
type = "avg_pool2d"
kernel = 2
[[layers]]
type = "flatten"
[[layers]]
type = "linear"
out_features = "classes"
"#;

/// A preset (at width 4) or, for `two-conv-lif`, the network file above.
fn network(model: &str) -> NetworkConfig {
    let file = match model {
        "two-conv-lif" => NetworkFile::parse(TWO_CONV_LIF, "two-conv-lif.toml").unwrap(),
        preset => snn::models::preset(preset).unwrap(),
    };
    let width = [("width".to_string(), 4)].into_iter().collect();
    file.resolve(CLASSES, &width).unwrap()
}

const CLASSES: usize = 4;
const SHAPE: [usize; 4] = [4, 2, 8, 8];

/// `count` samples: class k lights a 3×3 patch in quadrant k (ON for even k, OFF for odd),
/// over background noise, both drawn from a fixed SplitMix64 stream.
fn blobs(count: usize, seed: u64) -> InMemoryFrames {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    };
    let [t, c, h, w] = SHAPE;
    let mut frames = Vec::with_capacity(count * t * c * h * w);
    let mut labels = Vec::with_capacity(count);
    for i in 0..count {
        let label = i % CLASSES;
        let (top, left) = ((label / 2) * 4 + 1, (label % 2) * 4 + 1);
        for _ in 0..t {
            for channel in 0..c {
                for y in 0..h {
                    for x in 0..w {
                        let inside = (top..top + 3).contains(&y) && (left..left + 3).contains(&x);
                        let lit = inside && channel == label % 2;
                        frames.push(if lit {
                            0.6 + 0.4 * next()
                        } else {
                            0.3 * next()
                        });
                    }
                }
            }
        }
        labels.push(label);
    }
    InMemoryFrames {
        shape: SHAPE,
        frames,
        labels,
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("spikeforge-training-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run<'a>(
    model: &str,
    config: TrainConfig,
    train: &'a InMemoryFrames,
    test: &'a InMemoryFrames,
    dir: &Path,
) -> Run<'a> {
    Run {
        network: network(model),
        config,
        dataset: DatasetSource {
            name: "blobs".to_string(),
            location: "memory".to_string(),
            split_hash: "none".to_string(),
            frames_checksum: String::new(),
            classes: (0..CLASSES).map(|k| k.to_string()).collect(),
        },
        train,
        test,
        dir: dir.to_path_buf(),
        device: Device::flex(),
        device_name: "cpu".to_string(),
        replica_devices: Vec::new(),
    }
}

/// Trains one epoch of `config` into `dir`, then resumes it to `config.epochs`: the resumed
/// run's record.
fn one_epoch_then_resume(
    model: &str,
    config: TrainConfig,
    train: &InMemoryFrames,
    test: &InMemoryFrames,
    dir: &Path,
) -> RunRecord {
    let first = TrainConfig {
        epochs: 1,
        ..config
    };
    fit(&run(model, first, train, test, dir), false, &mut |_| {}).unwrap();
    fit(&run(model, config, train, test, dir), true, &mut |_| {}).unwrap()
}

/// What a resume must reproduce: per epoch the training loss and accuracy, the test
/// evaluation and the learning rate (timings aside).
fn epoch_results(record: &RunRecord) -> Vec<(f64, f64, Evaluation, f64)> {
    record
        .epochs
        .iter()
        .map(|e| (e.train_loss, e.train_accuracy, e.test.clone(), e.lr))
        .collect()
}

/// Every parameter of the last checkpoint of the run in `dir`.
fn parameters(model: &str, dir: &Path) -> Vec<f32> {
    let [_, c, h, w] = SHAPE;
    let fresh = network(model)
        .init([c, h, w], CLASSES, 123, &Device::flex())
        .unwrap();
    let (net, _) = load_checkpoint_model(fresh, &dir.join(LAST_CHECKPOINT)).unwrap();
    net.torch_tensors()
        .iter()
        .flat_map(|t| t.values())
        .collect()
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 8,
        ..TrainConfig::default()
    }
}

#[test]
fn snn_learns_and_records_every_epoch() {
    let (train, test) = (blobs(64, 1), blobs(32, 2));
    let dir = scratch("learns");
    let mut batches = 0;
    let record = fit(&run(SNN, config(2), &train, &test, &dir), false, &mut |p| {
        if let snn::train::Progress::Batch { .. } = p {
            batches += 1;
        }
    })
    .unwrap();
    assert_eq!(batches, 2 * 8);
    assert_eq!(record.status, "complete");
    assert_eq!(record.epochs.len(), 2);
    assert_eq!(record.dataset.train_samples, 64);
    assert_eq!(record.dataset.sample_shape, SHAPE);
    let last = record.epochs.last().unwrap();
    assert!(
        last.test.loss < record.initial_test.loss,
        "test loss did not fall: {} → {}",
        record.initial_test.loss,
        last.test.loss
    );
    assert!(last.test.hidden_activity > 0.0 && last.test.hidden_activity < 1.0);
    assert!(record.best_test_accuracy >= last.test.accuracy);
    assert!(last.seconds_per_100_batches > 0.0 && last.samples_per_second > 0.0);
    let ops = record.ops.as_ref().expect("ops at the best epoch");
    assert!(ops.acs > 0.0 && ops.macs > 0.0);

    let saved: RunRecord =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(saved, record);
    let csv = std::fs::read_to_string(dir.join("epochs.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 1 + 2,
        "header, epoch 0, two epochs:\n{csv}"
    );
    assert!(dir.join(BEST_CHECKPOINT).is_file());

    let error = fit(
        &run(SNN, config(2), &train, &test, &dir),
        false,
        &mut |_| {},
    );
    assert!(matches!(error, Err(TrainError::RunExists(_))), "{error:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_resumed_run_ends_exactly_where_an_uninterrupted_one_does() {
    let (train, test) = (blobs(48, 3), blobs(16, 4));
    let momentum = TrainConfig {
        optimizer: OptimizerSpec::Sgd {
            lr: 0.05,
            momentum: 0.9,
            weight_decay: 1e-4,
            nesterov: false,
        },
        ..config(3)
    };
    let whole = scratch("whole");
    let straight = fit(
        &run(SNN, momentum, &train, &test, &whole),
        false,
        &mut |_| {},
    )
    .unwrap();

    let parts = scratch("parts");
    let resumed = one_epoch_then_resume(SNN, momentum, &train, &test, &parts);
    assert_eq!(epoch_results(&straight), epoch_results(&resumed));
    assert_eq!(straight.ops, resumed.ops);
    assert_eq!(
        (straight.best_epoch, straight.best_test_accuracy),
        (resumed.best_epoch, resumed.best_test_accuracy)
    );
    let (a, b) = (parameters(SNN, &whole), parameters(SNN, &parts));
    assert!(a == b, "final parameters differ");

    let other = TrainConfig {
        seed: 9,
        ..momentum
    };
    let error = fit(&run(SNN, other, &train, &test, &parts), true, &mut |_| {});
    assert!(
        matches!(error, Err(TrainError::ResumeMismatch { .. })),
        "{error:?}"
    );
    std::fs::remove_dir_all(whole).unwrap();
    std::fs::remove_dir_all(parts).unwrap();
}

#[test]
fn an_exploding_loss_stops_the_run() {
    let (train, test) = (blobs(32, 5), blobs(8, 6));
    let dir = scratch("explodes");
    let wild = TrainConfig {
        optimizer: OptimizerSpec::Sgd {
            lr: 1e4,
            momentum: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        },
        ..config(3)
    };
    let error = fit(&run(CNN, wild, &train, &test, &dir), false, &mut |_| {}).unwrap_err();
    assert!(matches!(error, TrainError::Diverged { .. }), "{error:?}");
    assert!(error.to_string().contains("diverged"), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// One batch per epoch: every batch's loss is measured before its step, so only the checks
/// after the epoch (test loss, weights) can see what the last step did.
#[test]
fn a_broken_network_never_ends_complete_even_with_one_batch_per_epoch() {
    let (train, test) = (blobs(8, 5), blobs(8, 6));
    for kind in [SNN, CNN] {
        let dir = scratch("one-batch");
        let wild = TrainConfig {
            batch_size: 8,
            optimizer: OptimizerSpec::Sgd {
                lr: 1e36,
                momentum: 0.0,
                weight_decay: 0.0,
                nesterov: false,
            },
            ..config(1)
        };
        let error = fit(&run(kind, wild, &train, &test, &dir), false, &mut |_| {}).unwrap_err();
        assert!(
            matches!(error, TrainError::NonFinite { epoch: 1, .. }),
            "{kind:?}: {error:?}"
        );
        let record: RunRecord =
            serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
        assert_eq!(record.status, "running", "{kind:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn non_finite_inputs_are_a_data_error_not_a_divergence() {
    let (mut train, test) = (blobs(16, 5), blobs(8, 6));
    let sample = train.shape.iter().product::<usize>();
    train.frames[5 * sample + 17] = f32::NAN;
    let dir = scratch("nan-input");
    let error = fit(
        &run(CNN, config(1), &train, &test, &dir),
        false,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(&error, TrainError::Data(why) if why.contains("training sample 5 holds NaN")),
        "{error:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn out_of_range_settings_are_refused_before_training() {
    let (train, test) = (blobs(8, 5), blobs(8, 6));
    let dir = scratch("settings");
    let nan = TrainConfig {
        optimizer: OptimizerSpec::Sgd {
            lr: f64::NAN,
            momentum: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        },
        ..config(1)
    };
    let error = fit(&run(CNN, nan, &train, &test, &dir), false, &mut |_| {}).unwrap_err();
    assert!(matches!(error, TrainError::Settings(_)), "{error:?}");
    assert!(!dir.join("run.json").exists());
    let _ = std::fs::remove_dir_all(dir);
}

/// A network from a file (two conv layers, LIF, pooling) with TET, AdamW, cosine annealing
/// and gradient clipping: it learns, records each spiking layer's firing rate and every
/// synaptic layer's operations, and a resumed run ends exactly where an uninterrupted one
/// does.
#[test]
fn a_network_from_a_file_trains_resumes_and_records_its_layers() {
    let (train, test) = (blobs(48, 7), blobs(16, 8));
    let settings = TrainConfig {
        optimizer: OptimizerSpec::AdamW {
            lr: 0.01,
            weight_decay: 0.01,
        },
        schedule: Schedule::Cosine {
            t_max: 3,
            min_lr: 0.001,
        },
        clip_grad_norm: Some(1.0),
        loss: LossKind::Tet {
            lambda: 1e-3,
            phi: 1.0,
        },
        ..config(3)
    };
    let model = "two-conv-lif";
    let whole = scratch("file-whole");
    let straight = fit(
        &run(model, settings, &train, &test, &whole),
        false,
        &mut |_| {},
    )
    .unwrap();
    let last = straight.epochs.last().unwrap();
    assert!(
        last.test.loss < straight.initial_test.loss,
        "test loss did not fall: {} → {}",
        straight.initial_test.loss,
        last.test.loss
    );
    let lrs: Vec<f64> = straight.epochs.iter().map(|e| e.lr).collect();
    assert_eq!(lrs[0], 0.01);
    assert!(
        lrs[1] < lrs[0] && lrs[2] < lrs[1],
        "cosine schedule: {lrs:?}"
    );
    let names: Vec<&str> = last.test.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["layers.2", "layers.5"]);
    assert!(
        last.test
            .layers
            .iter()
            .all(|l| (0.0..1.0).contains(&l.rate))
    );
    let ops = straight.ops.as_ref().unwrap();
    let op_layers: Vec<&str> = ops.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(op_layers, ["layers.0", "layers.4", "layers.8"]);
    assert!(ops.macs > 0.0 && ops.acs > 0.0);
    assert_eq!(straight.model.network, network(model));

    let parts = scratch("file-parts");
    let resumed = one_epoch_then_resume(model, settings, &train, &test, &parts);
    assert_eq!(epoch_results(&straight), epoch_results(&resumed));
    assert!(parameters(model, &whole) == parameters(model, &parts));
    std::fs::remove_dir_all(whole).unwrap();
    std::fs::remove_dir_all(parts).unwrap();
}

/// With every augmentation (flip, roll, rotate, shear, cutout, CutMix's mixed labels) a
/// resumed run still ends exactly where an uninterrupted one does; the augmentations are
/// recorded, change the training, and a resume with other augmentations is refused.
#[test]
fn an_augmented_run_resumes_bit_for_bit_and_records_its_augmentations() {
    let (train, test) = (blobs(32, 11), blobs(16, 12));
    let augmented = TrainConfig {
        loss: LossKind::CrossEntropy,
        augment: "flip-x,roll:2,rotate:20,shear:15,cutout:3,cutmix:0.5"
            .parse()
            .unwrap(),
        ..config(3)
    };
    let whole = scratch("augmented-whole");
    let straight = fit(
        &run(SNN, augmented, &train, &test, &whole),
        false,
        &mut |_| {},
    )
    .unwrap();
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        written["training"]["augment"],
        "flip-x,roll:2,rotate:20,shear:15,cutout:3,cutmix:0.5"
    );

    let parts = scratch("augmented-parts");
    let resumed = one_epoch_then_resume(SNN, augmented, &train, &test, &parts);
    assert_eq!(epoch_results(&straight), epoch_results(&resumed));
    assert!(parameters(SNN, &whole) == parameters(SNN, &parts));

    let plain_dir = scratch("augmented-plain");
    let plain = TrainConfig {
        augment: Default::default(),
        ..augmented
    };
    let plain_record = fit(
        &run(SNN, plain, &train, &test, &plain_dir),
        false,
        &mut |_| {},
    )
    .unwrap();
    assert_ne!(
        plain_record.epochs[0].train_loss,
        straight.epochs[0].train_loss
    );
    assert_eq!(plain_record.initial_test, straight.initial_test);

    let other = TrainConfig {
        augment: "flip-x".parse().unwrap(),
        ..augmented
    };
    let error = fit(&run(SNN, other, &train, &test, &parts), true, &mut |_| {});
    assert!(
        matches!(&error, Err(TrainError::ResumeMismatch { what, .. }) if what.contains("augment")),
        "{error:?}"
    );
    for dir in [whole, parts, plain_dir] {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn data_parallel_training_refuses_a_device_twice_or_one_without_collectives() {
    let (train, test) = (blobs(8, 1), blobs(4, 2));
    let dir = scratch("parallel-refused");
    let refused = |replica: Device, why: &str| {
        let mut parallel = run(SNN, TrainConfig::default(), &train, &test, &dir);
        parallel.replica_devices = vec![replica];
        let error = fit(&parallel, false, &mut |_| {}).unwrap_err();
        assert!(
            matches!(&error, TrainError::Settings(message) if message.contains(why)),
            "{error}"
        );
        assert!(!dir.exists(), "nothing written for refused settings");
    };
    refused(Device::flex(), "named twice");
    #[cfg(feature = "wgpu")]
    refused(
        Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
        "runs on CUDA devices only",
    );
}

/// Data-parallel training on two CUDA devices (burn's NCCL all-reduce) trains like one device:
/// the first batch's loss (same initial network, same batch, cut in two) agrees to 1e-5, every
/// batch is trained, and the network learns as well. Runs where a `cuda` build finds two CUDA
/// devices; elsewhere it skips, saying why.
#[test]
fn two_gpus_train_like_one() {
    let Some([first, second]) = two_cuda_devices() else {
        return;
    };
    let (train, test) = (blobs(256, 1), blobs(64, 2));
    let config = TrainConfig {
        epochs: 3,
        batch_size: 16,
        ..TrainConfig::default()
    };
    let train_on = |replicas: Vec<Device>, name: &str| {
        let dir = scratch(name);
        let mut on_gpus = run(SNN, config, &train, &test, &dir);
        on_gpus.device = first.clone();
        on_gpus.replica_devices = replicas;
        let mut losses = Vec::new();
        let record = fit(&on_gpus, false, &mut |progress| {
            if let Progress::Batch { loss } = progress {
                losses.push(loss);
            }
        })
        .unwrap();
        std::fs::remove_dir_all(&dir).ok();
        (losses, record.best_test_accuracy)
    };
    let (alone, alone_accuracy) = train_on(Vec::new(), "one-gpu");
    let (parallel, parallel_accuracy) = train_on(vec![second], "two-gpus");
    assert_eq!(alone.len(), parallel.len(), "batches trained");
    assert!(
        (alone[0] - parallel[0]).abs() <= 1e-5 * alone[0].abs(),
        "first batch: loss {} on one device, {} on two",
        alone[0],
        parallel[0]
    );
    assert!(
        parallel_accuracy > 0.5 && parallel_accuracy >= alone_accuracy - 0.15,
        "best test accuracy {parallel_accuracy} on two devices, {alone_accuracy} on one"
    );
}

#[cfg(feature = "cuda")]
fn two_cuda_devices() -> Option<[Device; 2]> {
    let opens = |index| {
        std::panic::catch_unwind(|| {
            burn::tensor::Tensor::<1>::from_floats([1.0], &Device::cuda(index)).into_data();
        })
        .is_ok()
    };
    if opens(0) && opens(1) {
        Some([Device::cuda(0), Device::cuda(1)])
    } else {
        eprintln!("SKIPPED: data-parallel training needs two CUDA devices; this machine has fewer");
        None
    }
}

#[cfg(not(feature = "cuda"))]
fn two_cuda_devices() -> Option<[Device; 2]> {
    eprintln!(
        "SKIPPED: data-parallel training runs on CUDA devices: build with `--features cuda` \
         on a machine with two GPUs"
    );
    None
}
