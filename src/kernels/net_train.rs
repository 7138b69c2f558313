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
//!
//! A tile matches its start form once (not once per accumulator) and a whole-vector tile has
//! the width `LANES` as a constant (no width test per load and store): AMD EPYC Zen 4 (family
//! 25 model 17, 2026-12-04, one thread, fastest of 200 windows, two alternations of the two
//! builds, GMAC/s against a peak of 58.7), `[32, 32]·[32, 128]` from a matrix 40–44 → 47–55,
//! `[32, 16]·[16, 64]` from a row 31–34 → 41–54, `[32, 8]·[8, 32]` 20–24 → 35–37,
//! `[6400, 64]·[64, 128]` 45–48 → 56–57; the general trainer's epoch (LSTM(32), 2 threads)
//! 1.71 → 1.51 s, GRU(32) 1.40 → 1.25 s (fastest of three alternations).

// Index loops over tiles read like the sums they compute.
#![allow(clippy::needless_range_loop)]

use super::activations::{sigmoid, tanh};
use super::isa::{Isa, Op};
use super::net_simd::{ld, st};
use super::reference;

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

/// `C [m, n] = init + A [m, k] · B [k, n]`, row-major (`A` stored as `[k, m]`, its
/// transpose, if `transposed`); the caller has checked the lengths.
pub(crate) struct RowsProduct<'a> {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub transposed: bool,
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
            transposed,
            a,
            b,
            init,
            c,
        } = self;
        let at = |i: usize, j: usize| {
            if transposed {
                a[j * m + i]
            } else {
                a[i * k + j]
            }
        };
        for i in 0..m {
            for col in 0..n {
                let mut s = match init {
                    RowsInit::Zero => 0.0,
                    RowsInit::Out => c[i * n + col],
                    RowsInit::From(x) => x[i * n + col],
                    RowsInit::Row(x) => x[col],
                };
                for j in 0..k {
                    s += at(i, j) * b[j * n + col];
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
        match (I::LANES == 16, self.n <= 2 * I::LANES, self.transposed) {
            (true, true, false) => rows::<I, 8, 2, false>(isa, self),
            (true, false, false) => rows::<I, 4, 4, false>(isa, self),
            (false, _, false) => rows::<I, 6, 2, false>(isa, self),
            (true, true, true) => rows::<I, 8, 2, true>(isa, self),
            (true, false, true) => rows::<I, 4, 4, true>(isa, self),
            (false, _, true) => rows::<I, 6, 2, true>(isa, self),
        }
    }
}

/// Every row block of `R` rows, then the remaining rows one by one.
#[inline(always)]
fn rows<I: Isa, const R: usize, const C: usize, const TN: bool>(isa: I, p: RowsProduct<'_>) {
    let RowsProduct {
        m,
        k,
        n,
        a,
        b,
        init,
        c,
        ..
    } = p;
    let s = Shared {
        m,
        k,
        n,
        a,
        b,
        init,
    };
    let mut i = 0;
    while i + R <= m {
        block::<I, R, C, TN>(isa, &s, c, i);
        i += R;
    }
    while i < m {
        block::<I, 1, C, TN>(isa, &s, c, i);
        i += 1;
    }
}

/// The read-only operands of a [`RowsProduct`].
struct Shared<'a> {
    m: usize,
    k: usize,
    n: usize,
    a: &'a [f32],
    b: &'a [f32],
    init: RowsInit<'a>,
}

/// Rows `i0..i0 + R`: tiles of `C` whole column vectors, then of 2, then single vectors,
/// the last one partial.
#[inline(always)]
fn block<I: Isa, const R: usize, const C: usize, const TN: bool>(
    isa: I,
    s: &Shared<'_>,
    c: &mut [f32],
    i0: usize,
) {
    let l = I::LANES;
    let (full, tail) = (s.n / l, s.n % l);
    let mut v = 0;
    while v + C <= full {
        tile::<I, R, C, TN, true>(isa, s, c, i0, v * l, l);
        v += C;
    }
    if C > 2 && v + 2 <= full {
        tile::<I, R, 2, TN, true>(isa, s, c, i0, v * l, l);
        v += 2;
    }
    while v < full {
        tile::<I, R, 1, TN, true>(isa, s, c, i0, v * l, l);
        v += 1;
    }
    if tail != 0 {
        tile::<I, R, 1, TN, false>(isa, s, c, i0, full * l, tail);
    }
}

