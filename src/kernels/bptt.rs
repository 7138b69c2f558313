//! The training shard's forward and backward passes: [`LANES`] sequences side by side, one per
//! lane, as two operations through the dispatch door ([`ShardForward`], [`ShardBackward`]; the
//! loss between them is the trainer's).
//!
//! Every per-step quantity is stored as `[f32; LANES]` (one value per sequence: one 512-bit
//! vector, or two 256-bit ones). The equations are those of `train::reference`; this file only
//! changes the layout:
//!
//! ```text
//! xproj  [rows, G]            x_t·W + b of (lane l, step t) in row index[l][t]  (input to the shard)
//! acts   [SEQ_LEN][G] lanes   activations i, f, g, o (LSTM) or h_t (RNN)
//! hs, cs [SEQ_LEN+1][HIDDEN] lanes, tcs = tanh(c_t)
//! dz     [rows, G]            ∂loss/∂z of (lane l, step t) into row index[l][t]: what the caller
//!                             turns into δW, δE, δK
//! ```
//!
//! The index is either [`IDENTITY`] (a shard's own `[LANES·SEQ_LEN, G]` buffers, row
//! `l·SEQ_LEN + t`) or the shard's tokens: then `xproj` is the folded table `T = E·W + b` itself,
//! read in place, and `dz` is the shard's table gradient `δT`, to which the backward pass adds
//! each active lane's `δz` (no per-shard copy of the rows, no second pass to scatter them).
//!
//! The recurrent-kernel gradient `δU = Σ_t h_{t-1}ᵀ δz_t` is accumulated per lane and summed
//! over the lanes at the end in lane order, so a shard's result never depends on which thread
//! ran it.
//!
//! # Two bodies
//!
//! - The vector body (`Op::run`), written once over [`Isa`]: the ISA holds all 16 sequences in
//!   one zmm vector (AVX-512) or 8 of them (AVX2+FMA, `wide`), and then the step runs on the
//!   two halves one after the other (two independent chains the out-of-order core overlaps).
//!   Each lane array lives in one register, `U[j][col]` is a broadcast from L1, products are
//!   FMAs where the CPU has them, the activations are the batch kernels' forms
//!   (`sigmoid_batch_n`, `tanh_batch_n`: stage by stage across the units), and the row layouts
//!   of `xproj` and `dz` meet the lane layout through 16×8 (AVX-512) or 8×8 transposes.
//! - The reference body (`Op::reference`): the same steps as plain `[f32; LANES]` loops with the
//!   standard library's `exp`/`tanh`. It is the readable twin, and 3× slower.
//!
//! # Shard size and bits (issue 16 item 6)
//!
//! A shard is 16 sequences on every kernel (it was 8: one ymm), so a batch of 64 is 4 shards.
//! The shard size fixes the order of the gradient sums (lanes within a shard, then the shards
//! in order), and it does not depend on the kernel or the number of threads: every kernel
//! gives the same bits on 1 or 2 threads (the contract). Every lane is computed by the same
//! operations on either width, and every kernel's `Isa::recip` is the division, so AVX-512
//! and AVX2+FMA train to the same bits (`tests/train.rs`: `avx512_trains_to_avx2_bits`).
//! (AVX-512 took `1/d` from `vrcp14ps` and a Newton step until 2026-12-04: no divider, three
//! FMA-pipe µops, a few ulps from AVX2's gradients. With the division the AVX-512 shards of a
//! batch measured 231.3–243.0 µs against 231.4–251.3 on Zen 4, no slower, and a model trained
//! on an AVX-512 server now has the bits of one trained on an AVX2 laptop.)
//!
//! # Where the time goes (AMD EPYC Zen 5, family 26 model 2, avx512 kernel, 2026-12-02)
//!
//! `examples/train_speed`, fastest of windows, old (8-lane shards on ymm, divisions) and new
//! binaries alternated three times in one shell on a machine loaded 10–16 by other builds: the
//! shards' forward + backward of a batch of 64 went from 328 µs (8 shards of 8) to 238 µs
//! (4 shards of 16), 1.38×; the one-thread batch of 64 (gradient + RMSprop) from 382 µs to
//! 273 µs, 1.40×. (The epoch times of that run, 1.2 s against 0.6 s, measured the load, not
//! the trainer; the quiet baseline of the old code was 0.090 s on 2 threads.) The step's FP
//! work is the same per sequence, but one zmm instruction now does 16 sequences' worth, and no
//! activation waits on the divider. The AVX2+FMA kernel forced on the same CPU lost: shards
//! 328–334 µs → 348–367 µs (5–10 %, two alternations), the price of running each step as two
//! ymm halves; not yet looked into.
//! What is left per 16-lane shard-step (~60 µs / 100 steps ≈ 2200 cycles fwd + bwd at
//! 3.75 GHz): the forward's 256 FMAs of `h·U` plus 40 activations (~15 µops each), the
//! backward's 256 FMAs of `δh = δz·Uᵀ` and 256 of `δU`, the 16×8 transposes of the table rows
//! and the 2 × 8×8 transposes per 8 columns of `δz`, and the scatter-add of `δz` into `δT`.
//!
//! # Alignment (Intel Xeon family 6 model 207, 2 cores, KVM, 2026-12-03)
//!
//! The tape's lane arrays are one cache line each ([`LineRows`]), and the shard's `xproj`/`dz`
//! and the trainer's folded table and its gradient start a line (`LineFloats`). As `Vec`s they
//! started wherever the allocator put them: the tape's `acts` (200 KiB) 0, 16, 32 or 48 bytes
//! past a line in the runs printed, and where it was off a line every 64-byte lane array it
//! held split across two lines (on AVX2, one half of every two).
//!
//! - In one process, the same build's buffers on a line boundary against 16 bytes off,
//!   alternated call by call (fastest of 1,500; bits identical): one LSTM shard forward +
//!   backward 74 µs against 106–109 µs with AVX-512 (32 bytes off: the same), 129–131 against
//!   143–148 µs with AVX2+FMA; SimpleRNN +3–5 %. (Measured with a view of the tape that checked
//!   its length on every access; the pointer cast [`LineRows`] has now took the aligned shard
//!   from 74 to 66 µs.)
//! - Against the build before (its `acts` 16 bytes off in each shard run), the two binaries
//!   alternated four times: LSTM shard 66–67 µs in three runs (90 in one) against 86–95 µs;
//!   SimpleRNN 69–74 against 72–74 µs; one notebook LSTM epoch on 2 threads, fastest of 3
//!   per run, 0.090–0.127 s against 0.117–0.146 s (a noisy machine: the ranges overlap).
//!
//! # The step's loops (Intel Xeon family 6 model 207, 2 cores, KVM, 2026-12-04)
//!
//! A `perf` profile of the LSTM shard showed the forward spending ~40 % of its samples on
//! scalar index arithmetic: every lane's table row was looked up once per block of 8 columns
//! (64 lookups and bounds checks per step), and the backward's scatter did the same. Now:
//!
//! - forward: each lane's row is looked up once per step; `h·U` keeps half the vector
//!   registers as column accumulators with the units outside (`recurrent_product`); the
//!   sigmoids run 8 units at a time; bits unchanged;
//! - backward: `δh = δz·Uᵀ` sums the LSTM's 32 columns in 4 interleaved partial sums
//!   (`d_hidden`; its critical path 8 FMAs, not 32; this changes the last bits, checked
//!   against the f64 reference like every kernel); the transposed `δz` goes into one row per
//!   lane, written to `dz` whole; `δU` is accumulated in tiles of `J` × 4 (`d_rec_tiles`, `J`
//!   by the register count: 4 with AVX-512, 2 with AVX2, 1 for the portable `f32x8` on SSE).
//!
//! Tried and measured against the alternative in one process (fastest of ~2,000 calls each):
//! the 4 partial sums made the SimpleRNN (8 columns) 3–4 % slower on every ISA, so it keeps
//! one chain; the compiler's loop adding a whole lane row into `dz` was 10 % slower on AVX2
//! and 5 % on the portable kernel than 8-float blocks by hand; `J = 2` on the portable kernel
//! and `J = 4` on AVX2 were 4 % and 7 % slower than `J = 1` and `J = 2`.
//!
//! One shard's forward + backward (16 sequences, the table path), the build before and this
//! one alternated twice, fastest of ~6,000 calls:
//!
//! | kernel | LSTM | SimpleRNN |
//! |---|---|---|
//! | AVX-512 | 69.5–69.9 → 55.8–56.0 µs | 65.5–65.6 → 64.4–64.5 µs |
//! | AVX2+FMA (forced) | 117.9–118.0 → 106.3–106.8 µs | 110.5–110.6 → 110.9 µs |
//! | portable `wide` (forced) | 252.8–254.2 → 247.4–249.2 µs | 252.9–253.0 → 255.7–256.8 µs |
//!
//! `examples/train_speed` (AVX-512), the two binaries alternated three times: the one-thread
//! batch of 64 372–384 → 301–312 µs, its 4 shards 347–370 → 274–295 µs; one `fit` epoch on one
//! thread 0.127–0.152 → 0.105–0.109 s, on two 0.081–0.100 → 0.073–0.105 s. Two threads gained
//! little because the second worker slept between the batch's fork-joins: timestamps of 939
//! batches showed the shards of a quarter of them all run by one thread, the other never
//! woken in time. `fit` now keeps the pool's other workers spinning while it runs
//! (`infer::with_busy_threads`): the two-thread epoch 0.073–0.107 → 0.066–0.088 s, the
//! builds alternated four times (the one-thread epoch 0.103 against 0.111 s in that run).
//!
//! # The backward's `δz` (AMD EPYC Zen 4, family 25 model 17, 2 cores, KVM, 2026-12-04)
//!
//! A `perf` profile of `examples/train_speed` showed `memset` and `memcpy` at 8 % of all
//! samples, called from the backward body every step: the step's `δz` was built in a
//! `[V; G]` array that the compiler kept on the stack (32 vectors do not fit in the registers
//! beside `δh`, `δc` and the cell's operands), zeroed by a `memset` call of 2 KiB and copied to
//! the tape by a `memcpy` call. Now each `δz` is stored to the tape as the cell computes it,
//! and `d_hidden` reads it back from there. `d_hidden` also runs its loops the other way
//! round: the columns outside, a group of `JG` units inside (4 with 32 registers, 2 with 16),
//! so that each `δz` vector is loaded once per group instead of once per unit. Each
//! accumulator still sums the same columns in the same order, so the bits are unchanged (the
//! gradient of a batch hashed equal on the AVX-512, AVX2 and portable kernels).
//!
//! The 4 shards of a batch of 64 (forward + backward, fastest of 300 windows, the builds
//! alternated three times, a noisy machine): AVX-512 241.6–251.5 → 234.3–236.2 µs (−4 %),
//! AVX2+FMA forced 372.7–383.6 → 351.9–370.3 µs (−4 %). The SimpleRNN's shards did not move
//! (their `δz` is 8 vectors, which fit in registers). One notebook LSTM `fit` epoch (AVX-512,
//! fastest of 10, three alternations, the `δz` store alone): 0.0559–0.0562 → 0.0531–0.0560 s
//! on two threads, 0.0958–0.0967 → 0.0922–0.0926 s on one.
//!
//! # What does not hold the shard (Golden Cove, family 6 model 167, 2026-12-06)
//!
//! One LSTM shard's forward + backward on the AVX-512 kernel takes ~1,800 cycles a step at
//! 3.59 GHz (a scratch example: the same shard run four times, fastest of 3 s; `perf`: the
//! forward and the backward ~44 % and ~42 % of the samples). As compiled, the forward's step is
//! ~2,000 instructions: ~680 FMAs and multiplies, ~190 adds, min and max, ~160 shuffles and
//! inserts of the gather, 40 divisions, ~430 scalar (the rows' lookups and bounds checks). Its
//! ~1,100 µops for the two 512-bit ports need ≥ 565 cycles; it takes ~900. Probes, each a
//! scratch build against main's, alternated three times (µs for the four shards of a batch;
//! main 200–204 µs in the same runs, 215–222 where the four shards were distinct):
//!
//! ```text
//!   the reciprocals by vrcp14ps + a Newton step, not the divider    210–221 (main 216–222)
//!   the sigmoids four units at a time instead of eight             200–206
//!   U pre-broadcast into 256 vectors, as the inference tables       212–215  (+6 %)
//!   the tape indexed by t mod 2 (all of it in L1; wrong values)    192–195  (−3 %)
//!   the transposed δz added straight into its rows, no staging     206–224
//! ```
//!
//! So neither the divider (40 zmm divisions a step, 423 cycles of its throughput, overlap the
//! ports' work), nor the tape's traffic to L2, nor the activations' grouping sets the pace; the
//! forward, like the inference kernels on this core, issues at ~63 % of its two ports' bound.

