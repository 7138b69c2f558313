//! Opening token files: read into memory, validate once, then hand out zero-copy typed views.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::format::{
    FormatError, Layout, PackParams, SplitLayout, SplitName, TokenWidth, validate,
};

/// An error reading or writing a token file, naming the file when there is one.
#[derive(Debug, thiserror::Error)]
pub enum TokFileError {
    #[error("{}{source}", prefix(.path))]
    Io {
        path: Option<PathBuf>,
        source: io::Error,
    },
    #[error("{}{source}", prefix(.path))]
    Format {
        path: Option<PathBuf>,
        source: FormatError,
    },
}

fn prefix(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| format!("{}: ", crate::display::path(p)))
        .unwrap_or_default()
}

impl TokFileError {
    /// Attaches the file name to an error that does not have one yet.
    pub fn with_path(self, file: &Path) -> TokFileError {
        match self {
            TokFileError::Io { path: None, source } => TokFileError::Io {
                path: Some(file.into()),
                source,
            },
            TokFileError::Format { path: None, source } => TokFileError::Format {
                path: Some(file.into()),
                source,
            },
            named => named,
        }
    }

    /// The format problem, if this is one (rather than an I/O failure).
    pub fn format_error(&self) -> Option<&FormatError> {
        match self {
            TokFileError::Format { source, .. } => Some(source),
            TokFileError::Io { .. } => None,
        }
    }
}

impl From<io::Error> for TokFileError {
    fn from(source: io::Error) -> Self {
        TokFileError::Io { path: None, source }
    }
}

impl From<FormatError> for TokFileError {
    fn from(source: FormatError) -> Self {
        TokFileError::Format { path: None, source }
    }
}

/// The bytes behind a [`TokFile`]: an owned copy whose start is 8-byte aligned.
///
/// Not a memory map: a mapped file that another process truncates kills the reader with SIGBUS
/// (which cannot be caught soundly), and one rewritten in place changes bytes that were already
/// validated under a shared reference (undefined behaviour in Rust, and token ids the kernels
/// trust). Validation reads every byte anyway (the checksums), so the copy costs about what the
/// validation does, and it makes "validated once" true for as long as the `TokFile` lives.
struct Storage {
    words: Vec<u64>,
    len: usize,
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }

    /// An aligned buffer of `len` zero bytes, or an error if memory for it cannot be had.
    fn zeroed(len: usize) -> io::Result<Storage> {
        let n = len.div_ceil(8);
        let mut words = Vec::new();
        words.try_reserve_exact(n).map_err(|_| {
            io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!("cannot hold {len} bytes in memory"),
            )
        })?;
        words.resize(n, 0);
        Ok(Storage { words, len })
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut(&mut self.words)[..self.len]
    }
}

/// A validated token file. Every token id in it is below `params().num_words`, every label is
/// 0 or 1, and every payload is aligned, so the views it lends need no further checks. Its ids
/// are `u16` (version 1) or `u32` (version 2, `num_words` above 65,536): see [`TokenIds`].
pub struct TokFile {
    storage: Storage,
    path: Option<PathBuf>,
    layout: Layout,
}

impl std::fmt::Debug for TokFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokFile")
            .field("path", &self.path)
            .field("layout", &self.layout)
            .finish()
    }
}

/// The whole of the regular file `path`, read into aligned memory. A folder, a device or a pipe
/// is refused by name, and so is a file whose length changes while it is read.
fn read_regular_file(path: &Path) -> io::Result<Storage> {
    let (mut file, meta) = crate::files::open_for_reading(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}, not a token file", crate::files::kind(&meta)),
        ));
    }
    let changed = || {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the file changed while reading (its length is not what it was when opened)",
        )
    };
    let len = usize::try_from(meta.len()).map_err(|_| changed())?;
    let mut storage = Storage::zeroed(len)?;
    file.read_exact(storage.bytes_mut()).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            changed()
        } else {
            e
        }
    })?;
    // Nothing may follow: a file that grew is not the one whose length we read.
    if file.read(&mut [0u8; 1])? != 0 {
        return Err(changed());
    }
    Ok(storage)
}

