//! `keras.callbacks.EarlyStopping(monitor="val_loss", patience, restore_best_weights=True)`
//! with Keras 3's bookkeeping (`min_delta = 0`, no baseline, `start_from_epoch = 0`):
//!
//! ```text
//! on_epoch_end(epoch, current):
//!     wait += 1
//!     if current < best: best = current; best_weights = weights; wait = 0
//!     elif wait >= patience and epoch > 0: stop
//! on_train_end: restore best_weights
//! ```
//!
//! A NaN loss is never an improvement (`np.less` is false for NaN).

/// What to do after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A new lowest validation loss: keep these weights (and write the checkpoint).
    Improved,
    /// No improvement; keep going.
    Continue,
    /// Patience exhausted: stop and restore the best weights.
    Stop,
}

/// EarlyStopping's state.
#[derive(Clone, Debug, PartialEq)]
pub struct EarlyStopping {
    pub patience: usize,
    /// Lowest monitored value so far (`+∞` before the first epoch).
    pub best: f64,
    /// 0-based epoch of `best`.
    pub best_epoch: Option<usize>,
    pub wait: usize,
}

impl EarlyStopping {
    pub fn new(patience: usize) -> EarlyStopping {
        EarlyStopping {
            patience,
            best: f64::INFINITY,
            best_epoch: None,
            wait: 0,
        }
    }

    /// Records the validation loss of 0-based `epoch`.
    pub fn on_epoch_end(&mut self, epoch: usize, current: f64) -> Verdict {
        self.wait += 1;
        if current < self.best {
            self.best = current;
            self.best_epoch = Some(epoch);
            self.wait = 0;
            return Verdict::Improved;
        }
        if self.wait >= self.patience && epoch > 0 {
            Verdict::Stop
        } else {
            Verdict::Continue
        }
    }
}
