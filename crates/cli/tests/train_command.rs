//! `spikeforge train` and `compare` end to end on a small synthetic N-MNIST folder: one epoch
//! lowers the test loss, the record, CSV, checkpoints and plots are complete, `--resume`
//! continues the run, `compare` writes its comparison, and `eval` evaluates its runs dense
//! and (the SNN) event-driven.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use events::Events;
use events::formats::nmnist;
use serde_json::Value;

fn spikeforge() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spikeforge"));
    command.env("RUST_BACKTRACE", "0");
    command
}

/// `Train|Test/<digit>/<i>.bin` for digits 0–2: each digit's events fall in its own band of
/// rows (ON events for even digits, OFF for odd), plus a few scattered ones.
fn learnable_nmnist(root: &Path) {
    let mut state = 17u32;
    let mut next = move |n: u16| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        ((state >> 16) % u32::from(n)) as u16
    };
    for (part, count) in [("Train", 16), ("Test", 6)] {
        for digit in 0..3u16 {
            for i in 0..count {
                let mut events = Events::default();
                for k in 0..400u64 {
                    let (x, y, p) = if k % 8 == 0 {
                        (next(34), next(34), next(2) as u8)
                    } else {
                        (next(34), digit * 11 + next(11), (digit % 2) as u8)
                    };
                    events.push(k * 50, x, y, p);
                }
                let path = root
                    .join(part)
                    .join(digit.to_string())
                    .join(format!("{i}.bin"));
                nmnist::write(&path, &events).unwrap();
            }
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikeforge-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    learnable_nmnist(&dir.join("nmnist"));
    dir
}

/// Runs `command` on the synthetic folder (4 frames; for training commands width 4 and
/// lr 0.02 unless `extra` names others).
fn invoke(scratch: &Path, command: &str, extra: &[&str]) -> Output {
    on_synthetic_folder(scratch, command, extra)
        .output()
        .unwrap()
}

/// The command line of [`invoke`].
fn on_synthetic_folder(scratch: &Path, command: &str, extra: &[&str]) -> Command {
    let mut line = spikeforge();
    line.args([
        command,
        "--dataset",
        "nmnist",
        "--size",
        "34",
        "--frames",
        "4",
    ])
    .args(if command == "prepare" {
        &[][..]
    } else if extra.contains(&"--width") {
        &["--batch", "8"][..]
    } else {
        &["--batch", "8", "--width", "4"][..]
    })
    .args(
        if command == "prepare" || extra.iter().any(|arg| arg.starts_with("--lr")) {
            &[][..]
        } else {
            &["--lr", "0.02"][..]
        },
    )
    .arg("--root")
    .arg(scratch.join("nmnist"))
    .arg("--cache")
    .arg(scratch.join("cache"))
    .args(extra);
    line
}

/// [`invoke`], which must succeed.
fn run(scratch: &Path, command: &str, extra: &[&str]) -> Output {
    let output = invoke(scratch, command, extra);
    assert!(output.status.success(), "{output:?}");
    output
}

/// The plots of a run or a comparison.
const PLOTS: [&str; 4] = ["accuracy.png", "loss.png", "firing_rate.png", "energy.png"];

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
}

