//! The on-disk structures of the token file and their validation, as pure functions of bytes
//! (so tests and fuzzers never need a real mapping). See the module docs for the layout table.

use bytemuck::{Pod, Zeroable};

pub(crate) const MAGIC: [u8; 8] = *b"FRNNTOK\0";
/// Version 1: token ids are `u16` (`num_words` at most [`MAX_U16_NUM_WORDS`]).
pub(crate) const VERSION_U16: u32 = 1;
/// Version 2: token ids are `u32` (`num_words` above [`MAX_U16_NUM_WORDS`]); otherwise the same.
pub(crate) const VERSION_U32: u32 = 2;
/// The largest `num_words` whose ids fit `u16`: ids `0..=65535`.
pub const MAX_U16_NUM_WORDS: u32 = 1 << 16;
pub(crate) const HEADER_BYTES: usize = 128;
pub(crate) const ENTRY_BYTES: usize = 32;
pub(crate) const SECTION_COUNT: usize = 9;
/// Every payload starts on a multiple of this (one cache line).
pub(crate) const ALIGN: usize = 64;
/// Where the first payload starts: header and table, rounded up to [`ALIGN`].
pub(crate) const DATA_START: usize = align_up(HEADER_BYTES + SECTION_COUNT * ENTRY_BYTES);
/// Byte offset of `header_crc32` in the header.
const CRC_OFFSET: usize = 124;
/// `start_char` / `oov_char` stored for Keras' `None`.
const NONE_ID: u32 = u32::MAX;
/// Largest `seq_len` we accept: far above any real use, small enough that row arithmetic
/// and a row buffer can never be absurd.
pub const MAX_SEQ_LEN: u32 = 1 << 20;

pub(crate) const fn align_up(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// The fixed 128-byte header, exactly as stored (little-endian hosts only; see the reader).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(crate) struct RawHeader {
    pub magic: [u8; 8],
    pub version: u32,
    pub header_bytes: u32,
    pub section_count: u32,
    pub num_words: u32,
    pub seq_len: u32,
    pub skip_top: u32,
    pub index_from: u32,
    pub start_char: u32,
    pub oov_char: u32,
    pub padding: u8,
    pub truncating: u8,
    pub reserved0: [u8; 2],
    pub seed: u64,
    pub split_seed: u64,
    pub val_split: f64,
    pub file_bytes: u64,
    pub reserved1: [u8; 44],
    pub header_crc32: u32,
}

/// One 32-byte section-table entry, exactly as stored.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub(crate) struct RawEntry {
    pub split: u16,
    pub kind: u16,
    pub rows: u32,
    pub offset: u64,
    pub len_bytes: u64,
    pub crc32: u32,
    pub reserved: u32,
}

const _: () = assert!(size_of::<RawHeader>() == HEADER_BYTES);
const _: () = assert!(std::mem::offset_of!(RawHeader, header_crc32) == CRC_OFFSET);
const _: () = assert!(size_of::<RawEntry>() == ENTRY_BYTES);

/// How wide the stored token ids are. A file's `num_words` decides it, so every set of
/// parameters has exactly one encoding: `u16` up to [`MAX_U16_NUM_WORDS`] words (version 1,
/// what the notebook's `num_words=500` writes), `u32` beyond (version 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenWidth {
    /// `u16` ids, format version 1.
    U16,
    /// `u32` ids, format version 2.
    U32,
}

impl TokenWidth {
    /// The width a file with `num_words` words is written with.
    pub fn for_num_words(num_words: u32) -> TokenWidth {
        if num_words <= MAX_U16_NUM_WORDS {
            TokenWidth::U16
        } else {
            TokenWidth::U32
        }
    }

    /// Bytes per stored id.
    pub fn bytes(self) -> usize {
        match self {
            TokenWidth::U16 => 2,
            TokenWidth::U32 => 4,
        }
    }

    /// The format version that stores ids of this width.
    pub fn version(self) -> u32 {
        match self {
            TokenWidth::U16 => VERSION_U16,
            TokenWidth::U32 => VERSION_U32,
        }
    }

    /// `"u16"` or `"u32"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenWidth::U16 => "u16",
            TokenWidth::U32 => "u32",
        }
    }
}

