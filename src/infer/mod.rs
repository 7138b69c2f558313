//! Inference: batch scoring of token rows across cores, and a streaming one-sequence session.
//!
//! A [`Scorer`] folds a model's weights once (the vocab × gates input table and the padding
//! cache, see [`crate::kernels::tables`]) and keeps the kernel chosen for this CPU. Scoring a
//! split cuts it into runs of [`SORT_ROWS`] rows, orders each run by the rows' leading pads
//! (below), and hands the kernel chunks of [`CHUNK_ROWS`] rows, a multiple of the 8 SIMD
//! lanes, that rayon gives to the threads: the chunks are small enough (≈0.1–0.3 ms each) that
//! work stealing keeps both cores busy to the end, and large enough that scheduling costs
//! nothing. Nothing is allocated per sequence or per chunk (a run's order is on the stack).
//!
//! # Rows in order of their pads
//!
//! A batch block of 16 (AVX-512) or 8 sequences starts from the padding cache's state after the
//! *fewest* leading pads among the sequences of its pair of blocks, and steps everything after.
//! The kernel sorts windows of 64 rows by their pads, but in a window of IMDB reviews the padded
//! ones (the reviews shorter than `maxlen`) are few and share their pair with unpadded ones, so
//! the blocks stepped 100.03 % of the test split's positions (the tail lanes included) where
//! 96.2 % are tokens. [`Scorer::score`] now orders each run of [`SORT_ROWS`] rows by their
//! leading pads (a stable counting sort, while reading the pads brings the rows into cache),
//! hands the kernel the rows by reference in that order (`Kernel::lstm_forward_refs`) and puts
//! the probabilities back in input order; the token file's `u32` ids and the callers' integer
//! rows ([`ids::score_rows`], the Python binding's path) are converted a run at a time and go
//! the same way. A row's probability is the same bits whatever rows share its block
//! (`tests/kernels.rs`), so only the time changes (`tests/infer.rs` checks every row against
//! its score alone). Runs of 1,024 rows step 97.2 % of the test split's positions (the whole
//! split sorted at once: 96.3 %, at the price of an extra pass over memory before the kernels).
//!
//! Measured (Golden Cove Xeon, family 6 model 167, AVX-512, 3.59 GHz, 2026-12-06, a host that
//! shared the cores; a scratch example timing whole-split `score` passes, fastest and median of
//! 3 s, the builds before and after alternated three times; reviews/s):
//!
//! ```text
//!                                              before                after
//!   test split   LSTM 1 thread    fastest       651k–668k            675k–688k
//!                                 median        636k–654k            653k–676k
//!                LSTM 2 threads   fastest       1.29M–1.31M          1.32M–1.36M
//!                                 median        1.18M–1.23M          1.26M–1.30M
//!                SimpleRNN 2 thr. fastest       5.67M–5.82M          5.72M–5.86M
//!                                 median        4.72M–4.80M          5.00M–5.37M
//!                SimpleRNN 1 thread             2.50M–2.69M either way (its 2.8 % of steps
//!                                               are ~10 ns a review, the order's work ~5)
//!   short texts  LSTM 1 thread    fastest       706k                 851k–853k   (+21 %)
//!   (below)      SimpleRNN 2 thr. fastest       5.89M–5.92M          6.83M–6.88M (+16 %)
//! ```
//!
//! "Short texts" is the test split with every other review cut to its last 10–100 tokens
//! (24.8 % of positions become pads): the blocks stepped 94.2 % of the positions before and
//! 76.6 % after. Inputs with more short sequences than IMDB's gain the most.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::kernels::tables::order_by_pads;
use crate::kernels::{Kernel, LstmState, LstmTables, RnnState, RnnTables, leading_pads};
use crate::model::{Arch, Model};
use crate::shape::SEQ_LEN;
use crate::text::Tokenizer;
use crate::tokfile::{Split, TokenIds, TokenOutOfVocab};

pub mod bench;
pub mod ids;
pub mod metrics;
pub mod npy;

pub use metrics::{Evaluation, evaluate};

/// Rows per parallel work item.
pub const CHUNK_ROWS: usize = 128;

/// Rows that [`Scorer::score`] orders by their leading pads at a time (a multiple of
/// [`CHUNK_ROWS`]; its `u16` places need it below 65,536).
pub const SORT_ROWS: usize = 8 * CHUNK_ROWS;

