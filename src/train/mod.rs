//! Training like Keras: initializers, BPTT through all `SEQ_LEN` steps, RMSprop, input dropout,
//! and the fit loop (shuffle, early stopping, best checkpoint, history).
//!
//! | file                | what                                                                |
//! |---------------------|---------------------------------------------------------------------|
//! | `params.rs`         | the flat parameter layout shared by weights, gradients and optimizer |
//! | [`init`]            | SplitMix64, Keras 3's initializers                                   |
//! | [`mod@reference`]   | scalar f64 forward + backward, the oracle of the tests               |
//! | `bptt.rs`           | the fast shard kernel: [`LANES`] sequences in lanes                  |
//! | `trainer.rs`        | a batch: shards in parallel, fixed-order reduction, GEMMs, RMSprop   |
//! | [`rmsprop`]         | Keras 3's RMSprop                                                    |
//! | [`early_stopping`]  | Keras 3's EarlyStopping bookkeeping                                  |
//! | [`mod@fit`]         | epochs, validation, history                                          |
//! | `output.rs`         | the run folder: best checkpoint, `history.csv`, `loss.png`           |
//!
//! Same seed, same weights, whatever the number of threads: see [`Trainer`]. The internals
//! (`bptt`, `trainer`, `params`, `output`) are private; what they offer outside is re-exported
//! here.

mod bptt;
pub mod early_stopping;
pub(crate) mod first_seen;
pub mod fit;
pub mod init;
mod output;
mod params;
pub mod reference;
pub mod rmsprop;
mod trainer;

pub use bptt::{LANES, Shard};
pub use early_stopping::{EarlyStopping, Verdict};
pub use fit::{EpochRecord, FitOutcome, Observer, Quiet, TrainConfig, TrainError, fit, fit_from};
pub use init::{SplitMix64, init_params};
pub use output::RunDir;
pub use params::{Layout, Params};
pub use rmsprop::RmsProp;
pub use trainer::{BatchStats, Trainer, dropout_key, dropout_scales};
