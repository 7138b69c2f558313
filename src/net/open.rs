//! [`open`]: general models in from files, and [`NetWeights::save`] / [`NetWeights::save_torch`]
//! out to them.
//!
//! # What opens
//! - **Keras** `.h5` / `.keras` of any supported shape (with the `keras` cargo feature, through
//!   `fusedrnn_keras::read_net`): `[InputLayer] → Embedding | one-hot → SimpleRNN | LSTM | GRU →
//!   Dense(1, sigmoid)`; anything else is refused naming the layer. Told apart by the HDF5 / zip
//!   signature, or the extension when the file cannot be read.
//! - **fusedrnn's general format** (what [`NetWeights::save`] writes for shapes beyond the
//!   notebook's): safetensors with metadata `format = "fusedrnn-net"` (see below).
//! - **fusedrnn's notebook format** (metadata `arch`, or Keras names without metadata): read by
//!   [`Model::from_bytes`] exactly as before, then [`NetWeights::from_notebook`] (length 100).
//! - **PyTorch state dicts** saved as safetensors (`safetensors.torch.save_file(m.state_dict())`)
//!   of a module with attributes `embedding = nn.Embedding(V, W)` (absent: one-hot input of width
//!   `V = input_size`), `rnn = nn.RNN | nn.LSTM | nn.GRU(W, H, batch_first=True)` and `fc =
//!   nn.Linear(H, 1)`, probability `sigmoid(fc(h_last))`. Names: `embedding.weight [V, W]`,
//!   `rnn.weight_ih_l0 [G·H, W]`, `rnn.weight_hh_l0 [G·H, H]`, `rnn.bias_ih_l0 [G·H]`,
//!   `rnn.bias_hh_l0 [G·H]` (both biases may be absent: `bias=False`), `fc.weight [1, H]`,
//!   `fc.bias [1]`. Also accepted: any one recurrent prefix (`lstm.`, `gru.`, …), the embedding as
//!   `embed.` / `emb.` / `embeddings.`, the head as `linear.` / `dense.` / `out.` / `head.` /
//!   `classifier.`. The cell comes from the shapes (`G = rows / H`: 1 `nn.RNN`, 4 `nn.LSTM`, 3
//!   `nn.GRU`); `nn.RNN` is taken to be `nonlinearity="tanh"` (a state dict cannot tell).
//!   `*_l1` tensors (`num_layers > 1`) and `*_reverse` (`bidirectional=True`) are refused by name.
//!   Conversion to Keras' layout: transpose; LSTM gates `i, f, g, o` are Keras' `i, f, c, o` with
//!   `b_ih + b_hh`; `nn.RNN` sums the biases too; GRU rows `r, z, n` become Keras' `z, r, h` with
//!   `reset_after = True` and the bias rows `[b_ih; b_hh]`.
//!
//! A PyTorch file or a Keras model with `Input(shape=(None,))` records no input length: give it
//! with [`OpenOptions::seq_len`] (which, when given, also overrides a recorded length: an RNN runs
//! at any length).
//!
//! # The general format (version 1)
//! Safetensors, `F32` little-endian tensors in Keras' names and shapes (`{cell}` is `simple_rnn`,
//! `lstm` or `gru`): `embedding.embeddings [V, W]` (not for one-hot), `{cell}.kernel [in, G·H]`,
//! `{cell}.recurrent_kernel [H, G·H]`, `{cell}.bias [G·H]` (`[2, 3·H]` for a GRU with
//! `reset_after`), `dense.kernel [H, 1]`, `dense.bias [1]`; string metadata `format =
//! fusedrnn-net`, `format_version = 1`, `cell` ([`Cell::name`]: `rnn`, `lstm`, `gru`, `gru-v1`),
//! `units`, `vocab`, `input` (`embedding` or `one-hot`), `width` (embedding input only),
//! `seq_len`, `producer`. Every key is required on reading; the tensor set must be exact.
//!
//! A notebook-shaped model ([`Spec::is_notebook_shape`]) is saved in the notebook's format
//! instead ([`Model::save`] / [`Model::save_torch`]), so every older reader opens it.
//!
//! # Hostile input
//! Files are read whole up to [`MAX_NET_FILE_BYTES`], sized by their real length. The safetensors
//! header's offsets are checked against the file by the `safetensors` crate, so no tensor is
//! larger than the file; the [`Spec`] the shapes or metadata describe is validated before any
//! tensor is converted; every value must be finite. Errors name the file and the tensor or key.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use super::spec::{Cell, Input, Spec, SpecError};
use super::weights::{NetWeights, WeightsError};
use crate::model::{Model, ModelError};

/// Largest file [`open`] reads (1 GiB).
pub const MAX_NET_FILE_BYTES: u64 = 1 << 30;
/// `format` metadata value of the general format.
pub const NET_FORMAT: &str = "fusedrnn-net";
/// `format_version` the general format has now.
pub const NET_FORMAT_VERSION: u32 = 1;

