//! The HDF5 side: the model config attribute of a legacy `.h5`, and the weight datasets in the two
//! layouts Keras writes.
//!
//! Legacy `.h5` (`model.save("m.h5")`, tf.keras 2 and Keras 3 alike):
//! ```text
//! /                          attrs: model_config (JSON), keras_version, backend
//! /model_weights             attrs: layer_names [str], keras_version, backend
//! /model_weights/<layer>     attrs: weight_names [str], in the layer's variable order
//! /model_weights/<layer>/<weight name>    one dataset per weight name, e.g.
//!      tf.keras 2: `lstm/lstm_cell/kernel:0`      Keras 3: `sequential/lstm/lstm_cell/kernel`
//! ```
//! tf.keras 2 stored the strings as fixed-length byte strings, Keras 3 (h5py 3) as variable-length
//! strings; `weight_names` longer than HDF5's 64 KiB header limit is split over `weight_names0`,
//! `weight_names1`, … . We match a weight by the last component of its name, less any `:0`.
//!
//! `model.weights.h5` inside a Keras 3 `.keras` zip: `/layers/<key>/vars/<i>` for the Embedding
//! and Dense layers and `/layers/<key>/cell/vars/<i>` for an RNN's cell, `i` in the order of the
//! layer's variables (`embeddings`; `kernel, recurrent_kernel, bias`; `kernel, bias`). The key is
//! not the layer's name: Keras 3's `saving_lib` uses the snake-cased class name, made unique with
//! `_1`, `_2`, … in layer order (`embedding`, `lstm`, `simple_rnn`, `dense`; a model we accept has
//! one of each). A file keyed by layer name instead is read too.
//!
//! Every dataset's shape and datatype are checked before its data is read, so no allocation is
//! larger than the model the config describes.

use hdf5_pure::{AttrValue, DType, File};

use crate::{Problem, Tensor};

/// Where a model's weights live in its HDF5 file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `model_weights/<layer>/<weight name>` with `weight_names` attributes.
    Legacy,
    /// `layers/<layer>[/cell]/vars/<i>` (Keras 3 `model.weights.h5`).
    Keras3,
}

/// Parses the HDF5 superblock and root group.
pub(crate) fn open(bytes: Vec<u8>, what: &str) -> Result<File, Problem> {
    if let Some(eof) = declared_end(&bytes) {
        // Like the HDF5 library: a file shorter than its superblock says is truncated; a longer
        // one (space reserved past the end) is fine.
        if eof > bytes.len() as u64 {
            return Err(Problem::Hdf5 {
                object: what.to_owned(),
                message: format!(
                    "truncated: the file is {} bytes but its superblock says {eof}",
                    bytes.len()
                ),
            });
        }
    }
    File::from_bytes(bytes).map_err(|e| Problem::Hdf5 {
        object: what.to_owned(),
        message: e.to_string(),
    })
}

/// The file length the superblock at offset 0 declares (its end-of-file address plus the base
/// address), for superblock versions 0 to 3 with 8-byte offsets; `None` when it cannot be read
/// here, which leaves the checks to the HDF5 reader. A truncated file then fails with its length
/// named instead of a confusing "missing attribute" from a root group cut short.
fn declared_end(b: &[u8]) -> Option<u64> {
    if b.get(..8)? != b"\x89HDF\r\n\x1a\n" {
        return None;
    }
    let (offset_size, base_at) = match *b.get(8)? {
        0 => (*b.get(13)?, 24),
        1 => (*b.get(13)?, 28),
        2 | 3 => (*b.get(9)?, 12),
        _ => return None,
    };
    if offset_size != 8 {
        return None;
    }
    let read = |at: usize| Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?));
    read(base_at)?.checked_add(read(base_at + 16)?)
}

/// One string attribute of the root group, if present.
pub(crate) fn root_string(file: &File, key: &str) -> Result<Option<String>, Problem> {
    let attrs = file
        .root()
        .attrs()
        .map_err(|e| hdf5(e, "/ (root attributes)"))?;
    match attrs.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .map(|s| Some(s.to_owned()))
            .ok_or_else(|| Problem::Hdf5 {
                object: format!("/ attribute `{key}`"),
                message: "expected one string".into(),
            }),
    }
}

/// A weight to find: our name, Keras' variable name, its position in the layer, and its shape
/// (`None` for a dimension only the file can tell: the one-hot width).
pub(crate) struct Want {
    pub name: &'static str,
    pub var: &'static str,
    pub shape: [Option<usize>; 2],
    pub rank: usize,
    /// The largest value a `None` dimension may take.
    pub free_max: usize,
}

/// Reads the weights of one layer.
pub(crate) fn read_layer(
    file: &File,
    layout: Layout,
    layer: &str,
    key: &str,
    cell: bool,
    wants: &[Want],
    max_bytes: u64,
) -> Result<Vec<Tensor>, Problem> {
    let paths: Vec<String> = match layout {
        Layout::Keras3 => {
            let by_name = format!("layers/{layer}");
            let key =
                if file.group(&format!("layers/{key}")).is_err() && file.group(&by_name).is_ok() {
                    layer
                } else {
                    key
                };
            let base = if cell {
                format!("layers/{key}/cell/vars")
            } else {
                format!("layers/{key}/vars")
            };
            (0..wants.len()).map(|i| format!("{base}/{i}")).collect()
        }
        Layout::Legacy => legacy_paths(file, layer, wants)?,
    };
    wants
        .iter()
        .zip(paths)
        .map(|(want, path)| read_dataset(file, layer, &path, want, max_bytes))
        .collect()
}

