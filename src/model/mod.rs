//! The notebook's three architectures and their weights: the plain weight types, safetensors I/O
//! under Keras' and PyTorch's names, and the Keras-style summary.

pub mod error;
pub mod keras_tensors;
pub mod names;
pub mod open;
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
