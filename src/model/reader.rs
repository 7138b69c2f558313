//! Checked access to the tensors of one parsed safetensors file: every name, dtype, shape, the
//! vocabulary range and finite values, with an error naming the file and the tensor; and the
//! diagnostics that name the header entry the `safetensors` crate refused.

use safetensors::{Dtype, SafeTensors};

use super::names::{Naming, keras, torch};
use super::safetensors_io::MAX_VOCAB;
use super::{Arch, LstmWeights, Model, ModelError, RnnInput, RnnWeights};
use crate::shape::{EMBED, GATES, HIDDEN};

/// Checked access to the tensors of one file.
pub(super) struct Reader<'a> {
    pub file: &'a str,
    pub st: &'a SafeTensors<'a>,
    pub naming: Naming,
    pub arch: Arch,
}

impl Reader<'_> {
    /// Exactly the names of `arch` under `naming`: the first missing one, else the first extra one,
    /// is an error.
    pub fn check_names(&self, names: &[&str]) -> Result<(), ModelError> {
        let expected = self.naming.names_for(self.arch);
        if let Some(missing) = expected.iter().find(|n| !names.contains(n)) {
            return Err(ModelError::MissingTensor {
                file: self.file.to_owned(),
                tensor: (*missing).to_owned(),
                arch: self.arch.name(),
                naming: self.naming.name(),
            });
        }
        if let Some(extra) = names.iter().find(|n| !expected.contains(n)) {
            return Err(ModelError::UnexpectedTensor {
                file: self.file.to_owned(),
                tensor: (*extra).to_owned(),
                arch: self.arch.name(),
                naming: self.naming.name(),
            });
        }
        Ok(())
    }

    /// The values of an `F32` tensor of shape `dims`, all finite, and the vocabulary if `dims` has one.
    fn tensor(&self, name: &str, dims: &[Dim]) -> Result<(Vec<f32>, usize), ModelError> {
        let file = self.file.to_owned();
        let view = self
            .st
            .tensor(name)
            .map_err(|_| ModelError::MissingTensor {
                file: file.clone(),
                tensor: name.to_owned(),
                arch: self.arch.name(),
                naming: self.naming.name(),
            })?;
        if view.dtype() != Dtype::F32 {
            return Err(ModelError::Dtype {
                file,
                tensor: name.to_owned(),
                found: format!("{:?}", view.dtype()),
            });
        }
        let shape = view.shape();
        let mut vocab = 0;
        let fits = shape.len() == dims.len()
            && shape.iter().zip(dims).all(|(&n, d)| match d {
                Dim::Fixed(m) => n == *m,
                Dim::Vocab => {
                    vocab = n;
                    true
                }
            });
        if !fits {
            return Err(ModelError::Shape {
                file,
                tensor: name.to_owned(),
                expected: shape_text(dims),
                found: shape.to_vec(),
            });
        }
        if dims.iter().any(|d| matches!(d, Dim::Vocab)) && !(1..=MAX_VOCAB).contains(&vocab) {
            return Err(ModelError::Vocab {
                file,
                tensor: name.to_owned(),
                found: vocab,
                max: MAX_VOCAB,
            });
        }
        // The safetensors crate has checked that the byte length is 4 × the element count.
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        check_finite(self.file, name, &values)?;
        Ok((values, vocab))
    }

    fn fixed(&self, name: &str, dims: &[usize]) -> Result<Vec<f32>, ModelError> {
        let dims: Vec<Dim> = dims.iter().map(|&n| Dim::Fixed(n)).collect();
        Ok(self.tensor(name, &dims)?.0)
    }

    /// An embedding table `[V, EMBED]` (same layout under both namings).
    fn embedding(&self, name: &str) -> Result<Vec<[f32; EMBED]>, ModelError> {
        let (values, _) = self.tensor(name, &[Dim::Vocab, Dim::Fixed(EMBED)])?;
        Ok(rows(&values))
    }

    /// `bias_ih + bias_hh`, checked finite after the sum.
    fn summed_bias<const N: usize>(&self, ih: &str, hh: &str) -> Result<[f32; N], ModelError> {
        let a = self.fixed(ih, &[N])?;
        let b = self.fixed(hh, &[N])?;
        let mut out = [0.0; N];
        for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(&b)) {
            *o = x + y;
        }
        check_finite(self.file, &format!("{ih} + {hh}"), &out)?;
        Ok(out)
    }

    pub fn keras_model(&self) -> Result<Model, ModelError> {
        let arch = self.arch;
        let dense_kernel = array(&self.fixed(keras::DENSE_KERNEL, &[HIDDEN, 1])?);
        let dense_bias = self.fixed(keras::DENSE_BIAS, &[1])?[0];
        Ok(match arch {
            Arch::Lstm => Model::Lstm(LstmWeights {
                embedding: self.embedding(keras::EMBEDDING)?,
                kernel: matrix(&self.fixed(keras::LSTM_KERNEL, &[EMBED, GATES])?),
                recurrent_kernel: matrix(
                    &self.fixed(keras::LSTM_RECURRENT_KERNEL, &[HIDDEN, GATES])?,
                ),
                bias: array(&self.fixed(keras::LSTM_BIAS, &[GATES])?),
                dense_kernel,
                dense_bias,
            }),
            Arch::Rnn | Arch::RnnOneHot => {
                let input = if arch == Arch::Rnn {
                    RnnInput::Embedding {
                        embedding: self.embedding(keras::EMBEDDING)?,
                        kernel: matrix(&self.fixed(keras::RNN_KERNEL, &[EMBED, HIDDEN])?),
                    }
                } else {
                    let (values, _) =
                        self.tensor(keras::RNN_KERNEL, &[Dim::Vocab, Dim::Fixed(HIDDEN)])?;
                    RnnInput::OneHot {
                        kernel: rows(&values),
                    }
                };
                Model::Rnn(RnnWeights {
                    input,
                    recurrent_kernel: matrix(
                        &self.fixed(keras::RNN_RECURRENT_KERNEL, &[HIDDEN, HIDDEN])?,
                    ),
                    bias: array(&self.fixed(keras::RNN_BIAS, &[HIDDEN])?),
                    dense_kernel,
                    dense_bias,
                })
            }
        })
    }

    pub fn torch_model(&self) -> Result<Model, ModelError> {
        let arch = self.arch;
        let dense_kernel = array(&self.fixed(torch::FC_WEIGHT, &[1, HIDDEN])?);
        let dense_bias = self.fixed(torch::FC_BIAS, &[1])?[0];
        Ok(match arch {
            Arch::Lstm => Model::Lstm(LstmWeights {
                embedding: self.embedding(torch::EMBEDDING)?,
                kernel: matrix_t(&self.fixed(torch::LSTM_WEIGHT_IH, &[GATES, EMBED])?),
                recurrent_kernel: matrix_t(&self.fixed(torch::LSTM_WEIGHT_HH, &[GATES, HIDDEN])?),
                bias: self.summed_bias(torch::LSTM_BIAS_IH, torch::LSTM_BIAS_HH)?,
                dense_kernel,
                dense_bias,
            }),
            Arch::Rnn | Arch::RnnOneHot => {
                let input = if arch == Arch::Rnn {
                    RnnInput::Embedding {
                        embedding: self.embedding(torch::EMBEDDING)?,
                        kernel: matrix_t(&self.fixed(torch::RNN_WEIGHT_IH, &[HIDDEN, EMBED])?),
                    }
                } else {
                    let (values, vocab) =
                        self.tensor(torch::RNN_WEIGHT_IH, &[Dim::Fixed(HIDDEN), Dim::Vocab])?;
                    RnnInput::OneHot {
                        kernel: (0..vocab)
                            .map(|v| std::array::from_fn(|h| values[h * vocab + v]))
                            .collect(),
                    }
                };
                Model::Rnn(RnnWeights {
                    input,
                    recurrent_kernel: matrix_t(
                        &self.fixed(torch::RNN_WEIGHT_HH, &[HIDDEN, HIDDEN])?,
                    ),
                    bias: self.summed_bias(torch::RNN_BIAS_IH, torch::RNN_BIAS_HH)?,
                    dense_kernel,
                    dense_bias,
                })
            }
        })
    }
}

