//! Writing token files: to any `Write`, or atomically to a path.

use std::io::Write;
use std::path::Path;

use super::format::{ALIGN, FormatError, Kind, PackParams, SplitName, encode_header};
use super::reader::TokFileError;

/// One split's data, borrowed from whoever built it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SplitData<'a> {
    /// `[rows, seq_len]` padded token ids, row-major.
    pub tokens: &'a [u16],
    /// `[rows]` labels, 0 or 1.
    pub labels: &'a [u8],
    /// `[rows]` unpadded lengths.
    pub lengths: &'a [u32],
}

impl SplitData<'_> {
    fn rows(&self, split: SplitName, seq_len: usize) -> Result<usize, FormatError> {
        let rows = self.labels.len();
        if self.tokens.len() != rows * seq_len || self.lengths.len() != rows {
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
/// writer can never produce a file that fails to open). Returns the bytes written.
pub fn encode<W: Write>(
    out: &mut W,
    params: &PackParams,
    splits: [SplitData<'_>; 3],
) -> Result<u64, TokFileError> {
    params.validate()?;
    let seq_len = params.seq_len as usize;
    let mut rows = [0usize; 3];
    let mut crcs = [[0u32; 3]; 3];
    for split in SplitName::ALL {
        let data = splits[split.index()];
        rows[split.index()] = data.rows(split, seq_len)?;
        if let Some(at) = data
            .tokens
            .iter()
            .position(|&t| u32::from(t) >= params.num_words)
        {
            return Err(FormatError::TokenOutOfRange {
                split: split.as_str(),
                row: at / seq_len,
                col: at % seq_len,
                token: data.tokens[at],
                num_words: params.num_words,
            }
            .into());
        }
        for kind in Kind::ALL {
            crcs[split.index()][kind as usize] = crc32fast::hash(&payload_bytes(&data, kind));
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
            let bytes = payload_bytes(&splits[split.index()], kind);
            out.write_all(&bytes)?;
            written += pad + bytes.len() as u64;
        }
    }
    debug_assert_eq!(written, file_bytes);
    Ok(written)
}

/// A payload as little-endian bytes: borrowed where the host is little-endian.
fn payload_bytes<'a>(data: &SplitData<'a>, kind: Kind) -> std::borrow::Cow<'a, [u8]> {
    use std::borrow::Cow;
    #[cfg(target_endian = "little")]
    {
        match kind {
            Kind::Tokens => Cow::Borrowed(bytemuck::cast_slice(data.tokens)),
            Kind::Labels => Cow::Borrowed(data.labels),
            Kind::Lengths => Cow::Borrowed(bytemuck::cast_slice(data.lengths)),
        }
    }
    #[cfg(target_endian = "big")]
    {
        match kind {
            Kind::Tokens => Cow::Owned(data.tokens.iter().flat_map(|t| t.to_le_bytes()).collect()),
            Kind::Labels => Cow::Borrowed(data.labels),
            Kind::Lengths => {
                Cow::Owned(data.lengths.iter().flat_map(|t| t.to_le_bytes()).collect())
            }
        }
    }
}

/// Writes a token file to `path` atomically (see [`crate::atomic`]): an interrupted write
/// never leaves a partial file at `path`.
pub fn write_atomic(
    path: &Path,
    params: &PackParams,
    splits: [SplitData<'_>; 3],
) -> Result<u64, TokFileError> {
    crate::atomic::write_with(path, |w| encode(w, params, splits))
        .map_err(|e: TokFileError| e.with_path(path))
}