/// Which end `pad_sequences` pads or truncates at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Keras' `'pre'`: at the front (the default for both padding and truncating).
    Pre,
    /// Keras' `'post'`: at the back.
    Post,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Pre => "pre",
            Side::Post => "post",
        }
    }

    fn code(self) -> u8 {
        match self {
            Side::Pre => 0,
            Side::Post => 1,
        }
    }

    fn from_code(code: u8) -> Option<Side> {
        match code {
            0 => Some(Side::Pre),
            1 => Some(Side::Post),
            _ => None,
        }
    }
}

impl std::str::FromStr for Side {
    type Err = String;
    fn from_str(s: &str) -> Result<Side, String> {
        match s {
            "pre" => Ok(Side::Pre),
            "post" => Ok(Side::Post),
            _ => Err(format!("expected 'pre' or 'post', got {s:?}")),
        }
    }
}

/// The three splits, in file order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SplitName {
    Train,
    Val,
    Test,
}

impl SplitName {
    pub const ALL: [SplitName; 3] = [SplitName::Train, SplitName::Val, SplitName::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            SplitName::Train => "train",
            SplitName::Val => "val",
            SplitName::Test => "test",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl std::str::FromStr for SplitName {
    type Err = String;
    fn from_str(s: &str) -> Result<SplitName, String> {
        match s {
            "train" => Ok(SplitName::Train),
            "val" => Ok(SplitName::Val),
            "test" => Ok(SplitName::Test),
            _ => Err(format!("expected train, val or test, got {s:?}")),
        }
    }
}

impl std::fmt::Display for SplitName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The three payloads of a split, in file order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Tokens = 0,
    Labels = 1,
    Lengths = 2,
}

impl Kind {
    pub(crate) const ALL: [Kind; 3] = [Kind::Tokens, Kind::Labels, Kind::Lengths];

    fn name(self) -> &'static str {
        match self {
            Kind::Tokens => "tokens",
            Kind::Labels => "labels",
            Kind::Lengths => "lengths",
        }
    }

    /// Payload bytes for `rows` rows of ids `width` wide, or `None` on overflow.
    pub(crate) fn len_bytes(self, rows: u64, seq_len: u64, width: TokenWidth) -> Option<u64> {
        match self {
            Kind::Tokens => rows.checked_mul(seq_len)?.checked_mul(width.bytes() as u64),
            Kind::Labels => Some(rows),
            Kind::Lengths => rows.checked_mul(4),
        }
    }
}

/// Every parameter `imdb-pack` used, stored in the header so a file says how it was made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PackParams {
    /// `load_data(num_words)`; every token id is below it. It also sets the width the ids are
    /// stored with ([`TokenWidth::for_num_words`]).
    pub num_words: u32,
    /// `pad_sequences(maxlen)`: tokens per row.
    pub seq_len: u32,
    /// `load_data(seed)`.
    pub seed: u64,
    /// `train_test_split(test_size)`; 0 means the training data was not split.
    pub val_split: f64,
    /// `train_test_split(random_state)`.
    pub split_seed: u64,
    /// `load_data(skip_top)`.
    pub skip_top: u32,
    /// `load_data(start_char)`.
    pub start_char: Option<u32>,
    /// `load_data(oov_char)`.
    pub oov_char: Option<u32>,
    /// `load_data(index_from)`.
    pub index_from: u32,
    /// `pad_sequences(padding)`.
    pub padding: Side,
    /// `pad_sequences(truncating)`.
    pub truncating: Side,
}

impl PackParams {
    /// The notebook's settings: `load_data(num_words=500)`, `train_test_split(test_size=0.2,
    /// random_state=42)`, `pad_sequences(maxlen=100)`.
    pub const NOTEBOOK: PackParams = PackParams {
        num_words: 500,
        seq_len: 100,
        seed: 113,
        val_split: 0.2,
        split_seed: 42,
        skip_top: 0,
        start_char: Some(1),
        oov_char: Some(2),
        index_from: 3,
        padding: Side::Pre,
        truncating: Side::Pre,
    };

