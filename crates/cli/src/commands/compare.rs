//! `spikeforge compare`: the seed experiment — the SNN and the CNN trained on the same data
//! and split, compared on accuracy, speed, activity, synaptic operations and energy.

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use snn::model::NetKind;
use snn::train::RunRecord;

use super::data::prepare_data;
use super::report;
use super::train::{ExperimentArgs, kind_name, train_one};

/// Options of `spikeforge compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    experiment: ExperimentArgs,
}

/// `compare.json`: both runs and their ratios.
#[derive(Debug, Serialize)]
struct Comparison<'a> {
    snn: &'a RunRecord,
    cnn: &'a RunRecord,
    /// SNN best test accuracy minus the CNN's, in points.
    accuracy_difference_points: f64,
    /// SNN training time per batch over the CNN's.
    snn_over_cnn_time_per_batch: f64,
    /// SNN training samples per second over the CNN's.
    snn_over_cnn_samples_per_second: f64,
    /// SNN energy estimate per sample over the CNN's.
    snn_over_cnn_energy_per_sample: f64,
}

/// Runs `spikeforge compare`.
pub fn run(args: &CompareArgs) -> Result<()> {
    let experiment = &args.experiment;
    let prepared = prepare_data(&experiment.data, experiment.seed)?;
    let dir = experiment.out_dir(format!("compare-{}-seed{}", prepared.name, experiment.seed));
    let snn = train_one(
        experiment,
        NetKind::Snn,
        &prepared,
        &dir.join(kind_name(NetKind::Snn)),
    )?;
    let cnn = train_one(
        experiment,
        NetKind::Cnn,
        &prepared,
        &dir.join(kind_name(NetKind::Cnn)),
    )?;
    report::print_table(&[("snn", &snn), ("cnn", &cnn)]);
    let energy = |r: &RunRecord| r.ops.as_ref().map_or(f64::NAN, |o| o.energy_nj);
    let comparison = Comparison {
        snn: &snn,
        cnn: &cnn,
        accuracy_difference_points: 100.0 * (snn.best_test_accuracy - cnn.best_test_accuracy),
        snn_over_cnn_time_per_batch: snn.seconds_per_100_batches() / cnn.seconds_per_100_batches(),
        snn_over_cnn_samples_per_second: snn.samples_per_second() / cnn.samples_per_second(),
        snn_over_cnn_energy_per_sample: energy(&snn) / energy(&cnn),
    };
    println!(
        "SNN − CNN accuracy: {:+.2} points; the SNN takes {:.2}× the CNN's time per batch \
         (same samples, same batch size); estimated energy per sample SNN/CNN: {:.2}×",
        comparison.accuracy_difference_points,
        comparison.snn_over_cnn_time_per_batch,
        comparison.snn_over_cnn_energy_per_sample
    );
    let json = serde_json::to_vec_pretty(&comparison)?;
    events::formats::write_atomically(&dir.join("compare.json"), &json)?;
    report::plot_runs(&dir, &[("snn", &snn), ("cnn", &cnn)]);
    println!("comparison record: {}", dir.join("compare.json").display());
    Ok(())
}