/// Why a model cannot score some input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InferError {
    #[error(
        "the kernels are built for sequences of {SEQ_LEN} tokens; this data has {0} (pack it with --maxlen {SEQ_LEN})"
    )]
    SeqLen(usize),
    #[error(
        "the data has token ids up to {data_vocab} - 1 but the model's vocabulary has {model_vocab} rows"
    )]
    Vocab {
        data_vocab: usize,
        model_vocab: usize,
    },
    #[error("token id {token} is not below the model's vocabulary of {vocab}")]
    Token { token: u16, vocab: usize },
    #[error(transparent)]
    TokenAt(#[from] TokenOutOfVocab),
    #[error("{ids} token ids are not {rows} rows of {SEQ_LEN}")]
    Rows { ids: usize, rows: usize },
    #[error("{0} threads: at least 1 is needed")]
    Threads(usize),
}

/// A model's folded weights.
// One per scorer, never moved on a hot path: boxing would only add a pointer chase per call.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Folded {
    Lstm(LstmTables),
    Rnn(RnnTables),
}

/// A model ready to score: folded weights plus the kernel that runs them.
#[derive(Clone, Debug)]
pub struct Scorer {
    arch: Arch,
    kernel: Kernel,
    folded: Folded,
}

impl Scorer {
    /// Folds `model` for `kernel` (normally [`Kernel::select`]); the padding cache is built with
    /// that kernel's own arithmetic, so skipping pads gives exactly what stepping through them would.
    pub fn new(model: &Model, kernel: Kernel) -> Scorer {
        let folded = match model {
            Model::Lstm(w) => Folded::Lstm(kernel.fold_lstm(w)),
            Model::Rnn(w) => Folded::Rnn(kernel.fold_rnn(w)),
        };
        Scorer {
            arch: model.arch(),
            kernel,
            folded,
        }
    }

    pub fn arch(&self) -> Arch {
        self.arch
    }

    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Rows of the input table: every token must be below this.
    pub fn vocab(&self) -> usize {
        match &self.folded {
            Folded::Lstm(t) => t.vocab(),
            Folded::Rnn(t) => t.vocab(),
        }
    }

    /// Checks that a split can be scored: `SEQ_LEN` tokens per row, and every token id has a
    /// table row.
    ///
    /// A `u16` split (token file version 1) passes when every id the file allows (`< num_words`,
    /// validated when it was opened) has a row, as it always has. A `u32` split (version 2) has
    /// `num_words` above 65,536, more than any model's vocabulary, so its ids themselves are
    /// checked (one pass, no copy): the first id without a row is named by split, row and
    /// position.
    pub fn check(&self, split: &Split<'_>, num_words: usize) -> Result<(), InferError> {
        if split.seq_len != SEQ_LEN {
            return Err(InferError::SeqLen(split.seq_len));
        }
        if num_words <= self.vocab() {
            return Ok(());
        }
        match split.tokens {
            TokenIds::U16(_) => Err(InferError::Vocab {
                data_vocab: num_words,
                model_vocab: self.vocab(),
            }),
            TokenIds::U32(_) => self.check_ids(split.name.as_str(), split.tokens),
        }
    }

    /// The first id of `ids` (rows of `SEQ_LEN`) that is not below the vocabulary, as an error.
    fn check_ids(&self, split: &'static str, ids: TokenIds<'_>) -> Result<(), InferError> {
        Ok(ids.check_vocab(split, SEQ_LEN, self.vocab())?)
    }

    /// Probabilities of `seqs` on the calling thread.
    ///
    /// # Panics
    /// If `seqs.len() != probs.len()` or a token has no table row (use [`Self::check`]).
    pub fn score_chunk(&self, seqs: &[[u16; SEQ_LEN]], probs: &mut [f32]) {
        match &self.folded {
            Folded::Lstm(t) => self.kernel.lstm_forward(t, seqs, probs),
            Folded::Rnn(t) => self.kernel.rnn_forward(t, seqs, probs),
        }
    }

    /// Probabilities of `seqs` given by reference, on the calling thread (see
    /// [`Kernel::lstm_forward_refs`]).
    ///
    /// # Panics
    /// As [`Self::score_chunk`].
    pub fn score_refs(&self, rows: &[&[u16; SEQ_LEN]], probs: &mut [f32]) {
        match &self.folded {
            Folded::Lstm(t) => self.kernel.lstm_forward_refs(t, rows, probs),
            Folded::Rnn(t) => self.kernel.rnn_forward_refs(t, rows, probs),
        }
    }

