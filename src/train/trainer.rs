//! One training step over a batch: split it into shards of [`LANES`] sequences, run the shards
//! in parallel ([`Shard::run`]), reduce their gradients in shard order, update with RMSprop.
//!
//! # Input projection and its gradient
//!
//! | case                     | `x_t·W + b` per (sequence, step)       | back to the parameters                  |
//! |--------------------------|----------------------------------------|-----------------------------------------|
//! | embedding, no dropout    | row of the folded table `T = E·W + b`  | `δT[v] = Σ δz` over the steps with token `v`; `δW = Eᵀ·δT`, `δE = δT·Wᵀ` (two products per batch) |
//! | embedding, dropout       | `X' = E[v] ⊙ mask` and `X'·W + b` once per lane and distinct token `v` (a product per shard `[rows, EMBED]·[EMBED, G]`) | `δz` summed per lane and token; `δW = X'ᵀ·δZ`, `δX' = δZ·Wᵀ` (two per shard, over the same rows), `δE[v] += δX' ⊙ mask` |
//! | one-hot                  | `K[token]·mask[token] + b`             | `δK[token] += δz·mask[token]`           |
//!
//! `δb = Σ δz` in every case. The products whose right operand is contiguous run on the
//! kernel's register tiles ([`Kernel::rows_product`]); `X'ᵀ·δZ` on `matrixmultiply`. With
//! dropout 0.3 that took a one-thread epoch from 0.219 to 0.195 s (Intel Xeon family 6 model
//! 207, AVX-512, `examples/train_speed 2 0.3`, fastest of two alternating runs each).
//!
//! With dropout the rows of those three products were one per (sequence, step), 1,600 a
//! shard. The mask is the same at every step of a sequence, so a sequence's repeated tokens
//! have the same `X'` row and the same product: the rows are now one per (sequence, distinct
//! token), 46 of 100 on average on the shared IMDB data (`TokenRows`), and the backward pass
//! sums each token's `δz` over its steps into its row (the shard kernel's accumulate mode).
//! The same sums in another order, so the last bits move; `tests/train.rs` holds the gradient
//! to the f64 reference as before. One LSTM(8, dropout=0.3) epoch (AMD EPYC Zen 4, family 25
//! model 17, AVX-512, fastest of 3, two alternations): one thread 0.171–0.189 → 0.137–0.138 s
//! (−20 %); two threads, five alternations on a noisy machine, 0.092–0.134 → 0.077–0.100 s.
//!
//! # Determinism
//!
//! Shard boundaries depend only on the batch (every [`LANES`] rows), each shard is computed by
//! one thread from read-only inputs, and the reduction runs on the calling thread in shard
//! order. So the gradient, and the weights after any number of steps, are bit-identical for any
//! number of threads.
//!
//! The per-batch work on the folded table, the fold `T = E·W + b` before the shards and, after
//! them, the sum of the shards' `δT` with `δE = δT·Wᵀ` and `δW = Eᵀ·δT`, runs in parallel too,
//! over fixed blocks of [`ROW_BLOCK`] vocabulary rows: the blocks depend only on the vocabulary,
//! `δT` and `δE` of a row are computed within its block, and `δW` is summed from the blocks'
//! partial products in block order, so this also gives the same bits on any number of threads.
//! (Serial, these passes left the second thread idle for a large share of every batch.)
//!
//! # Where an epoch goes (Golden Cove, 2026-12-06)
//!
//! One notebook LSTM epoch (`fit`, 313 batches of 64, then 5,000 validation reviews), with
//! timers around each phase in scratch builds whose totals matched main's; the phases of the
//! fastest of 10–15 epochs in one process, three to five runs each in the first half hour
//! (later runs, with the host busier, were up to 50 % slower and are left out). The machine: a
//! 2-core Intel Xeon under KVM (family 6 model 167), AVX-512 kernel, 3.59 GHz; the same
//! epoch measured 55.5 ms (criterion's median) on a quieter day. Milliseconds:
//!
//! ```text
//!                                   1 thread       2 threads
//!   epoch                           99.4–107.5     61.4–63.9
//!   fold T = E·W + b                 2.1–2.4        2.3–2.6
//!   shards, forward + backward      75.8–81.4      42.6–44.9
//!     of which forward              36.8–39.8
//!              backward             39.0–40.1
//!              zeroing each δT       1.6–1.8
//!   δT sum, δE, δW (reduce)          8.0–8.8        5.9–6.6
//!     of which δT sum                3.2–3.8
//!              δE = δT·Wᵀ            2.7–2.8
//!              δW = Eᵀ·δT            1.4–1.6
//!   RMSprop (serial)                 1.4–1.5        1.6–1.9
//!   validation                       8.1–9.1        4.3–4.9
//!   assembling the batches           2.3–3.3        1.8–2.4
//! ```
//!
//! A shard's forward step (16 sequences) takes ~1,100 cycles, where the inference batch's
//! block-step takes ~800 with the same FMAs, activations and gather; the forward adds the
//! tape's 56 vector stores and the loads of `h` and `c` back from it. On 2 threads the shards
//! phase is 42.6–44.9 ms where half the 1-thread one is 38–41: each shard's `run_from` took
//! 4–7 % longer (the two cores share the last-level cache, and the host), plus the zeroing and
//! the join.
//!
//! Tried and not kept, same tools:
//!
//! - *Two shards' forwards on one thread, their steps alternating* (as the inference batch
//!   alternates two blocks, so that one block's dependency chain overlaps the other's work; one
//!   AVX-512 shard is a single 16-lane chain): on 1 thread, forward 38.3–38.9 ms against
//!   38.2–39.8 for one shard at a time, in the same build behind a run-time switch. The forward
//!   step is not waiting on its chain.
//! - *RMSprop over parallel blocks* for this 8,809-parameter model (blocks of 4,500 or 2,048
//!   instead of serial below [`RmsProp::BLOCK`]): 1.5–1.7 and 2.3–2.5 ms against 1.8–2.3 on 2
//!   threads, within the noise.
//! - *The next batch's rows prefetched* (`_mm_prefetch` before each batch trains, so that
//!   assembling the next one finds them in cache): the most it could save, the assembly's
//!   ~2 ms, was below that hour's epoch-to-epoch noise (±8 ms over eight alternations), so it
//!   could not be verified.
//!
//! The 0.05 s target of issue 16 (set for Zen 5) needs ~20 % off the 2-thread epoch of that
//! hour (10 % off the quieter day's); the phases outside the shards are ~30 % of it, the
//! largest of them (the reduce) ~10 %.

