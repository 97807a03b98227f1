//! What `train` and `compare` print and plot, and `spikeforge report`: the same table and
//! plots for finished runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use snn::model::NetKind;
use snn::train::{EpochMetrics, RunRecord};

use crate::plots::{Series, YScale, bar_chart, line_chart};

/// Options of `spikeforge report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run folders written by `train`, or `compare` folders (their `snn` and `cnn` runs).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Where the plots go (default: the folder given, when only one is).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `spikeforge report`: the table of the runs, and their plots.
pub fn run(args: &ReportArgs) -> Result<()> {
    let mut folders = Vec::new();
    for path in &args.runs {
        folders.extend(run_folders(path)?);
    }
    let records = folders
        .iter()
        .map(|dir| load_record(dir))
        .collect::<Result<Vec<_>>>()?;
    let labels = labels(&folders);
    let rows: Vec<(&str, &RunRecord)> = labels.iter().map(String::as_str).zip(&records).collect();
    print_table(&rows);
    let out = match (&args.out, args.runs.as_slice()) {
        (Some(out), _) => out.clone(),
        (None, [one]) => one.clone(),
        (None, _) => bail!(
            "{} folders given: say where the plots go with --out DIR",
            args.runs.len()
        ),
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    plot_runs(&out, &rows);
    Ok(())
}

/// The run folders at `path`: itself if it holds `run.json`, else the runs of a `compare`
/// folder.
fn run_folders(path: &Path) -> Result<Vec<PathBuf>> {
    if path.join("run.json").is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let runs: Vec<PathBuf> = ["snn", "cnn"]
        .iter()
        .map(|name| path.join(name))
        .filter(|dir| dir.join("run.json").is_file())
        .collect();
    if runs.is_empty() {
        bail!(
            "{}: neither a run folder (run.json) nor a compare folder (snn/run.json, cnn/run.json)",
            path.display()
        );
    }
    Ok(runs)
}

/// The run record in `dir/run.json`.
pub fn load_record(dir: &Path) -> Result<RunRecord> {
    let path = dir.join("run.json");
    let bytes =
        std::fs::read(&path).with_context(|| format!("{}: not a run folder", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a spikeforge run record", path.display()))
}

/// A short label per folder: its name (a `compare` folder's `snn` and `cnn` as `SNN`, `CNN`),
/// or its last two path components where names repeat (the `snn` of two `compare` folders).
fn labels(folders: &[PathBuf]) -> Vec<String> {
    let name = |dir: &Path, parts: usize| {
        let components: Vec<String> = dir
            .components()
            .map(|c| match c.as_os_str().to_string_lossy().into_owned() {
                net if net == "snn" || net == "cnn" => net.to_uppercase(),
                other => other,
            })
            .collect();
        components[components.len().saturating_sub(parts)..].join("/")
    };
    let short: Vec<String> = folders.iter().map(|dir| name(dir, 1)).collect();
    let unique = short
        .iter()
        .all(|l| short.iter().filter(|m| *m == l).count() == 1);
    if unique {
        short
    } else {
        folders.iter().map(|dir| name(dir, 2)).collect()
    }
}

/// One line per finished epoch of a network of `kind`, shown as `label`.
pub fn print_epoch(label: &str, kind: NetKind, epochs: usize, m: &EpochMetrics) {
    println!(
        "{label} epoch {}/{epochs}: train loss {:.4} acc {:.2} % | test loss {:.4} acc {:.2} % \
         (best {:.2} %) | {} {:.4} | {:.2} s/100 batches, {:.0} samples/s",
        m.epoch,
        m.train_loss,
        100.0 * m.train_accuracy,
        m.test.loss,
        100.0 * m.test.accuracy,
        100.0 * m.best_test_accuracy,
        match kind {
            NetKind::Snn => "firing rate",
            NetKind::Cnn => "ReLU non-zero",
        },
        m.test.hidden_activity,
        m.seconds_per_100_batches,
        m.samples_per_second,
    );
}

/// The hidden layer's name and activity at the best epoch.
fn best_activity(record: &RunRecord) -> (String, f64) {
    let layer = match record.model.kind {
        NetKind::Snn => "if1 firing rate",
        NetKind::Cnn => "relu1 non-zero share",
    };
    let activity = record
        .epochs
        .iter()
        .find(|e| e.epoch == record.best_epoch)
        .map_or(f64::NAN, |e| e.test.hidden_activity);
    (layer.to_string(), activity)
}

/// The seed experiment's table: best accuracy, speed, activity, operations and energy.
pub fn print_table(rows: &[(&str, &RunRecord)]) {
    let width = rows.iter().map(|r| r.0.chars().count()).fold(5, usize::max);
    println!(
        "\n{:<width$} {:>22} {:>14} {:>10} {:>27} {:>11} {:>11} {:>14}",
        "model",
        "best test acc (epoch)",
        "s/100 batches",
        "samples/s",
        "hidden layer at best epoch",
        "MAC/sample",
        "AC/sample",
        "energy/sample"
    );
    for (name, record) in rows {
        let (layer, activity) = best_activity(record);
        let (macs, acs, energy) = record
            .ops
            .as_ref()
            .map_or((f64::NAN, f64::NAN, f64::NAN), |o| {
                (o.macs, o.acs, o.energy_nj)
            });
        println!(
            "{:<width$} {:>22} {:>14.3} {:>10.0} {:>27} {:>11.3e} {:>11.3e} {:>11.1} nJ",
            name,
            format!(
                "{:.2} % ({})",
                100.0 * record.best_test_accuracy,
                record.best_epoch
            ),
            record.seconds_per_100_batches(),
            record.samples_per_second(),
            format!("{layer} {activity:.3}"),
            macs,
            acs,
            energy,
        );
    }
    println!(
        "(times: training only, median over epochs, on {}; energy: 4.6 pJ/MAC, 0.9 pJ/AC, 45 nm)",
        rows.first().map_or("?", |r| r.1.device.as_str()),
    );
}

/// Accuracy and loss curves of `runs`, and their hidden layers' activity, as PNGs in `dir`.
/// A plot that cannot be drawn is reported, not fatal: the run's results are already saved.
pub fn plot_runs(dir: &Path, runs: &[(&str, &RunRecord)]) {
    let curve =
        |name: &str, what: &str, value: fn(&EpochMetrics) -> f64, record: &RunRecord| Series {
            label: format!("{name} {what}"),
            points: record
                .epochs
                .iter()
                .map(|e| (e.epoch as f64, value(e)))
                .collect(),
        };
    let mut accuracy = Vec::new();
    let mut loss = Vec::new();
    for (name, record) in runs {
        accuracy.push(curve(name, "train", |e| 100.0 * e.train_accuracy, record));
        accuracy.push(curve(name, "test", |e| 100.0 * e.test.accuracy, record));
        let mut train_loss = curve(name, "train", |e| e.train_loss, record);
        let mut test_loss = curve(name, "test", |e| e.test.loss, record);
        test_loss.points.insert(0, (0.0, record.initial_test.loss));
        train_loss.points.retain(|p| p.1.is_finite());
        loss.push(train_loss);
        loss.push(test_loss);
    }
    let bars: Vec<(String, f64)> = runs
        .iter()
        .map(|(name, record)| {
            let (layer, activity) = best_activity(record);
            (format!("{name} {layer}"), activity)
        })
        .collect();
    let results = [
        (
            "accuracy.png",
            line_chart(
                &dir.join("accuracy.png"),
                "Accuracy",
                "accuracy (%)",
                YScale::Linear,
                &accuracy,
            ),
        ),
        (
            "loss.png",
            line_chart(
                &dir.join("loss.png"),
                "Loss",
                "loss per sample (log scale)",
                YScale::Log,
                &loss,
            ),
        ),
        (
            "firing_rate.png",
            bar_chart(
                &dir.join("firing_rate.png"),
                "Hidden-layer activity at the best epoch (test set)",
                "share of outputs active per step",
                &bars,
            ),
        ),
    ];
    for (file, result) in results {
        match result {
            Ok(()) => println!("plot: {}", dir.join(file).display()),
            Err(error) => eprintln!("warning: no plot {file}: {error:#}"),
        }
    }
}
