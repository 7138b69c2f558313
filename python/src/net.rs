//! `Net`: a network of any shape the library computes (issue 14) — `Embedding(vocab, width)` or
//! one-hot input → SimpleRNN / LSTM / GRU (either `reset_after`) of 1..256 units →
//! `Dense(1, sigmoid)`, sequences of 1..4096 ids — over [`fusedrnn::net`]. The notebook's own
//! shapes keep the fixed-shape `Model` (model.rs); the Python layer picks one or the other.
//!
//! `net_fit` is `train::fit`'s twin over [`NetTrainer`]: same worker thread, same Ctrl-C rule,
//! same per-epoch callback signature.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use fusedrnn::infer::evaluate;
use fusedrnn::infer::ids::labels01;
use fusedrnn::net::train::{
    EpochRecord, NetObserver, NetTrainConfig, NetTrainError, NetTrainer, keras_init,
};
use fusedrnn::net::{Cell, Input, NetScorer, NetWeights, OpenOptions, Spec};
use numpy::ndarray::{Array2, IxDyn};
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayDyn, PyArrayMethods, PyReadonlyArray1,
    PyReadonlyArray2, PyReadonlyArrayDyn, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;

use crate::errors::{kernel, os_error, value_error};
use crate::model::{Session, SessionScorer, tokenizer_for};
use rayon::prelude::*;

/// A weight's Keras-style name and its array.
type NamedArray<'py> = (&'static str, Bound<'py, PyArrayDyn<f32>>);

/// How often the waiting main thread lets Python handle signals during `net_fit`.
const SIGNAL_POLL: Duration = Duration::from_millis(10);

/// A network of any supported shape, ready to score. Immutable (`set_weights` builds a new one).
#[pyclass(module = "fusedrnn._native", frozen)]
pub struct Net {
    pub weights: NetWeights,
    pub scorer: NetScorer,
}

impl Net {
    pub fn new(weights: NetWeights) -> PyResult<Net> {
        let scorer = NetScorer::from_weights(&weights, kernel()?).map_err(value_error)?;
        Ok(Net { weights, scorer })
    }
}

/// The spec of `cell` (`rnn`, `lstm`, `gru`, `gru-v1`), `units`, `vocab`, embedding `width`
/// (`None`: one-hot input) and `seq_len`, validated.
fn make_spec(
    cell: &str,
    units: usize,
    vocab: usize,
    width: Option<usize>,
    seq_len: usize,
) -> PyResult<Spec> {
    let cell = Cell::from_name(cell).ok_or_else(|| {
        value_error(format!(
            "unknown cell {cell:?}: expected \"rnn\", \"lstm\", \"gru\" or \"gru-v1\""
        ))
    })?;
    let input = match width {
        Some(width) => Input::Embedding { width },
        None => Input::OneHot,
    };
    let spec = Spec {
        cell,
        units,
        vocab,
        input,
        seq_len,
    };
    spec.validate().map_err(value_error)?;
    Ok(spec)
}

fn open_error(e: fusedrnn::net::NetOpenError) -> PyErr {
    if e.is_io() {
        os_error(e)
    } else {
        value_error(e)
    }
}

/// `[n, seq_len]` int64 ids, each checked `0 <= id < vocab` (the first bad one is named by its
/// position), as `u32`.
fn checked_ids(x: &PyReadonlyArray2<'_, i64>, what: &str, spec: &Spec) -> PyResult<Vec<u32>> {
    let shape = x.shape();
    let (rows, cols) = (shape[0], shape[1]);
    if cols != spec.seq_len {
        return Err(value_error(format!(
            "{what}: rows of {cols} token ids; this model runs sequences of {} \
             (pad_sequences(maxlen={}))",
            spec.seq_len, spec.seq_len
        )));
    }
    let flat = x
        .as_slice()
        .map_err(|_| value_error(format!("{what}: expected a C-contiguous int64 array")))?;
    let vocab = spec.vocab;
    let mut out = Vec::with_capacity(rows * cols);
    for (i, &id) in flat.iter().enumerate() {
        match u32::try_from(id) {
            Ok(t) if (t as usize) < vocab => out.push(t),
            _ => {
                return Err(value_error(format!(
                    "{what}[{}, {}] = {id} is outside the model's vocabulary (0..{vocab})",
                    i / cols,
                    i % cols
                )));
            }
        }
    }
    Ok(out)
}