// Index loops over lanes, steps and columns read like the equations.
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;

use super::bptt::{LANES, Rows, Shard};
use super::first_seen::FirstSeen;
use super::init::{SplitMix64, hash_words};
use super::params::{Layout, Params};
use super::rmsprop::RmsProp;
use crate::kernels::gemm::sgemm_tn;
use crate::kernels::{Kernel, LineFloats, RowsInit};
use crate::shape::{EMBED, HIDDEN, SEQ_LEN};

/// Vocabulary rows per block of the table passes (fold, `δT` sum, `δE`, `δW` partials): fixed,
/// so the blocks, and every sum's order, never depend on the number of threads.
pub const ROW_BLOCK: usize = 64;

/// Loss and accuracy counts of one batch, with the weights before its update.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BatchStats {
    /// Sum of per-sample losses.
    pub loss_sum: f64,
    pub correct: usize,
    pub count: usize,
}

/// Keras' input dropout mask of one sequence: `[in_dim]` factors, `0` with probability `rate`,
/// else `1 / (1 − rate)`, drawn from the counter-based stream `key` (in training: a hash of the
/// seed, the epoch and the row). Keras 3 (`DropoutRNNCell.get_dropout_mask`, with
/// `recurrent_dropout = 0`) draws one mask of the step input's shape `[batch, in_dim]` per
/// batch, shares it between the four LSTM gates and reuses it at every step.
pub fn dropout_scales(rate: f32, key: u64, out: &mut [f32]) {
    let keep = 1.0 - f64::from(rate);
    let scale = (1.0 / keep) as f32;
    let mut rng = SplitMix64::new(key);
    for s in out.iter_mut() {
        *s = if rng.next_f64() < keep { scale } else { 0.0 };
    }
}

/// The dropout key of one row in one epoch.
pub fn dropout_key(seed: u64, epoch: usize, row: usize) -> u64 {
    hash_words(&[seed, 0xD0, epoch as u64, row as u64])
}

