//! The general-shape trainer's per-step products ([`crate::net::train`]): `C = init + A·B` for
//! the few rows of one step, `A [m, k]` (a shard's `m ≤ 32` sequences), `B [k, n]` the
//! recurrent kernel or its transpose, all row-major and contiguous.
//!
//! A step's product is too small for a general GEMM: `matrixmultiply` packs `A` and `B` into
//! its panel layout on every call (and allocates the panels), and at LSTM(32) with 32 rows
//! (`[32, 32]·[32, 128]` forward, `[32, 128]·[128, 32]` back) that packing and allocation took
//! about a third of the product's time (`perf record` of `examples/net_train_speed`, Intel Xeon
//! family 6 model 207, 2026-12-04). Here `B` is read in place: its rows are contiguous, one
//! row of a register tile's column vectors per `j`, and `A`'s elements are broadcast, the
//! register tiling of the inference batch (`net_simd`'s `tile`): `R` rows × `C` column
//! vectors of accumulators, each summing `j` in order, so a row's result does not depend on
//! the rows around it (the trainer's gradient stays the same bits for any thread count). The
//! last column vector of a row is a masked load and store when `n` is not a multiple of the
//! lanes.

// Index loops over tiles read like the sums they compute.
#![allow(clippy::needless_range_loop)]

use super::isa::{Isa, Op};

/// Where the accumulators of [`super::Kernel::rows_product`] start.
#[derive(Clone, Copy, Debug)]
pub enum RowsInit<'a> {
    /// At zero: `C = A·B`.
    Zero,
    /// At `C`'s contents: `C += A·B`.
    Out,
    /// At this `[m, n]` matrix: `C = X + A·B`.
    From(&'a [f32]),
    /// At this row of `n` floats in every row (a bias): `C = 1·x + A·B`.
    Row(&'a [f32]),
}

/// `C [m, n] = init + A [m, k] · B [k, n]`, row-major; the caller has checked the lengths.
pub(crate) struct RowsProduct<'a> {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub a: &'a [f32],
    pub b: &'a [f32],
    pub init: RowsInit<'a>,
    pub c: &'a mut [f32],
}

impl Op for RowsProduct<'_> {
    type Output = ();

    /// Plain loops, `j` in order from the initial value, a multiply and an add per term.
    fn reference(self) {
        let RowsProduct {
            m,
            k,
            n,
            a,
            b,
            init,
            c,
        } = self;
        for i in 0..m {
            for col in 0..n {
                let mut s = match init {
                    RowsInit::Zero => 0.0,
                    RowsInit::Out => c[i * n + col],
                    RowsInit::From(x) => x[i * n + col],
                    RowsInit::Row(x) => x[col],
                };
                for j in 0..k {
                    s += a[i * k + j] * b[j * n + col];
                }
                c[i * n + col] = s;
            }
        }
    }

    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        // The inference batch's tiles: 4 rows × 4 vectors (16 accumulators of 32 registers)
        // with 16 lanes, 6 × 2 (12 of 16) with 8; with 16 lanes and at most two vectors per
        // row (`δz·Uᵀ`, `n = H ≤ 32`), 8 × 2, so that 16 chains still cover the FMA latency.
        if I::LANES == 16 && self.n <= 2 * I::LANES {
            rows::<I, 8, 2>(isa, self);
        } else if I::LANES == 16 {
            rows::<I, 4, 4>(isa, self);
        } else {
            rows::<I, 6, 2>(isa, self);
        }
    }
}

/// Every row block of `R` rows, then the remaining rows one by one.
#[inline(always)]
fn rows<I: Isa, const R: usize, const C: usize>(isa: I, p: RowsProduct<'_>) {
    let RowsProduct {
        m,
        k,
        n,
        a,
        b,
        init,
        c,
    } = p;
    let s = Shared { k, n, a, b, init };
    let mut i = 0;
    while i + R <= m {
        block::<I, R, C>(isa, &s, c, i);
        i += R;
    }
    while i < m {
        block::<I, 1, C>(isa, &s, c, i);
        i += 1;
    }
}

/// The read-only operands of a [`RowsProduct`].
struct Shared<'a> {
    k: usize,
    n: usize,
    a: &'a [f32],
    b: &'a [f32],
    init: RowsInit<'a>,
}

