//! `fusedrnn-keras`: reads a Keras model file, in pure Rust (`hdf5-pure`, no C library), and hands
//! back its architecture and weights under fusedrnn's Keras-style tensor names. Two readers:
//!
//! - [`read`] / [`from_bytes`]: one of the notebook's three models ([`KerasModel`]), exactly as
//!   before; every other shape is refused.
//! - [`read_net`] / [`net_from_bytes`]: any `[InputLayer] → Embedding(V, W) | one-hot(V) →
//!   SimpleRNN | LSTM | GRU(H, reset_after) → Dense(1, sigmoid)` within the `NET_MAX_*` limits
//!   ([`KerasNet`]: cell, units, vocabulary, width, input length if the config fixes one, tensors),
//!   for `fusedrnn::net::open`. The same refusals apply, naming the layer; `use_bias=False` and
//!   `hard_sigmoid` are refused rather than emulated.
//!
//! Formats:
//! - legacy HDF5 `.h5` as tf.keras 2 writes it (fixed-length byte strings, `…/kernel:0` names)
//!   and as Keras 3 writes it (variable-length strings, `sequential/lstm/lstm_cell/kernel`);
//! - the Keras 3 `.keras` zip (`config.json`, `metadata.json`, `model.weights.h5`).
//!
//! The architecture comes from the model config: `[Embedding(V, 16) →] LSTM(8) | SimpleRNN(8) →
//! Dense(1, sigmoid)`, Dropout layers skipped. Anything else that changes the forward pass
//! (`hard_sigmoid`, `return_sequences`, stacked or bidirectional layers, masking, `use_bias=False`,
//! other sizes, unknown layer types) is refused with a message naming the layer. The weights are found through the config's layer names, never fixed names,
//! and every shape is checked against the config before a value is read.
//!
//! # Why a separate crate
//! `fusedrnn-data-tools` depends on the `fusedrnn` library, and the `fusedrnn` CLI (a binary of
//! the root package) needs this reader for `fusedrnn import` and `--model m.h5`; cargo refuses
//! the cycle that putting it in data-tools would make. So this leaf crate lives inside
//! `data-tools/keras/`, depends on neither, and returns a neutral value: the CLI turns the named
//! tensors into a `fusedrnn::model::Model` through the library's validated Keras-name loading
//! path, and data-tools re-exports this crate as `fusedrnn_data_tools::keras_model`. The
//! `fusedrnn` library itself never parses HDF5.
//!
//! # Hostile input
//! A file is hostile until checked. Files are read whole, up to [`MAX_FILE_BYTES`]; zip members
//! up to their stated size, checked against the archive's length; every dataset's shape and type
//! are checked against the config before its data is read. The `hdf5` fuzz target runs this path.
//!
//! ```no_run
//! let model = fusedrnn_keras::read("best-lstm-model.h5")?;
//! println!("{} with {} words", model.arch.name(), model.num_words);
//! for t in &model.tensors {
//!     println!("{} {:?} from {}", t.name, t.shape, t.dataset);
//! }
//! # Ok::<(), fusedrnn_keras::ImportError>(())
//! ```

// This crate parses hostile input (HDF5, zip, JSON) and needs no `unsafe`.
#![forbid(unsafe_code)]

mod config;
mod error;
mod h5;

use std::io::{Cursor, Read};
use std::path::Path;

use config::Mode;
pub use error::{ImportError, Problem};
use h5::{Layout, Want};

/// Embedding width of the notebook's models.
pub const EMBED: usize = 16;
/// Recurrent units.
pub const HIDDEN: usize = 8;
/// LSTM gates × units (Keras' column order i, f, c, o).
pub const GATES: usize = 4 * HIDDEN;
/// Largest vocabulary: token ids are `u16`.
pub const MAX_VOCAB: usize = 1 << 16;
/// Largest file (and largest `.keras` member) read. A vocabulary-65,536 LSTM is 4 MiB of
/// embedding; a legacy `.h5` saved with its optimizer holds about three times its weights.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Largest `config.json` read from a `.keras` zip.
const MAX_CONFIG_BYTES: u64 = 16 << 20;
/// Deflate cannot compress better than about 1032:1; a member claiming more is corrupt.
const MAX_DEFLATE_RATIO: u64 = 1100;

