//! Raw review text → the token ids the models were trained on.
//!
//! The ids follow `keras.datasets.imdb.load_data`: a word of rank `r` in `imdb_word_index.json`
//! (1 = most frequent) becomes `r + index_from`; a review starts with `start_char`; words whose id
//! would be `≥ num_words`, and words the index does not know, become `oov_char`. Defaults are the
//! notebook's: `num_words = 500`, `index_from = 3`, `start_char = 1`, `oov_char = 2`.
//!
//! Words are split exactly as the shared data was (`shared/data/README.md`, "Tokenization"):
//! - the text is lowercased (full Unicode lowercasing, as Python's `str.lower`);
//! - every character outside `[a-z0-9']` (ASCII only) separates words, so `<br />` gives `br`,
//!   `é` is a separator, and so is `’` (only the ASCII apostrophe joins);
//! - apostrophes at the start and end of each word are stripped (`'hello'` → `hello`, `don't`
//!   stays), and words left empty are dropped.
//!
//! Lowercasing happens before the split, so the two non-ASCII characters whose lowercase is ASCII
//! behave as Python does: the Kelvin sign `K` (U+212A) becomes `k`, a word character, and `İ`
//! (U+0130) becomes `i` followed by U+0307, a separator.
//!
//! The hot path ([`Tokenizer::tokenize_into`]) allocates nothing: the caller owns the output
//! buffer, each word is lowercased into a stack buffer and looked up in a hash table of the
//! words the tokenizer can emit (`table.rs`). The one-review latency path ([`Tokenizer::tail`])
//! reads the text backwards from its end, 64 bytes at a time, and stops once it has the 100
//! words `pad_sequences` keeps; on `benches/peers/review_230.txt` that cut its tokenizing about
//! fourfold (bench group `padded` of `benches/text.rs`). It only finds the words:
//! [`Tokenizer::tail_id`] looks each up, and [`crate::infer::Scorer::score_text`] does so
//! inside the model's steps, where the lookups overlap the model's own dependent chain.
//!
//! Zen 4 (AMD EPYC family 25 model 17, 2026-12-05), `fusedrnn_score_text` of
//! `review_230.txt` with the parity LSTM, p50 of 200,000 calls: 4.18–4.19 µs before (a
//! byte-by-byte backward scan, ids looked up before the model ran), 3.92–3.94 µs after; the
//! model alone (`fusedrnn_score_ids`) 3.33–3.36 µs. [`Tokenizer::padded`] (scan, then the 100
//! lookups) of that review 0.85 → 0.75–0.80 µs, and of 1,157 other decoded test reviews, one
//! after the other, 2.43–2.48 → 0.81–0.96 µs: there the byte-by-byte scan's branches and the
//! lookups' probe loops were mispredicted, which a benchmark repeating one review hides (the
//! perfect hash alone: 1.75–1.78 µs probed against 0.95–0.96).
//!
//! ```no_run
//! use fusedrnn::infer::Scorer;
//! use fusedrnn::kernels::Kernel;
//! use fusedrnn::model::Model;
//! use fusedrnn::text::{Tokenizer, TokenizerConfig, to_padded};
//!
//! let scorer = Scorer::new(&Model::load("lstm.safetensors")?, Kernel::select()?);
//! let tokenizer = Tokenizer::from_file("imdb_word_index.json".as_ref(), TokenizerConfig::default())?;
//! let mut ids = Vec::new(); // reused: tokenize_into allocates nothing once it has grown
//! tokenizer.tokenize_into("One of the best films I have seen.<br />Go!", &mut ids);
//! let prob = scorer.score_one(&to_padded(&ids))?;
//! # let _ = prob;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod net_session;
mod session;
mod table;

pub use net_session::{AnyTextSession, NetTextSession};
pub use session::TextSession;

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::shape::SEQ_LEN;
use table::WordTable;

/// Longest word (in bytes) the tokenizer can produce: the stack buffer words are lowercased into.
/// Longer index entries can never match and are skipped. The shared index's longest word is 51
/// bytes.
pub const MAX_WORD_BYTES: usize = 256;

/// Largest word index file [`Tokenizer::from_file`] reads (64 MiB; the shared
/// `imdb_word_index.json` of 88,584 words is 1.6 MB). A larger or endless file (`/dev/zero`) is
/// refused before it is read.
pub const MAX_WORD_INDEX_BYTES: u64 = 64 << 20;

