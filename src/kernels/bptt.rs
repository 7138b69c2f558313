//! The training shard's forward and backward passes: [`LANES`] sequences side by side, one per
//! lane, as two operations through the dispatch door ([`ShardForward`], [`ShardBackward`]; the
//! loss between them is the trainer's).
//!
//! Every per-step quantity is stored as `[f32; LANES]` (one value per sequence, one 256-bit
//! vector). The equations are those of `train::reference`; this file only changes the layout:
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
//! - The vector body (`Op::run`), written over the 8-lane ISA ([`Isa::x8`]: `wide`, AVX2+FMA,
//!   and AVX2+FMA again under an AVX-512 proof, so training gives the same bits there): each lane
//!   array lives in one register, `U[j][col]` is a broadcast from L1, products are FMAs where the
//!   CPU has them, the activations are the kernels' inlined approximations, and the row layouts
//!   of `xproj` and `dz` meet the lane layout through 8×8 transposes.
//! - The reference body (`Op::reference`): the same steps as plain `[f32; LANES]` loops with the
//!   standard library's `exp`/`tanh`. It is the readable twin, and 3× slower.

// Index loops over lanes, units and columns read like the equations.
#![allow(clippy::needless_range_loop)]

use super::activations::{sigmoid, tanh};
use super::isa::{Isa, Isa8, Op};
use super::reference;
use super::tables::{GATE_C, GATE_F, GATE_I, GATE_O};
use crate::shape::{GATES, HIDDEN, SEQ_LEN};

/// Sequences per shard: one per SIMD lane of a 256-bit vector.
pub const LANES: usize = 8;

/// One value per lane (per sequence of the shard).
pub(crate) type L = [f32; LANES];

