//! Text that arrives in pieces (a chat message typed, a socket read), scored at any point.

use crate::infer::{InferError, Scorer, Session, check_stream};
use crate::shape::SEQ_LEN;

use super::{TextError, Tokenizer, Word};

/// A review fed as text chunks, with two probabilities available after any chunk:
///
/// - [`TextSession::prob`]: what the notebook would say if the text so far were the whole review
///   (`pad_sequences` of its ids, the last `SEQ_LEN` kept, an unfinished last word counted as a
///   word). Costs one review's scoring ([`Scorer::score_one`], at most `SEQ_LEN` steps from the
///   padding cache).
/// - [`TextSession::running_prob`]: the recurrent state advanced one step per finished word
///   ([`Session::feed`], from the zero state, with no pads and no truncation): O(1) per word and
///   per read, but not the padded probability Keras gives.
///
/// Chunks may split a word anywhere (`"mov"` then `"ie"` is `movie`); they are `&str`, so they
/// never split a character.
#[derive(Clone)]
pub struct TextSession<'a> {
    tokenizer: &'a Tokenizer,
    scorer: &'a Scorer,
    word: Word,
    /// The last `SEQ_LEN` ids of finished words (start char included), as a ring: id number `k`
    /// (counting from 0) is at `k % SEQ_LEN`.
    recent: [u16; SEQ_LEN],
    n_ids: usize,
    running: Session<'a>,
}

impl<'a> TextSession<'a> {
    /// A session for `scorer`'s model; `tokenizer` must not emit ids outside its vocabulary.
    pub fn new(tokenizer: &'a Tokenizer, scorer: &'a Scorer) -> Result<Self, TextError> {
        if tokenizer.max_id() as usize >= scorer.vocab() {
            return Err(TextError::Vocab {
                max_id: tokenizer.max_id(),
                vocab: scorer.vocab(),
            });
        }
        let mut s = TextSession {
            tokenizer,
            scorer,
            word: Word::new(),
            recent: [0; SEQ_LEN],
            n_ids: 0,
            running: scorer.session(),
        };
        s.reset();
        Ok(s)
    }

    /// Starts a new review (just the start char).
    pub fn reset(&mut self) {
        self.word = Word::new();
        self.n_ids = 0;
        self.running.reset();
        self.push_id(self.tokenizer.config.start_char);
    }

    fn push_id(&mut self, id: u32) {
        // `new` checked that every id is below the vocabulary, itself at most u16 + 1.
        let id = id as u16;
        self.recent[self.n_ids % SEQ_LEN] = id;
        self.n_ids += 1;
        self.running
            .feed(id)
            .expect("new checked the ids against the vocabulary");
    }

    /// Appends `chunk` to the review.
    pub fn push_str(&mut self, chunk: &str) {
        let mut word = std::mem::replace(&mut self.word, Word::new());
        let tokenizer = self.tokenizer;
        tokenizer.feed(&mut word, chunk, &mut |id| self.push_id(id));
        self.word = word;
    }

    /// Appends one token id after the text so far, ending the open word first (as a separator
    /// would): for callers that mix text with ids they tokenized themselves.
    pub fn push_token(&mut self, id: u16) -> Result<(), InferError> {
        let vocab = self.scorer.vocab();
        if usize::from(id) >= vocab {
            return Err(InferError::Token { token: id, vocab });
        }
        self.push_tokens(&[id])
    }

    /// Appends token ids after the text so far, ending the open word first: what
    /// [`Self::push_token`] gives for each, with their steps taken together
    /// ([`Session::feed_all`], the state in registers between them). Every id is checked first:
    /// one `≥ vocab` is an error naming its position, and then nothing is appended (the open
    /// word stays open).
    pub fn push_tokens(&mut self, ids: &[u16]) -> Result<(), InferError> {
        check_stream(ids, self.scorer.vocab())?;
        if ids.is_empty() {
            return Ok(());
        }
        let mut word = std::mem::replace(&mut self.word, Word::new());
        let tokenizer = self.tokenizer;
        tokenizer.end_word(&mut word, &mut |id| self.push_id(id));
        self.word = word;
        for &id in ids {
            self.recent[self.n_ids % SEQ_LEN] = id;
            self.n_ids += 1;
        }
        self.running
            .feed_all(ids)
            .expect("checked above against the vocabulary");
        Ok(())
    }

    /// Ids of finished words so far, start char included (the unfinished word is not counted).
    pub fn n_ids(&self) -> usize {
        self.n_ids
    }

    /// `pad_sequences` of the text so far, the unfinished word counted as finished.
    pub fn padded(&self) -> [u16; SEQ_LEN] {
        let open = self.tokenizer.word_id(&self.word).map(|id| id as u16);
        let total = self.n_ids + usize::from(open.is_some());
        let kept = total.min(SEQ_LEN);
        let mut row = [0u16; SEQ_LEN];
        // The last `kept` ids in order: finished ones from the ring, then the open word.
        let from_ring = kept - usize::from(open.is_some());
        for (j, slot) in row[SEQ_LEN - kept..][..from_ring].iter_mut().enumerate() {
            *slot = self.recent[(self.n_ids - from_ring + j) % SEQ_LEN];
        }
        if let Some(id) = open {
            row[SEQ_LEN - 1] = id;
        }
        row
    }

    /// The notebook's probability for the text so far as a whole review.
    pub fn prob(&self) -> f32 {
        self.scorer
            .score_one(&self.padded())
            .expect("new checked the ids against the vocabulary")
    }

