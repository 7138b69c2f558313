//! `fusedrnn-data-tools`: Keras' `imdb.npz` into fusedrnn's packed token file, with exactly the
//! notebook's preprocessing — `keras.datasets.imdb.load_data`, sklearn's `train_test_split` and
//! `keras.utils.pad_sequences`.
//!
//! The pieces, bottom up: [`npz`] (zip members, stored or deflated), [`npy`] (the `.npy` header
//! and integer arrays), [`pickle`] (the object arrays of int lists), [`numpy_random`] (numpy's
//! legacy MT19937 `RandomState`), [`keras`] (the notebook's semantics) and [`mod@pack`] (the whole
//! pipeline, as `imdb-pack` runs it). This crate is the only place that parses pickle.
//!
//! [`keras_model`] reads Keras model files (`.h5`, `.keras`) of the notebook's models. It is the
//! leaf crate `fusedrnn-keras` (in `data-tools/keras/`), re-exported here: the `fusedrnn` CLI
//! needs it too, and cannot depend on this crate, which depends on the `fusedrnn` library.

// This crate parses hostile input (npz, npy, pickle) and needs no `unsafe`.
#![forbid(unsafe_code)]

pub mod keras;
pub mod load;
pub mod locate;
pub mod npy;
pub mod npz;
pub mod numpy_random;
pub mod pack;
pub mod pickle;
pub mod synth;

pub use fusedrnn_keras as keras_model;

use std::path::PathBuf;

/// The settings `pack` takes (and the token file records): re-exported from the library.
pub use fusedrnn::tokfile::PackParams;
pub use pack::{ImdbArrays, Packed, pack};

/// Any failure of the data tools, naming the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {problem}", path.display())]
    Input { path: PathBuf, problem: String },
    #[error("invalid settings: {0}")]
    Config(String),
    #[error(transparent)]
    Tok(#[from] fusedrnn::tokfile::TokFileError),
}
