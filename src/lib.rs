//! fusedrnn: hand-tuned CPU kernels for the small recurrent networks of the Keras IMDB notebook.
//!
//! (Crate documentation grows with the modules; see DESIGN in the repository.)

pub mod atomic;
pub mod infer;
pub mod kernels;
pub mod model;
pub mod plot;
pub mod shape;
pub mod tokfile;
pub mod train;
