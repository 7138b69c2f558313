//! What can go wrong reading or writing a weights file. Every variant names the file (`file`, as the
//! caller gave it) and, where one is involved, the tensor or metadata key, with what was expected
//! and what was found.

use safetensors::SafeTensorError;

/// An error loading, checking or saving a model's weights.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Opening, reading, writing or renaming the file failed.
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },

    /// The file is larger than any model of the notebook can be (see `MAX_FILE_BYTES`).
    #[error(
        "{file}: file is {found_bytes} bytes, more than the {max_bytes} bytes any supported model needs"
    )]
    TooLarge {
        file: String,
        found_bytes: u64,
        max_bytes: u64,
    },

    /// The bytes are not a well-formed safetensors file (header, offsets, lengths).
    #[error("{file}: not a valid safetensors file: {source}{detail}")]
    Format {
        file: String,
        #[source]
        source: SafeTensorError,
        /// Which tensor's entry is at fault, when the header names one (`: tensor ...`).
        detail: String,
    },

    /// None of the tensor names belongs to a model we know, under Keras' or PyTorch's names.
    #[error(
        "{file}: no tensor of a known model: expected Keras names (e.g. `lstm.kernel`) or PyTorch names \
         (e.g. `lstm.weight_ih_l0`), found [{found}]"
    )]
    UnknownNames { file: String, found: String },

    /// Some names are Keras', others PyTorch's.
    #[error("{file}: mixes Keras names ([{keras}]) with PyTorch names ([{torch}])")]
    MixedNaming {
        file: String,
        keras: String,
        torch: String,
    },

    /// The tensors do not name exactly one recurrent layer (LSTM or SimpleRNN).
    #[error("{file}: {problem}")]
    RecurrentLayer { file: String, problem: String },

    /// A tensor the detected model needs is absent.
    #[error("{file}: missing tensor `{tensor}` (needed by a {arch} model with {naming} names)")]
    MissingTensor {
        file: String,
        tensor: String,
        arch: &'static str,
        naming: &'static str,
    },

    /// A tensor that is not part of the detected model.
    #[error(
        "{file}: unexpected tensor `{tensor}` (not part of a {arch} model with {naming} names)"
    )]
    UnexpectedTensor {
        file: String,
        tensor: String,
        arch: &'static str,
        naming: &'static str,
    },

    /// A tensor is not `F32`.
    #[error("{file}: tensor `{tensor}`: expected dtype F32, found {found}")]
    Dtype {
        file: String,
        tensor: String,
        found: String,
    },

    /// A tensor has the wrong rank or dimensions. `expected` uses `V` for the vocabulary size.
    #[error("{file}: tensor `{tensor}`: expected shape {expected}, found {found:?}")]
    Shape {
        file: String,
        tensor: String,
        expected: String,
        found: Vec<usize>,
    },

    /// The vocabulary (rows of the input lookup) is empty or too large for `u16` token ids.
    #[error(
        "{file}: tensor `{tensor}`: vocabulary size {found} is out of range (expected 1..={max})"
    )]
    Vocab {
        file: String,
        tensor: String,
        found: usize,
        max: usize,
    },

    /// A weight is NaN or infinite (for PyTorch files this includes the sum of the two biases).
    #[error("{file}: tensor `{tensor}`: element {index} is {value}, expected a finite value")]
    NonFinite {
        file: String,
        tensor: String,
        index: usize,
        value: f32,
    },

    /// A metadata entry we understand does not agree with the tensors or is malformed.
    #[error("{file}: metadata `{key}`: {problem}")]
    Metadata {
        file: String,
        key: String,
        problem: String,
    },
}

impl ModelError {
    /// The file name the error is about, as the caller gave it.
    pub fn file(&self) -> &str {
        match self {
            ModelError::Io { file, .. }
            | ModelError::TooLarge { file, .. }
            | ModelError::Format { file, .. }
            | ModelError::UnknownNames { file, .. }
            | ModelError::MixedNaming { file, .. }
            | ModelError::RecurrentLayer { file, .. }
            | ModelError::MissingTensor { file, .. }
            | ModelError::UnexpectedTensor { file, .. }
            | ModelError::Dtype { file, .. }
            | ModelError::Shape { file, .. }
            | ModelError::Vocab { file, .. }
            | ModelError::NonFinite { file, .. }
            | ModelError::Metadata { file, .. } => file,
        }
    }
}
