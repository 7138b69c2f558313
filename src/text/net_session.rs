//! Text for a network of any shape (issue 14): [`Tokenizer::padded_wide_into`] (one review,
//! `pad_sequences` to the network's length), [`NetTextSession`] (a review arriving in pieces,
//! over [`NetScorer`] and its [`NetSession`]) and [`AnyTextSession`], which picks the notebook's
//! [`TextSession`] for the notebook's shapes and [`NetTextSession`] for every other, as
//! [`AnyScorer`] does for whole reviews. The C API's and the Python package's sessions are
//! [`AnyTextSession`]s.
//!
//! The tokenizer does not depend on the shape: ids follow `load_data(num_words = vocab)` as for
//! the notebook; only the row length (`seq_len`, up to 4,096) and the id width (32 bits, for
//! vocabularies beyond 65,536) differ.

use super::{TextError, TextSession, Tokenizer, Word};
use crate::infer::Scorer;
use crate::net::{AnyScoreError, AnyScorer, NetScoreError, NetScorer, NetSession};
use crate::tokfile::TokenOutOfVocab;

impl Tokenizer {
    /// `out` becomes `pad_sequences([ids of text], maxlen=seq_len)[0]` (Keras' defaults: pads and
    /// truncates at the front): the start char, one id per word, the last `seq_len` kept,
    /// preceded by zeros when there are fewer. Any vocabulary size (32-bit ids).
    ///
    /// Allocation-free once `out` has grown to the review's length (and at least `seq_len`).
    pub fn padded_wide_into(&self, text: &str, seq_len: usize, out: &mut Vec<u32>) {
        self.tokenize_wide_into(text, out);
        pad_front(out, seq_len);
    }
}

/// `ids` in place as `pad_sequences(maxlen=len)` makes a row: the last `len` ids, zeros in front.
fn pad_front(ids: &mut Vec<u32>, len: usize) {
    let n = ids.len();
    if n >= len {
        ids.copy_within(n - len.., 0);
        ids.truncate(len);
    } else {
        ids.resize(len, 0);
        ids.copy_within(..n, len - n);
        ids[..len - n].fill(0);
    }
}

/// The most finished words of a text chunk that [`NetTextSession::push_str`] steps in one call.
const IDS_A_CALL: usize = 64;

/// A review fed as text chunks and token ids, for a network of any shape ([`NetScorer`]), with
/// two probabilities available after any piece — the same two as the notebook's
/// [`TextSession`]:
///
/// - [`NetTextSession::prob`]: what the network says if the text so far were the whole review
///   (`pad_sequences` of its ids to `seq_len`, an unfinished last word counted as a word), i.e.
///   what [`AnyScorer::score_unpadded`] / the C API's `fusedrnn_score_text` give for the whole
///   text. One review's scoring ([`NetScorer::score_one`]: from the padding cache, at most
///   `seq_len` steps).
/// - [`NetTextSession::running_prob`]: a [`NetSession`] from the zero state stepped once per
///   finished word (no pads, no truncation): O(1) per word and per read, but not the padded
///   probability Keras gives.
///
/// The last `seq_len` ids live in a mirrored ring (`2 · seq_len` ids, each written at `k mod L`
/// and `k mod L + L`), so the padded row is always one contiguous slice of it: no row is
/// assembled per read. The unfinished word's id is written at the next place tentatively (the
/// word's end writes its final id there), so [`NetTextSession::prob`] borrows the session
/// immutably.
#[derive(Clone)]
pub struct NetTextSession<'a> {
    tokenizer: &'a Tokenizer,
    scorer: &'a NetScorer,
    word: Word,
    /// `2 · seq_len` ids: id number `k` (from 0, start char first) at `k % L` and `k % L + L`;
    /// before `L` ids have come, the first half is zero past them (the row's pads).
    ring: Vec<u32>,
    /// Ids of finished words (start char and pushed ids included).
    n_ids: usize,
    /// The unfinished word's id, if a word is open (written tentatively at `n_ids`).
    open: Option<u32>,
    running: NetSession<'a>,
}

