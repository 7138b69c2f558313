//! Reading and writing weights as `.safetensors`.
//!
//! We write Keras' names and shapes (see [`super::names`]) with `F32` tensors and string metadata:
//!
//! | key         | value                                  | checked on load (when present)          |
//! |-------------|----------------------------------------|-----------------------------------------|
//! | `arch`      | `lstm`, `rnn` or `rnn-onehot`          | agrees with the tensor names            |
//! | `seq_len`   | `100`                                  | equals [`SEQ_LEN`]                      |
//! | `num_words` | the vocabulary size `V`                | equals the rows of the input lookup     |
//! | `names`     | `keras` or `pytorch`                   | agrees with the tensor names            |
//! | `producer`  | `fusedrnn <version>`                   | ignored, as is every other key          |
//!
//! Loading accepts Keras' or PyTorch's names, told apart by the names themselves, with or without
//! metadata. A file is hostile until checked: the `safetensors` crate validates the header (its size is
//! bounded, offsets are in range and agree with dtype × shape); we then check the exact set of names,
//! every dtype and shape, the vocabulary range and that every value is finite, and return an error
//! naming the file and the tensor for the first problem. No input makes this code panic, and the only
//! allocations are proportional to the input's size, which [`Model::load`] bounds by [`MAX_FILE_BYTES`].

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read;
use std::path::Path;

use safetensors::{Dtype, SafeTensorError, SafeTensors};

use super::names::{Naming, keras, torch};
use super::{Arch, LstmWeights, Model, ModelError, RnnInput, RnnWeights};
use crate::shape::{EMBED, GATES, HIDDEN, SEQ_LEN};

/// Largest vocabulary we accept: token ids are `u16`.
pub const MAX_VOCAB: usize = 1 << 16;

/// Largest weights file [`Model::load`] reads. The biggest valid model (LSTM with `V` = 65,536) is
/// 4 MiB of embedding plus a few KiB; 64 MiB leaves room for generous metadata and refuses the rest
/// before reading it.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Metadata keys (see the module documentation).
pub const META_ARCH: &str = "arch";
pub const META_SEQ_LEN: &str = "seq_len";
pub const META_NUM_WORDS: &str = "num_words";
pub const META_NAMES: &str = "names";
pub const META_PRODUCER: &str = "producer";

/// File label used in errors about a `Model` that is being serialized rather than read.
const IN_MEMORY: &str = "<model>";

