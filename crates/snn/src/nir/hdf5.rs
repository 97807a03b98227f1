//! NIR graphs as HDF5 files, laid out as the Python `nir` package (1.0) writes and reads them:
//!
//! ```text
//! /version                       scalar UTF-8 string
//! /node/type                     scalar "NIRGraph"
//! /node/edges                    (N, 2) UTF-8 strings: (source, target)
//! /node/nodes/<name>/type        scalar string: the node's class (`Conv2d`, `IF`, …)
//! /node/nodes/<name>/<field>     one dataset per field: arrays gzip-compressed, integers int64
//! ```
//!
//! Written with `hdf5-pure` (pure Rust: no HDF5 C library to build); it also reads what
//! h5py writes (superblock 0, symbol-table groups, chunked gzip datasets). Problems in a
//! file are errors naming the file and the HDF5 object (`node/nodes/conv/weight`) and what
//! was expected there.

use std::path::Path;

use events::formats::hdf5_limits::{read_limit, size_problem};
use hdf5_pure::{File, FileBuilder, GroupBuilder};

use super::NirError;
use super::graph::{Array, NirGraph, Node};

/// The `nir` package version whose file layout this writes.
pub const NIR_VERSION: &str = "1.0.8";

/// gzip level of arrays (h5py's default, what `nir.write` uses).
const DEFLATE_LEVEL: u32 = 4;

/// Writes `graph` to `path` atomically (a temporary file beside it, then a rename).
pub fn write(graph: &NirGraph, path: &Path) -> Result<(), NirError> {
    let bytes = to_bytes(graph).map_err(|message| NirError::Hdf5 {
        path: path.display().to_string(),
        object: String::new(),
        message,
    })?;
    events::formats::write_atomically(path, &bytes).map_err(|e| NirError::Io(e.to_string()))
}

/// The bytes of an HDF5 file holding `graph`.
pub fn to_bytes(graph: &NirGraph) -> Result<Vec<u8>, String> {
    let mut file = FileBuilder::new();
    file.create_dataset("version")
        .with_vlen_strings(&[NIR_VERSION])
        .with_shape(&[]);
    let mut root = file.create_group("node");
    root.create_dataset("type")
        .with_vlen_strings(&["NIRGraph"])
        .with_shape(&[]);
    let ends: Vec<&str> = graph
        .edges
        .iter()
        .flat_map(|(from, to)| [from.as_str(), to.as_str()])
        .collect();
    root.create_dataset("edges")
        .with_vlen_strings(&ends)
        .with_shape(&[graph.edges.len() as u64, 2]);
    let mut nodes = root.create_group("nodes");
    for (name, node) in &graph.nodes {
        let mut group = nodes.create_group(name);
        write_node(&mut group, node);
        nodes.add_group(group.finish());
    }
    root.add_group(nodes.finish());
    file.add_group(root.finish());
    file.finish().map_err(|e| e.to_string())
}