/// How ranks become ids, with `keras.datasets.imdb.load_data`'s meaning for each field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenizerConfig {
    /// Ids `≥ num_words` become `oov_char`; `None` keeps every word (ids may then exceed
    /// `u16::MAX`: use [`Tokenizer::tokenize_wide_into`]).
    pub num_words: Option<u32>,
    /// Added to each rank.
    pub index_from: u32,
    /// First id of every review.
    pub start_char: u32,
    /// Id of a word that is unknown or cut by `num_words`.
    pub oov_char: u32,
}

impl Default for TokenizerConfig {
    /// The notebook's `load_data(num_words=500)`: the packing defaults,
    /// [`PackParams::NOTEBOOK`](crate::tokfile::PackParams::NOTEBOOK), so text and packed files
    /// always agree on the ids.
    fn default() -> Self {
        const NOTEBOOK: crate::tokfile::PackParams = crate::tokfile::PackParams::NOTEBOOK;
        // Checked when compiling: the notebook sets both ids (Keras' 1 and 2), never `None`.
        const IDS: (u32, u32) = match (NOTEBOOK.start_char, NOTEBOOK.oov_char) {
            (Some(start_char), Some(oov_char)) => (start_char, oov_char),
            _ => panic!("the notebook's load_data sets start_char and oov_char"),
        };
        TokenizerConfig {
            num_words: Some(NOTEBOOK.num_words),
            index_from: NOTEBOOK.index_from,
            start_char: IDS.0,
            oov_char: IDS.1,
        }
    }
}

/// What is wrong with the bytes of a word index.
#[derive(Debug, thiserror::Error)]
pub enum WordIndexProblem {
    #[error("not a JSON object of word → positive integer rank: {0}")]
    Json(#[from] serde_json::Error),
    #[error("rank {rank} of {word:?} plus index_from {index_from} overflows u32")]
    RankOverflow {
        word: String,
        rank: u32,
        index_from: u32,
    },
}

/// Why a tokenizer could not be built from a word index file.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("cannot read word index {}: {source}", crate::display::path(path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A folder, a device, a pipe: a word index is a regular file.
    #[error("word index {} is {what}, not a file", crate::display::path(path))]
    NotAFile { path: PathBuf, what: &'static str },
    /// Larger than [`MAX_WORD_INDEX_BYTES`].
    #[error(
        "word index {} is larger than the {max} bytes a word index may have",
        crate::display::path(path)
    )]
    TooLarge { path: PathBuf, max: u64 },
    #[error("malformed word index {}: {problem}", crate::display::path(path))]
    Format {
        path: PathBuf,
        #[source]
        problem: WordIndexProblem,
    },
    /// A tokenizer and a model that do not fit: the tokenizer can emit ids the model lacks.
    #[error(
        "the tokenizer emits ids up to {max_id}; the model's vocabulary is {vocab} (set num_words to at most {vocab})"
    )]
    Vocab { max_id: u32, vocab: usize },
}

/// Turns review text into token ids (see the [module docs](self) for the rules).
#[derive(Clone, Debug)]
pub struct Tokenizer {
    table: WordTable,
    config: TokenizerConfig,
    /// Largest id this tokenizer can emit.
    max_id: u32,
}

/// ASCII byte → its lowercase if it is a word character (`[A-Za-z0-9']`), else 0 (separator).
const WORD_BYTE: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = match c {
            b'a'..=b'z' | b'0'..=b'9' | b'\'' => c,
            b'A'..=b'Z' => c + (b'a' - b'A'),
            _ => 0,
        };
        b += 1;
    }
    t
};

/// The word being read, already lowercased, with leading apostrophes dropped and trailing ones
/// held back: an apostrophe is written only once a later word character follows it, so at the
/// end of a word `bytes[..len]` is the stripped word.
#[derive(Clone)]
struct Word {
    bytes: [u8; MAX_WORD_BYTES],
    len: usize,
    /// Apostrophes seen since the last other word character (not yet written).
    pending_apostrophes: usize,
    /// The stripped word is longer than any indexed word can be: it is out of vocabulary.
    too_long: bool,
}

impl Word {
    fn new() -> Word {
        Word {
            bytes: [0; MAX_WORD_BYTES],
            len: 0,
            pending_apostrophes: 0,
            too_long: false,
        }
    }

    #[inline]
    fn push(&mut self, b: u8) {
        if b == b'\'' {
            if self.len > 0 || self.too_long {
                self.pending_apostrophes += 1;
            }
            return;
        }
        let need = self.len + self.pending_apostrophes + 1;
        if need > MAX_WORD_BYTES {
            self.too_long = true;
            self.pending_apostrophes = 0;
            return;
        }
        self.bytes[self.len..self.len + self.pending_apostrophes].fill(b'\'');
        self.len += self.pending_apostrophes;
        self.pending_apostrophes = 0;
        self.bytes[self.len] = b;
        self.len += 1;
    }
}