impl TokFile {
    /// Reads `path` (a regular file) into memory and validates all of it (header, table,
    /// checksums, every token and label). Cost: one read and one pass over the file, a few
    /// milliseconds per 10 MB. A file whose length changes while it is read is refused as
    /// "changed while reading"; one rewritten in place fails its checksums. Once open, the
    /// `TokFile` no longer depends on the file.
    pub fn open(path: impl AsRef<Path>) -> Result<TokFile, TokFileError> {
        let path = path.as_ref();
        let named = |e: TokFileError| e.with_path(path);
        if cfg!(target_endian = "big") {
            return Err(named(
                FormatError::BadHeader("token files are little-endian; this host is not".into())
                    .into(),
            ));
        }
        let storage = read_regular_file(path).map_err(|e| named(e.into()))?;
        let layout = validate(storage.bytes()).map_err(|e| named(e.into()))?;
        Ok(TokFile {
            storage,
            path: Some(path.to_path_buf()),
            layout,
        })
    }

    /// Validates a token file held in memory (copied into an aligned buffer).
    pub fn from_bytes(bytes: &[u8]) -> Result<TokFile, TokFileError> {
        let mut storage = Storage::zeroed(bytes.len())?;
        storage.bytes_mut().copy_from_slice(bytes);
        let layout = validate(storage.bytes())?;
        Ok(TokFile {
            storage,
            path: None,
            layout,
        })
    }

    /// The file this was opened from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The packing parameters recorded in the header.
    pub fn params(&self) -> &PackParams {
        &self.layout.params
    }

    /// Tokens per row.
    pub fn seq_len(&self) -> usize {
        self.layout.params.seq_len as usize
    }

    /// Every token id is below this.
    pub fn num_words(&self) -> usize {
        self.layout.params.num_words as usize
    }

    /// How wide the stored ids are (`u16` for version 1, `u32` for version 2).
    pub fn token_width(&self) -> TokenWidth {
        self.layout.width
    }

    /// The format version (1 or 2).
    pub fn version(&self) -> u32 {
        self.layout.width.version()
    }

    /// The whole file's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.storage.bytes()
    }

    /// A zero-copy view of one split.
    pub fn split(&self, name: SplitName) -> Split<'_> {
        let SplitLayout {
            rows,
            tokens,
            labels,
            lengths,
        } = self.layout.splits[name.index()];
        let bytes = self.storage.bytes();
        // Alignment and lengths were checked by `validate` (64-byte aligned offsets in a
        // buffer that starts 8-byte aligned), so these casts cannot fail.
        let cast_u16 = |r: (usize, usize)| bytemuck::cast_slice::<u8, u16>(&bytes[r.0..r.1]);
        let cast_u32 = |r: (usize, usize)| bytemuck::cast_slice::<u8, u32>(&bytes[r.0..r.1]);
        let ids = match self.layout.width {
            TokenWidth::U16 => TokenIds::U16(cast_u16(tokens)),
            TokenWidth::U32 => TokenIds::U32(cast_u32(tokens)),
        };
        Split {
            name,
            seq_len: self.seq_len(),
            rows,
            tokens: ids,
            labels: &bytes[labels.0..labels.1],
            lengths: cast_u32(lengths),
        }
    }

    /// The three splits in file order (train, val, test).
    pub fn splits(&self) -> impl Iterator<Item = Split<'_>> {
        SplitName::ALL.into_iter().map(|name| self.split(name))
    }
}

