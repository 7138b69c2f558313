//! Kernel choice and the kernels.
//!
//! This module is the one place that asks the CPU what it can do. [`Kernel::select`] picks the
//! best kernel once (normally when a model is loaded), honouring the `FUSEDRNN_KERNEL`
//! environment variable, and every kernel has a printable [`Kernel::name`]:
//!
//! | kernel                | name                | what it is                                          |
//! |-----------------------|---------------------|-----------------------------------------------------|
//! | [`Kernel::Reference`] | `reference`         | scalar f32 loops ([`mod@reference`]), the test oracle|
//! | [`Kernel::Portable`]  | `portable-wide`     | `wide::f32x8` (`portable.rs`), any CPU              |
//! | same, on aarch64      | `portable-neon`     | `wide::f32x8` as two NEON `float32x4_t` halves      |
//! | [`Kernel::Avx2Fma`]   | `x86_64-avx2-fma`   | `core::arch` intrinsics (`x86_64_avx2_fma.rs`)      |
//!
//! Every kernel reads the folded weights of [`tables`] ([`fold_lstm`], [`fold_rnn`]) and offers:
//! a throughput forward pass over a batch (8 sequences in the 8 SIMD lanes), a latency step of one
//! sequence (the gates in the lanes), and a whole review (100 steps from the padding cache).
//!
//! Tokens must be rows of the table (`< vocab`): the token file validates that when it is opened.
//! The safe functions here check it anyway through ordinary slice indexing and panic on an
//! out-of-range token; there is no unchecked indexing.

pub mod activations;
pub mod gemm;
// The fast kernels are reached only through `Kernel` (the training shard borrows the portable ISA).
pub(crate) mod portable;
pub mod reference;
pub(crate) mod simd;
pub mod tables;
#[cfg(target_arch = "x86_64")]
mod x86_64_avx2_fma;

pub use activations::Activation;
pub use tables::{
    GATE_C, GATE_F, GATE_I, GATE_O, GateRow, HiddenRow, LstmState, LstmTables, RnnState, RnnTables,
    fold_lstm, fold_rnn, leading_pads,
};

use crate::model::{LstmWeights, RnnWeights};
use crate::shape::{HIDDEN, SEQ_LEN};

/// The environment variable that forces a kernel: `reference`, `portable` or `avx2-fma`
/// (`neon` on aarch64: the portable kernel there).
pub const KERNEL_ENV: &str = "FUSEDRNN_KERNEL";

/// The portable kernel's name. On aarch64 `wide` compiles to NEON, part of the baseline ISA there
/// (no run-time check needed), so the name says which SIMD the best kernel of that target is.
const PORTABLE_NAME: &str = if cfg!(target_arch = "aarch64") {
    "portable-neon"
} else {
    "portable-wide"
};

/// Proof that this CPU has AVX2 and FMA. Only [`Avx2Fma::detect`] builds it.
///
/// The feature list checked here must stay identical to the `#[target_feature(enable =
/// "avx2,fma")]` list of every function in `x86_64_avx2_fma.rs`.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
pub struct Avx2Fma(());

#[cfg(target_arch = "x86_64")]
impl Avx2Fma {
    /// `Some` if the CPU (and OS) support AVX2 and FMA.
    pub fn detect() -> Option<Self> {
        (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")).then_some(Self(()))
    }
}

/// A kernel family; every variant can run on this CPU (a value is the proof).
#[derive(Clone, Copy, Debug)]
pub enum Kernel {
    /// Scalar f32 loops: slow, obviously correct.
    Reference,
    /// `wide::f32x8`: whatever SIMD the build was compiled for.
    Portable,
    /// AVX2 + FMA intrinsics, chosen at run time.
    #[cfg(target_arch = "x86_64")]
    Avx2Fma(Avx2Fma),
}

/// Why [`Kernel::select`] refused the `FUSEDRNN_KERNEL` override.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KernelError {
    #[error("{KERNEL_ENV}={0:?} is not one of: reference, portable, avx2-fma")]
    Unknown(String),
    #[error("{KERNEL_ENV}={0:?} asks for a kernel this CPU cannot run (it lacks AVX2 and/or FMA)")]
    Unsupported(String),
}