// Index loops over lanes, units and columns read like the equations.
#![allow(clippy::needless_range_loop)]

use super::activations::{sigmoid_batch, sigmoid_batch_n, tanh_batch_n};
use super::isa::{Isa, Op};
use super::lines::LineRows;
use super::reference;
use super::tables::{GATE_C, GATE_F, GATE_I, GATE_O};
use crate::shape::{GATES, HIDDEN, SEQ_LEN};

/// Sequences per shard: one per SIMD lane of a 512-bit vector (two 256-bit vectors on the
/// 8-lane ISAs).
pub const LANES: usize = 16;

/// One value per lane (per sequence of the shard).
pub(crate) type L = [f32; LANES];

const ZERO: L = [0.0; LANES];

/// A row of 8 columns, the unit of the 8×8 / 16×8 transposes.
const ROW0: [f32; HIDDEN] = [0.0; HIDDEN];

/// The `I::LANES` lanes of `l` from lane `half · I::LANES` (all of them on AVX-512, half on
/// the 8-lane ISAs).
#[inline(always)]
fn ld<I: Isa>(isa: I, l: &L, half: usize) -> I::V {
    isa.load_slice(&l[half * I::LANES..])
}

/// [`ld`]'s store.
#[inline(always)]
fn st<I: Isa>(isa: I, v: I::V, l: &mut L, half: usize) {
    isa.store_slice(v, &mut l[half * I::LANES..]);
}

