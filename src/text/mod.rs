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
//! words the tokenizer can emit (`table.rs`). The one-review latency path ([`Tokenizer::padded`])
//! reads the text backwards from its end and stops once it has the 100 ids `pad_sequences`
//! keeps; on `benches/peers/review_230.txt` that cut its tokenizing about fourfold (bench group
//! `padded` of `benches/text.rs`).
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

/// What a non-regular file is, for messages.
pub(crate) fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let ft = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_char_device() || ft.is_block_device() {
            return "a device";
        }
        if ft.is_fifo() {
            return "a pipe";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a folder"
    } else {
        "not a regular file"
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
        let file = std::fs::File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(TextError::NotAFile {
                path: path.to_path_buf(),
                what: file_kind(&meta),
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
    ///
    /// Only the last `SEQ_LEN` ids survive `pad_sequences`, so the text is read backwards from its
    /// end, one word at a time, each id written straight into its place in the row, and reading
    /// stops once the row is full (the start char, first of the ids, is then never reached). A
    /// word is found whole before it is looked up: a run of ASCII word bytes (`[A-Za-z0-9']`,
    /// `ByteClass`) between ASCII separators, its apostrophes stripped at both ends, looked up
    /// lowercased straight from the text (`WordTable::get_folded`). The split rules are the
    /// same read in either direction, so the words are the forward tokenizer's, last first.
    ///
    /// A non-ASCII byte, where Unicode lowercasing may change what is a word, ends the backward
    /// read: the text before the last ASCII separator passed is tokenized forwards
    /// (`Tokenizer::fill_head`) for the ids still missing. Cutting right at an ASCII separator
    /// splits the ids exactly: the words of the text are those of the part before it followed by
    /// those of the part after.
    ///
    /// # Panics
    /// As [`Tokenizer::tokenize_into`], if this tokenizer can emit ids above `u16::MAX`.
    pub fn padded(&self, text: &str) -> [u16; SEQ_LEN] {
        assert!(
            self.max_id <= u32::from(u16::MAX),
            "tokenizer emits ids up to {}, more than u16 holds",
            self.max_id
        );
        let bytes = text.as_bytes();
        let class = |i: usize| BYTE_CLASS[usize::from(bytes[i])];
        let mut row = [0u16; SEQ_LEN];
        // Ids written so far, in `row[SEQ_LEN - n..]`. The assert above makes every id fit u16.
        let mut n = 0;
        // Everything from `i` on is read. Invariant: `i` is the text's end or `bytes[i - 1]` is an
        // ASCII separator (once a word has been read), so a cut at `i` splits the ids exactly.
        let mut i = bytes.len();
        loop {
            while i > 0 && class(i - 1) == ByteClass::Separator {
                i -= 1;
            }
            // Now `i` is the text's end or `bytes[i]` is an ASCII separator.
            let end = i;
            while i > 0 && class(i - 1) == ByteClass::Word {
                i -= 1;
            }
            if i > 0 && class(i - 1) == ByteClass::NonAscii {
                // `end` is a character boundary (the text's end or an ASCII byte).
                self.fill_head(&text[..end], &mut row[..SEQ_LEN - n]);
                return row;
            }
            if i == end {
                // Only at the text's start: anywhere else a separator run ends at a word byte
                // or a non-ASCII one.
                debug_assert_eq!(i, 0);
                row[SEQ_LEN - 1 - n] = self.config.start_char as u16;
                return row;
            }
            if let Some(id) = self.run_id(bytes, i, end) {
                n += 1;
                row[SEQ_LEN - n] = id as u16;
                if n == SEQ_LEN {
                    return row;
                }
            }
        }
    }

    /// The id of the word in the run of ASCII word bytes `text[start..end]` (not empty), or
    /// `None` if it is only apostrophes.
    #[inline]
    fn run_id(&self, text: &[u8], mut start: usize, mut end: usize) -> Option<u32> {
        while start < end && text[start] == b'\'' {
            start += 1;
        }
        while end > start && text[end - 1] == b'\'' {
            end -= 1;
        }
        if start == end {
            return None;
        }
        // Too long a word can still match nothing: `get_folded` rejects it by length.
        Some(
            self.table
                .get_folded(text, start, end - start)
                .unwrap_or(self.config.oov_char),
        )
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

/// What a byte is to the backward reader of [`Tokenizer::padded`].
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
