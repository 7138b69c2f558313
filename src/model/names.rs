//! Tensor names in the two namings we read: Keras' (what we write) and PyTorch's (`state_dict()` of an
//! `nn.Embedding` + `nn.LSTM`/`nn.RNN` + `nn.Linear` module with attributes `embedding`, `lstm`/`rnn`, `fc`).
//!
//! | Keras (we write)                       | PyTorch                                          |
//! |----------------------------------------|--------------------------------------------------|
//! | `embedding.embeddings [V, 16]`         | `embedding.weight [V, 16]`                       |
//! | `lstm.kernel [16, 32]`                 | `lstm.weight_ih_l0 [32, 16]` (transposed)        |
//! | `lstm.recurrent_kernel [8, 32]`        | `lstm.weight_hh_l0 [32, 8]` (transposed)         |
//! | `lstm.bias [32]`                       | `lstm.bias_ih_l0 [32]` + `lstm.bias_hh_l0 [32]`  |
//! | `simple_rnn.kernel [16, 8]` / `[V, 8]` | `rnn.weight_ih_l0 [8, 16]` / `[8, V]`            |
//! | `simple_rnn.recurrent_kernel [8, 8]`   | `rnn.weight_hh_l0 [8, 8]` (transposed)           |
//! | `simple_rnn.bias [8]`                  | `rnn.bias_ih_l0 [8]` + `rnn.bias_hh_l0 [8]`      |
//! | `dense.kernel [8, 1]`                  | `fc.weight [1, 8]`                               |
//! | `dense.bias [1]`                       | `fc.bias [1]`                                    |
//!
//! PyTorch's LSTM gate order i, f, g, o is Keras' i, f, c, o, so the gate blocks need no reordering.

use super::Arch;

/// Which convention a file's tensor names follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Naming {
    /// `embedding.embeddings`, `lstm.kernel`, `simple_rnn.bias`, `dense.kernel`, …
    Keras,
    /// `embedding.weight`, `lstm.weight_ih_l0`, `rnn.bias_hh_l0`, `fc.weight`, …
    Torch,
}

impl Naming {
    /// The value of the `names` metadata entry, and the word used in errors.
    pub fn name(self) -> &'static str {
        match self {
            Naming::Keras => "keras",
            Naming::Torch => "pytorch",
        }
    }

    pub fn from_name(name: &str) -> Option<Naming> {
        match name {
            "keras" => Some(Naming::Keras),
            "pytorch" => Some(Naming::Torch),
            _ => None,
        }
    }

    /// Every tensor name of this naming, over all architectures.
    pub fn all_names(self) -> &'static [&'static str] {
        match self {
            Naming::Keras => &keras::ALL,
            Naming::Torch => &torch::ALL,
        }
    }

    /// Exactly the tensors a model of `arch` has under this naming.
    pub fn names_for(self, arch: Arch) -> &'static [&'static str] {
        use Arch::*;
        match (self, arch) {
            (Naming::Keras, Lstm) => &keras::LSTM_MODEL,
            (Naming::Keras, Rnn) => &keras::RNN_MODEL,
            (Naming::Keras, RnnOneHot) => &keras::RNN_ONEHOT_MODEL,
            (Naming::Torch, Lstm) => &torch::LSTM_MODEL,
            (Naming::Torch, Rnn) => &torch::RNN_MODEL,
            (Naming::Torch, RnnOneHot) => &torch::RNN_ONEHOT_MODEL,
        }
    }

    /// The prefix of the LSTM layer's tensors, and of the SimpleRNN layer's.
    pub(crate) fn recurrent_prefixes(self) -> (&'static str, &'static str) {
        match self {
            Naming::Keras => ("lstm.", "simple_rnn."),
            Naming::Torch => ("lstm.", "rnn."),
        }
    }

    /// The embedding table's name.
    pub(crate) fn embedding(self) -> &'static str {
        match self {
            Naming::Keras => keras::EMBEDDING,
            Naming::Torch => torch::EMBEDDING,
        }
    }
}