impl Model {
    /// Reads and checks a weights file (Keras or PyTorch names). Errors name `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Model, ModelError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let io = |source| ModelError::Io {
            file: file.clone(),
            source,
        };
        let handle = fs::File::open(path).map_err(io)?;
        let too_large = |found_bytes| ModelError::TooLarge {
            file: file.clone(),
            found_bytes,
            max_bytes: MAX_FILE_BYTES,
        };
        let len = handle.metadata().map_err(io)?.len();
        if len > MAX_FILE_BYTES {
            return Err(too_large(len));
        }
        // `take` keeps the bound even if the file grows between `metadata` and `read`.
        let mut bytes = Vec::with_capacity(len as usize);
        handle
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(too_large(bytes.len() as u64));
        }
        Model::from_bytes(&bytes, &file)
    }

    /// Parses and checks the bytes of a weights file; `file` is the name errors use.
    pub fn from_bytes(bytes: &[u8], file: &str) -> Result<Model, ModelError> {
        Model::from_bytes_with_naming(bytes, file).map(|(model, _)| model)
    }

    /// Like [`Model::from_bytes`], also telling which naming the file used.
    pub fn from_bytes_with_naming(bytes: &[u8], file: &str) -> Result<(Model, Naming), ModelError> {
        let format = |source: SafeTensorError| {
            // Only a well-formed header can name the tensor at fault.
            let detail = match source {
                SafeTensorError::InvalidHeaderDeserialization(_) => None,
                _ => bad_tensor_entry(bytes),
            };
            ModelError::Format {
                file: file.to_owned(),
                source,
                detail: detail.map_or_else(String::new, |d| format!(": {d}")),
            }
        };
        // `SafeTensors` does not expose the metadata, so the (small) header is parsed twice.
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(format)?;
        let st = SafeTensors::deserialize(bytes).map_err(format)?;
        let empty = HashMap::new();
        let meta = header.metadata().as_ref().unwrap_or(&empty);

        let mut names = st.names();
        names.sort_unstable();
        let naming = detect_naming(file, &names)?;
        let arch = detect_arch(file, &names, naming, meta)?;
        let reader = Reader {
            file,
            st: &st,
            naming,
            arch,
        };
        reader.check_names(&names)?;
        let model = match naming {
            Naming::Keras => reader.keras_model()?,
            Naming::Torch => reader.torch_model()?,
        };
        check_metadata(file, meta, &model, naming)?;
        Ok((model, naming))
    }

    /// Builds a model from tensors under Keras' names (`lstm.kernel`, …), as a Keras-file importer
    /// hands them over, through exactly the checks [`Model::from_bytes`] makes: the set of names,
    /// every shape, the vocabulary range and finite values. `arch` must agree with the names (it
    /// tells `rnn` from `rnn-onehot`); `file` labels errors.
    pub fn from_keras_tensors<'a>(
        arch: Arch,
        tensors: impl IntoIterator<Item = (&'a str, &'a [usize], &'a [f32])>,
        file: &str,
    ) -> Result<Model, ModelError> {
        let mut owned = Vec::new();
        for (name, shape, values) in tensors {
            if shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) != Some(values.len()) {
                return Err(ModelError::Shape {
                    file: file.to_owned(),
                    tensor: name.to_owned(),
                    expected: format!("{} values", values.len()),
                    found: shape.to_vec(),
                });
            }
            owned.push((name, F32Tensor::new(shape.to_vec(), values.to_vec())));
        }
        let meta = BTreeMap::from([(META_ARCH, arch.name().to_owned())]);
        let (model, _) = Model::from_bytes_with_naming(&encode(owned, &meta), file)?;
        Ok(model)
    }

    /// The file bytes with Keras' names and our metadata; the same model always gives the same bytes.
    ///
    /// Fails only for a `Model` that could not be loaded back: a vocabulary outside
    /// `1..=MAX_VOCAB` or a non-finite weight.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        self.to_bytes_named(Naming::Keras)
    }

    /// The file bytes with PyTorch's `state_dict` names (`bias_hh` written as zeros, so that
    /// `bias_ih + bias_hh` is our bias exactly).
    pub fn to_torch_bytes(&self) -> Result<Vec<u8>, ModelError> {
        self.to_bytes_named(Naming::Torch)
    }

    /// The file bytes under either naming.
    pub fn to_bytes_named(&self, naming: Naming) -> Result<Vec<u8>, ModelError> {
        self.validate(IN_MEMORY)?;
        let tensors = match naming {
            Naming::Keras => self.keras_tensors(),
            Naming::Torch => self.torch_tensors(),
        };
        let meta = BTreeMap::from([
            (META_ARCH, self.arch().name().to_owned()),
            (META_SEQ_LEN, SEQ_LEN.to_string()),
            (META_NUM_WORDS, self.vocab().to_string()),
            (META_NAMES, naming.name().to_owned()),
            (
                META_PRODUCER,
                concat!("fusedrnn ", env!("CARGO_PKG_VERSION")).to_owned(),
            ),
        ]);
        Ok(encode(tensors, &meta))
    }

    /// Writes the file with Keras' names, atomically (see [`crate::atomic`]).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        self.save_named(path, Naming::Keras)
    }

    /// Writes the file with PyTorch's names, atomically.
    pub fn save_torch(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        self.save_named(path, Naming::Torch)
    }

    fn save_named(&self, path: impl AsRef<Path>, naming: Naming) -> Result<(), ModelError> {
        let path = path.as_ref();
        let bytes = self.to_bytes_named(naming).map_err(|e| relabel(e, path))?;
        crate::atomic::write_bytes(path, &bytes).map_err(|source| ModelError::Io {
            file: path.display().to_string(),
            source,
        })
    }

    /// Checks what a loaded model is guaranteed to satisfy: vocabulary in `1..=MAX_VOCAB` and every
    /// weight finite. `file` labels the error.
    pub fn validate(&self, file: &str) -> Result<(), ModelError> {
        let vocab = self.vocab();
        if vocab == 0 || vocab > MAX_VOCAB {
            let tensor = match self.arch() {
                Arch::RnnOneHot => keras::RNN_KERNEL,
                _ => keras::EMBEDDING,
            };
            return Err(ModelError::Vocab {
                file: file.to_owned(),
                tensor: tensor.to_owned(),
                found: vocab,
                max: MAX_VOCAB,
            });
        }
        for (name, tensor) in self.keras_tensors() {
            check_finite(file, name, &tensor.values)?;
        }
        Ok(())
    }

    /// The tensors under Keras' names and shapes.
    fn keras_tensors(&self) -> Vec<(&'static str, F32Tensor)> {
        let (dense_kernel, dense_bias) = self.dense();
        let mut out = match self {
            Model::Lstm(w) => vec![
                (keras::EMBEDDING, F32Tensor::rows(&w.embedding)),
                (keras::LSTM_KERNEL, F32Tensor::rows(&w.kernel)),
                (
                    keras::LSTM_RECURRENT_KERNEL,
                    F32Tensor::rows(&w.recurrent_kernel),
                ),
                (
                    keras::LSTM_BIAS,
                    F32Tensor::new(vec![GATES], w.bias.to_vec()),
                ),
            ],
            Model::Rnn(w) => {
                let mut out = match &w.input {
                    RnnInput::Embedding { embedding, kernel } => vec![
                        (keras::EMBEDDING, F32Tensor::rows(embedding)),
                        (keras::RNN_KERNEL, F32Tensor::rows(kernel)),
                    ],
                    RnnInput::OneHot { kernel } => {
                        vec![(keras::RNN_KERNEL, F32Tensor::rows(kernel))]
                    }
                };
                out.push((
                    keras::RNN_RECURRENT_KERNEL,
                    F32Tensor::rows(&w.recurrent_kernel),
                ));
                out.push((
                    keras::RNN_BIAS,
                    F32Tensor::new(vec![HIDDEN], w.bias.to_vec()),
                ));
                out
            }
        };
        out.push((
            keras::DENSE_KERNEL,
            F32Tensor::new(vec![HIDDEN, 1], dense_kernel.to_vec()),
        ));
        out.push((keras::DENSE_BIAS, F32Tensor::new(vec![1], vec![dense_bias])));
        out
    }

    /// The tensors under PyTorch's names and shapes (`weight_*` transposed, `bias_hh` zero).
    fn torch_tensors(&self) -> Vec<(&'static str, F32Tensor)> {
        let (dense_kernel, dense_bias) = self.dense();
        let mut out = match self {
            Model::Lstm(w) => vec![
                (torch::EMBEDDING, F32Tensor::rows(&w.embedding)),
                (torch::LSTM_WEIGHT_IH, F32Tensor::transposed(&w.kernel)),
                (
                    torch::LSTM_WEIGHT_HH,
                    F32Tensor::transposed(&w.recurrent_kernel),
                ),
                (
                    torch::LSTM_BIAS_IH,
                    F32Tensor::new(vec![GATES], w.bias.to_vec()),
                ),
                (
                    torch::LSTM_BIAS_HH,
                    F32Tensor::new(vec![GATES], vec![0.0; GATES]),
                ),
            ],
            Model::Rnn(w) => {
                let mut out = match &w.input {
                    RnnInput::Embedding { embedding, kernel } => vec![
                        (torch::EMBEDDING, F32Tensor::rows(embedding)),
                        (torch::RNN_WEIGHT_IH, F32Tensor::transposed(kernel)),
                    ],
                    RnnInput::OneHot { kernel } => {
                        vec![(torch::RNN_WEIGHT_IH, F32Tensor::transposed(kernel))]
                    }
                };
                out.push((
                    torch::RNN_WEIGHT_HH,
                    F32Tensor::transposed(&w.recurrent_kernel),
                ));
                out.push((
                    torch::RNN_BIAS_IH,
                    F32Tensor::new(vec![HIDDEN], w.bias.to_vec()),
                ));
                out.push((
                    torch::RNN_BIAS_HH,
                    F32Tensor::new(vec![HIDDEN], vec![0.0; HIDDEN]),
                ));
                out
            }
        };
        out.push((
            torch::FC_WEIGHT,
            F32Tensor::new(vec![1, HIDDEN], dense_kernel.to_vec()),
        ));
        out.push((torch::FC_BIAS, F32Tensor::new(vec![1], vec![dense_bias])));
        out
    }

    /// `dense.kernel [HIDDEN, 1]` (as a vector) and `dense.bias`.
    pub fn dense(&self) -> ([f32; HIDDEN], f32) {
        match self {
            Model::Lstm(w) => (w.dense_kernel, w.dense_bias),
            Model::Rnn(w) => (w.dense_kernel, w.dense_bias),
        }
    }
}