/// Rows `i0..i0 + R`: tiles of `C` whole column vectors, then of 2, then single vectors,
/// the last one partial.
#[inline(always)]
fn block<I: Isa, const R: usize, const C: usize>(isa: I, s: &Shared<'_>, c: &mut [f32], i0: usize) {
    let l = I::LANES;
    let (full, tail) = (s.n / l, s.n % l);
    let mut v = 0;
    while v + C <= full {
        tile::<I, R, C>(isa, s, c, i0, v * l, l);
        v += C;
    }
    if C > 2 && v + 2 <= full {
        tile::<I, R, 2>(isa, s, c, i0, v * l, l);
        v += 2;
    }
    while v < full {
        tile::<I, R, 1>(isa, s, c, i0, v * l, l);
        v += 1;
    }
    if tail != 0 {
        tile::<I, R, 1>(isa, s, c, i0, full * l, tail);
    }
}

/// `n ≤ LANES` floats of `xs` (a whole-vector load when `n = LANES`).
#[inline(always)]
fn ld<I: Isa>(isa: I, xs: &[f32], n: usize) -> I::V {
    if n == I::LANES {
        isa.load_slice(xs)
    } else {
        isa.load_partial(&xs[..n])
    }
}

/// One register tile: rows `i0..i0 + R`, the `C` column vectors from column `col0`, each `w`
/// lanes wide (`w < LANES` only for a single, last vector).
#[inline(always)]
fn tile<I: Isa, const R: usize, const C: usize>(
    isa: I,
    s: &Shared<'_>,
    out: &mut [f32],
    i0: usize,
    col0: usize,
    w: usize,
) {
    let (k, n, l) = (s.k, s.n, I::LANES);
    let zero = isa.splat(0.0);
    let mut acc = [[zero; C]; R];
    for r in 0..R {
        let at = (i0 + r) * n + col0;
        for c in 0..C {
            acc[r][c] = match s.init {
                RowsInit::Zero => zero,
                RowsInit::Out => ld(isa, &out[at + c * l..], w),
                RowsInit::From(x) => ld(isa, &x[at + c * l..], w),
                RowsInit::Row(x) => ld(isa, &x[col0 + c * l..], w),
            };
        }
    }
    let mut arows = [&s.a[..0]; R];
    for r in 0..R {
        arows[r] = &s.a[(i0 + r) * k..(i0 + r + 1) * k];
    }
    for (j, brow) in s.b.chunks_exact(n).enumerate() {
        let brow = &brow[col0..];
        let mut bv = [zero; C];
        for c in 0..C {
            bv[c] = ld(isa, &brow[c * l..], w);
        }
        for r in 0..R {
            let x = isa.splat(arows[r][j]);
            for c in 0..C {
                acc[r][c] = isa.mul_add(x, bv[c], acc[r][c]);
            }
        }
    }
    for r in 0..R {
        let at = (i0 + r) * n + col0;
        for c in 0..C {
            let dst = &mut out[at + c * l..];
            if w == l {
                isa.store_slice(acc[r][c], dst);
            } else {
                isa.store_partial(acc[r][c], &mut dst[..w]);
            }
        }
    }
}

/// One step of the trainer's LSTM backward pass for `b` rows of `h` units (the equations of
/// `net::train::shard`): from the step's activations `i, f, g, o` (`acts [b, 4h]`), `tanh(c_t)`,
/// `c_{t-1}` and the carried `δh`, `δc`, the gate gradients `δz [b, 4h]`, and `δc ← δc̃⊙f`.
/// The body does each lane's operations in the reference's order with no fused multiply-add,
/// so every kernel gives the reference's bits.
pub(crate) struct LstmBack<'a> {
    pub h: usize,
    pub acts: &'a [f32],
    pub tanh_c: &'a [f32],
    pub c_prev: &'a [f32],
    pub dh: &'a [f32],
    pub dc: &'a mut [f32],
    pub dz: &'a mut [f32],
}

