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
//!
//! That table is `TENSORS` below, the one description both namings are built from: which layer owns
//! a tensor, its Keras name, its PyTorch name(s) and how PyTorch stores the same values. The name
//! lists of [`Naming`] and the PyTorch writer derive from it.

use super::Arch;

/// Which convention a file's tensor names follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Naming {
    /// `embedding.embeddings`, `lstm.kernel`, `simple_rnn.bias`, `dense.kernel`, …
    Keras,
    /// `embedding.weight`, `lstm.weight_ih_l0`, `rnn.bias_hh_l0`, `fc.weight`, …
    Torch,
}

/// The layers of the notebook's models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layer {
    /// `Embedding(V, 16)`.
    Embedding,
    /// `LSTM(8)`.
    Lstm,
    /// `SimpleRNN(8)`, on an embedding or on one-hot input.
    Rnn,
    /// `Dense(1, sigmoid)`.
    Dense,
}

impl Layer {
    /// Whether a model of `arch` has this layer.
    fn in_arch(self, arch: Arch) -> bool {
        match self {
            Layer::Embedding => arch != Arch::RnnOneHot,
            Layer::Lstm => arch == Arch::Lstm,
            Layer::Rnn => arch != Arch::Lstm,
            Layer::Dense => true,
        }
    }
}

/// How PyTorch stores the values of one Keras tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TorchForm {
    /// The same shape and values.
    Same,
    /// The transpose: Keras' `[R, C]` is PyTorch's `[C, R]`.
    Transposed,
    /// Two biases, `bias_ih` and `bias_hh`, whose sum is Keras' bias. We write Keras' bias as
    /// `bias_ih` and zeros as `bias_hh`; we read their sum.
    BiasPair,
}

/// One tensor of the notebook's models under both namings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TensorSpec {
    pub layer: Layer,
    pub keras: &'static str,
    /// One name, or two for [`TorchForm::BiasPair`] (`bias_ih`, `bias_hh`).
    pub torch: &'static [&'static str],
    pub torch_form: TorchForm,
}

/// Every tensor, in the order a model lists them (input first, the head last). The module's table,
/// as data.
pub(crate) static TENSORS: [TensorSpec; 9] = {
    use Layer::*;
    use TorchForm::*;
    const fn spec(
        layer: Layer,
        keras: &'static str,
        torch: &'static [&'static str],
        torch_form: TorchForm,
    ) -> TensorSpec {
        TensorSpec {
            layer,
            keras,
            torch,
            torch_form,
        }
    }
    [
        spec(Embedding, keras::EMBEDDING, &[torch::EMBEDDING], Same),
        spec(
            Lstm,
            keras::LSTM_KERNEL,
            &[torch::LSTM_WEIGHT_IH],
            Transposed,
        ),
        spec(
            Lstm,
            keras::LSTM_RECURRENT_KERNEL,
            &[torch::LSTM_WEIGHT_HH],
            Transposed,
        ),
        spec(
            Lstm,
            keras::LSTM_BIAS,
            &[torch::LSTM_BIAS_IH, torch::LSTM_BIAS_HH],
            BiasPair,
        ),
        spec(Rnn, keras::RNN_KERNEL, &[torch::RNN_WEIGHT_IH], Transposed),
        spec(
            Rnn,
            keras::RNN_RECURRENT_KERNEL,
            &[torch::RNN_WEIGHT_HH],
            Transposed,
        ),
        spec(
            Rnn,
            keras::RNN_BIAS,
            &[torch::RNN_BIAS_IH, torch::RNN_BIAS_HH],
            BiasPair,
        ),
        spec(Dense, keras::DENSE_KERNEL, &[torch::FC_WEIGHT], Transposed),
        spec(Dense, keras::DENSE_BIAS, &[torch::FC_BIAS], Same),
    ]
};

/// The description of the tensor Keras calls `keras_name`.
pub(crate) fn spec_of(keras_name: &str) -> Option<&'static TensorSpec> {
    TENSORS.iter().find(|t| t.keras == keras_name)
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

    /// The names of one tensor under this naming.
    fn of(self, t: &'static TensorSpec) -> &'static [&'static str] {
        match self {
            Naming::Keras => std::slice::from_ref(&t.keras),
            Naming::Torch => t.torch,
        }
    }

    /// Every tensor name of this naming, over all architectures.
    pub fn all_names(self) -> Vec<&'static str> {
        TENSORS.iter().flat_map(|t| self.of(t)).copied().collect()
    }

    /// Exactly the tensors a model of `arch` has under this naming, input first.
    pub fn names_for(self, arch: Arch) -> Vec<&'static str> {
        TENSORS
            .iter()
            .filter(|t| t.layer.in_arch(arch))
            .flat_map(|t| self.of(t))
            .copied()
            .collect()
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
        self.of(&TENSORS[0])[0]
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lists derived from `TENSORS` are the module's table, row for row.
    #[test]
    fn derived_name_lists_match_the_table() {
        assert_eq!(
            Naming::Torch.names_for(Arch::Lstm),
            [
                "embedding.weight",
                "lstm.weight_ih_l0",
                "lstm.weight_hh_l0",
                "lstm.bias_ih_l0",
                "lstm.bias_hh_l0",
                "fc.weight",
                "fc.bias"
            ]
        );
        assert_eq!(
            Naming::Keras.names_for(Arch::Rnn),
            [
                "embedding.embeddings",
                "simple_rnn.kernel",
                "simple_rnn.recurrent_kernel",
                "simple_rnn.bias",
                "dense.kernel",
                "dense.bias"
            ]
        );
        assert_eq!(
            Naming::Torch.names_for(Arch::RnnOneHot),
            [
                "rnn.weight_ih_l0",
                "rnn.weight_hh_l0",
                "rnn.bias_ih_l0",
                "rnn.bias_hh_l0",
                "fc.weight",
                "fc.bias"
            ]
        );
        assert_eq!(Naming::Keras.all_names().len(), 9);
        assert_eq!(Naming::Torch.all_names().len(), 11);
        assert_eq!(Naming::Keras.embedding(), "embedding.embeddings");
        assert_eq!(Naming::Torch.embedding(), "embedding.weight");
    }
}
