//! The root crate's integration tests, built as one test binary (`cargo test --test all`;
//! one file's tests: `cargo test --test all kernels::`). One binary instead of one per file:
//! each file would otherwise be its own crate, compiled and linked against the library on its
//! own. Measured here (Intel Xeon, 2 cores, `ci` profile, library built): the 23 binaries took
//! 56 s to build (101 s of CPU), this one 32 s (56 s), and its run 48 s against 54 s for the 23
//! in turn. Each file stays where it was, a module of this crate (`#[path]`), with its own
//! helpers; `tests/common` is shared by all of them. Left out: `unsafe_paths.rs`, its own binary
//! so that Miri (`cargo +nightly miri test --test unsafe_paths`) interprets only it, and
//! `thread_stack.rs`, so that CI builds it alone without optimisation.

mod common;

#[path = "bad_input.rs"]
mod bad_input;
#[path = "fit_observer.rs"]
mod fit_observer;
#[path = "fuzz_corpus.rs"]
mod fuzz_corpus;
#[path = "infer.rs"]
mod infer;
#[path = "interrupt.rs"]
mod interrupt;
#[path = "keras_import.rs"]
mod keras_import;
#[path = "kernels.rs"]
mod kernels;
#[path = "model.rs"]
mod model;
#[path = "net_accuracy.rs"]
mod net_accuracy;
#[path = "net_cli.rs"]
mod net_cli;
#[path = "net_import_cli.rs"]
mod net_import_cli;
#[path = "net_kernels.rs"]
mod net_kernels;
#[path = "net_parity.rs"]
mod net_parity;
#[path = "net_reference.rs"]
mod net_reference;
#[path = "net_train.rs"]
mod net_train;
#[path = "predict_text.rs"]
mod predict_text;
#[path = "readme_figures.rs"]
mod readme_figures;
#[path = "text.rs"]
mod text;
#[path = "tokfile.rs"]
mod tokfile;
#[path = "train.rs"]
mod train;
#[path = "train_cli.rs"]
mod train_cli;
#[path = "train_parity.rs"]
mod train_parity;