impl<'a> NetTextSession<'a> {
    /// A session for `scorer`'s network; `tokenizer` must not emit ids outside its vocabulary
    /// ([`TextError::Vocab`]).
    pub fn new(tokenizer: &'a Tokenizer, scorer: &'a NetScorer) -> Result<Self, TextError> {
        let vocab = scorer.spec().vocab;
        if tokenizer.max_id() as usize >= vocab {
            return Err(TextError::Vocab {
                max_id: tokenizer.max_id(),
                vocab,
            });
        }
        let mut s = NetTextSession {
            tokenizer,
            scorer,
            word: Word::new(),
            // seq_len is at most MAX_SEQ_LEN (4,096, checked by `Spec::validate` when the
            // scorer was built): 32 KiB at most.
            ring: vec![0; 2 * scorer.spec().seq_len],
            n_ids: 0,
            open: None,
            running: scorer.session(),
        };
        s.reset();
        Ok(s)
    }

    /// The network's row length.
    fn len(&self) -> usize {
        self.ring.len() / 2
    }

    /// Starts a new review (just the start char).
    pub fn reset(&mut self) {
        self.word = Word::new();
        self.ring.fill(0);
        self.n_ids = 0;
        self.open = None;
        self.running.reset();
        self.push_id(self.tokenizer.config.start_char);
    }

    /// Writes id number `k` into both halves of the ring.
    fn write(&mut self, k: usize, id: u32) {
        let len = self.len();
        self.ring[k % len] = id;
        self.ring[k % len + len] = id;
    }

    /// Appends a finished word's id (checked against the vocabulary by the caller or by `new`).
    fn push_id(&mut self, id: u32) {
        self.write(self.n_ids, id);
        self.n_ids += 1;
        self.running
            .feed(id)
            .expect("every id was checked against the vocabulary");
    }

    /// Appends finished words' ids (checked as for [`Self::push_id`]), stepping the running
    /// state through them in one call.
    fn push_ids(&mut self, ids: &[u32]) {
        if ids.is_empty() {
            return;
        }
        for &id in ids {
            self.write(self.n_ids, id);
            self.n_ids += 1;
        }
        self.running
            .feed_all(ids)
            .expect("every id was checked against the vocabulary");
    }

    /// Writes the open word's id tentatively at the next place, after the word changed.
    fn mark_open(&mut self) {
        self.open = self.tokenizer.word_id(&self.word);
        if let Some(id) = self.open {
            self.write(self.n_ids, id);
        }
    }

    /// Appends `chunk` to the review (it may end inside a word: `"mov"` then `"ie"` is `movie`).
    ///
    /// The chunk's finished words step the running state up to 64 at a time, in one kernel call
    /// each ([`NetSession::feed_all`]: the same bits as a call a word, and less time).
    pub fn push_str(&mut self, chunk: &str) {
        let mut word = std::mem::replace(&mut self.word, Word::new());
        let tokenizer = self.tokenizer;
        let (mut ids, mut n) = ([0u32; IDS_A_CALL], 0);
        tokenizer.feed(&mut word, chunk, &mut |id| {
            ids[n] = id;
            n += 1;
            if n == IDS_A_CALL {
                self.push_ids(&ids);
                n = 0;
            }
        });
        self.push_ids(&ids[..n]);
        self.word = word;
        self.mark_open();
    }