/// Puts the real path into an error raised before the path was known.
fn relabel(e: ModelError, path: &Path) -> ModelError {
    let file = path.display().to_string();
    match e {
        ModelError::Vocab {
            tensor, found, max, ..
        } => ModelError::Vocab {
            file,
            tensor,
            found,
            max,
        },
        ModelError::NonFinite {
            tensor,
            index,
            value,
            ..
        } => ModelError::NonFinite {
            file,
            tensor,
            index,
            value,
        },
        other => other,
    }
}

/// An owned little-endian `F32` tensor for the safetensors writer.
struct F32Tensor {
    shape: Vec<usize>,
    values: Vec<f32>,
    bytes: Vec<u8>,
}

impl F32Tensor {
    fn new(shape: Vec<usize>, values: Vec<f32>) -> F32Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        let bytes = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        F32Tensor {
            shape,
            values,
            bytes,
        }
    }

    /// `rows [R, C]` row-major.
    fn rows<const C: usize>(rows: &[[f32; C]]) -> F32Tensor {
        let values = rows.iter().flatten().copied().collect();
        F32Tensor::new(vec![rows.len(), C], values)
    }

    /// The transpose of `rows [R, C]`: shape `[C, R]`.
    fn transposed<const C: usize>(rows: &[[f32; C]]) -> F32Tensor {
        let values = (0..C)
            .flat_map(|c| rows.iter().map(move |r| r[c]))
            .collect();
        F32Tensor::new(vec![C, rows.len()], values)
    }
}

