//! `Model`: a model's weights with its folded scorer; `Session`: one review streamed in pieces.

use std::path::PathBuf;
use std::sync::Arc;

use fusedrnn::infer::ids::{labels01, score_rows};
use fusedrnn::infer::{Scorer, evaluate};
use fusedrnn::model::{Arch, Model as Weights};
use fusedrnn::net::NetScorer;
use fusedrnn::text::{AnyTextSession, Tokenizer, TokenizerConfig};
use fusedrnn::train::{Layout, init_params};
use numpy::PyUntypedArrayMethods;
use numpy::ndarray::{Array2, IxDyn};
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayDyn, PyArrayMethods, PyReadonlyArray1,
    PyReadonlyArrayDyn,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rayon::prelude::*;

use crate::errors::{kernel, os_error, value_error};
use crate::ids::with_rows;

/// A weight's Keras-style name and its array.
type NamedArray<'py> = (&'static str, Bound<'py, PyArrayDyn<f32>>);

/// One of the notebook's models, ready to score (weights folded once for this CPU's kernel).
/// Immutable: `set_weights` in Python builds a new one.
#[pyclass(module = "fusedrnn._native", frozen)]
pub struct Model {
    pub weights: Weights,
    pub scorer: Scorer,
}

impl Model {
    pub fn new(weights: Weights) -> PyResult<Model> {
        let scorer = Scorer::new(&weights, kernel()?);
        Ok(Model { weights, scorer })
    }
}

fn parse_arch(arch: &str) -> PyResult<Arch> {
    Arch::from_name(arch).ok_or_else(|| {
        value_error(format!(
            "unknown architecture {arch:?}: expected \"lstm\", \"rnn\" or \"rnn-onehot\""
        ))
    })
}