    /// How wide the ids of a file with these parameters are stored.
    pub fn token_width(&self) -> TokenWidth {
        TokenWidth::for_num_words(self.num_words)
    }

    /// Checks the parameters themselves (not any data).
    pub fn validate(&self) -> Result<(), FormatError> {
        let bad = |what: String| Err(FormatError::BadParams(what));
        if self.num_words == 0 {
            // `u32::MAX` is allowed: ids are then `0..u32::MAX`, and `u32::MAX` itself, the
            // stored `None` of start_char / oov_char, is never a valid id.
            return bad("num_words 0: a file needs at least one token id".into());
        }
        if !(1..=MAX_SEQ_LEN).contains(&self.seq_len) {
            return bad(format!(
                "seq_len {} is outside 1..={MAX_SEQ_LEN}",
                self.seq_len
            ));
        }
        if !(self.val_split.is_finite() && (0.0..1.0).contains(&self.val_split)) {
            return bad(format!("val_split {} is outside [0, 1)", self.val_split));
        }
        if self.start_char == Some(NONE_ID) {
            return bad(format!("start_char {NONE_ID} is reserved for None"));
        }
        // The start char goes through load_data's num_words filter like any word, so it may be
        // anything; the OOV char is written as it is, so it must be a valid token.
        if let Some(oov) = self.oov_char.filter(|&oov| oov >= self.num_words) {
            return bad(format!(
                "oov_char {oov} is not below num_words {}",
                self.num_words
            ));
        }
        Ok(())
    }
}

/// What can be wrong with the bytes of a token file.
#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum FormatError {
    #[error("too short for a token file: {len} bytes, the header alone is {need}")]
    TooShort { len: usize, need: usize },
    #[error("not a fusedrnn token file (magic {found:02x?}, expected {MAGIC:02x?})")]
    BadMagic { found: [u8; 8] },
    #[error(
        "unsupported token file version {found} (this build reads versions {VERSION_U16} (u16 ids) and {VERSION_U32} (u32 ids))"
    )]
    UnsupportedVersion { found: u32 },
    #[error(
        "header checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): the header is corrupt"
    )]
    HeaderChecksum { stored: u32, computed: u32 },
    #[error("corrupt header: {0}")]
    BadHeader(String),
    #[error("invalid packing parameters: {0}")]
    BadParams(String),
    #[error("file is {actual} bytes but its header says {stated}: truncated or padded")]
    SizeMismatch { actual: u64, stated: u64 },
    #[error("section {split} {kind}: {problem}")]
    BadSection {
        split: &'static str,
        kind: &'static str,
        problem: String,
    },
    #[error(
        "section {split} {kind}: checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
    )]
    SectionChecksum {
        split: &'static str,
        kind: &'static str,
        stored: u32,
        computed: u32,
    },
    #[error(
        "{split} row {row}, position {col}: token id {token} is not below num_words {num_words}"
    )]
    TokenOutOfRange {
        split: &'static str,
        row: usize,
        col: usize,
        token: u32,
        num_words: u32,
    },
    #[error("{split} row {row}: label {label} is not 0 or 1")]
    BadLabel {
        split: &'static str,
        row: usize,
        label: u8,
    },
    #[error("the mapped bytes are not aligned for typed views")]
    Misaligned,
}

/// Where one split's payloads are, after validation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SplitLayout {
    pub rows: usize,
    pub tokens: (usize, usize),
    pub labels: (usize, usize),
    pub lengths: (usize, usize),
}

/// A validated file: its parameters (and so its id width) and where each split lies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Layout {
    pub params: PackParams,
    pub width: TokenWidth,
    pub splits: [SplitLayout; 3],
}

fn encode_id(id: Option<u32>) -> u32 {
    id.unwrap_or(NONE_ID)
}

fn decode_id(raw: u32) -> Option<u32> {
    (raw != NONE_ID).then_some(raw)
}