/// Checks one index entry and keeps it in `kept` (word → id) if the tokenizer can emit it.
///
/// Words the splitter can never produce (empty, longer than [`MAX_WORD_BYTES`], or with a
/// character outside `[a-z0-9']`, or starting or ending with `'`) and words cut by `num_words`
/// are not stored: looking them up would give `oov_char` anyway.
fn keep_entry(
    kept: &mut HashMap<Box<[u8]>, u32>,
    word: &str,
    rank: u32,
    config: &TokenizerConfig,
) -> Result<(), WordIndexProblem> {
    let id = rank
        .checked_add(config.index_from)
        .ok_or_else(|| WordIndexProblem::RankOverflow {
            word: word.chars().take(64).collect(),
            rank,
            index_from: config.index_from,
        })?;
    let reachable = !word.is_empty()
        && word.len() <= MAX_WORD_BYTES
        && word
            .bytes()
            .all(|b| b.is_ascii() && WORD_BYTE[usize::from(b)] == b)
        && !word.starts_with('\'')
        && !word.ends_with('\'');
    if reachable && config.num_words.is_none_or(|n| id < n) {
        kept.insert(word.as_bytes().into(), id);
    } else {
        // A later entry for the same word that cannot be emitted replaces an earlier one.
        kept.remove(word.as_bytes());
    }
    Ok(())
}

/// Streams a JSON object of word → rank into the kept entries.
struct IndexVisitor {
    config: TokenizerConfig,
}

impl<'de> serde::de::Visitor<'de> for IndexVisitor {
    type Value = HashMap<Box<[u8]>, u32>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of word → positive integer rank")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = HashMap::new();
        while let Some((word, rank)) = map.next_entry::<String, u32>()? {
            keep_entry(&mut kept, &word, rank, &self.config).map_err(serde::de::Error::custom)?;
        }
        Ok(kept)
    }
}

/// Counts the bytes read through it (to tell a file that hit the size cap from a short one).
struct CountingReader<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl Tokenizer {
    /// A tokenizer from `imdb_word_index.json` (`{word: rank}`): a regular file of at most
    /// [`MAX_WORD_INDEX_BYTES`], parsed as it is read (only the words the tokenizer can emit are
    /// kept).
    pub fn from_file(path: &Path, config: TokenizerConfig) -> Result<Tokenizer, TextError> {
        let io = |source| TextError::Io {
            path: path.to_path_buf(),
            source,
        };
        let (file, meta) = crate::files::open_for_reading(path).map_err(io)?;
        if !meta.is_file() {
            return Err(TextError::NotAFile {
                path: path.to_path_buf(),
                what: crate::files::kind(&meta),
            });
        }
        let too_large = || TextError::TooLarge {
            path: path.to_path_buf(),
            max: MAX_WORD_INDEX_BYTES,
        };
        if meta.len() > MAX_WORD_INDEX_BYTES {
            return Err(too_large());
        }
        // The cap holds even if the file grows while it is read.
        let mut reader = CountingReader {
            inner: std::io::BufReader::new(file.take(MAX_WORD_INDEX_BYTES + 1)),
            read: 0,
        };
        let parsed = Tokenizer::from_reader(&mut reader, config);
        if reader.read > MAX_WORD_INDEX_BYTES {
            return Err(too_large());
        }
        parsed.map_err(|problem| match problem {
            WordIndexProblem::Json(e) if e.is_io() => io(e.into()),
            problem => TextError::Format {
                path: path.to_path_buf(),
                problem,
            },
        })
    }

    /// A tokenizer from the bytes of a word index (`{word: rank}` JSON).
    pub fn from_json(json: &[u8], config: TokenizerConfig) -> Result<Tokenizer, WordIndexProblem> {
        Tokenizer::from_reader(json, config)
    }

    /// A tokenizer from a word index read as a stream: entries are checked and kept (or dropped)
    /// one at a time, so memory holds only the words the tokenizer can emit. A word that appears
    /// twice keeps its last rank, as a JSON object read into a dict does.
    pub fn from_reader(
        reader: impl Read,
        config: TokenizerConfig,
    ) -> Result<Tokenizer, WordIndexProblem> {
        use serde::de::Deserializer as _;
        let mut de = serde_json::Deserializer::from_reader(reader);
        let kept = de.deserialize_map(IndexVisitor { config })?;
        de.end()?;
        Tokenizer::from_kept(kept, config)
    }

