//! The fast forward + backward of one shard: [`LANES`] sequences side by side, one per lane.
//!
//! Every per-step quantity is stored as `[f32; LANES]` (one value per sequence, one 256-bit
//! vector). The equations are those of [`super::reference`]; this file only changes the layout:
//!
//! ```text
//! xproj  [LANES·SEQ_LEN, G]   x_t·W + b per (lane, step), row l·SEQ_LEN + t  (input to the shard)
//! acts   [SEQ_LEN][G] lanes   activations i, f, g, o (LSTM) or h_t (RNN)
//! hs, cs [SEQ_LEN+1][HIDDEN] lanes, tcs = tanh(c_t)
//! dz     [LANES·SEQ_LEN, G]   ∂loss/∂z per (lane, step): what the caller turns into δW, δE, δK
//! ```
//!
//! The recurrent-kernel gradient `δU = Σ_t h_{t-1}ᵀ δz_t` is accumulated per lane and summed
//! over the lanes at the end in lane order, so a shard's result never depends on which thread
//! ran it.
//!
//! # Two bodies
//!
//! - `run_isa_g`, for the portable and AVX2+FMA kernels: written over the kernels' 8-lane
//!   instruction trait (`kernels::simd::Isa`), like the inference throughput kernel. Each lane
//!   array lives in one register, `U[j][col]` is a broadcast from L1, products are FMAs where
//!   the CPU has them, the activations are the kernels' inlined approximations, and the row
//!   layouts of `xproj` and `dz` meet the lane layout through 8×8 transposes. The AVX2 build is
//!   reached only through the `Avx2Fma` proof token.
//! - `run_g`, for the reference kernel: the same steps as plain `[f32; LANES]` loops with the
//!   standard library's `exp`/`tanh` (through the kernel's slice activations). It is the readable
//!   twin, and 3× slower.

// Index loops over lanes, units and columns read like the equations.
#![allow(clippy::needless_range_loop)]

use crate::infer::metrics::{EPSILON, bce};
#[cfg(target_arch = "x86_64")]
use crate::kernels::Avx2Fma;
use crate::kernels::activations::{sigmoid, tanh};
use crate::kernels::portable::Portable;
use crate::kernels::simd::Isa;
use crate::kernels::{GATE_C, GATE_F, GATE_I, GATE_O, Kernel};
use crate::model::Arch;
use crate::shape::{GATES, HIDDEN, SEQ_LEN};

/// Sequences per shard: one per SIMD lane of a 256-bit vector.
pub const LANES: usize = 8;

type L = [f32; LANES];

const ZERO: L = [0.0; LANES];

/// Working memory and results of one shard; reused from batch to batch.
#[derive(Clone, Debug)]
pub struct Shard {
    g: usize,
    /// Sequences in use (`≤ LANES`); the other lanes carry token 0 and no gradient.
    pub(crate) active: usize,
    pub(crate) tokens: [[u16; SEQ_LEN]; LANES],
    pub(crate) labels: [f32; LANES],
    /// `[LANES·SEQ_LEN, G]`, filled by the caller.
    pub(crate) xproj: Vec<f32>,
    acts: Vec<L>,
    hs: Vec<L>,
    cs: Vec<L>,
    tcs: Vec<L>,
    /// `[LANES·SEQ_LEN, G]` pre-activation gradients.
    pub(crate) dz: Vec<f32>,
    /// `[HIDDEN, G]`, summed over the lanes.
    pub(crate) d_rec: Vec<f32>,
    /// `[G]`.
    pub(crate) d_bias: Vec<f32>,
    pub(crate) d_dense: [f32; HIDDEN],
    pub(crate) d_dense_bias: f32,
    /// Sum over the active lanes of the per-sample loss (Keras' clipped BCE).
    pub(crate) loss_sum: f64,
    /// Active lanes whose prediction `p > 0.5` matches the label.
    pub(crate) correct: usize,
}

