//! The fast forward + backward of one shard: [`LANES`] sequences side by side, one per lane.
//!
//! Every per-step quantity is stored as `[f32; LANES]` (one value per sequence), so the cell
//! arithmetic is the same scalar expression repeated over the lanes, which the compiler turns
//! into vector instructions; the activations run through the chosen [`Kernel`]'s vectorised
//! sigmoid and tanh over a whole step's block at once. The equations are those of
//! [`super::reference`]; this file only changes the layout:
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

// Index loops over lanes, units and columns read like the equations.
#![allow(clippy::needless_range_loop)]

use crate::infer::metrics::{EPSILON, bce};
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
    pub active: usize,
    pub tokens: [[u16; SEQ_LEN]; LANES],
    pub labels: [f32; LANES],
    /// `[LANES·SEQ_LEN, G]`, filled by the caller.
    pub xproj: Vec<f32>,
    acts: Vec<L>,
    hs: Vec<L>,
    cs: Vec<L>,
    tcs: Vec<L>,
    /// `[LANES·SEQ_LEN, G]` pre-activation gradients.
    pub dz: Vec<f32>,
    /// `[HIDDEN, G]`, summed over the lanes.
    pub d_rec: Vec<f32>,
    /// `[G]`.
    pub d_bias: Vec<f32>,
    pub d_dense: [f32; HIDDEN],
    pub d_dense_bias: f32,
    /// Sum over the active lanes of the per-sample loss (Keras' clipped BCE).
    pub loss_sum: f64,
    /// Active lanes whose prediction `p > 0.5` matches the label.
    pub correct: usize,
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

    /// Forward and backward of the shard from `xproj` (already filled). `rec` is the recurrent
    /// kernel `[HIDDEN, G]`, `dense`/`dense_bias` the head, `inv_n` = 1 / batch size.
    ///
    /// With the AVX2+FMA kernel the same body is compiled a second time with those features
    /// enabled, so the lane loops become single 256-bit instructions instead of two SSE halves.
    /// No FMA contraction happens either way (Rust never fuses `a * b + c`), so both builds of
    /// the body compute bit-identical results.
    pub fn run(
        &mut self,
        arch: Arch,
        kernel: Kernel,
        rec: &[f32],
        dense: &[f32; HIDDEN],
        dense_bias: f32,
        inv_n: f32,
    ) {
        #[cfg(target_arch = "x86_64")]
        if let Kernel::Avx2Fma(_proof) = kernel {
            // SAFETY: a `Kernel::Avx2Fma` holds an `Avx2Fma`, which only `Avx2Fma::detect`
            // builds after seeing AVX2 and FMA: the features `run_avx2_fma` enables.
            unsafe { self.run_avx2_fma(arch, kernel, rec, dense, dense_bias, inv_n) };
            return;
        }
        self.run_body(arch, kernel, rec, dense, dense_bias, inv_n);
    }

    /// [`Self::run_body`] compiled for AVX2+FMA (the feature list of `Avx2Fma::detect`).
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2_fma(
        &mut self,
        arch: Arch,
        kernel: Kernel,
        rec: &[f32],
        dense: &[f32; HIDDEN],
        dense_bias: f32,
        inv_n: f32,
    ) {
        self.run_body(arch, kernel, rec, dense, dense_bias, inv_n);
    }

    #[inline(always)]
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

    /// The body for `G` columns; `LSTM` selects the cell. Fixed trip counts let the compiler
    /// unroll the column loops and keep each lane array in one register.
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
        let p = logit;
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
