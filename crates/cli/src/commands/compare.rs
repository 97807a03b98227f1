//! `spikeforge compare`: networks trained on the same data and split — by default the seed
//! experiment's SNN and CNN — compared on accuracy, speed, activity, synaptic operations and
//! energy.

use std::path::PathBuf;

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use serde::Serialize;
use snn::train::{RunRecord, TrainError};

use super::data::prepare_data;
use super::model::ModelSource;
use super::report;
use super::train::{ExperimentArgs, train_one};

/// Options of `spikeforge compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The networks, comma-separated: presets or network files; each is compared with the
    /// last.
    #[arg(long, value_delimiter = ',', default_value = "seed-snn,seed-cnn")]
    models: Vec<String>,
    #[command(flatten)]
    experiment: ExperimentArgs,
}

/// `compare.json`: every run (or why it stopped) and the ratios against the last.
#[derive(Debug, Serialize)]
struct Comparison<'a> {
    runs: Vec<Outcome<'a>>,
    /// Each finished network against the last one, when that finished.
    ratios: Vec<Ratios>,
}

#[derive(Debug, Serialize)]
struct Outcome<'a> {
    model: &'a str,
    record: Option<&'a RunRecord>,
    /// Why its training stopped, if it diverged.
    error: Option<String>,
}

/// One network against the reference (the last).
#[derive(Debug, Serialize)]
struct Ratios {
    model: String,
    reference: String,
    /// Best test accuracy minus the reference's, in points.
    accuracy_difference_points: f64,
    /// Training time per batch over the reference's.
    time_per_batch_ratio: f64,
    /// Training samples per second over the reference's.
    samples_per_second_ratio: f64,
    /// Energy estimate per sample over the reference's.
    energy_per_sample_ratio: f64,
}

impl Ratios {
    fn new((model, run): (&str, &RunRecord), (reference, base): (&str, &RunRecord)) -> Self {
        let energy = |r: &RunRecord| r.ops.as_ref().map_or(f64::NAN, |o| o.energy_nj);
        Self {
            model: model.to_string(),
            reference: reference.to_string(),
            accuracy_difference_points: 100.0 * (run.best_test_accuracy - base.best_test_accuracy),
            time_per_batch_ratio: run.seconds_per_100_batches() / base.seconds_per_100_batches(),
            samples_per_second_ratio: run.samples_per_second() / base.samples_per_second(),
            energy_per_sample_ratio: energy(run) / energy(base),
        }
    }
}

/// Runs `spikeforge compare`. A network whose training diverges is reported and the others
/// still train; any other error stops the command. Returns the comparison record's path.
pub fn run(args: &CompareArgs) -> Result<PathBuf> {
    let experiment = &args.experiment;
    experiment.validate()?;
    let sources = args
        .models
        .iter()
        .map(|model| ModelSource::find(model).context("--models"))
        .collect::<Result<Vec<_>>>()?;
    ensure!(
        sources.len() >= 2,
        "--models needs at least two networks, got {:?}",
        args.models
    );
    for (i, source) in sources.iter().enumerate() {
        if let Some(other) = sources[..i]
            .iter()
            .find(|other| other.name.eq_ignore_ascii_case(&source.name))
        {
            bail!(
                "--models: `{}` and `{}` would both train into the folder `{}`; give the \
                 network files other names",
                other.name,
                source.name,
                source.name
            );
        }
        experiment.network.precheck(source, false)?;
    }
    experiment.network.check_applies(&sources)?;
    let prepared = prepare_data(&experiment.data, experiment.seed)?;
    let dir = experiment.out_dir(format!("compare-{}-seed{}", prepared.name, experiment.seed));
    let mut outcomes = Vec::new();
    for source in &sources {
        let label = source.name.as_str();
        match train_one(experiment, (source, false), &prepared, &dir.join(label)) {
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
    ensure!(!finished.is_empty(), "every network's training diverged");
    report::print_table(&finished);
    let reference = outcomes
        .last()
        .and_then(|(name, outcome)| outcome.as_ref().ok().map(|r| (*name, r)));
    let ratios: Vec<Ratios> = match reference {
        Some(reference) => finished[..finished.len() - 1]
            .iter()
            .map(|&run| Ratios::new(run, reference))
            .collect(),
        None => Vec::new(),
    };
    for r in &ratios {
        println!(
            "{} − {} accuracy: {:+.2} points; the {} takes {:.2}× the {}'s time per batch \
             (same samples, same batch size); estimated energy per sample {}/{}: {:.2}×",
            r.model,
            r.reference,
            r.accuracy_difference_points,
            r.model,
            r.time_per_batch_ratio,
            r.reference,
            r.model,
            r.reference,
            r.energy_per_sample_ratio
        );
    }
    if reference.is_none() {
        println!("no ratios: the reference network's training diverged (see above)");
    }
    let comparison = Comparison {
        runs: outcomes
            .iter()
            .map(|(model, outcome)| Outcome {
                model,
                record: outcome.as_ref().ok(),
                error: outcome.as_ref().err().cloned(),
            })
            .collect(),
        ratios,
    };
    let json = serde_json::to_vec_pretty(&comparison)?;
    let record = dir.join("compare.json");
    events::formats::write_atomically(&record, &json)?;
    report::plot_runs(&dir, &finished);
    println!("comparison record: {}", record.display());
    Ok(record)
}

/// Whether training stopped because the loss diverged.
fn diverged(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<TrainError>(),
        Some(TrainError::Diverged { .. } | TrainError::NonFinite { .. })
    )
}