impl Op for LstmBack<'_> {
    type Output = ();

    fn reference(self) {
        let LstmBack {
            h,
            acts,
            tanh_c,
            c_prev,
            dh,
            dc,
            dz,
        } = self;
        for (bi, (a, dz)) in acts
            .chunks_exact(4 * h)
            .zip(dz.chunks_exact_mut(4 * h))
            .enumerate()
        {
            for k in 0..h {
                let j = bi * h + k;
                let (i, f, g, o) = (a[k], a[h + k], a[2 * h + k], a[3 * h + k]);
                let tc = tanh_c[j];
                let dhv = dh[j];
                let dcv = dc[j] + dhv * o * (1.0 - tc * tc);
                dz[k] = dcv * g * i * (1.0 - i);
                dz[h + k] = dcv * c_prev[j] * f * (1.0 - f);
                dz[2 * h + k] = dcv * i * (1.0 - g * g);
                dz[3 * h + k] = dhv * tc * o * (1.0 - o);
                dc[j] = dcv * f;
            }
        }
    }

    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        let LstmBack {
            h,
            acts,
            tanh_c,
            c_prev,
            dh,
            dc,
            dz,
        } = self;
        let (l, one) = (I::LANES, isa.splat(1.0));
        let rows = acts
            .chunks_exact(4 * h)
            .zip(dz.chunks_exact_mut(4 * h))
            .zip(tanh_c.chunks_exact(h))
            .zip(c_prev.chunks_exact(h))
            .zip(dh.chunks_exact(h))
            .zip(dc.chunks_exact_mut(h));
        for (((((a, dz), tc), cp), dhr), dcr) in rows {
            let mut k = 0;
            while k < h {
                let w = l.min(h - k);
                let i = ld(isa, &a[k..], w);
                let f = ld(isa, &a[h + k..], w);
                let g = ld(isa, &a[2 * h + k..], w);
                let o = ld(isa, &a[3 * h + k..], w);
                let tcv = ld(isa, &tc[k..], w);
                let dhv = ld(isa, &dhr[k..], w);
                let t = isa.mul(isa.mul(dhv, o), isa.sub(one, isa.mul(tcv, tcv)));
                let dcv = isa.add(ld(isa, &dcr[k..], w), t);
                let di = isa.mul(isa.mul(isa.mul(dcv, g), i), isa.sub(one, i));
                let cpv = ld(isa, &cp[k..], w);
                let df = isa.mul(isa.mul(isa.mul(dcv, cpv), f), isa.sub(one, f));
                let dg = isa.mul(isa.mul(dcv, i), isa.sub(one, isa.mul(g, g)));
                let dov = isa.mul(isa.mul(isa.mul(dhv, tcv), o), isa.sub(one, o));
                st(isa, di, &mut dz[k..], w);
                st(isa, df, &mut dz[h + k..], w);
                st(isa, dg, &mut dz[2 * h + k..], w);
                st(isa, dov, &mut dz[3 * h + k..], w);
                st(isa, isa.mul(dcv, f), &mut dcr[k..], w);
                k += w;
            }
        }
    }
}

/// The first `n ≤ LANES` lanes of `v` into `xs`.
#[inline(always)]
fn st<I: Isa>(isa: I, v: I::V, xs: &mut [f32], n: usize) {
    if n == I::LANES {
        isa.store_slice(v, xs);
    } else {
        isa.store_partial(v, &mut xs[..n]);
    }
}

/// One step of the trainer's backward pass of a reset-after GRU for `b` rows of `h` units
/// (the equations of `net::train::shard`): from the step's activations `z, r, ĥ`
/// (`acts [b, 3h]`), `h_{t-1}`, `a_h` and the carried `δh`, the input-side gradients
/// `δxz [b, 3h]`, the recurrent side's `δa [b, 3h]`, and `δh ⊙ z` into `dh_z` (the
/// recurrent product `δa·Uᵀ` is added to it next). As [`LstmBack`], the reference's bits on
/// every kernel.
pub(crate) struct GruBackAfter<'a> {
    pub h: usize,
    pub acts: &'a [f32],
    pub h_prev: &'a [f32],
    pub a_h: &'a [f32],
    pub dh: &'a [f32],
    pub dxz: &'a mut [f32],
    pub da: &'a mut [f32],
    pub dh_z: &'a mut [f32],
}