    /// Probabilities of `seqs`, in parallel on the current rayon pool.
    ///
    /// A batch block steps from the fewest leading pads among its rows, so each run of
    /// [`SORT_ROWS`] rows is scored in the order of their leading pads (a stable counting sort;
    /// no row is copied) and the probabilities are put back in input order: most blocks then
    /// skip nearly all of their rows' pads. A row's probability is the same bits whatever rows
    /// share its block. See "Rows in order of their pads" in the module docs.
    ///
    /// # Panics
    /// As [`Self::score_chunk`].
    pub fn score(&self, seqs: &[[u16; SEQ_LEN]], probs: &mut [f32]) {
        assert_eq!(seqs.len(), probs.len(), "one probability per sequence");
        seqs.par_chunks(SORT_ROWS)
            .zip(probs.par_chunks_mut(SORT_ROWS))
            .for_each(|(s, p)| self.score_sorted(s, p));
    }

    /// [`Self::score`] of at most [`SORT_ROWS`] rows: their order by leading pads, then
    /// [`CHUNK_ROWS`] of them at a time in parallel.
    pub(crate) fn score_sorted(&self, seqs: &[[u16; SEQ_LEN]], probs: &mut [f32]) {
        let n = seqs.len();
        debug_assert!(n <= SORT_ROWS && n == probs.len());
        // Reading the pads brings the rows into cache just before the kernel reads them.
        let mut pads = [0u8; SORT_ROWS];
        for (p, s) in pads.iter_mut().zip(seqs) {
            // `leading_pads ≤ SEQ_LEN = 100` fits in u8.
            *p = leading_pads(s) as u8;
        }
        let pads = &pads[..n];
        if pads.is_sorted() {
            seqs.par_chunks(CHUNK_ROWS)
                .zip(probs.par_chunks_mut(CHUNK_ROWS))
                .for_each(|(s, p)| self.score_chunk(s, p));
            return;
        }
        let mut rows = [&seqs[0]; SORT_ROWS];
        // `n ≤ SORT_ROWS` fits in u16.
        let mut place = [0u16; SORT_ROWS];
        order_by_pads(pads, |k, slot| {
            rows[slot] = &seqs[k];
            place[k] = slot as u16;
        });
        let mut sorted = [0f32; SORT_ROWS];
        rows[..n]
            .par_chunks(CHUNK_ROWS)
            .zip(sorted[..n].par_chunks_mut(CHUNK_ROWS))
            .for_each(|(r, p)| self.score_refs(r, p));
        for (p, &k) in probs.iter_mut().zip(&place) {
            *p = sorted[usize::from(k)];
        }
    }

    /// Probabilities of rows of `SEQ_LEN` ids as a token file stores them, in parallel on the
    /// current rayon pool: `u16` rows go to the kernels as they are; `u32` rows are checked
    /// against the vocabulary and narrowed to `u16` a run of [`SORT_ROWS`] at a time into a
    /// per-thread buffer (never a copy of the whole input), then scored as [`Self::score`]
    /// scores a run, so the probabilities are bit for bit those of the `u16` rows with the same
    /// ids. `split` names the rows in an error. On an error, `probs` may be partly
    /// written.
    pub fn score_ids(
        &self,
        split: &'static str,
        ids: TokenIds<'_>,
        probs: &mut [f32],
    ) -> Result<(), InferError> {
        if Some(ids.len()) != probs.len().checked_mul(SEQ_LEN) {
            return Err(InferError::Rows {
                ids: ids.len(),
                rows: probs.len(),
            });
        }
        let wide = match ids {
            TokenIds::U16(t) => {
                self.score(bytemuck::cast_slice(t), probs);
                return Ok(());
            }
            TokenIds::U32(t) => t,
        };
        let vocab = self.vocab();
        let failed = wide
            .par_chunks(SORT_ROWS * SEQ_LEN)
            .zip(probs.par_chunks_mut(SORT_ROWS))
            .try_for_each_init(
                || vec![[0u16; SEQ_LEN]; SORT_ROWS],
                |buf, (chunk, p)| {
                    for (slot, row) in buf.iter_mut().zip(chunk.chunks_exact(SEQ_LEN)) {
                        for (o, &v) in slot.iter_mut().zip(row) {
                            if v as usize >= vocab {
                                return Err(());
                            }
                            // Below vocab <= 65,536: fits u16.
                            *o = v as u16;
                        }
                    }
                    self.score_sorted(&buf[..p.len()], p);
                    Ok(())
                },
            );
        // The parallel pass may stop at any bad chunk; name the first bad id in row order.
        failed.or_else(|()| self.check_ids(split, ids))
    }

