//! The portable kernels: the 8-lane bodies of `kernels::simd` (private) on `wide::f32x8`.
//!
//! `wide` chooses its instructions when it is compiled: on a default x86-64 build an `f32x8` is
//! two SSE halves and there is no FMA, so `mul_add` below is written `a * b + c`. Built with
//! `-C target-cpu=native` the same code becomes AVX (and FMA, when `wide` sees it).

use wide::{f32x8, i32x8};

use super::activations::{self, Activation};
use super::simd::{self, Isa};
use super::tables::{LstmState, LstmTables, RnnState, RnnTables};
use crate::shape::{HIDDEN, SEQ_LEN};

/// The `wide` instruction set: always available.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Portable;

impl Isa for Portable {
    type V = f32x8;

    #[inline(always)]
    fn splat(self, x: f32) -> f32x8 {
        f32x8::splat(x)
    }
    #[inline(always)]
    fn load(self, a: &[f32; 8]) -> f32x8 {
        f32x8::from(*a)
    }
    #[inline(always)]
    fn store(self, v: f32x8) -> [f32; 8] {
        v.to_array()
    }
    #[inline(always)]
    fn add(self, a: f32x8, b: f32x8) -> f32x8 {
        a + b
    }
    #[inline(always)]
    fn sub(self, a: f32x8, b: f32x8) -> f32x8 {
        a - b
    }
    #[inline(always)]
    fn mul(self, a: f32x8, b: f32x8) -> f32x8 {
        a * b
    }
    #[inline(always)]
    fn div(self, a: f32x8, b: f32x8) -> f32x8 {
        a / b
    }
    #[inline(always)]
    fn mul_add(self, a: f32x8, b: f32x8, c: f32x8) -> f32x8 {
        a * b + c
    }
    #[inline(always)]
    fn neg_mul_add(self, a: f32x8, b: f32x8, c: f32x8) -> f32x8 {
        c - a * b
    }
    #[inline(always)]
    fn clamp_keep_nan(self, x: f32x8, lo: f32, hi: f32) -> f32x8 {
        // `fast_max(a, b)` / `fast_min(a, b)` are `maxps a, b` / `minps a, b`, which return `b`
        // when either is NaN.
        f32x8::splat(hi).fast_min(f32x8::splat(lo).fast_max(x))
    }
    #[inline(always)]
    fn scale_pow2(self, p: f32x8, n: f32x8) -> f32x8 {
        let bits: i32x8 = bytemuck::cast(p);
        bytemuck::cast(bits + (n.fast_trunc_int() << 23))
    }
    #[inline(always)]
    fn lane_splat<const J: i32>(self, v: f32x8) -> f32x8 {
        f32x8::splat(v.to_array()[J as usize])
    }
    #[inline(always)]
    fn gather_rows(self, rows: [&[f32; 8]; 8]) -> [f32x8; 8] {
        f32x8::transpose(rows.map(|r| f32x8::from(*r)))
    }
}

/// Probabilities of a batch (see [`super::Kernel::lstm_forward`]).
pub fn lstm_forward(t: &LstmTables, seqs: &[[u16; SEQ_LEN]], probs: &mut [f32]) {
    simd::forward(Portable, t, seqs, probs);
}

/// Final hidden states of a batch.
pub fn lstm_forward_hidden(t: &LstmTables, seqs: &[[u16; SEQ_LEN]], hidden: &mut [[f32; HIDDEN]]) {
    simd::forward_hidden(Portable, t, seqs, hidden);
}

/// One LSTM step of one sequence, gates in lanes.
pub fn lstm_step(t: &LstmTables, s: &mut LstmState, token: u16) {
    let isa = Portable;
    let (h, c) = simd::lstm_cell_lanes(isa, t, isa.load(&s.h), isa.load(&s.c), token);
    s.h = isa.store(h);
    s.c = isa.store(c);
}

/// Final `h` of one review, latency-style (padding cache, state in registers).
pub fn lstm_review_hidden(t: &LstmTables, tokens: &[u16; SEQ_LEN]) -> [f32; HIDDEN] {
    simd::lstm_review_hidden(Portable, t, tokens)
}

/// Probabilities of a batch (see [`super::Kernel::rnn_forward`]).
pub fn rnn_forward(t: &RnnTables, seqs: &[[u16; SEQ_LEN]], probs: &mut [f32]) {
    simd::forward(Portable, t, seqs, probs);
}

/// Final hidden states of a batch.
pub fn rnn_forward_hidden(t: &RnnTables, seqs: &[[u16; SEQ_LEN]], hidden: &mut [[f32; HIDDEN]]) {
    simd::forward_hidden(Portable, t, seqs, hidden);
}

/// One SimpleRNN step of one sequence, units in lanes.
pub fn rnn_step(t: &RnnTables, s: &mut RnnState, token: u16) {
    let isa = Portable;
    let u = simd::rnn_recurrent_lanes(isa, t);
    s.h = isa.store(simd::rnn_cell_lanes(isa, t, &u, isa.load(&s.h), token));
}

/// Final `h` of one review, latency-style.
pub fn rnn_review_hidden(t: &RnnTables, tokens: &[u16; SEQ_LEN]) -> [f32; HIDDEN] {
    simd::rnn_review_hidden(Portable, t, tokens)
}

/// Activation number `ACT` (the order of [`Activation::ALL`]) of one vector.
#[inline(always)]
fn apply<I: Isa, const ACT: u8>(isa: I, v: I::V) -> I::V {
    match ACT {
        0 => activations::sigmoid(isa, v),
        1 => activations::tanh(isa, v),
        2 => activations::sigmoid_short_chain(isa, v),
        _ => activations::tanh_short_chain(isa, v),
    }
}

/// Activation `ACT` over `xs`, 8 lanes at a time (the tail through a zero-padded block). The
/// activation is a const parameter, not a closure: a closure is a function of its own that LLVM
/// declines to inline into a `#[target_feature]` caller, leaving every intrinsic a call.
#[inline(always)]
fn map_in_place<I: Isa, const ACT: u8>(isa: I, xs: &mut [f32]) {
    let mut chunks = xs.chunks_exact_mut(8);
    for c in &mut chunks {
        let block: &mut [f32; 8] = c.try_into().expect("chunks_exact_mut(8)");
        *block = isa.store(apply::<I, ACT>(isa, isa.load(block)));
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        let mut block = [0f32; 8];
        block[..tail.len()].copy_from_slice(tail);
        let out = isa.store(apply::<I, ACT>(isa, isa.load(&block)));
        tail.copy_from_slice(&out[..tail.len()]);
    }
}

/// An activation over a slice, in place.
#[inline(always)]
pub(crate) fn activation_in_place<I: Isa>(isa: I, act: Activation, xs: &mut [f32]) {
    match act {
        Activation::Sigmoid => map_in_place::<I, 0>(isa, xs),
        Activation::Tanh => map_in_place::<I, 1>(isa, xs),
        Activation::SigmoidShortChain => map_in_place::<I, 2>(isa, xs),
        Activation::TanhShortChain => map_in_place::<I, 3>(isa, xs),
    }
}

/// An activation approximation over a slice, in place.
pub fn activation(act: Activation, xs: &mut [f32]) {
    activation_in_place(Portable, act, xs);
}