/// Builds the header and section table for splits of the given row counts, with the payload
/// checksums already computed. Returns the bytes up to [`DATA_START`] and the total file size.
pub(crate) fn encode_header(
    params: &PackParams,
    rows: [usize; 3],
    crcs: [[u32; 3]; 3],
) -> Result<(Vec<u8>, u64), FormatError> {
    params.validate()?;
    let width = params.token_width();
    let mut entries = Vec::with_capacity(SECTION_COUNT);
    let mut offset = DATA_START as u64;
    for split in SplitName::ALL {
        let i = split.index();
        let n = u32::try_from(rows[i]).map_err(|_| {
            FormatError::BadParams(format!(
                "{split}: {} rows do not fit the format's u32",
                rows[i]
            ))
        })?;
        for kind in Kind::ALL {
            let len_bytes = kind
                .len_bytes(n.into(), params.seq_len.into(), width)
                .ok_or_else(|| FormatError::BadParams(format!("{split} is too large")))?;
            entries.push(RawEntry {
                split: i as u16,
                kind: kind as u16,
                rows: n,
                offset,
                len_bytes,
                crc32: crcs[i][kind as usize],
                reserved: 0,
            });
            offset = offset
                .checked_add(len_bytes)
                .and_then(|end| end.checked_next_multiple_of(ALIGN as u64))
                .ok_or_else(|| FormatError::BadParams("file too large".into()))?;
        }
    }
    // The last payload is not followed by padding: the file ends where it ends.
    let last = entries.last().expect("nine entries");
    let file_bytes = last.offset + last.len_bytes;
    let mut header = RawHeader {
        magic: MAGIC,
        version: width.version(),
        header_bytes: HEADER_BYTES as u32,
        section_count: SECTION_COUNT as u32,
        num_words: params.num_words,
        seq_len: params.seq_len,
        skip_top: params.skip_top,
        index_from: params.index_from,
        start_char: encode_id(params.start_char),
        oov_char: encode_id(params.oov_char),
        padding: params.padding.code(),
        truncating: params.truncating.code(),
        reserved0: [0; 2],
        seed: params.seed,
        split_seed: params.split_seed,
        val_split: params.val_split,
        file_bytes,
        reserved1: [0; 44],
        header_crc32: 0,
    };
    let table: &[u8] = bytemuck::cast_slice(&entries);
    header.header_crc32 = header_crc(bytemuck::bytes_of(&header), table);
    let mut out = Vec::with_capacity(DATA_START);
    out.extend_from_slice(bytemuck::bytes_of(&header));
    out.extend_from_slice(table);
    out.resize(DATA_START, 0);
    Ok((out, file_bytes))
}

fn header_crc(header: &[u8], table: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&header[..CRC_OFFSET]);
    h.update(table);
    h.finalize()
}

/// Validates a whole file held in `bytes`: header, table, bounds, alignment, checksums,
/// labels and every token id. Returns where everything is.
pub(crate) fn validate(bytes: &[u8]) -> Result<Layout, FormatError> {
    let (header, table) = check_header(bytes)?;
    let params = header_params(&header)?;
    let width = params.token_width();
    let mut splits = [SplitLayout::default(); 3];
    let mut min_offset = DATA_START as u64;
    for (i, raw) in table.chunks_exact(ENTRY_BYTES).enumerate() {
        let entry: RawEntry = bytemuck::pod_read_unaligned(raw);
        let split = SplitName::ALL[i / 3];
        let kind = Kind::ALL[i % 3];
        let section = Section { i, split, kind };
        let range = section.check_entry(
            bytes,
            &entry,
            params,
            splits[split.index()].rows,
            min_offset,
        )?;
        min_offset = range.1 as u64;
        section.check_payload(
            &mut splits[split.index()],
            entry.rows as usize,
            range,
            &bytes[range.0..range.1],
            params,
        )?;
    }
    Ok(Layout {
        params,
        width,
        splits,
    })
}