/// Most recurrent units [`read_net`] accepts (`fusedrnn::net::MAX_UNITS`).
pub const NET_MAX_UNITS: usize = 256;
/// Largest vocabulary (or one-hot width) [`read_net`] accepts (`fusedrnn::net::MAX_VOCAB`).
pub const NET_MAX_VOCAB: usize = 1 << 24;
/// Widest embedding [`read_net`] accepts (`fusedrnn::net::MAX_WIDTH`).
pub const NET_MAX_WIDTH: usize = 4096;
/// Largest file (and `.keras` member) [`read_net`] reads: 1 GiB, an Embedding(88,587, 256)
/// with its optimizer state several times over. The file is read whole, sized by its real
/// length; no dataset may claim more data than the file holds.
pub const NET_MAX_FILE_BYTES: u64 = 1 << 30;

/// HDF5's file signature (at offset 0 when there is no user block, as in every Keras file).
pub const HDF5_MAGIC: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
/// A zip archive's first local header.
pub const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

/// Which of the notebook's models the file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// `Embedding(V, 16) → LSTM(8) → Dense(1, sigmoid)`.
    Lstm,
    /// `Embedding(V, 16) → SimpleRNN(8) → Dense(1, sigmoid)`.
    Rnn,
    /// `SimpleRNN(8)` on one-hot input of width `V` → `Dense(1, sigmoid)`.
    RnnOneHot,
}

impl Arch {
    /// fusedrnn's name for it (`lstm`, `rnn`, `rnn-onehot`).
    pub fn name(self) -> &'static str {
        match self {
            Arch::Lstm => "lstm",
            Arch::Rnn => "rnn",
            Arch::RnnOneHot => "rnn-onehot",
        }
    }
}

/// The recurrent layer of a general model ([`read_net`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cell {
    /// `SimpleRNN` (activation tanh).
    SimpleRnn,
    /// `LSTM` (gates `i, f, c, o`; activation tanh, recurrent activation sigmoid).
    Lstm,
    /// `GRU` (gates `z, r, h`); `reset_after` as the layer's config says (Keras 3's default is
    /// `true`, with a bias of shape `[2, 3·units]`; `false` has a bias `[3·units]`).
    Gru { reset_after: bool },
}

impl Cell {
    /// Gate blocks per unit: 1, 4 or 3.
    pub fn gates(self) -> usize {
        match self {
            Cell::SimpleRnn => 1,
            Cell::Lstm => 4,
            Cell::Gru { .. } => 3,
        }
    }

    /// Keras' snake-cased layer class (`simple_rnn`, `lstm`, `gru`): the prefix of the tensor
    /// names [`read_net`] returns.
    pub fn keras_name(self) -> &'static str {
        match self {
            Cell::SimpleRnn => "simple_rnn",
            Cell::Lstm => "lstm",
            Cell::Gru { .. } => "gru",
        }
    }
}

