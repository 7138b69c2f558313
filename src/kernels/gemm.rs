//! A thin safe wrapper over `matrixmultiply::sgemm` for contiguous row-major matrices.
//!
//! Used where there is a real matrix product: folding the embedding into the input kernel
//! (`[vocab, EMBED] · [EMBED, GATES]`), and the training gradients.

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
    // A's element (i, j) at i·k + j.
    strided(m, k, n, a, (k, 1), b, beta, c);
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
    // Aᵀ's element (i, j) at i + j·m.
    strided(m, k, n, a, (1, m), b, beta, c);
}

/// The product with `A`'s strides `(row, column)`, once the caller has checked that
/// `a.len() == m·k` and that the strides address each of its elements exactly once.
#[allow(clippy::too_many_arguments)]
fn strided(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    (rsa, csa): (usize, usize),
    b: &[f32],
    beta: f32,
    c: &mut [f32],
) {
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
    // Every stride is at most a live slice's length, so it fits in isize.
    let (rsa, csa, n_i) = (rsa as isize, csa as isize, n as isize);
    // SAFETY: A is m·k elements and its strides, (k, 1) or (1, m), put element (i, j),
    // i < m, j < k, at most at (m − 1)·k + (k − 1) or (m − 1) + (k − 1)·m, both m·k − 1; B and
    // C are k·n and m·n elements (asserted above) with row strides (n, 1), so every index
    // matrixmultiply forms, i·rs + j·cs, is inside its slice. `c` is a unique borrow, so C
    // aliases neither A nor B.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
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
