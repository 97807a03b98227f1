//! NIR, the neuromorphic intermediate representation (<https://neuroir.org>): trained
//! networks to and from the HDF5 files that SpikingJelly, snnTorch, Norse, Sinabs, Rockpool,
//! Spyx and Lava-DL read or write.
//!
//! - [`graph`]: [`NirGraph`], typed nodes and edges in memory.
//! - [`hdf5`]: the file, laid out exactly as the Python `nir` package writes and reads it
//!   (pure Rust, `hdf5-pure`); written atomically.
//! - [`export`]: a [`Network`] to a graph (SpikingJelly's `export_to_nir` parameter mapping,
//!   batch norm folded, what NIR cannot express an error naming the layer).
//! - [`import`]: a graph to a network description and its weights (SpikingJelly's
//!   `import_from_nir` rules, unsupported nodes an error naming the node).
//! - [`run`]: an imported network as a run folder that `spikeforge export` and
//!   `load_trained` read.
//!
//! Time: NIR neurons are continuous; the discrete neurons map with a time step `dt`
//! (default 1e-4 s, SpikingJelly's and snnTorch's). A NIR graph runs step by step: its
//! output is the last layer's output at each step, and spikeforge's class scores are the mean
//! of those over the steps (the readout is not a node). Thresholds: NIR's specification
//! fires at `v > θ`, SpikingJelly (and spikeforge) at `v ≥ θ`; SpikingJelly's NIR import
//! builds its own neurons, so both agree there.

pub mod export;
pub mod graph;
pub mod hdf5;
pub mod import;
pub mod run;

use std::path::Path;

use thiserror::Error;

pub use export::{DEFAULT_DT, ExportOptions, Exported, export};
pub use graph::{Array, NirGraph, Node};
pub use import::{Imported, import};
pub use run::write_run;

use crate::network::Network;

/// Errors of NIR export and import.
#[derive(Debug, Error)]
pub enum NirError {
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// The HDF5 reader or writer refused an object.
    #[error("{path}: HDF5 object `{object}`: {message}")]
    Hdf5 {
        /// The file.
        path: String,
        /// The object (`node/nodes/conv/weight`).
        object: String,
        /// The reader's message.
        message: String,
    },
    /// An object is not what a NIR file has there.
    #[error("{path}: HDF5 object `{object}`: expected {expected}")]
    Malformed {
        /// The file.
        path: String,
        /// The object.
        object: String,
        /// What was expected.
        expected: String,
    },
    /// A layer NIR cannot express.
    #[error("cannot export layer {layer} to NIR: {why}")]
    Export {
        /// The layer's name.
        layer: String,
        /// Why.
        why: String,
    },
    /// A node spikeforge cannot import.
    #[error("cannot import NIR node `{node}`: {why}")]
    Import {
        /// The node's name.
        node: String,
        /// Why.
        why: String,
    },
    /// The graph's shape (not one path from input to output).
    #[error("cannot import the NIR graph: {0}")]
    Graph(String),
    /// Invalid options.
    #[error("invalid NIR settings: {0}")]
    Settings(String),
    /// The imported network does not build or take its weights.
    #[error("the imported network: {0}")]
    Network(String),
}

/// Exports `network` to the NIR file `path` (atomically); returns the lossy mappings applied.
pub fn export_file(
    network: &Network,
    path: &Path,
    options: &ExportOptions,
) -> Result<Vec<String>, NirError> {
    let exported = export(network, options)?;
    hdf5::write(&exported.graph, path)?;
    Ok(exported.warnings)
}

/// Imports the NIR file at `path` as a network named after the file, its neurons read with
/// time step `dt`.
pub fn import_file(path: &Path, dt: f64) -> Result<Imported, NirError> {
    let graph = hdf5::read(path)?;
    let name = path.file_stem().map_or_else(
        || "imported".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    import(&graph, &name, dt).map_err(|error| match error {
        NirError::Import { node, why } => NirError::Import {
            node,
            why: format!("{why} (in {})", path.display()),
        },
        NirError::Graph(why) => NirError::Graph(format!("{}: {why}", path.display())),
        other => other,
    })
}