/// A Keras model file of any supported shape, read and checked ([`read_net`]):
/// `[InputLayer] → Embedding(vocab, width) | one-hot(vocab) → SimpleRNN | LSTM | GRU(units) →
/// Dense(1, sigmoid)`, Dropout layers skipped.
#[derive(Clone, Debug, PartialEq)]
pub struct KerasNet {
    pub cell: Cell,
    pub units: usize,
    /// Rows of the input lookup: the Embedding's `input_dim`, or the one-hot width.
    pub vocab: usize,
    /// The Embedding's `output_dim`; `None` for one-hot input.
    pub width: Option<usize>,
    /// The input length the config fixes (`batch_shape`, `batch_input_shape`, `input_length`,
    /// `build_config`); `None` when it does not (`Input(shape=(None,))`): the caller supplies it.
    pub seq_len: Option<usize>,
    pub format: Format,
    /// `keras_version` as the file records it, when it does.
    pub keras_version: Option<String>,
    /// Row-major, Keras' shapes, in this order: `embedding.embeddings [vocab, width]` (not for
    /// one-hot), `{cell}.kernel [in, G·units]`, `{cell}.recurrent_kernel [units, G·units]`,
    /// `{cell}.bias [G·units]` (`[2, 3·units]` for a GRU with `reset_after`), `dense.kernel
    /// [units, 1]`, `dense.bias [1]`, where `{cell}` is [`Cell::keras_name`].
    pub tensors: Vec<Tensor>,
}

impl KerasNet {
    /// The tensor of that name (`gru.kernel`, `dense.bias`, …).
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// Reads and checks a Keras model file of any supported shape (see [`KerasNet`]); refuses, naming
/// the layer, stacked or bidirectional recurrent layers, masking, `return_sequences`,
/// `return_state`, `go_backwards`, `stateful`, activations other than tanh / sigmoid,
/// `use_bias=False` and any other layer type. Errors name `path`.
pub fn read_net(path: impl AsRef<Path>) -> Result<KerasNet, ImportError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let bytes = read_bounded(path, NET_MAX_FILE_BYTES).map_err(|p| p.in_file(&file))?;
    net_from_bytes(&bytes, &file)
}

/// [`read_net`] of a file's bytes; `file` is the name errors use. Never panics.
pub fn net_from_bytes(bytes: &[u8], file: &str) -> Result<KerasNet, ImportError> {
    if bytes.len() as u64 > NET_MAX_FILE_BYTES {
        return Err(Problem::TooLarge {
            found: bytes.len() as u64,
            max: NET_MAX_FILE_BYTES,
        }
        .in_file(file));
    }
    import_net(bytes).map_err(|p| p.in_file(file))
}

fn import_net(bytes: &[u8]) -> Result<KerasNet, Problem> {
    let c = container(bytes, NET_MAX_FILE_BYTES)?;
    let plan = config::plan(&c.config, Mode::General)?;
    let (h, g) = (plan.units, plan.cell.gates() * plan.units);
    let v = plan.vocab;
    let want = |name, var, shape: [Option<usize>; 2], rank| Want {
        name,
        var,
        shape,
        rank,
        free_max: NET_MAX_VOCAB,
    };
    let mut tensors = Vec::with_capacity(6);
    if let (Some(layer), Some(width)) = (&plan.embedding, plan.width) {
        let w = want("embedding.embeddings", "embeddings", [v, Some(width)], 2);
        tensors.extend(h5::read_layer(
            &c.h5,
            c.layout,
            layer,
            "embedding",
            false,
            &[w],
            c.h5_len,
        )?);
    }
    let in_rows = match plan.width {
        Some(width) => Some(width),
        None => v,
    };
    let bias = match plan.cell {
        Cell::Gru { reset_after: true } => want("bias", "bias", [Some(2), Some(g)], 2),
        _ => want("bias", "bias", [Some(g), None], 1),
    };
    let mut recurrent = [
        want("kernel", "kernel", [in_rows, Some(g)], 2),
        want(
            "recurrent_kernel",
            "recurrent_kernel",
            [Some(h), Some(g)],
            2,
        ),
        bias,
    ];
    let names: [&'static str; 3] = match plan.cell {
        Cell::SimpleRnn => [
            "simple_rnn.kernel",
            "simple_rnn.recurrent_kernel",
            "simple_rnn.bias",
        ],
        Cell::Lstm => ["lstm.kernel", "lstm.recurrent_kernel", "lstm.bias"],
        Cell::Gru { .. } => ["gru.kernel", "gru.recurrent_kernel", "gru.bias"],
    };
    for (w, name) in recurrent.iter_mut().zip(names) {
        w.name = name;
    }
    tensors.extend(h5::read_layer(
        &c.h5,
        c.layout,
        &plan.recurrent,
        plan.cell.keras_name(),
        true,
        &recurrent,
        c.h5_len,
    )?);
    let dense = [
        want("dense.kernel", "kernel", [Some(h), Some(1)], 2),
        want("dense.bias", "bias", [Some(1), None], 1),
    ];
    tensors.extend(h5::read_layer(
        &c.h5,
        c.layout,
        &plan.dense,
        "dense",
        false,
        &dense,
        c.h5_len,
    )?);
    // The input lookup's rows: the config's size, or (one-hot without a declared width) the
    // kernel's rows, which the shape check bounded to 1..=NET_MAX_VOCAB.
    let vocab = tensors[0].shape[0];
    Ok(KerasNet {
        cell: plan.cell,
        units: plan.units,
        vocab,
        width: plan.width,
        seq_len: plan.seq_len,
        format: c.format,
        keras_version: c.keras_version,
        tensors,
    })
}

