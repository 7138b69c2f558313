//! Folded weights: what every kernel actually reads.
//!
//! # Folding
//!
//! The input projection of a token does not depend on the state, so it is computed once per
//! vocabulary entry (one `sgemm`, see [`super::gemm`]):
//!
//! ```text
//! LSTM       table[v] = E[v]·W + b      [vocab, GATES]    E: [vocab, EMBED], W: [EMBED, GATES]
//! SimpleRNN  table[v] = E[v]·W + b      [vocab, HIDDEN]   W: [EMBED, HIDDEN]
//! one-hot    table[v] = K[v] + b        [vocab, HIDDEN]   K: [vocab, HIDDEN] (one-hot · K is a row)
//! ```
//!
//! A step is then a row lookup, the recurrent product and the activations.
//!
//! # Layout
//!
//! Keras' own column order is already the fast one. An LSTM row is `[[f32; HIDDEN]; 4]`, gate
//! blocks `i, f, c, o`, unit-minor: gate `g` of all 8 units is one aligned 32-byte vector, which
//! is what both the latency kernels (gates in lanes) and the transposing gather of the
//! throughput kernels (sequences in lanes) load. Rows are 64-byte aligned so a gathered row never
//! straddles more cache lines than it must. The recurrent kernel keeps Keras' `[HIDDEN, GATES]`
//! layout viewed as `U[j][g][u]`: the latency kernel loads `U[j][g]` as a vector, the throughput
//! kernel multiplies by `U[j][g][u]` repeated in 8 lanes, stored pre-broadcast (`recurrent_splat`)
//! so the multiply takes it as a memory operand.
//!
//! # Padding cache
//!
//! `pad_sequences` pads at the front with token 0, and Keras does not mask it, so the state after
//! `k` leading pads is the same for every review. `pad_state(k)` for `k = 0..=SEQ_LEN` is computed
//! once here, with the reference step ([`super::fold_lstm`]) or a chosen kernel's step
//! ([`super::Kernel::fold_lstm`]: then a kernel's whole-review function gives bitwise what
//! stepping every token with the same kernel gives); the latency kernels start a review there.
//! A chosen kernel also steps the pads with its batch kernel into `batch_pad_state(k)`, where a
//! batch block starts (after its fewest pads), so a review's bits in a batch do not depend on
//! its block: the two steps round differently in the last bits, and a block that starts before a
//! review's own pads steps them with the batch kernel. (With the reference step, the two tables
//! are one.)

use super::gemm::sgemm;
use crate::model::{LstmWeights, RnnInput, RnnWeights};
use crate::shape::{EMBED, GATES, HIDDEN, SEQ_LEN};

/// Index of the input gate's block in a row (Keras column order i, f, c, o).
pub const GATE_I: usize = 0;
/// Forget gate.
pub const GATE_F: usize = 1;
/// Cell candidate (`c` in Keras' names, `g` in the equations).
pub const GATE_C: usize = 2;
/// Output gate.
pub const GATE_O: usize = 3;

/// One folded LSTM table row `E[v]·W + b`: `[gate][unit]`, 64-byte aligned.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(64))]
pub struct GateRow(pub [[f32; HIDDEN]; 4]);

/// One folded SimpleRNN table row, 32-byte aligned.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(32))]
pub struct HiddenRow(pub [f32; HIDDEN]);

/// One weight repeated in the 8 lanes of a vector, 32-byte aligned: the throughput kernels
/// multiply a vector of 8 sequences' `h[j]` by it straight from memory.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(32))]
pub struct Splat(pub [f32; 8]);

/// LSTM state of one sequence (Keras starts from zeros).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LstmState {
    pub h: [f32; HIDDEN],
    pub c: [f32; HIDDEN],
}

/// SimpleRNN state of one sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RnnState {
    pub h: [f32; HIDDEN],
}

/// Number of leading padding tokens (id 0) of a review.
#[inline]
pub fn leading_pads(tokens: &[u16; SEQ_LEN]) -> usize {
    tokens.iter().position(|&t| t != 0).unwrap_or(SEQ_LEN)
}

/// The rows with `pads[k]` leading pads (each `≤ SEQ_LEN`) in the order of their pads, ties in
/// index order, by a stable counting sort: `put(k, slot)` for every row `k`, `slot` its place
/// in that order. (The batch driver's windows and the scorer's runs.)
#[inline(always)]
pub(crate) fn order_by_pads(pads: &[u8], mut put: impl FnMut(usize, usize)) {
    // `at[p + 1]` counts the rows with `p` pads; after the prefix sum, `at[p]` is where the
    // first of them goes.
    let mut at = [0usize; SEQ_LEN + 2];
    for &p in pads {
        at[usize::from(p) + 1] += 1;
    }
    for q in 1..at.len() {
        at[q] += at[q - 1];
    }
    for (k, &p) in pads.iter().enumerate() {
        let slot = &mut at[usize::from(p)];
        put(k, *slot);
        *slot += 1;
    }
}