/// Parameters, optimizer state and reusable buffers.
#[derive(Clone, Debug)]
pub struct Trainer {
    pub params: Params,
    pub optimizer: RmsProp,
    /// Input dropout rate in `[0, 1)`.
    pub dropout: f32,
    kernel: Kernel,
    shards: Vec<Shard>,
    /// `[G, EMBED]` = Wᵀ.
    kernel_t: Vec<f32>,
    /// `[vocab, G]` folded table (no-dropout paths).
    table: LineFloats,
    /// `[vocab, G]` table gradient.
    d_table: LineFloats,
    /// Per block of [`ROW_BLOCK`] rows, `[EMBED, G]`: the block's share `E_blkᵀ·δT_blk` of `δW`.
    d_kernel_parts: Vec<f32>,
    /// Per shard `[LANES, in_dim]` dropout factors.
    scales: Vec<Vec<f32>>,
    /// Per shard, dropout with an embedding: `X'` `[rows, EMBED]` (a row per lane and distinct
    /// token of the lane: [`TokenRows`]), `δX'` and the shard's `δW` `[EMBED, G]` (`X'ᵀ·δZ` read
    /// from `X'` by strides, no transposed copy).
    x_drop: Vec<[Vec<f32>; 3]>,
    /// Per shard, its (lane, distinct token) rows (dropout with an embedding).
    token_rows: Vec<TokenRows>,
    /// Per shard, its input gradient: `δT` `[vocab, G]` (no dropout), `δK` `[vocab, G]`
    /// (one-hot) or `δE` `[vocab, EMBED]` (dropout with an embedding). Scattered in parallel,
    /// summed in shard order.
    d_inputs: Vec<Vec<f32>>,
    grad: Vec<f32>,
}

impl Trainer {
    /// A trainer for `params` with RMSprop(`lr`) and input dropout `dropout` (0 = none),
    /// activations from `kernel`.
    pub fn new(params: Params, lr: f32, dropout: f32, kernel: Kernel) -> Trainer {
        let n = params.layout.len();
        Trainer {
            optimizer: RmsProp::new(n, lr),
            params,
            dropout,
            kernel,
            shards: Vec::new(),
            kernel_t: Vec::new(),
            table: LineFloats::default(),
            d_table: LineFloats::default(),
            d_kernel_parts: Vec::new(),
            scales: Vec::new(),
            x_drop: Vec::new(),
            token_rows: Vec::new(),
            d_inputs: Vec::new(),
            grad: vec![0.0; n],
        }
    }

    pub fn layout(&self) -> Layout {
        self.params.layout
    }

    /// The gradient of the last [`Self::compute_gradient`] (flat [`Layout`]).
    pub fn gradient(&self) -> &[f32] {
        &self.grad
    }

    /// One RMSprop update with the last gradient.
    pub fn apply_gradient(&mut self) {
        self.optimizer
            .step_on(self.kernel, &mut self.params.values, &self.grad);
    }

    /// Forward + backward + update on one batch: what Keras' `train_on_batch` does.
    pub fn train_batch(
        &mut self,
        seqs: &[[u16; SEQ_LEN]],
        labels: &[u8],
        dropout_keys: Option<&[u64]>,
    ) -> BatchStats {
        let stats = self.compute_gradient(seqs, labels, dropout_keys);
        self.apply_gradient();
        stats
    }

    /// The gradient of the batch's mean loss, on the current rayon pool. With `dropout > 0`,
    /// `dropout_keys` gives each sequence's mask key (see [`dropout_scales`]); `None` means no
    /// dropout (inference-mode inputs).
    ///
    /// # Panics
    /// If lengths differ, the batch is empty, or a token is `≥ vocab`.
    pub fn compute_gradient(
        &mut self,
        seqs: &[[u16; SEQ_LEN]],
        labels: &[u8],
        dropout_keys: Option<&[u64]>,
    ) -> BatchStats {
        assert_eq!(seqs.len(), labels.len(), "one label per sequence");
        assert!(!seqs.is_empty(), "an empty batch has no mean loss");
        let keys = if self.dropout > 0.0 {
            dropout_keys
        } else {
            None
        };
        if let Some(k) = keys {
            assert_eq!(k.len(), seqs.len(), "one dropout key per sequence");
        }
        let n_shards = seqs.len().div_ceil(LANES);
        self.grow_shards(n_shards);
        self.prepare_input_weights(keys.is_some());
        self.run_shards(seqs, labels, keys);
        self.reduce(seqs.len(), keys.is_some())
    }