/// The row index of a shard's own `[LANES·SEQ_LEN, G]` buffers: lane `l`, step `t` → row
/// `l·SEQ_LEN + t`.
pub(crate) const IDENTITY: [[u16; SEQ_LEN]; LANES] = {
    let mut idx = [[0u16; SEQ_LEN]; LANES];
    let mut l = 0;
    while l < LANES {
        let mut t = 0;
        while t < SEQ_LEN {
            idx[l][t] = (l * SEQ_LEN + t) as u16;
            t += 1;
        }
        l += 1;
    }
    idx
};

/// Checks that `table` is `[rows, g]` and that every index names one of its rows, so the bodies'
/// row slices are in bounds. Panics otherwise.
fn check_rows(table: &[f32], g: usize, index: &[[u16; SEQ_LEN]; LANES], what: &str) {
    assert_eq!(table.len() % g, 0, "{what}: [rows, G]");
    let max = index.as_flattened().iter().copied().max().unwrap_or(0);
    assert!(
        usize::from(max) < table.len() / g,
        "{what}: row {max} of {} rows",
        table.len() / g
    );
}

/// The forward pass's record of one shard, read back by the backward pass; reused from batch to
/// batch.
#[derive(Clone, Debug)]
pub(crate) struct Tape {
    /// Pre-activation columns per step: `GATES` (LSTM) or `HIDDEN` (SimpleRNN).
    g: usize,
    acts: LineRows,
    hs: LineRows,
    cs: LineRows,
    tcs: LineRows,
    /// `[SEQ_LEN][G]` lanes: the backward pass's `δz` per step, kept for `δU` and `δb`, which
    /// are summed after the steps (the accumulators in registers instead of memory).
    dzs: LineRows,
}

impl Tape {
    /// Buffers for `g` pre-activation columns (`GATES` or `HIDDEN`).
    pub(crate) fn new(g: usize) -> Tape {
        assert!(
            g == GATES || g == HIDDEN,
            "a shard has GATES or HIDDEN columns"
        );
        Tape {
            g,
            acts: LineRows::zeros(SEQ_LEN * g),
            hs: LineRows::zeros((SEQ_LEN + 1) * HIDDEN),
            cs: LineRows::zeros((SEQ_LEN + 1) * HIDDEN),
            tcs: LineRows::zeros(SEQ_LEN * HIDDEN),
            dzs: LineRows::zeros(SEQ_LEN * g),
        }
    }

