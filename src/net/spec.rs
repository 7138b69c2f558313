//! The shape of a network, checked against hard limits before any of it sizes an allocation.

use std::fmt;

/// Most recurrent units a layer may have.
pub const MAX_UNITS: usize = 256;
/// Longest input sequence (`pad_sequences(maxlen=...)`).
pub const MAX_SEQ_LEN: usize = 4096;
/// Largest vocabulary (`num_words`); the shared IMDB index has 88,584 words.
pub const MAX_VOCAB: usize = 1 << 24;
/// Widest embedding.
pub const MAX_WIDTH: usize = 4096;
/// Largest folded input table (`vocab × gates × units` floats, 1 GiB), largest input kernel
/// (`width × gates × units`, or `vocab × gates × units` for one-hot input) and largest embedding
/// (`vocab × width`).
pub const MAX_TABLE_FLOATS: usize = 1 << 28;

/// The recurrent cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cell {
    /// `SimpleRNN`: `h' = tanh(x·W + h·U + b)`.
    SimpleRnn,
    /// `LSTM`, Keras gate order `i, f, c, o`, recurrent activation sigmoid.
    Lstm,
    /// `GRU`, Keras gate order `z, r, h`. `reset_after = true` is Keras 3's default and PyTorch's
    /// `nn.GRU` (the reset gate multiplies `h·U_h + b_rh`, and the bias has an input row and a
    /// recurrent row); `false` is tf.keras 1.x's (the reset gate multiplies `h` before `U_h`).
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

    /// The name used in model files and on the command line: `rnn`, `lstm`, `gru` (reset
    /// after) or `gru-v1` (reset before, tf.keras 1.x).
    pub fn name(self) -> &'static str {
        match self {
            Cell::SimpleRnn => "rnn",
            Cell::Lstm => "lstm",
            Cell::Gru { reset_after: true } => "gru",
            Cell::Gru { reset_after: false } => "gru-v1",
        }
    }

    /// The inverse of [`Cell::name`].
    pub fn from_name(name: &str) -> Option<Cell> {
        match name {
            "rnn" => Some(Cell::SimpleRnn),
            "lstm" => Some(Cell::Lstm),
            "gru" => Some(Cell::Gru { reset_after: true }),
            "gru-v1" => Some(Cell::Gru { reset_after: false }),
            _ => None,
        }
    }

    /// Rows of the bias tensor: 2 for a GRU with `reset_after` (input and recurrent biases), 1
    /// otherwise.
    pub fn bias_rows(self) -> usize {
        match self {
            Cell::Gru { reset_after: true } => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What feeds the recurrent layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Input {
    /// `Embedding(vocab, width)`.
    Embedding { width: usize },
    /// One-hot vectors of width `vocab` (the input kernel is itself the lookup table).
    OneHot,
}

/// A network's shape: `input → cell(units) → Dense(1, sigmoid)` over `seq_len` tokens below
/// `vocab`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Spec {
    pub cell: Cell,
    pub units: usize,
    pub vocab: usize,
    pub input: Input,
    pub seq_len: usize,
}

/// A shape outside the limits; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} = {value}: {problem}")]
pub struct SpecError {
    pub field: &'static str,
    pub value: usize,
    pub problem: String,
}

fn within(field: &'static str, value: usize, max: usize) -> Result<(), SpecError> {
    if value == 0 || value > max {
        return Err(SpecError {
            field,
            value,
            problem: format!("must be between 1 and {max}"),
        });
    }
    Ok(())
}

impl Spec {
    /// Checks every field against its limit, and the embedding, the input kernel and the
    /// folded table against [`MAX_TABLE_FLOATS`].
    pub fn validate(&self) -> Result<(), SpecError> {
        within("units", self.units, MAX_UNITS)?;
        within("vocab", self.vocab, MAX_VOCAB)?;
        within("seq_len", self.seq_len, MAX_SEQ_LEN)?;
        if let Input::Embedding { width } = self.input {
            within("width", width, MAX_WIDTH)?;
        }
        // Each factor is bounded above, so none of these products overflows.
        for (field, rows) in [("vocab", self.vocab), ("input width", self.input_width())] {
            let floats = rows * self.gate_width();
            if floats > MAX_TABLE_FLOATS {
                return Err(SpecError {
                    field,
                    value: rows,
                    problem: format!(
                        "{rows} × {} gate columns = {floats} floats exceeds the limit of {MAX_TABLE_FLOATS}",
                        self.gate_width()
                    ),
                });
            }
        }
        if let Input::Embedding { width } = self.input {
            // Each limit alone lets the embedding reach 2^36 floats (256 GiB), which a
            // trainer's initializer would allocate.
            let floats = self.vocab * width;
            if floats > MAX_TABLE_FLOATS {
                return Err(SpecError {
                    field: "width",
                    value: width,
                    problem: format!(
                        "an embedding of {} × {width} = {floats} floats exceeds the limit of \
                         {MAX_TABLE_FLOATS}",
                        self.vocab
                    ),
                });
            }
        }
        Ok(())
    }

    /// Columns of the input and recurrent kernels: `gates × units`.
    pub fn gate_width(&self) -> usize {
        self.cell.gates() * self.units
    }

    /// Rows of the input kernel: the embedding width, or the vocabulary for one-hot input.
    pub fn input_width(&self) -> usize {
        match self.input {
            Input::Embedding { width } => width,
            Input::OneHot => self.vocab,
        }
    }

    /// Whether this is one of the notebook's shapes, which run on the fixed-shape kernels:
    /// Embedding(≤ 65,536, 16) → LSTM(8) or SimpleRNN(8), or one-hot SimpleRNN(8), length 100.
    pub fn is_notebook_shape(&self) -> bool {
        use crate::shape::{EMBED, HIDDEN, SEQ_LEN};
        let input_ok = match (self.cell, self.input) {
            (Cell::Lstm, Input::Embedding { width }) => width == EMBED,
            (Cell::SimpleRnn, Input::Embedding { width }) => width == EMBED,
            (Cell::SimpleRnn, Input::OneHot) => true,
            _ => false,
        };
        input_ok && self.units == HIDDEN && self.seq_len == SEQ_LEN && self.vocab <= 1 << 16
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.input {
            Input::Embedding { width } => write!(f, "Embedding({}, {width}) → ", self.vocab)?,
            Input::OneHot => write!(f, "one-hot({}) → ", self.vocab)?,
        }
        let layer = match self.cell {
            Cell::SimpleRnn => "SimpleRNN",
            Cell::Lstm => "LSTM",
            Cell::Gru { reset_after: true } => "GRU",
            Cell::Gru { reset_after: false } => "GRU(reset_after=False)",
        };
        write!(
            f,
            "{layer}({}) → Dense(1), length {}",
            self.units, self.seq_len
        )
    }
}