    /// Buffers for at least `n_shards` shards (kept from batch to batch).
    fn grow_shards(&mut self, n_shards: usize) {
        let layout = self.params.layout;
        let (g, in_dim) = (layout.gates(), layout.in_dim());
        while self.shards.len() < n_shards {
            self.shards.push(Shard::new(g));
            self.scales.push(vec![0.0; LANES * in_dim]);
            self.d_inputs.push(Vec::new());
            self.x_drop.push([
                vec![0.0; LANES * SEQ_LEN * EMBED],
                vec![0.0; LANES * SEQ_LEN * EMBED],
                vec![0.0; EMBED * g],
            ]);
            self.token_rows.push(TokenRows::default());
        }
    }

    /// What the shards read besides the weights: `Wᵀ` (with an embedding) and, unless dropout
    /// masks an embedding's output, the folded table `T = E·W + b` (or `K + b` for one-hot input).
    fn prepare_input_weights(&mut self, dropout: bool) {
        let layout = self.params.layout;
        let (g, vocab) = (layout.gates(), layout.vocab);
        let p = &self.params.values;
        let (emb, ker) = (&p[layout.embedding()], &p[layout.kernel()]);
        let bias = &p[layout.bias()];
        if layout.has_embedding() {
            // Wᵀ [G, EMBED].
            self.kernel_t.resize(g * EMBED, 0.0);
            for e in 0..EMBED {
                for col in 0..g {
                    self.kernel_t[col * EMBED + e] = ker[e * g + col];
                }
            }
        }
        let fold = !dropout || !layout.has_embedding();
        let kernel = self.kernel;
        if fold {
            let has_embedding = layout.has_embedding();
            self.table.resize(vocab * g);
            self.table
                .par_chunks_mut(ROW_BLOCK * g)
                .enumerate()
                .for_each(|(b, out)| {
                    let (lo, rows) = (b * ROW_BLOCK, out.len() / g);
                    if has_embedding {
                        let e = &emb[lo * EMBED..(lo + rows) * EMBED];
                        kernel.rows_product(rows, EMBED, g, e, ker, RowsInit::Row(bias), out);
                    } else {
                        for row in out.chunks_exact_mut(g) {
                            row.copy_from_slice(bias);
                        }
                        add(out, &ker[lo * g..(lo + rows) * g]);
                    }
                });
        }
    }

    /// Forward and backward of every shard, in parallel; each shard writes only its own buffers.
    fn run_shards(&mut self, seqs: &[[u16; SEQ_LEN]], labels: &[u8], keys: Option<&[u64]>) {
        let layout = self.params.layout;
        let p = &self.params.values;
        let batch = BatchView {
            seqs,
            labels,
            keys,
            layout,
            emb: &p[layout.embedding()],
            ker: &p[layout.kernel()],
            bias: &p[layout.bias()],
            rec: &p[layout.recurrent()],
            dense: p[layout.dense_kernel()].try_into().expect("HIDDEN"),
            dense_bias: p[layout.dense_bias()],
            table: &self.table,
            kernel_t: &self.kernel_t,
            kernel: self.kernel,
            dropout: self.dropout,
            inv_n: 1.0 / seqs.len() as f32,
        };
        let n_shards = seqs.len().div_ceil(LANES);
        self.shards[..n_shards]
            .par_iter_mut()
            .zip(&mut self.scales[..n_shards])
            .zip(&mut self.x_drop[..n_shards])
            .zip(&mut self.d_inputs[..n_shards])
            .zip(&mut self.token_rows[..n_shards])
            .enumerate()
            .for_each(|(k, ((((shard, scales), xd), d_in), rows))| {
                batch.run_shard(k, shard, scales, xd, d_in, rows)
            });
    }