    /// A tokenizer from (word, rank) pairs (a word given twice keeps its last rank).
    pub fn from_index<'w>(
        index: impl IntoIterator<Item = (&'w str, u32)>,
        config: TokenizerConfig,
    ) -> Result<Tokenizer, WordIndexProblem> {
        let mut kept = HashMap::new();
        for (word, rank) in index {
            keep_entry(&mut kept, word, rank, &config)?;
        }
        Tokenizer::from_kept(kept, config)
    }

    /// The tokenizer of the entries [`keep_entry`] kept.
    fn from_kept(
        kept: HashMap<Box<[u8]>, u32>,
        config: TokenizerConfig,
    ) -> Result<Tokenizer, WordIndexProblem> {
        let kept: Vec<(&[u8], u32)> = kept.iter().map(|(w, &id)| (&w[..], id)).collect();
        let max_id = kept
            .iter()
            .map(|&(_, id)| id)
            .chain([config.start_char, config.oov_char])
            .max()
            .unwrap_or(0);
        Ok(Tokenizer {
            table: WordTable::new(&kept),
            config,
            max_id,
        })
    }

    pub fn config(&self) -> TokenizerConfig {
        self.config
    }

    /// Largest id this tokenizer can emit (start and oov chars included).
    pub fn max_id(&self) -> u32 {
        self.max_id
    }

    /// Number of words that map to their own id (not cut by `num_words`).
    pub fn words_kept(&self) -> usize {
        self.table.len()
    }

    /// Replaces `out` with the ids of `text`: `start_char`, then one id per word.
    ///
    /// Allocation-free once `out` has grown to the review's length.
    ///
    /// # Panics
    /// If this tokenizer can emit ids above `u16::MAX` (`num_words` above 65,536 or `None` with a
    /// large index): use [`Tokenizer::tokenize_wide_into`] for those.
    pub fn tokenize_into(&self, text: &str, out: &mut Vec<u16>) {
        assert!(
            self.max_id <= u32::from(u16::MAX),
            "tokenizer emits ids up to {}, more than u16 holds: use tokenize_wide_into",
            self.max_id
        );
        out.clear();
        // The assert above makes every id fit.
        self.for_each_id(text, |id| out.push(id as u16));
    }

    /// [`Tokenizer::tokenize_into`] for any vocabulary size.
    pub fn tokenize_wide_into(&self, text: &str, out: &mut Vec<u32>) {
        out.clear();
        self.for_each_id(text, |id| out.push(id));
    }

    /// Calls `emit` with `start_char`, then with the id of each word of `text`, in order.
    pub fn for_each_id(&self, text: &str, mut emit: impl FnMut(u32)) {
        emit(self.config.start_char);
        let mut word = Word::new();
        self.feed(&mut word, text, &mut emit);
        self.end_word(&mut word, &mut emit);
    }

    /// Reads `text` into `word`, emitting the id of each word that ends inside `text`; the last
    /// word may still be open afterwards (more text can continue it).
    fn feed(&self, word: &mut Word, text: &str, emit: &mut impl FnMut(u32)) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii() {
                match WORD_BYTE[usize::from(b)] {
                    0 => self.end_word(word, emit),
                    lower => word.push(lower),
                }
                i += 1;
            } else {
                // A multi-byte character: rare in reviews, so the general path. `i` is at a char
                // boundary (every earlier step consumed whole characters).
                let c = text[i..].chars().next().expect("i is a char boundary");
                i += c.len_utf8();
                for lower in c.to_lowercase() {
                    match u8::try_from(lower).ok().filter(u8::is_ascii) {
                        Some(a) if WORD_BYTE[usize::from(a)] == a => word.push(a),
                        _ => self.end_word(word, emit),
                    }
                }
            }
        }
    }

    /// The id of the open word if it ended now, or `None` if it is empty.
    fn word_id(&self, word: &Word) -> Option<u32> {
        if word.too_long {
            Some(self.config.oov_char)
        } else if word.len > 0 {
            Some(
                self.table
                    .get(&word.bytes[..word.len])
                    .unwrap_or(self.config.oov_char),
            )
        } else {
            None
        }
    }

    /// Emits the id of the word just read, if it is not empty, and starts a new one.
    #[inline]
    fn end_word(&self, word: &mut Word, emit: &mut impl FnMut(u32)) {
        if let Some(id) = self.word_id(word) {
            emit(id);
        }
        // Not `Word::new()`: the bytes need no clearing, and zeroing them per word costs.
        word.len = 0;
        word.pending_apostrophes = 0;
        word.too_long = false;
    }
}

