//! The scalar f64 reference of training: forward with every activation kept, then
//! backpropagation through all `SEQ_LEN` steps, from the *unfolded* Keras parameters. Written
//! for a reader, and the oracle of the gradient tests (finite differences check it; it checks
//! the fast path of `bptt.rs`).
//!
//! With `x_t` the (dropped-out) input of step `t`, `G` pre-activation columns per step:
//!
//! ```text
//! z_t  = x_t·W + h_{t-1}·U + b                          W: [I, G], U: [HIDDEN, G]
//! LSTM   i, f, o = σ(z[i, f, o]), g = tanh(z[c]);  c_t = f⊙c_{t-1} + i⊙g;  h_t = o⊙tanh(c_t)
//! RNN    h_t = tanh(z_t)
//! p    = σ(h_T·d + d_b);  loss = mean over the batch of −(y ln p̂ + (1−y) ln(1−p̂)), p̂ = clip(p, ε, 1−ε)
//! ```
//!
//! Backward (`δ` = ∂loss/∂·): `δlogit = (p − y)/n` where `ε < p < 1 − ε`, else 0 (Keras clips the
//! probability, so a clipped sample has no gradient); `δh_T = δlogit·d`; then for `t = T..1`:
//!
//! ```text
//! LSTM   δo = δh⊙tanh(c_t);  δc += δh⊙o⊙(1 − tanh²c_t)
//!        δz[i] = δc⊙g⊙i(1−i),  δz[f] = δc⊙c_{t-1}⊙f(1−f),  δz[c] = δc⊙i⊙(1−g²),  δz[o] = δo⊙o(1−o)
//!        δc ← δc⊙f
//! RNN    δz = δh⊙(1 − h_t²)
//! both   δU += h_{t-1}ᵀ δz,  δb += δz,  δW += x_tᵀ δz,  δx_t = δz·Wᵀ,  δh ← δz·Uᵀ
//! ```
//!
//! and `δE[token] += δx_t ⊙ mask` for the embedding (one-hot: `δK[token] += δz·mask[token]`).

// Index loops read like the sums in the equations.
#![allow(clippy::needless_range_loop)]

use super::params::Layout;
use crate::kernels::{GATE_C, GATE_F, GATE_I, GATE_O};
use crate::model::Arch;
use crate::shape::{EMBED, HIDDEN, SEQ_LEN};

/// Keras' `backend.epsilon()`, the probability clip.
const EPS: f64 = 1e-7;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One sequence's input scaling: `None` (no dropout) or `[in_dim]` factors (0 or `1/keep`),
/// the same for every step (Keras reuses one mask across the sequence).
pub type Scales<'a> = Option<&'a [f32]>;

/// Mean loss over the batch and its gradient with respect to every parameter (flat layout of
/// [`Layout`]), in f64. `scales[s]` is sequence `s`'s dropout mask, or `None` for no dropout.
///
/// Panics on mismatched lengths or a token `≥ vocab`.
pub fn loss_and_grad(
    layout: Layout,
    params: &[f64],
    seqs: &[[u16; SEQ_LEN]],
    labels: &[u8],
    scales: Option<&[Vec<f32>]>,
) -> (f64, Vec<f64>) {
    assert_eq!(params.len(), layout.len(), "parameter count");
    assert_eq!(seqs.len(), labels.len(), "one label per sequence");
    let n = seqs.len();
    let mut grad = vec![0.0; layout.len()];
    let mut loss = 0.0;
    for (s, (seq, &y)) in seqs.iter().zip(labels).enumerate() {
        let sc = scales.map(|m| &m[s][..]);
        loss += sequence(layout, params, seq, f64::from(y), sc, n as f64, &mut grad);
    }
    (loss / n as f64, grad)
}

