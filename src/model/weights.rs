//! Weights in Keras' layout, as plain data. Shapes follow Keras' tensors:
//! `kernel [in, units·gates]`, `recurrent_kernel [units, units·gates]`, row-major, gate order i, f, c, o.

use crate::shape::{EMBED, GATES, HIDDEN};

/// Which of the notebook's models a set of weights belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// `Embedding(vocab, 16) → LSTM(8) → Dense(1, sigmoid)`.
    Lstm,
    /// `Embedding(vocab, 16) → SimpleRNN(8) → Dense(1, sigmoid)`.
    Rnn,
    /// `SimpleRNN(8)` on one-hot input of width `vocab` → `Dense(1, sigmoid)`.
    RnnOneHot,
}

impl Arch {
    /// The name used in safetensors metadata and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Lstm => "lstm",
            Arch::Rnn => "rnn",
            Arch::RnnOneHot => "rnn-onehot",
        }
    }

    /// The inverse of [`Arch::name`].
    pub fn from_name(name: &str) -> Option<Arch> {
        match name {
            "lstm" => Some(Arch::Lstm),
            "rnn" => Some(Arch::Rnn),
            "rnn-onehot" => Some(Arch::RnnOneHot),
            _ => None,
        }
    }
}

/// The Keras reader's answer, in our type. `fusedrnn-keras` is a leaf crate that cannot name
/// [`Arch`], so it describes the architecture with its own enum; this is the one place the two
/// meet, and the exhaustive match keeps them in step.
#[cfg(feature = "keras")]
impl From<fusedrnn_keras::Arch> for Arch {
    fn from(arch: fusedrnn_keras::Arch) -> Arch {
        match arch {
            fusedrnn_keras::Arch::Lstm => Arch::Lstm,
            fusedrnn_keras::Arch::Rnn => Arch::Rnn,
            fusedrnn_keras::Arch::RnnOneHot => Arch::RnnOneHot,
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `Embedding → LSTM(8) → Dense(1)` weights (Keras names in brackets).
#[derive(Clone, Debug, PartialEq)]
pub struct LstmWeights {
    /// `embedding.embeddings [vocab, EMBED]`.
    pub embedding: Vec<[f32; EMBED]>,
    /// `lstm.kernel [EMBED, GATES]`, columns i, f, c, o.
    pub kernel: [[f32; GATES]; EMBED],
    /// `lstm.recurrent_kernel [HIDDEN, GATES]`.
    pub recurrent_kernel: [[f32; GATES]; HIDDEN],
    /// `lstm.bias [GATES]`.
    pub bias: [f32; GATES],
    /// `dense.kernel [HIDDEN, 1]`.
    pub dense_kernel: [f32; HIDDEN],
    /// `dense.bias [1]`.
    pub dense_bias: f32,
}

/// What feeds a SimpleRNN: an embedding and an input kernel, or one-hot input
/// (whose input kernel, `[vocab, HIDDEN]`, is itself the lookup table).
// A model is built once and then only borrowed, so the size difference between variants costs
// nothing, and inline arrays keep the fixed shapes in the types.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum RnnInput {
    /// `embedding.embeddings [vocab, EMBED]` and `simple_rnn.kernel [EMBED, HIDDEN]`.
    Embedding {
        embedding: Vec<[f32; EMBED]>,
        kernel: [[f32; HIDDEN]; EMBED],
    },
    /// `simple_rnn.kernel [vocab, HIDDEN]`.
    OneHot { kernel: Vec<[f32; HIDDEN]> },
}

/// `(Embedding →) SimpleRNN(8) → Dense(1)` weights.
#[derive(Clone, Debug, PartialEq)]
pub struct RnnWeights {
    pub input: RnnInput,
    /// `simple_rnn.recurrent_kernel [HIDDEN, HIDDEN]`.
    pub recurrent_kernel: [[f32; HIDDEN]; HIDDEN],
    /// `simple_rnn.bias [HIDDEN]`.
    pub bias: [f32; HIDDEN],
    /// `dense.kernel [HIDDEN, 1]`.
    pub dense_kernel: [f32; HIDDEN],
    /// `dense.bias [1]`.
    pub dense_bias: f32,
}

/// A complete model: one of the notebook's architectures with its weights.
// Same reasoning as `RnnInput`: built once, then borrowed.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Model {
    Lstm(LstmWeights),
    Rnn(RnnWeights),
}

impl Model {
    pub fn arch(&self) -> Arch {
        match self {
            Model::Lstm(_) => Arch::Lstm,
            Model::Rnn(RnnWeights {
                input: RnnInput::Embedding { .. },
                ..
            }) => Arch::Rnn,
            Model::Rnn(RnnWeights {
                input: RnnInput::OneHot { .. },
                ..
            }) => Arch::RnnOneHot,
        }
    }

    /// Rows of the input lookup (the vocabulary size, `num_words`).
    pub fn vocab(&self) -> usize {
        match self {
            Model::Lstm(w) => w.embedding.len(),
            Model::Rnn(RnnWeights {
                input: RnnInput::Embedding { embedding, .. },
                ..
            }) => embedding.len(),
            Model::Rnn(RnnWeights {
                input: RnnInput::OneHot { kernel },
                ..
            }) => kernel.len(),
        }
    }
}
