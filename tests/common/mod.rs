//! Fixture helpers shared by the integration tests (`tests/all.rs`: `use crate::common;`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use fusedrnn::kernels::Kernel;
use fusedrnn::shape::SEQ_LEN;

/// The AVX-512 and AVX2+FMA kernels, for a test that holds one to the other's bits; on a CPU
/// without both, `None` after saying loudly that `test` skipped: not a failure even with
/// `CI=true`, since CI machines need not have AVX-512 (CI's forced-kernel runs cover the
/// kernels on those that do).
pub fn avx512_and_avx2(test: &str) -> Option<(Kernel, Kernel)> {
    match (
        Kernel::from_override("avx512"),
        Kernel::from_override("avx2-fma"),
    ) {
        (Ok(a), Ok(b)) => Some((a, b)),
        _ => {
            eprintln!(
                "\n=== SKIPPED {test}: this CPU lacks AVX-512F/BW/VL (or AVX2/FMA); not a \
                 failure, even with CI=true ===\n"
            );
            None
        }
    }
}

/// The AVX2+FMA kernel's proof, for a test of its forms; on a CPU without AVX2 and FMA, `None`
/// after saying loudly that `test` skipped, and a failure with `CI=true` (CI runs on x86-64
/// CPUs that have them).
#[cfg(target_arch = "x86_64")]
pub fn avx2(test: &str) -> Option<fusedrnn::kernels::Avx2Fma> {
    match Kernel::from_override("avx2-fma") {
        Ok(Kernel::Avx2Fma(cpu)) => Some(cpu),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{test}: CI runs on x86-64 CPUs with AVX2 and FMA; this one has not")
        }
        _ => {
            eprintln!("\n=== SKIPPED {test}: no AVX2/FMA ===\n");
            None
        }
    }
}

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parity")
}

pub fn fixture(name: &str) -> PathBuf {
    fixture_dir().join(name)
}

pub fn parity_json() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("parity.json")).expect("read parity.json");
    serde_json::from_str(&text).expect("parse parity.json")
}

pub fn probs(json: &serde_json::Value, arch: &str, source: &str) -> Vec<f64> {
    json["archs"][arch][source]
        .as_array()
        .unwrap_or_else(|| panic!("parity.json: no {source} probabilities for {arch}"))
        .iter()
        .map(|p| p.as_f64().expect("a number"))
        .collect()
}

/// Reads `tokens.npy`: a version 1.0 `.npy` of little-endian `u16`, C order, shape `[rows, SEQ_LEN]`.
pub fn read_tokens() -> Vec<[u16; SEQ_LEN]> {
    read_tokens_at(&fixture("tokens.npy"))
}

/// [`read_tokens`] of another fixture directory's token file.
pub fn read_tokens_at(path: &Path) -> Vec<[u16; SEQ_LEN]> {
    let bytes = std::fs::read(path).expect("read tokens.npy");
    assert_eq!(
        &bytes[..8],
        b"\x93NUMPY\x01\x00",
        "npy magic and version 1.0"
    );
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).expect("ascii header");
    assert!(header.contains("'descr': '<u2'"), "{header}");
    assert!(header.contains("'fortran_order': False"), "{header}");
    let data = &bytes[10 + header_len..];
    let rows = data.len() / (2 * SEQ_LEN);
    assert!(
        header.contains(&format!("'shape': ({rows}, {SEQ_LEN})")),
        "{header}"
    );
    data.chunks_exact(2 * SEQ_LEN)
        .map(|row| std::array::from_fn(|t| u16::from_le_bytes([row[2 * t], row[2 * t + 1]])))
        .collect()
}

/// Byte offsets of the token file layout (the table in `src/tokfile/mod.rs`), for tests that
/// edit a file on purpose.
pub mod tok_layout {
    pub const HEADER_CRC_AT: usize = 124;
    pub const TABLE_AT: usize = 128;
    pub const ENTRY_BYTES: usize = 32;
    pub const SECTIONS: usize = 9;

    /// Section `i`'s (offset, length in bytes) from the table.
    pub fn entry(bytes: &[u8], i: usize) -> (usize, usize) {
        let e = &bytes[TABLE_AT + i * ENTRY_BYTES..][..ENTRY_BYTES];
        let offset = u64::from_le_bytes(e[8..16].try_into().unwrap()) as usize;
        let len = u64::from_le_bytes(e[16..24].try_into().unwrap()) as usize;
        (offset, len)
    }

    /// Recomputes the header checksum after a deliberate edit, so a test reaches the check
    /// behind it.
    pub fn fix_header_crc(bytes: &mut [u8]) {
        let mut h = crc32fast::Hasher::new();
        h.update(&bytes[..HEADER_CRC_AT]);
        h.update(&bytes[TABLE_AT..TABLE_AT + SECTIONS * ENTRY_BYTES]);
        let crc = h.finalize();
        bytes[HEADER_CRC_AT..HEADER_CRC_AT + 4].copy_from_slice(&crc.to_le_bytes());
    }

    /// Recomputes section `i`'s checksum (and then the header's) after an edit of its payload.
    pub fn fix_section_crc(bytes: &mut [u8], i: usize) {
        let (offset, len) = entry(bytes, i);
        let crc = crc32fast::hash(&bytes[offset..offset + len]);
        bytes[TABLE_AT + i * ENTRY_BYTES + 24..][..4].copy_from_slice(&crc.to_le_bytes());
        fix_header_crc(bytes);
    }
}

#[path = "ci.rs"]
pub mod ci;
pub use ci::{debug_sized, skip_or_fail_in_ci};

#[path = "runner.rs"]
pub mod runner;
pub use runner::{target_argv, target_command};
