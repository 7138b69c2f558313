//! The notebook's three architectures and their weights: the plain weight types, safetensors I/O
//! under Keras' and PyTorch's names, and the Keras-style summary.
//!
//! | file                | what                                                                  |
//! |---------------------|-----------------------------------------------------------------------|
//! | `weights.rs`        | [`Arch`], [`Model`] and the plain weight types, in Keras' layout      |
//! | `names.rs`          | both namings' tensor names, from one description                      |
//! | `safetensors_io.rs` | load and save: file bounds, metadata, the deterministic writer        |
//! | `detect.rs`         | which naming and architecture a file's tensor names say               |
//! | `reader.rs`         | checked tensor access (names, dtypes, shapes, vocabulary, finiteness) |
//! | `summary.rs`        | the Keras-style layer table                                           |
//! | `open.rs`           | one door for every model file: safetensors, Keras `.h5` / `.keras`    |
//! | `keras_tensors.rs`  | weights in Keras' `get_weights()` order and shapes                    |

mod detect;
pub mod error;
pub mod keras_tensors;
pub mod names;
pub mod open;
mod reader;
pub mod safetensors_io;
pub mod summary;
pub mod weights;

pub use error::ModelError;
pub use keras_tensors::KerasTensor;
pub use names::Naming;
pub use open::{OpenError, open};
pub use safetensors_io::{MAX_FILE_BYTES, MAX_VOCAB};
pub use summary::LayerSummary;
pub use weights::{Arch, LstmWeights, Model, RnnInput, RnnWeights};
