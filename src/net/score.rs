//! Scoring with a network of any shape: [`NetScorer`] holds the folded weights, the kernel
//! that runs them and that kernel's padding cache, and scores a batch across threads, one
//! sequence, or a stream of tokens ([`NetSession`]).
//!
//! Every entry point checks its input first (ids below the vocabulary, whole rows of
//! `seq_len`), so bad input is an error, never a panic. A batch is cut into chunks of
//! [`CHUNK_ROWS`] rows for the threads; since a sequence's bits do not depend on the sequences
//! around it (see [`crate::kernels::Kernel::net_forward`]), the probabilities are the same on
//! any number of threads. One sequence ([`NetScorer::score_one`], a [`NetSession`]) runs the
//! one-sequence path, a matrix-vector product with the latency forms of the activations:
//! `score_one` and a session fed every token agree bit for bit, and agree with the same
//! sequence's probability in a batch within a few ulps (both within 1e-5 of the reference).
//!
//! ```
//! use fusedrnn::kernels::Kernel;
//! use fusedrnn::net::{Cell, Input, NetScorer, NetWeights, Spec};
//!
//! let spec = Spec { cell: Cell::Lstm, units: 32, vocab: 5000, input: Input::Embedding { width: 64 }, seq_len: 20 };
//! let scorer = NetScorer::from_weights(&NetWeights::seeded(spec, 1, 0.1), Kernel::select().unwrap()).unwrap();
//! let seqs: Vec<u32> = (0..3 * 20).map(|i| i % 5000).collect();
//! let probs = scorer.score_threads(&seqs, 2).unwrap();
//! assert!((probs[1] - scorer.score_one(&seqs[20..40]).unwrap()).abs() < 1e-5);
//! ```

use rayon::prelude::*;

use super::TokenId;
use super::pad::NetPadCache;
use super::spec::Spec;
use super::tables::{NetState, NetTables};
use super::weights::{NetWeights, WeightsError};
use crate::kernels::{Kernel, NetStepScratch};
use crate::tokfile::TokenOutOfVocab;

/// Rows per parallel work item: whole blocks of the batch's 4 (16 lanes) or 6 (8 lanes)
/// sequences, and one window of the batch's sort by leading pads (120 measured 1–2 % faster
/// than 128 with 8 lanes, where 128 leaves a block of 2 per chunk).
pub const CHUNK_ROWS: usize = 120;

/// Why a [`NetScorer`] cannot score some input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NetScoreError {
    #[error("{ids} token ids are not whole rows of the network's sequence length {seq_len}")]
    Rows { ids: usize, seq_len: usize },
    #[error("{rows} rows but room for {probs} probabilities")]
    Probs { rows: usize, probs: usize },
    #[error(transparent)]
    Token(#[from] TokenOutOfVocab),
    #[error("{0} threads: at least 1 is needed")]
    Threads(usize),
}

/// A network ready to score: folded weights, a kernel and its padding cache.
#[derive(Clone, Debug)]
pub struct NetScorer {
    tables: NetTables,
    kernel: Kernel,
    pads: NetPadCache,
}

impl NetScorer {
    /// Builds the padding cache of `tables` with `kernel` (normally [`Kernel::select`]).
    pub fn new(tables: NetTables, kernel: Kernel) -> NetScorer {
        let pads = NetPadCache::new(kernel, &tables);
        NetScorer {
            tables,
            kernel,
            pads,
        }
    }

    /// Validates and folds `w` ([`NetTables::fold`]), then [`Self::new`].
    pub fn from_weights(w: &NetWeights, kernel: Kernel) -> Result<NetScorer, WeightsError> {
        Ok(NetScorer::new(NetTables::fold(w)?, kernel))
    }

    pub fn spec(&self) -> &Spec {
        self.tables.spec()
    }

    pub fn tables(&self) -> &NetTables {
        &self.tables
    }

    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    pub fn pad_cache(&self) -> &NetPadCache {
        &self.pads
    }

    /// Checks that `seqs` is whole rows of `seq_len` ids below the vocabulary (the first bad id
    /// in row order is named; `split` names the rows in the message) and returns the row count.
    pub fn check<T: TokenId>(
        &self,
        split: &'static str,
        seqs: &[T],
    ) -> Result<usize, NetScoreError> {
        let (len, vocab) = (self.spec().seq_len, self.spec().vocab);
        if !seqs.len().is_multiple_of(len) {
            return Err(NetScoreError::Rows {
                ids: seqs.len(),
                seq_len: len,
            });
        }
        if let Some(at) = seqs.iter().position(|t| t.index() >= vocab) {
            return Err(TokenOutOfVocab {
                split,
                row: at / len,
                col: at % len,
                token: u32::try_from(seqs[at].index()).unwrap_or(u32::MAX),
                vocab,
            }
            .into());
        }
        Ok(seqs.len() / len)
    }

