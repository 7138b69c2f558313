//! Training for any [`Spec`] (issue 14): BPTT for SimpleRNN, LSTM and both GRU forms, any units
//! (1 to 256), embedding or one-hot input, any length, with the notebook trainer's Keras
//! semantics (`crate::train`): RMSprop as Keras 3 updates, Keras' initializers, input dropout
//! as Keras 3's RNN cells apply it, binary cross-entropy with Keras' clipping, a fresh shuffle
//! per epoch, `EarlyStopping(val_loss, patience, restore_best_weights=True)`.
//!
//! ```no_run
//! use fusedrnn::net::train::{NetTrainConfig, NetTrainer};
//! use fusedrnn::net::{Cell, Input, Spec};
//!
//! let spec = Spec { cell: Cell::Gru { reset_after: true }, units: 32, vocab: 5000,
//!                   input: Input::Embedding { width: 64 }, seq_len: 200 };
//! let (train_ids, train_labels) = (vec![0u16; 64 * 200], vec![0f32; 64]);
//! let (val_ids, val_labels) = (vec![0u16; 64 * 200], vec![1f32; 64]);
//! let mut trainer = NetTrainer::new(spec, NetTrainConfig::default())?;
//! let fit = trainer.fit((&train_ids, &train_labels), (&val_ids, &val_labels))?;
//! println!("best epoch {}: {:?}", fit.best_epoch, fit.history.last());
//! let best = fit.best; // NetWeights, also what the trainer now holds
//! # Ok::<(), fusedrnn::net::train::NetTrainError>(())
//! ```
//!
//! | file        | what                                                                    |
//! |-------------|-------------------------------------------------------------------------|
//! | `shard.rs`  | forward with caches and BPTT of up to [`shard_rows`] sequences, as GEMMs per step |
//! | [`init`]    | Keras' initializers for any shape                                       |
//! | this file   | the batch (shards in parallel, fixed-order reduction, RMSprop), the fit loop |
//!
//! # What is reused from `crate::train`
//!
//! [`RmsProp`] (one instance per tensor: the update is elementwise, so this is the same
//! arithmetic as one flat vector), [`EarlyStopping`], [`EpochRecord`], the seeded generators
//! ([`SplitMix64`], [`hash_words`]), the initializers, and the dropout masks and keys
//! ([`dropout_scales`], [`dropout_key`]). The shuffle, dropout keys and initial weights are
//! drawn exactly as the notebook trainer draws them, so on the notebook's shapes both trainers
//! start from the same bits and see the same batches.
//!
//! # Determinism
//!
//! A batch is cut into shards of [`shard_rows`] rows (32, fewer for long sequences of wide
//! layers; boundaries depend only on the batch and the spec), each
//! shard is computed by one thread from read-only inputs into its own buffers, and the shards'
//! gradients are summed on the calling thread in shard order: the same bits for any number of
//! threads. Within a shard, pre-padded rows share their pads when there is no dropout
//! (`shard.rs`, "Shared pads"); that too depends only on the batch.
//!
//! # Evaluation
//!
//! [`NetTrainer::evaluate`] (the fit loop's validation) scores on the inference kernels
//! ([`NetScorer`]): the probabilities `predict` gives, which do not
//! depend on the thread count either.

pub mod init;
mod shard;

use std::time::Instant;

use rayon::prelude::*;

pub use init::keras_init;
pub use shard::{FLUSH_BELOW, LOSS_EPSILON, SHARD_FLOATS, SHARD_ROWS, bce, shard_rows};
use shard::{Prepared, Shard};

use super::score::NetScorer;
use super::{Input, NetWeights, Spec, SpecError, TokenId, WeightsError};
use crate::infer::with_threads;
use crate::kernels::Kernel;
pub use crate::train::fit::EpochRecord;
use crate::train::init::{SplitMix64, hash_words};
use crate::train::{EarlyStopping, RmsProp, Verdict, dropout_key, dropout_scales};

