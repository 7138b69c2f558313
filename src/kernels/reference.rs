//! The scalar reference kernels: plain loops over the folded tables, `f32`, with the standard
//! library's `exp` and `tanh`. Every test and bench compares against these. They step every
//! token from the zero state (no padding cache), so they also check the cache.
//!
//! LSTM, Keras semantics (`keras.layers.LSTM`, activation tanh, recurrent_activation sigmoid):
//!
//! ```text
//!   z  = x·W + h·U + b          W: [EMBED, GATES], U: [HIDDEN, GATES], x = E[token]
//!      = table[token] + h·U     table = E·W + b folded once (see `tables`)
//!   i  = σ(z[i]), f = σ(z[f]), g = tanh(z[c]), o = σ(z[o])
//!   c' = f ⊙ c + i ⊙ g
//!   h' = o ⊙ tanh(c')
//!   p  = σ(h_SEQ_LEN · dense_kernel + dense_bias)
//! ```
//!
//! SimpleRNN: `h' = tanh(table[token] + h·U)`, `U: [HIDDEN, HIDDEN]`, same dense head.
//! Token 0 (padding) is an ordinary token: Keras' Embedding here has no `mask_zero`.
//!
//! [`lstm_forward_f64`] and [`rnn_forward_f64`] redo the whole model in f64 from the *unfolded*
//! Keras weights, to bound the error of every f32 kernel, including the folding.

// Index loops are the point here: they read like the sums in the equations.
#![allow(clippy::needless_range_loop)]

use super::tables::{GATE_C, GATE_F, GATE_I, GATE_O, LstmState, LstmTables, RnnState, RnnTables};
use crate::model::{LstmWeights, RnnInput, RnnWeights};
use crate::shape::{EMBED, GATES, HIDDEN, SEQ_LEN};

/// `1 / (1 + e^{-x})` with the standard library's `exp`.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// One LSTM step (equations in the module docs). Panics if `token ≥ vocab`.
pub fn lstm_step(t: &LstmTables, s: &mut LstmState, token: u16) {
    let x = &t.table()[token as usize].0;
    let u = t.recurrent();
    let mut z = *x;
    for (g, zg) in z.iter_mut().enumerate() {
        for (k, zgk) in zg.iter_mut().enumerate() {
            for j in 0..HIDDEN {
                *zgk += s.h[j] * u[j][g][k];
            }
        }
    }
    for k in 0..HIDDEN {
        let i = sigmoid(z[GATE_I][k]);
        let f = sigmoid(z[GATE_F][k]);
        let g = z[GATE_C][k].tanh();
        let o = sigmoid(z[GATE_O][k]);
        s.c[k] = f * s.c[k] + i * g;
        s.h[k] = o * s.c[k].tanh();
    }
}

/// `σ(h · dense_kernel + dense_bias)`.
pub fn lstm_prob(t: &LstmTables, s: &LstmState) -> f32 {
    dense(&s.h, t.dense_kernel(), t.dense_bias())
}

fn dense(h: &[f32; HIDDEN], kernel: &[f32; HIDDEN], bias: f32) -> f32 {
    let mut acc = bias;
    for j in 0..HIDDEN {
        acc += h[j] * kernel[j];
    }
    sigmoid(acc)
}

/// Final LSTM state of one review, every token stepped from zeros.
pub fn lstm_review_state(t: &LstmTables, tokens: &[u16; SEQ_LEN]) -> LstmState {
    let mut s = LstmState::default();
    for &tok in tokens {
        lstm_step(t, &mut s, tok);
    }
    s
}

/// Probabilities of a batch. Panics if the lengths differ or a token is out of range.
pub fn lstm_forward(t: &LstmTables, seqs: &[[u16; SEQ_LEN]], probs: &mut [f32]) {
    assert_eq!(seqs.len(), probs.len(), "one probability per sequence");
    for (seq, p) in seqs.iter().zip(probs) {
        *p = lstm_prob(t, &lstm_review_state(t, seq));
    }
}

/// Final hidden states of a batch.
pub fn lstm_forward_hidden(t: &LstmTables, seqs: &[[u16; SEQ_LEN]], hidden: &mut [[f32; HIDDEN]]) {
    assert_eq!(seqs.len(), hidden.len(), "one hidden state per sequence");
    for (seq, h) in seqs.iter().zip(hidden) {
        *h = lstm_review_state(t, seq).h;
    }
}

/// One SimpleRNN step: `h' = tanh(table[token] + h·U)`. Panics if `token ≥ vocab`.
pub fn rnn_step(t: &RnnTables, s: &mut RnnState, token: u16) {
    let x = &t.table()[token as usize].0;
    let u = t.recurrent();
    let mut z = *x;
    for (k, zk) in z.iter_mut().enumerate() {
        for j in 0..HIDDEN {
            *zk += s.h[j] * u[j][k];
        }
    }
    s.h = z.map(f32::tanh);
}

