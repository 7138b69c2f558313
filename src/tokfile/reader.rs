//! Opening token files: map, validate once, then hand out zero-copy typed views.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::format::{FormatError, Layout, PackParams, SplitLayout, SplitName, validate};

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
        .map(|p| format!("{}: ", p.display()))
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

/// The bytes behind a [`TokFile`]: a read-only map of the file, or an owned copy whose start
/// is 8-byte aligned (for [`TokFile::from_bytes`], used by tests and fuzzers).
enum Storage {
    Mapped(memmap2::Mmap),
    Owned { words: Vec<u64>, len: usize },
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mapped(map) => map,
            Storage::Owned { words, len } => &bytemuck::cast_slice(words)[..*len],
        }
    }
}

/// A validated token file. Every token id in it is below `params().num_words`, every label is
/// 0 or 1, and every payload is aligned, so the views it lends need no further checks.
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

impl TokFile {
    /// Maps `path` read-only and validates all of it (header, table, checksums, every token
    /// and label). Cost: one pass over the file, about a millisecond per 10 MB.
    pub fn open(path: impl AsRef<Path>) -> Result<TokFile, TokFileError> {
        let path = path.as_ref();
        let named = |e: TokFileError| e.with_path(path);
        if cfg!(target_endian = "big") {
            return Err(named(
                FormatError::BadHeader("token files are little-endian; this host is not".into())
                    .into(),
            ));
        }
        let file = File::open(path).map_err(|e| named(e.into()))?;
        let len = file.metadata().map_err(|e| named(e.into()))?.len();
        let storage = if len == 0 {
            // An empty file cannot be mapped; it fails validation as too short all the same.
            Storage::Owned {
                words: Vec::new(),
                len: 0,
            }
        } else {
            // SAFETY: the map is read-only and we never hand out mutable access. As with every
            // file mapping, the file must not be truncated or modified by another process while
            // it is mapped; we validate once here and trust the bytes from then on. Trusting
            // them is about numbers, not memory: the kernels index the tables with checked
            // slice indexing, so even a file rewritten under us could cause a panic or wrong
            // probabilities (or SIGBUS if truncated), never an out-of-bounds access.
            let map =
                unsafe { memmap2::MmapOptions::new().map(&file) }.map_err(|e| named(e.into()))?;
            Storage::Mapped(map)
        };
        let layout = validate(storage.bytes()).map_err(|e| named(e.into()))?;
        Ok(TokFile {
            storage,
            path: Some(path.to_path_buf()),
            layout,
        })
    }

    /// Validates a token file held in memory (copied into an aligned buffer).
    pub fn from_bytes(bytes: &[u8]) -> Result<TokFile, TokFileError> {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        let storage = Storage::Owned {
            words,
            len: bytes.len(),
        };
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
        Split {
            name,
            seq_len: self.seq_len(),
            rows,
            tokens: cast_u16(tokens),
            labels: &bytes[labels.0..labels.1],
            lengths: cast_u32(lengths),
        }
    }

    /// The three splits in file order (train, val, test).
    pub fn splits(&self) -> impl Iterator<Item = Split<'_>> {
        SplitName::ALL.into_iter().map(|name| self.split(name))
    }
}

/// One split of a [`TokFile`]: `[rows, seq_len]` tokens, `[rows]` labels and lengths.
#[derive(Clone, Copy, Debug)]
pub struct Split<'a> {
    pub name: SplitName,
    pub seq_len: usize,
    rows: usize,
    /// `[rows, seq_len]` row-major padded token ids.
    pub tokens: &'a [u16],
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
        if tokens.len() % seq_len != 0 {
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
            tokens,
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
    pub fn row(&self, i: usize) -> &'a [u16] {
        &self.tokens[i * self.seq_len..(i + 1) * self.seq_len]
    }

    /// The rows as fixed-size arrays, when `N` is the file's `seq_len` (the kernels' shape).
    pub fn rows_fixed<const N: usize>(&self) -> Option<&'a [[u16; N]]> {
        (N == self.seq_len).then(|| bytemuck::cast_slice(self.tokens))
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
    pub tokens: &'a [u16],
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
            tokens: &s.tokens[start * s.seq_len..end * s.seq_len],
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