/// Why a model file could not be opened or saved. Every message starts with the file name.
#[derive(Debug, thiserror::Error)]
pub enum NetOpenError {
    /// Opening, reading or writing the file failed.
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: file is {found} bytes, more than the {max} bytes a model file may have")]
    TooLarge { file: String, found: u64, max: u64 },
    /// Not a well-formed safetensors file.
    #[error("{file}: not a valid safetensors file: {problem}")]
    Format { file: String, problem: String },
    /// A Keras file that could not be read or holds a model fusedrnn cannot run (names the layer).
    #[cfg(feature = "keras")]
    #[error(transparent)]
    Keras(#[from] fusedrnn_keras::ImportError),
    /// A Keras file, but this build lacks the `keras` feature.
    #[error("{file}: a Keras HDF5/.keras file; this build of fusedrnn lacks the `keras` feature")]
    KerasDisabled { file: String },
    /// A file in the notebook's format that its reader refused.
    #[error(transparent)]
    Notebook(#[from] ModelError),
    /// A tensor or metadata key that is missing, misshapen, of the wrong type or not finite.
    #[error("{file}: {field}: {problem}")]
    Field {
        file: String,
        field: String,
        problem: String,
    },
    /// A shape outside the limits.
    #[error("{file}: {source}")]
    Spec {
        file: String,
        #[source]
        source: SpecError,
    },
    /// Weights that do not fit their spec.
    #[error("{file}: {source}")]
    Weights {
        file: String,
        #[source]
        source: WeightsError,
    },
    /// The file does not record the input length and none was given.
    #[error(
        "{file}: the file does not record the input length (sequence length); record one \
         with `fusedrnn import FILE --seq-len N --out NEW.safetensors` (in Rust \
         `net::OpenOptions::seq_len`, in Python `load_model(..., seq_len=N)`)"
    )]
    NoSeqLen { file: String },
    /// A model the target format cannot hold.
    #[error("{file}: {problem}")]
    Unsupported { file: String, problem: String },
}

impl NetOpenError {
    /// Whether the failure is the file system's (missing file, permissions), not the content's.
    pub fn is_io(&self) -> bool {
        match self {
            NetOpenError::Io { .. } | NetOpenError::Notebook(ModelError::Io { .. }) => true,
            #[cfg(feature = "keras")]
            NetOpenError::Keras(e) => matches!(e.problem, fusedrnn_keras::Problem::Io(_)),
            _ => false,
        }
    }
}

/// Options of [`open_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// The input length to use: required for files that do not record one (PyTorch state dicts,
    /// Keras models with `Input(shape=(None,))`); overrides a recorded one when given.
    pub seq_len: Option<usize>,
}

impl OpenOptions {
    /// Sets [`OpenOptions::seq_len`].
    pub fn seq_len(mut self, seq_len: usize) -> Self {
        self.seq_len = Some(seq_len);
        self
    }

    /// Opens `path` with these options ([`open_with`]).
    pub fn open(&self, path: impl AsRef<Path>) -> Result<NetWeights, NetOpenError> {
        open_with(path, self)
    }
}

/// Opens a model file of any supported format and shape (see the module docs) with the length
/// it records. Errors name `path`.
pub fn open(path: impl AsRef<Path>) -> Result<NetWeights, NetOpenError> {
    open_with(path, &OpenOptions::default())
}

/// [`open`] with options (the input length for files without one).
pub fn open_with(path: impl AsRef<Path>, opts: &OpenOptions) -> Result<NetWeights, NetOpenError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    if is_keras_file(path) {
        return open_keras(path, &file, opts);
    }
    let bytes = read_bounded(path, &file)?;
    from_safetensors_bytes(&bytes, &file, opts)
}

/// HDF5 and zip signatures (as `fusedrnn_keras` tells them apart).
const HDF5_MAGIC: &[u8] = b"\x89HDF\r\n\x1a\n";
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// By the first bytes: an HDF5 or zip signature is a Keras file, a safetensors header (an 8-byte
/// length, then `{`) is not; otherwise (or when unreadable) the extension decides.
fn is_keras_file(path: &Path) -> bool {
    let mut head = Vec::with_capacity(9);
    let read = crate::files::open_regular(path).and_then(|(f, _)| f.take(9).read_to_end(&mut head));
    if read.is_ok() {
        if head.starts_with(HDF5_MAGIC) || head.starts_with(ZIP_MAGIC) {
            return true;
        }
        if head.get(8) == Some(&b'{') {
            return false;
        }
    }
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["h5", "hdf5", "keras"].contains(&e.to_ascii_lowercase().as_str()))
}

#[cfg(feature = "keras")]
fn open_keras(path: &Path, file: &str, opts: &OpenOptions) -> Result<NetWeights, NetOpenError> {
    let keras = fusedrnn_keras::read_net(path)?;
    from_keras(keras, file, opts)
}

#[cfg(not(feature = "keras"))]
fn open_keras(_: &Path, file: &str, _: &OpenOptions) -> Result<NetWeights, NetOpenError> {
    Err(NetOpenError::KerasDisabled {
        file: file.to_owned(),
    })
}