impl Op for GruBackAfter<'_> {
    type Output = ();

    fn reference(self) {
        let GruBackAfter {
            h,
            acts,
            h_prev,
            a_h,
            dh,
            dxz,
            da,
            dh_z,
        } = self;
        let rows = acts
            .chunks_exact(3 * h)
            .zip(dxz.chunks_exact_mut(3 * h))
            .zip(da.chunks_exact_mut(3 * h));
        for (bi, ((a, dx), da)) in rows.enumerate() {
            for k in 0..h {
                let j = bi * h + k;
                let (z, r, hh) = (a[k], a[h + k], a[2 * h + k]);
                let dhv = dh[j];
                let dz = dhv * (h_prev[j] - hh) * z * (1.0 - z);
                let dhh = dhv * (1.0 - z) * (1.0 - hh * hh);
                let dr = dhh * a_h[j] * r * (1.0 - r);
                dx[k] = dz;
                dx[h + k] = dr;
                dx[2 * h + k] = dhh;
                da[k] = dz;
                da[h + k] = dr;
                da[2 * h + k] = dhh * r;
                dh_z[j] = dhv * z;
            }
        }
    }

    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        let GruBackAfter {
            h,
            acts,
            h_prev,
            a_h,
            dh,
            dxz,
            da,
            dh_z,
        } = self;
        let (l, one) = (I::LANES, isa.splat(1.0));
        let rows = acts
            .chunks_exact(3 * h)
            .zip(dxz.chunks_exact_mut(3 * h))
            .zip(da.chunks_exact_mut(3 * h))
            .zip(h_prev.chunks_exact(h))
            .zip(a_h.chunks_exact(h))
            .zip(dh.chunks_exact(h))
            .zip(dh_z.chunks_exact_mut(h));
        for ((((((a, dx), da), hp), ah), dhr), dhz) in rows {
            let mut k = 0;
            while k < h {
                let w = l.min(h - k);
                let z = ld(isa, &a[k..], w);
                let r = ld(isa, &a[h + k..], w);
                let hh = ld(isa, &a[2 * h + k..], w);
                let dhv = ld(isa, &dhr[k..], w);
                let hpv = ld(isa, &hp[k..], w);
                let dz = isa.mul(isa.mul(isa.mul(dhv, isa.sub(hpv, hh)), z), isa.sub(one, z));
                let dhh = isa.mul(isa.mul(dhv, isa.sub(one, z)), isa.sub(one, isa.mul(hh, hh)));
                let ahv = ld(isa, &ah[k..], w);
                let dr = isa.mul(isa.mul(isa.mul(dhh, ahv), r), isa.sub(one, r));
                st(isa, dz, &mut dx[k..], w);
                st(isa, dr, &mut dx[h + k..], w);
                st(isa, dhh, &mut dx[2 * h + k..], w);
                st(isa, dz, &mut da[k..], w);
                st(isa, dr, &mut da[h + k..], w);
                st(isa, isa.mul(dhh, r), &mut da[2 * h + k..], w);
                st(isa, isa.mul(dhv, z), &mut dhz[k..], w);
                k += w;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Kernel;

    /// `n` values in `(0, 1)` (activations) or `(-1, 1)`, from an LCG.
    fn values(n: usize, seed: u64, signed: bool) -> Vec<f32> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let u = ((x >> 40) as f32 + 0.5) / (1u64 << 24) as f32;
                if signed { 2.0 * u - 1.0 } else { u }
            })
            .collect()
    }

    /// Sizes around the lane counts, batch rows 1 and 3.
    const SHAPES: [(usize, usize); 8] = [
        (1, 1),
        (3, 7),
        (1, 8),
        (3, 9),
        (1, 16),
        (3, 17),
        (2, 32),
        (3, 33),
    ];

    #[test]
    fn lstm_backward_step_is_the_reference_bit_for_bit() {
        for (seed, (b, h)) in SHAPES.into_iter().enumerate() {
            let seed = seed as u64 * 8;
            let acts = values(b * 4 * h, seed, false);
            let tanh_c = values(b * h, seed + 1, true);
            let c_prev = values(b * h, seed + 2, true);
            let dh = values(b * h, seed + 3, true);
            let run = |k: Kernel| {
                let mut dc = values(b * h, seed + 4, true);
                let mut dz = vec![f32::NAN; b * 4 * h];
                k.dispatch(LstmBack {
                    h,
                    acts: &acts,
                    tanh_c: &tanh_c,
                    c_prev: &c_prev,
                    dh: &dh,
                    dc: &mut dc,
                    dz: &mut dz,
                });
                (dc, dz)
            };
            let want = run(Kernel::Reference);
            assert!(want.1.iter().all(|x| x.is_finite()), "every δz written");
            for k in Kernel::available() {
                assert_eq!(run(k), want, "{}: b {b}, h {h}", k.name());
            }
        }
    }

    #[test]
    fn gru_backward_step_is_the_reference_bit_for_bit() {
        for (seed, (b, h)) in SHAPES.into_iter().enumerate() {
            let seed = seed as u64 * 8;
            let acts = values(b * 3 * h, seed, false);
            let h_prev = values(b * h, seed + 1, true);
            let a_h = values(b * h, seed + 2, true);
            let dh = values(b * h, seed + 3, true);
            let run = |k: Kernel| {
                let (mut dxz, mut da) = (vec![f32::NAN; b * 3 * h], vec![f32::NAN; b * 3 * h]);
                let mut dh_z = vec![f32::NAN; b * h];
                k.dispatch(GruBackAfter {
                    h,
                    acts: &acts,
                    h_prev: &h_prev,
                    a_h: &a_h,
                    dh: &dh,
                    dxz: &mut dxz,
                    da: &mut da,
                    dh_z: &mut dh_z,
                });
                (dxz, da, dh_z)
            };
            let want = run(Kernel::Reference);
            assert!(
                [&want.0, &want.1, &want.2]
                    .iter()
                    .all(|v| v.iter().all(|x| x.is_finite())),
                "every output written"
            );
            for k in Kernel::available() {
                assert_eq!(run(k), want, "{}: b {b}, h {h}", k.name());
            }
        }
    }
}