/// The dataset path of each wanted weight, from the layer group's `weight_names`.
fn legacy_paths(file: &File, layer: &str, wants: &[Want]) -> Result<Vec<String>, Problem> {
    let group_path = format!("model_weights/{layer}");
    let group = file.group(&group_path).map_err(|e| match e {
        hdf5_pure::Error::Format(hdf5_pure::FormatError::PathNotFound(_)) => {
            Problem::MissingDataset {
                layer: layer.to_owned(),
                dataset: format!("/{group_path} (the layer's weight group)"),
            }
        }
        e => hdf5(e, &format!("/{group_path}")),
    })?;
    let attrs = group
        .attrs()
        .map_err(|e| hdf5(e, &format!("/{group_path} (attributes)")))?;
    let names = string_list(&attrs, "weight_names").ok_or_else(|| Problem::Hdf5 {
        object: format!("/{group_path}"),
        message: "no `weight_names` string attribute".into(),
    })?;
    wants
        .iter()
        .map(|want| {
            let mut found = names.iter().filter(|n| base_name(n) == want.var);
            match (found.next(), found.next()) {
                (Some(n), None) => Ok(format!("{group_path}/{n}")),
                (None, _) => Err(Problem::MissingDataset {
                    layer: layer.to_owned(),
                    dataset: format!(
                        "/{group_path}/…/{} (weight_names: [{}])",
                        want.var,
                        names.join(", ")
                    ),
                }),
                (Some(a), Some(b)) => Err(Problem::Hdf5 {
                    object: format!("/{group_path}"),
                    message: format!("two weights named `{}`: `{a}` and `{b}`", want.var),
                }),
            }
        })
        .collect()
}

/// `lstm/lstm_cell/kernel:0` → `kernel`.
fn base_name(name: &str) -> &str {
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.rsplit_once(':') {
        Some((stem, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => stem,
        _ => last,
    }
}

/// A list-of-strings attribute, whole or split by Keras into `key0`, `key1`, … chunks.
fn string_list(
    attrs: &std::collections::HashMap<String, AttrValue>,
    key: &str,
) -> Option<Vec<String>> {
    let strings = |v: &AttrValue| -> Option<Vec<String>> {
        match v.as_strings() {
            Some(s) => Some(s.to_vec()),
            // An empty list is saved as an empty float array (numpy's default dtype).
            None if matches!(v, AttrValue::F64Array(a) if a.is_empty()) => Some(Vec::new()),
            None => None,
        }
    };
    if let Some(v) = attrs.get(key) {
        return strings(v);
    }
    let mut out = Vec::new();
    let mut chunk = 0;
    while let Some(v) = attrs.get(&format!("{key}{chunk}")) {
        out.extend(strings(v)?);
        chunk += 1;
    }
    (chunk > 0).then_some(out)
}

/// One dataset, its shape checked against `want` and its data size against `max_bytes` (the
/// file's size: Keras never compresses weights, so a larger claim is corrupt) before it is read.
fn read_dataset(
    file: &File,
    layer: &str,
    path: &str,
    want: &Want,
    max_bytes: u64,
) -> Result<Tensor, Problem> {
    let shown = format!("/{path}");
    let ds = file.dataset(path).map_err(|e| match e {
        hdf5_pure::Error::Format(hdf5_pure::FormatError::PathNotFound(_)) => {
            Problem::MissingDataset {
                layer: layer.to_owned(),
                dataset: shown.clone(),
            }
        }
        e => hdf5(e, &shown),
    })?;
    let shape = ds.shape().map_err(|e| hdf5(e, &shown))?;
    let expected = &want.shape[..want.rank];
    let shape_text = |dims: &[Option<usize>]| {
        let parts: Vec<String> = dims
            .iter()
            .map(|d| d.map_or("V".to_owned(), |n| n.to_string()))
            .collect();
        format!("shape [{}] (`{}`)", parts.join(", "), want.name)
    };
    let fits = shape.len() == expected.len()
        && shape.iter().zip(expected).all(|(&n, e)| match e {
            Some(m) => n == *m as u64,
            None => (1..=want.free_max as u64).contains(&n),
        });
    if !fits {
        return Err(Problem::Dataset {
            dataset: shown,
            expected: shape_text(expected),
            found: format!("shape {shape:?}"),
        });
    }
    let dtype = ds.dtype().map_err(|e| hdf5(e, &shown))?;
    if dtype != DType::F32 {
        return Err(Problem::Dataset {
            dataset: shown,
            expected: "float32".into(),
            found: format!("{dtype:?}"),
        });
    }
    // The shape fits the model, and its data fits in the file.
    let shape: Vec<usize> = shape.iter().map(|&n| n as usize).collect();
    let data_bytes = shape
        .iter()
        .try_fold(4u64, |acc, &n| acc.checked_mul(n as u64))
        .unwrap_or(u64::MAX);
    if data_bytes > max_bytes {
        return Err(Problem::Dataset {
            dataset: shown,
            expected: format!("at most {max_bytes} bytes of data (the size of the file)"),
            found: format!("shape {shape:?} = {data_bytes} bytes"),
        });
    }
    let values = ds.read_f32().map_err(|e| hdf5(e, &shown))?;
    if values.len() != shape.iter().product::<usize>() {
        return Err(Problem::Dataset {
            dataset: shown,
            expected: format!("{} values", shape.iter().product::<usize>()),
            found: format!("{} values", values.len()),
        });
    }
    if let Some(index) = values.iter().position(|x| !x.is_finite()) {
        return Err(Problem::NonFinite {
            dataset: shown,
            index,
            value: values[index],
        });
    }
    Ok(Tensor {
        name: want.name,
        dataset: shown,
        shape,
        values,
    })
}

fn hdf5(e: hdf5_pure::Error, object: &str) -> Problem {
    Problem::Hdf5 {
        object: object.to_owned(),
        message: e.to_string(),
    }
}
