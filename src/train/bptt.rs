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
use crate::shape::{HIDDEN, SEQ_LEN};

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
    d_rec_lanes: Vec<L>,
    d_bias_lanes: Vec<L>,
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
            d_rec_lanes: vec![ZERO; HIDDEN * g],
            d_bias_lanes: vec![ZERO; g],
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
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &mut self,
        arch: Arch,
        kernel: Kernel,
        rec: &[f32],
        dense: &[f32; HIDDEN],
        dense_bias: f32,
        inv_n: f32,
    ) {
        let g = self.g;
        assert_eq!(rec.len(), HIDDEN * g, "recurrent kernel [HIDDEN, G]");
        let lstm = arch == Arch::Lstm;
        // Forward.
        self.hs[..HIDDEN].fill(ZERO);
        self.cs[..HIDDEN].fill(ZERO);
        for t in 0..SEQ_LEN {
            let a = &mut self.acts[t * g..(t + 1) * g];
            for l in 0..LANES {
                let row = &self.xproj[(l * SEQ_LEN + t) * g..][..g];
                for col in 0..g {
                    a[col][l] = row[col];
                }
            }
            let h: [L; HIDDEN] = self.hs[t * HIDDEN..(t + 1) * HIDDEN]
                .try_into()
                .expect("HIDDEN");
            for j in 0..HIDDEN {
                let hj = h[j];
                let uj = &rec[j * g..(j + 1) * g];
                for col in 0..g {
                    let w = uj[col];
                    let ac = &mut a[col];
                    for l in 0..LANES {
                        ac[l] += hj[l] * w;
                    }
                }
            }
            if lstm {
                let flat = a.as_flattened_mut();
                let (ifg, o) = flat.split_at_mut(GATE_O * HIDDEN * LANES);
                let (i_f, gg) = ifg.split_at_mut(GATE_C * HIDDEN * LANES);
                kernel.sigmoid_in_place(i_f);
                kernel.tanh_in_place(gg);
                kernel.sigmoid_in_place(o);
                let (cs_prev, cs_next) = self.cs.split_at_mut((t + 1) * HIDDEN);
                let c_prev = &cs_prev[t * HIDDEN..];
                let c_new = &mut cs_next[..HIDDEN];
                for u in 0..HIDDEN {
                    let (i, f) = (a[GATE_I * HIDDEN + u], a[GATE_F * HIDDEN + u]);
                    let gv = a[GATE_C * HIDDEN + u];
                    for l in 0..LANES {
                        c_new[u][l] = f[l] * c_prev[u][l] + i[l] * gv[l];
                    }
                }
                let tc = &mut self.tcs[t * HIDDEN..(t + 1) * HIDDEN];
                tc.copy_from_slice(c_new);
                kernel.tanh_in_place(tc.as_flattened_mut());
                let h_new = &mut self.hs[(t + 1) * HIDDEN..(t + 2) * HIDDEN];
                for u in 0..HIDDEN {
                    let o = a[GATE_O * HIDDEN + u];
                    for l in 0..LANES {
                        h_new[u][l] = o[l] * tc[u][l];
                    }
                }
            } else {
                kernel.tanh_in_place(a.as_flattened_mut());
                self.hs[(t + 1) * HIDDEN..(t + 2) * HIDDEN].copy_from_slice(a);
            }
        }

        // Dense head, loss, and ∂loss/∂logit (zero where Keras' clip is active).
        let h_last: [L; HIDDEN] = self.hs[SEQ_LEN * HIDDEN..].try_into().expect("HIDDEN");
        let mut logit = [dense_bias; LANES];
        for j in 0..HIDDEN {
            for l in 0..LANES {
                logit[l] += h_last[j][l] * dense[j];
            }
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
            self.d_dense[j] = (0..LANES).map(|l| h_last[j][l] * dlogit[l]).sum();
            for l in 0..LANES {
                dh[j][l] = dlogit[l] * dense[j];
            }
        }

        // Backward through time.
        self.d_rec_lanes.fill(ZERO);
        self.d_bias_lanes.fill(ZERO);
        let mut dc = [ZERO; HIDDEN];
        let mut dz = vec![ZERO; g];
        for t in (0..SEQ_LEN).rev() {
            let a = &self.acts[t * g..(t + 1) * g];
            if lstm {
                let tc = &self.tcs[t * HIDDEN..(t + 1) * HIDDEN];
                let c_prev = &self.cs[t * HIDDEN..(t + 1) * HIDDEN];
                for u in 0..HIDDEN {
                    let (i, f) = (a[GATE_I * HIDDEN + u], a[GATE_F * HIDDEN + u]);
                    let (gv, o) = (a[GATE_C * HIDDEN + u], a[GATE_O * HIDDEN + u]);
                    for l in 0..LANES {
                        let d_o = dh[u][l] * tc[u][l];
                        let dcu = dc[u][l] + dh[u][l] * o[l] * (1.0 - tc[u][l] * tc[u][l]);
                        dz[GATE_I * HIDDEN + u][l] = dcu * gv[l] * (i[l] * (1.0 - i[l]));
                        dz[GATE_F * HIDDEN + u][l] = dcu * c_prev[u][l] * (f[l] * (1.0 - f[l]));
                        dz[GATE_C * HIDDEN + u][l] = dcu * i[l] * (1.0 - gv[l] * gv[l]);
                        dz[GATE_O * HIDDEN + u][l] = d_o * (o[l] * (1.0 - o[l]));
                        dc[u][l] = dcu * f[l];
                    }
                }
            } else {
                for u in 0..HIDDEN {
                    for l in 0..LANES {
                        dz[u][l] = dh[u][l] * (1.0 - a[u][l] * a[u][l]);
                    }
                }
            }
            let h_prev = &self.hs[t * HIDDEN..(t + 1) * HIDDEN];
            for j in 0..HIDDEN {
                let hj = h_prev[j];
                let acc = &mut self.d_rec_lanes[j * g..(j + 1) * g];
                let uj = &rec[j * g..(j + 1) * g];
                let mut dhj = ZERO;
                for col in 0..g {
                    let w = uj[col];
                    for l in 0..LANES {
                        acc[col][l] += hj[l] * dz[col][l];
                        dhj[l] += dz[col][l] * w;
                    }
                }
                dh[j] = dhj;
            }
            for col in 0..g {
                for l in 0..LANES {
                    self.d_bias_lanes[col][l] += dz[col][l];
                }
            }
            for l in 0..LANES {
                let row = &mut self.dz[(l * SEQ_LEN + t) * g..][..g];
                for col in 0..g {
                    row[col] = dz[col][l];
                }
            }
        }
        for (out, lanes) in self.d_rec.iter_mut().zip(&self.d_rec_lanes) {
            *out = lanes.iter().sum();
        }
        for (out, lanes) in self.d_bias.iter_mut().zip(&self.d_bias_lanes) {
            *out = lanes.iter().sum();
        }
    }
}
