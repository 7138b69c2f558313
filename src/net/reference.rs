//! The scalar reference for any shape: plain `f32` loops over [`NetTables`] with the standard
//! library's `exp` and `tanh`, every token stepped from the zero state. Keras' semantics
//! (`G·H` columns gate-major; `x·W + b` folded into `input[token]`, see `tables`):
//!
//! ```text
//! SimpleRNN  h' = tanh(input[t] + h·U)
//! LSTM       z = input[t] + h·U;  i, f, o = σ(z_i, z_f, z_o);  g = tanh(z_c)
//!            c' = f⊙c + i⊙g;  h' = o⊙tanh(c')
//! GRU        a = h·U (all three blocks);  z = σ(in_z + a_z);  r = σ(in_r + a_r)
//!   reset_after=True   ĥ = tanh(in_h + r⊙(a_h + b_rh))
//!   reset_after=False  ĥ = tanh(in_h + (r⊙h)·U_h)
//!            h' = z⊙h + (1 − z)⊙ĥ
//! p = σ(h_last · dense_kernel + dense_bias)
//! ```
//!
//! [`forward_f64`] redoes the model in `f64` from the unfolded weights, to bound the error of
//! every `f32` path, the folding included.

// Index loops read like the sums in the equations.
#![allow(clippy::needless_range_loop)]

use super::TokenId;
use super::spec::{Cell, Input};
use super::tables::{NetState, NetTables};
use super::weights::NetWeights;
use crate::kernels::reference::sigmoid;

/// One step of one sequence; `scratch` is resized to `G·H`. Panics if `token ≥ vocab` or the
/// state does not match the spec.
pub fn step(t: &NetTables, s: &mut NetState, token: usize, scratch: &mut Vec<f32>) {
    let spec = t.spec();
    let (h_n, gw) = (spec.units, spec.gate_width());
    assert_eq!(s.h.len(), h_n, "state h must have `units` values");
    let u = t.recurrent();
    scratch.clear();
    scratch.extend_from_slice(t.input_row(token));
    let z = scratch;
    match spec.cell {
        Cell::SimpleRnn => {
            for j in 0..h_n {
                for k in 0..h_n {
                    z[k] += s.h[j] * u[j * gw + k];
                }
            }
            for k in 0..h_n {
                s.h[k] = z[k].tanh();
            }
        }
        Cell::Lstm => {
            for j in 0..h_n {
                for k in 0..gw {
                    z[k] += s.h[j] * u[j * gw + k];
                }
            }
            for k in 0..h_n {
                let i = sigmoid(z[k]);
                let f = sigmoid(z[h_n + k]);
                let g = z[2 * h_n + k].tanh();
                let o = sigmoid(z[3 * h_n + k]);
                s.c[k] = f * s.c[k] + i * g;
                s.h[k] = o * s.c[k].tanh();
            }
        }
        Cell::Gru { reset_after } => {
            // z and r blocks (and, after the reset, the candidate block).
            let cols = if reset_after { gw } else { 2 * h_n };
            let mut a = vec![0.0f32; gw];
            for j in 0..h_n {
                for k in 0..cols {
                    a[k] += s.h[j] * u[j * gw + k];
                }
            }
            let mut r = vec![0.0f32; h_n];
            for k in 0..h_n {
                r[k] = sigmoid(z[h_n + k] + a[h_n + k]);
            }
            if !reset_after {
                for j in 0..h_n {
                    let rh = r[j] * s.h[j];
                    for k in 0..h_n {
                        a[2 * h_n + k] += rh * u[j * gw + 2 * h_n + k];
                    }
                }
            }
            for k in 0..h_n {
                let zk = sigmoid(z[k] + a[k]);
                let cand = if reset_after {
                    z[2 * h_n + k] + r[k] * (a[2 * h_n + k] + t.rec_bias()[k])
                } else {
                    z[2 * h_n + k] + a[2 * h_n + k]
                };
                let hh = cand.tanh();
                s.h[k] = zk * s.h[k] + (1.0 - zk) * hh;
            }
        }
    }
}

/// `σ(h · dense_kernel + dense_bias)`.
pub fn prob(t: &NetTables, h: &[f32]) -> f32 {
    let mut acc = t.dense_bias();
    for (x, w) in h.iter().zip(t.dense_kernel()) {
        acc += x * w;
    }
    sigmoid(acc)
}

