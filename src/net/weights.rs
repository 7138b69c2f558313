//! Weights in Keras' layout, as flat row-major vectors whose lengths the [`Spec`] fixes.

use super::spec::{Cell, Input, Spec, SpecError};
use crate::model::{LstmWeights, Model, RnnInput, RnnWeights};
use crate::shape::{EMBED, HIDDEN};

/// `input → cell → Dense(1, sigmoid)` weights (Keras names and shapes in brackets; `G` is
/// [`Cell::gates`], `H` the units, `in` the [`Spec::input_width`]).
#[derive(Clone, Debug, PartialEq)]
pub struct NetWeights {
    pub spec: Spec,
    /// `embedding.embeddings [vocab, width]`; empty for one-hot input.
    pub embedding: Vec<f32>,
    /// `kernel [in, G·H]`, Keras' gate order (LSTM `i, f, c, o`; GRU `z, r, h`).
    pub kernel: Vec<f32>,
    /// `recurrent_kernel [H, G·H]`.
    pub recurrent_kernel: Vec<f32>,
    /// `bias [G·H]`, or `[2, G·H]` for a GRU with `reset_after` (input row, then recurrent row).
    pub bias: Vec<f32>,
    /// `dense.kernel [H, 1]`.
    pub dense_kernel: Vec<f32>,
    /// `dense.bias [1]`.
    pub dense_bias: f32,
}

/// Weights that do not fit their spec; the message names the tensor.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightsError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("{tensor}: expected {expected} values ({shape}), found {found}")]
    Length {
        tensor: &'static str,
        shape: String,
        expected: usize,
        found: usize,
    },
    #[error("{tensor}: value {index} is {value} (weights must be finite)")]
    NotFinite {
        tensor: &'static str,
        index: usize,
        value: f32,
    },
}

impl NetWeights {
    /// The tensors by Keras name, with the shape each must have.
    pub fn tensors(&self) -> [(&'static str, &[f32], Vec<usize>); 5] {
        let s = &self.spec;
        let (g, h) = (s.gate_width(), s.units);
        let emb_shape = match s.input {
            Input::Embedding { width } => vec![s.vocab, width],
            Input::OneHot => vec![0],
        };
        let bias_shape = match s.cell.bias_rows() {
            1 => vec![g],
            rows => vec![rows, g],
        };
        [
            ("embedding", &self.embedding, emb_shape),
            ("kernel", &self.kernel, vec![s.input_width(), g]),
            ("recurrent_kernel", &self.recurrent_kernel, vec![h, g]),
            ("bias", &self.bias, bias_shape),
            ("dense.kernel", &self.dense_kernel, vec![h, 1]),
        ]
    }

    /// Checks the spec, every tensor's length and that every value is finite.
    pub fn validate(&self) -> Result<(), WeightsError> {
        self.spec.validate()?;
        for (tensor, values, shape) in self.tensors() {
            let expected = if shape == [0] {
                0
            } else {
                shape.iter().product()
            };
            if values.len() != expected {
                return Err(WeightsError::Length {
                    tensor,
                    shape: format!("{shape:?}"),
                    expected,
                    found: values.len(),
                });
            }
            if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(WeightsError::NotFinite {
                    tensor,
                    index,
                    value,
                });
            }
        }
        if !self.dense_bias.is_finite() {
            return Err(WeightsError::NotFinite {
                tensor: "dense.bias",
                index: 0,
                value: self.dense_bias,
            });
        }
        Ok(())
    }