/// The fixed header and the section table: size, magic, version, counts, the header checksum
/// and the stated file size. Returns the header and the table's bytes.
fn check_header(bytes: &[u8]) -> Result<(RawHeader, &[u8]), FormatError> {
    if bytes.len() < HEADER_BYTES {
        return Err(FormatError::TooShort {
            len: bytes.len(),
            need: HEADER_BYTES,
        });
    }
    let header: RawHeader = bytemuck::pod_read_unaligned(&bytes[..HEADER_BYTES]);
    if header.magic != MAGIC {
        return Err(FormatError::BadMagic {
            found: header.magic,
        });
    }
    if header.version != VERSION_U16 && header.version != VERSION_U32 {
        return Err(FormatError::UnsupportedVersion {
            found: header.version,
        });
    }
    if header.header_bytes as usize != HEADER_BYTES
        || header.section_count as usize != SECTION_COUNT
    {
        return Err(FormatError::BadHeader(format!(
            "header_bytes {} / section_count {} (expected {HEADER_BYTES} / {SECTION_COUNT})",
            header.header_bytes, header.section_count
        )));
    }
    let table_end = HEADER_BYTES + SECTION_COUNT * ENTRY_BYTES;
    let table = bytes
        .get(HEADER_BYTES..table_end)
        .ok_or(FormatError::TooShort {
            len: bytes.len(),
            need: table_end,
        })?;
    let computed = header_crc(&bytes[..HEADER_BYTES], table);
    if computed != header.header_crc32 {
        return Err(FormatError::HeaderChecksum {
            stored: header.header_crc32,
            computed,
        });
    }
    if header.file_bytes != bytes.len() as u64 {
        return Err(FormatError::SizeMismatch {
            actual: bytes.len() as u64,
            stated: header.file_bytes,
        });
    }
    Ok((header, table))
}

/// The packing parameters the header records: reserved bytes zero, known padding codes,
/// parameters that [`PackParams::validate`] accepts, and the version that `num_words` implies
/// (one encoding per parameter set: a small vocabulary in version 2 is refused, so the width
/// the reader assumes never depends on anything but checked fields).
fn header_params(header: &RawHeader) -> Result<PackParams, FormatError> {
    let bad_header = |what: &str| Err(FormatError::BadHeader(what.to_string()));
    if header.reserved0 != [0; 2] || header.reserved1 != [0; 44] {
        return bad_header("reserved bytes are not zero");
    }
    let (Some(padding), Some(truncating)) = (
        Side::from_code(header.padding),
        Side::from_code(header.truncating),
    ) else {
        return bad_header("padding / truncating code is not 0 (pre) or 1 (post)");
    };
    let params = PackParams {
        num_words: header.num_words,
        seq_len: header.seq_len,
        seed: header.seed,
        val_split: header.val_split,
        split_seed: header.split_seed,
        skip_top: header.skip_top,
        start_char: decode_id(header.start_char),
        oov_char: decode_id(header.oov_char),
        index_from: header.index_from,
        padding,
        truncating,
    };
    params.validate()?;
    let width = params.token_width();
    if header.version != width.version() {
        return Err(FormatError::BadHeader(format!(
            "version {} with num_words {}: files of at most {MAX_U16_NUM_WORDS} words are version {VERSION_U16} (u16 ids), larger ones version {VERSION_U32} (u32 ids)",
            header.version, header.num_words
        )));
    }
    Ok(params)
}

/// Entry `i` of the section table: split `i / 3`, kind `i % 3`.
#[derive(Clone, Copy)]
struct Section {
    i: usize,
    split: SplitName,
    kind: Kind,
}