/// Token ids as stored: `u16` (format version 1) or `u32` (version 2), zero-copy either way.
///
/// The kernels take `u16` rows. A `u16` view hands them its rows as they are
/// ([`Split::rows_fixed`]); `u32` ids are narrowed a block at a time by whoever scores them
/// (see `crate::infer::Scorer::score_split`), after checking them against the model's
/// vocabulary, so no second copy of a large split is ever made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenIds<'a> {
    U16(&'a [u16]),
    U32(&'a [u32]),
}

impl<'a> TokenIds<'a> {
    /// Number of ids.
    pub fn len(&self) -> usize {
        match self {
            TokenIds::U16(t) => t.len(),
            TokenIds::U32(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How wide the ids are.
    pub fn width(&self) -> TokenWidth {
        match self {
            TokenIds::U16(_) => TokenWidth::U16,
            TokenIds::U32(_) => TokenWidth::U32,
        }
    }

    /// Id `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn get(&self, i: usize) -> u32 {
        match self {
            TokenIds::U16(t) => t[i].into(),
            TokenIds::U32(t) => t[i],
        }
    }

    /// The ids `range`.
    ///
    /// # Panics
    /// If the range is out of bounds.
    pub fn slice(&self, range: std::ops::Range<usize>) -> TokenIds<'a> {
        match self {
            TokenIds::U16(t) => TokenIds::U16(&t[range]),
            TokenIds::U32(t) => TokenIds::U32(&t[range]),
        }
    }

    /// The `u16` ids, if that is how they are stored.
    pub fn as_u16(&self) -> Option<&'a [u16]> {
        match self {
            TokenIds::U16(t) => Some(t),
            TokenIds::U32(_) => None,
        }
    }

    /// Every id, widened to `u32`.
    pub fn iter(self) -> impl Iterator<Item = u32> + 'a {
        let (a, b) = match self {
            TokenIds::U16(t) => (t, &[][..]),
            TokenIds::U32(t) => (&[][..], t),
        };
        a.iter().map(|&v| u32::from(v)).chain(b.iter().copied())
    }

    /// The ids' bytes as stored in the file (little-endian; token files only open on
    /// little-endian hosts).
    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            TokenIds::U16(t) => bytemuck::cast_slice(t),
            TokenIds::U32(t) => bytemuck::cast_slice(t),
        }
    }

    /// The index and value of the first id that is not below `limit`, if any.
    pub fn first_at_or_above(&self, limit: u32) -> Option<(usize, u32)> {
        self.iter().enumerate().find(|&(_, t)| t >= limit)
    }

    /// `Ok` if every id (rows of `seq_len`, from the split named `split`) is below `vocab`; else
    /// the first one that is not, with its row and position.
    pub fn check_vocab(
        &self,
        split: &'static str,
        seq_len: usize,
        vocab: usize,
    ) -> Result<(), TokenOutOfVocab> {
        let limit = u32::try_from(vocab).unwrap_or(u32::MAX);
        match self.first_at_or_above(limit) {
            None => Ok(()),
            Some((at, token)) => Err(TokenOutOfVocab {
                split,
                row: at / seq_len.max(1),
                col: at % seq_len.max(1),
                token,
                vocab,
            }),
        }
    }
}

/// A token id at or above a model's vocabulary, where it is in its split ([`TokenIds::check_vocab`]).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{split} row {row}, position {col}: token id {token} is not below the model's vocabulary of {vocab}"
)]
pub struct TokenOutOfVocab {
    pub split: &'static str,
    pub row: usize,
    pub col: usize,
    pub token: u32,
    pub vocab: usize,
}

/// One split of a [`TokFile`]: `[rows, seq_len]` tokens, `[rows]` labels and lengths.
#[derive(Clone, Copy, Debug)]
pub struct Split<'a> {
    pub name: SplitName,
    pub seq_len: usize,
    rows: usize,
    /// `[rows, seq_len]` row-major padded token ids, `u16` or `u32` as the file stores them.
    pub tokens: TokenIds<'a>,
    /// `[rows]` labels, 0 or 1.
    pub labels: &'a [u8],
    /// `[rows]` unpadded lengths.
    pub lengths: &'a [u32],
}

/// Why [`Split::from_parts`] refused its arrays.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SplitPartsError {
    #[error("seq_len must be at least 1")]
    ZeroSeqLen,
    #[error("{tokens} tokens are not a whole number of rows of {seq_len}")]
    Ragged { tokens: usize, seq_len: usize },
    #[error("{rows} rows of tokens but {labels} labels")]
    Labels { rows: usize, labels: usize },
    #[error("{rows} rows of tokens but {lengths} lengths")]
    Lengths { rows: usize, lengths: usize },
    #[error("label {value} at row {row} is not 0 or 1")]
    Label { row: usize, value: u8 },
}