    /// Pre-activation columns per step.
    pub(crate) fn columns(&self) -> usize {
        self.g
    }
}

/// Forward pass of a shard from `xproj [LANES·SEQ_LEN, G]`: fills the tape, returns the
/// probabilities `σ(h_T·dense + dense_bias)` per lane. `rec` is the recurrent kernel
/// `[HIDDEN, G]`. Panics if a length disagrees with the tape's `G`.
pub(crate) struct ShardForward<'a> {
    pub tape: &'a mut Tape,
    /// `[rows, G]`: row `index[l][t]` is `x_t·W + b` of lane `l` at step `t` (the folded table
    /// with the tokens as index, or a shard's own `xproj` with [`IDENTITY`]).
    pub xproj: &'a [f32],
    pub index: &'a [[u16; SEQ_LEN]; LANES],
    pub rec: &'a [f32],
    pub dense: &'a [f32; HIDDEN],
    pub dense_bias: f32,
}

impl Op for ShardForward<'_> {
    type Output = L;
    fn reference(self) -> L {
        match self.tape.g {
            GATES => self.reference_g::<GATES, true>(),
            _ => self.reference_g::<HIDDEN, false>(),
        }
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) -> L {
        match self.tape.g {
            GATES => self.run_g::<I, GATES, true>(isa),
            _ => self.run_g::<I, HIDDEN, false>(isa),
        }
    }
}

/// Backward pass of a shard from the tape and `dlogit = ∂loss/∂logit` per lane: writes
/// `dz [LANES·SEQ_LEN, G]` and the gradients of the recurrent kernel `[HIDDEN, G]`, the bias
/// `[G]` and the dense head, each summed over the lanes in lane order.
pub(crate) struct ShardBackward<'a> {
    pub tape: &'a mut Tape,
    pub rec: &'a [f32],
    pub dense: &'a [f32; HIDDEN],
    pub dlogit: L,
    /// `[rows, G]`: `∂loss/∂z` of lane `l` at step `t` goes to row `index[l][t]`: written (every
    /// lane; [`IDENTITY`] gives the `[LANES·SEQ_LEN, G]` layout), or with `accumulate` added to
    /// it for the first `active` lanes only (the table gradient `δT[tok] += δz`, steps from last
    /// to first, lanes in order within a step).
    pub dz: &'a mut [f32],
    pub index: &'a [[u16; SEQ_LEN]; LANES],
    pub accumulate: bool,
    pub active: usize,
    pub d_rec: &'a mut [f32],
    pub d_bias: &'a mut [f32],
    pub d_dense: &'a mut [f32; HIDDEN],
    pub d_dense_bias: &'a mut f32,
}

impl Op for ShardBackward<'_> {
    type Output = ();
    fn reference(self) {
        match self.tape.g {
            GATES => self.reference_g::<GATES, true>(),
            _ => self.reference_g::<HIDDEN, false>(),
        }
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        match self.tape.g {
            GATES => self.run_g::<I, GATES, true>(isa),
            _ => self.run_g::<I, HIDDEN, false>(isa),
        }
    }
}

/// `rec [HIDDEN, G]` as rows. Panics if its length is not `HIDDEN·G`.
#[inline(always)]
fn rec_rows<const G: usize>(rec: &[f32]) -> [&[f32; G]; HIDDEN] {
    assert_eq!(rec.len(), HIDDEN * G, "recurrent kernel [HIDDEN, G]");
    std::array::from_fn(|j| rec[j * G..(j + 1) * G].try_into().expect("G"))
}

