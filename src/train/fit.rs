//! The fit loop: `model.fit(x_train, y_train, epochs, batch_size, validation_data=(x_val, y_val),
//! callbacks=[EarlyStopping(monitor="val_loss", patience, restore_best_weights=True)])`.
//!
//! Each epoch: a new seeded shuffle of the training rows, batches of `batch_size` (the last one
//! partial), one RMSprop step per batch; the epoch's training loss and accuracy are the means
//! over all samples of the values computed with the weights each batch saw (as Keras' progress
//! bar reports them); then validation with the inference [`Scorer`] and EarlyStopping.
//!
//! A batch is three short parallel steps (fold the table, run the shards, sum their gradients),
//! so the loop runs on a pool whose idle workers wait busily (`infer::with_busy_threads`): a
//! worker left to sleep between them was often not woken before the step was over.

use std::time::Instant;

use super::early_stopping::{EarlyStopping, Verdict};
use super::init::{SplitMix64, hash_words, init_params};
use super::params::{Layout, Params};
use super::trainer::{Trainer, dropout_key};
use crate::infer::{Scorer, evaluate, with_busy_threads};
use crate::kernels::Kernel;
use crate::model::{Arch, Model};
use crate::shape::SEQ_LEN;
use crate::tokfile::{Split, TokenIds};

/// The settings of `fusedrnn train`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig {
    pub arch: Arch,
    /// Rows of the embedding (or one-hot width); at least the data's `num_words`.
    pub vocab: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    /// Input dropout rate in `[0, 1)`.
    pub dropout: f32,
    pub patience: usize,
    pub seed: u64,
    pub threads: usize,
}

impl Default for TrainConfig {
    /// The notebook's settings.
    fn default() -> Self {
        TrainConfig {
            arch: Arch::Lstm,
            vocab: crate::shape::NUM_WORDS,
            epochs: 10,
            batch_size: 64,
            lr: super::rmsprop::DEFAULT_LR,
            dropout: 0.0,
            patience: 3,
            seed: 42,
            threads: 1,
        }
    }
}

/// Why training cannot start.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrainError {
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("dropout {0} is outside [0, 1)")]
    Dropout(f32),
    #[error("learning rate {0} must be a finite number > 0")]
    LearningRate(f32),
    #[error("the {0} split is empty")]
    EmptySplit(&'static str),
    #[error(
        "the training kernels are built for sequences of {SEQ_LEN} tokens; this data has {0} (pack it with --maxlen {SEQ_LEN})"
    )]
    SeqLen(usize),
    #[error(
        "the data has token ids up to {num_words} - 1 but the model's vocabulary has {vocab} rows"
    )]
    Vocab { num_words: usize, vocab: usize },
    #[error(
        "a vocabulary of {0} rows: the kernels take 16-bit token ids today, so a model has at most {max} (pass --vocab, or pack with --num-words {max} or less)",
        max = crate::model::MAX_VOCAB
    )]
    VocabTooLarge(usize),
    #[error(transparent)]
    TokenAt(#[from] crate::tokfile::TokenOutOfVocab),
    #[error("initial parameters for {given:?} do not fit the settings ({wanted:?})")]
    Layout { given: Layout, wanted: Layout },
    /// The observer (e.g. writing the checkpoint) failed, or the thread pool did.
    #[error("{0}")]
    Observer(String),
    /// The observer asked to stop ([`Observer::cancelled`]) after batch `batch` of epoch `epoch`
    /// (both 1-based). Checkpoints already handed to the observer stay as they were.
    #[error("training cancelled after batch {batch} of epoch {epoch}")]
    Cancelled { epoch: usize, batch: usize },
}

