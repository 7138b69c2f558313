//! One door for every model a user hands us: [`open_any`] reads any model file, and
//! [`AnyScorer`] scores it with the fastest path for its shape — the notebook's fixed-shape
//! kernels ([`crate::infer::Scorer`]) for the notebook's shapes, the general kernels
//! ([`NetScorer`]) for everything else. The CLI, the C API and the Python package route through
//! here, so a notebook model behaves exactly as it always has.

use std::path::Path;

use super::open::{NetOpenError, OpenOptions, open_with};
use super::score::{NetScoreError, NetScorer};
use super::spec::Spec;
use super::weights::{NetWeights, WeightsError};
use crate::infer::{InferError, Scorer};
use crate::kernels::Kernel;
use crate::model::{Model, OpenError};
use crate::tokfile::{Split, TokenIds};

/// A model of either kind, as read from a file.
// Built once per model and then borrowed; boxing would only add a pointer chase.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum AnyModel {
    /// One of the notebook's shapes (length 100, 8 units, width 16).
    Notebook(Model),
    /// Any other shape.
    Net(NetWeights),
}

impl AnyModel {
    /// The shape, in the general description (a notebook model is length 100).
    pub fn spec(&self) -> Spec {
        match self {
            AnyModel::Notebook(m) => NetWeights::from_notebook(m).spec,
            AnyModel::Net(w) => w.spec,
        }
    }

    /// The weights in the general description.
    pub fn to_net(&self) -> NetWeights {
        match self {
            AnyModel::Notebook(m) => NetWeights::from_notebook(m),
            AnyModel::Net(w) => w.clone(),
        }
    }

    /// Keras' `model.summary()` table.
    pub fn summary(&self) -> String {
        match self {
            AnyModel::Notebook(m) => m.summary(),
            AnyModel::Net(w) => w.summary(),
        }
    }

    /// Routes general weights: the notebook's shapes become [`AnyModel::Notebook`].
    pub fn from_net(w: NetWeights) -> AnyModel {
        match w.to_notebook() {
            Some(m) => AnyModel::Notebook(m),
            None => AnyModel::Net(w),
        }
    }
}

/// Why [`open_any`] could not open a model file; every message starts with the file name.
#[derive(Debug, thiserror::Error)]
pub enum AnyOpenError {
    /// The notebook reader's error (the file could not be read at all).
    #[error(transparent)]
    Notebook(#[from] OpenError),
    /// The general reader's error: the file is not a model fusedrnn can run.
    #[error(transparent)]
    Net(#[from] NetOpenError),
}

impl AnyOpenError {
    /// Whether the failure is the file system's (missing file, permissions), not the content's.
    pub fn is_io(&self) -> bool {
        match self {
            AnyOpenError::Notebook(e) => e.is_io(),
            AnyOpenError::Net(e) => e.is_io(),
        }
    }
}

/// Opens a model file of any supported format and shape.
///
/// The notebook's reader ([`crate::model::open()`]) goes first, so a notebook model opens exactly
/// as it always has; a file it refuses goes to the general reader ([`super::open_with`]). When
/// both refuse the file, the error that says more is reported: the notebook reader's when the
/// file is broken in a way it names exactly (not safetensors, a wrong dtype, a non-finite
/// value, bad metadata), the general reader's when the file is well-formed but not one of the
/// notebook's shapes or names. `fallback_seq_len` is the input length for a file that does not
/// record one (a PyTorch state dict, a Keras model built with `Input(shape=(None,))`), e.g. the
/// row length of the data it will score; a recorded length always wins.
pub fn open_any(
    path: impl AsRef<Path>,
    fallback_seq_len: Option<usize>,
) -> Result<AnyModel, AnyOpenError> {
    let path = path.as_ref();
    let notebook_err = match crate::model::open(path) {
        Ok(m) => return Ok(AnyModel::Notebook(m)),
        Err(e) if e.is_io() => return Err(e.into()),
        Err(e) => e,
    };
    let net = match (open_with(path, &OpenOptions::default()), fallback_seq_len) {
        (Err(NetOpenError::NoSeqLen { .. }), Some(n)) => {
            open_with(path, &OpenOptions::default().seq_len(n))
        }
        (r, _) => r,
    };
    match net {
        Ok(w) => Ok(AnyModel::from_net(w)),
        Err(net_err) if names_the_damage(&notebook_err) => {
            drop(net_err);
            Err(notebook_err.into())
        }
        Err(net_err) => Err(net_err.into()),
    }
}

/// Whether the notebook reader's refusal describes a broken file (which the general reader
/// would only describe less precisely), rather than a shape or naming it does not take.
fn names_the_damage(e: &OpenError) -> bool {
    use crate::model::ModelError as E;
    matches!(
        e,
        OpenError::Model(
            E::TooLarge { .. }
                | E::Format { .. }
                | E::MixedNaming { .. }
                | E::Dtype { .. }
                | E::NonFinite { .. }
                | E::Metadata { .. }
        )
    )
}

/// Why an [`AnyScorer`] cannot score some input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnyScoreError {
    #[error(transparent)]
    Notebook(#[from] InferError),
    #[error(transparent)]
    Net(#[from] NetScoreError),
    #[error(
        "the model runs sequences of {model} tokens; this data has {data} (pack it with --maxlen {model})"
    )]
    SeqLen { data: usize, model: usize },
}

/// A model ready to score on the fastest path for its shape.
// Built once per model and then borrowed.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum AnyScorer {
    Notebook(Scorer),
    Net(NetScorer),
}