#[test]
fn one_epoch_lowers_the_loss_and_records_everything_then_resumes() {
    let scratch = scratch("train");
    let out = scratch.join("run");
    let out_arg = out.to_str().unwrap();
    let output = run(
        &scratch,
        "train",
        &["--model", "snn", "--epochs", "1", "--out", out_arg],
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("seed-snn epoch 1/1"), "{stdout}");

    let record = json(&out.join("run.json"));
    assert_eq!(record["status"], "complete");
    assert_eq!(record["dataset"]["train_samples"], 48);
    assert_eq!(record["dataset"]["test_samples"], 18);
    assert_eq!(record["dataset"]["split_hash"].as_str().unwrap().len(), 64);
    let epochs = record["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 1);
    let initial = record["initial_test"]["loss"].as_f64().unwrap();
    let after = epochs[0]["test"]["loss"].as_f64().unwrap();
    assert!(
        after < initial,
        "test loss did not fall: {initial} → {after}"
    );
    for field in [
        "train_loss",
        "train_accuracy",
        "seconds_per_100_batches",
        "samples_per_second",
    ] {
        assert!(
            epochs[0][field].as_f64().unwrap() > 0.0,
            "{field}: {}",
            epochs[0]
        );
    }
    let rate = epochs[0]["test"]["hidden_activity"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&rate), "firing rate {rate}");
    assert!(record["ops"]["energy_nj"].as_f64().unwrap() > 0.0);
    let csv = std::fs::read_to_string(out.join("epochs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    for file in ["last.ckpt", "best.ckpt"] {
        assert!(out.join(file).is_file(), "{file}");
    }
    for plot in PLOTS {
        assert_png(&out.join(plot));
    }

    // The same command again refuses to overwrite; with --resume and more epochs it goes on.
    let again = invoke(&scratch, "train", &["--epochs", "1", "--out", out_arg]);
    assert!(!again.status.success());
    let stderr = String::from_utf8(again.stderr).unwrap();
    assert!(stderr.contains("already holds a training run"), "{stderr}");
    run(
        &scratch,
        "train",
        &["--epochs", "2", "--resume", "--out", out_arg],
    );
    let record = json(&out.join("run.json"));
    assert_eq!(record["epochs"].as_array().unwrap().len(), 2);

    // Fewer epochs than the run has finished: an error, not an inconsistent record.
    let fewer = invoke(
        &scratch,
        "train",
        &["--epochs", "1", "--resume", "--out", out_arg],
    );
    assert!(!fewer.status.success());
    let stderr = String::from_utf8(fewer.stderr).unwrap();
    assert!(
        stderr.contains("the run has finished 2, more than the 1 asked for"),
        "{stderr}"
    );
    // A damaged checkpoint: an error naming the file and the position, never a resumed run.
    let last = out.join("last.ckpt");
    let good = std::fs::read(&last).unwrap();
    let mut damaged = good.clone();
    damaged[good.len() / 2] ^= 0x80;
    std::fs::write(&last, &damaged).unwrap();
    let resumed = invoke(
        &scratch,
        "train",
        &["--epochs", "3", "--resume", "--out", out_arg],
    );
    assert!(!resumed.status.success());
    let stderr = String::from_utf8(resumed.stderr).unwrap();
    assert!(
        stderr.contains("last.ckpt: at byte") && stderr.contains("damaged"),
        "{stderr}"
    );
    std::fs::write(&last, &good).unwrap();
    // A run folder whose first epoch never ended (a record, no checkpoint) is not
    // overwritten either.
    let early = scratch.join("early");
    std::fs::create_dir_all(&early).unwrap();
    std::fs::copy(out.join("run.json"), early.join("run.json")).unwrap();
    let again = invoke(
        &scratch,
        "train",
        &["--epochs", "1", "--out", early.to_str().unwrap()],
    );
    assert!(!again.status.success());
    let stderr = String::from_utf8(again.stderr).unwrap();
    assert!(stderr.contains("already holds a training run"), "{stderr}");

    // A recording changed: the cache is rebuilt, and neither `eval` nor `--resume` takes the
    // new frames for the run's.
    let recording = scratch.join("nmnist/Test/0/0.bin");
    let mut events = nmnist::read(&recording).unwrap();
    events.x.reverse();
    nmnist::write(&recording, &events).unwrap();
    let rebuilt = run(&scratch, "prepare", &[]);
    let stdout = String::from_utf8(rebuilt.stdout).unwrap();
    assert!(stdout.contains("rebuilt the cache"), "{stdout}");
    let eval = spikeforge().args(["eval", out_arg]).output().unwrap();
    let stderr = String::from_utf8(eval.stderr).unwrap();
    assert!(
        !eval.status.success() && stderr.contains("are not the ones the run trained on"),
        "{stderr}"
    );
    let resumed = invoke(
        &scratch,
        "train",
        &["--epochs", "3", "--resume", "--out", out_arg],
    );
    let stderr = String::from_utf8(resumed.stderr).unwrap();
    assert!(
        !resumed.status.success() && stderr.contains("different data"),
        "{stderr}"
    );
    std::fs::remove_dir_all(scratch).unwrap();
}

/// Every numeric option is checked before any data is read or any folder written.
#[test]
fn out_of_range_options_are_refused_before_any_work() {
    let scratch = scratch("options");
    let out = scratch.join("run");
    for (option, value, expected) in [
        (
            "--lr",
            "nan",
            "the learning rate must be finite and above 0, not NaN",
        ),
        ("--lr", "inf", "not inf"),
        ("--lr", "-1", "not -1"),
        (
            "--momentum",
            "nan",
            "the momentum must be in [0, 1), not NaN",
        ),
        (
            "--weight-decay",
            "inf",
            "the weight decay must be finite and at least 0, not inf",
        ),
        ("--tau", "nan", "LIF tau must be a finite number > 1"),
        (
            "--train-ratio",
            "nan",
            "--train-ratio must be in (0, 1], not NaN",
        ),
        ("--epochs", "0", "--epochs must be at least 1, not 0"),
        (
            "--gamma",
            "0.5",
            "--gamma applies only with --schedule step",
        ),
        (
            "--tet-lambda",
            "0.1",
            "--tet-lambda applies only with --loss tet",
        ),
        (
            "--param",
            "width=0",
            "--param width=0: a network parameter must be at least 1",
        ),
        ("--param", "depth=3", "the network has no parameter `depth`"),
        ("--train-samples", "0", "--train-samples must be at least 1"),
        ("--augment", "blur", "unknown augmentation `blur`"),
        (
            "--augment",
            "cutout:0",
            "`cutout:0`: the value must be a number in (0, 1024]",
        ),
    ] {
        // `--option=value`, so that `-1` is not taken for an option.
        let assignment = format!("{option}={value}");
        let mut extra = vec![assignment.as_str(), "--out", out.to_str().unwrap()];
        if option == "--tau" {
            extra.extend(["--neuron", "lif"]);
        }
        let output = invoke(&scratch, "train", &extra);
        assert!(!output.status.success(), "{option} {value} accepted");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(expected), "{option} {value}: {stderr}");
        assert!(
            !out.exists() && !scratch.join("cache").exists(),
            "{option} {value}"
        );
    }
    std::fs::remove_dir_all(scratch).unwrap();
}