    /// The notebook's model in these types (length 100).
    pub fn from_notebook(model: &Model) -> NetWeights {
        let seq_len = crate::shape::SEQ_LEN;
        match model {
            Model::Lstm(w) => NetWeights {
                spec: Spec {
                    cell: Cell::Lstm,
                    units: HIDDEN,
                    vocab: w.embedding.len(),
                    input: Input::Embedding { width: EMBED },
                    seq_len,
                },
                embedding: w.embedding.iter().flatten().copied().collect(),
                kernel: w.kernel.iter().flatten().copied().collect(),
                recurrent_kernel: w.recurrent_kernel.iter().flatten().copied().collect(),
                bias: w.bias.to_vec(),
                dense_kernel: w.dense_kernel.to_vec(),
                dense_bias: w.dense_bias,
            },
            Model::Rnn(w) => {
                let (input, vocab, embedding, kernel) = match &w.input {
                    RnnInput::Embedding { embedding, kernel } => (
                        Input::Embedding { width: EMBED },
                        embedding.len(),
                        embedding.iter().flatten().copied().collect(),
                        kernel.iter().flatten().copied().collect(),
                    ),
                    RnnInput::OneHot { kernel } => (
                        Input::OneHot,
                        kernel.len(),
                        Vec::new(),
                        kernel.iter().flatten().copied().collect(),
                    ),
                };
                NetWeights {
                    spec: Spec {
                        cell: Cell::SimpleRnn,
                        units: HIDDEN,
                        vocab,
                        input,
                        seq_len,
                    },
                    embedding,
                    kernel,
                    recurrent_kernel: w.recurrent_kernel.iter().flatten().copied().collect(),
                    bias: w.bias.to_vec(),
                    dense_kernel: w.dense_kernel.to_vec(),
                    dense_bias: w.dense_bias,
                }
            }
        }
    }

    /// The notebook's fixed-shape model, when [`Spec::is_notebook_shape`] holds (and the
    /// weights have their spec's lengths); `None` otherwise. The fixed-shape kernels are the
    /// fast path for these shapes.
    pub fn to_notebook(&self) -> Option<Model> {
        if !self.spec.is_notebook_shape() || self.validate().is_err() {
            return None;
        }
        fn rows<const N: usize>(xs: &[f32]) -> Vec<[f32; N]> {
            xs.chunks_exact(N)
                .map(|r| r.try_into().expect("chunk of N"))
                .collect()
        }
        fn fixed<const R: usize, const C: usize>(xs: &[f32]) -> [[f32; C]; R] {
            let mut out = [[0.0; C]; R];
            for (o, r) in out.iter_mut().zip(xs.chunks_exact(C)) {
                o.copy_from_slice(r);
            }
            out
        }
        let dense_kernel: [f32; HIDDEN] = self.dense_kernel.as_slice().try_into().ok()?;
        Some(match (self.spec.cell, self.spec.input) {
            (Cell::Lstm, _) => Model::Lstm(LstmWeights {
                embedding: rows(&self.embedding),
                kernel: fixed(&self.kernel),
                recurrent_kernel: fixed(&self.recurrent_kernel),
                bias: self.bias.as_slice().try_into().ok()?,
                dense_kernel,
                dense_bias: self.dense_bias,
            }),
            (Cell::SimpleRnn, input) => Model::Rnn(RnnWeights {
                input: match input {
                    Input::Embedding { .. } => RnnInput::Embedding {
                        embedding: rows(&self.embedding),
                        kernel: fixed(&self.kernel),
                    },
                    Input::OneHot => RnnInput::OneHot {
                        kernel: rows(&self.kernel),
                    },
                },
                recurrent_kernel: fixed(&self.recurrent_kernel),
                bias: self.bias.as_slice().try_into().ok()?,
                dense_kernel,
                dense_bias: self.dense_bias,
            }),
            (Cell::Gru { .. }, _) => return None,
        })
    }
}

impl NetWeights {
    /// Weights of shape `spec` drawn uniformly from `[-scale, scale]` by a seeded generator
    /// (splitmix64): deterministic fixtures for tests and benchmarks, not an initializer.
    /// Panics if `spec` is invalid.
    pub fn seeded(spec: Spec, seed: u64, scale: f32) -> NetWeights {
        spec.validate().expect("a valid spec");
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            // 24 random bits → [-1, 1).
            ((z >> 40) as f32 / (1u64 << 23) as f32 - 1.0) * scale
        };
        let mut fill = |n: usize| (0..n).map(|_| next()).collect::<Vec<f32>>();
        let gw = spec.gate_width();
        let embedding = match spec.input {
            Input::Embedding { width } => fill(spec.vocab * width),
            Input::OneHot => Vec::new(),
        };
        let kernel = fill(spec.input_width() * gw);
        let recurrent_kernel = fill(spec.units * gw);
        let bias = fill(spec.cell.bias_rows() * gw);
        let dense_kernel = fill(spec.units);
        let dense_bias = fill(1)[0];
        NetWeights {
            spec,
            embedding,
            kernel,
            recurrent_kernel,
            bias,
            dense_kernel,
            dense_bias,
        }
    }
}