    /// Sums the shards' gradients in shard order (the determinism above) into `self.grad`, and
    /// their loss and accuracy counts.
    fn reduce(&mut self, count: usize, dropout: bool) -> BatchStats {
        let layout = self.params.layout;
        let n_shards = count.div_ceil(LANES);
        let grad = &mut self.grad;
        grad.fill(0.0);
        let mut stats = BatchStats {
            count,
            ..BatchStats::default()
        };
        let by_table = !dropout && layout.has_embedding();
        for k in 0..n_shards {
            let shard = &self.shards[k];
            stats.loss_sum += shard.loss_sum;
            stats.correct += shard.correct;
            add(&mut grad[layout.recurrent()], &shard.d_rec);
            add(&mut grad[layout.bias()], &shard.d_bias);
            add(&mut grad[layout.dense_kernel()], &shard.d_dense);
            grad[layout.dense_bias()] += shard.d_dense_bias;
            if !by_table && layout.has_embedding() {
                add(&mut grad[layout.kernel()], &self.x_drop[k][2]);
            }
        }
        if by_table {
            self.table_gradient_to_weights(n_shards);
            return stats;
        }
        // The shards' input gradients (`[vocab, width]` each), summed in shard order; in
        // parallel over blocks of rows, which keeps that order for every element.
        let d_inputs = &self.d_inputs[..n_shards];
        let target: &mut [f32] = if layout.has_embedding() {
            &mut grad[layout.embedding()]
        } else {
            &mut grad[layout.kernel()]
        };
        sum_in_order(target, d_inputs);
        stats
    }

    /// From the shards' table gradients to the weights', in parallel over blocks of
    /// [`ROW_BLOCK`] vocabulary rows: per block, `δT_blk = Σ_k δT_k[blk]` (shard order),
    /// `δE_blk = δT_blk·Wᵀ` (`[rows, G]·[G, EMBED]`) and the block's share `E_blkᵀ·δT_blk` of
    /// `δW`; then `δW` = the shares summed in block order.
    fn table_gradient_to_weights(&mut self, n_shards: usize) {
        let layout = self.params.layout;
        let (g, vocab) = (layout.gates(), layout.vocab);
        let blocks = vocab.div_ceil(ROW_BLOCK);
        let emb = &self.params.values[layout.embedding()];
        let d_inputs = &self.d_inputs[..n_shards];
        let (kernel_t, kernel) = (&self.kernel_t, self.kernel);
        self.d_table.resize(vocab * g);
        self.d_kernel_parts.resize(blocks * EMBED * g, 0.0);
        let d_emb = &mut self.grad[layout.embedding()];
        self.d_table
            .par_chunks_mut(ROW_BLOCK * g)
            .zip(d_emb.par_chunks_mut(ROW_BLOCK * EMBED))
            .zip(self.d_kernel_parts.par_chunks_mut(EMBED * g))
            .enumerate()
            .for_each(|(b, ((d_t, d_e), d_w))| {
                let (lo, rows) = (b * ROW_BLOCK, d_t.len() / g);
                d_t.fill(0.0);
                for part in d_inputs {
                    add(d_t, &part[lo * g..(lo + rows) * g]);
                }
                kernel.rows_product(rows, g, EMBED, d_t, kernel_t, RowsInit::Zero, d_e);
                // δW_blk = E_blkᵀ·δT_blk, E_blk read in place as the transposed operand.
                let e = &emb[lo * EMBED..(lo + rows) * EMBED];
                kernel.rows_product_tn(EMBED, rows, g, e, d_t, RowsInit::Zero, d_w);
            });
        let d_ker = &mut self.grad[layout.kernel()];
        d_ker.fill(0.0);
        for part in self.d_kernel_parts.chunks_exact(EMBED * g) {
            add(d_ker, part);
        }
    }
}

/// What every shard of one batch reads: the batch, the weights and the prepared tables.
struct BatchView<'a> {
    seqs: &'a [[u16; SEQ_LEN]],
    labels: &'a [u8],
    keys: Option<&'a [u64]>,
    layout: Layout,
    emb: &'a [f32],
    ker: &'a [f32],
    bias: &'a [f32],
    rec: &'a [f32],
    dense: [f32; HIDDEN],
    dense_bias: f32,
    table: &'a [f32],
    kernel_t: &'a [f32],
    kernel: Kernel,
    dropout: f32,
    inv_n: f32,
}