    /// The running, unpadded probability after the finished words (see the type's docs).
    pub fn running_prob(&self) -> f32 {
        self.running.prob()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::kernels::Kernel;
    use crate::model::Model;
    use crate::text::{TokenizerConfig, to_padded};

    fn scorer() -> Scorer {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/parity/lstm.safetensors"
        );
        Scorer::new(&Model::load(path).unwrap(), Kernel::select().unwrap())
    }

    fn tokenizer() -> Tokenizer {
        let json = include_bytes!("../../tests/fixtures/text/word_index.json");
        Tokenizer::from_json(json, TokenizerConfig::default()).unwrap()
    }

    /// A review of `words` words cycling through some known, unknown and awkward ones (also
    /// `net_session`'s tests').
    pub(in crate::text) fn review(words: usize) -> String {
        let pool = [
            "The",
            "movie",
            "was",
            "great,",
            "I",
            "didn't",
            "'like'",
            "the",
            "caf\u{e9}",
            "story",
            "<br",
            "/><br",
            "/>",
            "BAD!",
            "10/10",
            "\u{1f600}",
            "it's",
        ];
        (0..words)
            .map(|i| pool[i * 7 % pool.len()])
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn prob_equals_the_whole_text_scored_for_any_chunking() {
        let (t, s) = (tokenizer(), scorer());
        let mut session = TextSession::new(&t, &s).unwrap();
        let mut ids = Vec::new();
        for words in [0, 1, 5, 60, 98, 99, 100, 101, 250] {
            let text = review(words);
            t.tokenize_into(&text, &mut ids);
            let want = s.score_one(&to_padded(&ids)).unwrap();
            // Chunks of every size from 1 to 13 characters, so words split everywhere.
            for chunk_chars in 1..=13 {
                session.reset();
                let chars: Vec<char> = text.chars().collect();
                for piece in chars.chunks(chunk_chars) {
                    session.push_str(&piece.iter().collect::<String>());
                }
                assert_eq!(
                    session.padded(),
                    to_padded(&ids),
                    "{words} words, {chunk_chars}"
                );
                assert_eq!(session.prob(), want, "{words} words, {chunk_chars}");
            }
        }
    }

    #[test]
    fn running_prob_is_the_session_fed_the_finished_words() {
        let (t, s) = (tokenizer(), scorer());
        let text = review(150) + " ";
        let mut ids = Vec::new();
        t.tokenize_into(&text, &mut ids);
        let mut want = s.session();
        for &id in &ids {
            want.feed(id).unwrap();
        }
        let mut session = TextSession::new(&t, &s).unwrap();
        for piece in text.split_inclusive('e') {
            session.push_str(piece);
        }
        assert_eq!(session.n_ids(), ids.len());
        assert_eq!(session.running_prob(), want.prob());
    }

    #[test]
    fn pushed_tokens_end_the_open_word_and_follow_it() {
        let (t, s) = (tokenizer(), scorer());
        let mut session = TextSession::new(&t, &s).unwrap();
        session.push_str("the mov");
        session.push_token(17).unwrap();
        session.push_token(0).unwrap();
        session.push_str("ie");
        let mut ids = Vec::new();
        t.tokenize_into("the mov", &mut ids);
        ids.extend([17, 0]);
        let mut tail = Vec::new();
        t.tokenize_into("ie", &mut tail);
        ids.extend(&tail[1..]);
        assert_eq!(session.padded(), to_padded(&ids));
        assert_eq!(session.prob(), s.score_one(&to_padded(&ids)).unwrap());
        assert_eq!(
            session.push_token(500),
            Err(InferError::Token {
                token: 500,
                vocab: 500
            })
        );
        assert_eq!(
            session.padded(),
            to_padded(&ids),
            "a refused id changes nothing"
        );
    }

    /// Ids pushed together are what pushing them one by one gives (the steps taken in one call),
    /// and a refused id in them changes nothing, the open word included.
    #[test]
    fn ids_pushed_together_are_ids_pushed_one_by_one() {
        let (t, s) = (tokenizer(), scorer());
        let ids: Vec<u16> = (0..130).map(|k| (k * 37 % 500) as u16).collect();
        let (mut one, mut all) = (
            TextSession::new(&t, &s).unwrap(),
            TextSession::new(&t, &s).unwrap(),
        );
        for session in [&mut one, &mut all] {
            session.push_str("the mov");
        }
        for &id in &ids {
            one.push_token(id).unwrap();
        }
        all.push_tokens(&[]).unwrap();
        all.push_tokens(&ids).unwrap();
        assert_eq!(all.n_ids(), one.n_ids());
        assert_eq!(all.padded(), one.padded());
        assert_eq!(all.running_prob().to_bits(), one.running_prob().to_bits());
        all.push_str(" gre");
        let running = all.running_prob();
        assert!(matches!(
            all.push_tokens(&[3, 500]),
            Err(InferError::TokenAt(e)) if e.col == 1 && e.token == 500
        ));
        all.push_str("at");
        one.push_str(" great");
        assert_eq!(all.padded(), one.padded(), "the open word stayed open");
        assert_eq!(all.running_prob(), running, "no step was taken");
    }

    #[test]
    fn a_tokenizer_wider_than_the_model_is_refused() {
        let s = scorer();
        let config = TokenizerConfig {
            num_words: None,
            ..TokenizerConfig::default()
        };
        let t = Tokenizer::from_index([("big", 600)], config).unwrap();
        assert!(matches!(
            TextSession::new(&t, &s),
            Err(TextError::Vocab {
                max_id: 603,
                vocab: 500
            })
        ));
    }
}
