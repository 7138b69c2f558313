//! One shard of a batch: `B ≤ shard_rows(spec)` sequences run as matrices, forward with every
//! activation kept, then backpropagation through time, into the shard's own partial gradient.
//!
//! Rows are time-major (`row = t·B + b`), so the `B` rows of one step are one contiguous
//! `[B, ·]` matrix and the heavy work is a GEMM per step (`H_{t-1}·U`, `δZ_t·Uᵀ`, and
//! `H_{t-1}ᵀ·δZ_t` summed into `δU`) plus three over all steps at once (`X·W`, `Xᵀ·δZ`,
//! `δZ·Wᵀ`). Symbols:
//! `x_t` the (dropped-out) input, `xz = x·W + b_in`, `G·H` gate columns, gate-major.
//!
//! The products whose right operand is a weight matrix (`h·U`, `δz·Uᵀ`, `X·W`, `δZ·Wᵀ`) run on
//! the kernel's register tiles ([`Kernel::rows_product`], `B` read in place), and so does
//! `δU = Σ_t h_{t−1}ᵀ·δa_t`, a step at a time inside the backward loop while both operands
//! are in L1 ([`Kernel::rows_product_tn`]; the reset-before GRU's after the loop on
//! `matrixmultiply`, [`sgemm_tn`]). `δW = Xᵀ·δZ`, a long sum over every row, stays on
//! `matrixmultiply`. With an embedding and no dropout, `x_t = E[token]`, so
//! the forward pass computes `E[v]·W + b_in` once per distinct token `v` and copies it to the
//! rows, and the backward pass sums `δxz` by token (`δT [uniq, G·H]`) and runs
//! `δW = E_uniqᵀ·δT` and `δE_uniq = δT·Wᵀ`: products over the shard's distinct tokens rather
//! than its `T·B` rows (on IMDB-like text a shard of 32 × 200 tokens has a few thousand
//! distinct ones). With dropout the mask is a sequence's, the same at each of its steps, so
//! the same runs per (sequence, distinct token) pair (`assign_pairs`; `δE[v] += δX' ⊙ mask`
//! per pair): one LSTM(32) epoch with dropout 0.3 (2 threads, AMD EPYC Zen 4, family 25 model
//! 17, three alternations) 2.47–2.61 → 1.96–2.08 s, GRU(32) 1.81–1.85 → 1.47–1.53 s, where the
//! products ran over every row.
//! The LSTM's and the reset-after GRU's per-step cells are vector bodies of the kernel too
//! (`kernels/net_train.rs`), one dispatch per step: the forward cell with the bits of the
//! kernel's activations per gate block, the backward step with the scalar code's bits.
//!
//! Measured on an Intel Xeon (family 6 model 207, AVX-512, one thread, 4,000 + 1,000
//! synthetic reviews, fastest of 3 alternating runs; `examples/net_train_speed`): the products
//! on the tiles and the vector backward steps took an epoch from `matrixmultiply` everywhere
//! and scalar per-step arithmetic, LSTM(32) on Embedding(5000, 64), length 200, 1.42 → 0.98 s,
//! GRU(32) 1.22 → 0.88 s, the notebook's LSTM(8) 0.151 → 0.121 s; summing by token then took
//! LSTM(32) 0.93 → 0.75 s, GRU(32) 0.80 → 0.72 s, LSTM(8) 0.112 → 0.102 s; and the forward
//! pass's `E·W + b` per distinct token (the same bits as per row) LSTM(32) 0.79 → 0.66 s,
//! GRU(32) 0.69 → 0.61 s, LSTM(8) 0.105 → 0.098 s; the forward cells in one dispatch per step
//! LSTM(8) 0.103 → 0.074 s, GRU(32) 0.66 → 0.61 s, LSTM(32) within noise; `δU` a step at a
//! time GRU(32) 0.517 → 0.475 s, LSTM(8) 0.075 → 0.069 s, LSTM(32) 0.586 → 0.579 s.
//! On an AMD EPYC (family 25 model 17, Zen 4; 2026-12-04, same example, `perf record`),
//! copying a step's rows of `E·W + b` into `xz` when the step runs, instead of all `T·B`
//! rows before the loop (3.2 MB at LSTM(32), written out to memory and read back), took
//! `memmove` from 5.9 % to 3.4 % of the LSTM(32) epoch's samples (the epoch 0.77 → 0.69 s in
//! one noisy pair of runs). Tried and not kept: starting the LSTM's products at the token
//! rows themselves (an index into `E·W + b` read by the tiles' start values, no copy at all):
//! `memmove` fell to 1.2 % but the epoch rose, 0.73–0.84 → 0.95–1.11 s (one thread, 4,000
//! reviews, three alternations).
//!
//! ```text
//! SimpleRNN  h' = tanh(xz + h·U)
//!            δz = δh'⊙(1 − h'²);                            δh = δz·Uᵀ
//! LSTM       i, f, o = σ(·), g = tanh(·) of xz + h·U;  c' = f⊙c + i⊙g;  h' = o⊙tanh(c')
//!            δc̃ = δc + δh'⊙o⊙(1 − tanh²c');  δz = [δc̃⊙g⊙i(1−i), δc̃⊙c⊙f(1−f), δc̃⊙i⊙(1−g²),
//!            δh'⊙tanh(c')⊙o(1−o)];  δc ← δc̃⊙f;              δh = δz·Uᵀ
//! GRU (reset_after)  a = h·U + b_rec;  z = σ(xz_z + a_z);  r = σ(xz_r + a_r)
//!            ĥ = tanh(xz_h + r⊙a_h);  h' = z⊙h + (1 − z)⊙ĥ
//!            δẑ = δh'⊙(h − ĥ)⊙z(1−z);  δĥ = δh'⊙(1−z)⊙(1−ĥ²);  δr̂ = δĥ⊙a_h⊙r(1−r)
//!            δxz = [δẑ, δr̂, δĥ];  δa = [δẑ, δr̂, δĥ⊙r];            δh = δh'⊙z + δa·Uᵀ
//! GRU (reset before) z, r as above from xz + h·U_zr;  q = r⊙h;  ĥ = tanh(xz_h + q·U_h)
//!            δq = δĥ·U_hᵀ;  δr̂ = δq⊙h⊙r(1−r);  δxz = [δẑ, δr̂, δĥ]
//!            δh = δh'⊙z + δq⊙r + [δẑ, δr̂]·U_zrᵀ;   δU_zr = Σ hᵀ[δẑ, δr̂],  δU_h = Σ qᵀ δĥ
//! all        δU = Σ_t h_{t-1}ᵀ δa_t (δa = δxz but for the reset-after GRU),  δb_in = Σ δxz,
//!            δb_rec = Σ δa,  δW = Σ x_tᵀ δxz_t,  δx_t = δxz_t·Wᵀ,  δE[token] += δx_t ⊙ mask
//!            (one-hot: δK[token] += δxz_t · mask[token])
//! ```
//!
//! Loss: Keras' binary cross-entropy of `p = σ(h_T·d + d_b)` with the probability clipped to
//! `[ε, 1 − ε]`; `δlogit = (p − y)/n` inside the clip, 0 outside (the clip has no gradient).
//!
//! # Shared pads
//!
//! Pre-padded sequences (`pad_sequences`' default) start with a run of pad ids (0), and without
//! dropout every sequence's pads see the same input, so every sequence still in its pads at
//! step `t` has the same state, the pad trajectory's. [`Shard::load`] then orders the rows by
//! their leading pads, fewest first, and step `t` runs only rows `0..a_t + 1`: the `a_t` rows
//! past their pads and one pad row (row `a_t`) that steps the pad trajectory for all the rest.
//! Before step `t` the rows that leave their pads there, and the next pad row, take the pad
//! row's state (`spread_pad_state`). A row's forward arithmetic does not depend on the rows
//! beside it, so the probabilities are the same bits as with every row stepped.
//!
//! Backward, by linearity: the pad row of step `t` stood for every row from `a_t` on, so its
//! `δh`, `δc` after step `t + 1` is the sum of theirs (`gather_pad_delta`, in row order), and
//! its `δxz` row carries the whole pad run's input gradient into the pad id's row of `δE` and
//! into `δW`, `δb`, `δU`, once per step instead of once per padded sequence. The rows waiting
//! in their pads keep zero `δ` rows. The gradient is the same up to the order of its sums
//! (the unit test below: within 1e-5 of its largest entry; `tests/net_train.rs`: finite
//! differences with pads, Keras' five steps on pre-padded rows, the same bits for any thread
//! count).
//!
//! Measured (AMD EPYC Zen 4, family 25 model 17, 2 cores under KVM, AVX-512; `fusedrnn train
//! --epochs 1`, Embedding(5000, 64), the IMDB split packed with `--num-words 5000`, 20,000 +
//! 5,000 reviews, batch 64, 2 threads; the build before alternated with this one, fastest
//! epoch of 2–5; the same history to its last printed digit):
//!
//! ```text
//!                                     pads      before     shared pads
//! LSTM(32), --maxlen 200              20 %      1.31 s     1.20 s   (−8 %)
//! GRU(32),  --maxlen 200              20 %      0.98 s     0.90 s   (−8 %)
//! LSTM(32), --maxlen 500              56 %      3.11 s     2.10 s   (−32 %)
//! ```
//!
//! The gain is below the share of pads: the input side (products over the shard's distinct
//! tokens), RMSprop and the validation's share of the epoch do not shrink, and a shard's pad
//! row costs a row per step while any row is still in its pads. With dropout (a mask per
//! sequence) the rows keep their order and every step runs all of them, as before.
//!
//! Tried and not kept: dealing a batch's rows to its shards by leading pads (the batch ordered
//! by pads, then round-robin), so that the two threads' shards carry like shares of pads and
//! finish together. Counted on 3,000 random batches of 64 IMDB reviews (numpy), the slower of
//! the two shards steps 84.9 % of the positions at length 200 with consecutive halves, 83.2 %
//! dealt (82.6 % on average); at length 500 49.6 % against 47.8 %. Measured (LSTM(32), the
//! table's setup, six alternations at length 500): fastest epochs 2.080 s consecutive, 2.088 s
//! dealt, medians 2.17 and 2.15: within the noise, so the simpler consecutive shards stay.