/// One register tile: rows `i0..i0 + R`, the `C` column vectors from column `col0`, each `w`
/// lanes wide (`w < LANES` only for a single, last vector: `FULL` false).
#[inline(always)]
fn tile<I: Isa, const R: usize, const C: usize, const TN: bool, const FULL: bool>(
    isa: I,
    s: &Shared<'_>,
    out: &mut [f32],
    i0: usize,
    col0: usize,
    w: usize,
) {
    let (k, n, l) = (s.k, s.n, I::LANES);
    // A whole-vector tile's width is the constant `LANES`, so its loads and stores need no
    // test of the width.
    let w = if FULL { l } else { w };
    let zero = isa.splat(0.0);
    let mut acc = [[zero; C]; R];
    // The start form matched once per tile, not once per accumulator.
    match s.init {
        RowsInit::Zero => {}
        RowsInit::Row(x) => {
            for c in 0..C {
                let v = ld(isa, &x[col0 + c * l..], w);
                for r in 0..R {
                    acc[r][c] = v;
                }
            }
        }
        RowsInit::Out | RowsInit::From(_) => {
            let from: &[f32] = if let RowsInit::From(x) = s.init {
                x
            } else {
                out
            };
            for r in 0..R {
                let at = (i0 + r) * n + col0;
                for c in 0..C {
                    acc[r][c] = ld(isa, &from[at + c * l..], w);
                }
            }
        }
    }
    // `A`'s rows `i0..i0 + R` (its columns when it is stored transposed: then row `j` of the
    // stored `[k, m]` holds the `R` values one step of `j` broadcasts, side by side).
    let mut arows = [&s.a[..0]; R];
    if !TN {
        for r in 0..R {
            arows[r] = &s.a[(i0 + r) * k..(i0 + r + 1) * k];
        }
    }
    for (j, brow) in s.b.chunks_exact(n).enumerate() {
        let brow = &brow[col0..];
        let mut bv = [zero; C];
        for c in 0..C {
            bv[c] = ld(isa, &brow[c * l..], w);
        }
        let aj = if TN {
            &s.a[j * s.m + i0..j * s.m + i0 + R]
        } else {
            &s.a[..0]
        };
        for r in 0..R {
            let x = isa.splat(if TN { aj[r] } else { arows[r][j] });
            for c in 0..C {
                acc[r][c] = isa.mul_add(x, bv[c], acc[r][c]);
            }
        }
    }
    for r in 0..R {
        let at = (i0 + r) * n + col0;
        for c in 0..C {
            st(isa, acc[r][c], &mut out[at + c * l..], w);
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

/// One step of the trainer's LSTM forward cell for `b` rows of `h` units: `acts [b, 4h]` holds
/// the pre-activations and gets `i, f, g, o` (the throughput forms of
/// [`super::Kernel::activation_in_place`], the standard library's on the reference kernel);
/// `c_next = f⊙c_prev + i⊙g`, `tanh_c = tanh(c_next)`, `h_next = o⊙tanh_c`, multiplies and
/// adds as the scalar code does them. So every kernel gives the bits of its activation calls
/// per gate block, in one pass and one dispatch per step.
pub(crate) struct LstmFwd<'a> {
    pub h: usize,
    pub acts: &'a mut [f32],
    pub c_prev: &'a [f32],
    pub c_next: &'a mut [f32],
    pub tanh_c: &'a mut [f32],
    pub h_next: &'a mut [f32],
}

impl Op for LstmFwd<'_> {
    type Output = ();

    fn reference(self) {
        let LstmFwd {
            h,
            acts,
            c_prev,
            c_next,
            tanh_c,
            h_next,
        } = self;
        for (bi, a) in acts.chunks_exact_mut(4 * h).enumerate() {
            for k in 0..h {
                let j = bi * h + k;
                let i = reference::sigmoid(a[k]);
                let f = reference::sigmoid(a[h + k]);
                let g = a[2 * h + k].tanh();
                let o = reference::sigmoid(a[3 * h + k]);
                (a[k], a[h + k], a[2 * h + k], a[3 * h + k]) = (i, f, g, o);
                let c = f * c_prev[j] + i * g;
                c_next[j] = c;
                tanh_c[j] = c.tanh();
                h_next[j] = o * tanh_c[j];
            }
        }
    }

    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        let LstmFwd {
            h,
            acts,
            c_prev,
            c_next,
            tanh_c,
            h_next,
        } = self;
        let l = I::LANES;
        let rows = acts
            .chunks_exact_mut(4 * h)
            .zip(c_prev.chunks_exact(h))
            .zip(c_next.chunks_exact_mut(h))
            .zip(tanh_c.chunks_exact_mut(h))
            .zip(h_next.chunks_exact_mut(h));
        for ((((a, cp), cn), tc), hn) in rows {
            let mut k = 0;
            while k < h {
                let w = l.min(h - k);
                let i = sigmoid(isa, ld(isa, &a[k..], w));
                let f = sigmoid(isa, ld(isa, &a[h + k..], w));
                let g = tanh(isa, ld(isa, &a[2 * h + k..], w));
                let o = sigmoid(isa, ld(isa, &a[3 * h + k..], w));
                st(isa, i, &mut a[k..], w);
                st(isa, f, &mut a[h + k..], w);
                st(isa, g, &mut a[2 * h + k..], w);
                st(isa, o, &mut a[3 * h + k..], w);
                let c = isa.add(isa.mul(f, ld(isa, &cp[k..], w)), isa.mul(i, g));
                st(isa, c, &mut cn[k..], w);
                let t = tanh(isa, c);
                st(isa, t, &mut tc[k..], w);
                st(isa, isa.mul(o, t), &mut hn[k..], w);
                k += w;
            }
        }
    }
}