impl BatchView<'_> {
    /// Shard `k`: load its rows and dropout factors, project its inputs, run forward and backward,
    /// and scatter its input gradient into `d_in`.
    fn run_shard(
        &self,
        k: usize,
        shard: &mut Shard,
        scales: &mut [f32],
        xd: &mut [Vec<f32>; 3],
        d_in: &mut Vec<f32>,
        token_rows: &mut TokenRows,
    ) {
        let (layout, keys) = (self.layout, self.keys);
        let (g, in_dim) = (layout.gates(), layout.in_dim());
        let lo = k * LANES;
        let hi = (lo + LANES).min(self.seqs.len());
        shard.active = hi - lo;
        for l in 0..LANES {
            let r = lo + l;
            if r < hi {
                shard.tokens[l] = self.seqs[r];
                shard.labels[l] = f32::from(self.labels[r]);
            } else {
                shard.tokens[l] = [0; SEQ_LEN];
                shard.labels[l] = 0.0;
            }
            let sc = &mut scales[l * in_dim..(l + 1) * in_dim];
            match keys {
                Some(keys) if r < hi => dropout_scales(self.dropout, keys[r], sc),
                _ => sc.fill(1.0),
            }
        }
        if keys.is_none() {
            // The folded table read in place and its gradient accumulated by token, inside the
            // shard kernels (see `kernels::bptt`).
            d_in.clear();
            d_in.resize(layout.vocab * g, 0.0);
            shard.run_from(
                layout.arch,
                self.kernel,
                self.rec,
                &self.dense,
                self.dense_bias,
                self.inv_n,
                Rows::Table(self.table, d_in),
            );
            return;
        }
        if layout.has_embedding() {
            self.run_dropout_shard(shard, scales, xd, d_in, token_rows);
            return;
        }
        fill_one_hot_xproj(shard, layout, self.ker, self.bias, scales);
        shard.run(
            layout.arch,
            self.kernel,
            self.rec,
            &self.dense,
            self.dense_bias,
            self.inv_n,
        );
        scatter_one_hot_grad(shard, layout, scales, d_in);
    }

    /// A shard with input dropout after an embedding: the dropped-out inputs `X'` (and so their
    /// products) depend on the lane's mask, so they cannot come from the folded table, but a
    /// lane's repeated tokens share them. So `X'`, `X'·W + b`, `δZ`, `δW = X'ᵀ·δZ` and
    /// `δX' = δZ·Wᵀ` run over one row per lane and distinct token ([`TokenRows`]: 46 of 100
    /// steps on average on the shared IMDB data), and `δE[tok] += δX' ⊙ mask` per row.
    fn run_dropout_shard(
        &self,
        shard: &mut Shard,
        scales: &[f32],
        xd: &mut [Vec<f32>; 3],
        d_in: &mut Vec<f32>,
        token_rows: &mut TokenRows,
    ) {
        let (layout, g) = (self.layout, self.layout.gates());
        let n = token_rows.assign(shard, layout.vocab);
        let [x, dx, dw] = xd;
        let (x, dx) = (&mut x[..n * EMBED], &mut dx[..n * EMBED]);
        // Rows as `[f32; EMBED]` (whole-row vector operations, one bounds check a row).
        let emb = self.emb.as_chunks::<EMBED>().0;
        let masks = scales.as_chunks::<EMBED>().0;
        let x_rows = x.as_chunks_mut::<EMBED>().0;
        for (l, sc) in masks.iter().enumerate().take(LANES) {
            for r in token_rows.lane_start[l]..token_rows.lane_start[l + 1] {
                let e_row = &emb[usize::from(token_rows.tokens[r])];
                x_rows[r] = std::array::from_fn(|e| e_row[e] * sc[e]);
            }
        }
        self.kernel.rows_product(
            n,
            EMBED,
            g,
            x,
            self.ker,
            RowsInit::Row(self.bias),
            &mut shard.xproj[..n * g],
        );
        shard.run_from(
            layout.arch,
            self.kernel,
            self.rec,
            &self.dense,
            self.dense_bias,
            self.inv_n,
            Rows::Lanes(n),
        );
        // δW_shard = X'ᵀ·δZ, δX' = δZ·Wᵀ.
        let dz = &shard.dz[..n * g];
        sgemm_tn(EMBED, n, g, x, dz, 0.0, dw);
        self.kernel
            .rows_product(n, g, EMBED, dz, self.kernel_t, RowsInit::Zero, dx);
        d_in.clear();
        d_in.resize(layout.vocab * EMBED, 0.0);
        let d_emb = d_in.as_chunks_mut::<EMBED>().0;
        let dx_rows = dx.as_chunks::<EMBED>().0;
        for (l, sc) in masks.iter().enumerate().take(shard.active) {
            for r in token_rows.lane_start[l]..token_rows.lane_start[l + 1] {
                let (out, d) = (&mut d_emb[usize::from(token_rows.tokens[r])], &dx_rows[r]);
                for e in 0..EMBED {
                    out[e] += d[e] * sc[e];
                }
            }
        }
    }
}