/// The final state of one sequence (any length), every token stepped from zeros.
pub fn sequence_state<T: TokenId>(t: &NetTables, tokens: &[T]) -> NetState {
    let mut s = NetState::zeros(t.spec());
    let mut scratch = Vec::new();
    for &tok in tokens {
        step(t, &mut s, tok.index(), &mut scratch);
    }
    s
}

/// Probabilities of `probs.len()` sequences of `seq_len` tokens each, flattened in `seqs`.
/// Panics unless `seqs.len() == probs.len() · seq_len`, or if a token is `≥ vocab`.
pub fn forward<T: TokenId>(t: &NetTables, seqs: &[T], probs: &mut [f32]) {
    let n = t.spec().seq_len;
    assert_eq!(
        seqs.len(),
        probs.len() * n,
        "seqs must be [probs.len(), seq_len]"
    );
    for (seq, p) in seqs.chunks_exact(n).zip(probs.iter_mut()) {
        *p = prob(t, &sequence_state(t, seq).h);
    }
}

fn sigmoid_f64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The probability of one sequence in `f64`, from the unfolded Keras weights (the error bound
/// for every `f32` path). Panics if a token is `≥ vocab` or the weights do not fit their spec.
pub fn forward_f64<T: TokenId>(w: &NetWeights, tokens: &[T]) -> f64 {
    let s = w.spec;
    let (h_n, gw, rows) = (s.units, s.gate_width(), s.cell.bias_rows());
    assert!(w.validate().is_ok(), "weights must fit their spec");
    let f = |x: f32| f64::from(x);
    let mut h = vec![0.0f64; h_n];
    let mut c = vec![0.0f64; h_n];
    for &tok in tokens {
        let v = tok.index();
        let mut x = vec![0.0f64; gw];
        match s.input {
            Input::Embedding { width } => {
                for e in 0..width {
                    let xe = f(w.embedding[v * width + e]);
                    for k in 0..gw {
                        x[k] += xe * f(w.kernel[e * gw + k]);
                    }
                }
            }
            Input::OneHot => {
                for k in 0..gw {
                    x[k] = f(w.kernel[v * gw + k]);
                }
            }
        }
        for k in 0..gw {
            x[k] += f(w.bias[k]);
        }
        let mut a = vec![0.0f64; gw];
        if rows == 2 {
            for k in 0..gw {
                a[k] = f(w.bias[gw + k]);
            }
        }
        let hu = |a: &mut [f64], hv: &[f64], cols: std::ops::Range<usize>| {
            for j in 0..h_n {
                for k in cols.clone() {
                    a[k] += hv[j] * f(w.recurrent_kernel[j * gw + k]);
                }
            }
        };
        match s.cell {
            Cell::SimpleRnn => {
                hu(&mut a, &h, 0..gw);
                for k in 0..h_n {
                    h[k] = (x[k] + a[k]).tanh();
                }
            }
            Cell::Lstm => {
                hu(&mut a, &h, 0..gw);
                for k in 0..h_n {
                    let i = sigmoid_f64(x[k] + a[k]);
                    let fg = sigmoid_f64(x[h_n + k] + a[h_n + k]);
                    let g = (x[2 * h_n + k] + a[2 * h_n + k]).tanh();
                    let o = sigmoid_f64(x[3 * h_n + k] + a[3 * h_n + k]);
                    c[k] = fg * c[k] + i * g;
                    h[k] = o * c[k].tanh();
                }
            }
            Cell::Gru { reset_after } => {
                if reset_after {
                    hu(&mut a, &h, 0..gw);
                } else {
                    hu(&mut a, &h, 0..2 * h_n);
                }
                let r: Vec<f64> = (0..h_n)
                    .map(|k| sigmoid_f64(x[h_n + k] + a[h_n + k]))
                    .collect();
                let cand: Vec<f64> = if reset_after {
                    (0..h_n)
                        .map(|k| x[2 * h_n + k] + r[k] * a[2 * h_n + k])
                        .collect()
                } else {
                    let rh: Vec<f64> = (0..h_n).map(|j| r[j] * h[j]).collect();
                    let mut b = vec![0.0f64; gw];
                    hu(&mut b, &rh, 2 * h_n..gw);
                    (0..h_n).map(|k| x[2 * h_n + k] + b[2 * h_n + k]).collect()
                };
                for k in 0..h_n {
                    let zk = sigmoid_f64(x[k] + a[k]);
                    h[k] = zk * h[k] + (1.0 - zk) * cand[k].tanh();
                }
            }
        }
    }
    let mut acc = f(w.dense_bias);
    for k in 0..h_n {
        acc += h[k] * f(w.dense_kernel[k]);
    }
    sigmoid_f64(acc)
}
