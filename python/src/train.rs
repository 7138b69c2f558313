//! `fit`: the library's fit loop ([`fusedrnn::train::fit_from`]) on numpy arrays, with Python
//! callbacks at each epoch's end and Ctrl-C honoured within one batch.
//!
//! Training runs on a worker thread without the GIL. The calling (main) thread waits for it and,
//! every few milliseconds, lets Python run its signal handlers; a `KeyboardInterrupt` there sets
//! the flag the worker's observer reports after each batch ([`Observer::cancelled`]), the worker
//! stops, and the interrupt is re-raised. An epoch callback (which writes checkpoints) is never
//! interrupted halfway: signal handlers only run on the main thread, never inside it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use fusedrnn::infer::ids::{collect_rows, labels01};
use fusedrnn::model::Model as Weights;
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::tokfile::{Split, SplitName};
use fusedrnn::train::{EpochRecord, Observer, Params, TrainConfig, TrainError, fit_from};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;

use crate::errors::{kernel, value_error};
use crate::ids::with_rows;
use crate::model::Model;

/// How often the waiting main thread lets Python handle signals.
const SIGNAL_POLL: Duration = Duration::from_millis(10);

/// Calls the Python epoch callback, and reports cancellation.
struct PyObserver<'a> {
    on_epoch: &'a Py<PyAny>,
    cancel: &'a AtomicBool,
    /// The callback's exception, re-raised as it was.
    error: Option<PyErr>,
}

/// An epoch's record as Python receives it: `(epoch, loss, accuracy, val_loss, val_accuracy,
/// seconds)`, 1-based epoch.
fn record_fields(r: &EpochRecord) -> (usize, f64, f64, f64, f64, f64) {
    (
        r.epoch,
        r.loss,
        r.accuracy,
        r.val_loss,
        r.val_accuracy,
        r.seconds,
    )
}

impl Observer for PyObserver<'_> {
    fn epoch_done(&mut self, r: &EpochRecord, improved: Option<&Weights>) -> Result<(), String> {
        Python::attach(|py| {
            let best = improved.map(|m| Model::new(m.clone())).transpose()?;
            let (epoch, loss, accuracy, val_loss, val_accuracy, seconds) = record_fields(r);
            let args = (epoch, loss, accuracy, val_loss, val_accuracy, seconds, best);
            self.on_epoch.call1(py, args).map(drop)
        })
        .map_err(|e| {
            let msg = e.to_string();
            self.error = Some(e);
            msg
        })
    }

    fn cancelled(&mut self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Rows and labels of one split, checked against the model's vocabulary.
fn rows_and_labels(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &PyReadonlyArray1<'_, f64>,
    what: &str,
    vocab: usize,
) -> PyResult<(Vec<[u16; SEQ_LEN]>, Vec<u8>)> {
    let rows = with_rows(py, x, what, |n, fill| collect_rows(n, vocab, fill))?
        .map_err(|e| value_error(format!("{what}: {e}")))?;
    let labels = labels01(y.as_array().iter().copied())
        .map_err(|e| value_error(format!("{what}'s labels: {e}")))?;
    if labels.len() != rows.len() {
        return Err(value_error(format!(
            "{what} has {} rows but {} labels",
            rows.len(),
            labels.len()
        )));
    }
    Ok((rows, labels))
}

/// `(history rows, best model, best epoch, stopped early, last model)`.
type FitResult = (
    Vec<(usize, f64, f64, f64, f64, f64)>,
    Model,
    usize,
    bool,
    Model,
);

/// Trains `model` (its weights are the starting point) and returns
/// `(history, best model, best epoch, stopped early, last model)`; `history` rows are
/// `(epoch, loss, accuracy, val_loss, val_accuracy, seconds)`. `on_epoch(epoch, loss, accuracy,
/// val_loss, val_accuracy, seconds, best_model_or_None)` runs after each epoch.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (model, x, y, x_val, y_val, *, epochs, batch_size, lr, dropout, patience, seed, threads, on_epoch))]
pub fn fit(
    py: Python<'_>,
    model: &Model,
    x: &Bound<'_, PyAny>,
    y: PyReadonlyArray1<'_, f64>,
    x_val: &Bound<'_, PyAny>,
    y_val: PyReadonlyArray1<'_, f64>,
    epochs: usize,
    batch_size: usize,
    lr: f32,
    dropout: f32,
    patience: usize,
    seed: u64,
    threads: usize,
    on_epoch: Py<PyAny>,
) -> PyResult<FitResult> {
    let vocab = model.weights.vocab();
    let (rows, labels) = rows_and_labels(py, x, &y, "x", vocab)?;
    let (val_rows, val_labels) = rows_and_labels(py, x_val, &y_val, "validation x", vocab)?;
    let lengths = vec![SEQ_LEN as u32; rows.len()];
    let val_lengths = vec![SEQ_LEN as u32; val_rows.len()];
    let train = Split::from_parts(
        SplitName::Train,
        SEQ_LEN,
        rows.as_flattened(),
        &labels,
        &lengths,
    )
    .map_err(value_error)?;
    let val = Split::from_parts(
        SplitName::Val,
        SEQ_LEN,
        val_rows.as_flattened(),
        &val_labels,
        &val_lengths,
    )
    .map_err(value_error)?;
    let cfg = TrainConfig {
        arch: model.weights.arch(),
        vocab,
        epochs,
        batch_size,
        lr,
        dropout,
        patience,
        seed,
        threads,
    };
    let kernel = kernel()?;
    let params = Params::from_model(&model.weights);
    let cancel = AtomicBool::new(false);

    let (outcome, callback_error, interrupt) = py.detach(|| {
        std::thread::scope(|s| {
            let (done_tx, done_rx) = mpsc::channel::<()>();
            let (on_epoch, cancel, cfg) = (&on_epoch, &cancel, &cfg);
            let worker = s.spawn(move || {
                let mut observer = PyObserver {
                    on_epoch,
                    cancel,
                    error: None,
                };
                let r = fit_from(params, &train, &val, vocab, cfg, kernel, &mut observer);
                let _ = done_tx.send(());
                (r, observer.error)
            });
            let mut interrupt = None;
            while let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(SIGNAL_POLL) {
                if interrupt.is_none()
                    && let Err(e) = Python::attach(|py| py.check_signals())
                {
                    interrupt = Some(e);
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            let (r, callback_error) = worker.join().unwrap_or_else(|_| {
                (
                    Err(TrainError::Observer("the training thread panicked".into())),
                    None,
                )
            });
            (r, callback_error, interrupt)
        })
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    if let Some(e) = callback_error {
        return Err(e);
    }
    let outcome = outcome.map_err(|e| match e {
        TrainError::Cancelled { .. } => PyKeyboardInterrupt::new_err(e.to_string()),
        _ => value_error(e),
    })?;
    let history = outcome.history.iter().map(record_fields).collect();
    Ok((
        history,
        Model::new(outcome.best)?,
        outcome.best_epoch,
        outcome.stopped_early,
        Model::new(outcome.last)?,
    ))
}