/// Which kind of Keras file it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Legacy `.h5` (tf.keras 2 or Keras 3 `model.save("m.h5")`).
    LegacyH5,
    /// Keras 3 `.keras` zip.
    KerasZip,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::LegacyH5 => "legacy HDF5 .h5",
            Format::KerasZip => "Keras 3 .keras",
        }
    }
}

/// One weight, under fusedrnn's Keras-style name (`lstm.kernel`, …), row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: &'static str,
    /// The HDF5 dataset it came from (e.g. `/model_weights/lstm/lstm/lstm_cell/kernel:0`).
    pub dataset: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// A Keras model file read and checked: architecture, sizes and weights.
#[derive(Clone, Debug, PartialEq)]
pub struct KerasModel {
    pub arch: Arch,
    pub format: Format,
    /// `keras_version` as the file records it (`2.15.0`, `3.15.1`), when it does.
    pub keras_version: Option<String>,
    /// The input length the config fixes, if it does (`None` for `Input((None,))`).
    pub seq_len: Option<usize>,
    /// Rows of the input lookup: the Embedding's `input_dim`, or the one-hot width.
    pub num_words: usize,
    /// `embedding.embeddings` (not for one-hot), the recurrent layer's `kernel`,
    /// `recurrent_kernel`, `bias` (`lstm.*` or `simple_rnn.*`), `dense.kernel`, `dense.bias`.
    pub tensors: Vec<Tensor>,
}

impl KerasModel {
    /// The tensor of that name.
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// What the first bytes say a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    Hdf5,
    Zip,
    Other,
}

/// Tells HDF5 and zip apart by their signatures.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.starts_with(HDF5_MAGIC) {
        Sniffed::Hdf5
    } else if bytes.starts_with(ZIP_MAGIC) {
        Sniffed::Zip
    } else {
        Sniffed::Other
    }
}

/// Whether a path names a Keras file by its extension (`.h5`, `.hdf5`, `.keras`).
pub fn has_keras_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["h5", "hdf5", "keras"].contains(&e.to_ascii_lowercase().as_str()))
}

/// Reads and checks a Keras model file. Errors name `path`.
pub fn read(path: impl AsRef<Path>) -> Result<KerasModel, ImportError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let bytes = read_bounded(path, MAX_FILE_BYTES).map_err(|p| p.in_file(&file))?;
    from_bytes(&bytes, &file)
}