impl Tokenizer {
    /// `to_padded` of the ids of `text`, without a buffer: the one-review latency path's input.
    /// [`Tokenizer::tail`] finds the words, [`Tokenizer::tail_id`] looks each up.
    ///
    /// # Panics
    /// As [`Tokenizer::tokenize_into`], if this tokenizer can emit ids above `u16::MAX`.
    pub fn padded(&self, text: &str) -> [u16; SEQ_LEN] {
        let tail = self.tail(text);
        let mut row = [0u16; SEQ_LEN];
        for (k, id) in row.iter_mut().enumerate().skip(tail.pads) {
            *id = self.tail_id(&tail, k);
        }
        row
    }

    /// The words of `text` that `pad_sequences` keeps, found but not looked up: [`Tail::pads`]
    /// leading pads, then for each later place of the row the word (or the id) that goes there.
    /// [`Tokenizer::tail_id`] gives the ids; the text path looks them up one by one while the
    /// model steps ([`crate::infer::Scorer::score_text`]).
    ///
    /// Only the last `SEQ_LEN` ids survive `pad_sequences`, so the text is read backwards from its
    /// end, one word at a time, each written straight into its place in the row, and reading
    /// stops once the row is full (the start char, first of the ids, is then never reached). A
    /// word is a run of ASCII word bytes (`[A-Za-z0-9']`, `ByteClass`) between ASCII
    /// separators, its apostrophes stripped at both ends. The split rules are the same read in
    /// either direction, so the words are the forward tokenizer's, last first.
    ///
    /// The runs are found 64 bytes at a time: `ChunkMasks` classifies the bytes below `top`
    /// into bit masks (16 bytes an instruction on x86-64); the runs' first and last bytes are
    /// the bits where the mask of non-separators turns on and off, taken lowest first with one
    /// `x & (x - 1)` each, so no branch waits on each byte and the words do not wait on each
    /// other. A run from the chunk's first byte is followed back byte by byte, and the next
    /// chunk ends where it starts.
    ///
    /// A non-ASCII byte, where Unicode lowercasing may change what is a word, ends the backward
    /// read: the text before the last ASCII separator passed is tokenized forwards
    /// (`Tokenizer::fill_head`) for the ids still missing. Cutting right at an ASCII separator
    /// splits the ids exactly: the words of the text are those of the part before it followed by
    /// those of the part after.
    ///
    /// # Panics
    /// As [`Tokenizer::tokenize_into`], if this tokenizer can emit ids above `u16::MAX`.
    pub fn tail<'t>(&self, text: &'t str) -> Tail<'t> {
        assert!(
            self.max_id <= u32::from(u16::MAX),
            "tokenizer emits ids up to {}, more than u16 holds",
            self.max_id
        );
        let bytes = text.as_bytes();
        let mut tail = Tail {
            text: bytes,
            slots: [Slot::id(0); SEQ_LEN],
            pads: SEQ_LEN,
        };
        if u32::try_from(bytes.len()).is_err() {
            // Word offsets are `u32`: a longer text is read forwards, into ids.
            self.fill_head_slots(text, &mut tail);
            return tail;
        }
        // Everything from `top` on is read, and `top` is the text's end or `bytes[top]` is an
        // ASCII separator, so a cut at `top` splits the ids exactly. Bit `k` of the masks is the
        // byte `base + k`, `base = top - 64` (wrapped below zero near the text's start, where
        // the masks hold separators).
        let mut top = bytes.len();
        loop {
            let masks = ChunkMasks::before(bytes, top);
            let base = top.wrapping_sub(64);
            // The runs of bytes that are not ASCII separators: their first and last bytes. The
            // byte above the chunk is a separator or the text's end.
            let runs = masks.word | masks.non_ascii;
            let mut firsts = runs & !(runs << 1);
            let mut lasts = runs & !(runs >> 1);
            // A non-ASCII byte: the runs above the one holding it are read here, the text up to
            // that run's end forwards by `fill_head`.
            let mut forward_end = None;
            if let Some(h) = masks.non_ascii.checked_ilog2() {
                let last = (lasts & !low_bits(h as usize)).trailing_zeros() as usize;
                forward_end = Some(base.wrapping_add(last + 1));
                firsts &= !low_bits(last + 1);
                lasts &= !low_bits(last + 1);
            }
            // A run from the chunk's first byte may go on below it: read apart, after the others.
            let crossing = firsts & 1 != 0
                && top > 64
                && BYTE_CLASS[usize::from(bytes[base - 1])] != ByteClass::Separator;
            let mut crossing_end = 0;
            if crossing {
                crossing_end = base + lasts.trailing_zeros() as usize + 1;
                firsts &= firsts - 1;
                lasts &= lasts - 1;
            }
            // The chunk's words, first to last (at most 32 in 64 bytes), each as one `u64`
            // (`Slot::pack`): the copy below then reads what one store wrote.
            let mut words = [0u64; 32];
            let mut count = 0;
            while firsts != 0 {
                let start = base.wrapping_add(firsts.trailing_zeros() as usize);
                let end = base.wrapping_add(lasts.trailing_zeros() as usize + 1);
                firsts &= firsts - 1;
                lasts &= lasts - 1;
                if let Some(word) = Slot::word(bytes, start, end) {
                    words[count] = word;
                    count += 1;
                }
            }
            let take = count.min(tail.pads);
            tail.slots[tail.pads - take..tail.pads].copy_from_slice(&words[count - take..count]);
            tail.pads -= take;
            if tail.pads == 0 {
                return tail;
            }
            if let Some(end) = forward_end {
                // `end` is a character boundary (the text's end or an ASCII byte).
                self.fill_head_slots(&text[..end], &mut tail);
                return tail;
            }
            if crossing {
                let mut start = base;
                while start > 0 {
                    match BYTE_CLASS[usize::from(bytes[start - 1])] {
                        ByteClass::Word => start -= 1,
                        ByteClass::Separator => break,
                        ByteClass::NonAscii => {
                            self.fill_head_slots(&text[..crossing_end], &mut tail);
                            return tail;
                        }
                    }
                }
                if let Some(word) = Slot::word(bytes, start, crossing_end) {
                    tail.pads -= 1;
                    tail.slots[tail.pads] = word;
                    if tail.pads == 0 {
                        return tail;
                    }
                }
                top = start;
            } else {
                top = base;
            }
            if top == 0 || top > bytes.len() {
                // The text's start is read (`base` wrapped below zero).
                break;
            }
        }
        tail.pads -= 1;
        tail.slots[tail.pads] = Slot::id(self.config.start_char as u16);
        tail
    }

    /// The id at place `k` of the padded row of [`Tokenizer::tail`]'s text: 0 for `k` below
    /// [`Tail::pads`], else the id of the word there, looked up now. `tail` must come from this
    /// tokenizer. Panics if `k ≥ SEQ_LEN`.
    #[inline(always)]
    pub fn tail_id(&self, tail: &Tail<'_>, k: usize) -> u16 {
        let slot = Slot::unpack(tail.slots[k]);
        if slot.len == 0 {
            return slot.start as u16;
        }
        // `tail` asserted that every id fits u16; a word too long for the table matches nothing.
        self.table
            .get_folded(tail.text, slot.start as usize, slot.len as usize)
            .unwrap_or(self.config.oov_char) as u16
    }

    /// [`Tokenizer::fill_head`] of the places of `tail` not filled yet, `tail.slots[..pads]`: ids
    /// (with any leading zeros they hold counted as pads).
    fn fill_head_slots(&self, text: &str, tail: &mut Tail<'_>) {
        let mut head = [0u16; SEQ_LEN];
        self.fill_head(text, &mut head[..tail.pads]);
        for (slot, &id) in tail.slots.iter_mut().zip(&head[..tail.pads]) {
            *slot = Slot::id(id);
        }
        tail.pads = head[..tail.pads].iter().take_while(|&&id| id == 0).count();
    }

    /// Fills `row` (not empty) with the last `row.len()` ids of `text` (start char included),
    /// preceded by zeros when there are fewer: the forward path of [`Tokenizer::padded`], which
    /// starts tokenizing where the last `row.len()` words certainly begin ([`tail_start`]).
    fn fill_head(&self, text: &str, row: &mut [u16]) {
        let need = row.len();
        debug_assert!((1..=SEQ_LEN).contains(&need));
        let mut ring = [0u16; SEQ_LEN];
        let mut n = 0usize;
        // `padded` asserted that every id fits u16.
        let mut push = |id: u32| {
            ring[n % need] = id as u16;
            n += 1;
        };
        match tail_start(text.as_bytes(), need) {
            Some(start) => {
                let mut word = Word::new();
                self.feed(&mut word, &text[start..], &mut push);
                self.end_word(&mut word, &mut push);
            }
            None => self.for_each_id(text, push),
        }
        row.fill(0);
        if n >= need {
            // The oldest kept id sits at `n % need`.
            row.copy_from_slice(&ring[..need]);
            row.rotate_left(n % need);
        } else {
            row[need - n..].copy_from_slice(&ring[..n]);
        }
    }

    /// [`Tokenizer::padded`] as it was before the backward reader: the whole row from
    /// [`Tokenizer::fill_head`]'s forward path. Kept for the benches' before/after comparison and
    /// as a second reference in the tests.
    #[doc(hidden)]
    pub fn padded_forward(&self, text: &str) -> [u16; SEQ_LEN] {
        assert!(
            self.max_id <= u32::from(u16::MAX),
            "tokenizer emits ids up to {}, more than u16 holds",
            self.max_id
        );
        let mut row = [0u16; SEQ_LEN];
        self.fill_head(text, &mut row);
        row
    }
}