fn write_node(group: &mut GroupBuilder, node: &Node) {
    group
        .create_dataset("type")
        .with_vlen_strings(&[node.kind()])
        .with_shape(&[]);
    let ints = |group: &mut GroupBuilder, name: &str, values: &[usize]| {
        let values: Vec<i64> = values.iter().map(|&v| v as i64).collect();
        group
            .create_dataset(name)
            .with_i64_data(&values)
            .with_shape(&[values.len() as u64]);
    };
    let scalar = |group: &mut GroupBuilder, name: &str, value: i64| {
        group
            .create_dataset(name)
            .with_i64_data(&[value])
            .with_shape(&[]);
    };
    match node {
        Node::Input { shape } | Node::Output { shape } => ints(group, "shape", shape),
        Node::Conv2d {
            input_shape,
            weight,
            bias,
            stride,
            padding,
            dilation,
            groups,
        } => {
            f32_array(group, "weight", weight);
            f32_array(group, "bias", bias);
            ints(group, "stride", stride);
            ints(group, "padding", padding);
            ints(group, "dilation", dilation);
            scalar(group, "groups", *groups as i64);
            ints(group, "input_shape", input_shape);
        }
        Node::Linear { weight } => f32_array(group, "weight", weight),
        Node::Affine { weight, bias } => {
            f32_array(group, "weight", weight);
            f32_array(group, "bias", bias);
        }
        Node::Flatten {
            input_type,
            start_dim,
            end_dim,
        } => {
            ints(group, "input_type", input_type);
            scalar(group, "start_dim", *start_dim);
            scalar(group, "end_dim", *end_dim);
        }
        Node::AvgPool2d {
            kernel_size,
            stride,
            padding,
        }
        | Node::SumPool2d {
            kernel_size,
            stride,
            padding,
        } => {
            ints(group, "kernel_size", kernel_size);
            ints(group, "stride", stride);
            ints(group, "padding", padding);
        }
        Node::If {
            r,
            v_threshold,
            v_reset,
        } => {
            for (name, array) in [("r", r), ("v_threshold", v_threshold), ("v_reset", v_reset)] {
                f64_array(group, name, array);
            }
        }
        Node::Lif {
            tau,
            r,
            v_leak,
            v_threshold,
            v_reset,
        } => {
            for (name, array) in [
                ("tau", tau),
                ("r", r),
                ("v_leak", v_leak),
                ("v_threshold", v_threshold),
                ("v_reset", v_reset),
            ] {
                f64_array(group, name, array);
            }
        }
        Node::Other { .. } => {}
    }
}

fn shape_u64(shape: &[usize]) -> Vec<u64> {
    shape.iter().map(|&s| s as u64).collect()
}

fn f32_array(group: &mut GroupBuilder, name: &str, array: &Array<f32>) {
    group
        .create_dataset(name)
        .with_f32_data(&array.values)
        .with_shape(&shape_u64(&array.shape))
        .with_deflate(DEFLATE_LEVEL);
}

fn f64_array(group: &mut GroupBuilder, name: &str, array: &Array<f64>) {
    group
        .create_dataset(name)
        .with_f64_data(&array.values)
        .with_shape(&shape_u64(&array.shape))
        .with_deflate(DEFLATE_LEVEL);
}

/// Reads the NIR graph in the file at `path`.
pub fn read(path: &Path) -> Result<NirGraph, NirError> {
    let bytes = std::fs::read(path)
        .map_err(|e| NirError::Io(format!("cannot read {}: {e}", path.display())))?;
    from_bytes(bytes, &path.display().to_string())
}

/// Reads a NIR graph from the bytes of an HDF5 file; `origin` names it in errors.
pub fn from_bytes(bytes: Vec<u8>, origin: &str) -> Result<NirGraph, NirError> {
    // hdf5-pure refuses malformed files with errors; a panic on hostile bytes would be its
    // bug, and is reported as an error too rather than ending the process.
    events::panics::quietly(std::panic::AssertUnwindSafe(|| parse(bytes, origin))).unwrap_or_else(
        |panic| {
            Err(NirError::Hdf5 {
                path: origin.to_string(),
                object: String::new(),
                message: format!("the HDF5 reader failed: {panic}"),
            })
        },
    )
}

fn parse(bytes: Vec<u8>, origin: &str) -> Result<NirGraph, NirError> {
    let limit = read_limit(bytes.len());
    let file = File::from_bytes(bytes).map_err(|e| NirError::Hdf5 {
        path: origin.to_string(),
        object: "/".into(),
        message: e.to_string(),
    })?;
    let reader = Reader {
        file: &file,
        origin,
        limit,
    };
    let kind = reader.string("node/type")?;
    if kind != "NIRGraph" {
        return Err(reader.malformed(
            "node/type",
            format!("\"NIRGraph\" (a NIR file's top node), found \"{kind}\""),
        ));
    }
    let names = file
        .group("node/nodes")
        .and_then(|group| group.groups())
        .map_err(|e| reader.hdf5("node/nodes", e))?;
    let mut nodes = Vec::with_capacity(names.len());
    for name in names {
        let node = reader.node(&format!("node/nodes/{name}"))?;
        nodes.push((name, node));
    }
    let edges = reader.edges("node/edges")?;
    for (from, to) in &edges {
        for end in [from, to] {
            if !nodes.iter().any(|(name, _)| name == end) {
                return Err(reader.malformed(
                    "node/edges",
                    format!("edges between the nodes of node/nodes; `{end}` is not one"),
                ));
            }
        }
    }
    Ok(NirGraph { nodes, edges })
}