impl Shard {
    /// Buffers for `g` pre-activation columns (`GATES` or `HIDDEN`).
    pub fn new(g: usize) -> Shard {
        Shard {
            g,
            active: 0,
            tokens: [[0; SEQ_LEN]; LANES],
            labels: [0.0; LANES],
            xproj: vec![0.0; LANES * SEQ_LEN * g],
            acts: vec![ZERO; SEQ_LEN * g],
            hs: vec![ZERO; (SEQ_LEN + 1) * HIDDEN],
            cs: vec![ZERO; (SEQ_LEN + 1) * HIDDEN],
            tcs: vec![ZERO; SEQ_LEN * HIDDEN],
            dz: vec![0.0; LANES * SEQ_LEN * g],
            d_rec: vec![0.0; HIDDEN * g],
            d_bias: vec![0.0; g],
            d_dense: [0.0; HIDDEN],
            d_dense_bias: 0.0,
            loss_sum: 0.0,
            correct: 0,
        }
    }

    /// Loads `tokens` (at most [`LANES`] reviews, labels 0) and sets the input projection
    /// `xproj [LANES·SEQ_LEN, G]` to `xproj(i)` at flat index `i`: how a bench outside the crate
    /// prepares a shard for [`Shard::run`] (the trainer fills the buffers itself).
    pub fn fill(&mut self, tokens: &[[u16; SEQ_LEN]], xproj: impl Fn(usize) -> f32) {
        assert!(
            tokens.len() <= LANES,
            "a shard holds at most {LANES} reviews"
        );
        self.active = tokens.len();
        self.tokens[..tokens.len()].copy_from_slice(tokens);
        self.labels = [0.0; LANES];
        self.xproj
            .iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = xproj(i));
    }

    /// Forward and backward of the shard from `xproj` (already filled). `rec` is the recurrent
    /// kernel `[HIDDEN, G]`, `dense`/`dense_bias` the head, `inv_n` = 1 / batch size.
    /// `kernel` picks the body (see the module docs) and the activations.
    pub fn run(
        &mut self,
        arch: Arch,
        kernel: Kernel,
        rec: &[f32],
        dense: &[f32; HIDDEN],
        dense_bias: f32,
        inv_n: f32,
    ) {
        assert_eq!(rec.len(), HIDDEN * self.g, "recurrent kernel [HIDDEN, G]");
        match kernel {
            Kernel::Reference => self.run_body(arch, kernel, rec, dense, dense_bias, inv_n),
            Kernel::Portable => self.run_isa(Portable, arch, rec, dense, dense_bias, inv_n),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => {
                // SAFETY: an `Avx2Fma` value exists only if `Avx2Fma::detect` saw AVX2 and FMA,
                // the features `run_avx2_fma` enables.
                unsafe { self.run_avx2_fma(cpu, arch, rec, dense, dense_bias, inv_n) }
            }
        }
    }

    /// [`Self::run_isa`] with AVX2+FMA intrinsics (the feature list of `Avx2Fma::detect`).
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2_fma(
        &mut self,
        cpu: Avx2Fma,
        arch: Arch,
        rec: &[f32],
        dense: &[f32; HIDDEN],
        dense_bias: f32,
        inv_n: f32,
    ) {
        self.run_isa(cpu, arch, rec, dense, dense_bias, inv_n);
    }

    #[inline(always)]
    fn run_isa<I: Isa>(
        &mut self,
        isa: I,
        arch: Arch,
        rec: &[f32],
        dense: &[f32; HIDDEN],
        dense_bias: f32,
        inv_n: f32,
    ) {
        match arch {
            Arch::Lstm => self.run_isa_g::<I, GATES, true>(isa, rec, dense, dense_bias, inv_n),
            Arch::Rnn | Arch::RnnOneHot => {
                self.run_isa_g::<I, HIDDEN, false>(isa, rec, dense, dense_bias, inv_n)
            }
        }
    }

    /// The vector body: every `[f32; LANES]` quantity in one register, `U[j][col]` broadcast
    /// from memory, FMA where the instruction set has it, the kernels' activations inlined,
    /// and 8×8 transposes (`Isa::gather_rows`) between the row layout of `xproj`/`dz` and lanes.
    #[inline(always)]
    fn run_isa_g<I: Isa, const G: usize, const LSTM: bool>(
        &mut self,
        isa: I,
        rec: &[f32],
        dense: &[f32; HIDDEN],
        dense_bias: f32,
        inv_n: f32,
    ) {
        assert_eq!(self.g, G, "shard built for another architecture");
        let rec: [&[f32; G]; HIDDEN] =
            std::array::from_fn(|j| rec[j * G..(j + 1) * G].try_into().expect("G"));
        let zero = isa.splat(0.0);
        let one = isa.splat(1.0);
        // Forward.
        self.hs[..HIDDEN].fill(ZERO);
        self.cs[..HIDDEN].fill(ZERO);
        for t in 0..SEQ_LEN {
            let mut z = [zero; G];
            for blk in 0..G / LANES {
                let rows: [&[f32; LANES]; LANES] = std::array::from_fn(|l| {
                    self.xproj[(l * SEQ_LEN + t) * G + blk * LANES..][..LANES]
                        .try_into()
                        .expect("LANES")
                });
                let zx = isa.gather_rows(rows);
                z[blk * LANES..(blk + 1) * LANES].copy_from_slice(&zx);
            }
            let h: [I::V; HIDDEN] = std::array::from_fn(|j| isa.load(&self.hs[t * HIDDEN + j]));
            for (col, zc) in z.iter_mut().enumerate() {
                for j in 0..HIDDEN {
                    *zc = isa.mul_add(h[j], isa.splat(rec[j][col]), *zc);
                }
            }
            let a = &mut self.acts[t * G..(t + 1) * G];
            if LSTM {
                for u in 0..HIDDEN {
                    let i = sigmoid(isa, z[GATE_I * HIDDEN + u]);
                    let f = sigmoid(isa, z[GATE_F * HIDDEN + u]);
                    let g = tanh(isa, z[GATE_C * HIDDEN + u]);
                    let o = sigmoid(isa, z[GATE_O * HIDDEN + u]);
                    let c_prev = isa.load(&self.cs[t * HIDDEN + u]);
                    let c = isa.mul_add(f, c_prev, isa.mul(i, g));
                    let tc = tanh(isa, c);
                    a[GATE_I * HIDDEN + u] = isa.store(i);
                    a[GATE_F * HIDDEN + u] = isa.store(f);
                    a[GATE_C * HIDDEN + u] = isa.store(g);
                    a[GATE_O * HIDDEN + u] = isa.store(o);
                    self.cs[(t + 1) * HIDDEN + u] = isa.store(c);
                    self.tcs[t * HIDDEN + u] = isa.store(tc);
                    self.hs[(t + 1) * HIDDEN + u] = isa.store(isa.mul(o, tc));
                }
            } else {
                for u in 0..HIDDEN {
                    let h = isa.store(tanh(isa, z[u]));
                    a[u] = h;
                    self.hs[(t + 1) * HIDDEN + u] = h;
                }
            }
        }

        // Dense head, loss, and ∂loss/∂logit (zero where Keras' clip is active).
        let h_last: [I::V; HIDDEN] =
            std::array::from_fn(|j| isa.load(&self.hs[SEQ_LEN * HIDDEN + j]));
        let mut logit = isa.splat(dense_bias);
        for j in 0..HIDDEN {
            logit = isa.mul_add(h_last[j], isa.splat(dense[j]), logit);
        }
        let p = isa.store(sigmoid(isa, logit));
        let dlogit = self.loss_and_dlogit(&p, inv_n);
        let dlogit_v = isa.load(&dlogit);
        self.d_dense_bias = dlogit.iter().sum();
        let mut dh = [zero; HIDDEN];
        for j in 0..HIDDEN {
            self.d_dense[j] = isa.store(isa.mul(h_last[j], dlogit_v)).iter().sum();
            dh[j] = isa.mul(dlogit_v, isa.splat(dense[j]));
        }

        // Backward through time.
        let mut d_rec = [[ZERO; G]; HIDDEN];
        let mut d_bias = [ZERO; G];
        let mut dc = [zero; HIDDEN];
        let mut dz = [zero; G];
        for t in (0..SEQ_LEN).rev() {
            let a = &self.acts[t * G..(t + 1) * G];
            if LSTM {
                for u in 0..HIDDEN {
                    let i = isa.load(&a[GATE_I * HIDDEN + u]);
                    let f = isa.load(&a[GATE_F * HIDDEN + u]);
                    let g = isa.load(&a[GATE_C * HIDDEN + u]);
                    let o = isa.load(&a[GATE_O * HIDDEN + u]);
                    let tc = isa.load(&self.tcs[t * HIDDEN + u]);
                    let c_prev = isa.load(&self.cs[t * HIDDEN + u]);
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
            for j in 0..HIDDEN {
                let hj = isa.load(&self.hs[t * HIDDEN + j]);
                for col in 0..G {
                    let acc = isa.load(&d_rec[j][col]);
                    d_rec[j][col] = isa.store(isa.mul_add(hj, dz[col], acc));
                }
            }
            for (j, dhj) in dh.iter_mut().enumerate() {
                let mut acc = zero;
                for col in 0..G {
                    acc = isa.mul_add(dz[col], isa.splat(rec[j][col]), acc);
                }
                *dhj = acc;
            }
            for col in 0..G {
                d_bias[col] = isa.store(isa.add(isa.load(&d_bias[col]), dz[col]));
            }
            for blk in 0..G / LANES {
                let block: [[f32; LANES]; LANES] =
                    std::array::from_fn(|u| isa.store(dz[blk * LANES + u]));
                let rows = isa.gather_rows(std::array::from_fn(|u| &block[u]));
                for (l, row) in rows.iter().enumerate() {
                    let out: &mut [f32; LANES] = (&mut self.dz
                        [(l * SEQ_LEN + t) * G + blk * LANES..][..LANES])
                        .try_into()
                        .expect("LANES");
                    *out = isa.store(*row);
                }
            }
        }
        for (out, lanes) in self.d_rec.iter_mut().zip(d_rec.as_flattened()) {
            *out = lanes.iter().sum();
        }
        for (out, lanes) in self.d_bias.iter_mut().zip(&d_bias) {
            *out = lanes.iter().sum();
        }
    }

    /// Per-sample loss and accuracy of the active lanes, and `∂loss/∂logit`: `(p − y)/n`, or 0
    /// where Keras' probability clip is active (and in unused lanes).
    fn loss_and_dlogit(&mut self, p: &L, inv_n: f32) -> L {
        let mut dlogit = ZERO;
        self.loss_sum = 0.0;
        self.correct = 0;
        for l in 0..self.active {
            let y = self.labels[l];
            self.loss_sum += f64::from(bce(p[l], y as u8));
            self.correct += usize::from((p[l] > 0.5) == (y > 0.5));
            if p[l] > EPSILON && p[l] < 1.0 - EPSILON {
                dlogit[l] = (p[l] - y) * inv_n;
            }
        }
        dlogit
    }

    /// The reference kernel's body (plain lane loops).
    fn run_body(
        &mut self,
        arch: Arch,
        kernel: Kernel,
        rec: &[f32],
        dense: &[f32; HIDDEN],
        dense_bias: f32,
        inv_n: f32,
    ) {
        assert_eq!(rec.len(), HIDDEN * self.g, "recurrent kernel [HIDDEN, G]");
        match arch {
            Arch::Lstm => self.run_g::<GATES, true>(kernel, rec, dense, dense_bias, inv_n),
            Arch::Rnn | Arch::RnnOneHot => {
                self.run_g::<HIDDEN, false>(kernel, rec, dense, dense_bias, inv_n)
            }
        }
    }

    /// The plain body for `G` columns; `LSTM` selects the cell.
    #[inline(always)]
    fn run_g<const G: usize, const LSTM: bool>(
        &mut self,
        kernel: Kernel,
        rec: &[f32],
        dense: &[f32; HIDDEN],
        dense_bias: f32,
        inv_n: f32,
    ) {
        assert_eq!(self.g, G, "shard built for another architecture");
        let rec: [[f32; G]; HIDDEN] =
            std::array::from_fn(|j| rec[j * G..(j + 1) * G].try_into().expect("G"));
        // Forward.
        self.hs[..HIDDEN].fill(ZERO);
        self.cs[..HIDDEN].fill(ZERO);
        for t in 0..SEQ_LEN {
            let a: &mut [L; G] = (&mut self.acts[t * G..(t + 1) * G]).try_into().expect("G");
            for l in 0..LANES {
                let row: &[f32; G] = self.xproj[(l * SEQ_LEN + t) * G..][..G]
                    .try_into()
                    .expect("G");
                for col in 0..G {
                    a[col][l] = row[col];
                }
            }
            let h: [L; HIDDEN] = self.hs[t * HIDDEN..(t + 1) * HIDDEN]
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
                kernel.sigmoid_in_place(i_f);
                kernel.tanh_in_place(gg);
                kernel.sigmoid_in_place(o);
                let mut c_new = [ZERO; HIDDEN];
                for u in 0..HIDDEN {
                    let (i, f) = (a[GATE_I * HIDDEN + u], a[GATE_F * HIDDEN + u]);
                    let gv = a[GATE_C * HIDDEN + u];
                    c_new[u] = add(mul(f, self.cs[t * HIDDEN + u]), mul(i, gv));
                }
                self.cs[(t + 1) * HIDDEN..(t + 2) * HIDDEN].copy_from_slice(&c_new);
                let mut tc = c_new;
                kernel.tanh_in_place(tc.as_flattened_mut());
                self.tcs[t * HIDDEN..(t + 1) * HIDDEN].copy_from_slice(&tc);
                for u in 0..HIDDEN {
                    self.hs[(t + 1) * HIDDEN + u] = mul(a[GATE_O * HIDDEN + u], tc[u]);
                }
            } else {
                kernel.tanh_in_place(a.as_flattened_mut());
                self.hs[(t + 1) * HIDDEN..(t + 2) * HIDDEN].copy_from_slice(&a[..HIDDEN]);
            }
        }

        // Dense head, loss, and ∂loss/∂logit (zero where Keras' clip is active).
        let h_last: [L; HIDDEN] = self.hs[SEQ_LEN * HIDDEN..].try_into().expect("HIDDEN");
        let mut logit = [dense_bias; LANES];
        for j in 0..HIDDEN {
            logit = add(logit, scale(h_last[j], dense[j]));
        }
        kernel.sigmoid_in_place(&mut logit);
        let dlogit = self.loss_and_dlogit(&logit, inv_n);
        self.d_dense_bias = dlogit.iter().sum();
        let mut dh = [ZERO; HIDDEN];
        for j in 0..HIDDEN {
            self.d_dense[j] = mul(h_last[j], dlogit).iter().sum();
            dh[j] = scale(dlogit, dense[j]);
        }

        // Backward through time.
        let mut d_rec = [[ZERO; G]; HIDDEN];
        let mut d_bias = [ZERO; G];
        let mut dc = [ZERO; HIDDEN];
        let mut dz = [ZERO; G];
        let one = [1.0f32; LANES];
        for t in (0..SEQ_LEN).rev() {
            let a: &[L; G] = self.acts[t * G..(t + 1) * G].try_into().expect("G");
            if LSTM {
                let tc = &self.tcs[t * HIDDEN..(t + 1) * HIDDEN];
                let c_prev = &self.cs[t * HIDDEN..(t + 1) * HIDDEN];
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
            let h_prev = &self.hs[t * HIDDEN..(t + 1) * HIDDEN];
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
            for l in 0..LANES {
                let row = &mut self.dz[(l * SEQ_LEN + t) * G..][..G];
                for col in 0..G {
                    row[col] = dz[col][l];
                }
            }
        }
        for (out, lanes) in self.d_rec.iter_mut().zip(d_rec.as_flattened()) {
            *out = lanes.iter().sum();
        }
        for (out, lanes) in self.d_bias.iter_mut().zip(&d_bias) {
            *out = lanes.iter().sum();
        }
    }
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