impl ShardForward<'_> {
    /// The vector forward body for `G` columns; `LSTM` selects the cell. `I` holds all
    /// [`LANES`] sequences in one vector (AVX-512) or half of them (the 8-lane ISAs: the two
    /// halves' steps side by side, each lane computed by the same operations).
    #[inline(always)]
    fn run_g<I: Isa, const G: usize, const LSTM: bool>(self, isa: I) -> L {
        let tape = self.tape;
        check_rows(self.xproj, G, self.index, "xproj");
        let rec = rec_rows::<G>(self.rec);
        let zero = isa.splat(0.0);
        tape.hs[..HIDDEN].fill(ZERO);
        tape.cs[..HIDDEN].fill(ZERO);
        for t in 0..SEQ_LEN {
            // Each lane's row of the step, looked up once (not once per block of 8 columns).
            let lane_rows: [&[f32; G]; LANES] = std::array::from_fn(|l| {
                let r = usize::from(self.index[l][t]);
                self.xproj[r * G..][..G].try_into().expect("G")
            });
            for half in 0..LANES / I::LANES {
                let base = half * I::LANES;
                let mut z = [zero; G];
                for blk in 0..G / HIDDEN {
                    let mut rows = isa.arr(&ROW0);
                    for (k, row) in rows.as_mut().iter_mut().enumerate() {
                        *row = &lane_rows[base + k].as_chunks().0[blk];
                    }
                    let zx = isa.gather_rows(&rows);
                    z[blk * HIDDEN..(blk + 1) * HIDDEN].copy_from_slice(&zx);
                }
                let h: [I::V; HIDDEN] =
                    std::array::from_fn(|j| ld(isa, &tape.hs[t * HIDDEN + j], half));
                // Half the registers as accumulators.
                match I::VECTOR_REGISTERS {
                    32.. => recurrent_product::<I, G, 16>(isa, &h, &rec, &mut z),
                    16.. => recurrent_product::<I, G, 8>(isa, &h, &rec, &mut z),
                    _ => recurrent_product::<I, G, 4>(isa, &h, &rec, &mut z),
                }
                let a = &mut tape.acts[t * G..(t + 1) * G];
                if LSTM {
                    // i, f | g | o: the batch forms, stage by stage across the units.
                    let mut ifo = [zero; 3 * HIDDEN];
                    ifo[..2 * HIDDEN].copy_from_slice(&z[GATE_I * HIDDEN..(GATE_F + 1) * HIDDEN]);
                    ifo[2 * HIDDEN..].copy_from_slice(&z[GATE_O * HIDDEN..(GATE_O + 1) * HIDDEN]);
                    for chunk in ifo.as_chunks_mut::<HIDDEN>().0 {
                        sigmoid_batch_n(isa, chunk);
                    }
                    let mut g: [I::V; HIDDEN] = z[GATE_C * HIDDEN..(GATE_C + 1) * HIDDEN]
                        .try_into()
                        .expect("HIDDEN");
                    tanh_batch_n(isa, &mut g);
                    let mut c = [zero; HIDDEN];
                    for u in 0..HIDDEN {
                        let (i, f) = (ifo[u], ifo[HIDDEN + u]);
                        let c_prev = ld(isa, &tape.cs[t * HIDDEN + u], half);
                        c[u] = isa.mul_add(f, c_prev, isa.mul(i, g[u]));
                    }
                    let mut tc = c;
                    tanh_batch_n(isa, &mut tc);
                    for u in 0..HIDDEN {
                        let o = ifo[2 * HIDDEN + u];
                        st(isa, ifo[u], &mut a[GATE_I * HIDDEN + u], half);
                        st(isa, ifo[HIDDEN + u], &mut a[GATE_F * HIDDEN + u], half);
                        st(isa, g[u], &mut a[GATE_C * HIDDEN + u], half);
                        st(isa, o, &mut a[GATE_O * HIDDEN + u], half);
                        st(isa, c[u], &mut tape.cs[(t + 1) * HIDDEN + u], half);
                        st(isa, tc[u], &mut tape.tcs[t * HIDDEN + u], half);
                        st(
                            isa,
                            isa.mul(o, tc[u]),
                            &mut tape.hs[(t + 1) * HIDDEN + u],
                            half,
                        );
                    }
                } else {
                    let mut hz: [I::V; HIDDEN] = z[..HIDDEN].try_into().expect("HIDDEN");
                    tanh_batch_n(isa, &mut hz);
                    for u in 0..HIDDEN {
                        st(isa, hz[u], &mut a[u], half);
                        st(isa, hz[u], &mut tape.hs[(t + 1) * HIDDEN + u], half);
                    }
                }
            }
        }
        // Dense head.
        let mut p = ZERO;
        for half in 0..LANES / I::LANES {
            let mut logit = isa.splat(self.dense_bias);
            for j in 0..HIDDEN {
                let hj = ld(isa, &tape.hs[SEQ_LEN * HIDDEN + j], half);
                logit = isa.mul_add(hj, isa.splat(self.dense[j]), logit);
            }
            st(isa, sigmoid_batch(isa, logit), &mut p, half);
        }
        p
    }

    /// The reference forward body (plain lane loops, the standard library's activations).
    fn reference_g<const G: usize, const LSTM: bool>(self) -> L {
        let tape = self.tape;
        check_rows(self.xproj, G, self.index, "xproj");
        let rec = rec_rows::<G>(self.rec);
        tape.hs[..HIDDEN].fill(ZERO);
        tape.cs[..HIDDEN].fill(ZERO);
        for t in 0..SEQ_LEN {
            let a: &mut [L; G] = (&mut tape.acts[t * G..(t + 1) * G]).try_into().expect("G");
            for l in 0..LANES {
                let r = usize::from(self.index[l][t]);
                let row: &[f32; G] = self.xproj[r * G..][..G].try_into().expect("G");
                for col in 0..G {
                    a[col][l] = row[col];
                }
            }
            let h: [L; HIDDEN] = tape.hs[t * HIDDEN..(t + 1) * HIDDEN]
                .try_into()
                .expect("HIDDEN");
            for j in 0..HIDDEN {
                for col in 0..G {
                    a[col] = add(a[col], scale(h[j], rec[j][col]));
                }
            }
            if LSTM {
                let flat = a.as_flattened_mut();
                let (ifg, o) = flat.split_at_mut(GATE_O * HIDDEN * LANES);
                let (i_f, gg) = ifg.split_at_mut(GATE_C * HIDDEN * LANES);
                sigmoid_all(i_f);
                tanh_all(gg);
                sigmoid_all(o);
                let mut c_new = [ZERO; HIDDEN];
                for u in 0..HIDDEN {
                    let (i, f) = (a[GATE_I * HIDDEN + u], a[GATE_F * HIDDEN + u]);
                    let gv = a[GATE_C * HIDDEN + u];
                    c_new[u] = add(mul(f, tape.cs[t * HIDDEN + u]), mul(i, gv));
                }
                tape.cs[(t + 1) * HIDDEN..(t + 2) * HIDDEN].copy_from_slice(&c_new);
                let mut tc = c_new;
                tanh_all(tc.as_flattened_mut());
                tape.tcs[t * HIDDEN..(t + 1) * HIDDEN].copy_from_slice(&tc);
                for u in 0..HIDDEN {
                    tape.hs[(t + 1) * HIDDEN + u] = mul(a[GATE_O * HIDDEN + u], tc[u]);
                }
            } else {
                tanh_all(a.as_flattened_mut());
                tape.hs[(t + 1) * HIDDEN..(t + 2) * HIDDEN].copy_from_slice(&a[..HIDDEN]);
            }
        }
        // Dense head.
        let mut logit = [self.dense_bias; LANES];
        for j in 0..HIDDEN {
            logit = add(logit, scale(tape.hs[SEQ_LEN * HIDDEN + j], self.dense[j]));
        }
        sigmoid_all(&mut logit);
        logit
    }
}