    /// Probabilities of a whole split on `threads` threads (checked first).
    pub fn score_split(
        &self,
        split: &Split<'_>,
        num_words: usize,
        threads: usize,
    ) -> Result<Vec<f32>, InferError> {
        self.check(split, num_words)?;
        let mut probs = vec![0.0; split.len()];
        with_threads(threads, || {
            self.score_ids(split.name.as_str(), split.tokens, &mut probs)
        })??;
        Ok(probs)
    }

    /// A streaming session over one sequence, starting from the zero state.
    pub fn session(&self) -> Session<'_> {
        let state = match &self.folded {
            Folded::Lstm(_) => State::Lstm(LstmState::default()),
            Folded::Rnn(_) => State::Rnn(RnnState::default()),
        };
        Session {
            scorer: self,
            state,
            steps: 0,
        }
    }

    /// Probability of one review given as text: `score_one(&tokenizer.padded(text))`, the same
    /// bits, but each word is looked up in the step before the one that reads it
    /// ([`crate::kernels::Kernel::lstm_review_hidden_by`]), where that work overlaps the
    /// model's chain instead of coming before it. Falls back to the `padded` form when the
    /// tokenizer could emit an id the model has no row for, or an id of 0 (a pad).
    ///
    /// # Panics
    /// As [`crate::text::Tokenizer::padded`], if the tokenizer can emit ids above `u16::MAX`.
    pub fn score_text(&self, tokenizer: &Tokenizer, text: &str) -> Result<f32, InferError> {
        let config = tokenizer.config();
        let lazy = (tokenizer.max_id() as usize) < self.vocab()
            && config.start_char != 0
            && config.oov_char != 0;
        if !lazy {
            return self.score_one(&tokenizer.padded(text));
        }
        let tail = tokenizer.tail(text);
        let id = |k| tokenizer.tail_id(&tail, k);
        Ok(match &self.folded {
            Folded::Lstm(t) => self.kernel.lstm_review_by(t, tail.pads(), id),
            Folded::Rnn(t) => self.kernel.rnn_review_by(t, tail.pads(), id),
        })
    }

    /// Probability of one review, latency-optimised (starts from the padding cache).
    pub fn score_one(&self, tokens: &[u16; SEQ_LEN]) -> Result<f32, InferError> {
        if let Some(&token) = tokens.iter().find(|&&t| usize::from(t) >= self.vocab()) {
            return Err(InferError::Token {
                token,
                vocab: self.vocab(),
            });
        }
        Ok(match &self.folded {
            Folded::Lstm(t) => self.kernel.lstm_review(t, tokens),
            Folded::Rnn(t) => self.kernel.rnn_review(t, tokens),
        })
    }
}

/// Runs `f` on a rayon pool of exactly `threads` threads, so that the parallel scoring inside
/// uses that many cores and no more.
pub fn with_threads<R: Send>(
    threads: usize,
    f: impl FnOnce() -> R + Send,
) -> Result<R, InferError> {
    if threads == 0 {
        return Err(InferError::Threads(0));
    }
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => Ok(pool.install(f)),
        // The OS refused a thread: run on the global pool rather than fail.
        Err(_) => Ok(f()),
    }
}

/// [`with_threads`] for a loop of many short parallel steps (a training batch: three
/// fork-joins of 10–150 µs each): while `f` runs, the pool's other workers wait for work busily,
/// taking each job as soon as it is queued, instead of going to sleep between steps and being
/// woken by the OS, late or not at all. They do so only when `threads` is at most the cores
/// available (a spinner must not take a core `f` needs), and they yield the core to the OS
/// between short spins.
pub fn with_busy_threads<R: Send>(
    threads: usize,
    f: impl FnOnce() -> R + Send,
) -> Result<R, InferError> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if threads > cores {
        return with_threads(threads, f);
    }
    with_threads(threads, || busy_workers(f))
}