impl Section {
    /// The entry's own checks (position in the table, rows, length, alignment, no overlap with
    /// what precedes it, inside the file, checksum). `split_rows` are the rows of the split's
    /// tokens, read from an earlier entry. Returns the payload's byte range.
    fn check_entry(
        self,
        bytes: &[u8],
        entry: &RawEntry,
        params: PackParams,
        split_rows: usize,
        min_offset: u64,
    ) -> Result<(usize, usize), FormatError> {
        let Section { i, split, kind } = self;
        let fail = |problem: String| FormatError::BadSection {
            split: split.as_str(),
            kind: kind.name(),
            problem,
        };
        if usize::from(entry.split) != split.index()
            || usize::from(entry.kind) != kind as usize
            || entry.reserved != 0
        {
            return Err(fail(format!(
                "table entry {i} says split {} kind {} (expected {} {}), reserved {}",
                entry.split,
                entry.kind,
                split.index(),
                kind as usize,
                entry.reserved
            )));
        }
        let rows = entry.rows;
        if kind != Kind::Tokens && rows as usize != split_rows {
            return Err(fail(format!(
                "{rows} rows, but the split's tokens have {split_rows}"
            )));
        }
        let want = kind.len_bytes(rows.into(), params.seq_len.into(), params.token_width());
        if want != Some(entry.len_bytes) {
            let expected = want.map_or_else(|| "more than 2^64".to_owned(), |w| w.to_string());
            return Err(fail(format!(
                "{} bytes for {rows} rows (expected {expected})",
                entry.len_bytes
            )));
        }
        if !entry.offset.is_multiple_of(ALIGN as u64) || entry.offset < min_offset {
            return Err(fail(format!(
                "offset {} is not {ALIGN}-byte aligned or overlaps what precedes it (ends at {min_offset})",
                entry.offset
            )));
        }
        let end = entry
            .offset
            .checked_add(entry.len_bytes)
            .filter(|&end| end <= bytes.len() as u64);
        let Some(end) = end else {
            return Err(fail(format!(
                "{} bytes at offset {} run past the end of the {}-byte file",
                entry.len_bytes,
                entry.offset,
                bytes.len()
            )));
        };
        let range = (entry.offset as usize, end as usize);
        let payload = &bytes[range.0..range.1];
        let computed = crc32fast::hash(payload);
        if computed != entry.crc32 {
            return Err(FormatError::SectionChecksum {
                split: split.as_str(),
                kind: kind.name(),
                stored: entry.crc32,
                computed,
            });
        }
        Ok(range)
    }

    /// What the payload holds: token ids below `num_words`, labels 0 or 1; and where it is.
    fn check_payload(
        self,
        layout: &mut SplitLayout,
        rows: usize,
        range: (usize, usize),
        payload: &[u8],
        params: PackParams,
    ) -> Result<(), FormatError> {
        let Section { split, kind, .. } = self;
        match kind {
            Kind::Tokens => {
                layout.rows = rows;
                layout.tokens = range;
                check_tokens(payload, split, params)?;
            }
            Kind::Labels => {
                layout.labels = range;
                if let Some(row) = payload.iter().position(|&l| l > 1) {
                    return Err(FormatError::BadLabel {
                        split: split.as_str(),
                        row,
                        label: payload[row],
                    });
                }
            }
            Kind::Lengths => layout.lengths = range,
        }
        Ok(())
    }
}

/// Every token id must be below `num_words`. The fast path is a branch-free max over
/// 64-id blocks (the compiler vectorises it); only a failing block is searched for the first
/// offender, for the message. Ids are read from the little-endian bytes, so this never casts.
fn check_tokens(payload: &[u8], split: SplitName, params: PackParams) -> Result<(), FormatError> {
    match params.token_width() {
        TokenWidth::U16 => first_bad_id::<2>(payload, params.num_words, |b| {
            u32::from(u16::from_le_bytes(b))
        }),
        TokenWidth::U32 => first_bad_id::<4>(payload, params.num_words, u32::from_le_bytes),
    }
    .map_or(Ok(()), |(index, token)| {
        let seq_len = params.seq_len as usize;
        Err(FormatError::TokenOutOfRange {
            split: split.as_str(),
            row: index / seq_len,
            col: index % seq_len,
            token,
            num_words: params.num_words,
        })
    })
}

/// The index and value of the first id `>= limit` among the `W`-byte ids of `payload`.
#[inline]
fn first_bad_id<const W: usize>(
    payload: &[u8],
    limit: u32,
    read: impl Fn([u8; W]) -> u32 + Copy,
) -> Option<(usize, u32)> {
    const BLOCK_IDS: usize = 64;
    for (block_index, block) in payload.chunks(BLOCK_IDS * W).enumerate() {
        let id = |b: &[u8]| read(b.try_into().expect("W bytes"));
        if block.chunks_exact(W).map(id).fold(0u32, u32::max) < limit {
            continue;
        }
        return block
            .chunks_exact(W)
            .map(id)
            .enumerate()
            .find(|&(_, t)| t >= limit)
            .map(|(at, t)| (block_index * BLOCK_IDS + at, t));
    }
    None
}