/// A shard's rows of (lane, distinct token), in the order the tokens first appear in each lane;
/// reused from batch to batch.
#[derive(Clone, Debug, Default)]
struct TokenRows {
    /// Token of each row.
    tokens: Vec<u16>,
    /// Lane `l`'s rows are `lane_start[l]..lane_start[l + 1]`.
    lane_start: [usize; LANES + 1],
    seen: FirstSeen,
}

impl TokenRows {
    /// Assigns the rows of `shard`'s lanes, writes `shard.lane_rows`, and returns the number
    /// of rows (at most `LANES · SEQ_LEN`).
    fn assign(&mut self, shard: &mut Shard, vocab: usize) -> usize {
        self.tokens.clear();
        for l in 0..LANES {
            self.lane_start[l] = self.tokens.len();
            self.seen.next_sequence(vocab);
            for t in 0..SEQ_LEN {
                let tok = shard.tokens[l][t];
                let (row, new) = self.seen.row(usize::from(tok), self.tokens.len() as u32);
                if new {
                    self.tokens.push(tok);
                }
                shard.lane_rows[l][t] = u16::try_from(row).expect("LANES·SEQ_LEN rows");
            }
        }
        self.lane_start[LANES] = self.tokens.len();
        self.tokens.len()
    }
}

fn add(acc: &mut [f32], x: &[f32]) {
    acc.iter_mut().zip(x).for_each(|(a, b)| *a += b);
}

/// `acc += Σ_k parts[k]`, each element summed in the order of `parts` (so the result does not
/// depend on the number of threads), in parallel over blocks of elements.
fn sum_in_order(acc: &mut [f32], parts: &[Vec<f32>]) {
    const BLOCK: usize = 2048;
    acc.par_chunks_mut(BLOCK).enumerate().for_each(|(b, out)| {
        let lo = b * BLOCK;
        for part in parts {
            add(out, &part[lo..lo + out.len()]);
        }
    });
}

/// One-hot input with dropout: `δK[tok] += δz·mask[tok]` of every active lane and step (see
/// the module table), in the shard's thread, into the shard's own buffer.
fn scatter_one_hot_grad(shard: &Shard, layout: Layout, scales: &[f32], d_in: &mut Vec<f32>) {
    let (g, in_dim, vocab) = (layout.gates(), layout.in_dim(), layout.vocab);
    d_in.clear();
    d_in.resize(vocab * g, 0.0);
    for l in 0..shard.active {
        for t in 0..SEQ_LEN {
            let tok = usize::from(shard.tokens[l][t]);
            let r = l * SEQ_LEN + t;
            let out = &mut d_in[tok * g..(tok + 1) * g];
            let dz = &shard.dz[r * g..(r + 1) * g];
            let s = scales[l * in_dim + tok];
            for col in 0..g {
                out[col] += dz[col] * s;
            }
        }
    }
}

/// One-hot input with dropout: a shard's `x_t·K + b` rows, `K[tok]·mask[tok] + b` (see the
/// module table).
fn fill_one_hot_xproj(
    shard: &mut Shard,
    layout: Layout,
    ker: &[f32],
    bias: &[f32],
    scales: &[f32],
) {
    let (g, in_dim) = (layout.gates(), layout.in_dim());
    for l in 0..LANES {
        for t in 0..SEQ_LEN {
            let tok = usize::from(shard.tokens[l][t]);
            let s = scales[l * in_dim + tok];
            let row = &mut shard.xproj[(l * SEQ_LEN + t) * g..][..g];
            let k = &ker[tok * g..(tok + 1) * g];
            for col in 0..g {
                row[col] = k[col] * s + bias[col];
            }
        }
    }
}