impl<'a> Split<'a> {
    /// A split over arrays held elsewhere (not a token file): `[rows, seq_len]` row-major
    /// tokens, `[rows]` labels (0 or 1) and `[rows]` unpadded lengths, checked for agreement.
    /// Token ids are not checked here: [`crate::infer::Scorer::check`] and training compare them
    /// with a vocabulary, which the caller must ensure bounds them (e.g. by converting through
    /// [`crate::infer::ids`]).
    pub fn from_parts(
        name: SplitName,
        seq_len: usize,
        tokens: &'a [u16],
        labels: &'a [u8],
        lengths: &'a [u32],
    ) -> Result<Split<'a>, SplitPartsError> {
        if seq_len == 0 {
            return Err(SplitPartsError::ZeroSeqLen);
        }
        if !tokens.len().is_multiple_of(seq_len) {
            return Err(SplitPartsError::Ragged {
                tokens: tokens.len(),
                seq_len,
            });
        }
        let rows = tokens.len() / seq_len;
        if labels.len() != rows {
            return Err(SplitPartsError::Labels {
                rows,
                labels: labels.len(),
            });
        }
        if lengths.len() != rows {
            return Err(SplitPartsError::Lengths {
                rows,
                lengths: lengths.len(),
            });
        }
        if let Some((row, &value)) = labels.iter().enumerate().find(|(_, l)| **l > 1) {
            return Err(SplitPartsError::Label { row, value });
        }
        Ok(Split {
            name,
            seq_len,
            rows,
            tokens: TokenIds::U16(tokens),
            labels,
            lengths,
        })
    }

    /// Reviews in the split.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Row `i`'s `seq_len` tokens.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn row(&self, i: usize) -> TokenIds<'a> {
        self.tokens.slice(i * self.seq_len..(i + 1) * self.seq_len)
    }

    /// The rows as fixed-size `u16` arrays (the kernels' shape), when `N` is the file's `seq_len`
    /// and the ids are stored as `u16`; `None` otherwise (a `u32` split is narrowed by blocks
    /// when scored: see [`TokenIds`]).
    pub fn rows_fixed<const N: usize>(&self) -> Option<&'a [[u16; N]]> {
        let ids = self.tokens.as_u16()?;
        (N == self.seq_len).then(|| bytemuck::cast_slice(ids))
    }

    /// The rows as fixed-size `u16` arrays whatever the stored width: borrowed from a `u16`
    /// split ([`Self::rows_fixed`]), narrowed into one owned copy from a `u32` split (for callers
    /// that need every row at once anyway, such as training; scoring narrows by blocks). `None`
    /// when `N` is not the file's `seq_len` or an id does not fit `u16` (check the ids against
    /// the model's vocabulary, at most 65,536, first).
    pub fn to_u16_rows<const N: usize>(&self) -> Option<std::borrow::Cow<'a, [[u16; N]]>> {
        use std::borrow::Cow;
        if N != self.seq_len {
            return None;
        }
        match self.tokens {
            TokenIds::U16(t) => Some(Cow::Borrowed(bytemuck::cast_slice(t))),
            TokenIds::U32(t) => t
                .chunks_exact(N)
                .map(|row| {
                    let mut out = [0u16; N];
                    for (o, &v) in out.iter_mut().zip(row) {
                        *o = u16::try_from(v).ok()?;
                    }
                    Some(out)
                })
                .collect::<Option<Vec<_>>>()
                .map(Cow::Owned),
        }
    }

    /// Number of positive labels.
    pub fn positives(&self) -> usize {
        self.labels.iter().map(|&l| usize::from(l)).sum()
    }

    /// Consecutive batches of `batch_size` rows; the last one may be shorter.
    ///
    /// # Panics
    /// If `batch_size` is 0.
    pub fn batches(&self, batch_size: usize) -> Batches<'a> {
        assert!(batch_size > 0, "batch size must be positive");
        Batches {
            split: *self,
            batch_size,
            next: 0,
        }
    }
}

/// A run of consecutive rows of a split.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    /// Index of the first row in the split.
    pub start: usize,
    pub seq_len: usize,
    /// `[len, seq_len]` tokens.
    pub tokens: TokenIds<'a>,
    pub labels: &'a [u8],
    pub lengths: &'a [u32],
}

impl Batch<'_> {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// Iterator over a split's batches (see [`Split::batches`]).
#[derive(Clone, Debug)]
pub struct Batches<'a> {
    split: Split<'a>,
    batch_size: usize,
    next: usize,
}

impl<'a> Iterator for Batches<'a> {
    type Item = Batch<'a>;

    fn next(&mut self) -> Option<Batch<'a>> {
        let start = self.next;
        if start >= self.split.rows {
            return None;
        }
        let end = (start + self.batch_size).min(self.split.rows);
        self.next = end;
        let s = &self.split;
        Some(Batch {
            start,
            seq_len: s.seq_len,
            tokens: s.tokens.slice(start * s.seq_len..end * s.seq_len),
            labels: &s.labels[start..end],
            lengths: &s.lengths[start..end],
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.split.rows - self.next.min(self.split.rows)).div_ceil(self.batch_size);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Batches<'_> {}
