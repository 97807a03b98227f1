//! What `train` and `compare` print and plot.

use std::path::Path;

use snn::model::NetKind;
use snn::train::{EpochMetrics, RunRecord};

use crate::plots::{Series, YScale, bar_chart, line_chart};

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

/// The seed report's table: best accuracy, speed, activity, operations and energy.
pub fn print_table(rows: &[(&str, &RunRecord)]) {
    println!(
        "\n{:<5} {:>22} {:>14} {:>10} {:>27} {:>11} {:>11} {:>14}",
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
            "{:<5} {:>22} {:>14.3} {:>10.0} {:>27} {:>11.3e} {:>11.3e} {:>11.1} nJ",
            name.to_uppercase(),
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
            label: format!("{} {what}", name.to_uppercase()),
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
            (format!("{} {layer}", name.to_uppercase()), activity)
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