/// The words of a text that `pad_sequences` keeps, found by [`Tokenizer::tail`] but not looked
/// up: [`Tokenizer::tail_id`] gives the id of each place of the padded row.
#[derive(Clone, Debug)]
pub struct Tail<'t> {
    text: &'t [u8],
    /// What goes in each place of the row, packed ([`Slot::pack`]).
    slots: [u64; SEQ_LEN],
    pads: usize,
}

impl Tail<'_> {
    /// The row's leading pads (ids 0): the places before the first id.
    pub fn pads(&self) -> usize {
        self.pads
    }
}

/// One place of a [`Tail`]: a word, `text[start..start + len]` (its apostrophes stripped, not
/// yet lowercased), or, when `len` is 0, the id `start`. Offsets are `u32`, half the bytes to
/// write and read: [`Tokenizer::tail`] reads a longer text forwards, into ids.
#[derive(Clone, Copy, Debug)]
struct Slot {
    start: u32,
    len: u32,
}

impl Slot {
    /// The word `text[start..start + len]` as one `u64`, for [`Slot::unpack`]. Both must fit
    /// `u32`.
    #[inline(always)]
    fn pack(start: usize, len: usize) -> u64 {
        start as u64 | (len as u64) << 32
    }

    #[inline(always)]
    fn unpack(packed: u64) -> Slot {
        Slot {
            start: packed as u32,
            len: (packed >> 32) as u32,
        }
    }