#[pymethods]
impl Net {
    /// Opens Keras `.h5` / `.keras`, a PyTorch state dict or fusedrnn's safetensors, of any
    /// supported shape; `seq_len` is needed for files that do not record it (and overrides it).
    #[staticmethod]
    #[pyo3(signature = (path, seq_len = None))]
    fn open(py: Python<'_>, path: PathBuf, seq_len: Option<usize>) -> PyResult<Net> {
        let opts = OpenOptions { seq_len };
        let weights = py
            .detach(|| fusedrnn::net::open_with(&path, &opts))
            .map_err(open_error)?;
        Net::new(weights)
    }

    /// Keras 3's default initializers for the shape, from `seed`.
    #[staticmethod]
    #[pyo3(signature = (cell, units, vocab, width, seq_len, seed))]
    fn init(
        cell: &str,
        units: usize,
        vocab: usize,
        width: Option<usize>,
        seq_len: usize,
        seed: u64,
    ) -> PyResult<Net> {
        let spec = make_spec(cell, units, vocab, width, seq_len)?;
        Net::new(keras_init(spec, seed).map_err(value_error)?)
    }

    /// A network from float32 C-contiguous arrays in Keras' `get_weights()` order:
    /// `[embeddings,] kernel, recurrent_kernel, bias, dense kernel, dense bias`.
    #[staticmethod]
    #[pyo3(signature = (cell, units, vocab, width, seq_len, weights))]
    fn from_weights(
        cell: &str,
        units: usize,
        vocab: usize,
        width: Option<usize>,
        seq_len: usize,
        weights: Vec<PyReadonlyArrayDyn<'_, f32>>,
    ) -> PyResult<Net> {
        let spec = make_spec(cell, units, vocab, width, seq_len)?;
        let template = NetWeights {
            spec,
            embedding: Vec::new(),
            kernel: Vec::new(),
            recurrent_kernel: Vec::new(),
            bias: Vec::new(),
            dense_kernel: Vec::new(),
            dense_bias: 0.0,
        };
        let mut shapes: Vec<(&'static str, Vec<usize>)> = template
            .tensors()
            .into_iter()
            .map(|(name, _, shape)| (name, shape))
            .filter(|(_, shape)| shape.as_slice() != [0])
            .collect();
        shapes.push(("dense.bias", vec![1]));
        if weights.len() != shapes.len() {
            return Err(value_error(format!(
                "set_weights: expected {} weight arrays for {spec}, got {}",
                shapes.len(),
                weights.len()
            )));
        }
        let mut values: Vec<Vec<f32>> = Vec::with_capacity(shapes.len());
        for (i, (w, (name, shape))) in weights.iter().zip(&shapes).enumerate() {
            if w.shape() != shape.as_slice() {
                return Err(value_error(format!(
                    "set_weights: weights[{i}] ({name}) has shape {:?}, expected {shape:?}",
                    w.shape()
                )));
            }
            let v = w.as_slice().map_err(|_| {
                value_error(format!("weights[{i}] must be a C-contiguous float32 array"))
            })?;
            values.push(v.to_vec());
        }
        let mut it = values.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let embedding = match spec.input {
            Input::Embedding { .. } => next(),
            Input::OneHot => Vec::new(),
        };
        let w = NetWeights {
            spec,
            embedding,
            kernel: next(),
            recurrent_kernel: next(),
            bias: next(),
            dense_kernel: next(),
            dense_bias: next().first().copied().unwrap_or(0.0),
        };
        w.validate()
            .map_err(|e| value_error(format!("set_weights: {e}")))?;
        Net::new(w)
    }

    /// `rnn`, `lstm`, `gru` or `gru-v1`.
    #[getter]
    fn cell(&self) -> &'static str {
        self.weights.spec.cell.name()
    }

    #[getter]
    fn units(&self) -> usize {
        self.weights.spec.units
    }

    /// Rows of the input lookup (`num_words`).
    #[getter]
    fn vocab(&self) -> usize {
        self.weights.spec.vocab
    }

    /// Embedding width, `None` for one-hot input.
    #[getter]
    fn width(&self) -> Option<usize> {
        match self.weights.spec.input {
            Input::Embedding { width } => Some(width),
            Input::OneHot => None,
        }
    }

    #[getter]
    fn seq_len(&self) -> usize {
        self.weights.spec.seq_len
    }

    /// Whether the notebook's fixed-shape kernels can run this network.
    #[getter]
    fn is_notebook_shape(&self) -> bool {
        self.weights.spec.is_notebook_shape()
    }

