//! The inference operations that pass through the dispatch door ([`super::Kernel::dispatch`]):
//! each pairs its scalar reference with its vector body of `simd` (private), written once over
//! [`Isa`]. The training shard's operations are in `bptt` (private).

use super::activations::{self, Activation};
use super::isa::{Isa, Op};
use super::reference;
use super::simd::{self, BlockModel};
use super::tables::{LstmState, LstmTables, RnnState, RnnTables};
use crate::shape::{HIDDEN, SEQ_LEN};

/// Probabilities of a batch `[n, SEQ_LEN]` (sequences in lanes).
pub(crate) struct Forward<'a, M> {
    pub m: &'a M,
    pub seqs: simd::BatchRows<'a>,
    pub probs: &'a mut [f32],
}

impl<M: BlockModel> Op for Forward<'_, M> {
    type Output = ();
    fn reference(self) {
        self.m.reference_forward(self.seqs, self.probs);
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        simd::forward(isa, self.m, self.seqs, self.probs);
    }
}

/// Final hidden states `[n, HIDDEN]` of a batch (sequences in lanes).
pub(crate) struct ForwardHidden<'a, M> {
    pub m: &'a M,
    pub seqs: &'a [[u16; SEQ_LEN]],
    pub hidden: &'a mut [[f32; HIDDEN]],
}

impl<M: BlockModel> Op for ForwardHidden<'_, M> {
    type Output = ();
    fn reference(self) {
        self.m.reference_forward_hidden(self.seqs, self.hidden);
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        simd::forward_hidden(isa, self.m, self.seqs, self.hidden);
    }
}

/// The batch kernel's LSTM padding cache ([`LstmTables::batch_pad_state`]).
pub(crate) struct LstmBatchPads<'a> {
    pub t: &'a LstmTables,
}

impl Op for LstmBatchPads<'_> {
    type Output = Vec<LstmState>;
    fn reference(self) -> Vec<LstmState> {
        // The reference batch is the reference step.
        (0..=SEQ_LEN).map(|k| *self.t.pad_state(k)).collect()
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) -> Vec<LstmState> {
        simd::lstm_batch_pad_states(isa, self.t)
    }
}

/// The batch kernel's SimpleRNN padding cache ([`RnnTables::batch_pad_state`]).
pub(crate) struct RnnBatchPads<'a> {
    pub t: &'a RnnTables,
}

impl Op for RnnBatchPads<'_> {
    type Output = Vec<RnnState>;
    fn reference(self) -> Vec<RnnState> {
        (0..=SEQ_LEN).map(|k| *self.t.pad_state(k)).collect()
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) -> Vec<RnnState> {
        simd::rnn_batch_pad_states(isa, self.t)
    }
}

/// One LSTM step of one sequence (gates in lanes).
pub(crate) struct LstmStep<'a> {
    pub t: &'a LstmTables,
    pub state: &'a mut LstmState,
    pub token: u16,
}

impl Op for LstmStep<'_> {
    type Output = ();
    fn reference(self) {
        reference::lstm_step(self.t, self.state, self.token);
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        let x8 = isa.x8();
        let s = self.state;
        let (h, c) = (simd::InMemory(&s.h), x8.load(&s.c));
        let (h, c) = if isa.wide_lstm_step() {
            simd::lstm_cell_lanes::<I, true, _>(isa, self.t, h, c, self.token)
        } else {
            simd::lstm_cell_lanes::<I, false, _>(isa, self.t, h, c, self.token)
        };
        s.h = x8.store(h);
        s.c = x8.store(c);
    }
}

/// LSTM steps of one sequence with several tokens, the state in registers between them.
pub(crate) struct LstmSteps<'a> {
    pub t: &'a LstmTables,
    pub state: &'a mut LstmState,
    pub tokens: &'a [u16],
}

impl Op for LstmSteps<'_> {
    type Output = ();
    fn reference(self) {
        for &token in self.tokens {
            reference::lstm_step(self.t, self.state, token);
        }
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        simd::lstm_steps(isa, self.t, self.state, self.tokens);
    }
}

