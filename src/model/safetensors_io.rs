//! Reading and writing weights as `.safetensors`: [`Model::load`] / [`Model::save`] and their
//! in-memory forms. Which model a file holds is found in `detect.rs`; the tensors are read and
//! checked by `reader.rs`; the tensor names of both namings come from [`super::names`].
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
use std::io::Read;
use std::path::Path;

use safetensors::{SafeTensorError, SafeTensors};

use super::detect::{check_metadata, detect_arch, detect_naming};
use super::names::{Naming, TorchForm, keras, spec_of};
use super::reader::{Reader, bad_tensor_entry, check_finite};
use super::{Arch, Model, ModelError, RnnInput};
use crate::shape::{GATES, HIDDEN, SEQ_LEN};

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

/// Why [`read_bounded`] read nothing.
pub(crate) enum BoundedRead {
    Io(std::io::Error),
    /// The file's size (or what was read of it), above the limit.
    TooLarge(u64),
}

/// The whole file at `path` if it holds at most `max` bytes, never allocating more than
/// `max + 1` (`take` keeps the bound even if the file grows between `metadata` and `read`).
pub(crate) fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, BoundedRead> {
    let (handle, len) = crate::files::open_regular(path).map_err(BoundedRead::Io)?;
    if len > max {
        return Err(BoundedRead::TooLarge(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    handle
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(BoundedRead::Io)?;
    if bytes.len() as u64 > max {
        return Err(BoundedRead::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

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
        let bytes = read_bounded(path, MAX_FILE_BYTES).map_err(|e| match e {
            BoundedRead::Io(source) => io(source),
            BoundedRead::TooLarge(found_bytes) => ModelError::TooLarge {
                file: file.clone(),
                found_bytes,
                max_bytes: MAX_FILE_BYTES,
            },
        })?;
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

    /// The tensors under PyTorch's names and shapes, derived from `keras_tensors` by the
    /// description in `names::TENSORS`: `weight_*` transposed, the bias as `bias_ih` and zeros as
    /// `bias_hh`.
    fn torch_tensors(&self) -> Vec<(&'static str, F32Tensor)> {
        let mut out = Vec::new();
        for (name, tensor) in self.keras_tensors() {
            let spec = spec_of(name).expect("keras_tensors writes only names listed in TENSORS");
            match spec.torch_form {
                TorchForm::Same => out.push((spec.torch[0], tensor)),
                TorchForm::Transposed => out.push((spec.torch[0], tensor.transposed())),
                TorchForm::BiasPair => {
                    let zeros =
                        F32Tensor::new(tensor.shape.clone(), vec![0.0; tensor.values.len()]);
                    out.push((spec.torch[0], tensor));
                    out.push((spec.torch[1], zeros));
                }
            }
        }
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

    /// The transpose of a `[R, C]` tensor: shape `[C, R]`.
    fn transposed(&self) -> F32Tensor {
        let (r, c) = match self.shape[..] {
            [r, c] => (r, c),
            _ => unreachable!("only matrices are transposed"),
        };
        let values = (0..c)
            .flat_map(|j| (0..r).map(move |i| self.values[i * c + j]))
            .collect();
        F32Tensor::new(vec![c, r], values)
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