    /// The kernel scoring this network.
    #[getter]
    fn kernel(&self) -> &'static str {
        self.scorer.kernel().name()
    }

    /// `[(name, array)]` in Keras' `get_weights()` order and shapes (float32, owned).
    fn get_weights<'py>(&self, py: Python<'py>) -> PyResult<Vec<NamedArray<'py>>> {
        let mut out = Vec::with_capacity(6);
        for (name, values, shape) in self.weights.tensors() {
            if shape.as_slice() == [0] {
                continue;
            }
            let a = PyArray1::from_slice(py, values)
                .reshape(IxDyn(&shape))
                .map_err(value_error)?;
            out.push((name, a));
        }
        let b = PyArray1::from_slice(py, &[self.weights.dense_bias])
            .reshape(IxDyn(&[1]))
            .map_err(value_error)?;
        out.push(("dense.bias", b));
        Ok(out)
    }

    /// Writes fusedrnn's safetensors (or a PyTorch state dict with `naming="torch"`),
    /// atomically.
    #[pyo3(signature = (path, naming = "keras"))]
    fn save(&self, py: Python<'_>, path: PathBuf, naming: &str) -> PyResult<()> {
        let result = match naming {
            "keras" => py.detach(|| self.weights.save(&path)),
            "torch" => py.detach(|| self.weights.save_torch(&path)),
            other => {
                return Err(value_error(format!(
                    "naming {other:?}: expected \"keras\" or \"torch\""
                )));
            }
        };
        result.map_err(open_error)
    }

    /// Probabilities `[n, 1]` float32 of `[n, seq_len]` int64 ids (C-contiguous).
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, i64>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let probs = self.probs(py, &x)?;
        let n = probs.len();
        let column = Array2::from_shape_vec((n, 1), probs).map_err(value_error)?;
        Ok(column.into_pyarray(py))
    }

    /// `(loss, accuracy)` as Keras' `evaluate` computes binary cross-entropy and accuracy.
    fn evaluate(
        &self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, i64>,
        y: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<(f64, f64)> {
        let labels = labels01(y.as_array().iter().copied()).map_err(value_error)?;
        let probs = self.probs(py, &x)?;
        if labels.len() != probs.len() {
            return Err(value_error(format!(
                "x has {} rows but y has {} labels",
                probs.len(),
                labels.len()
            )));
        }
        let e = py.detach(|| evaluate(&probs, &labels));
        Ok((e.loss, e.accuracy))
    }

    /// Probabilities of raw review texts, as the CLI's `predict --text` and the C API's
    /// `fusedrnn_score_text` give them: the notebook's tokenizer with `num_words` = the
    /// network's vocabulary, `pad_sequences` to its length, its latency path. `word_index`: a
    /// path to `imdb_word_index.json` or a `{word: rank}` dict.
    fn predict_text(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        word_index: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<f32>> {
        let tokenizer = tokenizer_for(py, word_index, self.weights.spec.vocab)?;
        let (scorer, len) = (&self.scorer, self.weights.spec.seq_len);
        py.detach(|| {
            texts
                .par_iter()
                .map_init(Vec::new, |row, t| {
                    tokenizer.padded_wide_into(t, len, row);
                    scorer.score_one(row)
                })
                .collect::<Result<Vec<f32>, _>>()
        })
        .map_err(value_error)
    }

    /// A streaming session over this network and a word index (the C API's
    /// `fusedrnn_session_*`).
    fn session(slf: Bound<'_, Self>, word_index: &Bound<'_, PyAny>) -> PyResult<Session> {
        let py = slf.py();
        let net = slf.get();
        let tokenizer = tokenizer_for(py, word_index, net.weights.spec.vocab)?;
        let scorer = SessionScorer::Net(&net.scorer);
        // SAFETY: `scorer` is the scorer of the frozen `Net` that `slf` refers to.
        unsafe { Session::new(slf.clone().into_any().unbind(), scorer, tokenizer) }
    }

    fn __repr__(&self) -> String {
        format!(
            "<fusedrnn Net {} kernel={}>",
            self.weights.spec,
            self.kernel()
        )
    }
}

impl Net {
    fn probs(&self, py: Python<'_>, x: &PyReadonlyArray2<'_, i64>) -> PyResult<Vec<f32>> {
        let ids = checked_ids(x, "x", &self.weights.spec)?;
        let scorer = &self.scorer;
        let rows = ids.len() / self.weights.spec.seq_len;
        py.detach(|| {
            let mut probs = vec![0f32; rows];
            scorer.score(&ids, &mut probs).map(|()| probs)
        })
        .map_err(value_error)
    }
}

/// Calls the Python epoch callback, and reports cancellation.
struct PyNetObserver<'a> {
    on_epoch: &'a Py<PyAny>,
    cancel: &'a AtomicBool,
    error: Option<PyErr>,
}