/// The safetensors bytes of `tensors` with `meta`: an 8-byte little-endian header length, the JSON
/// header padded with spaces to a multiple of 8 bytes, then the tensors' data in name order.
///
/// We write the file ourselves rather than through `safetensors::serialize` because that takes the
/// metadata as a `HashMap`, whose iteration order (and so the file's bytes) changes from run to run;
/// here every JSON object is a sorted `serde_json::Map`, so the same model always gives the same
/// bytes. Tests read the result back with the `safetensors` crate.
fn encode(mut tensors: Vec<(&str, F32Tensor)>, meta: &BTreeMap<&str, String>) -> Vec<u8> {
    use serde_json::{Map, Value, json};

    tensors.sort_by_key(|(name, _)| *name);
    let mut header = Map::new();
    let meta: Map<String, Value> = meta
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(v.as_str())))
        .collect();
    header.insert("__metadata__".to_owned(), Value::Object(meta));
    let mut offset = 0usize;
    for (name, t) in &tensors {
        let end = offset + t.bytes.len();
        header.insert(
            (*name).to_owned(),
            json!({ "dtype": "F32", "shape": t.shape, "data_offsets": [offset, end] }),
        );
        offset = end;
    }
    let mut header = Value::Object(header).to_string().into_bytes();
    header.resize(header.len().next_multiple_of(8), b' ');

    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    for (_, t) in &tensors {
        out.extend_from_slice(&t.bytes);
    }
    out
}