/// Reads the objects of one file, naming the file and object in errors.
struct Reader<'a> {
    file: &'a File,
    origin: &'a str,
    /// The most bytes one dataset may decode to.
    limit: u64,
}

impl Reader<'_> {
    fn hdf5(&self, object: &str, error: hdf5_pure::Error) -> NirError {
        NirError::Hdf5 {
            path: self.origin.to_string(),
            object: object.to_string(),
            message: error.to_string(),
        }
    }

    fn malformed(&self, object: &str, expected: String) -> NirError {
        NirError::Malformed {
            path: self.origin.to_string(),
            object: object.to_string(),
            expected,
        }
    }

    /// The dataset `object`, refused if its header claims more than the file can hold.
    fn dataset(&self, object: &str) -> Result<hdf5_pure::Dataset, NirError> {
        let dataset = self
            .file
            .dataset(object)
            .map_err(|e| self.hdf5(object, e))?;
        match size_problem(&dataset, self.limit) {
            Some(problem) => Err(self.malformed(object, problem)),
            None => Ok(dataset),
        }
    }

    fn has(&self, object: &str) -> bool {
        self.file.dataset(object).is_ok()
    }

    fn shape(&self, object: &str) -> Result<Vec<usize>, NirError> {
        let shape = self
            .dataset(object)?
            .shape()
            .map_err(|e| self.hdf5(object, e))?;
        shape
            .into_iter()
            .map(|s| usize::try_from(s).map_err(|_| self.malformed(object, "a small shape".into())))
            .collect()
    }

    fn string(&self, object: &str) -> Result<String, NirError> {
        let values = self
            .dataset(object)?
            .read_string()
            .map_err(|e| self.hdf5(object, e))?;
        match <[String; 1]>::try_from(values) {
            Ok([value]) => Ok(value),
            Err(values) => {
                Err(self.malformed(object, format!("one string, found {} values", values.len())))
            }
        }
    }

    fn edges(&self, object: &str) -> Result<Vec<(String, String)>, NirError> {
        let shape = self.shape(object)?;
        let values = self
            .dataset(object)?
            .read_string()
            .map_err(|e| self.hdf5(object, e))?;
        let empty = shape.iter().product::<usize>() == 0;
        if !(empty || (shape.len() == 2 && shape[1] == 2)) || values.len() % 2 != 0 {
            return Err(self.malformed(
                object,
                format!("an (N, 2) array of node names, found shape {shape:?}"),
            ));
        }
        Ok(values
            .chunks_exact(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect())
    }

    fn checked<T>(&self, object: &str, values: Vec<T>) -> Result<Array<T>, NirError> {
        let shape = self.shape(object)?;
        if shape.iter().product::<usize>() != values.len() {
            return Err(self.malformed(
                object,
                format!("{} values for shape {shape:?}", values.len()),
            ));
        }
        Ok(Array { shape, values })
    }

    fn f32s(&self, object: &str) -> Result<Array<f32>, NirError> {
        let values = self
            .dataset(object)?
            .read_f32()
            .map_err(|e| self.hdf5(object, e))?;
        self.checked(object, values)
    }

    fn f64s(&self, object: &str) -> Result<Array<f64>, NirError> {
        let values = self
            .dataset(object)?
            .read_f64()
            .map_err(|e| self.hdf5(object, e))?;
        self.checked(object, values)
    }

    /// Non-negative integers (a scalar or an array).
    fn sizes(&self, object: &str) -> Result<Vec<usize>, NirError> {
        let values = self
            .dataset(object)?
            .read_i64()
            .map_err(|e| self.hdf5(object, e))?;
        values
            .into_iter()
            .map(|v| {
                usize::try_from(v).map_err(|_| {
                    self.malformed(object, format!("non-negative integers, found {v}"))
                })
            })
            .collect()
    }

    fn int(&self, object: &str) -> Result<i64, NirError> {
        let values = self
            .dataset(object)?
            .read_i64()
            .map_err(|e| self.hdf5(object, e))?;
        match values[..] {
            [value] => Ok(value),
            _ => Err(self.malformed(object, format!("one integer, found {values:?}"))),
        }
    }

    /// A pair `[h, w]`, given as two integers or one for both.
    fn pair(&self, object: &str) -> Result<[usize; 2], NirError> {
        match self.sizes(object)?[..] {
            [both] => Ok([both, both]),
            [h, w] => Ok([h, w]),
            ref other => {
                Err(self.malformed(object, format!("one or two integers, found {other:?}")))
            }
        }
    }

    fn node(&self, group: &str) -> Result<Node, NirError> {
        let field = |name: &str| format!("{group}/{name}");
        let kind = self.string(&field("type"))?;
        let f64s = |name: &str| self.f64s(&field(name));
        let node = match kind.as_str() {
            "Input" | "Output" => {
                // nir ≥ 1.0 writes `shape`; older files `input_type`/`output_type`.
                let key = ["shape", "input_type", "output_type"]
                    .into_iter()
                    .find(|k| self.has(&field(k)))
                    .unwrap_or("shape");
                let shape = self.sizes(&field(key))?;
                if kind == "Input" {
                    Node::Input { shape }
                } else {
                    Node::Output { shape }
                }
            }
            "Conv2d" => Node::Conv2d {
                input_shape: self.pair(&field("input_shape"))?,
                weight: self.f32s(&field("weight"))?,
                bias: self.f32s(&field("bias"))?,
                stride: self.pair(&field("stride"))?,
                padding: self.pair(&field("padding"))?,
                dilation: self.pair(&field("dilation"))?,
                groups: {
                    let groups = self.int(&field("groups"))?;
                    usize::try_from(groups).map_err(|_| {
                        self.malformed(
                            &field("groups"),
                            format!("a group count of at least 0, not {groups}"),
                        )
                    })?
                },
            },
            "Linear" => Node::Linear {
                weight: self.f32s(&field("weight"))?,
            },
            "Affine" => Node::Affine {
                weight: self.f32s(&field("weight"))?,
                bias: self.f32s(&field("bias"))?,
            },
            "Flatten" => Node::Flatten {
                input_type: if self.has(&field("input_type")) {
                    self.sizes(&field("input_type"))?
                } else {
                    Vec::new()
                },
                start_dim: self.int(&field("start_dim"))?,
                end_dim: self.int(&field("end_dim"))?,
            },
            "AvgPool2d" | "SumPool2d" => {
                let kernel_size = self.pair(&field("kernel_size"))?;
                let stride = self.pair(&field("stride"))?;
                let padding = if self.has(&field("padding")) {
                    self.pair(&field("padding"))?
                } else {
                    [0, 0]
                };
                if kind == "AvgPool2d" {
                    Node::AvgPool2d {
                        kernel_size,
                        stride,
                        padding,
                    }
                } else {
                    Node::SumPool2d {
                        kernel_size,
                        stride,
                        padding,
                    }
                }
            }
            "IF" => {
                let v_threshold = f64s("v_threshold")?;
                let v_reset = self.optional_reset(group, &v_threshold)?;
                Node::If {
                    r: f64s("r")?,
                    v_threshold,
                    v_reset,
                }
            }
            "LIF" => {
                let v_threshold = f64s("v_threshold")?;
                let v_reset = self.optional_reset(group, &v_threshold)?;
                Node::Lif {
                    tau: f64s("tau")?,
                    r: f64s("r")?,
                    v_leak: f64s("v_leak")?,
                    v_threshold,
                    v_reset,
                }
            }
            _ => Node::Other { kind },
        };
        Ok(node)
    }

    /// `v_reset`, or zeros of the threshold's shape where the file has none (nir < 1.0).
    fn optional_reset(
        &self,
        group: &str,
        v_threshold: &Array<f64>,
    ) -> Result<Array<f64>, NirError> {
        let object = format!("{group}/v_reset");
        if self.has(&object) {
            self.f64s(&object)
        } else {
            Ok(Array::full(&v_threshold.shape, 0.0))
        }
    }
}