impl NetObserver for PyNetObserver<'_> {
    fn epoch_done(&mut self, r: &EpochRecord, improved: Option<&NetWeights>) -> Result<(), String> {
        Python::attach(|py| {
            let best = improved.map(|w| Net::new(w.clone())).transpose()?;
            let args = (
                r.epoch,
                r.loss,
                r.accuracy,
                r.val_loss,
                r.val_accuracy,
                r.seconds,
                best,
            );
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

fn labels_f32(y: &PyReadonlyArray1<'_, f64>, what: &str, rows: usize) -> PyResult<Vec<f32>> {
    let labels = labels01(y.as_array().iter().copied())
        .map_err(|e| value_error(format!("{what}'s labels: {e}")))?;
    if labels.len() != rows {
        return Err(value_error(format!(
            "{what} has {rows} rows but {} labels",
            labels.len()
        )));
    }
    Ok(labels.into_iter().map(f32::from).collect())
}

/// `(history rows, best net, best epoch, stopped early, last net)`.
type NetFitResult = (Vec<(usize, f64, f64, f64, f64, f64)>, Net, usize, bool, Net);

/// Trains `net` (its weights are the starting point) with [`NetTrainer`]; the same contract as
/// `fit` for the notebook's `Model`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (net, x, y, x_val, y_val, *, epochs, batch_size, lr, dropout, patience, seed, threads, on_epoch))]
pub fn net_fit(
    py: Python<'_>,
    net: &Net,
    x: PyReadonlyArray2<'_, i64>,
    y: PyReadonlyArray1<'_, f64>,
    x_val: PyReadonlyArray2<'_, i64>,
    y_val: PyReadonlyArray1<'_, f64>,
    epochs: usize,
    batch_size: usize,
    lr: f32,
    dropout: f32,
    patience: usize,
    seed: u64,
    threads: usize,
    on_epoch: Py<PyAny>,
) -> PyResult<NetFitResult> {
    let spec = net.weights.spec;
    let ids = checked_ids(&x, "x", &spec)?;
    let labels = labels_f32(&y, "x", ids.len() / spec.seq_len)?;
    let val_ids = checked_ids(&x_val, "validation x", &spec)?;
    let val_labels = labels_f32(&y_val, "validation x", val_ids.len() / spec.seq_len)?;
    let config = NetTrainConfig {
        epochs,
        batch_size,
        lr,
        dropout,
        patience,
        seed,
        threads,
        ..NetTrainConfig::default()
    };
    let mut trainer = NetTrainer::from_weights(net.weights.clone(), config).map_err(value_error)?;
    let cancel = AtomicBool::new(false);
    let (outcome, callback_error, interrupt) = py.detach(|| {
        std::thread::scope(|s| {
            let (done_tx, done_rx) = mpsc::channel::<()>();
            let (on_epoch, cancel) = (&on_epoch, &cancel);
            let (train, val) = ((&ids[..], &labels[..]), (&val_ids[..], &val_labels[..]));
            let trainer = &mut trainer;
            let worker = s.spawn(move || {
                let mut observer = PyNetObserver {
                    on_epoch,
                    cancel,
                    error: None,
                };
                let r = trainer.fit_with(train, val, &mut observer);
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
                    Err(NetTrainError::Observer(
                        "the training thread panicked".into(),
                    )),
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
    let fit = outcome.map_err(|e| match e {
        NetTrainError::Cancelled { .. } => PyKeyboardInterrupt::new_err(e.to_string()),
        _ => value_error(e),
    })?;
    let history = fit
        .history
        .iter()
        .map(|r| {
            (
                r.epoch,
                r.loss,
                r.accuracy,
                r.val_loss,
                r.val_accuracy,
                r.seconds,
            )
        })
        .collect();
    Ok((
        history,
        Net::new(fit.best)?,
        fit.best_epoch,
        fit.stopped_early,
        Net::new(fit.last)?,
    ))
}
