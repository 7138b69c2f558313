//! The operations for any shape ([`crate::net`]) that pass through the dispatch door: each
//! pairs the scalar reference of [`crate::net::reference`] with its vector body of `net_simd`,
//! written once over [`Isa`].

use super::isa::{Isa, Op};
use std::cell::RefCell;

use super::net_simd::{self, Batch, NetOut, Steps};
use crate::net::{NetPadCache, NetState, NetTables, TokenId, reference};

thread_local! {
    /// The vector bodies' scratch, grown once per thread to the largest shape it has run.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's scratch of at least `net_simd::scratch_floats(units)` floats
/// (allocated on first use; a fresh buffer if the thread's is in use).
pub(crate) fn with_scratch<R>(units: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let need = net_simd::scratch_floats(units);
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < need {
                buf.resize(need, 0.0);
            }
            f(&mut buf[..need])
        }
        Err(_) => f(&mut vec![0.0; need]),
    })
}

/// A batch `[n, seq_len]`: probabilities or final hidden states.
pub(crate) struct NetForward<'a, T> {
    pub t: &'a NetTables,
    pub pads: &'a NetPadCache,
    pub seqs: &'a [T],
    pub out: NetOut<'a>,
    /// At least `net_simd::scratch_floats(units)` floats (see [`with_scratch`]).
    pub scratch: &'a mut [f32],
}

impl<T: TokenId> Op for NetForward<'_, T> {
    type Output = ();
    fn reference(self) {
        let NetForward {
            t, seqs, mut out, ..
        } = self;
        let (h, len) = (t.spec().units, t.spec().seq_len);
        for (i, seq) in seqs.chunks_exact(len).enumerate() {
            let s = reference::sequence_state(t, seq);
            match out {
                NetOut::Probs(ref mut p) => p[i] = reference::prob(t, &s.h),
                NetOut::Hidden(ref mut o) => o[i * h..(i + 1) * h].copy_from_slice(&s.h),
            }
        }
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        let job = Batch {
            t: self.t,
            pads: self.pads,
            seqs: self.seqs,
            out: self.out,
            scratch: self.scratch,
        };
        net_simd::by_shape(isa, self.t, job);
    }
}

/// One sequence's state stepped through `tokens` (the latency path).
pub(crate) struct NetSteps<'a, T> {
    pub t: &'a NetTables,
    pub state: &'a mut NetState,
    pub tokens: &'a [T],
    /// As [`NetForward::scratch`].
    pub scratch: &'a mut [f32],
}

impl<T: TokenId> Op for NetSteps<'_, T> {
    type Output = ();
    fn reference(self) {
        let mut scratch = Vec::new();
        for tok in self.tokens {
            reference::step(self.t, self.state, tok.index(), &mut scratch);
        }
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        let job = Steps {
            t: self.t,
            h: &mut self.state.h,
            c: &mut self.state.c,
            tokens: self.tokens,
            scratch: self.scratch,
        };
        net_simd::by_shape(isa, self.t, job);
    }
}