impl AnyScorer {
    /// Folds `model` for `kernel` (normally [`Kernel::select`]).
    pub fn new(model: &AnyModel, kernel: Kernel) -> Result<AnyScorer, WeightsError> {
        Ok(match model {
            AnyModel::Notebook(m) => AnyScorer::Notebook(Scorer::new(m, kernel)),
            AnyModel::Net(w) => AnyScorer::Net(NetScorer::from_weights(w, kernel)?),
        })
    }

    pub fn kernel(&self) -> Kernel {
        match self {
            AnyScorer::Notebook(s) => s.kernel(),
            AnyScorer::Net(s) => s.kernel(),
        }
    }

    /// Rows of the input table: every token id must be below this.
    pub fn vocab(&self) -> usize {
        match self {
            AnyScorer::Notebook(s) => s.vocab(),
            AnyScorer::Net(s) => s.spec().vocab,
        }
    }

    /// Tokens per sequence.
    pub fn seq_len(&self) -> usize {
        match self {
            AnyScorer::Notebook(_) => crate::shape::SEQ_LEN,
            AnyScorer::Net(s) => s.spec().seq_len,
        }
    }

    /// The architecture's name: the notebook's `lstm`, `rnn`, `rnn-onehot`, or a general
    /// cell's `rnn`, `lstm`, `gru`, `gru-v1`.
    pub fn arch_name(&self) -> &'static str {
        match self {
            AnyScorer::Notebook(s) => s.arch().name(),
            AnyScorer::Net(s) => s.spec().cell.name(),
        }
    }

    /// The model in words, e.g. `Embedding(5000, 64) → LSTM(32) → Dense(1), length 200`.
    pub fn describe(&self) -> String {
        match self {
            AnyScorer::Notebook(s) => format!("{} (the notebook's shape)", s.arch().name()),
            AnyScorer::Net(s) => s.spec().to_string(),
        }
    }

    /// Checks that a split can be scored: its row length is the model's and every token id has
    /// a table row (see [`Scorer::check`]).
    pub fn check(&self, split: &Split<'_>, num_words: usize) -> Result<(), AnyScoreError> {
        match self {
            AnyScorer::Notebook(s) => Ok(s.check(split, num_words)?),
            AnyScorer::Net(s) => {
                let model = s.spec().seq_len;
                if split.seq_len != model {
                    return Err(AnyScoreError::SeqLen {
                        data: split.seq_len,
                        model,
                    });
                }
                if num_words > s.spec().vocab {
                    split
                        .tokens
                        .check_vocab(split.name.as_str(), model, s.spec().vocab)
                        .map_err(NetScoreError::from)?;
                }
                Ok(())
            }
        }
    }

    /// Probabilities of rows of [`Self::seq_len`] ids as a token file stores them, in parallel
    /// on the current rayon pool. `split` names the rows in an error.
    pub fn score_ids(
        &self,
        split: &'static str,
        ids: TokenIds<'_>,
        probs: &mut [f32],
    ) -> Result<(), AnyScoreError> {
        match self {
            AnyScorer::Notebook(s) => Ok(s.score_ids(split, ids, probs)?),
            AnyScorer::Net(s) => {
                match ids {
                    TokenIds::U16(t) => s.score(t, probs),
                    TokenIds::U32(t) => s.score(t, probs),
                }
                .map_err(|e| match e {
                    // Name the split, not "input".
                    NetScoreError::Token(mut t) => {
                        t.split = split;
                        NetScoreError::Token(t)
                    }
                    e => e,
                })?;
                Ok(())
            }
        }
    }

    /// Probability of one sequence given as its unpadded ids: `pad_sequences` semantics (the
    /// last [`Self::seq_len`] ids kept, zeros in front), then the latency path.
    pub fn score_unpadded(&self, ids: &[u32]) -> Result<f32, AnyScoreError> {
        let len = self.seq_len();
        let kept = &ids[ids.len().saturating_sub(len)..];
        let mut row = vec![0u32; len];
        row[len - kept.len()..].copy_from_slice(kept);
        match self {
            AnyScorer::Notebook(s) => {
                let mut fixed = [0u16; crate::shape::SEQ_LEN];
                for (col, (o, &v)) in fixed.iter_mut().zip(&row).enumerate() {
                    *o = u16::try_from(v).map_err(|_| too_big(col, v, s.vocab()))?;
                }
                Ok(s.score_one(&fixed)?)
            }
            AnyScorer::Net(s) => Ok(s.score_one(&row)?),
        }
    }
}

/// An id at `col` of a padded row that does not even fit the notebook kernels' 16 bits.
fn too_big(col: usize, token: u32, vocab: usize) -> InferError {
    InferError::TokenAt(crate::tokfile::TokenOutOfVocab {
        split: "input",
        row: 0,
        col,
        token,
        vocab,
    })
}