/// One step of the trainer's reset-after GRU forward cell for `b` rows of `h` units, from the
/// recurrent product `a = h·U [b, 3h]` (no bias) and the input projection `xz [b, 3h]`:
/// `z, r = σ(xz + (a + b_rec))`, `a_h = a[2h..] + b_rh`, `ĥ = tanh(xz_h + r⊙a_h)` into
/// `acts [b, 3h]` and `a_h [b, h]`, and `h_next = z⊙h_prev + (1 − z)⊙ĥ`. As [`LstmFwd`], the
/// bits of the per-slice activation calls it replaces.
pub(crate) struct GruFwdAfter<'a> {
    pub h: usize,
    pub a: &'a [f32],
    pub b_rec: &'a [f32],
    pub xz: &'a [f32],
    pub h_prev: &'a [f32],
    pub acts: &'a mut [f32],
    pub a_h: &'a mut [f32],
    pub h_next: &'a mut [f32],
}

impl Op for GruFwdAfter<'_> {
    type Output = ();

    fn reference(self) {
        let GruFwdAfter {
            h,
            a,
            b_rec,
            xz,
            h_prev,
            acts,
            a_h,
            h_next,
        } = self;
        for (bi, ac) in acts.chunks_exact_mut(3 * h).enumerate() {
            let (a, x) = (
                &a[bi * 3 * h..(bi + 1) * 3 * h],
                &xz[bi * 3 * h..(bi + 1) * 3 * h],
            );
            for k in 0..h {
                let j = bi * h + k;
                let z = reference::sigmoid(x[k] + (a[k] + b_rec[k]));
                let r = reference::sigmoid(x[h + k] + (a[h + k] + b_rec[h + k]));
                let ah = a[2 * h + k] + b_rec[2 * h + k];
                let hh = (x[2 * h + k] + r * ah).tanh();
                (ac[k], ac[h + k], ac[2 * h + k]) = (z, r, hh);
                a_h[j] = ah;
                h_next[j] = z * h_prev[j] + (1.0 - z) * hh;
            }
        }
    }

    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        let GruFwdAfter {
            h,
            a,
            b_rec,
            xz,
            h_prev,
            acts,
            a_h,
            h_next,
        } = self;
        let (l, one) = (I::LANES, isa.splat(1.0));
        let rows = acts
            .chunks_exact_mut(3 * h)
            .zip(a.chunks_exact(3 * h))
            .zip(xz.chunks_exact(3 * h))
            .zip(h_prev.chunks_exact(h))
            .zip(a_h.chunks_exact_mut(h))
            .zip(h_next.chunks_exact_mut(h));
        for (((((ac, a), x), hp), ah_row), hn) in rows {
            let mut k = 0;
            while k < h {
                let w = l.min(h - k);
                // No closure here: a closure's body is not compiled with the trampoline's
                // target features, so its `Isa` operations would not inline.
                let (kz, kr, kh) = (k, h + k, 2 * h + k);
                let rec_z = isa.add(ld(isa, &a[kz..], w), ld(isa, &b_rec[kz..], w));
                let z = sigmoid(isa, isa.add(ld(isa, &x[kz..], w), rec_z));
                let rec_r = isa.add(ld(isa, &a[kr..], w), ld(isa, &b_rec[kr..], w));
                let r = sigmoid(isa, isa.add(ld(isa, &x[kr..], w), rec_r));
                let ah = isa.add(ld(isa, &a[kh..], w), ld(isa, &b_rec[kh..], w));
                let hh = tanh(isa, isa.add(ld(isa, &x[kh..], w), isa.mul(r, ah)));
                st(isa, z, &mut ac[k..], w);
                st(isa, r, &mut ac[h + k..], w);
                st(isa, hh, &mut ac[2 * h + k..], w);
                st(isa, ah, &mut ah_row[k..], w);
                let keep = isa.mul(z, ld(isa, &hp[k..], w));
                st(
                    isa,
                    isa.add(keep, isa.mul(isa.sub(one, z), hh)),
                    &mut hn[k..],
                    w,
                );
                k += w;
            }
        }
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