impl TrainConfig {
    /// Checks the settings and that the data fits them.
    pub fn check(
        &self,
        train: &Split<'_>,
        val: &Split<'_>,
        num_words: usize,
    ) -> Result<(), TrainError> {
        for (v, name) in [
            (self.epochs, "epochs"),
            (self.batch_size, "batch size"),
            (self.threads, "threads"),
            (self.vocab, "vocab"),
        ] {
            if v == 0 {
                return Err(TrainError::Zero(name));
            }
        }
        if !(self.dropout >= 0.0 && self.dropout < 1.0) {
            return Err(TrainError::Dropout(self.dropout));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(TrainError::LearningRate(self.lr));
        }
        for (s, name) in [(train, "train"), (val, "val")] {
            if s.seq_len != SEQ_LEN {
                return Err(TrainError::SeqLen(s.seq_len));
            }
            if s.is_empty() {
                return Err(TrainError::EmptySplit(name));
            }
        }
        if self.vocab > crate::model::MAX_VOCAB {
            return Err(TrainError::VocabTooLarge(self.vocab));
        }
        if num_words <= self.vocab {
            return Ok(());
        }
        // A u16 split (token file version 1) must fit by its num_words, as always. A u32 split
        // (version 2) has num_words above 65,536, beyond any model: its ids are checked instead.
        for s in [train, val] {
            let TokenIds::U32(_) = s.tokens else {
                return Err(TrainError::Vocab {
                    num_words,
                    vocab: self.vocab,
                });
            };
            s.tokens.check_vocab(s.name.as_str(), SEQ_LEN, self.vocab)?;
        }
        Ok(())
    }
}

/// One line of `history.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    pub loss: f64,
    pub accuracy: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
    /// Wall time of the epoch, training and validation.
    pub seconds: f64,
}

impl EpochRecord {
    /// `epoch,loss,accuracy,val_loss,val_accuracy,seconds`
    pub const CSV_HEADER: &'static str = "epoch,loss,accuracy,val_loss,val_accuracy,seconds";

    pub fn csv_line(&self) -> String {
        format!(
            "{},{:.6},{:.6},{:.6},{:.6},{:.4}",
            self.epoch, self.loss, self.accuracy, self.val_loss, self.val_accuracy, self.seconds
        )
    }

    /// Keras' end-of-epoch line.
    pub fn keras_line(&self, epochs: usize) -> String {
        format!(
            "Epoch {}/{} - {:.2}s - loss: {:.4} - accuracy: {:.4} - val_loss: {:.4} - val_accuracy: {:.4}",
            self.epoch,
            epochs,
            self.seconds,
            self.loss,
            self.accuracy,
            self.val_loss,
            self.val_accuracy
        )
    }
}