/// Runs `f` here while the current pool's other workers spin on [`rayon::yield_now`].
fn busy_workers<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let helpers = rayon::current_num_threads().saturating_sub(1);
    if helpers == 0 {
        return f();
    }
    let stop = AtomicBool::new(false);
    rayon::scope(|s| {
        let home = rayon::current_thread_index();
        for _ in 0..helpers {
            let stop = &stop;
            s.spawn(move |_| {
                // A worker waiting in a join runs queued jobs: a spinner there would sit on
                // top of `f`'s frames until `f` returned, which it then could not.
                if rayon::current_thread_index() == home {
                    return;
                }
                let mut idle = 0u32;
                while !stop.load(Ordering::Acquire) {
                    if rayon::yield_now() == Some(rayon::Yield::Executed) {
                        idle = 0;
                        continue;
                    }
                    idle += 1;
                    if idle.is_multiple_of(64) {
                        std::thread::yield_now();
                    } else {
                        std::hint::spin_loop();
                    }
                }
            });
        }
        // Set however `f` ends (a panic included), so that the scope can end.
        struct SetOnDrop<'a>(&'a AtomicBool);
        impl Drop for SetOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Release);
            }
        }
        let _stop = SetOnDrop(&stop);
        f()
    })
}

/// The first token of a stream (a [`Session::feed_all`]) at or above `vocab`, by its position.
pub(crate) fn check_stream(tokens: &[u16], vocab: usize) -> Result<(), TokenOutOfVocab> {
    match tokens.iter().position(|&t| usize::from(t) >= vocab) {
        None => Ok(()),
        Some(col) => Err(TokenOutOfVocab {
            split: "stream",
            row: 0,
            col,
            token: u32::from(tokens[col]),
            vocab,
        }),
    }
}

#[derive(Clone, Copy, Debug)]
enum State {
    Lstm(LstmState),
    Rnn(RnnState),
}

/// One sequence, fed a token at a time: for callers that see tokens as they arrive.
///
/// Keras runs every one of the `SEQ_LEN` positions, leading pads included; to reproduce its
/// probability for a review shorter than `SEQ_LEN`, feed the pads (token 0) first, or call
/// [`Session::reset_padded`] with the number of pads, which starts from the padding cache.
#[derive(Clone, Debug)]
pub struct Session<'a> {
    scorer: &'a Scorer,
    state: State,
    steps: usize,
}

impl Session<'_> {
    /// Back to the zero state.
    pub fn reset(&mut self) {
        *self = self.scorer.session();
    }

    /// The state after `pads` leading pad tokens (at most `SEQ_LEN`), from the padding cache.
    pub fn reset_padded(&mut self, pads: usize) {
        let k = pads.min(SEQ_LEN);
        self.state = match &self.scorer.folded {
            Folded::Lstm(t) => State::Lstm(*t.pad_state(k)),
            Folded::Rnn(t) => State::Rnn(*t.pad_state(k)),
        };
        self.steps = k;
    }

    /// One step with `token`.
    pub fn feed(&mut self, token: u16) -> Result<(), InferError> {
        let vocab = self.scorer.vocab();
        if usize::from(token) >= vocab {
            return Err(InferError::Token { token, vocab });
        }
        let k = self.scorer.kernel;
        match (&mut self.state, &self.scorer.folded) {
            (State::Lstm(s), Folded::Lstm(t)) => k.lstm_step(t, s, token),
            (State::Rnn(s), Folded::Rnn(t)) => k.rnn_step(t, s, token),
            _ => unreachable!("a session's state matches its scorer"),
        }
        self.steps += 1;
        Ok(())
    }

    /// Steps with `tokens` in order: the state [`Self::feed`] reaches taking them one at a time,
    /// bit for bit, faster (the kernel keeps the state in registers between them:
    /// [`Kernel::lstm_steps`]). Every token is checked first: one `≥ vocab` is an error naming
    /// its position, and then no step is taken.
    pub fn feed_all(&mut self, tokens: &[u16]) -> Result<(), InferError> {
        check_stream(tokens, self.scorer.vocab())?;
        let k = self.scorer.kernel;
        match (&mut self.state, &self.scorer.folded) {
            (State::Lstm(s), Folded::Lstm(t)) => k.lstm_steps(t, s, tokens),
            (State::Rnn(s), Folded::Rnn(t)) => k.rnn_steps(t, s, tokens),
            _ => unreachable!("a session's state matches its scorer"),
        }
        self.steps += tokens.len();
        Ok(())
    }

    /// The model's probability for the tokens fed so far.
    pub fn prob(&self) -> f32 {
        let k = self.scorer.kernel;
        match (&self.state, &self.scorer.folded) {
            (State::Lstm(s), Folded::Lstm(t)) => k.lstm_prob(t, s),
            (State::Rnn(s), Folded::Rnn(t)) => k.rnn_prob(t, s),
            _ => unreachable!("a session's state matches its scorer"),
        }
    }

    /// Steps taken since the last reset (pads from the cache included).
    pub fn steps(&self) -> usize {
        self.steps
    }
}