/// Keras' names: `<layer name>.<variable name>` of the notebook's Sequential models.
pub mod keras {
    pub const EMBEDDING: &str = "embedding.embeddings";
    pub const LSTM_KERNEL: &str = "lstm.kernel";
    pub const LSTM_RECURRENT_KERNEL: &str = "lstm.recurrent_kernel";
    pub const LSTM_BIAS: &str = "lstm.bias";
    pub const RNN_KERNEL: &str = "simple_rnn.kernel";
    pub const RNN_RECURRENT_KERNEL: &str = "simple_rnn.recurrent_kernel";
    pub const RNN_BIAS: &str = "simple_rnn.bias";
    pub const DENSE_KERNEL: &str = "dense.kernel";
    pub const DENSE_BIAS: &str = "dense.bias";

    pub(super) const LSTM_MODEL: [&str; 6] = [
        EMBEDDING,
        LSTM_KERNEL,
        LSTM_RECURRENT_KERNEL,
        LSTM_BIAS,
        DENSE_KERNEL,
        DENSE_BIAS,
    ];
    pub(super) const RNN_MODEL: [&str; 6] = [
        EMBEDDING,
        RNN_KERNEL,
        RNN_RECURRENT_KERNEL,
        RNN_BIAS,
        DENSE_KERNEL,
        DENSE_BIAS,
    ];
    pub(super) const RNN_ONEHOT_MODEL: [&str; 5] = [
        RNN_KERNEL,
        RNN_RECURRENT_KERNEL,
        RNN_BIAS,
        DENSE_KERNEL,
        DENSE_BIAS,
    ];
    pub(super) const ALL: [&str; 9] = [
        EMBEDDING,
        LSTM_KERNEL,
        LSTM_RECURRENT_KERNEL,
        LSTM_BIAS,
        RNN_KERNEL,
        RNN_RECURRENT_KERNEL,
        RNN_BIAS,
        DENSE_KERNEL,
        DENSE_BIAS,
    ];
}

/// PyTorch's names: `state_dict()` keys of single-layer, unidirectional `nn.LSTM` / `nn.RNN(tanh)`.
pub mod torch {
    pub const EMBEDDING: &str = "embedding.weight";
    pub const LSTM_WEIGHT_IH: &str = "lstm.weight_ih_l0";
    pub const LSTM_WEIGHT_HH: &str = "lstm.weight_hh_l0";
    pub const LSTM_BIAS_IH: &str = "lstm.bias_ih_l0";
    pub const LSTM_BIAS_HH: &str = "lstm.bias_hh_l0";
    pub const RNN_WEIGHT_IH: &str = "rnn.weight_ih_l0";
    pub const RNN_WEIGHT_HH: &str = "rnn.weight_hh_l0";
    pub const RNN_BIAS_IH: &str = "rnn.bias_ih_l0";
    pub const RNN_BIAS_HH: &str = "rnn.bias_hh_l0";
    pub const FC_WEIGHT: &str = "fc.weight";
    pub const FC_BIAS: &str = "fc.bias";

    pub(super) const LSTM_MODEL: [&str; 7] = [
        EMBEDDING,
        LSTM_WEIGHT_IH,
        LSTM_WEIGHT_HH,
        LSTM_BIAS_IH,
        LSTM_BIAS_HH,
        FC_WEIGHT,
        FC_BIAS,
    ];
    pub(super) const RNN_MODEL: [&str; 7] = [
        EMBEDDING,
        RNN_WEIGHT_IH,
        RNN_WEIGHT_HH,
        RNN_BIAS_IH,
        RNN_BIAS_HH,
        FC_WEIGHT,
        FC_BIAS,
    ];
    pub(super) const RNN_ONEHOT_MODEL: [&str; 6] = [
        RNN_WEIGHT_IH,
        RNN_WEIGHT_HH,
        RNN_BIAS_IH,
        RNN_BIAS_HH,
        FC_WEIGHT,
        FC_BIAS,
    ];
    pub(super) const ALL: [&str; 11] = [
        EMBEDDING,
        LSTM_WEIGHT_IH,
        LSTM_WEIGHT_HH,
        LSTM_BIAS_IH,
        LSTM_BIAS_HH,
        RNN_WEIGHT_IH,
        RNN_WEIGHT_HH,
        RNN_BIAS_IH,
        RNN_BIAS_HH,
        FC_WEIGHT,
        FC_BIAS,
    ];
}