    /// Appends token ids after the text so far, ending the open word first (as a separator
    /// would). Every id is checked first: one `≥ vocab` is an error naming its position, and
    /// then nothing is appended (the open word stays open).
    pub fn push_tokens(&mut self, ids: &[u32]) -> Result<(), NetScoreError> {
        let vocab = self.scorer.spec().vocab;
        if let Some(at) = ids.iter().position(|&t| t as usize >= vocab) {
            return Err(TokenOutOfVocab {
                split: "stream",
                row: 0,
                col: at,
                token: ids[at],
                vocab,
            }
            .into());
        }
        if ids.is_empty() {
            return Ok(());
        }
        let mut word = std::mem::replace(&mut self.word, Word::new());
        let tokenizer = self.tokenizer;
        tokenizer.end_word(&mut word, &mut |id| self.push_id(id));
        self.word = word;
        self.open = None;
        self.push_ids(ids);
        Ok(())
    }

    /// Ids of finished words so far, start char included (the unfinished word is not counted).
    pub fn n_ids(&self) -> usize {
        self.n_ids
    }

    /// `pad_sequences` of the text so far to the network's length, the unfinished word counted
    /// as finished: a view into the session, no copy.
    pub fn padded(&self) -> &[u32] {
        let total = self.n_ids + usize::from(self.open.is_some());
        let start = total % self.len();
        &self.ring[start..start + self.len()]
    }

    /// The network's probability for the text so far as a whole review (see the type's docs).
    pub fn prob(&self) -> f32 {
        self.scorer
            .score_one(self.padded())
            .expect("every id was checked against the vocabulary")
    }

    /// The running, unpadded probability after the finished words (see the type's docs).
    pub fn running_prob(&self) -> f32 {
        self.running.prob()
    }

    /// The network's row length (`seq_len`).
    pub fn seq_len(&self) -> usize {
        self.len()
    }
}

/// A streaming text session on the fastest path for the model's shape: the notebook's
/// [`TextSession`] (fixed-shape kernels) or [`NetTextSession`] (any other shape). Both give the
/// same two probabilities with the same meaning.
#[derive(Clone)]
pub struct AnyTextSession<'a> {
    inner: Inner<'a>,
    /// The model's vocabulary: every pushed id is below it.
    vocab: usize,
}