/// Forward and backward of one sequence; adds its gradient (already divided by `n`) to `grad`
/// and returns its loss.
fn sequence(
    l: Layout,
    p: &[f64],
    seq: &[u16; SEQ_LEN],
    y: f64,
    scales: Scales<'_>,
    n: f64,
    grad: &mut [f64],
) -> f64 {
    let g = l.gates();
    let lstm = l.arch == Arch::Lstm;
    let (emb, ker, rec, bias) = (
        l.embedding().start,
        l.kernel().start,
        l.recurrent().start,
        l.bias().start,
    );
    let scale = |f: usize| scales.map_or(1.0, |m| f64::from(m[f]));
    // Inputs x_t (embedding archs), pre-activations → activations, cells, hidden states.
    let mut xs = vec![[0f64; EMBED]; SEQ_LEN];
    let mut acts = vec![vec![0f64; g]; SEQ_LEN];
    let mut cs = vec![[0f64; HIDDEN]; SEQ_LEN + 1];
    let mut hs = vec![[0f64; HIDDEN]; SEQ_LEN + 1];
    for t in 0..SEQ_LEN {
        let tok = usize::from(seq[t]);
        let z = &mut acts[t];
        for col in 0..g {
            let mut acc = p[bias + col];
            if l.has_embedding() {
                for e in 0..EMBED {
                    acc += p[emb + tok * EMBED + e] * scale(e) * p[ker + e * g + col];
                }
            } else {
                acc += p[ker + tok * g + col] * scale(tok);
            }
            for j in 0..HIDDEN {
                acc += hs[t][j] * p[rec + j * g + col];
            }
            z[col] = acc;
        }
        if l.has_embedding() {
            for e in 0..EMBED {
                xs[t][e] = p[emb + tok * EMBED + e] * scale(e);
            }
        }
        if lstm {
            for u in 0..HIDDEN {
                let i = sigmoid(z[GATE_I * HIDDEN + u]);
                let f = sigmoid(z[GATE_F * HIDDEN + u]);
                let gg = z[GATE_C * HIDDEN + u].tanh();
                let o = sigmoid(z[GATE_O * HIDDEN + u]);
                z[GATE_I * HIDDEN + u] = i;
                z[GATE_F * HIDDEN + u] = f;
                z[GATE_C * HIDDEN + u] = gg;
                z[GATE_O * HIDDEN + u] = o;
                cs[t + 1][u] = f * cs[t][u] + i * gg;
                hs[t + 1][u] = o * cs[t + 1][u].tanh();
            }
        } else {
            for u in 0..HIDDEN {
                z[u] = z[u].tanh();
                hs[t + 1][u] = z[u];
            }
        }
    }
    let (dk, db) = (l.dense_kernel().start, l.dense_bias());
    let mut logit = p[db];
    for j in 0..HIDDEN {
        logit += hs[SEQ_LEN][j] * p[dk + j];
    }
    let prob = sigmoid(logit);
    let pc = prob.clamp(EPS, 1.0 - EPS);
    let loss = -(y * pc.ln() + (1.0 - y) * (1.0 - pc).ln());
    let dlogit = if prob > EPS && prob < 1.0 - EPS {
        (prob - y) / n
    } else {
        0.0
    };

    grad[db] += dlogit;
    let mut dh = [0f64; HIDDEN];
    for j in 0..HIDDEN {
        grad[dk + j] += dlogit * hs[SEQ_LEN][j];
        dh[j] = dlogit * p[dk + j];
    }
    let mut dc = [0f64; HIDDEN];
    let mut dz = vec![0f64; g];
    for t in (0..SEQ_LEN).rev() {
        let a = &acts[t];
        if lstm {
            for u in 0..HIDDEN {
                let (i, f) = (a[GATE_I * HIDDEN + u], a[GATE_F * HIDDEN + u]);
                let (gg, o) = (a[GATE_C * HIDDEN + u], a[GATE_O * HIDDEN + u]);
                let tc = cs[t + 1][u].tanh();
                let d_o = dh[u] * tc;
                let dcu = dc[u] + dh[u] * o * (1.0 - tc * tc);
                dz[GATE_I * HIDDEN + u] = dcu * gg * i * (1.0 - i);
                dz[GATE_F * HIDDEN + u] = dcu * cs[t][u] * f * (1.0 - f);
                dz[GATE_C * HIDDEN + u] = dcu * i * (1.0 - gg * gg);
                dz[GATE_O * HIDDEN + u] = d_o * o * (1.0 - o);
                dc[u] = dcu * f;
            }
        } else {
            for u in 0..HIDDEN {
                dz[u] = dh[u] * (1.0 - a[u] * a[u]);
            }
        }
        let tok = usize::from(seq[t]);
        for col in 0..g {
            grad[bias + col] += dz[col];
            for j in 0..HIDDEN {
                grad[rec + j * g + col] += hs[t][j] * dz[col];
            }
        }
        if l.has_embedding() {
            for e in 0..EMBED {
                let mut dx = 0.0;
                for col in 0..g {
                    grad[ker + e * g + col] += xs[t][e] * dz[col];
                    dx += dz[col] * p[ker + e * g + col];
                }
                grad[emb + tok * EMBED + e] += dx * scale(e);
            }
        } else {
            for col in 0..g {
                grad[ker + tok * g + col] += dz[col] * scale(tok);
            }
        }
        for j in 0..HIDDEN {
            dh[j] = (0..g).map(|col| dz[col] * p[rec + j * g + col]).sum();
        }
    }
    loss
}

/// Mean loss only (for finite differences).
pub fn loss(
    layout: Layout,
    params: &[f64],
    seqs: &[[u16; SEQ_LEN]],
    labels: &[u8],
    scales: Option<&[Vec<f32>]>,
) -> f64 {
    loss_and_grad(layout, params, seqs, labels, scales).0
}