#[pymethods]
impl Model {
    /// Opens `.safetensors` (Keras or PyTorch names), Keras `.h5` or `.keras`.
    #[staticmethod]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<Model> {
        let weights = py.detach(|| fusedrnn::model::open(&path)).map_err(|e| {
            if e.is_io() {
                os_error(e)
            } else {
                value_error(e)
            }
        })?;
        Model::new(weights)
    }

    /// Keras-style initial weights (glorot / orthogonal / zeros, unit forget bias) from `seed`.
    #[staticmethod]
    fn init(arch: &str, vocab: usize, seed: u64) -> PyResult<Model> {
        let arch = parse_arch(arch)?;
        if !(1..=fusedrnn::model::MAX_VOCAB).contains(&vocab) {
            return Err(value_error(format!(
                "vocabulary size {vocab} is out of range (1..={})",
                fusedrnn::model::MAX_VOCAB
            )));
        }
        Model::new(init_params(Layout::new(arch, vocab), seed).to_model())
    }

    /// A model of `arch` from float32 C-contiguous arrays in Keras' `get_weights()` order.
    #[staticmethod]
    fn from_weights(arch: &str, weights: Vec<PyReadonlyArrayDyn<'_, f32>>) -> PyResult<Model> {
        let arch = parse_arch(arch)?;
        let mut parts = Vec::with_capacity(weights.len());
        for (i, w) in weights.iter().enumerate() {
            let values = w.as_slice().map_err(|_| {
                value_error(format!("weights[{i}] must be a C-contiguous float32 array"))
            })?;
            parts.push((w.shape(), values));
        }
        let model =
            Weights::from_keras_weights(arch, &parts, "set_weights").map_err(value_error)?;
        Model::new(model)
    }

    /// `"lstm"`, `"rnn"` or `"rnn-onehot"`.
    #[getter]
    fn arch(&self) -> &'static str {
        self.weights.arch().name()
    }

    /// Rows of the input lookup (`num_words`).
    #[getter]
    fn vocab(&self) -> usize {
        self.weights.vocab()
    }

    /// The kernel scoring this model.
    #[getter]
    fn kernel(&self) -> &'static str {
        self.scorer.kernel().name()
    }

    /// `[(name, array)]` in Keras' `get_weights()` order and shapes (float32, owned).
    fn get_weights<'py>(&self, py: Python<'py>) -> PyResult<Vec<NamedArray<'py>>> {
        self.weights
            .keras_weights()
            .into_iter()
            .map(|t| {
                let a = PyArray1::from_vec(py, t.values)
                    .reshape(IxDyn(&t.shape))
                    .map_err(value_error)?;
                Ok((t.name, a))
            })
            .collect()
    }

    /// Writes `.safetensors` atomically, Keras names (or PyTorch's with `naming="torch"`).
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
        result.map_err(|e| match e {
            fusedrnn::model::ModelError::Io { .. } => os_error(e),
            _ => value_error(e),
        })
    }

    /// Keras-style layer table.
    fn summary(&self) -> String {
        self.weights.summary()
    }

    /// Probabilities `[n, 1]` float32 (Keras' `predict` shape) of a `[n, 100]` integer array of
    /// token ids; the vector becomes the array's buffer without a copy.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let probs = self.probs(py, x)?;
        let n = probs.len();
        let column = Array2::from_shape_vec((n, 1), probs).map_err(value_error)?;
        Ok(column.into_pyarray(py))
    }

    /// `(loss, accuracy)` as Keras' `evaluate` computes binary cross-entropy and accuracy.
    fn evaluate(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<(f64, f64)> {
        let labels = labels01(y.as_array().iter().copied()).map_err(value_error)?;
        let probs = self.probs(py, x)?;
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
    /// `fusedrnn_score_text` give them. `word_index`: a path to `imdb_word_index.json` or a
    /// `{word: rank}` dict.
    fn predict_text(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        word_index: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<f32>> {
        let tokenizer = self.tokenizer(py, word_index)?;
        let scorer = &self.scorer;
        py.detach(|| {
            texts
                .par_iter()
                .map(|t| scorer.score_text(&tokenizer, t))
                .collect::<Result<Vec<f32>, _>>()
        })
        .map_err(value_error)
    }

    /// A streaming session over this model and a word index.
    fn session(slf: Bound<'_, Self>, word_index: &Bound<'_, PyAny>) -> PyResult<Session> {
        let py = slf.py();
        let tokenizer = slf.get().tokenizer(py, word_index)?;
        let scorer = SessionScorer::Notebook(&slf.get().scorer);
        // SAFETY: `scorer` is the scorer of the frozen `Model` that `slf` refers to.
        unsafe { Session::new(slf.clone().into_any().unbind(), scorer, tokenizer) }
    }

    fn __repr__(&self) -> String {
        format!(
            "<fusedrnn Model {} vocab={} kernel={}>",
            self.arch(),
            self.vocab(),
            self.kernel()
        )
    }
}

impl Model {
    fn probs(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Vec<f32>> {
        let scorer = &self.scorer;
        with_rows(py, x, "x", |n, fill| {
            let mut probs = vec![0f32; n];
            score_rows(scorer, n, fill, &mut probs).map(|()| probs)
        })?
        .map_err(value_error)
    }

    /// The tokenizer `load_data(num_words=vocab)` implies, from a path or a dict.
    fn tokenizer(&self, py: Python<'_>, word_index: &Bound<'_, PyAny>) -> PyResult<Tokenizer> {
        tokenizer_for(py, word_index, self.weights.vocab())
    }
}

/// The tokenizer `load_data(num_words=vocab)` implies for a model of vocabulary `vocab`, from a
/// path to `imdb_word_index.json` or a `{word: rank}` dict; refused if it could emit an id the
/// model lacks.
pub fn tokenizer_for(
    py: Python<'_>,
    word_index: &Bound<'_, PyAny>,
    vocab: usize,
) -> PyResult<Tokenizer> {
    let num_words = u32::try_from(vocab).map_err(value_error)?;
    let config = TokenizerConfig {
        num_words: Some(num_words),
        ..TokenizerConfig::default()
    };
    let tokenizer = if let Ok(d) = word_index.cast::<PyDict>() {
        let mut pairs: Vec<(String, u32)> = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let word: String = k
                .extract()
                .map_err(|_| value_error(format!("word_index key {k}: expected a str")))?;
            let rank: u32 = v.extract().map_err(|_| {
                value_error(format!(
                    "word_index[{word:?}] = {v}: expected a rank 0..2**32"
                ))
            })?;
            pairs.push((word, rank));
        }
        py.detach(|| Tokenizer::from_index(pairs.iter().map(|(w, r)| (w.as_str(), *r)), config))
            .map_err(|e| value_error(format!("word_index: {e}")))?
    } else {
        let path: PathBuf = word_index.extract().map_err(|_| {
            value_error(
                "word_index: expected a path to imdb_word_index.json or a {word: rank} dict",
            )
        })?;
        py.detach(|| Tokenizer::from_file(&path, config))
            .map_err(|e| {
                if matches!(e, fusedrnn::text::TextError::Io { .. }) {
                    os_error(e)
                } else {
                    value_error(e)
                }
            })?
    };
    if tokenizer.max_id() as usize >= vocab {
        return Err(value_error(format!(
            "word_index: ids up to {} but the model's vocabulary is {vocab}",
            tokenizer.max_id(),
        )));
    }
    Ok(tokenizer)
}

/// The tokenizer a session borrows, and the model (a `Model` or a `Net`, both frozen) whose
/// scorer it borrows, kept alive by the session.
struct Shared {
    tokenizer: Tokenizer,
    _model: Py<PyAny>,
}

/// One review arriving in pieces (text chunks and ids, in order), scored at any point, equal to
/// the C API's `fusedrnn_session_*`: for the notebook's shapes (`Model.session`) and any other
/// (`Net.session`).
#[pyclass(module = "fusedrnn._native")]
pub struct Session {
    // Field order matters: `text` borrows from `_shared` and is dropped first.
    text: AnyTextSession<'static>,
    _shared: Arc<Shared>,
}

impl Session {
    /// A session over the model `model` owns (`scorer` points into it) and `tokenizer`.
    ///
    /// # Safety
    /// `scorer` is the scorer of the frozen pyclass `model` refers to (never mutated or moved
    /// while `model` is alive).
    pub unsafe fn new(
        model: Py<PyAny>,
        scorer: SessionScorer<'_>,
        tokenizer: Tokenizer,
    ) -> PyResult<Session> {
        let shared = Arc::new(Shared {
            tokenizer,
            _model: model,
        });
        // SAFETY: the tokenizer lives in the `Arc` allocation, which never moves and is stored
        // in this session beside the `AnyTextSession` and dropped after it (field order), and is
        // never mutated.
        let tokenizer: &'static Tokenizer = unsafe { &(*Arc::as_ptr(&shared)).tokenizer };
        let text = match scorer {
            SessionScorer::Notebook(s) => {
                // SAFETY: the scorer lives in the frozen, never-mutated model object that
                // `shared._model` keeps alive for as long as the session (the caller's contract).
                let s: &'static Scorer = unsafe { &*std::ptr::from_ref(s) };
                AnyTextSession::notebook(tokenizer, s)
            }
            SessionScorer::Net(s) => {
                // SAFETY: as above.
                let s: &'static NetScorer = unsafe { &*std::ptr::from_ref(s) };
                AnyTextSession::net(tokenizer, s)
            }
        };
        let text = text.map_err(value_error)?;
        Ok(Session {
            text,
            _shared: shared,
        })
    }
}

/// The scorer a session runs on.
pub enum SessionScorer<'a> {
    Notebook(&'a Scorer),
    Net(&'a NetScorer),
}

#[pymethods]
impl Session {
    /// Appends text (may end inside a word).
    fn push_text(&mut self, chunk: &str) {
        self.text.push_str(chunk);
    }

    /// Appends token ids after the text so far. Every id is checked first: on an error nothing
    /// is appended (as the C API's `fusedrnn_session_push_ids`). The ids of one call step
    /// together, which costs less per id than a call each (about half, measured on small shapes).
    fn push_ids(&mut self, ids: Vec<i64>) -> PyResult<()> {
        let vocab = self.text.vocab();
        let wide = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                u32::try_from(id)
                    .ok()
                    .filter(|&t| (t as usize) < vocab)
                    .ok_or_else(|| {
                        value_error(format!(
                            "ids[{i}] = {id} is outside the model's vocabulary (0..{vocab})"
                        ))
                    })
            })
            .collect::<PyResult<Vec<u32>>>()?;
        // Checked above: the library appends all of them.
        self.text.push_tokens(&wide).map_err(value_error)
    }

    /// The model's probability for the review so far (padded / truncated to its length).
    fn prob(&self) -> f32 {
        self.text.prob()
    }

    /// The unpadded running probability (one recurrent step per finished word).
    fn running_prob(&self) -> f32 {
        self.text.running_prob()
    }

    /// Ids of finished words so far, start char included.
    #[getter]
    fn n_ids(&self) -> usize {
        self.text.n_ids()
    }

    /// Starts a new review.
    fn reset(&mut self) {
        self.text.reset();
    }
}