/// The settings of a training run (the CLI's flags map onto these fields one to one).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetTrainConfig {
    /// Passes over the training data (≥ 1).
    pub epochs: usize,
    /// Sequences per RMSprop step (≥ 1); the last batch of an epoch may be smaller.
    pub batch_size: usize,
    /// RMSprop learning rate (finite, > 0).
    pub lr: f32,
    /// RMSprop's `rho`, in `[0, 1)`.
    pub rho: f32,
    /// RMSprop's `epsilon` (inside the square root), finite and > 0.
    pub epsilon: f32,
    /// Input dropout rate of the recurrent layer, in `[0, 1)` (Keras' `dropout=`).
    pub dropout: f32,
    /// EarlyStopping patience on `val_loss` (0 stops at the first epoch without improvement).
    pub patience: usize,
    /// Seeds the initial weights, the shuffles and the dropout masks.
    pub seed: u64,
    /// Worker threads (≥ 1); the result does not depend on it.
    pub threads: usize,
}

impl Default for NetTrainConfig {
    /// The notebook's settings: 10 epochs, batch 64, RMSprop(1e-4, rho 0.9, epsilon 1e-7), no
    /// dropout, patience 3, seed 42, one thread.
    fn default() -> Self {
        NetTrainConfig {
            epochs: 10,
            batch_size: 64,
            lr: crate::train::rmsprop::DEFAULT_LR,
            rho: crate::train::rmsprop::RHO,
            epsilon: crate::train::rmsprop::EPSILON,
            dropout: 0.0,
            patience: 3,
            seed: 42,
            threads: 1,
        }
    }
}

/// Why training cannot start or go on; each message names the field or value at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetTrainError {
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("{field} = {value}: {problem}")]
    Setting {
        field: &'static str,
        value: f32,
        problem: &'static str,
    },
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error("the {0} split is empty")]
    EmptySplit(&'static str),
    #[error(
        "training {params} parameters needs about {gib:.1} GiB (weights, gradient, RMSprop's \
         velocity, the best and the last weights, a checkpoint), more than this process can \
         reserve"
    )]
    Memory { params: usize, gib: f64 },
    #[error("{split}: {ids} token ids is not {labels} labels × seq_len {seq_len}")]
    Shape {
        split: &'static str,
        ids: usize,
        labels: usize,
        seq_len: usize,
    },
    #[error(
        "{split}: sequence {row}, position {pos}: token id {id} is not below the vocabulary ({vocab})"
    )]
    TokenOutOfRange {
        split: &'static str,
        row: usize,
        pos: usize,
        id: usize,
        vocab: usize,
    },
    #[error("{split}: label {row} is {value} (labels must be in [0, 1])")]
    Label {
        split: &'static str,
        row: usize,
        value: f32,
    },
    #[error("{0} dropout keys for {1} sequences")]
    Keys(usize, usize),
    /// The observer (e.g. writing the checkpoint) failed, or the thread pool did.
    #[error("{0}")]
    Observer(String),
    /// The observer asked to stop after batch `batch` of epoch `epoch` (both 1-based).
    #[error("training cancelled after batch {batch} of epoch {epoch}")]
    Cancelled { epoch: usize, batch: usize },
}

impl NetTrainConfig {
    /// Checks every setting.
    pub fn validate(&self) -> Result<(), NetTrainError> {
        for (v, name) in [
            (self.epochs, "epochs"),
            (self.batch_size, "batch_size"),
            (self.threads, "threads"),
        ] {
            if v == 0 {
                return Err(NetTrainError::Zero(name));
            }
        }
        let bad = |field, value, problem| {
            Err(NetTrainError::Setting {
                field,
                value,
                problem,
            })
        };
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", self.lr, "must be a finite number > 0");
        }
        if !(self.rho >= 0.0 && self.rho < 1.0) {
            return bad("rho", self.rho, "must be in [0, 1)");
        }
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return bad("epsilon", self.epsilon, "must be a finite number > 0");
        }
        if !(self.dropout >= 0.0 && self.dropout < 1.0) {
            return bad("dropout", self.dropout, "must be in [0, 1)");
        }
        Ok(())
    }
}

