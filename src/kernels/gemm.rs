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

/// `C ← Aᵀ·B + beta·C` for `A` stored row-major as `[k, m]` (so `Aᵀ` is `[m, k]`), `B [k, n]`,
/// `C [m, n]`: a gradient `Xᵀ·δZ` read straight from `X`, without a transposed copy.
///
/// With `beta == 0` the old contents of `C` are not read. Panics unless `a.len() == k·m`,
/// `b.len() == k·n` and `c.len() == m·n`.
pub fn sgemm_tn(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], beta: f32, c: &mut [f32]) {
    assert_eq!(
        a.len(),
        k.checked_mul(m).expect("k·m overflows"),
        "A must be [k, m]"
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
    let (m_i, n_i) = (m as isize, n as isize);
    // SAFETY: the asserts above make A, B, C exactly k·m, k·n and m·n elements. Aᵀ's element
    // (i, j), i < m, j < k, is at i·1 + j·m ≤ (m − 1) + (k − 1)·m = k·m − 1; B's and C's row
    // strides (n, 1) keep theirs inside as in `sgemm`. `c` is a unique borrow, so C aliases
    // neither A nor B.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            1,
            m_i,
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