/// Final `h` of one LSTM review (latency kernel, from the padding cache): `pads` leading pads,
/// then the ids `id(pads)`, …, `id(SEQ_LEN - 1)`, each asked for once, in order.
pub(crate) struct LstmReviewHidden<'a, F> {
    pub t: &'a LstmTables,
    pub pads: usize,
    pub id: F,
}

impl<F: FnMut(usize) -> u16> Op for LstmReviewHidden<'_, F> {
    type Output = [f32; HIDDEN];
    fn reference(self) -> [f32; HIDDEN] {
        reference::lstm_review_state(self.t, &review_row(self.pads, self.id)).h
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) -> [f32; HIDDEN] {
        simd::lstm_review_hidden(isa, self.t, self.pads, self.id)
    }
}

/// The padded row of a review given as `pads` and `id` (see [`LstmReviewHidden`]): the reference
/// kernel's input. Panics if `pads > SEQ_LEN`.
fn review_row(pads: usize, mut id: impl FnMut(usize) -> u16) -> [u16; SEQ_LEN] {
    assert!(pads <= SEQ_LEN, "{pads} leading pads in a row of {SEQ_LEN}");
    let mut row = [0u16; SEQ_LEN];
    for (k, slot) in row.iter_mut().enumerate().skip(pads) {
        *slot = id(k);
    }
    row
}

/// One SimpleRNN step of one sequence (units in lanes).
pub(crate) struct RnnStep<'a> {
    pub t: &'a RnnTables,
    pub state: &'a mut RnnState,
    pub token: u16,
}

impl Op for RnnStep<'_> {
    type Output = ();
    fn reference(self) {
        reference::rnn_step(self.t, self.state, self.token);
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        let isa = isa.x8();
        let u = simd::rnn_recurrent_lanes(isa, self.t);
        let h = simd::rnn_cell_lanes(isa, self.t, &u, simd::InMemory(&self.state.h), self.token);
        self.state.h = isa.store(h);
    }
}

/// SimpleRNN steps of one sequence with several tokens, the state in registers between them.
pub(crate) struct RnnSteps<'a> {
    pub t: &'a RnnTables,
    pub state: &'a mut RnnState,
    pub tokens: &'a [u16],
}

impl Op for RnnSteps<'_> {
    type Output = ();
    fn reference(self) {
        for &token in self.tokens {
            reference::rnn_step(self.t, self.state, token);
        }
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        simd::rnn_steps(isa.x8(), self.t, self.state, self.tokens);
    }
}

/// Final `h` of one SimpleRNN review (latency kernel, from the padding cache), given as
/// [`LstmReviewHidden`]'s is.
pub(crate) struct RnnReviewHidden<'a, F> {
    pub t: &'a RnnTables,
    pub pads: usize,
    pub id: F,
}

impl<F: FnMut(usize) -> u16> Op for RnnReviewHidden<'_, F> {
    type Output = [f32; HIDDEN];
    fn reference(self) -> [f32; HIDDEN] {
        reference::rnn_review_state(self.t, &review_row(self.pads, self.id)).h
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) -> [f32; HIDDEN] {
        simd::rnn_review_hidden(isa.x8(), self.t, self.pads, self.id)
    }
}

/// An activation over a slice, in place. The reference uses the standard library
/// (`1 / (1 + exp(-x))`, `tanh`) for every variant.
pub(crate) struct ActivationInPlace<'a> {
    pub act: Activation,
    pub xs: &'a mut [f32],
}

impl Op for ActivationInPlace<'_> {
    type Output = ();
    fn reference(self) {
        if self.act.is_tanh() {
            self.xs.iter_mut().for_each(|x| *x = x.tanh());
        } else {
            self.xs.iter_mut().for_each(|x| *x = reference::sigmoid(*x));
        }
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        activations::activation_in_place(isa, self.act, self.xs);
    }
}