/// One RMSprop update of `w` and its velocity `v` with gradient `g` (one length; checked by
/// the caller): the reference's operations lane by lane, in its order, without fusing a
/// multiply and an add (square root and division are correctly rounded on every ISA), so every
/// kernel gives the reference's bits.
pub(crate) struct RmsPropStep<'a> {
    pub rho: f32,
    pub lr: f32,
    pub eps: f32,
    pub w: &'a mut [f32],
    pub v: &'a mut [f32],
    pub g: &'a [f32],
}

impl Op for RmsPropStep<'_> {
    type Output = ();
    fn reference(self) {
        reference::rmsprop(self.rho, self.lr, self.eps, self.w, self.v, self.g);
    }
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        let l = I::LANES;
        let c = RmsConsts {
            rho: isa.splat(self.rho),
            one_minus_rho: isa.splat(1.0 - self.rho),
            lr: isa.splat(self.lr),
            eps: isa.splat(self.eps),
        };
        // Whole vectors, then the rest of a vector through masked loads and stores.
        for ((w, v), g) in self
            .w
            .chunks_mut(l)
            .zip(self.v.chunks_mut(l))
            .zip(self.g.chunks(l))
        {
            let n = w.len();
            let (wn, vn) = rms_lanes(isa, &c, ld(isa, w, n), ld(isa, v, n), ld(isa, g, n));
            st(isa, vn, v, n);
            st(isa, wn, w, n);
        }
    }
}

/// [`RmsPropStep`]'s constants, splat.
struct RmsConsts<V> {
    rho: V,
    one_minus_rho: V,
    lr: V,
    eps: V,
}

