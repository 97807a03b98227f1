//! What `train` and `compare` print and plot, and `spikeforge report`: the same table and
//! plots for finished runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use snn::train::{EpochMetrics, RUN_RECORD, RunRecord};

use crate::plots::{Series, YScale, bar_chart, line_chart};

/// Options of `spikeforge report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run folders written by `train`, or `compare` folders (the runs in them).
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
    let out = match (&args.out, args.runs.as_slice()) {
        (Some(out), _) => out.clone(),
        (None, [one]) => one.clone(),
        (None, _) => bail!(
            "{} folders given: say where the plots go with --out DIR",
            args.runs.len()
        ),
    };
    let mut records = Vec::new();
    let mut finished = Vec::new();
    for dir in &folders {
        let record = load_record(dir)?;
        if record.status == "complete" {
            records.push(record);
            finished.push(dir.clone());
        } else {
            eprintln!(
                "{}: left out, its run is not complete (status {}: it stopped or diverged; \
                 `--resume` continues it)",
                dir.display(),
                record.status
            );
        }
    }
    ensure!(
        !records.is_empty(),
        "no complete run among the folders given"
    );
    let labels = labels(&finished);
    let rows: Vec<(&str, &RunRecord)> = labels.iter().map(String::as_str).zip(&records).collect();
    print_table(&rows);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    plot_runs(&out, &rows);
    Ok(())
}

/// The run folders at `path`: itself if it holds `run.json`, else the runs of a `compare`
/// folder (its sub-folders holding `run.json`, in the order `compare.json` lists them).
fn run_folders(path: &Path) -> Result<Vec<PathBuf>> {
    if path.join(RUN_RECORD).is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let listed: Vec<String> = std::fs::read(path.join("compare.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|json| {
            json["runs"].as_array().map(|runs| {
                runs.iter()
                    .filter_map(|run| run["model"].as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default();
    let mut runs: Vec<PathBuf> = listed.iter().map(|name| path.join(name)).collect();
    if runs.is_empty()
        && let Ok(entries) = std::fs::read_dir(path)
    {
        runs = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        runs.sort();
    }
    runs.retain(|dir| dir.join(RUN_RECORD).is_file());
    if runs.is_empty() {
        bail!(
            "{}: neither a run folder (run.json) nor a compare folder (runs in sub-folders)",
            path.display()
        );
    }
    Ok(runs)
}

/// The run record in `dir/run.json`.
pub fn load_record(dir: &Path) -> Result<RunRecord> {
    let path = dir.join(RUN_RECORD);
    std::fs::metadata(&path).with_context(|| format!("{}: not a run folder", path.display()))?;
    RunRecord::read(&path)
        .with_context(|| format!("{}: not a spikeforge run record", path.display()))
}

/// A short label per folder: its name, or its last two path components where names repeat
/// (the `seed-snn` of two `compare` folders).
fn labels(folders: &[PathBuf]) -> Vec<String> {
    let name = |dir: &Path, parts: usize| {
        let components: Vec<String> = dir
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
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

/// One line per finished epoch of a network (`spiking` or not), shown as `label`.
pub fn print_epoch(label: &str, spiking: bool, epochs: usize, m: &EpochMetrics) {
    println!(
        "{label} epoch {}/{epochs}: train loss {:.4} acc {:.2} % | test loss {:.4} acc {:.2} % \
         (best {:.2} %) | {} {:.4} | {:.2} s/100 batches, {:.0} samples/s",
        m.epoch,
        m.train_loss,
        100.0 * m.train_accuracy,
        m.test.loss,
        100.0 * m.test.accuracy,
        100.0 * m.best_test_accuracy,
        if spiking {
            "firing rate"
        } else {
            "ReLU non-zero"
        },
        m.test.hidden_activity,
        m.seconds_per_100_batches,
        m.samples_per_second,
    );
}

/// The best epoch's metrics.
fn best_epoch(record: &RunRecord) -> Option<&EpochMetrics> {
    record.epochs.iter().find(|e| e.epoch == record.best_epoch)
}

/// What the hidden layers' activity is (`sn firing rate`, `relu non-zero share`, or for
/// several layers `firing rate (4 layers)`) and its value at the best epoch.
fn best_activity(record: &RunRecord) -> (String, f64) {
    let Some(epoch) = best_epoch(record) else {
        return ("activity".to_string(), f64::NAN);
    };
    let what = if record.model.is_spiking() {
        "firing rate"
    } else {
        "non-zero share"
    };
    let layer = match epoch.test.layers.as_slice() {
        [one] => format!("{} {what}", one.name),
        layers => format!("{what} ({} layers)", layers.len()),
    };
    (layer, epoch.test.hidden_activity)
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
    // Every measured layer of every run at its best epoch.
    let bars: Vec<(String, f64)> = runs
        .iter()
        .flat_map(|(name, record)| {
            best_epoch(record)
                .map(|e| e.test.layers.clone())
                .unwrap_or_default()
                .into_iter()
                .map(move |layer| (format!("{name} {}", layer.name), layer.rate))
        })
        .collect();
    // The energy estimate of every synaptic layer of every run.
    let energy: Vec<(String, f64)> = runs
        .iter()
        .flat_map(|(name, record)| {
            record
                .ops
                .iter()
                .flat_map(|ops| ops.layers.iter())
                .map(move |layer| (format!("{name} {}", layer.name), layer.energy_nj()))
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
                "Activity per layer at the best epoch (test set)",
                "share of outputs active per step",
                &bars,
            ),
        ),
        (
            "energy.png",
            bar_chart(
                &dir.join("energy.png"),
                "Estimated energy per sample and layer at the best epoch",
                "nJ per sample (4.6 pJ/MAC, 0.9 pJ/AC)",
                &energy,
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