const ZERO: L = [0.0; LANES];

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
    acts: Vec<L>,
    hs: Vec<L>,
    cs: Vec<L>,
    tcs: Vec<L>,
    /// `[SEQ_LEN][G]` lanes: the backward pass's `δz` per step, kept for `δU` and `δb`, which
    /// are summed after the steps (the accumulators in registers instead of memory).
    dzs: Vec<L>,
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
            acts: vec![ZERO; SEQ_LEN * g],
            hs: vec![ZERO; (SEQ_LEN + 1) * HIDDEN],
            cs: vec![ZERO; (SEQ_LEN + 1) * HIDDEN],
            tcs: vec![ZERO; SEQ_LEN * HIDDEN],
            dzs: vec![ZERO; SEQ_LEN * g],
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
            GATES => self.run_g::<I::X8, GATES, true>(isa.x8()),
            _ => self.run_g::<I::X8, HIDDEN, false>(isa.x8()),
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
            GATES => self.run_g::<I::X8, GATES, true>(isa.x8()),
            _ => self.run_g::<I::X8, HIDDEN, false>(isa.x8()),
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
    /// The vector forward body for `G` columns; `LSTM` selects the cell.
    #[inline(always)]
    fn run_g<I: Isa8, const G: usize, const LSTM: bool>(self, isa: I) -> L {
        let tape = self.tape;
        check_rows(self.xproj, G, self.index, "xproj");
        let rec = rec_rows::<G>(self.rec);
        let zero = isa.splat(0.0);
        tape.hs[..HIDDEN].fill(ZERO);
        tape.cs[..HIDDEN].fill(ZERO);
        for t in 0..SEQ_LEN {
            let mut z = [zero; G];
            for blk in 0..G / LANES {
                let mut rows = isa.arr(&ZERO);
                for (l, row) in rows.as_mut().iter_mut().enumerate() {
                    let r = usize::from(self.index[l][t]);
                    *row = self.xproj[r * G + blk * LANES..][..LANES]
                        .try_into()
                        .expect("LANES");
                }
                let zx = isa.gather_rows(&rows);
                z[blk * LANES..(blk + 1) * LANES].copy_from_slice(&zx);
            }
            let h: [I::V; HIDDEN] = std::array::from_fn(|j| isa.load(&tape.hs[t * HIDDEN + j]));
            for (col, zc) in z.iter_mut().enumerate() {
                for j in 0..HIDDEN {
                    *zc = isa.mul_add(h[j], isa.splat(rec[j][col]), *zc);
                }
            }
            let a = &mut tape.acts[t * G..(t + 1) * G];
            if LSTM {
                for u in 0..HIDDEN {
                    let i = sigmoid(isa, z[GATE_I * HIDDEN + u]);
                    let f = sigmoid(isa, z[GATE_F * HIDDEN + u]);
                    let g = tanh(isa, z[GATE_C * HIDDEN + u]);
                    let o = sigmoid(isa, z[GATE_O * HIDDEN + u]);
                    let c_prev = isa.load(&tape.cs[t * HIDDEN + u]);
                    let c = isa.mul_add(f, c_prev, isa.mul(i, g));
                    let tc = tanh(isa, c);
                    a[GATE_I * HIDDEN + u] = isa.store(i);
                    a[GATE_F * HIDDEN + u] = isa.store(f);
                    a[GATE_C * HIDDEN + u] = isa.store(g);
                    a[GATE_O * HIDDEN + u] = isa.store(o);
                    tape.cs[(t + 1) * HIDDEN + u] = isa.store(c);
                    tape.tcs[t * HIDDEN + u] = isa.store(tc);
                    tape.hs[(t + 1) * HIDDEN + u] = isa.store(isa.mul(o, tc));
                }
            } else {
                for u in 0..HIDDEN {
                    let h = isa.store(tanh(isa, z[u]));
                    a[u] = h;
                    tape.hs[(t + 1) * HIDDEN + u] = h;
                }
            }
        }
        // Dense head.
        let mut logit = isa.splat(self.dense_bias);
        for j in 0..HIDDEN {
            let hj = isa.load(&tape.hs[SEQ_LEN * HIDDEN + j]);
            logit = isa.mul_add(hj, isa.splat(self.dense[j]), logit);
        }
        isa.store(sigmoid(isa, logit))
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

    /// The vector backward body for `G` columns; `LSTM` selects the cell.
    #[inline(always)]
    fn run_g<I: Isa8, const G: usize, const LSTM: bool>(mut self, isa: I) {
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
        let dlogit_v = isa.load(&self.dlogit);
        let mut dh = [zero; HIDDEN];
        for j in 0..HIDDEN {
            dh[j] = isa.mul(dlogit_v, isa.splat(self.dense[j]));
        }
        let mut dc = [zero; HIDDEN];
        let mut dz = [zero; G];
        for t in (0..SEQ_LEN).rev() {
            let a = &tape.acts[t * G..(t + 1) * G];
            if LSTM {
                for u in 0..HIDDEN {
                    let i = isa.load(&a[GATE_I * HIDDEN + u]);
                    let f = isa.load(&a[GATE_F * HIDDEN + u]);
                    let g = isa.load(&a[GATE_C * HIDDEN + u]);
                    let o = isa.load(&a[GATE_O * HIDDEN + u]);
                    let tc = isa.load(&tape.tcs[t * HIDDEN + u]);
                    let c_prev = isa.load(&tape.cs[t * HIDDEN + u]);
                    // δo = δh⊙tanh c;  δc += δh⊙o⊙(1 − tanh² c)
                    let d_o = isa.mul(dh[u], tc);
                    let dcu = isa.mul_add(isa.mul(dh[u], o), isa.neg_mul_add(tc, tc, one), dc[u]);
                    let di = isa.mul(dcu, g);
                    let df = isa.mul(dcu, c_prev);
                    let dg = isa.mul(dcu, i);
                    dz[GATE_I * HIDDEN + u] = isa.mul(di, isa.mul(i, isa.sub(one, i)));
                    dz[GATE_F * HIDDEN + u] = isa.mul(df, isa.mul(f, isa.sub(one, f)));
                    dz[GATE_C * HIDDEN + u] = isa.mul(dg, isa.neg_mul_add(g, g, one));
                    dz[GATE_O * HIDDEN + u] = isa.mul(d_o, isa.mul(o, isa.sub(one, o)));
                    dc[u] = isa.mul(dcu, f);
                }
            } else {
                for u in 0..HIDDEN {
                    let h = isa.load(&a[u]);
                    dz[u] = isa.mul(dh[u], isa.neg_mul_add(h, h, one));
                }
            }
            let dzs: &mut [L; G] = (&mut tape.dzs[t * G..(t + 1) * G]).try_into().expect("G");
            for col in 0..G {
                dzs[col] = isa.store(dz[col]);
            }
            for (j, dhj) in dh.iter_mut().enumerate() {
                let mut acc = zero;
                for col in 0..G {
                    acc = isa.mul_add(dz[col], isa.splat(rec[j][col]), acc);
                }
                *dhj = acc;
            }
            let dzs: &[L; G] = dzs;
            for blk in 0..G / LANES {
                let mut block_rows = isa.arr(&ZERO);
                for (r, b) in block_rows.as_mut().iter_mut().zip(&dzs[blk * LANES..]) {
                    *r = b;
                }
                let rows = isa.gather_rows(&block_rows);
                for (l, row) in rows.iter().enumerate().take(lanes_out) {
                    let r = usize::from(self.index[l][t]);
                    let out: &mut [f32; LANES] = (&mut self.dz[r * G + blk * LANES..][..LANES])
                        .try_into()
                        .expect("LANES");
                    *out = if self.accumulate {
                        isa.store(isa.add(isa.load(out), *row))
                    } else {
                        isa.store(*row)
                    };
                }
            }
        }
        // δU[j][col] = Σ_t h_{t-1}[j]·δz_t[col] and δb[col] = Σ_t δz_t[col], per lane, the steps
        // from last to first as the reference adds them; eight accumulators in registers.
        let mut d_rec = [[ZERO; G]; HIDDEN];
        let mut d_bias = [ZERO; G];
        for jb in (0..HIDDEN).step_by(2) {
            for cb in (0..G).step_by(4) {
                let mut acc = [[zero; 4]; 2];
                for t in (0..SEQ_LEN).rev() {
                    let dzs = &tape.dzs[t * G + cb..][..4];
                    for (jj, acc) in acc.iter_mut().enumerate() {
                        let hj = isa.load(&tape.hs[t * HIDDEN + jb + jj]);
                        for (c, a) in acc.iter_mut().enumerate() {
                            *a = isa.mul_add(hj, isa.load(&dzs[c]), *a);
                        }
                    }
                }
                for (jj, acc) in acc.iter().enumerate() {
                    for (c, a) in acc.iter().enumerate() {
                        d_rec[jb + jj][cb + c] = isa.store(*a);
                    }
                }
            }
        }
        for cb in (0..G).step_by(LANES) {
            let mut acc = [zero; LANES];
            for t in (0..SEQ_LEN).rev() {
                for (c, a) in acc.iter_mut().enumerate() {
                    *a = isa.add(*a, isa.load(&tape.dzs[t * G + cb + c]));
                }
            }
            for (c, a) in acc.iter().enumerate() {
                d_bias[cb + c] = isa.store(*a);
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