/// Checks a split: `ids` is `[labels.len(), seq_len]`, every id `< vocab`, every label in
/// `[0, 1]`.
pub fn check_split<T: TokenId>(
    split: &'static str,
    spec: &Spec,
    ids: &[T],
    labels: &[f32],
) -> Result<(), NetTrainError> {
    let seq_len = spec.seq_len;
    if labels.is_empty() {
        return Err(NetTrainError::EmptySplit(split));
    }
    if labels.len().checked_mul(seq_len) != Some(ids.len()) {
        return Err(NetTrainError::Shape {
            split,
            ids: ids.len(),
            labels: labels.len(),
            seq_len,
        });
    }
    if let Some(i) = ids.iter().position(|t| t.index() >= spec.vocab) {
        return Err(NetTrainError::TokenOutOfRange {
            split,
            row: i / seq_len,
            pos: i % seq_len,
            id: ids[i].index(),
            vocab: spec.vocab,
        });
    }
    if let Some((row, &value)) = labels
        .iter()
        .enumerate()
        .find(|(_, y)| !(**y >= 0.0 && **y <= 1.0))
    {
        return Err(NetTrainError::Label { split, row, value });
    }
    Ok(())
}

/// Loss and accuracy counts of one batch, computed with the weights before its update.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NetBatchStats {
    /// Sum of the per-sample losses (Keras' clipped BCE in f32, summed in f64).
    pub loss_sum: f64,
    /// Samples with `label == (p > 0.5)`.
    pub correct: usize,
    pub count: usize,
}

/// What [`NetTrainer::fit_with`] tells its caller (a progress bar, a checkpoint writer).
pub trait NetObserver {
    /// `done` of `total` batches of the 1-based `epoch` finished.
    fn batch_done(&mut self, _epoch: usize, _done: usize, _total: usize) {}
    /// An epoch finished; `improved` holds the weights when its val_loss is the lowest so far
    /// (or it is the first epoch): the checkpoint to write. An error stops training.
    fn epoch_done(
        &mut self,
        _record: &EpochRecord,
        _improved: Option<&NetWeights>,
    ) -> Result<(), String> {
        Ok(())
    }
    /// Asked after every batch: `true` stops at once with [`NetTrainError::Cancelled`].
    fn cancelled(&mut self) -> bool {
        false
    }
}

/// An observer that ignores everything.
pub struct NetQuiet;
impl NetObserver for NetQuiet {}

/// The result of [`NetTrainer::fit`].
#[derive(Clone, Debug)]
pub struct NetFit {
    /// One record per epoch run.
    pub history: Vec<EpochRecord>,
    /// The weights of the lowest val_loss (`restore_best_weights`; the trainer holds them too).
    pub best: NetWeights,
    /// 1-based epoch of `best`.
    pub best_epoch: usize,
    /// Whether EarlyStopping ended training before `epochs`.
    pub stopped_early: bool,
    /// The weights after the last epoch run.
    pub last: NetWeights,
}

/// Largest folded input table (`vocab × G·H` floats) [`NetTrainer::evaluate`] builds to score
/// on the inference kernels; larger ones evaluate on the training shards.
const EVAL_TABLE_FLOATS: usize = 1 << 24;

/// Weights, RMSprop state and reusable buffers for training one network.
#[derive(Clone, Debug)]
pub struct NetTrainer {
    weights: NetWeights,
    config: NetTrainConfig,
    /// One RMSprop per tensor, in [`NetWeights::tensors`] order, then `dense.bias`.
    optimizers: Vec<RmsProp>,
    /// The last batch's gradient, in the weights' layout.
    grad: NetWeights,
    prepared: Prepared,
    shards: Vec<Shard>,
    /// Whose vector sigmoid and tanh the shards' gate activations run through.
    kernel: Kernel,
}

/// Copies of the parameters training holds at once: the weights, their gradient, RMSprop's
/// velocity, the best and the last weights, and a checkpoint's bytes.
const PARAM_COPIES: usize = 6;

/// Refuses, with an error, a network whose training would not get the memory it needs: the
/// [`PARAM_COPIES`] copies of its parameters are reserved at once and freed, so that an
/// address-space limit (`ulimit -v`) or an allocator that cannot map them fails here, not as
/// an abort in the middle of setting up. The shape's limits bound the parameters (1 GiB of
/// them at most), not what the machine has.
fn reserve_for_training(spec: &Spec) -> Result<(), NetTrainError> {
    spec.validate()?;
    let params = spec.param_count();
    let bytes = params.saturating_mul(PARAM_COPIES * size_of::<f32>());
    if Vec::<u8>::new().try_reserve_exact(bytes).is_err() {
        return Err(NetTrainError::Memory {
            params,
            gib: bytes as f64 / f64::from(1u32 << 30),
        });
    }
    Ok(())
}