/// `z[col] += Σ_j h[j]·U[j][col]`, `C` columns at a time with `j` outside: `C` independent
/// accumulators in registers (each column's terms still added in `j` order, so `C` does not
/// change the bits).
#[inline(always)]
fn recurrent_product<I: Isa, const G: usize, const C: usize>(
    isa: I,
    h: &[I::V; HIDDEN],
    rec: &[&[f32; G]; HIDDEN],
    z: &mut [I::V; G],
) {
    for cb in (0..G).step_by(C) {
        let n = C.min(G - cb);
        let mut acc = [isa.splat(0.0); C];
        acc[..n].copy_from_slice(&z[cb..cb + n]);
        for j in 0..HIDDEN {
            for c in 0..n {
                acc[c] = isa.mul_add(h[j], isa.splat(rec[j][cb + c]), acc[c]);
            }
        }
        z[cb..cb + n].copy_from_slice(&acc[..n]);
    }
}

/// `δh[j] = Σ_col δz[col]·U[j][col]` as `P` interleaved partial sums (`P` = 1, 2 or 4) added
/// as a tree: the critical path is `G/P` dependent FMAs and `log₂ P` adds. `P` changes the bits;
/// `JG`, the units whose sums run together (each `δz` vector loaded once per group, `JG·P`
/// accumulators in registers), does not.
#[inline(always)]
fn d_hidden<I: Isa, const G: usize, const P: usize, const JG: usize>(
    isa: I,
    dz: &[L; G],
    half: usize,
    rec: &[&[f32; G]; HIDDEN],
    dh: &mut [I::V; HIDDEN],
) {
    for jb in (0..HIDDEN).step_by(JG) {
        let mut acc = [[isa.splat(0.0); P]; JG];
        for col in (0..G).step_by(P) {
            for k in 0..P {
                let d = ld(isa, &dz[col + k], half);
                for (jj, a) in acc.iter_mut().enumerate() {
                    a[k] = isa.mul_add(d, isa.splat(rec[jb + jj][col + k]), a[k]);
                }
            }
        }
        for (jj, a) in acc.iter_mut().enumerate() {
            let mut width = P;
            while width > 1 {
                width /= 2;
                for k in 0..width {
                    a[k] = isa.add(a[2 * k], a[2 * k + 1]);
                }
            }
            dh[jb + jj] = a[0];
        }
    }
}

/// `δU[j][col] = Σ_t h_{t-1}[j]·δz_t[col]` of half `half`'s lanes, the steps from last to first,
/// in register tiles of `J` units × 4 columns (`J·4` independent chains; `J = 4` needs 21
/// vector registers, `J = 2` 13, `J = 1` 9). The tile does not change the bits.
#[inline(always)]
fn d_rec_tiles<I: Isa, const G: usize, const J: usize>(
    isa: I,
    tape: &Tape,
    half: usize,
    d_rec: &mut [[L; G]; HIDDEN],
) {
    let zero = isa.splat(0.0);
    let (hs, dzs) = (&tape.hs[..SEQ_LEN * HIDDEN], &tape.dzs[..SEQ_LEN * G]);
    for jb in (0..HIDDEN).step_by(J) {
        for cb in (0..G).step_by(4) {
            let mut acc = [[zero; 4]; J];
            for (h_t, dz_t) in hs.chunks_exact(HIDDEN).zip(dzs.chunks_exact(G)).rev() {
                let (h_t, dz_t) = (&h_t[jb..jb + J], &dz_t[cb..cb + 4]);
                let dzv: [I::V; 4] = std::array::from_fn(|c| ld(isa, &dz_t[c], half));
                for (jj, acc) in acc.iter_mut().enumerate() {
                    let hj = ld(isa, &h_t[jj], half);
                    for (c, a) in acc.iter_mut().enumerate() {
                        *a = isa.mul_add(hj, dzv[c], *a);
                    }
                }
            }
            for (jj, acc) in acc.iter().enumerate() {
                for (c, a) in acc.iter().enumerate() {
                    st(isa, *a, &mut d_rec[jb + jj][cb + c], half);
                }
            }
        }
    }
}