    /// Probabilities of `seqs` (`[n, seq_len]` flat) into `probs [n]`, checked first, in
    /// parallel on the current rayon pool (see [`Self::score_threads`]).
    pub fn score<T: TokenId>(&self, seqs: &[T], probs: &mut [f32]) -> Result<(), NetScoreError> {
        let rows = self.check("input", seqs)?;
        if rows != probs.len() {
            return Err(NetScoreError::Probs {
                rows,
                probs: probs.len(),
            });
        }
        let len = self.spec().seq_len;
        seqs.par_chunks(CHUNK_ROWS * len)
            .zip(probs.par_chunks_mut(CHUNK_ROWS))
            .for_each(|(s, p)| self.kernel.net_forward(&self.tables, &self.pads, s, p));
        Ok(())
    }

    /// Probabilities of `seqs` on exactly `threads` threads. The result does not depend on
    /// `threads`, bit for bit.
    pub fn score_threads<T: TokenId>(
        &self,
        seqs: &[T],
        threads: usize,
    ) -> Result<Vec<f32>, NetScoreError> {
        let rows = self.check("input", seqs)?;
        if threads == 0 {
            return Err(NetScoreError::Threads(0));
        }
        let mut probs = vec![0.0; rows];
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool.install(|| self.score(seqs, &mut probs))?,
            // The OS refused a thread: run on the global pool rather than fail.
            Err(_) => self.score(seqs, &mut probs)?,
        }
        Ok(probs)
    }

    /// Probability of one sequence of exactly `seq_len` ids, latency-optimised (the
    /// one-sequence path from the padding cache after its leading pads): bit for bit a
    /// [`NetSession`] fed the same ids, within a few ulps of its probability in a batch.
    pub fn score_one<T: TokenId>(&self, tokens: &[T]) -> Result<f32, NetScoreError> {
        let len = self.spec().seq_len;
        if tokens.len() != len {
            return Err(NetScoreError::Rows {
                ids: tokens.len(),
                seq_len: len,
            });
        }
        self.check("input", tokens)?;
        Ok(self.kernel.net_sequence(&self.tables, &self.pads, tokens))
    }

    /// A streaming session over one sequence, from the zero state.
    pub fn session(&self) -> NetSession<'_> {
        NetSession {
            scorer: self,
            state: NetState::zeros(self.spec()),
            steps: 0,
            scratch: NetStepScratch::new(self.spec().units),
        }
    }
}

/// One sequence, fed a token at a time.
///
/// Keras runs every position, leading pads included: to reproduce its probability for a
/// sequence shorter than `seq_len`, feed the pads (id 0) first, or start with
/// [`NetSession::reset_padded`], which takes the state from the padding cache (the same bits).
#[derive(Clone, Debug)]
pub struct NetSession<'a> {
    scorer: &'a NetScorer,
    state: NetState,
    steps: usize,
    /// The steps' scratch, this session's own (allocated with it; steps allocate nothing).
    scratch: NetStepScratch,
}

impl NetSession<'_> {
    /// Back to the zero state.
    pub fn reset(&mut self) {
        self.reset_padded(0);
    }

    /// The state after `pads` leading pads (at most `seq_len`; more are capped), from the cache.
    pub fn reset_padded(&mut self, pads: usize) {
        let k = pads.min(self.scorer.pads.max_pads());
        // In place: a session's reset allocates nothing (the C API's no_alloc test).
        self.scorer.pads.copy_state_into(k, &mut self.state);
        self.steps = k;
    }

    /// One step with `token`; an id `≥ vocab` is an error and leaves the state as it was.
    pub fn feed<T: TokenId>(&mut self, token: T) -> Result<(), NetScoreError> {
        self.feed_all(&[token])
    }

    /// Steps with `tokens` in order: bit for bit [`Self::feed`] of each, faster (one call into
    /// the kernel for them all: [`Kernel::net_steps`]). Every token is checked first: one
    /// `≥ vocab` is an error naming its place in the stream, and then no step is taken.
    pub fn feed_all<T: TokenId>(&mut self, tokens: &[T]) -> Result<(), NetScoreError> {
        let vocab = self.scorer.spec().vocab;
        if let Some(at) = tokens.iter().position(|t| t.index() >= vocab) {
            return Err(TokenOutOfVocab {
                split: "stream",
                row: 0,
                col: self.steps + at,
                token: u32::try_from(tokens[at].index()).unwrap_or(u32::MAX),
                vocab,
            }
            .into());
        }
        let s = self.scorer;
        s.kernel
            .net_steps_in(&s.tables, &mut self.state, tokens, &mut self.scratch);
        self.steps += tokens.len();
        Ok(())
    }

    /// The probability for the tokens fed so far.
    pub fn prob(&self) -> f32 {
        self.scorer
            .kernel
            .net_prob(&self.scorer.tables, &self.state)
    }

    /// The current state.
    pub fn state(&self) -> &NetState {
        &self.state
    }

    /// Steps taken since the last reset (pads from the cache included).
    pub fn steps(&self) -> usize {
        self.steps
    }
}