/// The file at `path` if it is a regular file of at most `max` bytes. On Unix the open does
/// not wait for a named pipe's writer (`O_NONBLOCK`), so a pipe is refused, not waited on.
fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, Problem> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let handle = options.open(path)?;
    let meta = handle.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a folder, a device or a pipe)",
        )
        .into());
    }
    let len = meta.len();
    let too_large = |found| Problem::TooLarge { found, max };
    if len > max {
        return Err(too_large(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    handle.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads and checks the bytes of a Keras file (`.h5` or `.keras`, told apart by their
/// signatures); `file` is the name errors use. Never panics.
pub fn from_bytes(bytes: &[u8], file: &str) -> Result<KerasModel, ImportError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Problem::TooLarge {
            found: bytes.len() as u64,
            max: MAX_FILE_BYTES,
        }
        .in_file(file));
    }
    import(bytes).map_err(|p| p.in_file(file))
}

fn import(bytes: &[u8]) -> Result<KerasModel, Problem> {
    let c = container(bytes, MAX_FILE_BYTES)?;
    build(&c.h5, c.layout, c.format, c.keras_version, &c.config)
}

/// The parts of a Keras file both readers need: its weights' HDF5 file, their layout, the model
/// config and the Keras version.
struct Container {
    h5: hdf5_pure::File,
    /// Bytes of the HDF5 file (a bound on any dataset's data).
    h5_len: u64,
    layout: Layout,
    format: Format,
    keras_version: Option<String>,
    config: String,
}

/// Opens the HDF5 file or the `.keras` zip (members up to `max_member` bytes).
fn container(bytes: &[u8], max_member: u64) -> Result<Container, Problem> {
    match sniff(bytes) {
        Sniffed::Hdf5 => {
            let h5 = h5::open(bytes.to_vec(), "file (superblock and root group)")?;
            let Some(config) = h5::root_string(&h5, "model_config")? else {
                return Err(Problem::Model(
                    "no `model_config` attribute: a weights-only file (model.save_weights) has \
                     no architecture; save the whole model with model.save(\"m.h5\") or as .keras"
                        .into(),
                ));
            };
            let keras_version = h5::root_string(&h5, "keras_version")?;
            Ok(Container {
                h5,
                h5_len: bytes.len() as u64,
                layout: Layout::Legacy,
                format: Format::LegacyH5,
                keras_version,
                config,
            })
        }
        Sniffed::Zip => {
            let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
                .map_err(|e| Problem::Archive(format!("not a readable zip: {e}")))?;
            let len = bytes.len() as u64;
            let config = member(&mut archive, "config.json", MAX_CONFIG_BYTES, len)?;
            let config = String::from_utf8(config)
                .map_err(|_| Problem::Archive("config.json is not UTF-8".into()))?;
            let keras_version = member(&mut archive, "metadata.json", MAX_CONFIG_BYTES, len)
                .ok()
                .and_then(|m| serde_json::from_slice::<serde_json::Value>(&m).ok())
                .and_then(|m| m.get("keras_version")?.as_str().map(str::to_owned));
            let weights = member(&mut archive, "model.weights.h5", max_member, len)?;
            if sniff(&weights) != Sniffed::Hdf5 {
                return Err(Problem::Archive(
                    "model.weights.h5 is not an HDF5 file".into(),
                ));
            }
            let h5_len = weights.len() as u64;
            let h5 = h5::open(weights, "model.weights.h5 (superblock and root group)")?;
            Ok(Container {
                h5,
                h5_len,
                layout: Layout::Keras3,
                format: Format::KerasZip,
                keras_version,
                config,
            })
        }
        Sniffed::Other => Err(Problem::UnknownFormat),
    }
}

/// One member of a `.keras` zip, inflated with its stated size as a hard limit.
fn member(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    max: u64,
    archive_len: u64,
) -> Result<Vec<u8>, Problem> {
    let fail = |problem: String| Problem::Archive(format!("member {name}: {problem}"));
    let mut file = archive.by_name(name).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => Problem::Archive(format!(
            "no member {name} (a .keras file has config.json and model.weights.h5)"
        )),
        e => fail(e.to_string()),
    })?;
    let size = file.size();
    let packed = file.compressed_size();
    if packed > archive_len {
        return Err(fail(format!(
            "claims {packed} compressed bytes, but the archive has {archive_len}"
        )));
    }
    match file.compression() {
        zip::CompressionMethod::Stored if size == packed => {}
        zip::CompressionMethod::Deflated
            if size <= packed.saturating_mul(MAX_DEFLATE_RATIO) + 1024 => {}
        method => {
            return Err(fail(format!(
                "{method:?} member of {size} bytes from {packed}: corrupt or unsupported"
            )));
        }
    }
    if size > max {
        return Err(fail(format!(
            "{size} bytes is more than the {max} this reader accepts"
        )));
    }
    let mut out = Vec::with_capacity(size as usize);
    (&mut file)
        .take(size + 1)
        .read_to_end(&mut out)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if out.len() as u64 != size {
        return Err(fail(format!("holds {} bytes, but says {size}", out.len())));
    }
    Ok(out)
}

