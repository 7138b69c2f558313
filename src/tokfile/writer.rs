//! Writing token files: to any `Write`, or atomically to a path.

use std::io::Write;
use std::path::Path;

use super::format::{ALIGN, FormatError, Kind, PackParams, SplitName, TokenWidth, encode_header};
use super::reader::TokFileError;

/// A token id type the writer takes: `u16` or `u32`. Whichever the caller holds, the file
/// stores the width its `num_words` implies ([`PackParams::token_width`]), converting block by
/// block when the two differ (ids are checked against `num_words` first, so narrowing is exact).
pub trait TokenId: Copy + Default + bytemuck::Pod + Into<u32> + sealed::Sealed {
    /// The width of this type.
    const WIDTH: TokenWidth;
}

impl TokenId for u16 {
    const WIDTH: TokenWidth = TokenWidth::U16;
}

impl TokenId for u32 {
    const WIDTH: TokenWidth = TokenWidth::U32;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u16 {}
    impl Sealed for u32 {}
}

/// One split's data, borrowed from whoever built it, with ids of type `T` (`u16` or `u32`).
#[derive(Clone, Copy, Debug)]
pub struct SplitData<'a, T: TokenId = u16> {
    /// `[rows, seq_len]` padded token ids, row-major.
    pub tokens: &'a [T],
    /// `[rows]` labels, 0 or 1.
    pub labels: &'a [u8],
    /// `[rows]` unpadded lengths.
    pub lengths: &'a [u32],
}

impl<T: TokenId> Default for SplitData<'_, T> {
    fn default() -> Self {
        SplitData {
            tokens: &[],
            labels: &[],
            lengths: &[],
        }
    }
}

impl<T: TokenId> SplitData<'_, T> {
    fn rows(&self, split: SplitName, seq_len: usize) -> Result<usize, FormatError> {
        let rows = self.labels.len();
        if Some(self.tokens.len()) != rows.checked_mul(seq_len) || self.lengths.len() != rows {
            return Err(FormatError::BadParams(format!(
                "{split}: {} tokens, {} labels and {} lengths do not make rows of {seq_len}",
                self.tokens.len(),
                rows,
                self.lengths.len()
            )));
        }
        if let Some(row) = self.labels.iter().position(|&l| l > 1) {
            return Err(FormatError::BadLabel {
                split: split.as_str(),
                row,
                label: self.labels[row],
            });
        }
        Ok(rows)
    }
}

/// Writes a complete token file to `out`, validating the data as the reader will (so a
/// writer can never produce a file that fails to open). The ids may be `u16` or `u32` whatever
/// the file stores. Returns the bytes written.
pub fn encode<W: Write, T: TokenId>(
    out: &mut W,
    params: &PackParams,
    splits: [SplitData<'_, T>; 3],
) -> Result<u64, TokFileError> {
    params.validate()?;
    let seq_len = params.seq_len as usize;
    let width = params.token_width();
    let mut rows = [0usize; 3];
    let mut crcs = [[0u32; 3]; 3];
    for split in SplitName::ALL {
        let data = splits[split.index()];
        rows[split.index()] = data.rows(split, seq_len)?;
        if let Some(at) = data
            .tokens
            .iter()
            .position(|&t| t.into() >= params.num_words)
        {
            return Err(FormatError::TokenOutOfRange {
                split: split.as_str(),
                row: at / seq_len,
                col: at % seq_len,
                token: data.tokens[at].into(),
                num_words: params.num_words,
            }
            .into());
        }
        for kind in Kind::ALL {
            let mut h = crc32fast::Hasher::new();
            for_each_block(&data, kind, width, |b| {
                h.update(b);
                Ok(())
            })?;
            crcs[split.index()][kind as usize] = h.finalize();
        }
    }
    let (head, file_bytes) = encode_header(params, rows, crcs)?;
    out.write_all(&head)?;
    let mut written = head.len() as u64;
    let zeros = [0u8; ALIGN];
    for split in SplitName::ALL {
        for kind in Kind::ALL {
            let pad = written.next_multiple_of(ALIGN as u64) - written;
            out.write_all(&zeros[..pad as usize])?;
            written += pad;
            for_each_block(&splits[split.index()], kind, width, |b| {
                written += b.len() as u64;
                out.write_all(b)
            })?;
        }
    }
    debug_assert_eq!(written, file_bytes);
    Ok(written)
}

/// Ids converted per block when the stored width or byte order differs from the caller's.
const CONVERT_IDS: usize = 1 << 14;

/// Hands a payload to `f` as little-endian bytes `width` wide per id: borrowed whole where the
/// caller's ids already are exactly that, otherwise converted [`CONVERT_IDS`] at a time, so
/// writing a large split never holds a second copy of it.
fn for_each_block<T: TokenId>(
    data: &SplitData<'_, T>,
    kind: Kind,
    width: TokenWidth,
    mut f: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let little = cfg!(target_endian = "little");
    match kind {
        Kind::Labels => f(data.labels),
        Kind::Lengths if little => f(bytemuck::cast_slice(data.lengths)),
        Kind::Lengths => converted(data.lengths, |v: &u32, out| out.extend(v.to_le_bytes()), f),
        Kind::Tokens if little && T::WIDTH == width => f(bytemuck::cast_slice(data.tokens)),
        Kind::Tokens => match width {
            // Checked by the caller: every id is below num_words <= 65536.
            TokenWidth::U16 => converted(
                data.tokens,
                |&v: &T, out| out.extend((v.into() as u16).to_le_bytes()),
                f,
            ),
            TokenWidth::U32 => converted(
                data.tokens,
                |&v: &T, out| out.extend(v.into().to_le_bytes()),
                f,
            ),
        },
    }
}

fn converted<V>(
    values: &[V],
    put: impl Fn(&V, &mut Vec<u8>),
    mut f: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(CONVERT_IDS * 4);
    for block in values.chunks(CONVERT_IDS) {
        buf.clear();
        block.iter().for_each(|v| put(v, &mut buf));
        f(&buf)?;
    }
    Ok(())
}

/// Writes a token file to `path` atomically (see [`crate::atomic`]): an interrupted write
/// never leaves a partial file at `path`.
pub fn write_atomic<T: TokenId>(
    path: &Path,
    params: &PackParams,
    splits: [SplitData<'_, T>; 3],
) -> Result<u64, TokFileError> {
    crate::atomic::write_with(path, |w| encode(w, params, splits))
        .map_err(|e: TokFileError| e.with_path(path))
}
