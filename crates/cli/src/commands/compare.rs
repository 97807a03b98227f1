//! `spikeforge compare`: the seed experiment — the SNN and the CNN trained on the same data
//! and split, compared on accuracy, speed, activity, synaptic operations and energy.

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use snn::model::NetKind;
use snn::train::{RunRecord, TrainError};

use super::data::prepare_data;
use super::report;
use super::train::{ExperimentArgs, kind_label, kind_name, train_one};

/// Options of `spikeforge compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    experiment: ExperimentArgs,
}

/// `compare.json`: both runs (or why one stopped) and their ratios.
#[derive(Debug, Serialize)]
struct Comparison<'a> {
    snn: Option<&'a RunRecord>,
    cnn: Option<&'a RunRecord>,
    /// Why the SNN's training stopped, if it diverged.
    snn_error: Option<String>,
    /// Why the CNN's training stopped, if it diverged.
    cnn_error: Option<String>,
    /// The ratios, when both finished.
    ratios: Option<Ratios>,
}

/// SNN against CNN.
#[derive(Debug, Serialize)]
struct Ratios {
    /// SNN best test accuracy minus the CNN's, in points.
    accuracy_difference_points: f64,
    /// SNN training time per batch over the CNN's.
    snn_over_cnn_time_per_batch: f64,
    /// SNN training samples per second over the CNN's.
    snn_over_cnn_samples_per_second: f64,
    /// SNN energy estimate per sample over the CNN's.
    snn_over_cnn_energy_per_sample: f64,
}

impl Ratios {
    fn new(snn: &RunRecord, cnn: &RunRecord) -> Self {
        let energy = |r: &RunRecord| r.ops.as_ref().map_or(f64::NAN, |o| o.energy_nj);
        Self {
            accuracy_difference_points: 100.0 * (snn.best_test_accuracy - cnn.best_test_accuracy),
            snn_over_cnn_time_per_batch: snn.seconds_per_100_batches()
                / cnn.seconds_per_100_batches(),
            snn_over_cnn_samples_per_second: snn.samples_per_second() / cnn.samples_per_second(),
            snn_over_cnn_energy_per_sample: energy(snn) / energy(cnn),
        }
    }
}

/// Runs `spikeforge compare`. A network whose training diverges is reported and the other
/// still trains; any other error stops the command.
pub fn run(args: &CompareArgs) -> Result<()> {
    let experiment = &args.experiment;
    experiment.validate()?;
    let prepared = prepare_data(&experiment.data, experiment.seed)?;
    let dir = experiment.out_dir(format!("compare-{}-seed{}", prepared.name, experiment.seed));
    let mut outcomes = Vec::new();
    for kind in [NetKind::Snn, NetKind::Cnn] {
        let label = kind_label(kind);
        match train_one(experiment, kind, &prepared, &dir.join(kind_name(kind))) {
            Ok(record) => outcomes.push((label, Ok(record))),
            Err(error) if diverged(&error) => {
                eprintln!("{label}: {error:#}");
                outcomes.push((label, Err(format!("{error:#}"))));
            }
            Err(error) => return Err(error),
        }
    }
    let finished: Vec<(&str, &RunRecord)> = outcomes
        .iter()
        .filter_map(|(name, outcome)| outcome.as_ref().ok().map(|r| (*name, r)))
        .collect();
    anyhow::ensure!(!finished.is_empty(), "both networks' training diverged");
    report::print_table(&finished);
    let record = |i: usize| outcomes[i].1.as_ref().ok();
    let error = |i: usize| outcomes[i].1.as_ref().err().cloned();
    let comparison = Comparison {
        snn: record(0),
        cnn: record(1),
        snn_error: error(0),
        cnn_error: error(1),
        ratios: record(0)
            .zip(record(1))
            .map(|(snn, cnn)| Ratios::new(snn, cnn)),
    };
    match &comparison.ratios {
        Some(ratios) => println!(
            "SNN − CNN accuracy: {:+.2} points; the SNN takes {:.2}× the CNN's time per batch \
             (same samples, same batch size); estimated energy per sample SNN/CNN: {:.2}×",
            ratios.accuracy_difference_points,
            ratios.snn_over_cnn_time_per_batch,
            ratios.snn_over_cnn_energy_per_sample
        ),
        None => println!("no comparison: a network's training diverged (see above)"),
    }
    let json = serde_json::to_vec_pretty(&comparison)?;
    events::formats::write_atomically(&dir.join("compare.json"), &json)?;
    report::plot_runs(&dir, &finished);
    println!("comparison record: {}", dir.join("compare.json").display());
    Ok(())
}

/// Whether training stopped because the loss diverged.
fn diverged(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<TrainError>(),
        Some(TrainError::Diverged { .. } | TrainError::NonFinite { .. })
    )
}
