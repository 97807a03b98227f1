//! An imported network as a run folder (`run.json`, `best.ckpt`, `last.ckpt`), so that what
//! reads trained runs reads it too: `spikeforge export` (back to NIR), `load_trained` and
//! the Python package's `TrainedNetwork`.
//!
//! The record says where the network came from: status `imported`, no epochs, no data (the
//! dataset is named `nir`, with no frame cache, so `spikeforge eval`, which re-reads a run's
//! test set, has none to read; train the imported network file on data instead).

use std::path::Path;

use burn::module::Module;

use super::NirError;
use super::import::Imported;
use crate::network::Network;
use crate::train::{
    BEST_CHECKPOINT, Checkpoint, DatasetInfo, DatasetSource, Evaluation, LAST_CHECKPOINT,
    ModelInfo, RECORD_VERSION, RunRecord, TrainConfig,
};

/// The `status` of an imported run's record.
pub const IMPORTED: &str = "imported";

/// Writes `network` (built from `imported`) as a run folder `dir`, its record naming
/// `source` (the NIR file); each file atomically. Returns the record.
pub fn write_run(
    imported: &Imported,
    network: &Network,
    dir: &Path,
    source: &str,
) -> Result<RunRecord, NirError> {
    let [c, h, w] = imported.input;
    let record = RunRecord {
        record_version: RECORD_VERSION,
        spikeforge_version: env!("CARGO_PKG_VERSION").to_string(),
        status: IMPORTED.to_string(),
        model: ModelInfo {
            network: imported.network.clone(),
            input: imported.input,
            classes: imported.classes,
            parameters: network.num_parameters(),
        },
        training: TrainConfig {
            epochs: 0,
            ..TrainConfig::default()
        },
        dataset: DatasetInfo {
            source: DatasetSource {
                name: "nir".into(),
                location: source.to_string(),
                split_hash: String::new(),
                frames_checksum: String::new(),
                classes: (0..imported.classes).map(|i| i.to_string()).collect(),
            },
            train_samples: 0,
            test_samples: 0,
            sample_shape: [0, c, h, w],
        },
        device: "cpu".into(),
        threads: rayon::current_num_threads(),
        // Not measured (JSON has no NaN): no data was seen.
        initial_test: Evaluation {
            loss: 0.0,
            accuracy: 0.0,
            hidden_activity: 0.0,
            layers: Vec::new(),
        },
        epochs: Vec::new(),
        best_test_accuracy: 0.0,
        best_epoch: 0,
        ops: None,
    };
    let failed = |e: String| NirError::Io(format!("{}: {e}", dir.display()));
    let model = network
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| failed(e.to_string()))?;
    let checkpoint = Checkpoint {
        state: serde_json::json!({ "record": record }),
        model: model.to_vec(),
        optimizer: Vec::new(),
    };
    for name in [BEST_CHECKPOINT, LAST_CHECKPOINT] {
        checkpoint
            .save(&dir.join(name))
            .map_err(|e| failed(e.to_string()))?;
    }
    record.write(dir).map_err(|e| failed(e.to_string()))?;
    Ok(record)
}
