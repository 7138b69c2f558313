//! A thin safe wrapper over `matrixmultiply::sgemm` for contiguous row-major matrices.
//!
//! Used where there is a real matrix product: folding the embedding into the input kernel
//! (`[vocab, EMBED] · [EMBED, GATES]`), and later the training gradients.

/// `C ← A·B + beta·C` for row-major `A [m, k]`, `B [k, n]`, `C [m, n]`.
///
/// With `beta == 0` the old contents of `C` are not read (NaN there does not leak into the
/// result). Panics unless `a.len() == m·k`, `b.len() == k·n` and `c.len() == m·n`.
pub fn sgemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], beta: f32, c: &mut [f32]) {
    assert_eq!(
        a.len(),
        m.checked_mul(k).expect("m·k overflows"),
        "A must be [m, k]"
    );
    assert_eq!(
        b.len(),
        k.checked_mul(n).expect("k·n overflows"),
        "B must be [k, n]"
    );
    assert_eq!(
        c.len(),
        m.checked_mul(n).expect("m·n overflows"),
        "C must be [m, n]"
    );
    if m == 0 || n == 0 {
        return;
    }
    // Every length fits in isize because it is the length of a live slice.
    let (k_i, n_i) = (k as isize, n as isize);
    // SAFETY: the asserts above make A, B, C exactly m·k, k·n and m·n elements; with row strides
    // (k, 1), (n, 1), (n, 1) every index matrixmultiply forms, (i·rs + j·cs) for i < rows and
    // j < cols, is inside its slice. `c` is a unique borrow, so C aliases neither A nor B.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k_i,
            1,
            b.as_ptr(),
            n_i,
            1,
            beta,
            c.as_mut_ptr(),
            n_i,
            1,
        );
    }
}
