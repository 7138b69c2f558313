//! `.npy` headers for 1-D arrays (`fusedrnn predict` writes its float32 probabilities after one,
//! streaming; numpy reads them with `np.load`). Version 1.0 header, little-endian, padded to 64
//! bytes as numpy pads it.

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
