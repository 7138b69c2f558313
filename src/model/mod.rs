//! The notebook's three architectures and their weights.

pub mod weights;

pub use weights::{Arch, LstmWeights, Model, RnnInput, RnnWeights};
