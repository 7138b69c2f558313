//! `.npz` archives: a zip of `.npy` members, stored or deflated.
//!
//! Every member is read with its stated size as a hard limit, so a member that inflates past
//! it (a zip bomb, or plain corruption) is an error after at most that many bytes; the zip
//! reader checks each member's CRC-32 at its end.

use std::io::{Cursor, Read};

use zip::{CompressionMethod, ZipArchive};

/// Largest member we inflate (a real `imdb.npz` member is about 50 MB).
pub const MAX_MEMBER_BYTES: u64 = 4 << 30;
/// Deflate cannot compress better than about 1032:1; a member claiming more is corrupt.
const MAX_DEFLATE_RATIO: u64 = 1100;

/// What is wrong with an archive or one of its members.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NpzError {
    #[error("not a readable zip archive: {0}")]
    Zip(String),
    #[error("no array {key:?} in the archive (it has: {found})")]
    MissingKey { key: String, found: String },
    #[error(
        "member {member}: compression method {method} is not supported (only stored and deflate)"
    )]
    Compression { member: String, method: String },
    #[error("member {member}: {problem}")]
    Member { member: String, problem: String },
}

/// An `.npz` archive held in memory.
pub struct Npz<'a> {
    archive: ZipArchive<Cursor<&'a [u8]>>,
    /// Bytes of the whole archive: no member's compressed data can be longer.
    len: u64,
}

impl<'a> Npz<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Npz<'a>, NpzError> {
        let archive =
            ZipArchive::new(Cursor::new(bytes)).map_err(|e| NpzError::Zip(e.to_string()))?;
        Ok(Npz {
            archive,
            len: bytes.len() as u64,
        })
    }

    /// Member names, in archive order.
    pub fn names(&self) -> Vec<String> {
        self.archive
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.into_owned()))
            .collect()
    }

    /// The bytes of array `key`: member `key.npy` (or `key`, as numpy also accepts).
    pub fn read(&mut self, key: &str) -> Result<Vec<u8>, NpzError> {
        let names = self.names();
        let Some(member) = [format!("{key}.npy"), key.to_owned()]
            .into_iter()
            .find(|n| names.contains(n))
        else {
            return Err(NpzError::MissingKey {
                key: key.to_owned(),
                found: names.join(", "),
            });
        };
        let fail = |problem: String| NpzError::Member {
            member: member.clone(),
            problem,
        };
        let mut file = self
            .archive
            .by_name(&member)
            .map_err(|e| fail(e.to_string()))?;
        let size = file.size();
        let packed = file.compressed_size();
        // Sizes come from the archive's headers: check them against the bytes that exist before
        // they decide an allocation (with the deflate ratio below, a member can then claim at
        // most about 1100× the archive).
        if packed > self.len {
            return Err(fail(format!(
                "claims {packed} compressed bytes, but the archive has {}",
                self.len
            )));
        }
        match file.compression() {
            CompressionMethod::Stored if size == packed => {}
            CompressionMethod::Stored => {
                return Err(fail(format!(
                    "stored member says {size} bytes but occupies {packed}"
                )));
            }
            CompressionMethod::Deflated
                if size <= packed.saturating_mul(MAX_DEFLATE_RATIO) + 1024 => {}
            CompressionMethod::Deflated => {
                return Err(fail(format!(
                    "claims {size} bytes from {packed} compressed: corrupt or a zip bomb"
                )));
            }
            other => {
                return Err(NpzError::Compression {
                    member: member.clone(),
                    method: format!("{other:?}"),
                });
            }
        }
        if size > MAX_MEMBER_BYTES {
            return Err(fail(format!(
                "{size} bytes is more than the {MAX_MEMBER_BYTES} this reader inflates"
            )));
        }
        let mut out = Vec::with_capacity(size as usize);
        // One byte more than stated, to see a member that inflates past its size.
        (&mut file)
            .take(size + 1)
            .read_to_end(&mut out)
            .map_err(|e| fail(format!("cannot inflate: {e}")))?;
        if out.len() as u64 != size {
            return Err(fail(format!(
                "inflates to {}{} bytes, but says {size}",
                out.len(),
                if out.len() as u64 > size { "+" } else { "" }
            )));
        }
        Ok(out)
    }
}