/// What the fit loop tells its caller (the CLI draws a progress bar and writes files).
pub trait Observer {
    /// `done` of `total` batches of the 1-based `epoch` finished.
    fn batch_done(&mut self, _epoch: usize, _done: usize, _total: usize) {}
    /// An epoch finished; `improved` is the model when its val_loss is the lowest so far, or
    /// when it is the first epoch (the checkpoint to write). An error stops training.
    fn epoch_done(
        &mut self,
        _record: &EpochRecord,
        _improved: Option<&Model>,
    ) -> Result<(), String> {
        Ok(())
    }
    /// Asked after every batch: `true` stops training at once with [`TrainError::Cancelled`]
    /// (e.g. Ctrl-C in an embedding program). The default never cancels.
    fn cancelled(&mut self) -> bool {
        false
    }
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

/// The result of [`fit`].
#[derive(Clone, Debug)]
pub struct FitOutcome {
    /// The weights of the lowest val_loss (restore_best_weights).
    pub best: Model,
    /// 1-based epoch of `best`.
    pub best_epoch: usize,
    pub history: Vec<EpochRecord>,
    /// Whether EarlyStopping ended training before `epochs`.
    pub stopped_early: bool,
    /// The weights after the last epoch run (what Keras keeps without `restore_best_weights`).
    pub last: Model,
}

/// Trains from Keras-style initial weights drawn from `cfg.seed` (see [`init_params`]).
pub fn fit(
    train: &Split<'_>,
    val: &Split<'_>,
    num_words: usize,
    cfg: &TrainConfig,
    kernel: Kernel,
    observer: &mut (dyn Observer + Send),
) -> Result<FitOutcome, TrainError> {
    let params = init_params(Layout::new(cfg.arch, cfg.vocab), cfg.seed);
    fit_from(params, train, val, num_words, cfg, kernel, observer)
}

/// Trains from the given initial parameters.
pub fn fit_from(
    params: Params,
    train: &Split<'_>,
    val: &Split<'_>,
    num_words: usize,
    cfg: &TrainConfig,
    kernel: Kernel,
    observer: &mut (dyn Observer + Send),
) -> Result<FitOutcome, TrainError> {
    cfg.check(train, val, num_words)?;
    let wanted = Layout::new(cfg.arch, cfg.vocab);
    if params.layout != wanted {
        return Err(TrainError::Layout {
            given: params.layout,
            wanted,
        });
    }
    let threads = cfg.threads;
    let run = move || fit_loop(params, train, val, cfg, kernel, observer);
    with_busy_threads(threads, run).map_err(|e| TrainError::Observer(e.to_string()))?
}

fn fit_loop(
    params: Params,
    train: &Split<'_>,
    val: &Split<'_>,
    cfg: &TrainConfig,
    kernel: Kernel,
    observer: &mut (dyn Observer + Send),
) -> Result<FitOutcome, TrainError> {
    // Borrowed from u16 splits; u32 splits (checked against the vocabulary) are narrowed once.
    let rows = train
        .to_u16_rows::<SEQ_LEN>()
        .ok_or(TrainError::SeqLen(train.seq_len))?;
    let val_rows = val
        .to_u16_rows::<SEQ_LEN>()
        .ok_or(TrainError::SeqLen(val.seq_len))?;
    let (rows, val_rows) = (&rows[..], &val_rows[..]);
    let mut trainer = Trainer::new(params, cfg.lr, cfg.dropout, kernel);
    let mut stopper = EarlyStopping::new(cfg.patience);
    let mut history = Vec::with_capacity(cfg.epochs);
    let mut best: Option<(Model, usize)> = None;
    let mut stopped_early = false;
    let n = rows.len();
    let total = n.div_ceil(cfg.batch_size);
    let mut order: Vec<usize> = (0..n).collect();
    let mut batch = Vec::with_capacity(cfg.batch_size);
    let mut labels = Vec::with_capacity(cfg.batch_size);
    let mut keys = Vec::with_capacity(cfg.batch_size);
    let mut val_probs = vec![0f32; val_rows.len()];
    for epoch in 0..cfg.epochs {
        let start = Instant::now();
        // A fresh permutation of 0..n every epoch (Keras' `shuffle=True`).
        order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
        SplitMix64::new(hash_words(&[cfg.seed, 0x5F, epoch as u64])).shuffle(&mut order);
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        for (b, idx) in order.chunks(cfg.batch_size).enumerate() {
            batch.clear();
            labels.clear();
            keys.clear();
            for &r in idx {
                batch.push(rows[r]);
                labels.push(train.labels[r]);
                keys.push(dropout_key(cfg.seed, epoch, r));
            }
            let s = trainer.train_batch(&batch, &labels, Some(&keys));
            loss_sum += s.loss_sum;
            correct += s.correct;
            observer.batch_done(epoch + 1, b + 1, total);
            if observer.cancelled() {
                return Err(TrainError::Cancelled {
                    epoch: epoch + 1,
                    batch: b + 1,
                });
            }
        }
        let model = trainer.params.to_model();
        Scorer::new(&model, kernel).score(val_rows, &mut val_probs);
        let v = evaluate(&val_probs, val.labels);
        let record = EpochRecord {
            epoch: epoch + 1,
            loss: loss_sum / n as f64,
            accuracy: correct as f64 / n as f64,
            val_loss: v.loss,
            val_accuracy: v.accuracy,
            seconds: start.elapsed().as_secs_f64(),
        };
        history.push(record);
        let verdict = stopper.on_epoch_end(epoch, v.loss);
        // Keras keeps the first epoch's weights as the best until one improves (a NaN val_loss
        // never does), so there is always a checkpoint.
        let new_best = verdict == Verdict::Improved || best.is_none();
        if new_best {
            best = Some((model, epoch + 1));
        }
        observer
            .epoch_done(
                &record,
                new_best.then(|| &best.as_ref().expect("set above").0),
            )
            .map_err(TrainError::Observer)?;
        if verdict == Verdict::Stop {
            stopped_early = epoch + 1 < cfg.epochs;
            break;
        }
    }
    let (best, best_epoch) = best.expect("at least one epoch");
    Ok(FitOutcome {
        best,
        best_epoch,
        history,
        stopped_early,
        last: trainer.params.to_model(),
    })
}