/// Folded `Embedding → LSTM(8) → Dense(1)` weights (see the module docs for the layout).
#[derive(Clone, Debug)]
pub struct LstmTables {
    table: Vec<GateRow>,
    recurrent: [[[f32; HIDDEN]; 4]; HIDDEN],
    recurrent_splat: Box<[[[Splat; HIDDEN]; 4]; HIDDEN]>,
    dense_kernel: [f32; HIDDEN],
    dense_bias: f32,
    pad_states: Vec<LstmState>,
    /// The same, stepped by the batch kernel (see [`Self::batch_pad_state`]).
    batch_pad_states: Vec<LstmState>,
}

impl LstmTables {
    /// `[vocab]` rows `E[v]·W + b`.
    pub fn table(&self) -> &[GateRow] {
        &self.table
    }
    /// The rows, writable: for tests that need a row no fold gives (a `−0` pre-activation).
    #[cfg(all(test, target_arch = "x86_64"))]
    pub(crate) fn table_mut(&mut self) -> &mut [GateRow] {
        &mut self.table
    }
    /// Vocabulary size (rows of the table); tokens must be below it.
    pub fn vocab(&self) -> usize {
        self.table.len()
    }
    /// `U[j][g][u]`: Keras' `recurrent_kernel [HIDDEN, GATES]`, gate-blocked.
    pub fn recurrent(&self) -> &[[[f32; HIDDEN]; 4]; HIDDEN] {
        &self.recurrent
    }
    /// `U[j][g][u]` repeated in 8 lanes, for the sequences-in-lanes kernels (8 KiB).
    pub fn recurrent_splat(&self) -> &[[[Splat; HIDDEN]; 4]; HIDDEN] {
        &self.recurrent_splat
    }
    pub fn dense_kernel(&self) -> &[f32; HIDDEN] {
        &self.dense_kernel
    }
    pub fn dense_bias(&self) -> f32 {
        self.dense_bias
    }
    /// State after `k` leading pad tokens from the zero state, stepped by the one-review step
    /// (where the latency kernels start). Panics if `k > SEQ_LEN`.
    pub fn pad_state(&self, k: usize) -> &LstmState {
        &self.pad_states[k]
    }
    /// The same, stepped by the batch kernel (where a batch block starts). Panics if
    /// `k > SEQ_LEN`.
    pub fn batch_pad_state(&self, k: usize) -> &LstmState {
        &self.batch_pad_states[k]
    }
    /// Replaces the batch padding cache (`[SEQ_LEN + 1]` states).
    pub(crate) fn set_batch_pad_states(&mut self, states: Vec<LstmState>) {
        assert_eq!(states.len(), SEQ_LEN + 1, "one state per pad count");
        self.batch_pad_states = states;
    }
}

/// Folded `(Embedding →) SimpleRNN(8) → Dense(1)` weights.
#[derive(Clone, Debug)]
pub struct RnnTables {
    table: Vec<HiddenRow>,
    recurrent: [[f32; HIDDEN]; HIDDEN],
    recurrent_splat: Box<[[Splat; HIDDEN]; HIDDEN]>,
    dense_kernel: [f32; HIDDEN],
    dense_bias: f32,
    pad_states: Vec<RnnState>,
    /// The same, stepped by the batch kernel.
    batch_pad_states: Vec<RnnState>,
}

impl RnnTables {
    /// `[vocab]` rows `E[v]·W + b` (or `K[v] + b` for one-hot input).
    pub fn table(&self) -> &[HiddenRow] {
        &self.table
    }
    pub fn vocab(&self) -> usize {
        self.table.len()
    }
    /// `U[j][u]`: Keras' `recurrent_kernel [HIDDEN, HIDDEN]`.
    pub fn recurrent(&self) -> &[[f32; HIDDEN]; HIDDEN] {
        &self.recurrent
    }
    /// `U[j][u]` repeated in 8 lanes (2 KiB).
    pub fn recurrent_splat(&self) -> &[[Splat; HIDDEN]; HIDDEN] {
        &self.recurrent_splat
    }
    pub fn dense_kernel(&self) -> &[f32; HIDDEN] {
        &self.dense_kernel
    }
    pub fn dense_bias(&self) -> f32 {
        self.dense_bias
    }
    /// State after `k` leading pad tokens, stepped by the one-review step. Panics if
    /// `k > SEQ_LEN`.
    pub fn pad_state(&self, k: usize) -> &RnnState {
        &self.pad_states[k]
    }
    /// The same, stepped by the batch kernel. Panics if `k > SEQ_LEN`.
    pub fn batch_pad_state(&self, k: usize) -> &RnnState {
        &self.batch_pad_states[k]
    }
    /// Replaces the batch padding cache (`[SEQ_LEN + 1]` states).
    pub(crate) fn set_batch_pad_states(&mut self, states: Vec<RnnState>) {
        assert_eq!(states.len(), SEQ_LEN + 1, "one state per pad count");
        self.batch_pad_states = states;
    }
}