impl NetTrainer {
    /// A trainer for `spec` starting from Keras' initializers drawn from `config.seed`.
    pub fn new(spec: Spec, config: NetTrainConfig) -> Result<NetTrainer, NetTrainError> {
        config.validate()?;
        reserve_for_training(&spec)?;
        let w = keras_init(spec, config.seed)?;
        Ok(NetTrainer::start(w, config))
    }

    /// A trainer starting from given weights (validated).
    pub fn from_weights(
        weights: NetWeights,
        config: NetTrainConfig,
    ) -> Result<NetTrainer, NetTrainError> {
        config.validate()?;
        weights.validate()?;
        reserve_for_training(&weights.spec)?;
        Ok(NetTrainer::start(weights, config))
    }

    /// The trainer of `weights` and `config`, both checked and the memory reserved
    /// ([`reserve_for_training`]) by the caller.
    fn start(weights: NetWeights, config: NetTrainConfig) -> NetTrainer {
        let mut grad = weights.clone();
        for t in grad_tensors_mut(&mut grad) {
            t.fill(0.0);
        }
        grad.dense_bias = 0.0;
        let optimizers = weights
            .tensors()
            .iter()
            .map(|(_, v, _)| v.len())
            .chain([1])
            .map(|n| RmsProp {
                lr: config.lr,
                rho: config.rho,
                epsilon: config.epsilon,
                velocity: vec![0.0; n],
            })
            .collect();
        NetTrainer {
            weights,
            config,
            optimizers,
            grad,
            prepared: Prepared::default(),
            shards: Vec::new(),
            kernel: Kernel::select().unwrap_or_else(|_| Kernel::best()),
        }
    }

    /// Runs the gate activations through `kernel` (by default [`Kernel::select`]'s choice, or
    /// [`Kernel::best`] when `FUSEDRNN_KERNEL` names no usable kernel). Every kernel meets the
    /// activations' error contract, so the choice moves results by rounding only; for a given
    /// kernel they are the same bits for any number of threads.
    pub fn with_kernel(mut self, kernel: Kernel) -> NetTrainer {
        self.kernel = kernel;
        self
    }