impl Kernel {
    /// The fastest kernel this CPU can run, ignoring any override.
    pub fn best() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if let Some(cpu) = Avx2Fma::detect() {
            return Kernel::Avx2Fma(cpu);
        }
        Kernel::Portable
    }

    /// The fastest kernel, unless `FUSEDRNN_KERNEL` asks for another; an override the CPU cannot
    /// honour (or an unknown name) is an error, never a silent fallback.
    pub fn select() -> Result<Kernel, KernelError> {
        match std::env::var(KERNEL_ENV) {
            Ok(name) => Kernel::from_override(&name),
            Err(_) => Ok(Kernel::best()),
        }
    }

    /// Parse an override value (`reference`, `portable`, `avx2-fma`; the printable names are
    /// accepted too) and check the CPU can run it.
    pub fn from_override(name: &str) -> Result<Kernel, KernelError> {
        match name.trim() {
            "reference" => Ok(Kernel::Reference),
            "portable" | "portable-wide" => Ok(Kernel::Portable),
            "neon" | "portable-neon" if cfg!(target_arch = "aarch64") => Ok(Kernel::Portable),
            "avx2-fma" | "x86_64-avx2-fma" => {
                #[cfg(target_arch = "x86_64")]
                if let Some(cpu) = Avx2Fma::detect() {
                    return Ok(Kernel::Avx2Fma(cpu));
                }
                Err(KernelError::Unsupported(name.to_owned()))
            }
            _ => Err(KernelError::Unknown(name.to_owned())),
        }
    }

    /// Every kernel this CPU can run, slowest first: tests and benches loop over these.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))] // only x86-64 pushes
    pub fn available() -> Vec<Kernel> {
        let mut all = vec![Kernel::Reference, Kernel::Portable];
        #[cfg(target_arch = "x86_64")]
        if let Some(cpu) = Avx2Fma::detect() {
            all.push(Kernel::Avx2Fma(cpu));
        }
        all
    }

    /// Names of the kernels compiled into this build that this CPU cannot run.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))] // only x86-64 pushes
    pub fn unavailable_names() -> Vec<&'static str> {
        let mut missing = Vec::new();
        #[cfg(target_arch = "x86_64")]
        if Avx2Fma::detect().is_none() {
            missing.push("x86_64-avx2-fma");
        }
        missing
    }

    /// The printable name: `reference`, `portable-wide` (`portable-neon` on aarch64) or
    /// `x86_64-avx2-fma`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Reference => "reference",
            Kernel::Portable => PORTABLE_NAME,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(_) => "x86_64-avx2-fma",
        }
    }

    /// Fold LSTM weights (see [`fold_lstm`]), with the padding cache computed by this kernel's
    /// step, so [`Self::lstm_review`] equals stepping every token with [`Self::lstm_step`]
    /// bitwise. Panics if the vocabulary is empty.
    pub fn fold_lstm(self, w: &LstmWeights) -> LstmTables {
        tables::fold_lstm_with(w, |t, s, tok| self.lstm_step(t, s, tok))
    }

    /// Fold SimpleRNN weights (see [`fold_rnn`]), with the padding cache computed by this
    /// kernel's step. Panics if the vocabulary is empty.
    pub fn fold_rnn(self, w: &RnnWeights) -> RnnTables {
        tables::fold_rnn_with(w, |t, s, tok| self.rnn_step(t, s, tok))
    }

    /// LSTM probabilities of a batch `[n, SEQ_LEN]` into `probs [n]`.
    ///
    /// Allocation-free, single-threaded (split a batch across threads by calling this per
    /// chunk). Panics if `seqs.len() != probs.len()` or a token is `≥ vocab`.
    pub fn lstm_forward(self, t: &LstmTables, seqs: &[[u16; SEQ_LEN]], probs: &mut [f32]) {
        match self {
            Kernel::Reference => reference::lstm_forward(t, seqs, probs),
            Kernel::Portable => portable::lstm_forward(t, seqs, probs),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86_64_avx2_fma::lstm_forward(cpu, t, seqs, probs),
        }
    }

    /// Final LSTM hidden states `[n, HIDDEN]` of a batch (same contract as [`Self::lstm_forward`]).
    pub fn lstm_forward_hidden(
        self,
        t: &LstmTables,
        seqs: &[[u16; SEQ_LEN]],
        hidden: &mut [[f32; HIDDEN]],
    ) {
        match self {
            Kernel::Reference => reference::lstm_forward_hidden(t, seqs, hidden),
            Kernel::Portable => portable::lstm_forward_hidden(t, seqs, hidden),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86_64_avx2_fma::lstm_forward_hidden(cpu, t, seqs, hidden),
        }
    }

    /// One LSTM step of one sequence (streaming). Panics if `token ≥ vocab`.
    pub fn lstm_step(self, t: &LstmTables, state: &mut LstmState, token: u16) {
        match self {
            Kernel::Reference => reference::lstm_step(t, state, token),
            Kernel::Portable => portable::lstm_step(t, state, token),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86_64_avx2_fma::lstm_step(cpu, t, state, token),
        }
    }

    /// The model's output for a state: `σ(h · dense_kernel + dense_bias)`.
    pub fn lstm_prob(self, t: &LstmTables, state: &LstmState) -> f32 {
        reference::lstm_prob(t, state)
    }

    /// Final `h` of one review, latency-optimised: starts from the padding cache after the
    /// review's leading pads. Panics if a token is `≥ vocab`.
    pub fn lstm_review_hidden(self, t: &LstmTables, tokens: &[u16; SEQ_LEN]) -> [f32; HIDDEN] {
        match self {
            Kernel::Reference => reference::lstm_review_state(t, tokens).h,
            Kernel::Portable => portable::lstm_review_hidden(t, tokens),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86_64_avx2_fma::lstm_review_hidden(cpu, t, tokens),
        }
    }

    /// Probability of one review, latency-optimised (see [`Self::lstm_review_hidden`]).
    pub fn lstm_review(self, t: &LstmTables, tokens: &[u16; SEQ_LEN]) -> f32 {
        let h = self.lstm_review_hidden(t, tokens);
        reference::lstm_prob(
            t,
            &LstmState {
                h,
                c: [0.0; HIDDEN],
            },
        )
    }

    /// SimpleRNN probabilities of a batch (contract of [`Self::lstm_forward`]).
    pub fn rnn_forward(self, t: &RnnTables, seqs: &[[u16; SEQ_LEN]], probs: &mut [f32]) {
        match self {
            Kernel::Reference => reference::rnn_forward(t, seqs, probs),
            Kernel::Portable => portable::rnn_forward(t, seqs, probs),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86_64_avx2_fma::rnn_forward(cpu, t, seqs, probs),
        }
    }

    /// Final SimpleRNN hidden states of a batch.
    pub fn rnn_forward_hidden(
        self,
        t: &RnnTables,
        seqs: &[[u16; SEQ_LEN]],
        hidden: &mut [[f32; HIDDEN]],
    ) {
        match self {
            Kernel::Reference => reference::rnn_forward_hidden(t, seqs, hidden),
            Kernel::Portable => portable::rnn_forward_hidden(t, seqs, hidden),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86_64_avx2_fma::rnn_forward_hidden(cpu, t, seqs, hidden),
        }
    }

    /// One SimpleRNN step of one sequence. Panics if `token ≥ vocab`.
    pub fn rnn_step(self, t: &RnnTables, state: &mut RnnState, token: u16) {
        match self {
            Kernel::Reference => reference::rnn_step(t, state, token),
            Kernel::Portable => portable::rnn_step(t, state, token),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86_64_avx2_fma::rnn_step(cpu, t, state, token),
        }
    }

    /// `σ(h · dense_kernel + dense_bias)`.
    pub fn rnn_prob(self, t: &RnnTables, state: &RnnState) -> f32 {
        reference::rnn_prob(t, state)
    }

    /// Final `h` of one review, latency-optimised (padding cache, state in registers).
    pub fn rnn_review_hidden(self, t: &RnnTables, tokens: &[u16; SEQ_LEN]) -> [f32; HIDDEN] {
        match self {
            Kernel::Reference => reference::rnn_review_state(t, tokens).h,
            Kernel::Portable => portable::rnn_review_hidden(t, tokens),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86_64_avx2_fma::rnn_review_hidden(cpu, t, tokens),
        }
    }

    /// Probability of one review, latency-optimised.
    pub fn rnn_review(self, t: &RnnTables, tokens: &[u16; SEQ_LEN]) -> f32 {
        let h = self.rnn_review_hidden(t, tokens);
        reference::rnn_prob(t, &RnnState { h })
    }

    /// This kernel's activation over a slice, in place. The reference uses the standard
    /// library (`1 / (1 + exp(-x))`, `tanh`) for every variant; the others the approximations of
    /// [`activations`].
    pub fn activation_in_place(self, act: Activation, xs: &mut [f32]) {
        match self {
            Kernel::Reference if act.is_tanh() => xs.iter_mut().for_each(|x| *x = x.tanh()),
            Kernel::Reference => xs.iter_mut().for_each(|x| *x = reference::sigmoid(*x)),
            Kernel::Portable => portable::activation(act, xs),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86_64_avx2_fma::activation(cpu, act, xs),
        }
    }

    /// This kernel's sigmoid (throughput form) over a slice, in place.
    pub fn sigmoid_in_place(self, xs: &mut [f32]) {
        self.activation_in_place(Activation::Sigmoid, xs);
    }

    /// This kernel's tanh (throughput form) over a slice, in place.
    pub fn tanh_in_place(self, xs: &mut [f32]) {
        self.activation_in_place(Activation::Tanh, xs);
    }
}
