//! Network files (TOML). A file names the network, sets its parameters and default neuron
//! and lists its layers; sizes may be written in terms of the parameters and of `classes`
//! (the data's number of classes), so one file fits any dataset:
//!
//! ```toml
//! name = "two-conv-lif"
//! input = [2, 32, 32]          # [C, H, W] it is meant for (optional)
//! readout = "mean"             # or "per_step" (TET)
//!
//! [params]
//! width = 16                   # overridable: spikeforge train --width 32
//!
//! [neuron]                     # the default of every neuron layer
//! model = "lif"
//! tau = 2.0
//! surrogate = "atan"
//! detach_reset = true
//!
//! [[layers]]
//! type = "conv2d"
//! out_channels = "width"
//! padding = 1
//! [[layers]]
//! type = "neuron"
//! [[layers]]
//! type = "max_pool2d"
//! kernel = 2
//! [[layers]]
//! type = "flatten"
//! [[layers]]
//! type = "linear"
//! out_features = "classes"
//! ```
//!
//! A layer may set `name` (its state-dict prefix); by default it is `<prefix>.<index>`, the
//! file's `prefix` (default `layers`) and the layer's position. A size is a number, a
//! parameter, or a product such as `10 * classes`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use thiserror::Error;

use super::config::{NamedLayer, NetworkConfig, Readout};
use crate::nn::{LayerConfig, NeuronSpec};

/// The keys whose values are sizes (and may be expressions).
const SIZE_KEYS: [&str; 7] = [
    "out_channels",
    "out_features",
    "size",
    "kernel",
    "stride",
    "padding",
    "output",
];

/// A network file that cannot be used.
#[derive(Debug, Error)]
pub enum FileError {
    /// The file cannot be read.
    #[error("cannot read network file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or not a network.
    #[error("{origin}: {message}")]
    Invalid {
        /// The file (or `<text>`).
        origin: String,
        /// What is wrong, and where.
        message: String,
    },
}

/// A parsed network file, its sizes not yet resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkFile {
    origin: String,
    name: String,
    description: String,
    prefix: String,
    input: Option<[usize; 3]>,
    readout: Readout,
    params: BTreeMap<String, usize>,
    neuron: NeuronSpec,
    layers: Vec<toml::Table>,
}

fn default_prefix() -> String {
    "layers".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_prefix")]
    prefix: String,
    #[serde(default)]
    input: Option<[usize; 3]>,
    #[serde(default)]
    readout: Readout,
    #[serde(default)]
    params: BTreeMap<String, usize>,
    #[serde(default)]
    neuron: NeuronSpec,
    layers: Vec<toml::Table>,
}

impl NetworkFile {
    /// Reads and parses the file at `path`.
    pub fn read(path: &Path) -> Result<Self, FileError> {
        let text = std::fs::read_to_string(path).map_err(|source| FileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses TOML `text`; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, FileError> {
        let invalid = |message: String| FileError::Invalid {
            origin: origin.to_string(),
            message,
        };
        let header: Header = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if header.layers.is_empty() {
            return Err(invalid("the network has no [[layers]]".into()));
        }
        if header.params.contains_key("classes") {
            return Err(invalid(
                "`classes` is the data's number of classes; it cannot be a parameter".into(),
            ));
        }
        Ok(Self {
            origin: origin.to_string(),
            name: header.name,
            description: header.description,
            prefix: header.prefix,
            input: header.input,
            readout: header.readout,
            params: header.params,
            neuron: header.neuron,
            layers: header.layers,
        })
    }

    /// The network's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the network is, in a line.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The per-step input `[C, H, W]` it is meant for.
    pub fn input(&self) -> Option<[usize; 3]> {
        self.input
    }

    /// The parameters and their values in the file.
    pub fn params(&self) -> &BTreeMap<String, usize> {
        &self.params
    }

    /// The network for `classes` classes, parameters overridden by `overrides` (each must
    /// be a parameter of the file), the file's neuron as every neuron layer's default.
    pub fn resolve(
        &self,
        classes: usize,
        overrides: &BTreeMap<String, usize>,
    ) -> Result<NetworkConfig, FileError> {
        let invalid = |message: String| FileError::Invalid {
            origin: self.origin.clone(),
            message,
        };
        let mut params = self.params.clone();
        for (key, &value) in overrides {
            match params.get_mut(key) {
                Some(slot) => *slot = value,
                None => {
                    return Err(invalid(format!(
                        "the network has no parameter `{key}` to set (its parameters: {})",
                        self.params.keys().cloned().collect::<Vec<_>>().join(", ")
                    )));
                }
            }
        }
        params.insert("classes".into(), classes);
        let mut layers = Vec::with_capacity(self.layers.len());
        for (index, table) in self.layers.iter().enumerate() {
            let mut table = table.clone();
            let name = match table.remove("name") {
                None => format!("{}.{index}", self.prefix),
                Some(toml::Value::String(name)) => name,
                Some(other) => {
                    return Err(invalid(format!(
                        "layer {index}: `name` must be a string, got {other}"
                    )));
                }
            };
            for key in SIZE_KEYS {
                if let Some(value) = table.get_mut(key) {
                    resolve_size(value, &params)
                        .map_err(|problem| invalid(format!("layer {name}, `{key}`: {problem}")))?;
                }
            }
            let mut layer: LayerConfig = toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| invalid(format!("layer {name}: {}", e.message())))?;
            match &mut layer {
                LayerConfig::Neuron(spec) => *spec = spec.over(&self.neuron),
                LayerConfig::SewBlock(block) => block.neuron = block.neuron.over(&self.neuron),
                _ => {}
            }
            layers.push(NamedLayer { name, layer });
        }
        Ok(NetworkConfig {
            name: self.name.clone(),
            input: self.input,
            readout: self.readout,
            layers,
        })
    }
}

/// Replaces a size expression (`"width"`, `"10 * classes"`) by its number; arrays are
/// resolved element by element; numbers stay.
fn resolve_size(value: &mut toml::Value, params: &BTreeMap<String, usize>) -> Result<(), String> {
    match value {
        toml::Value::Array(items) => items.iter_mut().try_for_each(|v| resolve_size(v, params)),
        toml::Value::String(expression) => {
            let size = evaluate(expression, params)?;
            *value = toml::Value::Integer(size as i64);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `n`, `name` or a product of them.
fn evaluate(expression: &str, params: &BTreeMap<String, usize>) -> Result<usize, String> {
    expression
        .split('*')
        .map(str::trim)
        .try_fold(1usize, |product, factor| {
            let value = match factor.parse::<usize>() {
                Ok(number) => number,
                Err(_) => *params.get(factor).ok_or_else(|| {
                    format!(
                        "`{factor}` in \"{expression}\" is not a number or a parameter (known: {})",
                        params.keys().cloned().collect::<Vec<_>>().join(", ")
                    )
                })?,
            };
            product
                .checked_mul(value)
                .ok_or_else(|| format!("\"{expression}\" overflows"))
        })
}
