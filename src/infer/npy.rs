//! Writing `.npy` arrays of f32 (what `fusedrnn predict` outputs; numpy reads them with
//! `np.load`). Version 1.0 header, little-endian, padded to 64 bytes as numpy pads it.

use std::io::{self, Write};
use std::path::Path;

/// The header of a 1-D `<f4` array of `n` elements.
pub fn f32_header(n: usize) -> Vec<u8> {
    header_1d("<f4", n)
}

/// A version 1.0 header of a 1-D array of `n` elements of numpy type `descr`, padded with
/// spaces to a multiple of 64 bytes as numpy pads it.
pub fn header_1d(descr: &str, n: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({n},), }}");
    let total = (10 + dict.len() + 1).div_ceil(64) * 64;
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend(((total - 10) as u16).to_le_bytes());
    out.extend(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out
}

/// Writes `values` as a 1-D float32 `.npy` to `w`.
pub fn write_f32<W: Write>(w: &mut W, values: &[f32]) -> io::Result<()> {
    w.write_all(&f32_header(values.len()))?;
    for chunk in values.chunks(4096) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
        w.write_all(&bytes)?;
    }
    Ok(())
}

/// Writes `values` to `path` atomically.
pub fn save_f32(path: &Path, values: &[f32]) -> io::Result<()> {
    crate::atomic::write_with(path, |w| write_f32(w, values))
}