    /// The kernel of the gate activations.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    pub fn spec(&self) -> &Spec {
        &self.weights.spec
    }

    pub fn config(&self) -> &NetTrainConfig {
        &self.config
    }

    /// The current weights.
    pub fn weights(&self) -> &NetWeights {
        &self.weights
    }

    /// The trainer's weights, giving the trainer up.
    pub fn into_weights(self) -> NetWeights {
        self.weights
    }

    /// The gradient of the last [`Self::compute_gradient`] (of the batch's mean loss), in the
    /// weights' layout; `embedding` rows of tokens not in the batch are zero.
    pub fn gradient(&self) -> &NetWeights {
        &self.grad
    }

    /// The gradient of the mean loss over one batch (`ids [labels.len(), seq_len]`), on the
    /// current rayon pool (see [`Self::fit`] for a pool of `config.threads`). With
    /// `dropout_keys`, sequence `i`'s input is masked by [`dropout_scales`]`(dropout, keys[i])`
    /// (when the config's dropout is > 0); `None` means no dropout.
    pub fn compute_gradient<T: TokenId>(
        &mut self,
        ids: &[T],
        labels: &[f32],
        dropout_keys: Option<&[u64]>,
    ) -> Result<NetBatchStats, NetTrainError> {
        let spec = self.weights.spec;
        check_split("batch", &spec, ids, labels)?;
        if let Some(k) = dropout_keys
            && k.len() != labels.len()
        {
            return Err(NetTrainError::Keys(k.len(), labels.len()));
        }
        let keys = dropout_keys.filter(|_| self.config.dropout > 0.0);
        Ok(self.gradient_unchecked(ids, labels, keys))
    }

    /// One RMSprop step with the last gradient.
    pub fn apply_gradient(&mut self) {
        let w = &mut self.weights;
        let g = &self.grad;
        let pairs: [(&mut [f32], &[f32]); 5] = [
            (&mut w.embedding, &g.embedding),
            (&mut w.kernel, &g.kernel),
            (&mut w.recurrent_kernel, &g.recurrent_kernel),
            (&mut w.bias, &g.bias),
            (&mut w.dense_kernel, &g.dense_kernel),
        ];
        for (opt, (wv, gv)) in self.optimizers.iter_mut().zip(pairs) {
            opt.step_on(self.kernel, wv, gv);
        }
        let mut db = [w.dense_bias];
        self.optimizers[5].step(&mut db, &[g.dense_bias]);
        w.dense_bias = db[0];
    }

    /// Forward, backward and one RMSprop step on one batch: Keras' `train_on_batch`.
    pub fn train_batch<T: TokenId>(
        &mut self,
        ids: &[T],
        labels: &[f32],
        dropout_keys: Option<&[u64]>,
    ) -> Result<NetBatchStats, NetTrainError> {
        let stats = self.compute_gradient(ids, labels, dropout_keys)?;
        self.apply_gradient();
        Ok(stats)
    }

    fn grow_shards(&mut self, n: usize) {
        if self.shards.len() < n {
            self.shards.resize_with(n, Shard::default);
        }
    }

    fn gradient_unchecked<T: TokenId>(
        &mut self,
        ids: &[T],
        labels: &[f32],
        keys: Option<&[u64]>,
    ) -> NetBatchStats {
        let spec = self.weights.spec;
        let (seq_len, n) = (spec.seq_len, labels.len());
        let rows = shard_rows(&spec);
        let n_shards = n.div_ceil(rows);
        self.grow_shards(n_shards);
        self.prepared.update(&self.weights);
        let (w, p, kernel) = (&self.weights, &self.prepared, self.kernel);
        let (rate, in_dim) = (self.config.dropout, spec.input_width());
        let inv_n = 1.0 / n as f32;
        self.shards[..n_shards]
            .par_iter_mut()
            .enumerate()
            .for_each(|(k, shard)| {
                let lo = k * rows;
                let hi = (lo + rows).min(n);
                // Without dropout every sequence's pads see the same input: shared.
                let share_pads = keys.is_none();
                shard.load(
                    &ids[lo * seq_len..hi * seq_len],
                    &labels[lo..hi],
                    seq_len,
                    share_pads,
                );
                shard.masks.clear();
                if let Some(keys) = keys {
                    shard.masks.resize((hi - lo) * in_dim, 0.0);
                    for (m, &key) in shard.masks.chunks_exact_mut(in_dim).zip(&keys[lo..hi]) {
                        dropout_scales(rate, key, m);
                    }
                }
                shard.forward(w, p, kernel);
                shard.backward(w, p, kernel, inv_n);
            });
        self.reduce(n_shards, n)
    }

    /// Sums the shards' gradients in shard order into `self.grad`.
    fn reduce(&mut self, n_shards: usize, count: usize) -> NetBatchStats {
        let spec = self.weights.spec;
        let g = &mut self.grad;
        for t in grad_tensors_mut(g) {
            t.fill(0.0);
        }
        g.dense_bias = 0.0;
        let mut stats = NetBatchStats {
            count,
            ..NetBatchStats::default()
        };
        let row_width = match spec.input {
            Input::Embedding { width } => width,
            Input::OneHot => spec.gate_width(),
        };
        for shard in &self.shards[..n_shards] {
            stats.loss_sum += shard.loss_sum;
            stats.correct += shard.correct;
            add(&mut g.recurrent_kernel, &shard.d_rec);
            add(&mut g.bias, &shard.d_bias);
            add(&mut g.dense_kernel, &shard.d_dense);
            g.dense_bias += shard.d_dense_bias;
            let table = match spec.input {
                Input::Embedding { .. } => {
                    add(&mut g.kernel, &shard.d_kernel);
                    &mut g.embedding
                }
                Input::OneHot => &mut g.kernel,
            };
            for (&tok, row) in shard.uniq.iter().zip(shard.d_rows.chunks_exact(row_width)) {
                let tok = tok as usize;
                add(&mut table[tok * row_width..(tok + 1) * row_width], row);
            }
        }
        stats
    }

    /// Probabilities of `labels.len()` sequences (`ids [n, seq_len]`) with the current weights,
    /// on the current rayon pool, and the loss and accuracy against `labels`.
    pub fn evaluate<T: TokenId>(
        &mut self,
        ids: &[T],
        labels: &[f32],
    ) -> Result<(Vec<f32>, NetBatchStats), NetTrainError> {
        check_split("evaluation", &self.weights.spec, ids, labels)?;
        Ok(self.evaluate_unchecked(ids, labels))
    }

    fn evaluate_unchecked<T: TokenId>(
        &mut self,
        ids: &[T],
        labels: &[f32],
    ) -> (Vec<f32>, NetBatchStats) {
        let seq_len = self.weights.spec.seq_len;
        let n = labels.len();
        // On the inference kernels (`NetScorer`: the batch pass from the padding cache, where
        // the shards' forward pass keeps every activation for a backward pass that does not
        // come): Embedding(5000, 64), 5,000 reviews of length 200, 2 threads, AMD EPYC Zen 4,
        // LSTM(32) 166 → 55 ms, GRU(32) 125 → 40 ms, SimpleRNN(32) 57 → 13 ms, the scorer's
        // construction (the folded table and the padding cache) 0.9–2.7 ms of it. The
        // probabilities are those `predict` gives (a few ulps from the shards' in places: 91–98 %
        // of them the same bits, the largest difference 6e-8). Not when the folded table would
        // pass `EVAL_TABLE_FLOATS` (64 MiB: it is allocated for each evaluation; the shards need
        // none, their products run over the distinct tokens). The choice depends on the spec
        // alone, so a sequence gets the same probability whatever it is evaluated with. Invalid
        // weights (a NaN after a diverging step) take the shards' path, which reports them in
        // the loss as Keras does.
        let spec = &self.weights.spec;
        if spec.vocab.saturating_mul(spec.gate_width()) <= EVAL_TABLE_FLOATS
            && let Ok(scorer) = NetScorer::from_weights(&self.weights, self.kernel)
        {
            let mut probs = vec![0.0; n];
            if scorer.score(ids, &mut probs).is_ok() {
                let (loss_sum, correct) = shard::loss_and_hits(&probs, labels);
                let stats = NetBatchStats {
                    loss_sum,
                    correct,
                    count: n,
                };
                return (probs, stats);
            }
        }
        // Bounded memory: a few shards per thread at a time.
        let rows = shard_rows(&self.weights.spec);
        let per_round = rows * 4 * rayon::current_num_threads().max(1);
        let n_shards = per_round.div_ceil(rows).min(n.div_ceil(rows));
        self.grow_shards(n_shards);
        self.prepared.update(&self.weights);
        let (w, p, kernel) = (&self.weights, &self.prepared, self.kernel);
        let mut probs = Vec::with_capacity(n);
        let mut stats = NetBatchStats {
            count: n,
            ..NetBatchStats::default()
        };
        for lo_round in (0..n).step_by(per_round) {
            let hi_round = (lo_round + per_round).min(n);
            let shards = (hi_round - lo_round).div_ceil(rows);
            self.shards[..shards]
                .par_iter_mut()
                .enumerate()
                .for_each(|(k, shard)| {
                    let lo = lo_round + k * rows;
                    let hi = (lo + rows).min(hi_round);
                    shard.load(
                        &ids[lo * seq_len..hi * seq_len],
                        &labels[lo..hi],
                        seq_len,
                        true,
                    );
                    shard.masks.clear();
                    shard.forward(w, p, kernel);
                });
            for shard in &self.shards[..shards] {
                probs.extend_from_slice(&shard.probs);
                stats.loss_sum += shard.loss_sum;
                stats.correct += shard.correct;
            }
        }
        (probs, stats)
    }

    /// `model.fit(train, validation_data=val, epochs, batch_size, callbacks=[EarlyStopping(
    /// monitor="val_loss", patience, restore_best_weights=True)])` on a pool of
    /// `config.threads`. `train` and `val` are `(ids [n, seq_len], labels [n])`. Afterwards the
    /// trainer holds the best weights.
    pub fn fit<T: TokenId>(
        &mut self,
        train: (&[T], &[f32]),
        val: (&[T], &[f32]),
    ) -> Result<NetFit, NetTrainError> {
        self.fit_with(train, val, &mut NetQuiet)
    }

    /// [`Self::fit`] reporting to `observer`.
    pub fn fit_with<T: TokenId>(
        &mut self,
        train: (&[T], &[f32]),
        val: (&[T], &[f32]),
        observer: &mut (dyn NetObserver + Send),
    ) -> Result<NetFit, NetTrainError> {
        let spec = self.weights.spec;
        check_split("train", &spec, train.0, train.1)?;
        check_split("val", &spec, val.0, val.1)?;
        let threads = self.config.threads;
        with_threads(threads, || self.fit_loop(train, val, observer))
            .map_err(|e| NetTrainError::Observer(e.to_string()))?
    }

    fn fit_loop<T: TokenId>(
        &mut self,
        (ids, labels): (&[T], &[f32]),
        (val_ids, val_labels): (&[T], &[f32]),
        observer: &mut (dyn NetObserver + Send),
    ) -> Result<NetFit, NetTrainError> {
        let cfg = self.config;
        let seq_len = self.weights.spec.seq_len;
        let n = labels.len();
        let total = n.div_ceil(cfg.batch_size);
        let mut stopper = EarlyStopping::new(cfg.patience);
        let mut history = Vec::with_capacity(cfg.epochs);
        let mut best: Option<(NetWeights, usize)> = None;
        let mut stopped_early = false;
        let mut order: Vec<usize> = (0..n).collect();
        let mut batch_ids: Vec<T> = Vec::with_capacity(cfg.batch_size * seq_len);
        let mut batch_labels = Vec::with_capacity(cfg.batch_size);
        let mut keys = Vec::with_capacity(cfg.batch_size);
        for epoch in 0..cfg.epochs {
            let start = Instant::now();
            // The notebook trainer's shuffle: a fresh permutation every epoch.
            order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
            SplitMix64::new(hash_words(&[cfg.seed, 0x5F, epoch as u64])).shuffle(&mut order);
            let (mut loss_sum, mut correct) = (0.0f64, 0usize);
            for (b, idx) in order.chunks(cfg.batch_size).enumerate() {
                batch_ids.clear();
                batch_labels.clear();
                keys.clear();
                for &r in idx {
                    batch_ids.extend_from_slice(&ids[r * seq_len..(r + 1) * seq_len]);
                    batch_labels.push(labels[r]);
                    keys.push(dropout_key(cfg.seed, epoch, r));
                }
                let k = (cfg.dropout > 0.0).then_some(&keys[..]);
                let s = self.gradient_unchecked(&batch_ids, &batch_labels, k);
                self.apply_gradient();
                loss_sum += s.loss_sum;
                correct += s.correct;
                observer.batch_done(epoch + 1, b + 1, total);
                if observer.cancelled() {
                    return Err(NetTrainError::Cancelled {
                        epoch: epoch + 1,
                        batch: b + 1,
                    });
                }
            }
            let (_, v) = self.evaluate_unchecked(val_ids, val_labels);
            let vn = v.count as f64;
            let record = EpochRecord {
                epoch: epoch + 1,
                loss: loss_sum / n as f64,
                accuracy: correct as f64 / n as f64,
                val_loss: v.loss_sum / vn,
                val_accuracy: v.correct as f64 / vn,
                seconds: start.elapsed().as_secs_f64(),
            };
            history.push(record);
            let verdict = stopper.on_epoch_end(epoch, record.val_loss);
            // Keras keeps the first epoch's weights until one improves (a NaN val_loss never
            // does), so there is always a best.
            let new_best = verdict == Verdict::Improved || best.is_none();
            if new_best {
                best = Some((self.weights.clone(), epoch + 1));
            }
            observer
                .epoch_done(&record, new_best.then_some(&self.weights))
                .map_err(NetTrainError::Observer)?;
            if verdict == Verdict::Stop {
                stopped_early = epoch + 1 < cfg.epochs;
                break;
            }
        }
        let (best, best_epoch) = best.expect("at least one epoch");
        let last = std::mem::replace(&mut self.weights, best.clone());
        Ok(NetFit {
            history,
            best,
            best_epoch,
            stopped_early,
            last,
        })
    }
}

/// The gradient's tensors (all but `dense.bias`), mutable.
fn grad_tensors_mut(g: &mut NetWeights) -> [&mut Vec<f32>; 5] {
    [
        &mut g.embedding,
        &mut g.kernel,
        &mut g.recurrent_kernel,
        &mut g.bias,
        &mut g.dense_kernel,
    ]
}

fn add(acc: &mut [f32], x: &[f32]) {
    acc.iter_mut().zip(x).for_each(|(a, b)| *a += b);
}