/// `σ(h · dense_kernel + dense_bias)`.
pub fn rnn_prob(t: &RnnTables, s: &RnnState) -> f32 {
    dense(&s.h, t.dense_kernel(), t.dense_bias())
}

/// Final SimpleRNN state of one review, every token stepped from zeros.
pub fn rnn_review_state(t: &RnnTables, tokens: &[u16; SEQ_LEN]) -> RnnState {
    let mut s = RnnState::default();
    for &tok in tokens {
        rnn_step(t, &mut s, tok);
    }
    s
}

/// Probabilities of a batch.
pub fn rnn_forward(t: &RnnTables, seqs: &[[u16; SEQ_LEN]], probs: &mut [f32]) {
    assert_eq!(seqs.len(), probs.len(), "one probability per sequence");
    for (seq, p) in seqs.iter().zip(probs) {
        *p = rnn_prob(t, &rnn_review_state(t, seq));
    }
}

/// Final hidden states of a batch.
pub fn rnn_forward_hidden(t: &RnnTables, seqs: &[[u16; SEQ_LEN]], hidden: &mut [[f32; HIDDEN]]) {
    assert_eq!(seqs.len(), hidden.len(), "one hidden state per sequence");
    for (seq, h) in seqs.iter().zip(hidden) {
        *h = rnn_review_state(t, seq).h;
    }
}

fn sigmoid_f64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The LSTM model in f64 from Keras' unfolded weights: `(final h, probability)`.
pub fn lstm_forward_f64(w: &LstmWeights, tokens: &[u16; SEQ_LEN]) -> ([f64; HIDDEN], f64) {
    let mut h = [0f64; HIDDEN];
    let mut c = [0f64; HIDDEN];
    for &tok in tokens {
        let x = &w.embedding[tok as usize];
        let mut z = [0f64; GATES];
        for (col, zc) in z.iter_mut().enumerate() {
            let mut acc = f64::from(w.bias[col]);
            for e in 0..EMBED {
                acc += f64::from(x[e]) * f64::from(w.kernel[e][col]);
            }
            for j in 0..HIDDEN {
                acc += h[j] * f64::from(w.recurrent_kernel[j][col]);
            }
            *zc = acc;
        }
        for k in 0..HIDDEN {
            let i = sigmoid_f64(z[GATE_I * HIDDEN + k]);
            let f = sigmoid_f64(z[GATE_F * HIDDEN + k]);
            let g = z[GATE_C * HIDDEN + k].tanh();
            let o = sigmoid_f64(z[GATE_O * HIDDEN + k]);
            c[k] = f * c[k] + i * g;
            h[k] = o * c[k].tanh();
        }
    }
    let p = dense_f64(&h, &w.dense_kernel, w.dense_bias);
    (h, p)
}

fn dense_f64(h: &[f64; HIDDEN], kernel: &[f32; HIDDEN], bias: f32) -> f64 {
    let mut acc = f64::from(bias);
    for j in 0..HIDDEN {
        acc += h[j] * f64::from(kernel[j]);
    }
    sigmoid_f64(acc)
}

/// The SimpleRNN model in f64 from Keras' unfolded weights: `(final h, probability)`.
pub fn rnn_forward_f64(w: &RnnWeights, tokens: &[u16; SEQ_LEN]) -> ([f64; HIDDEN], f64) {
    let mut h = [0f64; HIDDEN];
    for &tok in tokens {
        let mut z: [f64; HIDDEN] = std::array::from_fn(|k| f64::from(w.bias[k]));
        match &w.input {
            RnnInput::Embedding { embedding, kernel } => {
                let x = &embedding[tok as usize];
                for (k, zk) in z.iter_mut().enumerate() {
                    for e in 0..EMBED {
                        *zk += f64::from(x[e]) * f64::from(kernel[e][k]);
                    }
                }
            }
            RnnInput::OneHot { kernel } => {
                for (k, zk) in z.iter_mut().enumerate() {
                    *zk += f64::from(kernel[tok as usize][k]);
                }
            }
        }
        for (k, zk) in z.iter_mut().enumerate() {
            for j in 0..HIDDEN {
                *zk += h[j] * f64::from(w.recurrent_kernel[j][k]);
            }
        }
        h = z.map(f64::tanh);
    }
    let p = dense_f64(&h, &w.dense_kernel, w.dense_bias);
    (h, p)
}

/// One RMSprop update (Keras' order, see `train::rmsprop`): `v ← ρ·v + (1 − ρ)·g²`, then
/// `w ← w − lr·g / sqrt(v + ε)`, every element on its own, no fused multiply-add. The caller
/// has checked that the three slices have one length.
pub(crate) fn rmsprop(rho: f32, lr: f32, eps: f32, w: &mut [f32], v: &mut [f32], g: &[f32]) {
    let one_minus_rho = 1.0 - rho;
    for ((w, v), &g) in w.iter_mut().zip(v.iter_mut()).zip(g) {
        *v = rho * *v + one_minus_rho * (g * g);
        *w -= lr * g / (*v + eps).sqrt();
    }
}