/// One dimension of an expected shape.
#[derive(Clone, Copy)]
enum Dim {
    Fixed(usize),
    /// The vocabulary size, `1..=MAX_VOCAB`.
    Vocab,
}

fn shape_text(dims: &[Dim]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => n.to_string(),
            Dim::Vocab => "V".to_owned(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn detect_naming(file: &str, names: &[&str]) -> Result<Naming, ModelError> {
    let of = |naming: Naming| -> Vec<&str> {
        names
            .iter()
            .copied()
            .filter(|n| naming.all_names().contains(n))
            .collect()
    };
    let (k, t) = (of(Naming::Keras), of(Naming::Torch));
    match (k.is_empty(), t.is_empty()) {
        (false, true) => Ok(Naming::Keras),
        (true, false) => Ok(Naming::Torch),
        (true, true) => Err(ModelError::UnknownNames {
            file: file.to_owned(),
            found: list(names),
        }),
        (false, false) => Err(ModelError::MixedNaming {
            file: file.to_owned(),
            keras: list(&k),
            torch: list(&t),
        }),
    }
}

/// The architecture: LSTM or SimpleRNN from the known names' prefixes; for SimpleRNN, embedding or
/// one-hot from the metadata when it says, else from whether there is an embedding tensor.
fn detect_arch(
    file: &str,
    names: &[&str],
    naming: Naming,
    meta: &HashMap<String, String>,
) -> Result<Arch, ModelError> {
    let known: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| naming.all_names().contains(n))
        .collect();
    let (lstm_prefix, rnn_prefix) = naming.recurrent_prefixes();
    let lstm: Vec<&str> = known
        .iter()
        .copied()
        .filter(|n| n.starts_with(lstm_prefix))
        .collect();
    let rnn: Vec<&str> = known
        .iter()
        .copied()
        .filter(|n| n.starts_with(rnn_prefix))
        .collect();
    let recurrent_err = |problem: String| ModelError::RecurrentLayer {
        file: file.to_owned(),
        problem,
    };
    let is_lstm = match (lstm.is_empty(), rnn.is_empty()) {
        (false, true) => true,
        (true, false) => false,
        (true, true) => {
            return Err(recurrent_err(format!(
                "no recurrent layer: expected `{lstm_prefix}*` or `{rnn_prefix}*` tensors, found [{}]",
                list(names)
            )));
        }
        (false, false) => {
            return Err(recurrent_err(format!(
                "both an LSTM ([{}]) and a SimpleRNN ([{}]); a model has one recurrent layer",
                list(&lstm),
                list(&rnn)
            )));
        }
    };

    let meta_arch = match meta.get(META_ARCH) {
        None => None,
        Some(value) => Some(Arch::from_name(value).ok_or_else(|| ModelError::Metadata {
            file: file.to_owned(),
            key: META_ARCH.to_owned(),
            problem: format!("expected \"lstm\", \"rnn\" or \"rnn-onehot\", found {value:?}"),
        })?),
    };
    let mismatch = |value: Arch, tensors: &str| ModelError::Metadata {
        file: file.to_owned(),
        key: META_ARCH.to_owned(),
        problem: format!("says {:?} but the tensors are {tensors}", value.name()),
    };
    match (is_lstm, meta_arch) {
        (true, None | Some(Arch::Lstm)) => Ok(Arch::Lstm),
        (true, Some(other)) => Err(mismatch(other, &format!("an LSTM's (`{lstm_prefix}*`)"))),
        (false, Some(Arch::Lstm)) => Err(mismatch(
            Arch::Lstm,
            &format!("a SimpleRNN's (`{rnn_prefix}*`)"),
        )),
        (false, Some(arch)) => Ok(arch),
        (false, None) if names.contains(&naming.embedding()) => Ok(Arch::Rnn),
        (false, None) => Ok(Arch::RnnOneHot),
    }
}

/// Checks the optional metadata against the loaded model.
fn check_metadata(
    file: &str,
    meta: &HashMap<String, String>,
    model: &Model,
    naming: Naming,
) -> Result<(), ModelError> {
    let err = |key: &str, problem: String| ModelError::Metadata {
        file: file.to_owned(),
        key: key.to_owned(),
        problem,
    };
    if let Some(value) = meta.get(META_SEQ_LEN)
        && value.trim().parse::<usize>().ok() != Some(SEQ_LEN)
    {
        return Err(err(
            META_SEQ_LEN,
            format!("expected \"{SEQ_LEN}\", found {value:?}"),
        ));
    }
    if let Some(value) = meta.get(META_NUM_WORDS)
        && value.trim().parse::<usize>().ok() != Some(model.vocab())
    {
        return Err(err(
            META_NUM_WORDS,
            format!(
                "expected \"{}\" (the rows of the input lookup), found {value:?}",
                model.vocab()
            ),
        ));
    }
    if let Some(value) = meta.get(META_NAMES)
        && Naming::from_name(value) != Some(naming)
    {
        return Err(err(
            META_NAMES,
            format!(
                "says {value:?} but the tensors have {} names",
                naming.name()
            ),
        ));
    }
    Ok(())
}

fn check_finite(file: &str, tensor: &str, values: &[f32]) -> Result<(), ModelError> {
    match values.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(index) => Err(ModelError::NonFinite {
            file: file.to_owned(),
            tensor: tensor.to_owned(),
            index,
            value: values[index],
        }),
    }
}

