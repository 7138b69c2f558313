//! Trainable parameters as one flat `f32` vector, so that gradients, the optimizer state and
//! the shard reductions are all plain slices with the same layout.
//!
//! # Layout
//!
//! Tensors in this order, each row-major in Keras' shape (`G` = [`Layout::gates`]: `GATES` = 32
//! for the LSTM, `HIDDEN` = 8 for SimpleRNN; `I` = [`Layout::in_dim`]: `EMBED`, or `vocab` for
//! one-hot input):
//!
//! ```text
//! embedding        [vocab, EMBED]     (empty for one-hot input)
//! kernel           [I, G]
//! recurrent_kernel [HIDDEN, G]
//! bias             [G]
//! dense.kernel     [HIDDEN]
//! dense.bias       [1]
//! ```

use std::ops::Range;

use crate::model::{Arch, LstmWeights, Model, RnnInput, RnnWeights};
use crate::shape::{EMBED, GATES, HIDDEN};

/// Where each tensor of an architecture lives in the flat parameter vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub arch: Arch,
    /// Rows of the input lookup (`num_words`).
    pub vocab: usize,
}

impl Layout {
    pub fn new(arch: Arch, vocab: usize) -> Layout {
        Layout { arch, vocab }
    }

    /// Pre-activation columns per step: `GATES` (LSTM, gates i, f, c, o) or `HIDDEN`.
    pub fn gates(&self) -> usize {
        match self.arch {
            Arch::Lstm => GATES,
            Arch::Rnn | Arch::RnnOneHot => HIDDEN,
        }
    }

    /// Width of the recurrent layer's input: `EMBED`, or `vocab` for one-hot input.
    pub fn in_dim(&self) -> usize {
        match self.arch {
            Arch::RnnOneHot => self.vocab,
            Arch::Lstm | Arch::Rnn => EMBED,
        }
    }

    /// Whether there is an embedding in front of the recurrent layer.
    pub fn has_embedding(&self) -> bool {
        self.arch != Arch::RnnOneHot
    }

    pub fn embedding(&self) -> Range<usize> {
        let n = if self.has_embedding() {
            self.vocab * EMBED
        } else {
            0
        };
        0..n
    }

    pub fn kernel(&self) -> Range<usize> {
        let s = self.embedding().end;
        s..s + self.in_dim() * self.gates()
    }

    pub fn recurrent(&self) -> Range<usize> {
        let s = self.kernel().end;
        s..s + HIDDEN * self.gates()
    }

    pub fn bias(&self) -> Range<usize> {
        let s = self.recurrent().end;
        s..s + self.gates()
    }

    pub fn dense_kernel(&self) -> Range<usize> {
        let s = self.bias().end;
        s..s + HIDDEN
    }

    pub fn dense_bias(&self) -> usize {
        self.dense_kernel().end
    }

    /// Total number of parameters (Keras' "Total params" at vocab 500: LSTM 8,809, SimpleRNN 8,209, one-hot 4,081).
    pub fn len(&self) -> usize {
        self.dense_bias() + 1
    }

    /// Never true: every architecture has a dense head.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Every tensor: `(Keras name, range)`, in layout order.
    pub fn tensors(&self) -> Vec<(&'static str, Range<usize>)> {
        let rnn = |lstm: &'static str, rnn: &'static str| match self.arch {
            Arch::Lstm => lstm,
            _ => rnn,
        };
        let mut out = Vec::with_capacity(6);
        if self.has_embedding() {
            out.push(("embedding.embeddings", self.embedding()));
        }
        out.push((rnn("lstm.kernel", "simple_rnn.kernel"), self.kernel()));
        out.push((
            rnn("lstm.recurrent_kernel", "simple_rnn.recurrent_kernel"),
            self.recurrent(),
        ));
        out.push((rnn("lstm.bias", "simple_rnn.bias"), self.bias()));
        out.push(("dense.kernel", self.dense_kernel()));
        out.push(("dense.bias", self.dense_bias()..self.len()));
        out
    }
}

/// A flat parameter vector with its layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub layout: Layout,
    pub values: Vec<f32>,
}

impl Params {
    /// All zeros.
    pub fn zeros(layout: Layout) -> Params {
        Params {
            layout,
            values: vec![0.0; layout.len()],
        }
    }

    pub fn slice(&self, r: Range<usize>) -> &[f32] {
        &self.values[r]
    }

    /// Flattens a model's weights (Keras' layout is already row-major).
    pub fn from_model(model: &Model) -> Params {
        let layout = Layout::new(model.arch(), model.vocab());
        let mut v = Vec::with_capacity(layout.len());
        match model {
            Model::Lstm(w) => {
                v.extend(w.embedding.as_flattened());
                v.extend(w.kernel.as_flattened());
                v.extend(w.recurrent_kernel.as_flattened());
                v.extend(w.bias);
                v.extend(w.dense_kernel);
                v.push(w.dense_bias);
            }
            Model::Rnn(w) => {
                match &w.input {
                    RnnInput::Embedding { embedding, kernel } => {
                        v.extend(embedding.as_flattened());
                        v.extend(kernel.as_flattened());
                    }
                    RnnInput::OneHot { kernel } => v.extend(kernel.as_flattened()),
                }
                v.extend(w.recurrent_kernel.as_flattened());
                v.extend(w.bias);
                v.extend(w.dense_kernel);
                v.push(w.dense_bias);
            }
        }
        debug_assert_eq!(v.len(), layout.len());
        Params { layout, values: v }
    }

    /// The model these parameters describe.
    pub fn to_model(&self) -> Model {
        let l = &self.layout;
        let v = &self.values;
        let rows = |r: Range<usize>| -> Vec<[f32; EMBED]> {
            v[r].chunks_exact(EMBED)
                .map(|c| c.try_into().expect("EMBED"))
                .collect()
        };
        let dense_kernel: [f32; HIDDEN] = v[l.dense_kernel()].try_into().expect("HIDDEN");
        let dense_bias = v[l.dense_bias()];
        match l.arch {
            Arch::Lstm => Model::Lstm(LstmWeights {
                embedding: rows(l.embedding()),
                kernel: fixed2(&v[l.kernel()]),
                recurrent_kernel: fixed2(&v[l.recurrent()]),
                bias: v[l.bias()].try_into().expect("GATES"),
                dense_kernel,
                dense_bias,
            }),
            Arch::Rnn | Arch::RnnOneHot => {
                let input = if l.arch == Arch::Rnn {
                    RnnInput::Embedding {
                        embedding: rows(l.embedding()),
                        kernel: fixed2(&v[l.kernel()]),
                    }
                } else {
                    RnnInput::OneHot {
                        kernel: v[l.kernel()]
                            .chunks_exact(HIDDEN)
                            .map(|c| c.try_into().expect("HIDDEN"))
                            .collect(),
                    }
                };
                Model::Rnn(RnnWeights {
                    input,
                    recurrent_kernel: fixed2(&v[l.recurrent()]),
                    bias: v[l.bias()].try_into().expect("HIDDEN"),
                    dense_kernel,
                    dense_bias,
                })
            }
        }
    }
}

/// `[R, C]` row-major slice → fixed array. Panics on a length mismatch.
fn fixed2<const R: usize, const C: usize>(s: &[f32]) -> [[f32; C]; R] {
    assert_eq!(s.len(), R * C, "tensor shape");
    std::array::from_fn(|r| std::array::from_fn(|c| s[r * C + c]))
}