// Index loops over rows and units read like the equations.
#![allow(clippy::needless_range_loop)]

use crate::kernels::activations::{Activation, sigmoid_f32 as sigmoid};
use crate::kernels::gemm::sgemm_tn;
use crate::kernels::net_train::{GruBackAfter, GruFwdAfter, LstmBack, LstmFwd};
use crate::kernels::{Kernel, RowsInit};
use crate::net::{Cell, Input, NetWeights, Spec};
use crate::train::first_seen::FirstSeen;

/// Most sequences per shard. Shard boundaries depend only on the batch and the spec, never on
/// the threads, so the gradient is the same bits for any thread count.
pub const SHARD_ROWS: usize = 32;

/// Floats one shard may keep for its caches (256 MiB): long sequences of wide layers get fewer
/// rows per shard, so no spec within the limits sizes an unbounded allocation.
pub const SHARD_FLOATS: usize = 1 << 26;

/// Sequences per shard for `spec`: [`SHARD_ROWS`], or fewer (at least 1) when one sequence's
/// caches (`≈ seq_len·(6·G·H + 2·width + 5·H)` floats, plus its dropout mask of the input
/// width) would put a shard over [`SHARD_FLOATS`].
pub fn shard_rows(spec: &Spec) -> usize {
    let (gh, h) = (spec.gate_width(), spec.units);
    let width = match spec.input {
        Input::Embedding { width } => width,
        Input::OneHot => 0,
    };
    let per_row = spec.seq_len * (6 * gh + 2 * width + 5 * h) + spec.input_width();
    (SHARD_FLOATS / per_row.max(1)).clamp(1, SHARD_ROWS)
}

/// Keras' `backend.epsilon()`, the probability clip of the loss.
pub const LOSS_EPSILON: f32 = 1e-7;

/// Keras' binary cross-entropy of one prediction in f32: `p = clip(p, ε, 1 − ε)`,
/// `−(y·ln p + (1 − y)·ln(1 − p))`.
#[inline]
pub fn bce(p: f32, y: f32) -> f32 {
    let p = p.clamp(LOSS_EPSILON, 1.0 - LOSS_EPSILON);
    -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
}

/// Keras' `binary_accuracy` of one prediction: `y == (p > 0.5)`.
#[inline]
pub fn hit(p: f32, y: f32) -> bool {
    y == if p > 0.5 { 1.0 } else { 0.0 }
}

/// The summed [`bce`] (f32 values summed in f64, in order) and the [`hit`]s of `probs`
/// against `labels`.
pub fn loss_and_hits(probs: &[f32], labels: &[f32]) -> (f64, usize) {
    probs
        .iter()
        .zip(labels)
        .fold((0.0, 0), |(loss, hits), (&p, &y)| {
            (loss + f64::from(bce(p, y)), hits + usize::from(hit(p, y)))
        })
}

/// What every shard of a batch reads besides the weights: transposed and split copies of the
/// kernels, so every GEMM operand is a contiguous row-major matrix.
#[derive(Clone, Debug, Default)]
pub struct Prepared {
    /// `Wᵀ [G·H, width]` (embedding input only).
    w_t: Vec<f32>,
    /// `Uᵀ [G·H, H]`.
    u_t: Vec<f32>,
    /// GRU with the reset before: `U_zr [H, 2H]`, `U_h [H, H]` and their transposes.
    u_zr: Vec<f32>,
    u_h: Vec<f32>,
    u_zr_t: Vec<f32>,
    u_h_t: Vec<f32>,
}

fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut Vec<f32>) {
    dst.clear();
    dst.resize(rows * cols, 0.0);
    for r in 0..rows {
        for c in 0..cols {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}

/// Columns `cols` of a row-major `[rows, width]` matrix, as a contiguous matrix.
fn columns(
    src: &[f32],
    rows: usize,
    width: usize,
    cols: std::ops::Range<usize>,
    dst: &mut Vec<f32>,
) {
    dst.clear();
    for r in 0..rows {
        dst.extend_from_slice(&src[r * width + cols.start..r * width + cols.end]);
    }
}

impl Prepared {
    /// Refreshes the copies from `w` (once per batch).
    pub fn update(&mut self, w: &NetWeights) {
        let s = &w.spec;
        let (h, gh) = (s.units, s.gate_width());
        if let Input::Embedding { width } = s.input {
            transpose(&w.kernel, width, gh, &mut self.w_t);
        }
        transpose(&w.recurrent_kernel, h, gh, &mut self.u_t);
        if s.cell == (Cell::Gru { reset_after: false }) {
            columns(&w.recurrent_kernel, h, gh, 0..2 * h, &mut self.u_zr);
            columns(&w.recurrent_kernel, h, gh, 2 * h..gh, &mut self.u_h);
            transpose(&self.u_zr, h, 2 * h, &mut self.u_zr_t);
            transpose(&self.u_h, h, h, &mut self.u_h_t);
        }
    }
}

/// Working memory and partial results of one shard, reused from batch to batch.
#[derive(Clone, Debug, Default)]
pub struct Shard {
    /// Sequences in this shard (`B`).
    pub rows: usize,
    seq_len: usize,
    /// `[B]` the loaded rows' order: row `r` is sequence `order[r]` of the shard's input
    /// (ordered by leading pads with shared pads; the identity without).
    order: Vec<u32>,
    /// `[B]` each input sequence's leading pads (0 for all without shared pads).
    pads: Vec<u32>,
    /// `[T]` rows past their pads at each step: a prefix of the ordered rows.
    active: Vec<u32>,
    /// `[T·B]` time-major token ids.
    tokens: Vec<u32>,
    /// `[B]` in the input's order (as `probs`).
    labels: Vec<f32>,
    /// `[B, in]` dropout factors (empty: no dropout).
    pub masks: Vec<f32>,
    /// `[pairs, width]` inputs `E[token] ⊙ mask` per (sequence, token) pair (`δW = xᵀ·δP`
    /// reads it by strides); without dropout `[uniq, width]`, the distinct tokens' rows `E_uniq`.
    x: Vec<f32>,
    /// `[T·B, G·H]` `x·W + b_in`.
    xz: Vec<f32>,
    /// `[(T+1)·B, H]` `h_0 = 0, …, h_T`; `cs` the same for the LSTM's cell.
    hs: Vec<f32>,
    cs: Vec<f32>,
    /// `[T·B, H]` LSTM: `tanh(c_t)`, kept for the backward pass.
    tcs: Vec<f32>,
    /// `[T·B, G·H]` activations: LSTM `i, f, g, o`; GRU `z, r, ĥ`; SimpleRNN `h'`.
    acts: Vec<f32>,
    /// `[T·B, H]` GRU: `a_h = (h·U)_h + b_rh` (reset after) or `q = r⊙h` (reset before).
    aux: Vec<f32>,
    /// `[B, G·H]` step scratch.
    tmp: Vec<f32>,
    tmp2: Vec<f32>,
    /// `[B]` probabilities of the last forward pass.
    pub probs: Vec<f32>,
    /// `[T·B, G·H]` `δxz`, and `δa` for the reset-after GRU.
    dzx: Vec<f32>,
    dza: Vec<f32>,
    /// `[B, H]` the carried `δh`, `δc`.
    dh: Vec<f32>,
    dh2: Vec<f32>,
    dc: Vec<f32>,
    /// `[pairs, width]` `δx` (dropout); `[H, G·H]` GEMM scratch.
    dx: Vec<f32>,
    du2: Vec<f32>,
    /// Partial gradient: `δW [width, G·H]` (embedding input; one-hot uses `d_rows`).
    pub d_kernel: Vec<f32>,
    /// `δU [H, G·H]`.
    pub d_rec: Vec<f32>,
    /// `δb [rows·G·H]`.
    pub d_bias: Vec<f32>,
    pub d_dense: Vec<f32>,
    pub d_dense_bias: f32,
    /// `[uniq, G·H]` per distinct token (embedding input without dropout; with dropout
    /// `[pairs, G·H]` per (sequence, token) pair): `x·W + b_in` in the forward pass, then `δxz`
    /// summed by token (pair) in the backward pass.
    d_tok: Vec<f32>,
    /// `[T·B]` each row's index in `uniq`.
    slots: Vec<u32>,
    /// With dropout after an embedding: `[T·B]` each row's (sequence, token) pair, and per
    /// pair its sequence and its index in `uniq` (`pair_seen`: scratch of the assignment).
    /// `d_tok` then holds the pairs' rows instead of the tokens'.
    pair_slots: Vec<u32>,
    pair_seq: Vec<u32>,
    pair_uniq: Vec<u32>,
    pair_seen: FirstSeen,
    /// The distinct token ids of the shard, ascending, and their input-table gradient rows:
    /// `δE [uniq, width]` (embedding) or `δK [uniq, G·H]` (one-hot).
    pub uniq: Vec<u32>,
    pub d_rows: Vec<f32>,
    /// Sum of the per-sample losses (f32 values summed in f64) and the hits.
    pub loss_sum: f64,
    pub correct: usize,
}

/// `n` values, not cleared when the length is already right (for buffers every use overwrites).
fn sized(v: &mut Vec<f32>, n: usize) {
    if v.len() != n {
        v.clear();
        v.resize(n, 0.0);
    }
}

/// `out [slots, gh]` = the rows of `rows [·, gh]` summed by their slot, in row order.
fn sum_rows_by_slot(out: &mut Vec<f32>, slots: usize, rows: &[f32], slot_of: &[u32], gh: usize) {
    zeroed(out, slots * gh);
    for (row, &slot) in rows.chunks_exact(gh).zip(slot_of) {
        let slot = slot as usize;
        for (d, v) in out[slot * gh..(slot + 1) * gh].iter_mut().zip(row) {
            *d += v;
        }
    }
}

/// Every row of `rows` (`[·, h]`) becomes a copy of its first.
fn copy_first_row_down(rows: &mut [f32], h: usize) {
    let (first, rest) = rows.split_at_mut(h);
    for row in rest.chunks_exact_mut(h) {
        row.copy_from_slice(first);
    }
}

/// The first row of `rows` (`[·, h]`) becomes the sum of all of them, in row order.
fn add_rows_into_first(rows: &mut [f32], h: usize) {
    let (first, rest) = rows.split_at_mut(h);
    for row in rest.chunks_exact(h) {
        for (d, v) in first.iter_mut().zip(row) {
            *d += v;
        }
    }
}

fn zeroed(v: &mut Vec<f32>, n: usize) {
    v.clear();
    v.resize(n, 0.0);
}

impl Shard {
    /// Loads `rows` sequences from `ids` (`[rows, seq_len]` row-major, already checked to be
    /// `< vocab`) and their labels.
    ///
    /// With `share_pads` (no dropout: every sequence's pads then see the same input) the rows
    /// are ordered by their leading pads, fewest first, and the passes step only the rows past
    /// their pads plus one row standing for all the others (see "Shared pads" above); without,
    /// the rows keep their order and every step runs all of them.
    pub fn load<T: crate::net::TokenId>(
        &mut self,
        ids: &[T],
        labels: &[f32],
        seq_len: usize,
        share_pads: bool,
    ) {
        let b = labels.len();
        debug_assert_eq!(ids.len(), b * seq_len);
        self.rows = b;
        self.seq_len = seq_len;
        // Rows by leading pads (equal counts keep their order).
        self.order.clear();
        self.order.extend(0..b as u32);
        self.pads.clear();
        self.pads.extend(ids.chunks_exact(seq_len).map(|seq| {
            if share_pads {
                crate::net::leading_pads(seq) as u32
            } else {
                0
            }
        }));
        let pads = &self.pads;
        self.order.sort_unstable_by_key(|&i| (pads[i as usize], i));
        // `active[t]`: the rows past their pads at step `t` (a prefix of the ordered rows).
        self.active.clear();
        let mut a = 0;
        for t in 0..seq_len {
            while a < b && self.pads[self.order[a] as usize] as usize <= t {
                a += 1;
            }
            self.active.push(a as u32);
        }
        self.labels.clear();
        self.labels.extend_from_slice(labels);
        zeroed_u32(&mut self.tokens, b * seq_len);
        for (bi, &src) in self.order.iter().enumerate() {
            let seq = &ids[src as usize * seq_len..(src as usize + 1) * seq_len];
            for (t, tok) in seq.iter().enumerate() {
                self.tokens[t * b + bi] = tok.index() as u32;
            }
        }
        self.uniq.clear();
        self.uniq.extend_from_slice(&self.tokens);
        self.uniq.sort_unstable();
        self.uniq.dedup();
        self.slots.clear();
        let uniq = &self.uniq;
        self.slots.extend(self.tokens.iter().map(|tok| {
            // `uniq` holds every token of the shard, so the search finds it.
            uniq.binary_search(tok).unwrap_or(0) as u32
        }));
    }

    /// With dropout after an embedding, a sequence's repeated tokens have the same input row
    /// `E[v] ⊙ mask` and the same product: one pair per (sequence, distinct token), numbered
    /// sequence by sequence in the order the tokens first appear.
    fn assign_pairs(&mut self) {
        let (b, t_len) = (self.rows, self.seq_len);
        let u = self.uniq.len();
        self.pair_slots.clear();
        self.pair_slots.resize(b * t_len, 0);
        self.pair_seq.clear();
        self.pair_uniq.clear();
        for bi in 0..b {
            self.pair_seen.next_sequence(u);
            for t in 0..t_len {
                let r = t * b + bi;
                let slot = self.slots[r];
                let next = self.pair_seq.len() as u32;
                let (pair, new) = self.pair_seen.row(slot as usize, next);
                if new {
                    self.pair_seq.push(bi as u32);
                    self.pair_uniq.push(slot);
                }
                self.pair_slots[r] = pair;
            }
        }
    }

    /// Rows step `t` runs: the rows past their pads and the pad row, if any (every row at
    /// `t == T`).
    fn live(&self, t: usize) -> usize {
        match self.active.get(t) {
            Some(&a) => (a as usize + 1).min(self.rows),
            None => self.rows,
        }
    }

    /// Before step `t ≥ 1` (or after the last, `t == T`): the rows that leave their pads at
    /// `t`, and the new pad row, start from the pad row's state after step `t − 1`.
    fn spread_pad_state(&mut self, t: usize, h: usize, lstm: bool) {
        let (b, a) = (self.rows, self.active[t - 1] as usize);
        if a >= b {
            return;
        }
        let rows = (t * b + a) * h..(t * b + self.live(t)) * h;
        copy_first_row_down(&mut self.hs[rows.clone()], h);
        if lstm {
            copy_first_row_down(&mut self.cs[rows], h);
        }
    }

    /// Before backward step `t`: the pad row `a` of step `t` (if there is one) stood for every
    /// row `a..` at step `t`, so its `δh` (and `δc`) after step `t + 1` is the sum of theirs:
    /// the rows that left their pads at `t + 1` and the pad row of step `t + 1` (every row
    /// from `a` on at `t + 1 == T`), summed in row order.
    fn gather_pad_delta(&mut self, t: usize, h: usize, lstm: bool) {
        let (b, a) = (self.rows, self.active[t] as usize);
        if a >= b {
            return;
        }
        let rows = a * h..self.live(t + 1) * h;
        add_rows_into_first(&mut self.dh[rows.clone()], h);
        if lstm {
            add_rows_into_first(&mut self.dc[rows], h);
        }
    }

    /// Forward pass with every activation kept; fills `probs`, `loss_sum` and `correct`.
    /// The gate activations run as `kernel`'s vector sigmoid and tanh
    /// ([`Kernel::activation_in_place`], throughput form), a row's gate block at a time.
    pub fn forward(&mut self, w: &NetWeights, p: &Prepared, kernel: Kernel) {
        let s = w.spec;
        let (b, t_len, h, gh) = (self.rows, self.seq_len, s.units, s.gate_width());
        let n = b * t_len;
        let b_in = &w.bias[..gh];
        // Input projection xz = x·W + b_in for every step at once (by token: see below).
        let masked = !self.masks.is_empty();
        let by_token = !masked && matches!(s.input, Input::Embedding { .. });
        let by_pair = masked && matches!(s.input, Input::Embedding { .. });
        sized(
            &mut self.xz,
            if by_token || by_pair { b * gh } else { n * gh },
        );
        match s.input {
            Input::Embedding { width } if !masked => {
                // x_t = E[token]: `E[v]·W + b_in` once per distinct token (in `d_tok` until the
                // backward pass), copied to a step's rows of `xz` when the step runs: a step's
                // `b` rows stay in L1, where all `n` rows (3.2 MB at LSTM(32), 32 × 200 rows)
                // went out to memory and back. The same bits as the product over the rows (a
                // row's sums do not depend on the rows around it).
                let e_u = &mut self.x;
                e_u.clear();
                for &tok in &self.uniq {
                    let tok = tok as usize;
                    e_u.extend_from_slice(&w.embedding[tok * width..(tok + 1) * width]);
                }
                let u = self.uniq.len();
                sized(&mut self.d_tok, u * gh);
                kernel.rows_product(
                    u,
                    width,
                    gh,
                    e_u,
                    &w.kernel,
                    RowsInit::Row(b_in),
                    &mut self.d_tok,
                );
            }
            Input::Embedding { width } => {
                // With dropout: `E[v] ⊙ mask` and its product once per (sequence, token)
                // pair (see `assign_pairs`), in `d_tok`, copied to a step's rows as above.
                self.assign_pairs();
                let pairs = self.pair_seq.len();
                sized(&mut self.x, pairs * width);
                for (k, (&bi, &slot)) in self.pair_seq.iter().zip(&self.pair_uniq).enumerate() {
                    let (tok, bi) = (self.uniq[slot as usize] as usize, bi as usize);
                    let e = &w.embedding[tok * width..(tok + 1) * width];
                    let m = &self.masks[bi * width..(bi + 1) * width];
                    for ((x, e), m) in self.x[k * width..(k + 1) * width].iter_mut().zip(e).zip(m) {
                        *x = e * m;
                    }
                }
                sized(&mut self.d_tok, pairs * gh);
                kernel.rows_product(
                    pairs,
                    width,
                    gh,
                    &self.x,
                    &w.kernel,
                    RowsInit::Row(b_in),
                    &mut self.d_tok,
                );
            }
            Input::OneHot => {
                let vocab = s.vocab;
                for r in 0..n {
                    let (tok, bi) = (self.tokens[r] as usize, r % b);
                    let m = if masked {
                        self.masks[bi * vocab + tok]
                    } else {
                        1.0
                    };
                    let k = &w.kernel[tok * gh..(tok + 1) * gh];
                    let row = &mut self.xz[r * gh..(r + 1) * gh];
                    for ((x, kv), bias) in row.iter_mut().zip(k).zip(b_in) {
                        *x = bias + kv * m;
                    }
                }
            }
        }
        sized(&mut self.hs, (t_len + 1) * b * h);
        self.hs[..b * h].fill(0.0);
        sized(&mut self.acts, n * gh);
        zeroed(&mut self.tmp, b * gh);
        zeroed(&mut self.tmp2, b * gh);
        if s.cell == Cell::Lstm {
            sized(&mut self.cs, (t_len + 1) * b * h);
            self.cs[..b * h].fill(0.0);
            sized(&mut self.tcs, n * h);
        }
        let sigmoid_in_place = |xs: &mut [f32]| kernel.activation_in_place(Activation::Sigmoid, xs);
        let tanh_in_place = |xs: &mut [f32]| kernel.activation_in_place(Activation::Tanh, xs);
        if let Cell::Gru { .. } = s.cell {
            sized(&mut self.aux, n * h);
        }
        let u = &w.recurrent_kernel;
        for t in 0..t_len {
            // The step runs rows `0..bl`: the ordered rows past their pads, then the pad row
            // (whose state is every padded row's); the rows after it wait in their pads.
            if t > 0 {
                self.spread_pad_state(t, h, s.cell == Cell::Lstm);
            }
            let bl = self.live(t);
            let rows = t * b..t * b + bl;
            let (h_done, h_rest) = self.hs.split_at_mut((t + 1) * b * h);
            let h_prev = &h_done[t * b * h..][..bl * h];
            let h_next = &mut h_rest[..bl * h];
            if by_token || by_pair {
                let slots = if by_pair {
                    &self.pair_slots[rows.clone()]
                } else {
                    &self.slots[rows.clone()]
                };
                for (row, &slot) in self.xz.chunks_exact_mut(gh).zip(slots) {
                    let slot = slot as usize;
                    row.copy_from_slice(&self.d_tok[slot * gh..(slot + 1) * gh]);
                }
            }
            let xz = if by_token || by_pair {
                &self.xz[..bl * gh]
            } else {
                &self.xz[rows.start * gh..rows.end * gh]
            };
            let acts = &mut self.acts[rows.start * gh..rows.end * gh];
            match s.cell {
                Cell::SimpleRnn => {
                    kernel.rows_product(bl, h, gh, h_prev, u, RowsInit::From(xz), acts);
                    tanh_in_place(acts);
                    h_next.copy_from_slice(acts);
                }
                Cell::Lstm => {
                    // z = xz + h·U in place in `acts`, then the cell.
                    kernel.rows_product(bl, h, gh, h_prev, u, RowsInit::From(xz), acts);
                    let (c_done, c_rest) = self.cs.split_at_mut((t + 1) * b * h);
                    kernel.dispatch(LstmFwd {
                        h,
                        acts,
                        c_prev: &c_done[t * b * h..][..bl * h],
                        c_next: &mut c_rest[..bl * h],
                        tanh_c: &mut self.tcs[rows.start * h..rows.end * h],
                        h_next,
                    });
                }
                Cell::Gru { reset_after: true } => {
                    let a = &mut self.tmp[..bl * gh];
                    kernel.rows_product(bl, h, gh, h_prev, u, RowsInit::Zero, a);
                    kernel.dispatch(GruFwdAfter {
                        h,
                        a: &self.tmp[..bl * gh],
                        b_rec: &w.bias[gh..],
                        xz,
                        h_prev,
                        acts,
                        a_h: &mut self.aux[rows.start * h..rows.end * h],
                        h_next,
                    });
                }
                Cell::Gru { reset_after: false } => {
                    let azr = &mut self.tmp[..bl * 2 * h];
                    kernel.rows_product(bl, h, 2 * h, h_prev, &p.u_zr, RowsInit::Zero, azr);
                    let q = &mut self.aux[rows.start * h..rows.end * h];
                    for bi in 0..bl {
                        let a = &azr[bi * 2 * h..(bi + 1) * 2 * h];
                        let x = &xz[bi * gh..(bi + 1) * gh];
                        let ac = &mut acts[bi * gh..(bi + 1) * gh];
                        for k in 0..2 * h {
                            ac[k] = x[k] + a[k];
                        }
                        sigmoid_in_place(&mut ac[..2 * h]);
                        for k in 0..h {
                            q[bi * h + k] = ac[h + k] * h_prev[bi * h + k];
                        }
                    }
                    let ah = &mut self.tmp2[..bl * h];
                    kernel.rows_product(bl, h, h, q, &p.u_h, RowsInit::Zero, ah);
                    for bi in 0..bl {
                        let x = &xz[bi * gh..(bi + 1) * gh];
                        let ac = &mut acts[bi * gh..(bi + 1) * gh];
                        for k in 0..h {
                            ac[2 * h + k] = x[2 * h + k] + ah[bi * h + k];
                        }
                        tanh_in_place(&mut ac[2 * h..]);
                        let hp = &h_prev[bi * h..(bi + 1) * h];
                        let hn = &mut h_next[bi * h..(bi + 1) * h];
                        for k in 0..h {
                            let (z, hh) = (ac[k], ac[2 * h + k]);
                            hn[k] = z * hp[k] + (1.0 - z) * hh;
                        }
                    }
                }
            }
            if s.cell == (Cell::Gru { reset_after: false }) {
                // The rows waiting in their pads hold stale values from an earlier batch; the
                // reset-before GRU's `δU` (after the backward loop, over every row) reads them
                // beside their zero `δ`.
                self.hs[(t * b + bl) * h..(t + 1) * b * h].fill(0.0);
                self.aux[(t * b + bl) * h..(t + 1) * b * h].fill(0.0);
            }
        }
        // Sequences that are pads throughout end in the pad row's state.
        self.spread_pad_state(t_len, h, s.cell == Cell::Lstm);
        // The head and the loss.
        let h_last = &self.hs[t_len * b * h..];
        // `probs` and `labels` are in the input's order (the loss is summed in it).
        self.probs.clear();
        self.probs.resize(b, 0.0);
        for bi in 0..b {
            let mut logit = w.dense_bias;
            for k in 0..h {
                logit += h_last[bi * h + k] * w.dense_kernel[k];
            }
            self.probs[self.order[bi] as usize] = sigmoid(logit);
        }
        (self.loss_sum, self.correct) = loss_and_hits(&self.probs, &self.labels);
    }

    /// Backpropagation through time after [`Shard::forward`]; `inv_n` is 1 / (batch size), so
    /// the shards' gradients add up to the gradient of the batch's mean loss.
    pub fn backward(&mut self, w: &NetWeights, p: &Prepared, kernel: Kernel, inv_n: f32) {
        let s: Spec = w.spec;
        let (b, t_len, h, gh) = (self.rows, self.seq_len, s.units, s.gate_width());
        let n = b * t_len;
        let h_last = &self.hs[t_len * b * h..];
        zeroed(&mut self.dh, b * h);
        zeroed(&mut self.dh2, b * h);
        zeroed(&mut self.dc, b * h);
        zeroed(&mut self.d_dense, h);
        self.d_dense_bias = 0.0;
        for bi in 0..b {
            let input = self.order[bi] as usize;
            let prob = self.probs[input];
            let dlogit = if prob > LOSS_EPSILON && prob < 1.0 - LOSS_EPSILON {
                (prob - self.labels[input]) * inv_n
            } else {
                0.0
            };
            self.d_dense_bias += dlogit;
            for k in 0..h {
                self.d_dense[k] += dlogit * h_last[bi * h + k];
                self.dh[bi * h + k] = dlogit * w.dense_kernel[k];
            }
        }
        sized(&mut self.dzx, n * gh);
        let ra = s.cell == (Cell::Gru { reset_after: true });
        let per_step_du = s.cell != (Cell::Gru { reset_after: false });
        zeroed(&mut self.d_rec, h * gh);
        if ra {
            sized(&mut self.dza, n * gh);
        }
        let lstm = s.cell == Cell::Lstm;
        // Embedding input without dropout: `δxz` summed by token as each step's rows come out
        // of the cell, while they are in L1 (`d_tok` held `E_uniq·W + b` for the forward pass),
        // rather than in one pass over all `T·B` rows after the loop (3.2 MB at LSTM(32), read
        // back from memory). One `perf record` of an IMDB LSTM(32) epoch each (AMD EPYC Zen 4):
        // that pass and the backward loop 174 samples, the loop summing as it goes 142, of
        // ~2,400.
        let by_token = self.masks.is_empty() && matches!(s.input, Input::Embedding { .. });
        if by_token {
            zeroed(&mut self.d_tok, self.uniq.len() * gh);
        }
        for t in (0..t_len).rev() {
            // Rows `bl..` wait in their pads at this step: their `δ` rows stay zero, and the
            // pad row gathers the `δ` of every row that was still in its pads before step
            // `t + 1` (see "Shared pads").
            let bl = self.live(t);
            self.gather_pad_delta(t, h, lstm);
            self.dzx[(t * b + bl) * gh..(t + 1) * b * gh].fill(0.0);
            if ra {
                self.dza[(t * b + bl) * gh..(t + 1) * b * gh].fill(0.0);
            }
            let rows = t * b..t * b + bl;
            let h_prev = &self.hs[t * b * h..][..bl * h];
            let h_next = &self.hs[(t + 1) * b * h..][..bl * h];
            let acts = &self.acts[rows.start * gh..rows.end * gh];
            let dzx = &mut self.dzx[rows.start * gh..rows.end * gh];
            let dh = &mut self.dh[..bl * h];
            match s.cell {
                Cell::SimpleRnn => {
                    for k in 0..bl * h {
                        dzx[k] = dh[k] * (1.0 - h_next[k] * h_next[k]);
                    }
                    kernel.rows_product(bl, gh, h, dzx, &p.u_t, RowsInit::Zero, dh);
                }
                Cell::Lstm => {
                    let c_prev = &self.cs[t * b * h..][..bl * h];
                    kernel.dispatch(LstmBack {
                        h,
                        acts,
                        tanh_c: &self.tcs[rows.start * h..rows.end * h],
                        c_prev,
                        dh,
                        dc: &mut self.dc[..bl * h],
                        dz: dzx,
                    });
                    kernel.rows_product(bl, gh, h, dzx, &p.u_t, RowsInit::Zero, dh);
                }
                Cell::Gru { reset_after: true } => {
                    let dza = &mut self.dza[rows.start * gh..rows.end * gh];
                    let dh2 = &mut self.dh2[..bl * h];
                    kernel.dispatch(GruBackAfter {
                        h,
                        acts,
                        h_prev,
                        a_h: &self.aux[rows.start * h..rows.end * h],
                        dh,
                        dxz: dzx,
                        da: dza,
                        dh_z: dh2,
                    });
                    kernel.rows_product(bl, gh, h, dza, &p.u_t, RowsInit::Out, dh2);
                    std::mem::swap(&mut self.dh, &mut self.dh2);
                }
                Cell::Gru { reset_after: false } => {
                    // δĥ (pre-activation) first: δq = δĥ·U_hᵀ feeds δr.
                    let dph = &mut self.tmp2[..bl * h];
                    for bi in 0..bl {
                        let a = &acts[bi * gh..(bi + 1) * gh];
                        for k in 0..h {
                            let (z, hh) = (a[k], a[2 * h + k]);
                            dph[bi * h + k] = dh[bi * h + k] * (1.0 - z) * (1.0 - hh * hh);
                        }
                    }
                    let dq = &mut self.tmp[..bl * h];
                    kernel.rows_product(bl, h, h, dph, &p.u_h_t, RowsInit::Zero, dq);
                    let dzr = &mut self.dx;
                    zeroed(dzr, bl * 2 * h);
                    let dh2 = &mut self.dh2[..bl * h];
                    for bi in 0..bl {
                        let a = &acts[bi * gh..(bi + 1) * gh];
                        let dx = &mut dzx[bi * gh..(bi + 1) * gh];
                        for k in 0..h {
                            let j = bi * h + k;
                            let (z, r, hh) = (a[k], a[h + k], a[2 * h + k]);
                            let dhv = dh[j];
                            let dz = dhv * (h_prev[j] - hh) * z * (1.0 - z);
                            let dr = dq[j] * h_prev[j] * r * (1.0 - r);
                            dx[k] = dz;
                            dx[h + k] = dr;
                            dx[2 * h + k] = dph[j];
                            dzr[bi * 2 * h + k] = dz;
                            dzr[bi * 2 * h + h + k] = dr;
                            dh2[j] = dhv * z + dq[j] * r;
                        }
                    }
                    kernel.rows_product(bl, 2 * h, h, dzr, &p.u_zr_t, RowsInit::Out, dh2);
                    std::mem::swap(&mut self.dh, &mut self.dh2);
                }
            }
            // This step's δa (flushed as below) into δU = Σ_t h_{t−1}ᵀ·δa_t while both are in
            // L1 (the reset-before GRU's δU after the loop: its candidate block is qᵀ·δĥ).
            let step = rows.start * gh..rows.end * gh;
            flush(&mut self.dzx[step.clone()]);
            if ra {
                flush(&mut self.dza[step.clone()]);
            }
            if by_token {
                let slots = &self.slots[rows.clone()];
                for (row, &slot) in self.dzx[step.clone()].chunks_exact(gh).zip(slots) {
                    let slot = slot as usize;
                    for (d, v) in self.d_tok[slot * gh..(slot + 1) * gh].iter_mut().zip(row) {
                        *d += v;
                    }
                }
            }
            if per_step_du {
                let da = if ra { &self.dza[step] } else { &self.dzx[step] };
                kernel.rows_product_tn(h, bl, gh, h_prev, da, RowsInit::Out, &mut self.d_rec);
            }
            // Vanishing gradients underflow, and subnormal operands or results make every
            // product ~100× slower (XLA, Keras' JAX backend on CPU, flushes subnormals too). So
            // δ below `FLUSH_BELOW` is set to zero; once δh and δc are all zero, every earlier
            // step's δ is zero as well.
            let live_h = flush(&mut self.dh[..bl * h]);
            let live_c = lstm && flush(&mut self.dc[..bl * h]);
            if !live_h && !live_c {
                // Steps before t were not written this time.
                self.dzx[..t * b * gh].fill(0.0);
                if ra {
                    self.dza[..t * b * gh].fill(0.0);
                }
                break;
            }
        }
        if !per_step_du {
            // δU = H_prevᵀ·δa over all steps, its candidate block from qᵀ·δĥ.
            sgemm_tn(h, n, gh, &self.hs[..n * h], &self.dzx, 0.0, &mut self.d_rec);
            sized(&mut self.du2, h * gh);
            sgemm_tn(h, n, gh, &self.aux[..n * h], &self.dzx, 0.0, &mut self.du2);
            for j in 0..h {
                self.d_rec[j * gh + 2 * h..(j + 1) * gh]
                    .copy_from_slice(&self.du2[j * gh + 2 * h..(j + 1) * gh]);
            }
        }
        // Biases: column sums in row order (without dropout, of the per-token sums below).
        let masked = !self.masks.is_empty();
        zeroed(&mut self.d_bias, s.cell.bias_rows() * gh);
        if !by_token {
            for row in self.dzx.chunks_exact(gh) {
                for (d, v) in self.d_bias[..gh].iter_mut().zip(row) {
                    *d += v;
                }
            }
        }
        if ra {
            for row in self.dza.chunks_exact(gh) {
                for (d, v) in self.d_bias[gh..].iter_mut().zip(row) {
                    *d += v;
                }
            }
        }
        // The input side.
        match s.input {
            Input::Embedding { width } if !masked => {
                // x_t = E[token]: the input gradients summed by token (in the loop above),
                // δT [uniq, G·H], then δW = E_uniqᵀ·δT and δE_uniq = δT·Wᵀ, products over the
                // shard's distinct tokens instead of over its `n` rows.
                for row in self.d_tok.chunks_exact(gh) {
                    for (d, v) in self.d_bias[..gh].iter_mut().zip(row) {
                        *d += v;
                    }
                }
                // `x` holds `E_uniq [uniq, width]` since the forward pass.
                let u = self.uniq.len();
                sized(&mut self.d_kernel, width * gh);
                sgemm_tn(width, u, gh, &self.x, &self.d_tok, 0.0, &mut self.d_kernel);
                sized(&mut self.d_rows, u * width);
                kernel.rows_product(
                    u,
                    gh,
                    width,
                    &self.d_tok,
                    &p.w_t,
                    RowsInit::Zero,
                    &mut self.d_rows,
                );
            }
            Input::Embedding { width } => {
                // With dropout: `δxz` summed per (sequence, token) pair, then `δW = X'ᵀ·δP`
                // and `δX' = δP·Wᵀ` over the pairs, and `δE[v] += δX' ⊙ mask` per pair.
                let pairs = self.pair_seq.len();
                sum_rows_by_slot(&mut self.d_tok, pairs, &self.dzx, &self.pair_slots, gh);
                sized(&mut self.d_kernel, width * gh);
                sgemm_tn(
                    width,
                    pairs,
                    gh,
                    &self.x,
                    &self.d_tok,
                    0.0,
                    &mut self.d_kernel,
                );
                sized(&mut self.dx, pairs * width);
                kernel.rows_product(
                    pairs,
                    gh,
                    width,
                    &self.d_tok,
                    &p.w_t,
                    RowsInit::Zero,
                    &mut self.dx,
                );
                zeroed(&mut self.d_rows, self.uniq.len() * width);
                for (k, (&bi, &slot)) in self.pair_seq.iter().zip(&self.pair_uniq).enumerate() {
                    let (bi, slot) = (bi as usize, slot as usize);
                    let out = &mut self.d_rows[slot * width..(slot + 1) * width];
                    let dx = &self.dx[k * width..(k + 1) * width];
                    let m = &self.masks[bi * width..(bi + 1) * width];
                    for ((o, d), m) in out.iter_mut().zip(dx).zip(m) {
                        *o += d * m;
                    }
                }
            }
            Input::OneHot => {
                self.d_kernel.clear();
                zeroed(&mut self.d_rows, self.uniq.len() * gh);
                let vocab = s.vocab;
                for r in 0..n {
                    let (tok, slot) = (self.tokens[r], self.slots[r] as usize);
                    let m = if masked {
                        self.masks[(r % b) * vocab + tok as usize]
                    } else {
                        1.0
                    };
                    let out = &mut self.d_rows[slot * gh..(slot + 1) * gh];
                    for (o, d) in out.iter_mut().zip(&self.dzx[r * gh..(r + 1) * gh]) {
                        *o += d * m;
                    }
                }
            }
        }
    }
}

fn zeroed_u32(v: &mut Vec<u32>, n: usize) {
    v.clear();
    v.resize(n, 0);
}

/// Backpropagated values below this are set to zero. Such a δ moves no weight: it adds at
/// most `lr·δ/sqrt(ε)` ≈ 3e-31 to a weight through RMSprop (`ε` = 1e-7 inside the square
/// root), far below the f32 resolution of any weight above 1e-20; and products of it with the
/// layer's factors (≥ 1e-8 in practice) stay clear of the subnormal range.
pub const FLUSH_BELOW: f32 = 1e-30;

/// Sets values below [`FLUSH_BELOW`] to zero; whether any value is non-zero.
fn flush(xs: &mut [f32]) -> bool {
    let mut live = false;
    for x in xs.iter_mut() {
        // A select and an unconditional store (a conditional store does not vectorize).
        let v = if x.abs() < FLUSH_BELOW { 0.0 } else { *x };
        *x = v;
        live |= v != 0.0;
    }
    live
}

#[cfg(test)]
mod tests {
    //! Shared pads against every row stepped through its own pads, on every kernel of this
    //! machine: the same probabilities bit for bit (a row's forward arithmetic does not depend
    //! on the rows beside it), and the same gradient up to the order of its sums.
    use super::*;

    const CELLS: [Cell; 4] = [
        Cell::SimpleRnn,
        Cell::Lstm,
        Cell::Gru { reset_after: true },
        Cell::Gru { reset_after: false },
    ];

    /// `pads.len()` sequences of `seq_len` ids below `vocab` with the given leading pads (ids
    /// after the pads are never 0).
    fn padded(pads: &[usize], seq_len: usize, vocab: u32, seed: u64) -> Vec<u32> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut ids = vec![0u32; pads.len() * seq_len];
        for (row, &p) in ids.chunks_exact_mut(seq_len).zip(pads) {
            for id in &mut row[p..] {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *id = 1 + ((x >> 33) % u64::from(vocab - 1)) as u32;
            }
        }
        ids
    }

    /// The gradient tensors of a shard, one after the other.
    fn gradient(s: &Shard) -> Vec<f32> {
        let rows = s.d_rows.iter();
        let tensors = [&s.d_kernel, &s.d_rec, &s.d_bias, &s.d_dense];
        let mut g: Vec<f32> = tensors.into_iter().flatten().chain(rows).copied().collect();
        g.push(s.d_dense_bias);
        g
    }

    fn run(w: &NetWeights, kernel: Kernel, ids: &[u32], labels: &[f32], share: bool) -> Shard {
        let mut p = Prepared::default();
        p.update(w);
        let mut s = Shard::default();
        // First a batch that leaves every buffer of the shard dirty: the same rows without
        // their pads, every row stepped, with a NaN in the recurrent kernel, so every state,
        // activation and delta row holds a NaN; then the batch under test over those buffers
        // (rows waiting in their pads must read none of it).
        let mut dirty = w.clone();
        dirty.recurrent_kernel[0] = f32::NAN;
        let mut pd = Prepared::default();
        pd.update(&dirty);
        let unpadded: Vec<u32> = ids.iter().map(|&t| t.max(1)).collect();
        s.load(&unpadded, labels, w.spec.seq_len, false);
        s.forward(&dirty, &pd, kernel);
        s.backward(&dirty, &pd, kernel, 1.0 / labels.len() as f32);
        assert!(
            s.probs.iter().all(|p| p.is_nan()),
            "the dirty batch is not dirty"
        );
        s.load(ids, labels, w.spec.seq_len, share);
        s.forward(w, &p, kernel);
        s.backward(w, &p, kernel, 1.0 / labels.len() as f32);
        s
    }

    #[test]
    fn shared_pads_give_each_rows_probability_and_the_same_gradient() {
        let seq_len = 11;
        // Rows without pads, with one, with all but one, all pads, and equal counts; in no
        // order, so the shard reorders them.
        let pads = [0, 3, 11, 10, 5, 5, 1, 0, 11, 7, 2, 9, 0];
        let labels: Vec<f32> = (0..pads.len()).map(|i| (i % 2) as f32).collect();
        for kernel in Kernel::available() {
            for (i, cell) in CELLS.into_iter().enumerate() {
                for input in [Input::Embedding { width: 6 }, Input::OneHot] {
                    let spec = Spec {
                        cell,
                        units: 5 + 4 * i,
                        vocab: 9,
                        input,
                        seq_len,
                    };
                    let w = NetWeights::seeded(spec, 3 + i as u64, 0.8);
                    let ids = padded(&pads, seq_len, 9, 7 + i as u64);
                    let all = run(&w, kernel, &ids, &labels, false);
                    let shared = run(&w, kernel, &ids, &labels, true);
                    let what = format!("{spec} on {}", kernel.name());
                    assert_eq!(shared.order, [0, 7, 12, 6, 10, 1, 4, 5, 9, 11, 3, 2, 8]);
                    assert_eq!(
                        shared.probs.iter().map(|p| p.to_bits()).collect::<Vec<_>>(),
                        all.probs.iter().map(|p| p.to_bits()).collect::<Vec<_>>(),
                        "{what}: probabilities"
                    );
                    assert_eq!(shared.loss_sum.to_bits(), all.loss_sum.to_bits(), "{what}");
                    let (g1, g0) = (gradient(&shared), gradient(&all));
                    assert_eq!(g1.len(), g0.len(), "{what}");
                    let scale = g0.iter().fold(0f32, |m, x| m.max(x.abs()));
                    assert!(scale > 1e-4, "{what}: a gradient of {scale}");
                    for (k, (a, b)) in g1.iter().zip(&g0).enumerate() {
                        assert!(
                            (a - b).abs() <= 1e-5 * scale,
                            "{what}: gradient entry {k}: {a} shared, {b} without (scale {scale})"
                        );
                    }
                }
            }
        }
    }
}