// The helpers below receive slices whose length the shape check has already fixed.

/// `[N]` from a slice of length `N`.
fn array<const N: usize>(values: &[f32]) -> [f32; N] {
    std::array::from_fn(|i| values[i])
}

/// Row-major `[R, C]` values as rows.
fn rows<const C: usize>(values: &[f32]) -> Vec<[f32; C]> {
    values.chunks_exact(C).map(array).collect()
}

/// Row-major `[R, C]` values as an `[R][C]` array.
fn matrix<const R: usize, const C: usize>(values: &[f32]) -> [[f32; C]; R] {
    std::array::from_fn(|r| std::array::from_fn(|c| values[r * C + c]))
}

/// Row-major `[C, R]` values (PyTorch's layout) transposed into an `[R][C]` array (Keras' layout).
fn matrix_t<const R: usize, const C: usize>(values: &[f32]) -> [[f32; C]; R] {
    std::array::from_fn(|r| std::array::from_fn(|c| values[c * R + r]))
}

/// One dimension of an expected shape.
#[derive(Clone, Copy)]
enum Dim {
    Fixed(usize),
    /// The vocabulary size, `1..=MAX_VOCAB`.
    Vocab,
}

fn shape_text(dims: &[Dim]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => n.to_string(),
            Dim::Vocab => "V".to_owned(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// The first non-finite value of `values` is an error naming `tensor`.
pub(super) fn check_finite(file: &str, tensor: &str, values: &[f32]) -> Result<(), ModelError> {
    match values.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(index) => Err(ModelError::NonFinite {
            file: file.to_owned(),
            tensor: tensor.to_owned(),
            index,
            value: values[index],
        }),
    }
}

/// The first tensor entry of a safetensors header whose dtype, shape and data offsets do not
/// agree, described for an error message. The `safetensors` crate's own errors do not name the
/// tensor; this reads the header (already bounded by the file's length) again to find it.
pub(super) fn bad_tensor_entry(bytes: &[u8]) -> Option<String> {
    let n = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
    let header: serde_json::Value =
        serde_json::from_slice(bytes.get(8..8usize.checked_add(n)?)?).ok()?;
    let mut entries: Vec<(&String, &serde_json::Value)> = header
        .as_object()?
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .collect();
    entries.sort_by_key(|(k, _)| *k);
    for (name, entry) in entries {
        let dtype = entry.get("dtype").and_then(|d| d.as_str()).unwrap_or("?");
        let shape: Option<Vec<u64>> = entry
            .get("shape")
            .and_then(|s| s.as_array())
            .and_then(|a| a.iter().map(|d| d.as_u64()).collect());
        let offsets: Option<Vec<u64>> = entry
            .get("data_offsets")
            .and_then(|s| s.as_array())
            .and_then(|a| a.iter().map(|d| d.as_u64()).collect());
        let width = match dtype {
            "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" => Some(1u64),
            "U16" | "I16" | "F16" | "BF16" => Some(2),
            "U32" | "I32" | "F32" => Some(4),
            "U64" | "I64" | "F64" => Some(8),
            _ => None,
        };
        let fits = match (&shape, &offsets, width) {
            (Some(shape), Some(o), Some(w)) if o.len() == 2 && o[0] <= o[1] => shape
                .iter()
                .try_fold(w, |acc, &d| acc.checked_mul(d))
                .is_some_and(|need| need == o[1] - o[0] && o[1] <= (bytes.len() - 8 - n) as u64),
            _ => false,
        };
        if !fits {
            return Some(format!(
                "tensor `{name}` has dtype {dtype}, shape {} and data_offsets {}",
                entry.get("shape").map_or("?".into(), |v| v.to_string()),
                entry
                    .get("data_offsets")
                    .map_or("?".into(), |v| v.to_string()),
            ));
        }
    }
    None
}