    /// The place of an id, packed.
    const fn id(id: u16) -> u64 {
        id as u64
    }

    /// The word in the run of ASCII word bytes `text[start..end]` (not empty) with its
    /// apostrophes stripped at both ends, or `None` if it is only apostrophes. `end` must fit
    /// `u32`.
    #[inline(always)]
    fn word(text: &[u8], mut start: usize, mut end: usize) -> Option<u64> {
        while start < end && text[start] == b'\'' {
            start += 1;
        }
        while end > start && text[end - 1] == b'\'' {
            end -= 1;
        }
        (start < end).then_some(Slot::pack(start, end - start))
    }
}

/// What a byte is to the backward reader of [`Tokenizer::tail`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ByteClass {
    /// An ASCII byte outside `[A-Za-z0-9']`.
    Separator,
    /// An ASCII word byte, `[A-Za-z0-9']`.
    Word,
    /// Part of a multi-byte character.
    NonAscii,
}

/// [`ByteClass`] of every byte, from [`WORD_BYTE`].
const BYTE_CLASS: [ByteClass; 256] = {
    let mut t = [ByteClass::NonAscii; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = if WORD_BYTE[b] == 0 {
            ByteClass::Separator
        } else {
            ByteClass::Word
        };
        b += 1;
    }
    t
};

/// The bits below bit `k` (`k` ≤ 64).
#[inline]
fn low_bits(k: usize) -> u64 {
    if k >= 64 { u64::MAX } else { (1u64 << k) - 1 }
}

/// Which of 64 text bytes are ASCII word bytes and which are parts of multi-byte characters, as
/// bit masks (bit `k` for byte `k`); the rest are ASCII separators. The backward reader of
/// [`Tokenizer::tail`] finds its runs in them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ChunkMasks {
    /// [`ByteClass::Word`] bytes.
    word: u64,
    /// [`ByteClass::NonAscii`] bytes.
    non_ascii: u64,
}

impl ChunkMasks {
    /// The masks of the 64 bytes before `top` (`top` ≤ `text.len()`); where those would lie
    /// before the text's start, zero bytes (separators) stand in.
    #[inline]
    fn before(text: &[u8], top: usize) -> ChunkMasks {
        match top.checked_sub(64) {
            Some(base) => ChunkMasks::of(text[base..top].try_into().expect("64 bytes")),
            None => {
                let mut chunk = [0u8; 64];
                chunk[64 - top..].copy_from_slice(&text[..top]);
                ChunkMasks::of(&chunk)
            }
        }
    }