/// Builds the weights from what `fusedrnn_keras::read_net` returned; `file` labels errors.
#[cfg(feature = "keras")]
pub fn from_keras(
    mut keras: fusedrnn_keras::KerasNet,
    file: &str,
    opts: &OpenOptions,
) -> Result<NetWeights, NetOpenError> {
    let cell = match keras.cell {
        fusedrnn_keras::Cell::SimpleRnn => Cell::SimpleRnn,
        fusedrnn_keras::Cell::Lstm => Cell::Lstm,
        fusedrnn_keras::Cell::Gru { reset_after } => Cell::Gru { reset_after },
    };
    let seq_len = opts
        .seq_len
        .or(keras.seq_len)
        .ok_or_else(|| NetOpenError::NoSeqLen {
            file: file.to_owned(),
        })?;
    let spec = Spec {
        cell,
        units: keras.units,
        vocab: keras.vocab,
        input: match keras.width {
            Some(width) => Input::Embedding { width },
            None => Input::OneHot,
        },
        seq_len,
    };
    let spec_err = |source| NetOpenError::Spec {
        file: file.to_owned(),
        source,
    };
    spec.validate().map_err(spec_err)?;
    let prefix = keras.cell.keras_name();
    let mut take = |name: &str| -> Result<Vec<f32>, NetOpenError> {
        let full = match name {
            "kernel" | "recurrent_kernel" | "bias" => format!("{prefix}.{name}"),
            _ => name.to_owned(),
        };
        let i = keras
            .tensors
            .iter()
            .position(|t| t.name == full)
            .ok_or_else(|| NetOpenError::Field {
                file: file.to_owned(),
                field: full.clone(),
                problem: "missing from the Keras reader's output".into(),
            })?;
        Ok(std::mem::take(&mut keras.tensors[i].values))
    };
    let dense_kernel = take("dense.kernel")?;
    let dense_bias = take("dense.bias")?;
    let embedding = match spec.input {
        Input::Embedding { .. } => take("embedding.embeddings")?,
        Input::OneHot => Vec::new(),
    };
    let weights = NetWeights {
        spec,
        embedding,
        kernel: take("kernel")?,
        recurrent_kernel: take("recurrent_kernel")?,
        bias: take("bias")?,
        dense_kernel,
        dense_bias: dense_bias.first().copied().unwrap_or(f32::NAN),
    };
    checked(weights, file)
}

fn checked(weights: NetWeights, file: &str) -> Result<NetWeights, NetOpenError> {
    weights.validate().map_err(|source| NetOpenError::Weights {
        file: file.to_owned(),
        source,
    })?;
    Ok(weights)
}

fn read_bounded(path: &Path, file: &str) -> Result<Vec<u8>, NetOpenError> {
    use crate::model::safetensors_io::{BoundedRead, read_bounded};
    read_bounded(path, MAX_NET_FILE_BYTES).map_err(|e| match e {
        BoundedRead::Io(source) => NetOpenError::Io {
            file: file.to_owned(),
            source,
        },
        BoundedRead::TooLarge(found) => NetOpenError::TooLarge {
            file: file.to_owned(),
            found,
            max: MAX_NET_FILE_BYTES,
        },
    })
}

/// Metadata keys of the general format.
const META_FORMAT: &str = "format";
const META_FORMAT_VERSION: &str = "format_version";
const META_CELL: &str = "cell";
const META_UNITS: &str = "units";
const META_VOCAB: &str = "vocab";
const META_INPUT: &str = "input";
const META_WIDTH: &str = "width";
const META_SEQ_LEN: &str = "seq_len";
const META_NAMES: &str = "names";
const META_PRODUCER: &str = "producer";

/// Reads a safetensors file's bytes in any of the three namings (see the module docs); `file`
/// labels errors.
pub fn from_safetensors_bytes(
    bytes: &[u8],
    file: &str,
    opts: &OpenOptions,
) -> Result<NetWeights, NetOpenError> {
    let format = |e: safetensors::SafeTensorError| NetOpenError::Format {
        file: file.to_owned(),
        problem: e.to_string(),
    };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(format)?;
    let st = SafeTensors::deserialize(bytes).map_err(format)?;
    let empty = HashMap::new();
    let meta = header.metadata().as_ref().unwrap_or(&empty);
    let r = Reader {
        file,
        st: &st,
        meta,
    };
    if meta.contains_key(META_FORMAT) {
        return r.general(opts);
    }
    let torch = st.names().iter().any(|n| n.contains(".weight_ih_l"));
    if torch && !meta.contains_key("arch") {
        return r.torch(opts);
    }
    // The notebook's format, through its own reader, exactly as `Model::load` reads it.
    let model = Model::from_bytes(bytes, file)?;
    let mut weights = NetWeights::from_notebook(&model);
    if let Some(n) = opts.seq_len {
        weights.spec.seq_len = n;
    }
    weights
        .spec
        .validate()
        .map_err(|source| NetOpenError::Spec {
            file: file.to_owned(),
            source,
        })?;
    Ok(weights)
}

/// One safetensors file being read.
struct Reader<'a> {
    file: &'a str,
    st: &'a SafeTensors<'a>,
    meta: &'a HashMap<String, String>,
}