/// Checked access to the tensors of one file.
struct Reader<'a> {
    file: &'a str,
    st: &'a SafeTensors<'a>,
    naming: Naming,
    arch: Arch,
}

impl Reader<'_> {
    /// Exactly the names of `arch` under `naming`: the first missing one, else the first extra one,
    /// is an error.
    fn check_names(&self, names: &[&str]) -> Result<(), ModelError> {
        let expected = self.naming.names_for(self.arch);
        if let Some(missing) = expected.iter().find(|n| !names.contains(n)) {
            return Err(ModelError::MissingTensor {
                file: self.file.to_owned(),
                tensor: (*missing).to_owned(),
                arch: self.arch.name(),
                naming: self.naming.name(),
            });
        }
        if let Some(extra) = names.iter().find(|n| !expected.contains(n)) {
            return Err(ModelError::UnexpectedTensor {
                file: self.file.to_owned(),
                tensor: (*extra).to_owned(),
                arch: self.arch.name(),
                naming: self.naming.name(),
            });
        }
        Ok(())
    }

    /// The values of an `F32` tensor of shape `dims`, all finite, and the vocabulary if `dims` has one.
    fn tensor(&self, name: &str, dims: &[Dim]) -> Result<(Vec<f32>, usize), ModelError> {
        let file = self.file.to_owned();
        let view = self
            .st
            .tensor(name)
            .map_err(|_| ModelError::MissingTensor {
                file: file.clone(),
                tensor: name.to_owned(),
                arch: self.arch.name(),
                naming: self.naming.name(),
            })?;
        if view.dtype() != Dtype::F32 {
            return Err(ModelError::Dtype {
                file,
                tensor: name.to_owned(),
                found: format!("{:?}", view.dtype()),
            });
        }
        let shape = view.shape();
        let mut vocab = 0;
        let fits = shape.len() == dims.len()
            && shape.iter().zip(dims).all(|(&n, d)| match d {
                Dim::Fixed(m) => n == *m,
                Dim::Vocab => {
                    vocab = n;
                    true
                }
            });
        if !fits {
            return Err(ModelError::Shape {
                file,
                tensor: name.to_owned(),
                expected: shape_text(dims),
                found: shape.to_vec(),
            });
        }
        if dims.iter().any(|d| matches!(d, Dim::Vocab)) && !(1..=MAX_VOCAB).contains(&vocab) {
            return Err(ModelError::Vocab {
                file,
                tensor: name.to_owned(),
                found: vocab,
                max: MAX_VOCAB,
            });
        }
        // The safetensors crate has checked that the byte length is 4 × the element count.
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        check_finite(self.file, name, &values)?;
        Ok((values, vocab))
    }

    fn fixed(&self, name: &str, dims: &[usize]) -> Result<Vec<f32>, ModelError> {
        let dims: Vec<Dim> = dims.iter().map(|&n| Dim::Fixed(n)).collect();
        Ok(self.tensor(name, &dims)?.0)
    }

    /// An embedding table `[V, EMBED]` (same layout under both namings).
    fn embedding(&self, name: &str) -> Result<Vec<[f32; EMBED]>, ModelError> {
        let (values, _) = self.tensor(name, &[Dim::Vocab, Dim::Fixed(EMBED)])?;
        Ok(rows(&values))
    }

    /// `bias_ih + bias_hh`, checked finite after the sum.
    fn summed_bias<const N: usize>(&self, ih: &str, hh: &str) -> Result<[f32; N], ModelError> {
        let a = self.fixed(ih, &[N])?;
        let b = self.fixed(hh, &[N])?;
        let mut out = [0.0; N];
        for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(&b)) {
            *o = x + y;
        }
        check_finite(self.file, &format!("{ih} + {hh}"), &out)?;
        Ok(out)
    }

    fn keras_model(&self) -> Result<Model, ModelError> {
        let arch = self.arch;
        let dense_kernel = array(&self.fixed(keras::DENSE_KERNEL, &[HIDDEN, 1])?);
        let dense_bias = self.fixed(keras::DENSE_BIAS, &[1])?[0];
        Ok(match arch {
            Arch::Lstm => Model::Lstm(LstmWeights {
                embedding: self.embedding(keras::EMBEDDING)?,
                kernel: matrix(&self.fixed(keras::LSTM_KERNEL, &[EMBED, GATES])?),
                recurrent_kernel: matrix(
                    &self.fixed(keras::LSTM_RECURRENT_KERNEL, &[HIDDEN, GATES])?,
                ),
                bias: array(&self.fixed(keras::LSTM_BIAS, &[GATES])?),
                dense_kernel,
                dense_bias,
            }),
            Arch::Rnn | Arch::RnnOneHot => {
                let input = if arch == Arch::Rnn {
                    RnnInput::Embedding {
                        embedding: self.embedding(keras::EMBEDDING)?,
                        kernel: matrix(&self.fixed(keras::RNN_KERNEL, &[EMBED, HIDDEN])?),
                    }
                } else {
                    let (values, _) =
                        self.tensor(keras::RNN_KERNEL, &[Dim::Vocab, Dim::Fixed(HIDDEN)])?;
                    RnnInput::OneHot {
                        kernel: rows(&values),
                    }
                };
                Model::Rnn(RnnWeights {
                    input,
                    recurrent_kernel: matrix(
                        &self.fixed(keras::RNN_RECURRENT_KERNEL, &[HIDDEN, HIDDEN])?,
                    ),
                    bias: array(&self.fixed(keras::RNN_BIAS, &[HIDDEN])?),
                    dense_kernel,
                    dense_bias,
                })
            }
        })
    }

    fn torch_model(&self) -> Result<Model, ModelError> {
        let arch = self.arch;
        let dense_kernel = array(&self.fixed(torch::FC_WEIGHT, &[1, HIDDEN])?);
        let dense_bias = self.fixed(torch::FC_BIAS, &[1])?[0];
        Ok(match arch {
            Arch::Lstm => Model::Lstm(LstmWeights {
                embedding: self.embedding(torch::EMBEDDING)?,
                kernel: matrix_t(&self.fixed(torch::LSTM_WEIGHT_IH, &[GATES, EMBED])?),
                recurrent_kernel: matrix_t(&self.fixed(torch::LSTM_WEIGHT_HH, &[GATES, HIDDEN])?),
                bias: self.summed_bias(torch::LSTM_BIAS_IH, torch::LSTM_BIAS_HH)?,
                dense_kernel,
                dense_bias,
            }),
            Arch::Rnn | Arch::RnnOneHot => {
                let input = if arch == Arch::Rnn {
                    RnnInput::Embedding {
                        embedding: self.embedding(torch::EMBEDDING)?,
                        kernel: matrix_t(&self.fixed(torch::RNN_WEIGHT_IH, &[HIDDEN, EMBED])?),
                    }
                } else {
                    let (values, vocab) =
                        self.tensor(torch::RNN_WEIGHT_IH, &[Dim::Fixed(HIDDEN), Dim::Vocab])?;
                    RnnInput::OneHot {
                        kernel: (0..vocab)
                            .map(|v| std::array::from_fn(|h| values[h * vocab + v]))
                            .collect(),
                    }
                };
                Model::Rnn(RnnWeights {
                    input,
                    recurrent_kernel: matrix_t(
                        &self.fixed(torch::RNN_WEIGHT_HH, &[HIDDEN, HIDDEN])?,
                    ),
                    bias: self.summed_bias(torch::RNN_BIAS_IH, torch::RNN_BIAS_HH)?,
                    dense_kernel,
                    dense_bias,
                })
            }
        })
    }
}

