//! fusedrnn: hand-tuned CPU kernels for the small recurrent networks of the Keras IMDB
//! sentiment notebook, and that notebook end to end in Rust.
//!
//! # Shapes
//! Everything is written for the notebook's fixed shapes ([`shape`]): reviews of
//! [`SEQ_LEN`](shape::SEQ_LEN) = 100 tokens, an [`EMBED`](shape::EMBED) = 16 wide embedding and
//! [`HIDDEN`](shape::HIDDEN) = 8 recurrent units, so one gate of all units is exactly one 256-bit
//! vector. The LSTM's [`GATES`](shape::GATES) = 32 pre-activations are in Keras' column order
//! i, f, c, o.
//!
//! # The pieces
//! - [`tokfile`]: the packed token file `imdb-pack` writes: read into memory, validated once on
//!   open (checksums, bounds, every token id), then borrowed as zero-copy typed views.
//! - [`model`]: the three architectures' weights, in Keras' layout; safetensors with Keras or
//!   PyTorch tensor names; the Keras-style summary.
//! - [`kernels`]: the one place that asks the CPU what it can do. The input projection is folded
//!   with the embedding into a vocab × gates table, the state after `k` leading pads is cached,
//!   and each cell has a scalar reference, a portable `wide` kernel and an AVX2+FMA kernel chosen
//!   at run time ([`kernels::Kernel::select`], overridable with `FUSEDRNN_KERNEL`).
//! - [`infer`]: scoring a split across cores, a streaming one-sequence session, Keras' loss and
//!   accuracy, and the measurements behind `fusedrnn bench`.
//! - [`train`]: Keras-faithful training (initializers, BPTT with 8 sequences in the SIMD lanes,
//!   RMSprop, input dropout, EarlyStopping, the fit loop), bit-identical for any thread count.
//! - [`plot`], [`atomic`]: PNG charts and all-or-nothing file output.
//!
//! # Safety
//! `unsafe` lives in the intrinsics `Isa` impls and their one `#[target_feature]` trampoline
//! each (in `kernels`, the one dispatch door for inference and the training shard alike; reached
//! only through a value that proves the CPU has the features), and nowhere else without a comment
//! with the invariant it relies on. Everything above them is safe Rust.
//!
//! # Example
//! One LSTM review through the scalar reference kernel and the fastest kernel of this CPU:
//! ```
//! use fusedrnn::kernels::{Kernel, fold_lstm};
//! use fusedrnn::model::LstmWeights;
//! use fusedrnn::shape::{HIDDEN, SEQ_LEN};
//!
//! let weights = LstmWeights {
//!     embedding: (0..500).map(|v| [((v % 7) as f32 - 3.0) * 0.05; 16]).collect(),
//!     kernel: [[0.1; 32]; 16],
//!     recurrent_kernel: [[-0.05; 32]; HIDDEN],
//!     bias: [0.0; 32],
//!     dense_kernel: [0.5; HIDDEN],
//!     dense_bias: 0.0,
//! };
//! let tables = fold_lstm(&weights);
//! let mut review = [0u16; SEQ_LEN]; // `pad_sequences` pads at the front with 0
//! review[60..].copy_from_slice(&[1u16, 14, 22, 16, 43, 2, 65, 4, 2, 5, 25, 100, 43, 2, 112, 50, 2, 2, 9, 35, 480, 284, 5, 150, 4, 172, 112, 167, 2, 336, 385, 39, 4, 172, 4, 2, 2, 17, 2, 38]);
//! let want = Kernel::Reference.lstm_review(&tables, &review);
//! let got = Kernel::best().lstm_review(&tables, &review);
//! assert!((got - want).abs() < 1e-5);
//! assert!(want > 0.0 && want < 1.0);
//! ```

pub mod atomic;
#[cfg(feature = "cli")]
pub mod cli;
pub mod display;
pub mod files;
pub mod infer;
pub mod kernels;
pub mod model;
pub mod net;
pub mod plot;
pub mod shape;
pub mod text;
pub mod tokfile;
pub mod train;

/// README's Rust example, compiled by `cargo test --doc` so it cannot drift from the API (the
/// item exists only when rustdoc collects doctests).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