    /// The masks of `chunk`, byte by byte from [`BYTE_CLASS`]: what [`ChunkMasks::of`] computes,
    /// and its reference in the tests.
    #[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
    fn of_bytes(chunk: &[u8; 64]) -> ChunkMasks {
        let mut masks = ChunkMasks {
            word: 0,
            non_ascii: 0,
        };
        for (k, &b) in chunk.iter().enumerate() {
            match BYTE_CLASS[usize::from(b)] {
                ByteClass::Word => masks.word |= 1 << k,
                ByteClass::NonAscii => masks.non_ascii |= 1 << k,
                ByteClass::Separator => {}
            }
        }
        masks
    }

    /// The masks of `chunk`, 16 bytes at a time with SSE2 (part of every x86-64): a byte is a
    /// letter if it ORed with `0x20` is in `a..=z`, a digit if it is in `0..=9`; bytes from
    /// `0x80` on are negative to the signed compares, so they are neither, and their top bit is
    /// the non-ASCII mask.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline]
    fn of(chunk: &[u8; 64]) -> ChunkMasks {
        // SAFETY: the `cfg` above: SSE2 is enabled for the whole build (it is part of x86-64).
        unsafe { ChunkMasks::of_sse2(chunk) }
    }

    /// [`ChunkMasks::of`]'s body, where the SSE2 intrinsics may be called.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[target_feature(enable = "sse2")]
    fn of_sse2(chunk: &[u8; 64]) -> ChunkMasks {
        use std::arch::x86_64::{
            _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set_epi64x, _mm_set1_epi8,
        };
        let in_range = |v, lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8(lo as i8 - 1)),
                _mm_cmplt_epi8(v, _mm_set1_epi8(hi as i8 + 1)),
            )
        };
        let mut masks = ChunkMasks {
            word: 0,
            non_ascii: 0,
        };
        for (q, part) in chunk.chunks_exact(16).enumerate() {
            let half = |h: usize| i64::from_le_bytes(part[8 * h..8 * h + 8].try_into().expect("8"));
            let v = _mm_set_epi64x(half(1), half(0));
            let letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', b'z');
            let digit = in_range(v, b'0', b'9');
            let apostrophe = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\'' as i8));
            let word = _mm_or_si128(_mm_or_si128(letter, digit), apostrophe);
            // `movemask` gives 16 bits in the low bits of an `i32`.
            masks.word |= u64::from(_mm_movemask_epi8(word) as u16) << (16 * q);
            masks.non_ascii |= u64::from(_mm_movemask_epi8(v) as u16) << (16 * q);
        }
        masks
    }

    /// The masks of `chunk`: [`ChunkMasks::of_bytes`] where SSE2 is not there.
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    #[inline]
    fn of(chunk: &[u8; 64]) -> ChunkMasks {
        ChunkMasks::of_bytes(chunk)
    }
}

/// The byte offset where the last `words` words of `text` certainly begin (just after an ASCII
/// separator), or `None` if fewer may be there and the whole text must be tokenized.
///
/// The scan counts runs of bytes that are not ASCII separators and that hold at least one ASCII
/// letter or digit: each such run holds at least one word (non-ASCII characters may split it into
/// more, never into none), so the count can only err low, which costs time, never correctness.
/// The cut is right after an ASCII separator, where the tokenizer's state is fresh, so the suffix
/// yields exactly the tail of the whole text's ids.
fn tail_start(text: &[u8], words: usize) -> Option<usize> {
    let mut count = 0;
    let mut in_run = false;
    let mut has_alnum = false;
    for (i, &b) in text.iter().enumerate().rev() {
        let class = if b.is_ascii() {
            WORD_BYTE[usize::from(b)]
        } else {
            b'\''
        };
        if class == 0 {
            if in_run && has_alnum {
                count += 1;
                if count == words {
                    return Some(i + 1);
                }
            }
            in_run = false;
            has_alnum = false;
        } else {
            in_run = true;
            has_alnum |= class != b'\'';
        }
    }
    None
}

/// `pad_sequences(maxlen=SEQ_LEN)` with Keras' defaults (`padding="pre"`, `truncating="pre"`):
/// the last `SEQ_LEN` ids, preceded by zeros when there are fewer.
pub fn to_padded(ids: &[u16]) -> [u16; SEQ_LEN] {
    let mut row = [0u16; SEQ_LEN];
    let kept = &ids[ids.len().saturating_sub(SEQ_LEN)..];
    row[SEQ_LEN - kept.len()..].copy_from_slice(kept);
    row
}

#[cfg(test)]
mod tests;