impl Reader<'_> {
    fn field(&self, field: &str, problem: impl Into<String>) -> NetOpenError {
        NetOpenError::Field {
            file: self.file.to_owned(),
            field: field.to_owned(),
            problem: problem.into(),
        }
    }

    fn meta_str(&self, key: &str) -> Result<&str, NetOpenError> {
        self.meta
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| self.field(&format!("metadata `{key}`"), "missing"))
    }

    fn meta_usize(&self, key: &str) -> Result<usize, NetOpenError> {
        let text = self.meta_str(key)?;
        text.parse().map_err(|_| {
            self.field(
                &format!("metadata `{key}`"),
                format!("{text:?} is not a non-negative integer"),
            )
        })
    }

    fn spec_checked(&self, spec: Spec) -> Result<Spec, NetOpenError> {
        spec.validate().map_err(|source| NetOpenError::Spec {
            file: self.file.to_owned(),
            source,
        })?;
        Ok(spec)
    }

    /// The `F32` values of tensor `name`, whose shape must be `shape`; every value finite.
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, NetOpenError> {
        let t = self
            .st
            .tensor(name)
            .map_err(|_| self.field(&format!("tensor `{name}`"), "missing"))?;
        let field = format!("tensor `{name}`");
        if t.dtype() != Dtype::F32 {
            return Err(self.field(&field, format!("dtype {:?}, expected F32", t.dtype())));
        }
        if t.shape() != shape {
            return Err(self.field(&field, format!("shape {:?}, expected {shape:?}", t.shape())));
        }
        // The safetensors crate checked that the data is exactly dtype × shape bytes.
        let values: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(self.field(
                &field,
                format!("value {i} is {} (weights must be finite)", values[i]),
            ));
        }
        Ok(values)
    }

    /// The shape of tensor `name`, if present.
    fn shape_of(&self, name: &str) -> Option<Vec<usize>> {
        self.st.tensor(name).ok().map(|t| t.shape().to_vec())
    }

    /// Every tensor must be one of `expected`.
    fn exact_names(&self, expected: &[String]) -> Result<(), NetOpenError> {
        let mut names = self.st.names();
        names.sort_unstable();
        if let Some(extra) = names.iter().find(|n| !expected.iter().any(|e| e == *n)) {
            return Err(self.field(
                &format!("tensor `{extra}`"),
                format!(
                    "not part of this model (expected exactly [{}])",
                    expected.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// fusedrnn's general format.
    fn general(&self, opts: &OpenOptions) -> Result<NetWeights, NetOpenError> {
        let format = self.meta_str(META_FORMAT)?;
        if format != NET_FORMAT {
            return Err(self.field(
                "metadata `format`",
                format!("{format:?} is not {NET_FORMAT:?}"),
            ));
        }
        let version = self.meta_usize(META_FORMAT_VERSION)?;
        if version != NET_FORMAT_VERSION as usize {
            return Err(self.field(
                "metadata `format_version`",
                format!(
                    "{version} is not a version this build reads ({NET_FORMAT_VERSION}); a newer fusedrnn wrote it"
                ),
            ));
        }
        let cell_name = self.meta_str(META_CELL)?;
        let cell = Cell::from_name(cell_name).ok_or_else(|| {
            self.field(
                "metadata `cell`",
                format!("{cell_name:?} is not one of rnn, lstm, gru, gru-v1"),
            )
        })?;
        let input = match self.meta_str(META_INPUT)? {
            "embedding" => Input::Embedding {
                width: self.meta_usize(META_WIDTH)?,
            },
            "one-hot" => Input::OneHot,
            other => {
                return Err(self.field(
                    "metadata `input`",
                    format!("{other:?} is not embedding or one-hot"),
                ));
            }
        };
        let recorded = self.meta_usize(META_SEQ_LEN)?;
        let spec = self.spec_checked(Spec {
            cell,
            units: self.meta_usize(META_UNITS)?,
            vocab: self.meta_usize(META_VOCAB)?,
            input,
            seq_len: opts.seq_len.unwrap_or(recorded),
        })?;
        let names = keras_names(cell);
        let mut expected: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        if spec.input == Input::OneHot {
            expected.remove(0);
        }
        self.exact_names(&expected)?;
        let shapes = keras_shapes(&spec);
        let embedding = match spec.input {
            Input::Embedding { .. } => self.tensor(names[0], &shapes[0])?,
            Input::OneHot => Vec::new(),
        };
        let weights = NetWeights {
            spec,
            embedding,
            kernel: self.tensor(names[1], &shapes[1])?,
            recurrent_kernel: self.tensor(names[2], &shapes[2])?,
            bias: self.tensor(names[3], &shapes[3])?,
            dense_kernel: self.tensor(names[4], &shapes[4])?,
            dense_bias: self.tensor(names[5], &shapes[5])?[0],
        };
        checked(weights, self.file)
    }

    /// A PyTorch state dict (see the module docs).
    fn torch(&self, opts: &OpenOptions) -> Result<NetWeights, NetOpenError> {
        let names = self.st.names();
        // Refusals first, by name.
        if let Some(n) = names.iter().find(|n| n.contains("_reverse")) {
            return Err(self.field(
                &format!("tensor `{n}`"),
                "a bidirectional recurrent layer (bidirectional=True): fusedrnn runs one direction",
            ));
        }
        if let Some(n) = names
            .iter()
            .find(|n| n.contains(".weight_ih_l") && !n.ends_with(".weight_ih_l0"))
        {
            return Err(self.field(
                &format!("tensor `{n}`"),
                "a stacked recurrent layer (num_layers > 1): fusedrnn runs exactly one",
            ));
        }
        let mut prefixes: Vec<&str> = names
            .iter()
            .filter_map(|n| n.strip_suffix(".weight_ih_l0"))
            .collect();
        prefixes.sort_unstable();
        let rnn = match prefixes[..] {
            [one] => one.to_owned(),
            _ => {
                return Err(self.field(
                    "tensors `*.weight_ih_l0`",
                    format!(
                        "expected one recurrent layer, found [{}]",
                        prefixes.join(", ")
                    ),
                ));
            }
        };
        let pick = |candidates: &[&str], what: &str| -> Result<Option<String>, NetOpenError> {
            let found: Vec<&str> = candidates
                .iter()
                .copied()
                .filter(|c| names.contains(&format!("{c}.weight").as_str()))
                .collect();
            match found[..] {
                [] => Ok(None),
                [one] => Ok(Some(one.to_owned())),
                _ => Err(self.field(
                    &format!("tensors `{{{}}}.weight`", found.join(",")),
                    format!("more than one {what}"),
                )),
            }
        };
        let emb = pick(&["embedding", "embed", "emb", "embeddings"], "embedding")?;
        let head = pick(
            &["fc", "linear", "dense", "out", "head", "classifier"],
            "output layer",
        )?
        .ok_or_else(|| {
            self.field(
                "tensor `fc.weight`",
                "missing (the output layer nn.Linear(H, 1) as `fc`, `linear`, `dense`, `out`, `head` or `classifier`)",
            )
        })?;
        let (w_ih, w_hh) = (format!("{rnn}.weight_ih_l0"), format!("{rnn}.weight_hh_l0"));
        let (b_ih, b_hh) = (format!("{rnn}.bias_ih_l0"), format!("{rnn}.bias_hh_l0"));
        let hh = self
            .shape_of(&w_hh)
            .ok_or_else(|| self.field(&format!("tensor `{w_hh}`"), "missing"))?;
        let ih = self.shape_of(&w_ih).unwrap_or_default();
        let (rows, units) = match hh[..] {
            [r, h] if h > 0 && r % h == 0 => (r, h),
            _ => {
                return Err(self.field(
                    &format!("tensor `{w_hh}`"),
                    format!("shape {hh:?}, expected [G·H, H] with G = 1, 3 or 4"),
                ));
            }
        };
        let cell = match rows / units {
            1 => Cell::SimpleRnn,
            4 => Cell::Lstm,
            3 => Cell::Gru { reset_after: true },
            g => {
                return Err(self.field(
                    &format!("tensor `{w_hh}`"),
                    format!("shape {hh:?}: {g} gate blocks; nn.RNN has 1, nn.GRU 3, nn.LSTM 4"),
                ));
            }
        };
        if let Some(name) = self.meta.get(META_CELL)
            && Cell::from_name(name) != Some(cell)
        {
            return Err(self.field(
                "metadata `cell`",
                format!("{name:?}, but the tensor shapes are a {}", cell.name()),
            ));
        }
        let in_width = match ih[..] {
            [r, w] if r == rows => w,
            _ => {
                return Err(self.field(
                    &format!("tensor `{w_ih}`"),
                    format!("shape {ih:?}, expected [{rows}, input width]"),
                ));
            }
        };
        let (input, vocab) = match &emb {
            Some(e) => match self.shape_of(&format!("{e}.weight")).as_deref() {
                Some(&[v, w]) => (Input::Embedding { width: w }, v),
                other => {
                    return Err(self.field(
                        &format!("tensor `{e}.weight`"),
                        format!("shape {other:?}, expected [vocab, width]"),
                    ));
                }
            },
            None => (Input::OneHot, in_width),
        };
        let seq_len = match opts.seq_len {
            Some(n) => n,
            None => match self.meta.get(META_SEQ_LEN) {
                Some(_) => self.meta_usize(META_SEQ_LEN)?,
                None => {
                    return Err(NetOpenError::NoSeqLen {
                        file: self.file.to_owned(),
                    });
                }
            },
        };
        let spec = self.spec_checked(Spec {
            cell,
            units,
            vocab,
            input,
            seq_len,
        })?;
        let has_bias = (
            names.contains(&b_ih.as_str()),
            names.contains(&b_hh.as_str()),
        );
        let mut expected = vec![
            w_ih.clone(),
            w_hh.clone(),
            format!("{head}.weight"),
            format!("{head}.bias"),
        ];
        if has_bias.0 || has_bias.1 {
            expected.extend([b_ih.clone(), b_hh.clone()]);
        }
        if let Some(e) = &emb {
            expected.push(format!("{e}.weight"));
        }
        self.exact_names(&expected)?;

        let gw = spec.gate_width();
        let in_w = spec.input_width();
        if in_w != in_width {
            return Err(self.field(
                &format!("tensor `{w_ih}`"),
                format!(
                    "shape {ih:?}: the input width is {in_width}, but the embedding is {in_w} wide"
                ),
            ));
        }
        let embedding = match &emb {
            Some(e) => self.tensor(&format!("{e}.weight"), &[vocab, in_w])?,
            None => Vec::new(),
        };
        let w_ih_v = self.tensor(&w_ih, &[gw, in_w])?;
        let w_hh_v = self.tensor(&w_hh, &[gw, units])?;
        let (bi, bh) = if has_bias.0 || has_bias.1 {
            (self.tensor(&b_ih, &[gw])?, self.tensor(&b_hh, &[gw])?)
        } else {
            (vec![0.0; gw], vec![0.0; gw])
        };
        let fc_w = self.tensor(&format!("{head}.weight"), &[1, units])?;
        let fc_b = self.tensor(&format!("{head}.bias"), &[1])?;
        // Keras column block k takes PyTorch row block `order[k]`.
        let order: &[usize] = match cell {
            Cell::Gru { .. } => &GRU_KERAS_FROM_TORCH,
            _ => &[0, 1, 2, 3][..cell.gates()],
        };
        let kernel = transpose_blocks(&w_ih_v, in_w, units, order);
        let recurrent_kernel = transpose_blocks(&w_hh_v, units, units, order);
        let reorder = |b: &[f32]| -> Vec<f32> {
            order
                .iter()
                .flat_map(|&t| b[t * units..(t + 1) * units].iter().copied())
                .collect()
        };
        let bias = match cell {
            Cell::Gru { .. } => [reorder(&bi), reorder(&bh)].concat(),
            _ => bi.iter().zip(&bh).map(|(a, b)| a + b).collect(),
        };
        checked(
            NetWeights {
                spec,
                embedding,
                kernel,
                recurrent_kernel,
                bias,
                dense_kernel: fc_w,
                dense_bias: fc_b[0],
            },
            self.file,
        )
    }
}

/// PyTorch's GRU rows are `r, z, n`; Keras' columns `z, r, h`: Keras block k is PyTorch block
/// `GRU_KERAS_FROM_TORCH[k]` (the permutation is its own inverse).
const GRU_KERAS_FROM_TORCH: [usize; 3] = [1, 0, 2];

/// PyTorch's `[G·H, cols]` (row blocks in PyTorch's gate order) → Keras' `[cols, G·H]` with
/// column block k taken from row block `order[k]`.
fn transpose_blocks(w: &[f32], cols: usize, units: usize, order: &[usize]) -> Vec<f32> {
    let gw = order.len() * units;
    let mut out = vec![0.0; cols * gw];
    for (k, &t) in order.iter().enumerate() {
        for u in 0..units {
            let row = &w[(t * units + u) * cols..(t * units + u + 1) * cols];
            for (c, &v) in row.iter().enumerate() {
                out[c * gw + k * units + u] = v;
            }
        }
    }
    out
}

/// Keras' `[cols, G·H]` → PyTorch's `[G·H, cols]`, PyTorch row block `order[k]` from Keras column
/// block k.
fn untranspose_blocks(w: &[f32], cols: usize, units: usize, order: &[usize]) -> Vec<f32> {
    let gw = order.len() * units;
    let mut out = vec![0.0; cols * gw];
    for (k, &t) in order.iter().enumerate() {
        for u in 0..units {
            for c in 0..cols {
                out[(t * units + u) * cols + c] = w[c * gw + k * units + u];
            }
        }
    }
    out
}

/// The general format's tensor names: embedding, kernel, recurrent kernel, bias, dense kernel,
/// dense bias.
fn keras_names(cell: Cell) -> [&'static str; 6] {
    let [k, rk, b] = match cell {
        Cell::SimpleRnn => [
            "simple_rnn.kernel",
            "simple_rnn.recurrent_kernel",
            "simple_rnn.bias",
        ],
        Cell::Lstm => ["lstm.kernel", "lstm.recurrent_kernel", "lstm.bias"],
        Cell::Gru { .. } => ["gru.kernel", "gru.recurrent_kernel", "gru.bias"],
    };
    [
        "embedding.embeddings",
        k,
        rk,
        b,
        "dense.kernel",
        "dense.bias",
    ]
}

/// Keras' shapes of the tensors of [`keras_names`].
fn keras_shapes(spec: &Spec) -> [Vec<usize>; 6] {
    let (g, h) = (spec.gate_width(), spec.units);
    let emb = match spec.input {
        Input::Embedding { width } => vec![spec.vocab, width],
        Input::OneHot => vec![0, 0],
    };
    let bias = match spec.cell.bias_rows() {
        1 => vec![g],
        rows => vec![rows, g],
    };
    [
        emb,
        vec![spec.input_width(), g],
        vec![h, g],
        bias,
        vec![h, 1],
        vec![1],
    ]
}

/// Label of errors about weights being serialized rather than read.
const IN_MEMORY: &str = "<weights>";

impl NetWeights {
    /// The general format's bytes (see the module docs); the same weights always give the same
    /// bytes. Fails for weights that do not [`validate`](NetWeights::validate).
    pub fn to_bytes(&self) -> Result<Vec<u8>, NetOpenError> {
        let w = checked(self.clone(), IN_MEMORY)?;
        let spec = &w.spec;
        let names = keras_names(spec.cell);
        let shapes = keras_shapes(spec);
        let values = [
            &w.embedding,
            &w.kernel,
            &w.recurrent_kernel,
            &w.bias,
            &w.dense_kernel,
            &vec![w.dense_bias],
        ];
        let tensors: Vec<(&str, Vec<usize>, &[f32])> = names
            .iter()
            .zip(shapes)
            .zip(values)
            .filter(|((n, _), _)| spec.input != Input::OneHot || **n != names[0])
            .map(|((n, s), v)| (*n, s, v.as_slice()))
            .collect();
        Ok(encode(&tensors, &self.metadata("keras")))
    }

    /// The PyTorch state dict's bytes (names of the module docs, prefix `rnn`; `bias_hh` is zero
    /// for `nn.RNN` / `nn.LSTM`, so that `b_ih + b_hh` is Keras' bias exactly). A GRU with
    /// `reset_after = false` has no PyTorch equivalent and is refused.
    pub fn to_torch_bytes(&self) -> Result<Vec<u8>, NetOpenError> {
        let w = checked(self.clone(), IN_MEMORY)?;
        let spec = &w.spec;
        let (h, gw, in_w) = (spec.units, spec.gate_width(), spec.input_width());
        let order: &[usize] = match spec.cell {
            Cell::Gru { reset_after: false } => {
                return Err(NetOpenError::Unsupported {
                    file: IN_MEMORY.to_owned(),
                    problem: "a GRU with reset_after=False has no PyTorch equivalent (nn.GRU \
                              applies the reset gate after the recurrent product)"
                        .into(),
                });
            }
            Cell::Gru { .. } => &GRU_KERAS_FROM_TORCH,
            c => &[0, 1, 2, 3][..c.gates()],
        };
        let reorder = |b: &[f32]| -> Vec<f32> {
            let mut out = vec![0.0; gw];
            for (k, &t) in order.iter().enumerate() {
                out[t * h..(t + 1) * h].copy_from_slice(&b[k * h..(k + 1) * h]);
            }
            out
        };
        let (b_ih, b_hh) = match spec.cell {
            Cell::Gru { .. } => (reorder(&w.bias[..gw]), reorder(&w.bias[gw..])),
            _ => (reorder(&w.bias), vec![0.0; gw]),
        };
        let w_ih = untranspose_blocks(&w.kernel, in_w, h, order);
        let w_hh = untranspose_blocks(&w.recurrent_kernel, h, h, order);
        let fc_b = [w.dense_bias];
        let mut tensors: Vec<(&str, Vec<usize>, &[f32])> = vec![
            ("rnn.weight_ih_l0", vec![gw, in_w], &w_ih),
            ("rnn.weight_hh_l0", vec![gw, h], &w_hh),
            ("rnn.bias_ih_l0", vec![gw], &b_ih),
            ("rnn.bias_hh_l0", vec![gw], &b_hh),
            ("fc.weight", vec![1, h], &w.dense_kernel),
            ("fc.bias", vec![1], &fc_b),
        ];
        if let Input::Embedding { width } = spec.input {
            tensors.push(("embedding.weight", vec![spec.vocab, width], &w.embedding));
        }
        Ok(encode(&tensors, &self.metadata("pytorch")))
    }

    fn metadata(&self, names: &str) -> BTreeMap<&'static str, String> {
        let s = &self.spec;
        let mut meta = BTreeMap::from([
            (META_FORMAT, NET_FORMAT.to_owned()),
            (META_FORMAT_VERSION, NET_FORMAT_VERSION.to_string()),
            (META_CELL, s.cell.name().to_owned()),
            (META_UNITS, s.units.to_string()),
            (META_VOCAB, s.vocab.to_string()),
            (META_SEQ_LEN, s.seq_len.to_string()),
            (META_NAMES, names.to_owned()),
            (
                META_PRODUCER,
                concat!("fusedrnn ", env!("CARGO_PKG_VERSION")).to_owned(),
            ),
        ]);
        match s.input {
            Input::Embedding { width } => {
                meta.insert(META_INPUT, "embedding".to_owned());
                meta.insert(META_WIDTH, width.to_string());
            }
            Input::OneHot => {
                meta.insert(META_INPUT, "one-hot".to_owned());
            }
        }
        if names == "pytorch" {
            // The torch reader tells the file by its names; `format` would send it to the
            // general reader.
            meta.remove(META_FORMAT);
        }
        meta
    }

    /// Writes the weights atomically ([`crate::atomic`]): a notebook-shaped model in the
    /// notebook's format ([`Model::save`], so older readers open it), any other in the general
    /// format. Errors name `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), NetOpenError> {
        let path = path.as_ref();
        if let Some(model) = self.to_notebook() {
            return Ok(model.save(path)?);
        }
        let bytes = self.to_bytes().map_err(|e| relabel(e, path))?;
        write(path, &bytes)
    }

    /// Writes a PyTorch state dict atomically: a notebook-shaped model as [`Model::save_torch`]
    /// does (older readers open it), any other under the names of the module docs.
    pub fn save_torch(&self, path: impl AsRef<Path>) -> Result<(), NetOpenError> {
        let path = path.as_ref();
        if let Some(model) = self.to_notebook() {
            return Ok(model.save_torch(path)?);
        }
        let bytes = self.to_torch_bytes().map_err(|e| relabel(e, path))?;
        write(path, &bytes)
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), NetOpenError> {
    crate::atomic::write_bytes(path, bytes).map_err(|source| NetOpenError::Io {
        file: path.display().to_string(),
        source,
    })
}

/// Puts the real path into an error raised before the path was known.
fn relabel(e: NetOpenError, path: &Path) -> NetOpenError {
    let file = path.display().to_string();
    match e {
        NetOpenError::Weights { source, .. } => NetOpenError::Weights { file, source },
        NetOpenError::Spec { source, .. } => NetOpenError::Spec { file, source },
        NetOpenError::Unsupported { problem, .. } => NetOpenError::Unsupported { file, problem },
        other => other,
    }
}

/// Safetensors bytes: an 8-byte little-endian header length, the JSON header (sorted keys, so the
/// same input always gives the same bytes) padded with spaces to a multiple of 8, then the data in
/// name order (as `crate::model`'s writer does).
fn encode(tensors: &[(&str, Vec<usize>, &[f32])], meta: &BTreeMap<&str, String>) -> Vec<u8> {
    use serde_json::{Map, Value, json};

    let mut sorted: Vec<&(&str, Vec<usize>, &[f32])> = tensors.iter().collect();
    sorted.sort_by_key(|(name, _, _)| *name);
    let mut header = Map::new();
    let meta: Map<String, Value> = meta
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(v.as_str())))
        .collect();
    header.insert("__metadata__".to_owned(), Value::Object(meta));
    let mut offset = 0usize;
    for (name, shape, values) in &sorted {
        let end = offset + 4 * values.len();
        header.insert(
            (*name).to_owned(),
            json!({ "dtype": "F32", "shape": shape, "data_offsets": [offset, end] }),
        );
        offset = end;
    }
    let mut header = Value::Object(header).to_string().into_bytes();
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    for (_, _, values) in &sorted {
        for v in values.iter() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PyTorch `[G·H, cols]` whose value names its place: `100·row + col`.
    fn torch_matrix(g: usize, h: usize, cols: usize) -> Vec<f32> {
        (0..g * h)
            .flat_map(|r| (0..cols).map(move |c| (100 * r + c) as f32))
            .collect()
    }

    #[test]
    fn gru_blocks_move_from_torch_r_z_n_to_keras_z_r_h() {
        let (h, cols) = (2, 3);
        let w = torch_matrix(3, h, cols);
        let k = transpose_blocks(&w, cols, h, &GRU_KERAS_FROM_TORCH);
        let gw = 3 * h;
        // Keras column block 0 (z) is PyTorch row block 1 (z), unit u, input c.
        for u in 0..h {
            for c in 0..cols {
                assert_eq!(k[c * gw + u], (100 * (h + u) + c) as f32);
                assert_eq!(k[c * gw + h + u], (100 * u + c) as f32);
                assert_eq!(k[c * gw + 2 * h + u], (100 * (2 * h + u) + c) as f32);
            }
        }
        assert_eq!(
            untranspose_blocks(&k, cols, h, &GRU_KERAS_FROM_TORCH),
            w,
            "the permutation is its own inverse"
        );
    }

    #[test]
    fn lstm_blocks_keep_their_order_and_transpose() {
        let (h, cols) = (3, 2);
        let w = torch_matrix(4, h, cols);
        let k = transpose_blocks(&w, cols, h, &[0, 1, 2, 3]);
        for r in 0..4 * h {
            for c in 0..cols {
                assert_eq!(k[c * 4 * h + r], w[r * cols + c]);
            }
        }
        assert_eq!(untranspose_blocks(&k, cols, h, &[0, 1, 2, 3]), w);
    }

    #[test]
    fn the_general_format_is_deterministic_and_self_describing() {
        let spec = Spec {
            cell: Cell::Gru { reset_after: false },
            units: 3,
            vocab: 11,
            input: Input::OneHot,
            seq_len: 7,
        };
        let w = NetWeights::seeded(spec, 9, 0.3);
        let bytes = w.to_bytes().unwrap();
        assert_eq!(bytes, w.to_bytes().unwrap());
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let meta = header.metadata().as_ref().unwrap();
        for (k, v) in [
            ("format", "fusedrnn-net"),
            ("format_version", "1"),
            ("cell", "gru-v1"),
            ("units", "3"),
            ("vocab", "11"),
            ("input", "one-hot"),
            ("seq_len", "7"),
        ] {
            assert_eq!(meta.get(k).map(String::as_str), Some(v), "{k}");
        }
        assert!(!meta.contains_key("width"));
        let back = from_safetensors_bytes(&bytes, "m", &OpenOptions::default()).unwrap();
        assert_eq!(back, w);
    }

    #[test]
    fn invalid_weights_are_not_written() {
        let spec = Spec {
            cell: Cell::Lstm,
            units: 2,
            vocab: 4,
            input: Input::Embedding { width: 2 },
            seq_len: 3,
        };
        let mut w = NetWeights::seeded(spec, 1, 0.3);
        w.bias[5] = f32::INFINITY;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inf.st");
        let err = w.save(&path).unwrap_err();
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        assert!(err.to_string().contains("bias"), "{err}");
        assert!(!path.exists(), "no partial output");
    }
}