/// `kill -9` in the middle of training, then `--resume`: the same result as a run never
/// interrupted (checkpoints are written to a temporary file, then renamed).
#[test]
fn a_killed_training_resumes_to_the_uninterrupted_result() {
    let scratch = scratch("kill");
    let whole = scratch.join("whole");
    run(
        &scratch,
        "train",
        &["--epochs", "3", "--out", whole.to_str().unwrap()],
    );
    let killed = scratch.join("killed");
    let killed_arg = killed.to_str().unwrap();
    let mut child = on_synthetic_folder(&scratch, "train", &["--epochs", "3", "--out", killed_arg])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none()
        && !killed.join("last.ckpt").exists()
        && started.elapsed() < std::time::Duration::from_secs(120)
    {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    run(
        &scratch,
        "train",
        &["--epochs", "3", "--resume", "--out", killed_arg],
    );
    let (a, b) = (
        json(&whole.join("run.json")),
        json(&killed.join("run.json")),
    );
    assert_eq!(b["status"], "complete");
    for epoch in 0..3 {
        for field in ["test", "train_loss", "train_accuracy"] {
            assert_eq!(
                a["epochs"][epoch][field], b["epochs"][epoch][field],
                "epoch {epoch} {field}"
            );
        }
    }
    std::fs::remove_dir_all(scratch).unwrap();
}

/// `--device wgpu` trains on the GPU (lavapipe on CI) with the fused CubeCL neuron kernels,
/// names the adapter in the run record and evaluates there too.
#[cfg(feature = "wgpu")]
#[test]
fn train_and_eval_on_wgpu_record_the_device() {
    let scratch = scratch("wgpu");
    let out = scratch.join("run");
    let out_arg = out.to_str().unwrap();
    let output = invoke(
        &scratch,
        "train",
        &["--epochs", "1", "--device", "wgpu", "--out", out_arg],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() && stderr.contains("could not open the wgpu device") {
        assert!(
            std::env::var_os("SPIKEFORGE_REQUIRE_GPU").is_none(),
            "SPIKEFORGE_REQUIRE_GPU is set but wgpu could not be opened: {stderr}"
        );
        eprintln!("SKIPPED: no wgpu adapter on this machine");
        return;
    }
    assert!(output.status.success(), "{output:?}");
    let record = json(&out.join("run.json"));
    let device = record["device"].as_str().unwrap();
    assert!(device.starts_with("wgpu ("), "{device}");
    let initial = record["initial_test"]["loss"].as_f64().unwrap();
    let after = record["epochs"][0]["test"]["loss"].as_f64().unwrap();
    assert!(
        after < initial,
        "test loss did not fall: {initial} → {after}"
    );

    let output = spikeforge()
        .args([
            "eval",
            out_arg,
            "--device",
            "wgpu",
            "--repeats",
            "1",
            "--batch",
            "8",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let eval = json(&out.join("eval.json"));
    assert_eq!(eval["device"].as_str().unwrap(), device);
    let accuracy = eval["dense"]["accuracy"].as_f64().unwrap();
    let best = record["epochs"][0]["test"]["accuracy"].as_f64().unwrap();
    assert!(
        (accuracy - best).abs() < 1e-9,
        "eval {accuracy} vs training {best}"
    );
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn compare_trains_both_networks_on_the_same_data() {
    let scratch = scratch("compare");
    let out = scratch.join("compare");
    let output = run(
        &scratch,
        "compare",
        &["--epochs", "1", "--out", out.to_str().unwrap()],
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("MAC/sample") && stdout.contains("seed-cnn"),
        "{stdout}"
    );
    let comparison = json(&out.join("compare.json"));
    let (snn, cnn) = (&comparison["runs"][0], &comparison["runs"][1]);
    assert_eq!(snn["model"], "seed-snn");
    assert_eq!(cnn["model"], "seed-cnn");
    let (snn, cnn) = (&snn["record"], &cnn["record"]);
    assert_eq!(snn["model"]["network"]["name"], "seed-snn");
    assert_eq!(
        cnn["model"]["network"]["layers"][0]["type"],
        "mean_over_time"
    );
    assert_eq!(snn["dataset"], cnn["dataset"]);
    let ratios = &comparison["ratios"][0];
    assert_eq!(ratios["model"], "seed-snn");
    assert_eq!(ratios["reference"], "seed-cnn");
    assert!(ratios["time_per_batch_ratio"].as_f64().unwrap() > 0.0);
    assert!(comparison["runs"][1]["error"].is_null());
    assert!(snn["ops"]["acs"].as_f64().unwrap() > 0.0);
    assert_eq!(cnn["ops"]["layers"][2]["name"], "conv");
    assert_eq!(cnn["ops"]["layers"][2]["kind"], "mac");
    for plot in PLOTS {
        assert_png(&out.join(plot));
    }

    // `report`: the table of the compare folder's two runs, and their plots drawn anew; two
    // folders need `--out`.
    let plots = scratch.join("report");
    let report = |args: &[&Path]| spikeforge().arg("report").args(args).output().unwrap();
    let output = report(&[&out, Path::new("--out"), &plots]);
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8(output.stdout).unwrap();
    for (label, record) in [("seed-snn ", snn), ("seed-cnn ", cnn)] {
        let best = 100.0 * record["best_test_accuracy"].as_f64().unwrap();
        let row = table
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("{table}"));
        assert!(row.contains(&format!("{best:.2} %")), "{row}");
    }
    for plot in PLOTS {
        assert_png(&plots.join(plot));
    }
    let refused = report(&[&out.join("seed-snn"), &out.join("seed-cnn")]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8(refused.stderr)
            .unwrap()
            .contains("--out DIR")
    );

    // `eval`: the SNN dense and event-driven (the same predictions, up to summation order);
    // the CNN dense only, and a clear refusal of --sparse.
    let eval = |run: &str, extra: &[&str]| {
        spikeforge()
            .args(["eval", out.join(run).to_str().unwrap(), "--repeats", "1"])
            .args(extra)
            .output()
            .unwrap()
    };
    let evaluated = eval("seed-snn", &["--sparse"]);
    assert!(evaluated.status.success(), "{evaluated:?}");
    let record = json(&out.join("seed-snn/eval.json"));
    let samples = record["test_samples"].as_u64().unwrap();
    assert_eq!(samples, snn["dataset"]["test_samples"].as_u64().unwrap());
    let best = snn["best_test_accuracy"].as_f64().unwrap();
    assert!((record["dense"]["accuracy"].as_f64().unwrap() - best).abs() < 1e-9);
    let sparse = &record["sparse"];
    assert!(sparse["predictions_agreeing"].as_u64().unwrap() + 1 >= samples);
    assert!(sparse["speedup"].as_f64().unwrap() > 0.0);
    assert!((0.0..=1.0).contains(&sparse["firing_rate"].as_f64().unwrap()));
    assert!(sparse["input_event_density"].as_f64().unwrap() > 0.0);
    assert!(eval("seed-cnn", &[]).status.success());
    let refused = eval("seed-cnn", &["--sparse"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert!(
        stderr.contains("its layers are of another kind"),
        "{stderr}"
    );
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn compare_reports_a_diverging_network_and_keeps_the_other() {
    let scratch = scratch("diverge");
    let out = scratch.join("compare");
    // Far too high a learning rate for the CNN's T-summed counts; the SNN's spike rates
    // stay bounded.
    let output = run(
        &scratch,
        "compare",
        &[
            "--epochs",
            "1",
            "--lr",
            "3",
            "--cnn-input",
            "sum",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("seed-cnn: training the seed-cnn"),
        "{stderr}"
    );
    let comparison = json(&out.join("compare.json"));
    let cnn = &comparison["runs"][1];
    assert!(cnn["record"].is_null());
    assert_eq!(comparison["ratios"], serde_json::json!([]));
    let error = cnn["error"].as_str().unwrap();
    assert!(error.contains("diverged at epoch 1"), "{error}");
    assert_eq!(comparison["runs"][0]["record"]["status"], "complete");
    std::fs::remove_dir_all(scratch).unwrap();
}

/// `spikeforge train … | head -1`: the reader goes away after one line while training still
/// prints; the process must end without a panic (on Unix by SIGPIPE, as `yes | head -1` does).
#[test]
fn a_closed_pipe_ends_training_quietly() {
    use std::io::{BufRead, BufReader};

    let scratch = scratch("pipe");
    let out = scratch.join("run");
    let mut child = on_synthetic_folder(
        &scratch,
        "train",
        &["--epochs", "3", "--out", out.to_str().unwrap()],
    )
    .env("RUST_BACKTRACE", "1")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("nmnist: "), "{first}");
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            output.status.signal(),
            Some(13),
            "SIGPIPE ends it: {stderr}"
        );
    }
    std::fs::remove_dir_all(scratch).unwrap();
}

/// A user's network file with two conv layers, LIF neurons and pooling trains, resumes and
/// evaluates; its run record carries the network, so `eval` rebuilds it from the record
/// alone (the file may be gone).
#[test]
fn a_network_file_trains_resumes_and_evaluates() {
    let scratch = scratch("file");
    let file = scratch.join("two-conv-lif.toml");
    std::fs::write(
        &file,
        r#"
name = "two-conv-lif"
[params]
width = 4
[neuron]
model = "lif"
tau = 2.0
surrogate = "atan"
[[layers]]
type = "conv2d"
out_channels = "width"
padding = 1
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
type = "batch_norm2d"
[[layers]]
type = "neuron"
[[layers]]
type = "max_pool2d"
kernel = 2
[[layers]]
type = "flatten"
[[layers]]
type = "linear"
out_features = "classes"
"#,
    )
    .unwrap();
    let out = scratch.join("run");
    let out_arg = out.to_str().unwrap();
    let model = file.to_str().unwrap();
    let train = |extra: &[&str]| {
        let mut args = vec![
            "--model", model, "--loss", "ce", "--lr", "0.1", "--out", out_arg,
        ];
        args.extend(extra);
        run(&scratch, "train", &args)
    };
    let output = train(&["--epochs", "1", "--width", "6", "--tau", "3.0"]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("two-conv-lif epoch 1/1"), "{stdout}");
    train(&["--epochs", "2", "--width", "6", "--tau", "3.0", "--resume"]);
    let record = json(&out.join("run.json"));
    assert_eq!(record["epochs"].as_array().unwrap().len(), 2);
    let network = &record["model"]["network"];
    assert_eq!(network["layers"][0]["out_channels"], 6);
    assert_eq!(network["layers"][3]["out_channels"], 12);
    assert_eq!(network["layers"][1]["tau"], 3.0);
    let layers: Vec<&str> = record["epochs"][1]["test"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(layers, ["layers.1", "layers.5"]);
    let initial = record["initial_test"]["loss"].as_f64().unwrap();
    let after = record["epochs"][1]["test"]["loss"].as_f64().unwrap();
    assert!(
        after < initial,
        "test loss did not fall: {initial} → {after}"
    );
    // Another width is another network: resuming with it is refused.
    let other = invoke(
        &scratch,
        "train",
        &[
            "--model", model, "--epochs", "3", "--resume", "--out", out_arg,
        ],
    );
    let stderr = String::from_utf8(other.stderr).unwrap();
    assert!(
        !other.status.success() && stderr.contains("different network"),
        "{stderr}"
    );
    std::fs::remove_file(&file).unwrap();
    let eval = spikeforge()
        .args(["eval", out_arg, "--repeats", "1"])
        .output()
        .unwrap();
    assert!(eval.status.success(), "{eval:?}");
    let evaluated = json(&out.join("eval.json"));
    let best = record["best_test_accuracy"].as_f64().unwrap();
    assert!((evaluated["dense"]["accuracy"].as_f64().unwrap() - best).abs() < 1e-9);
    std::fs::remove_dir_all(scratch).unwrap();
}

/// Every preset trains from the command line (at a small width, one epoch).
#[test]
fn every_preset_trains_from_the_command_line() {
    let scratch = scratch("presets");
    let listing = spikeforge().arg("models").output().unwrap();
    assert!(listing.status.success(), "{listing:?}");
    let table = String::from_utf8(listing.stdout).unwrap();
    for preset in [
        "seed-snn",
        "seed-cnn",
        "nmnist-net",
        "cifar10dvs-net",
        "dvsgesture-net",
        "vggsnn",
        "sew-resnet",
        "shd-net",
    ] {
        assert!(table.lines().any(|l| l.starts_with(preset)), "{table}");
        let out = scratch.join(preset);
        run(
            &scratch,
            "train",
            &[
                "--model",
                preset,
                "--width",
                "2",
                "--epochs",
                "1",
                "--train-samples",
                "16",
                "--test-samples",
                "8",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        let record = json(&out.join("run.json"));
        assert_eq!(record["status"], "complete", "{preset}");
        assert_eq!(record["model"]["network"]["name"], preset);
    }
    let shown = spikeforge()
        .args(["models", "--show", "sew-resnet"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(shown.stdout)
            .unwrap()
            .contains("type = \"sew_block\"")
    );
    std::fs::remove_dir_all(scratch).unwrap();
}

/// The neuron options in `compare` apply to the networks with neuron layers (the CNN trains
/// as it is), and over a file's own neuron they replace what they contradict.
#[test]
fn neuron_options_apply_where_they_can() {
    let scratch = scratch("neuron-options");
    let out = scratch.join("compare");
    run(
        &scratch,
        "compare",
        &[
            "--epochs",
            "1",
            "--neuron",
            "lif",
            "--tau",
            "3",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let comparison = json(&out.join("compare.json"));
    let snn = &comparison["runs"][0]["record"]["model"]["network"]["layers"][1];
    assert_eq!(
        (snn["model"].as_str(), snn["tau"].as_f64()),
        (Some("lif"), Some(3.0))
    );
    assert_eq!(comparison["runs"][1]["record"]["status"], "complete");
    // nmnist-net's file sets a PLIF with tau = 2: `--neuron if` drops the tau.
    let plain = scratch.join("if");
    run(
        &scratch,
        "train",
        &[
            "--model",
            "nmnist-net",
            "--neuron",
            "if",
            "--width",
            "2",
            "--epochs",
            "1",
            "--out",
            plain.to_str().unwrap(),
        ],
    );
    let layer = &json(&plain.join("run.json"))["model"]["network"]["layers"][2];
    assert_eq!(layer["model"], "if");
    assert!(layer["tau"].is_null(), "{layer}");
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn shd_and_n_caltech101_train_from_the_command_line() {
    let scratch = std::env::temp_dir().join(format!("spikeforge-new-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let train = |dataset: &str, root: &Path, extra: &[&str]| {
        let out = scratch.join(format!("{dataset}-run"));
        let output = spikeforge()
            .args(["train", "--dataset", dataset, "--root"])
            .arg(root)
            .arg("--cache")
            .arg(scratch.join("cache"))
            .args([
                "--frames", "4", "--epochs", "1", "--batch", "4", "--width", "2",
            ])
            .args(extra)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        json(&out.join("run.json"))
    };

    // SHD: the events crate's HDF5 fixtures (5 training and 3 test spike trains), frames of
    // its 700 channels by default.
    let shd = scratch.join("shd");
    std::fs::create_dir_all(&shd).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/tests/fixtures/shd");
    for file in ["shd_train.h5", "shd_test.h5"] {
        std::fs::copy(fixtures.join(file), shd.join(file)).unwrap();
    }
    let record = train("shd", &shd, &["--model", "shd-net"]);
    assert_eq!(record["status"], "complete");
    assert_eq!(record["model"]["input"], serde_json::json!([2, 1, 700]));
    assert_eq!(record["model"]["classes"], 20);

    // N-Caltech101: 101 class folders of N-MNIST-format recordings from a 180×240 sensor.
    let caltech = scratch.join("caltech/extract/Caltech101");
    let mut state = 5u32;
    let mut next = move |n: u16| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        ((state >> 16) % u32::from(n)) as u16
    };
    for class in 0..101 {
        for i in 0..2 {
            let mut events = Events::default();
            for k in 0..64u64 {
                events.push(k * 10, next(240), next(180), next(2) as u8);
            }
            let path = caltech
                .join(format!("class_{class:03}"))
                .join(format!("image_{i:04}.bin"));
            nmnist::write(&path, &events).unwrap();
        }
    }
    let record = train(
        "n-caltech101",
        &scratch.join("caltech"),
        &[
            "--model",
            "seed-snn",
            "--size",
            "45x60",
            "--train-ratio",
            "0.5",
        ],
    );
    assert_eq!(record["status"], "complete");
    assert_eq!(record["model"]["input"], serde_json::json!([2, 45, 60]));
    assert_eq!(record["model"]["classes"], 101);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// `--augment`: the run trains with it, records it, and a resume with other augmentations is
/// refused (the same ones resume).
#[test]
fn augmentations_are_recorded_and_checked_on_resume() {
    let scratch = scratch("augment");
    let out = scratch.join("run");
    let out_arg = out.to_str().unwrap();
    let augment = [
        "--augment",
        "cutmix:0.5, flip-x,roll:3,cutout:8",
        "--loss",
        "ce",
    ];
    let mut extra = vec!["--epochs", "1", "--out", out_arg];
    extra.extend(augment);
    run(&scratch, "train", &extra);
    let record = json(&out.join("run.json"));
    assert_eq!(
        record["training"]["augment"],
        "flip-x,roll:3,cutout:8,cutmix:0.5"
    );
    assert_eq!(record["status"], "complete");

    let other = invoke(
        &scratch,
        "train",
        &[
            "--epochs",
            "2",
            "--resume",
            "--out",
            out_arg,
            "--loss",
            "ce",
            "--augment",
            "flip-x",
        ],
    );
    let stderr = String::from_utf8(other.stderr).unwrap();
    assert!(
        !other.status.success() && stderr.contains("different training settings"),
        "{stderr}"
    );
    let mut extra = vec!["--epochs", "2", "--resume", "--out", out_arg];
    extra.extend(augment);
    run(&scratch, "train", &extra);
    assert_eq!(
        json(&out.join("run.json"))["epochs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    std::fs::remove_dir_all(scratch).unwrap();
}