/// The config's plan, then each layer's weights, checked against it.
fn build(
    h5: &hdf5_pure::File,
    layout: Layout,
    format: Format,
    keras_version: Option<String>,
    config_text: &str,
) -> Result<KerasModel, Problem> {
    let plan = config::plan(config_text, Mode::Notebook)?;
    let v = plan.vocab;
    let mut tensors = Vec::with_capacity(6);
    if let Some(layer) = &plan.embedding {
        let want = Want {
            name: "embedding.embeddings",
            var: "embeddings",
            shape: [v, Some(EMBED)],
            rank: 2,
            free_max: MAX_VOCAB,
        };
        tensors.extend(h5::read_layer(
            h5,
            layout,
            layer,
            "embedding",
            false,
            &[want],
            u64::MAX,
        )?);
    }
    let (prefix, width) = match plan.arch {
        Arch::Lstm => ("lstm", GATES),
        Arch::Rnn | Arch::RnnOneHot => ("simple_rnn", HIDDEN),
    };
    let input_rows = if plan.arch == Arch::RnnOneHot {
        v
    } else {
        Some(EMBED)
    };
    let names: [&'static str; 3] = match prefix {
        "lstm" => ["lstm.kernel", "lstm.recurrent_kernel", "lstm.bias"],
        _ => [
            "simple_rnn.kernel",
            "simple_rnn.recurrent_kernel",
            "simple_rnn.bias",
        ],
    };
    let recurrent = [
        Want {
            name: names[0],
            var: "kernel",
            shape: [input_rows, Some(width)],
            rank: 2,
            free_max: MAX_VOCAB,
        },
        Want {
            name: names[1],
            var: "recurrent_kernel",
            shape: [Some(HIDDEN), Some(width)],
            rank: 2,
            free_max: MAX_VOCAB,
        },
        Want {
            name: names[2],
            var: "bias",
            shape: [Some(width), None],
            rank: 1,
            free_max: MAX_VOCAB,
        },
    ];
    tensors.extend(h5::read_layer(
        h5,
        layout,
        &plan.recurrent,
        prefix,
        true,
        &recurrent,
        u64::MAX,
    )?);
    let dense = [
        Want {
            name: "dense.kernel",
            var: "kernel",
            shape: [Some(HIDDEN), Some(1)],
            rank: 2,
            free_max: MAX_VOCAB,
        },
        Want {
            name: "dense.bias",
            var: "bias",
            shape: [Some(1), None],
            rank: 1,
            free_max: MAX_VOCAB,
        },
    ];
    tensors.extend(h5::read_layer(
        h5,
        layout,
        &plan.dense,
        "dense",
        false,
        &dense,
        u64::MAX,
    )?);
    // The input lookup's rows: the config's size, or (one-hot without a declared width) the
    // kernel's rows, which the shape check bounded to 1..=MAX_VOCAB.
    let num_words = tensors[0].shape[0];
    Ok(KerasModel {
        arch: plan.arch,
        format,
        keras_version,
        seq_len: plan.seq_len,
        num_words,
        tensors,
    })
}