#[derive(Clone)]
enum Inner<'a> {
    Notebook(TextSession<'a>),
    Net(NetTextSession<'a>),
}

impl<'a> AnyTextSession<'a> {
    /// A session over `scorer`'s model; `tokenizer` must not emit ids outside its vocabulary.
    pub fn new(tokenizer: &'a Tokenizer, scorer: &'a AnyScorer) -> Result<Self, TextError> {
        match scorer {
            AnyScorer::Notebook(s) => AnyTextSession::notebook(tokenizer, s),
            AnyScorer::Net(s) => AnyTextSession::net(tokenizer, s),
        }
    }

    /// A session on the notebook's fixed-shape kernels.
    pub fn notebook(tokenizer: &'a Tokenizer, scorer: &'a Scorer) -> Result<Self, TextError> {
        Ok(AnyTextSession {
            inner: Inner::Notebook(TextSession::new(tokenizer, scorer)?),
            vocab: scorer.vocab(),
        })
    }

    /// A session on the general kernels.
    pub fn net(tokenizer: &'a Tokenizer, scorer: &'a NetScorer) -> Result<Self, TextError> {
        Ok(AnyTextSession {
            inner: Inner::Net(NetTextSession::new(tokenizer, scorer)?),
            vocab: scorer.spec().vocab,
        })
    }

    /// The model's vocabulary: every pushed id must be below it.
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    /// Whether the notebook's fixed-shape kernels run this session.
    pub fn is_notebook(&self) -> bool {
        matches!(self.inner, Inner::Notebook(_))
    }

    /// Starts a new review (just the start char).
    pub fn reset(&mut self) {
        match &mut self.inner {
            Inner::Notebook(s) => s.reset(),
            Inner::Net(s) => s.reset(),
        }
    }

    /// Appends `chunk` to the review (it may end inside a word).
    pub fn push_str(&mut self, chunk: &str) {
        match &mut self.inner {
            Inner::Notebook(s) => s.push_str(chunk),
            Inner::Net(s) => s.push_str(chunk),
        }
    }

    /// Appends token ids after the text so far (the open word ends first). Every id is checked
    /// first: one `≥ vocab` is an error naming its position, and then nothing is appended.
    pub fn push_tokens(&mut self, ids: &[u32]) -> Result<(), AnyScoreError> {
        let vocab = self.vocab;
        if let Some(at) = ids.iter().position(|&t| t as usize >= vocab) {
            return Err(NetScoreError::from(TokenOutOfVocab {
                split: "stream",
                row: 0,
                col: at,
                token: ids[at],
                vocab,
            })
            .into());
        }
        match &mut self.inner {
            Inner::Notebook(s) => {
                // Checked above: below the vocabulary, itself at most 65,536. Converted in parts
                // of a stack buffer, so the call allocates nothing; an empty call changes nothing
                // (the open word stays open), as the check would leave it.
                let mut narrow = [0u16; 256];
                for part in ids.chunks(narrow.len()) {
                    for (n, &id) in narrow.iter_mut().zip(part) {
                        *n = id as u16;
                    }
                    s.push_tokens(&narrow[..part.len()])?;
                }
                Ok(())
            }
            Inner::Net(s) => Ok(s.push_tokens(ids)?),
        }
    }

    /// Ids of finished words so far, start char included.
    pub fn n_ids(&self) -> usize {
        match &self.inner {
            Inner::Notebook(s) => s.n_ids(),
            Inner::Net(s) => s.n_ids(),
        }
    }

    /// The model's probability for the text so far as a whole review.
    pub fn prob(&self) -> f32 {
        match &self.inner {
            Inner::Notebook(s) => s.prob(),
            Inner::Net(s) => s.prob(),
        }
    }

    /// The running, unpadded probability after the finished words.
    pub fn running_prob(&self) -> f32 {
        match &self.inner {
            Inner::Notebook(s) => s.running_prob(),
            Inner::Net(s) => s.running_prob(),
        }
    }

    /// `pad_sequences` of the text so far to the model's length, as 32-bit ids.
    pub fn padded(&self) -> Vec<u32> {
        match &self.inner {
            Inner::Notebook(s) => s.padded().iter().map(|&t| u32::from(t)).collect(),
            Inner::Net(s) => s.padded().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Kernel;
    use crate::net::{Cell, Input, NetWeights, Spec};
    use crate::text::TokenizerConfig;
    use crate::text::session::tests::review;

    fn tokenizer(num_words: u32) -> Tokenizer {
        let json = include_bytes!("../../tests/fixtures/text/word_index.json");
        let config = TokenizerConfig {
            num_words: Some(num_words),
            ..TokenizerConfig::default()
        };
        Tokenizer::from_json(json, config).unwrap()
    }

    fn scorer(cell: Cell, seq_len: usize) -> NetScorer {
        let spec = Spec {
            cell,
            units: 5,
            vocab: 700,
            input: Input::Embedding { width: 6 },
            seq_len,
        };
        NetScorer::from_weights(&NetWeights::seeded(spec, 3, 0.4), Kernel::select().unwrap())
            .unwrap()
    }

    #[test]
    fn pad_front_is_pad_sequences_pre() {
        for (ids, len, want) in [
            (vec![1, 2, 3], 5, vec![0, 0, 1, 2, 3]),
            (vec![1, 2, 3], 3, vec![1, 2, 3]),
            (vec![1, 2, 3, 4, 5], 2, vec![4, 5]),
            (vec![], 2, vec![0, 0]),
        ] {
            let mut v = ids.clone();
            pad_front(&mut v, len);
            assert_eq!(v, want, "{ids:?} to {len}");
        }
    }

    #[test]
    fn prob_equals_the_whole_text_scored_for_any_chunking() {
        let t = tokenizer(700);
        for (cell, len) in [(Cell::Lstm, 7), (Cell::Gru { reset_after: false }, 30)] {
            let s = scorer(cell, len);
            let mut session = NetTextSession::new(&t, &s).unwrap();
            let mut row = Vec::new();
            for words in [0, 1, 5, len - 2, len - 1, len, len + 1, 3 * len + 2] {
                let text = review(words);
                t.padded_wide_into(&text, len, &mut row);
                let want = s.score_one(&row).unwrap();
                for chunk_chars in 1..=9 {
                    session.reset();
                    let chars: Vec<char> = text.chars().collect();
                    for piece in chars.chunks(chunk_chars) {
                        session.push_str(&piece.iter().collect::<String>());
                        // Every read in between is a whole review's too.
                        let _ = session.prob();
                    }
                    assert_eq!(session.padded(), row, "{words} words, {chunk_chars}");
                    assert_eq!(session.prob(), want, "{words} words, {chunk_chars}");
                }
            }
        }
    }

    #[test]
    fn running_prob_is_a_net_session_fed_the_finished_words() {
        let (t, s) = (tokenizer(700), scorer(Cell::Gru { reset_after: true }, 12));
        let text = review(40) + " ";
        let mut ids = Vec::new();
        t.tokenize_wide_into(&text, &mut ids);
        let mut want = s.session();
        for &id in &ids {
            want.feed(id).unwrap();
        }
        let mut session = NetTextSession::new(&t, &s).unwrap();
        for piece in text.split_inclusive('e') {
            session.push_str(piece);
        }
        assert_eq!(session.n_ids(), ids.len());
        assert_eq!(session.running_prob(), want.prob());
        // A chunk of more words than one kernel call takes (64): the same bits, the same ring.
        let text = review(150) + " ";
        ids.clear();
        t.tokenize_wide_into(&text, &mut ids);
        assert!(ids.len() > 2 * 64, "{} ids", ids.len());
        let mut want = s.session();
        for &id in &ids {
            want.feed(id).unwrap();
        }
        session.reset();
        session.push_str(&text);
        assert_eq!(session.n_ids(), ids.len());
        assert_eq!(session.running_prob().to_bits(), want.prob().to_bits());
        pad_front(&mut ids, 12);
        assert_eq!(session.padded(), ids);
    }

    #[test]
    fn pushed_ids_end_the_open_word_and_bad_ones_change_nothing() {
        let (t, s) = (tokenizer(700), scorer(Cell::SimpleRnn, 9));
        let mut session = NetTextSession::new(&t, &s).unwrap();
        session.push_str("the mov");
        session.push_tokens(&[17, 0, 699]).unwrap();
        let mut ids = Vec::new();
        t.tokenize_wide_into("the mov", &mut ids);
        ids.extend([17, 0, 699]);
        // The pushed ids step the running state in one call: the bits of one id a call.
        let mut one_a_call = s.session();
        for &id in &ids {
            one_a_call.feed(id).unwrap();
        }
        assert_eq!(
            session.running_prob().to_bits(),
            one_a_call.prob().to_bits()
        );
        session.push_str("ie");
        let mut tail = Vec::new();
        t.tokenize_wide_into("ie", &mut tail);
        ids.extend(&tail[1..]);
        pad_front(&mut ids, 9);
        assert_eq!(session.padded(), ids);
        assert_eq!(session.prob(), s.score_one(&ids).unwrap());
        let before = (session.padded().to_vec(), session.n_ids());
        let err = session.push_tokens(&[5, 700]).unwrap_err();
        assert!(err.to_string().contains("700"), "{err}");
        assert_eq!((session.padded().to_vec(), session.n_ids()), before);
    }

    #[test]
    fn a_tokenizer_wider_than_the_network_is_refused() {
        let s = scorer(Cell::Lstm, 5);
        let config = TokenizerConfig {
            num_words: None,
            ..TokenizerConfig::default()
        };
        let t = Tokenizer::from_index([("big", 800)], config).unwrap();
        assert!(matches!(
            NetTextSession::new(&t, &s),
            Err(TextError::Vocab {
                max_id: 803,
                vocab: 700
            })
        ));
    }
}