/// The new weights and velocities of one vector of lanes (a function, not a closure: a
/// closure's body is not compiled with the trampoline's target features).
#[inline(always)]
fn rms_lanes<I: Isa>(isa: I, c: &RmsConsts<I::V>, w: I::V, v: I::V, g: I::V) -> (I::V, I::V) {
    let v = isa.add(isa.mul(c.rho, v), isa.mul(c.one_minus_rho, isa.mul(g, g)));
    let step = isa.div(isa.mul(c.lr, g), isa.sqrt(isa.add(v, c.eps)));
    (isa.sub(w, step), v)
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

    /// The LSTM forward cell of every kernel against the same kernel's activations per slice
    /// (`Kernel::activation_in_place`, the code it replaced) and scalar arithmetic: bit for bit.
    #[test]
    fn lstm_forward_step_is_the_kernels_activations_bit_for_bit() {
        for (seed, (b, h)) in SHAPES.into_iter().enumerate() {
            let seed = seed as u64 * 8;
            let z: Vec<f32> = values(b * 4 * h, seed, true)
                .iter()
                .map(|x| 6.0 * x)
                .collect();
            let c_prev = values(b * h, seed + 1, true);
            for k in Kernel::available() {
                let mut want = z.clone();
                let (mut cn, mut tc, mut hn) =
                    (vec![0.0; b * h], vec![0.0; b * h], vec![0.0; b * h]);
                for (bi, a) in want.chunks_exact_mut(4 * h).enumerate() {
                    k.sigmoid_in_place(&mut a[..2 * h]);
                    k.tanh_in_place(&mut a[2 * h..3 * h]);
                    k.sigmoid_in_place(&mut a[3 * h..]);
                    for j in 0..h {
                        let c = a[h + j] * c_prev[bi * h + j] + a[j] * a[2 * h + j];
                        cn[bi * h + j] = c;
                        tc[bi * h + j] = c;
                    }
                    k.tanh_in_place(&mut tc[bi * h..(bi + 1) * h]);
                    for j in 0..h {
                        hn[bi * h + j] = a[3 * h + j] * tc[bi * h + j];
                    }
                }
                let mut got = z.clone();
                let (mut cn2, mut tc2, mut hn2) =
                    (vec![0.0; b * h], vec![0.0; b * h], vec![0.0; b * h]);
                k.dispatch(LstmFwd {
                    h,
                    acts: &mut got,
                    c_prev: &c_prev,
                    c_next: &mut cn2,
                    tanh_c: &mut tc2,
                    h_next: &mut hn2,
                });
                assert_eq!(
                    (got, cn2, tc2, hn2),
                    (want, cn, tc, hn),
                    "{}: b {b}, h {h}",
                    k.name()
                );
            }
        }
    }

    /// The reset-after GRU forward cell, as the LSTM's above.
    #[test]
    fn gru_forward_step_is_the_kernels_activations_bit_for_bit() {
        for (seed, (b, h)) in SHAPES.into_iter().enumerate() {
            let seed = seed as u64 * 8;
            let a = values(b * 3 * h, seed, true);
            let b_rec = values(3 * h, seed + 1, true);
            let xz: Vec<f32> = values(b * 3 * h, seed + 2, true)
                .iter()
                .map(|x| 4.0 * x)
                .collect();
            let h_prev = values(b * h, seed + 3, true);
            for k in Kernel::available() {
                let mut want = vec![0.0; b * 3 * h];
                let (mut ah, mut hn) = (vec![0.0; b * h], vec![0.0; b * h]);
                for bi in 0..b {
                    let (ar, x) = (&a[bi * 3 * h..], &xz[bi * 3 * h..]);
                    let ac = &mut want[bi * 3 * h..(bi + 1) * 3 * h];
                    for j in 0..2 * h {
                        ac[j] = x[j] + (ar[j] + b_rec[j]);
                    }
                    k.sigmoid_in_place(&mut ac[..2 * h]);
                    for j in 0..h {
                        ah[bi * h + j] = ar[2 * h + j] + b_rec[2 * h + j];
                        ac[2 * h + j] = x[2 * h + j] + ac[h + j] * ah[bi * h + j];
                    }
                    k.tanh_in_place(&mut ac[2 * h..]);
                    for j in 0..h {
                        let (z, hh) = (ac[j], ac[2 * h + j]);
                        hn[bi * h + j] = z * h_prev[bi * h + j] + (1.0 - z) * hh;
                    }
                }
                let mut got = vec![0.0; b * 3 * h];
                let (mut ah2, mut hn2) = (vec![0.0; b * h], vec![0.0; b * h]);
                k.dispatch(GruFwdAfter {
                    h,
                    a: &a,
                    b_rec: &b_rec,
                    xz: &xz,
                    h_prev: &h_prev,
                    acts: &mut got,
                    a_h: &mut ah2,
                    h_next: &mut hn2,
                });
                assert_eq!(
                    (got, ah2, hn2),
                    (want, ah, hn),
                    "{}: b {b}, h {h}",
                    k.name()
                );
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