/// Rows `E·W + b` of width `N` through one sgemm (`beta = 1` over rows pre-filled with `b`).
fn fold_embedding<const N: usize>(
    embedding: &[[f32; EMBED]],
    kernel: &[[f32; N]; EMBED],
    bias: &[f32; N],
) -> Vec<[f32; N]> {
    let vocab = embedding.len();
    let mut out = vec![*bias; vocab];
    sgemm(
        vocab,
        EMBED,
        N,
        embedding.as_flattened(),
        kernel.as_flattened(),
        1.0,
        out.as_flattened_mut(),
    );
    out
}

/// Fold LSTM weights into [`LstmTables`] with the padding cache built by `step` (see
/// [`super::fold_lstm`], [`super::Kernel::fold_lstm`]), so that the cache is bitwise what
/// stepping the pads with `step` gives. The batch cache is left empty for the caller
/// ([`LstmTables::set_batch_pad_states`]).
pub(crate) fn fold_lstm_with(
    w: &LstmWeights,
    step: impl Fn(&LstmTables, &mut LstmState, u16),
) -> LstmTables {
    assert!(
        !w.embedding.is_empty(),
        "the vocabulary must contain the pad token 0"
    );
    let flat: Vec<[f32; GATES]> = fold_embedding(&w.embedding, &w.kernel, &w.bias);
    let table = flat
        .iter()
        .map(|r| {
            GateRow(std::array::from_fn(|g| {
                std::array::from_fn(|u| r[g * HIDDEN + u])
            }))
        })
        .collect();
    let recurrent = std::array::from_fn(|j| {
        std::array::from_fn(|g| std::array::from_fn(|u| w.recurrent_kernel[j][g * HIDDEN + u]))
    });
    let recurrent_splat = Box::new(
        recurrent
            .map(|by_gate: [[f32; HIDDEN]; 4]| by_gate.map(|units| units.map(|x| Splat([x; 8])))),
    );
    let mut t = LstmTables {
        table,
        recurrent,
        recurrent_splat,
        dense_kernel: w.dense_kernel,
        dense_bias: w.dense_bias,
        pad_states: Vec::with_capacity(SEQ_LEN + 1),
        batch_pad_states: Vec::new(),
    };
    let mut s = LstmState::default();
    t.pad_states.push(s);
    for _ in 0..SEQ_LEN {
        step(&t, &mut s, 0);
        t.pad_states.push(s);
    }
    t
}

/// Fold SimpleRNN weights (embedding or one-hot input) into [`RnnTables`] with the padding cache
/// built by `step` (see [`super::fold_rnn`], [`super::Kernel::fold_rnn`]). The batch cache is
/// left empty for the caller ([`RnnTables::set_batch_pad_states`]).
pub(crate) fn fold_rnn_with(
    w: &RnnWeights,
    step: impl Fn(&RnnTables, &mut RnnState, u16),
) -> RnnTables {
    let rows: Vec<[f32; HIDDEN]> = match &w.input {
        RnnInput::Embedding { embedding, kernel } => fold_embedding(embedding, kernel, &w.bias),
        RnnInput::OneHot { kernel } => kernel
            .iter()
            .map(|k| std::array::from_fn(|u| k[u] + w.bias[u]))
            .collect(),
    };
    assert!(
        !rows.is_empty(),
        "the vocabulary must contain the pad token 0"
    );
    let mut t = RnnTables {
        table: rows.into_iter().map(HiddenRow).collect(),
        recurrent: w.recurrent_kernel,
        recurrent_splat: Box::new(w.recurrent_kernel.map(|units| units.map(|x| Splat([x; 8])))),
        dense_kernel: w.dense_kernel,
        dense_bias: w.dense_bias,
        pad_states: Vec::with_capacity(SEQ_LEN + 1),
        batch_pad_states: Vec::new(),
    };
    let mut s = RnnState::default();
    t.pad_states.push(s);
    for _ in 0..SEQ_LEN {
        step(&t, &mut s, 0);
        t.pad_states.push(s);
    }
    t
}
