//! Per-split summaries: what `fusedrnn data info` prints.

use sha2::{Digest, Sha256};

use super::reader::Split;

/// Counts, content hashes and length statistics of one split.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitStats {
    pub count: usize,
    pub positives: usize,
    /// SHA-256 of the tokens as stored: little-endian u16 for a version-1 file
    /// (`x.astype('<u2').tobytes()`), u32 for version 2 (`x.astype('<u4').tobytes()`), row-major.
    pub tokens_sha256: String,
    /// SHA-256 of the labels as u8.
    pub labels_sha256: String,
    /// Mean of the unpadded lengths (`np.mean`); 0 for an empty split.
    pub mean_length: f64,
    /// Median of the unpadded lengths (`np.median`: the mean of the middle two for an even
    /// count); 0 for an empty split.
    pub median_length: f64,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Split<'_> {
    /// Summarises the split (one pass over its tokens for the hash).
    pub fn stats(&self) -> SplitStats {
        let count = self.len();
        let mean_length = if count == 0 {
            0.0
        } else {
            self.lengths.iter().map(|&l| f64::from(l)).sum::<f64>() / count as f64
        };
        let mut sorted = self.lengths.to_vec();
        sorted.sort_unstable();
        let median_length = match count {
            0 => 0.0,
            n if n % 2 == 1 => f64::from(sorted[n / 2]),
            n => (f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0,
        };
        // The token file is little-endian and only opened on little-endian hosts, so the
        // in-memory ids are already the bytes to hash.
        SplitStats {
            count,
            positives: self.positives(),
            tokens_sha256: sha256_hex(self.tokens.as_bytes()),
            labels_sha256: sha256_hex(self.labels),
            mean_length,
            median_length,
        }
    }
}
