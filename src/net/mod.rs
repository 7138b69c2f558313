//! Any small recurrent network, not one shape (issue 14): `Embedding(vocab, width)` or one-hot
//! input → one SimpleRNN, LSTM or GRU layer of 1 to 256 units → `Dense(1, sigmoid)`, over
//! sequences of 1 to 4,096 tokens with 16- or 32-bit ids.
//!
//! The notebook's own shapes (8 units, width 16, length 100, 16-bit ids) keep their fixed-shape
//! types and kernels ([`crate::model::Model`], [`crate::kernels`]): that is the flagship fast path.
//! Everything else is described here:
//!
//! - [`Spec`]: the architecture, validated against hard limits before anything is allocated;
//! - [`NetWeights`]: the weights in Keras' layout as flat row-major `f32` vectors (Keras' tensor
//!   shapes and gate orders: LSTM `i, f, c, o`; GRU `z, r, h`);
//! - [`NetTables`]: the weights folded for the kernels (the input projection of every vocabulary
//!   entry precomputed, as [`crate::kernels::tables`] does for the notebook's shapes);
//! - [`mod@reference`]: the scalar reference step and forward pass, the oracle every faster kernel
//!   for these shapes is tested against;
//! - [`NetPadCache`]: the states after leading pads, stepped once by a kernel;
//! - [`NetScorer`]: folded weights, a kernel and its padding cache, scoring batches across
//!   threads, one sequence at a time, or a token at a time ([`NetSession`]). The kernels
//!   themselves are [`crate::kernels::Kernel`]'s `net_*` methods;
//! - [`open`] / [`NetWeights::save`] / [`NetWeights::save_torch`]: models in from Keras `.h5` /
//!   `.keras`, PyTorch state dicts and fusedrnn's own safetensors formats, and out again.

mod any;
mod open;
mod pad;
pub mod reference;
pub mod score;
mod spec;
mod summary;
mod tables;
pub mod train;
mod weights;

pub use any::{AnyModel, AnyOpenError, AnyScoreError, AnyScorer, open_any};
#[cfg(feature = "keras")]
pub use open::from_keras;
pub use open::{
    MAX_NET_FILE_BYTES, NET_FORMAT, NET_FORMAT_VERSION, NetOpenError, OpenOptions,
    from_safetensors_bytes, open, open_with,
};
pub use pad::{NetPadCache, leading_pads};
pub use score::{NetScoreError, NetScorer, NetSession};
pub use spec::{
    Cell, Input, MAX_SEQ_LEN, MAX_TABLE_FLOATS, MAX_UNITS, MAX_VOCAB, MAX_WIDTH, Spec, SpecError,
};
pub use tables::{NetState, NetTables};
pub use weights::{NetWeights, WeightsError};

use crate::tokfile::TokenIds;

/// A token id type the general kernels take: the token file's 16-bit ids (vocabularies up to
/// 65,536) or its 32-bit ones.
pub trait TokenId: Copy + Send + Sync + 'static {
    /// The id as a row index.
    fn index(self) -> usize;
    /// `tokens` as [`TokenIds`], the one non-generic form the kernels' bodies are reached by.
    ///
    /// The kernels' generic entry points (`Kernel::net_forward::<T>` and the like) turn their
    /// `&[T]` into this and call a non-generic function of this crate, which picks the body for
    /// the width. So the vector bodies (every ISA × cell × unit count) are compiled once, here,
    /// and not again in every crate that calls them with a concrete `T` (generic code is
    /// compiled where it is instantiated). Measured (`cargo test --profile ci --no-run
    /// --timings`, Intel Xeon, 2 cores): the CLI binary's compile went from 146 s to 17 s,
    /// `tests/net_kernels.rs`' from 157 s to 6 s, the workspace's own crates from ~520 s to
    /// ~310 s. Inside, the bodies take the ids as [`TokenIds`] at run time, not as a type
    /// parameter (a block of `u16` ids is widened to `u32` first), so each is compiled once
    /// rather than once per width: the library's `ci` build went from 159 s to 108 s and its
    /// unit-test build from 291 s to 171 s (same machine, quiet).
    ///
    /// One exception: a [`NetSession`]'s step reaches the trampolines of the kernels inlined, so
    /// a crate that feeds a session compiles its shape's match and trampolines again (a token a
    /// call, out of line cost 5–10 ns a step; measured in `Kernel::net_steps_with`'s docs).
    fn ids(tokens: &[Self]) -> TokenIds<'_>;
}

impl TokenId for u16 {
    #[inline(always)]
    fn index(self) -> usize {
        usize::from(self)
    }
    #[inline(always)]
    fn ids(tokens: &[Self]) -> TokenIds<'_> {
        TokenIds::U16(tokens)
    }
}

impl TokenId for u32 {
    #[inline(always)]
    fn index(self) -> usize {
        self as usize
    }
    #[inline(always)]
    fn ids(tokens: &[Self]) -> TokenIds<'_> {
        TokenIds::U32(tokens)
    }
}