impl ShardBackward<'_> {
    /// The dense head's gradients, the lanes summed in lane order.
    fn dense_grads(&mut self) {
        let h_last = &self.tape.hs[SEQ_LEN * HIDDEN..];
        *self.d_dense_bias = self.dlogit.iter().sum();
        for j in 0..HIDDEN {
            self.d_dense[j] = mul(h_last[j], self.dlogit).iter().sum();
        }
    }

    /// `dz`, `δU` and `δb` from the per-lane accumulators, every lane sum in lane order.
    fn finish<const G: usize>(&mut self, d_rec: &[[L; G]; HIDDEN], d_bias: &[L; G]) {
        assert_eq!(self.d_rec.len(), HIDDEN * G, "δU [HIDDEN, G]");
        assert_eq!(self.d_bias.len(), G, "δb [G]");
        for (out, lanes) in self.d_rec.iter_mut().zip(d_rec.as_flattened()) {
            *out = lanes.iter().sum();
        }
        for (out, lanes) in self.d_bias.iter_mut().zip(d_bias) {
            *out = lanes.iter().sum();
        }
    }

    /// The vector backward body for `G` columns; `LSTM` selects the cell (lanes as in the
    /// forward body).
    #[inline(always)]
    fn run_g<I: Isa, const G: usize, const LSTM: bool>(mut self, isa: I) {
        check_rows(self.dz, G, self.index, "dz");
        let lanes_out = if self.accumulate {
            self.active.min(LANES)
        } else {
            LANES
        };
        self.dense_grads();
        let tape = &mut *self.tape;
        let rec = rec_rows::<G>(self.rec);
        let zero = isa.splat(0.0);
        let one = isa.splat(1.0);
        let halves = LANES / I::LANES;
        let mut dh = [[zero; HIDDEN]; 2];
        let mut dc = [[zero; HIDDEN]; 2];
        for half in 0..halves {
            let dlogit_v = ld(isa, &self.dlogit, half);
            for j in 0..HIDDEN {
                dh[half][j] = isa.mul(dlogit_v, isa.splat(self.dense[j]));
            }
        }
        // One row of the step's `δz` per lane (see the scatter below).
        let mut by_lane = [[0f32; G]; LANES];
        for t in (0..SEQ_LEN).rev() {
            let a = &tape.acts[t * G..(t + 1) * G];
            let dzs: &mut [L; G] = (&mut tape.dzs[t * G..(t + 1) * G]).try_into().expect("G");
            for half in 0..halves {
                let (dh, dc) = (&mut dh[half], &mut dc[half]);
                // Each `δz` goes straight to the tape, which `d_hidden` then reads: a `[V; G]`
                // array on the stack was zeroed and copied to the tape by `memset` and `memcpy`
                // calls every step.
                if LSTM {
                    for u in 0..HIDDEN {
                        let i = ld(isa, &a[GATE_I * HIDDEN + u], half);
                        let f = ld(isa, &a[GATE_F * HIDDEN + u], half);
                        let g = ld(isa, &a[GATE_C * HIDDEN + u], half);
                        let o = ld(isa, &a[GATE_O * HIDDEN + u], half);
                        let tc = ld(isa, &tape.tcs[t * HIDDEN + u], half);
                        let c_prev = ld(isa, &tape.cs[t * HIDDEN + u], half);
                        // δo = δh⊙tanh c;  δc += δh⊙o⊙(1 − tanh² c)
                        let d_o = isa.mul(dh[u], tc);
                        let dcu =
                            isa.mul_add(isa.mul(dh[u], o), isa.neg_mul_add(tc, tc, one), dc[u]);
                        let di = isa.mul(dcu, g);
                        let df = isa.mul(dcu, c_prev);
                        let dg = isa.mul(dcu, i);
                        let dz_u = [
                            (GATE_I, isa.mul(di, isa.mul(i, isa.sub(one, i)))),
                            (GATE_F, isa.mul(df, isa.mul(f, isa.sub(one, f)))),
                            (GATE_C, isa.mul(dg, isa.neg_mul_add(g, g, one))),
                            (GATE_O, isa.mul(d_o, isa.mul(o, isa.sub(one, o)))),
                        ];
                        for (gate, v) in dz_u {
                            st(isa, v, &mut dzs[gate * HIDDEN + u], half);
                        }
                        dc[u] = isa.mul(dcu, f);
                    }
                } else {
                    for u in 0..HIDDEN {
                        let h = ld(isa, &a[u], half);
                        let v = isa.mul(dh[u], isa.neg_mul_add(h, h, one));
                        st(isa, v, &mut dzs[u], half);
                    }
                }
                // The LSTM's 32 columns in four partial sums; the SimpleRNN's 8 are faster in one
                // chain (its step has other work to overlap with).
                match (G > HIDDEN, I::VECTOR_REGISTERS) {
                    (true, 32..) => d_hidden::<I, G, 4, 4>(isa, dzs, half, &rec, dh),
                    (true, 16..) => d_hidden::<I, G, 4, 2>(isa, dzs, half, &rec, dh),
                    (true, _) => d_hidden::<I, G, 4, 1>(isa, dzs, half, &rec, dh),
                    (false, 16..) => d_hidden::<I, G, 1, 8>(isa, dzs, half, &rec, dh),
                    (false, _) => d_hidden::<I, G, 1, 4>(isa, dzs, half, &rec, dh),
                }
            }
            // The step's `δz` rows into `dz` by lane: 8×8 transposes of the stored lanes into
            // one row per lane, then each lane's row written or added whole (its row of `dz`
            // looked up once, not once per block of 8 columns). A row's elements see the lanes
            // in order either way.
            let x8 = isa.x8();
            let dzs: &[L; G] = dzs;
            for blk in 0..G / HIDDEN {
                for sub in 0..LANES / HIDDEN {
                    let mut block_rows = x8.arr(&ROW0);
                    for (r, b) in block_rows.as_mut().iter_mut().zip(&dzs[blk * HIDDEN..]) {
                        *r = b[sub * HIDDEN..][..HIDDEN].try_into().expect("HIDDEN");
                    }
                    let rows = x8.gather_rows(&block_rows);
                    for (k, row) in rows.iter().enumerate() {
                        by_lane[sub * HIDDEN + k].as_chunks_mut().0[blk] = x8.store(*row);
                    }
                }
            }
            for (l, row) in by_lane.iter().enumerate().take(lanes_out) {
                let r = usize::from(self.index[l][t]);
                let out: &mut [f32; G] = (&mut self.dz[r * G..][..G]).try_into().expect("G");
                // In blocks of 8 by hand: the compiler's loop over the whole row was 10 % slower on
                // AVX2 (Intel Xeon model 207).
                for (o, v) in out
                    .as_chunks_mut::<HIDDEN>()
                    .0
                    .iter_mut()
                    .zip(row.as_chunks().0)
                {
                    *o = if self.accumulate {
                        x8.store(x8.add(x8.load(o), x8.load(v)))
                    } else {
                        *v
                    };
                }
            }
        }
        // δU[j][col] = Σ_t h_{t-1}[j]·δz_t[col] and δb[col] = Σ_t δz_t[col], per lane, the steps
        // from last to first as the reference adds them.
        let mut d_rec = [[ZERO; G]; HIDDEN];
        let mut d_bias = [ZERO; G];
        for half in 0..halves {
            match I::VECTOR_REGISTERS {
                32.. => d_rec_tiles::<I, G, 4>(isa, tape, half, &mut d_rec),
                16.. => d_rec_tiles::<I, G, 2>(isa, tape, half, &mut d_rec),
                _ => d_rec_tiles::<I, G, 1>(isa, tape, half, &mut d_rec),
            }
            for cb in (0..G).step_by(HIDDEN) {
                let mut acc = [zero; HIDDEN];
                for t in (0..SEQ_LEN).rev() {
                    for (c, a) in acc.iter_mut().enumerate() {
                        *a = isa.add(*a, ld(isa, &tape.dzs[t * G + cb + c], half));
                    }
                }
                for (c, a) in acc.iter().enumerate() {
                    st(isa, *a, &mut d_bias[cb + c], half);
                }
            }
        }
        self.finish(&d_rec, &d_bias);
    }

    /// The reference backward body (plain lane loops).
    fn reference_g<const G: usize, const LSTM: bool>(mut self) {
        check_rows(self.dz, G, self.index, "dz");
        let lanes_out = if self.accumulate {
            self.active.min(LANES)
        } else {
            LANES
        };
        self.dense_grads();
        let tape = &*self.tape;
        let rec = rec_rows::<G>(self.rec);
        let mut dh = [ZERO; HIDDEN];
        for j in 0..HIDDEN {
            dh[j] = scale(self.dlogit, self.dense[j]);
        }
        let mut d_rec = [[ZERO; G]; HIDDEN];
        let mut d_bias = [ZERO; G];
        let mut dc = [ZERO; HIDDEN];
        let mut dz = [ZERO; G];
        let one = [1.0f32; LANES];
        for t in (0..SEQ_LEN).rev() {
            let a: &[L; G] = tape.acts[t * G..(t + 1) * G].try_into().expect("G");
            if LSTM {
                let tc = &tape.tcs[t * HIDDEN..(t + 1) * HIDDEN];
                let c_prev = &tape.cs[t * HIDDEN..(t + 1) * HIDDEN];
                for u in 0..HIDDEN {
                    let (i, f) = (a[GATE_I * HIDDEN + u], a[GATE_F * HIDDEN + u]);
                    let (gv, o) = (a[GATE_C * HIDDEN + u], a[GATE_O * HIDDEN + u]);
                    // δo = δh⊙tanh c;  δc += δh⊙o⊙(1 − tanh² c)
                    let d_o = mul(dh[u], tc[u]);
                    let dcu = add(dc[u], mul(mul(dh[u], o), sub(one, mul(tc[u], tc[u]))));
                    dz[GATE_I * HIDDEN + u] = mul(mul(dcu, gv), mul(i, sub(one, i)));
                    dz[GATE_F * HIDDEN + u] = mul(mul(dcu, c_prev[u]), mul(f, sub(one, f)));
                    dz[GATE_C * HIDDEN + u] = mul(mul(dcu, i), sub(one, mul(gv, gv)));
                    dz[GATE_O * HIDDEN + u] = mul(d_o, mul(o, sub(one, o)));
                    dc[u] = mul(dcu, f);
                }
            } else {
                for u in 0..HIDDEN {
                    dz[u] = mul(dh[u], sub(one, mul(a[u], a[u])));
                }
            }
            let h_prev = &tape.hs[t * HIDDEN..(t + 1) * HIDDEN];
            for j in 0..HIDDEN {
                for col in 0..G {
                    d_rec[j][col] = add(d_rec[j][col], mul(h_prev[j], dz[col]));
                }
            }
            for j in 0..HIDDEN {
                let mut dhj = ZERO;
                for col in 0..G {
                    dhj = add(dhj, scale(dz[col], rec[j][col]));
                }
                dh[j] = dhj;
            }
            for col in 0..G {
                d_bias[col] = add(d_bias[col], dz[col]);
            }
            for l in 0..lanes_out {
                let r = usize::from(self.index[l][t]);
                let row = &mut self.dz[r * G..][..G];
                for col in 0..G {
                    row[col] = if self.accumulate {
                        row[col] + dz[col][l]
                    } else {
                        dz[col][l]
                    };
                }
            }
        }
        self.finish(&d_rec, &d_bias);
    }
}

/// The reference sigmoid over a slice.
fn sigmoid_all(xs: &mut [f32]) {
    xs.iter_mut().for_each(|x| *x = reference::sigmoid(*x));
}

/// The reference tanh over a slice.
fn tanh_all(xs: &mut [f32]) {
    xs.iter_mut().for_each(|x| *x = x.tanh());
}

/// Lane-wise `a + b`: one vector add once vectorised.
#[inline(always)]
fn add(a: L, b: L) -> L {
    std::array::from_fn(|l| a[l] + b[l])
}

#[inline(always)]
fn sub(a: L, b: L) -> L {
    std::array::from_fn(|l| a[l] - b[l])
}

#[inline(always)]
fn mul(a: L, b: L) -> L {
    std::array::from_fn(|l| a[l] * b[l])
}

/// Every lane times the scalar `w`.
#[inline(always)]
fn scale(a: L, w: f32) -> L {
    std::array::from_fn(|l| a[l] * w)
}
