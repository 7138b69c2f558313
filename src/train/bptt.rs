//! One training shard: [`LANES`] sequences, their labels and buffers, and the loss between the
//! forward and backward passes. The passes themselves are kernels (`kernels::bptt`), reached
//! through the one dispatch door ([`Kernel`]) like the inference kernels; this file holds no SIMD
//! and no `unsafe`.
//!
//! ```text
//! xproj  [LANES·SEQ_LEN, G]   x_t·W + b per (lane, step), row l·SEQ_LEN + t  (filled by the caller)
//! dz     [LANES·SEQ_LEN, G]   ∂loss/∂z per (lane, step): what the caller turns into δW, δE, δK
//! ```

use crate::infer::metrics::{EPSILON, bce};
pub use crate::kernels::bptt::LANES;
use crate::kernels::bptt::{IDENTITY, L, ShardBackward, ShardForward, Tape};
use crate::kernels::{Kernel, LineFloats};
use crate::model::Arch;
use crate::shape::{GATES, HIDDEN, SEQ_LEN};

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
    pub(crate) xproj: LineFloats,
    /// The forward pass's activations and states, for the backward pass.
    tape: Tape,
    /// `[LANES·SEQ_LEN, G]` pre-activation gradients.
    pub(crate) dz: LineFloats,
    /// Row of `xproj` / `dz` of (lane, step) for [`Rows::Lanes`]: one row per distinct token
    /// of a lane (the trainer's dropout path).
    pub(crate) lane_rows: [[u16; SEQ_LEN]; LANES],
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
            xproj: LineFloats::zeros(LANES * SEQ_LEN * g),
            tape: Tape::new(g),
            dz: LineFloats::zeros(LANES * SEQ_LEN * g),
            lane_rows: [[0; SEQ_LEN]; LANES],
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
    /// `kernel` runs both passes (the reference kernel its plain twin, the others their vector
    /// body).
    pub fn run(
        &mut self,
        arch: Arch,
        kernel: Kernel,
        rec: &[f32],
        dense: &[f32; HIDDEN],
        dense_bias: f32,
        inv_n: f32,
    ) {
        self.run_from(arch, kernel, rec, dense, dense_bias, inv_n, Rows::Identity);
    }

    /// [`Self::run`] with the input rows and their gradient where `rows` says (see [`Rows`]).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run_from(
        &mut self,
        arch: Arch,
        kernel: Kernel,
        rec: &[f32],
        dense: &[f32; HIDDEN],
        dense_bias: f32,
        inv_n: f32,
        rows: Rows<'_>,
    ) {
        let g = match arch {
            Arch::Lstm => GATES,
            Arch::Rnn | Arch::RnnOneHot => HIDDEN,
        };
        assert_eq!(self.g, g, "shard built for another architecture");
        debug_assert_eq!(self.tape.columns(), g);
        assert_eq!(rec.len(), HIDDEN * self.g, "recurrent kernel [HIDDEN, G]");
        let (xproj, index, dz, accumulate): (&[f32], _, &mut [f32], bool) = match rows {
            Rows::Table(table, d_table) => (table, &self.tokens, d_table, true),
            Rows::Identity => (&self.xproj, &IDENTITY, &mut self.dz, false),
            Rows::Lanes(n) => {
                let dz = &mut self.dz[..n * g];
                dz.fill(0.0);
                (&self.xproj[..n * g], &self.lane_rows, dz, true)
            }
        };
        let p = kernel.dispatch(ShardForward {
            tape: &mut self.tape,
            xproj,
            index,
            rec,
            dense,
            dense_bias,
        });
        let dlogit = loss_and_dlogit(
            &p,
            &self.labels,
            self.active,
            inv_n,
            &mut self.loss_sum,
            &mut self.correct,
        );
        kernel.dispatch(ShardBackward {
            tape: &mut self.tape,
            rec,
            dense,
            dlogit,
            dz,
            index,
            accumulate,
            active: self.active,
            d_rec: &mut self.d_rec,
            d_bias: &mut self.d_bias,
            d_dense: &mut self.d_dense,
            d_dense_bias: &mut self.d_dense_bias,
        });
    }
}

/// Where a shard's forward reads its input rows `x_t·W + b` and its backward puts `δz`.
pub(crate) enum Rows<'a> {
    /// Its own `xproj` / `dz`, row `l·SEQ_LEN + t` written (every lane).
    Identity,
    /// The folded table `[vocab, G]` read in place by token, and the table gradient
    /// `[vocab, G]` to which the active lanes' `δz` are added by token (`dz` untouched): the
    /// trainer's path without dropout.
    Table(&'a [f32], &'a mut [f32]),
    /// The first `n` rows of its own `xproj` / `dz`, one per (lane, distinct token) as
    /// `lane_rows` indexes them (no lane shares a row); `dz` is zeroed and the active lanes'
    /// `δz` added, each row's sum over its steps from last to first: a lane's repeated tokens
    /// share one row of the input product and of its gradient (the trainer's dropout path).
    Lanes(usize),
}

/// Per-sample loss and accuracy of the `active` lanes, and `∂loss/∂logit`: `(p − y)/n`, or 0
/// where Keras' probability clip is active (and in unused lanes).
fn loss_and_dlogit(
    p: &L,
    labels: &L,
    active: usize,
    inv_n: f32,
    loss_sum: &mut f64,
    correct: &mut usize,
) -> L {
    let mut dlogit = ZERO;
    *loss_sum = 0.0;
    *correct = 0;
    for l in 0..active {
        let y = labels[l];
        *loss_sum += f64::from(bce(p[l], y as u8));
        *correct += usize::from((p[l] > 0.5) == (y > 0.5));
        if p[l] > EPSILON && p[l] < 1.0 - EPSILON {
            dlogit[l] = (p[l] - y) * inv_n;
        }
    }
    dlogit
}