// The helpers below receive slices whose length the shape check has already fixed.

/// `[N]` from a slice of length `N`.
fn array<const N: usize>(values: &[f32]) -> [f32; N] {
    std::array::from_fn(|i| values[i])
}

/// Row-major `[R, C]` values as rows.
fn rows<const C: usize>(values: &[f32]) -> Vec<[f32; C]> {
    values.chunks_exact(C).map(array).collect()
}

/// Row-major `[R, C]` values as an `[R][C]` array.
fn matrix<const R: usize, const C: usize>(values: &[f32]) -> [[f32; C]; R] {
    std::array::from_fn(|r| std::array::from_fn(|c| values[r * C + c]))
}

/// Row-major `[C, R]` values (PyTorch's layout) transposed into an `[R][C]` array (Keras' layout).
fn matrix_t<const R: usize, const C: usize>(values: &[f32]) -> [[f32; C]; R] {
    std::array::from_fn(|r| std::array::from_fn(|c| values[c * R + r]))
}

/// The first tensor entry of a safetensors header whose dtype, shape and data offsets do not
/// agree, described for an error message. The `safetensors` crate's own errors do not name the
/// tensor; this reads the header (already bounded by the file's length) again to find it.
fn bad_tensor_entry(bytes: &[u8]) -> Option<String> {
    let n = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
    let header: serde_json::Value =
        serde_json::from_slice(bytes.get(8..8usize.checked_add(n)?)?).ok()?;
    let mut entries: Vec<(&String, &serde_json::Value)> = header
        .as_object()?
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .collect();
    entries.sort_by_key(|(k, _)| *k);
    for (name, entry) in entries {
        let dtype = entry.get("dtype").and_then(|d| d.as_str()).unwrap_or("?");
        let shape: Option<Vec<u64>> = entry
            .get("shape")
            .and_then(|s| s.as_array())
            .and_then(|a| a.iter().map(|d| d.as_u64()).collect());
        let offsets: Option<Vec<u64>> = entry
            .get("data_offsets")
            .and_then(|s| s.as_array())
            .and_then(|a| a.iter().map(|d| d.as_u64()).collect());
        let width = match dtype {
            "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" => Some(1u64),
            "U16" | "I16" | "F16" | "BF16" => Some(2),
            "U32" | "I32" | "F32" => Some(4),
            "U64" | "I64" | "F64" => Some(8),
            _ => None,
        };
        let fits = match (&shape, &offsets, width) {
            (Some(shape), Some(o), Some(w)) if o.len() == 2 && o[0] <= o[1] => shape
                .iter()
                .try_fold(w, |acc, &d| acc.checked_mul(d))
                .is_some_and(|need| need == o[1] - o[0] && o[1] <= (bytes.len() - 8 - n) as u64),
            _ => false,
        };
        if !fits {
            return Some(format!(
                "tensor `{name}` has dtype {dtype}, shape {} and data_offsets {}",
                entry.get("shape").map_or("?".into(), |v| v.to_string()),
                entry
                    .get("data_offsets")
                    .map_or("?".into(), |v| v.to_string()),
            ));
        }
    }
    None
}
