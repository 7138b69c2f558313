//! Sigmoid and tanh approximations, scalar and 8-lane, and their error budget.
//!
//! # Algorithm (shared by every version)
//!
//! Both functions only ever need `e = exp(y)` for `y ≤ 0`, so nothing overflows:
//!
//! ```text
//! sigmoid(x) = 1 / (1 + e)        if x ≥ 0      e = exp(-|x|)
//!            = e / (1 + e)        if x < 0
//! tanh(x)    = sign(x) · (1 - e) / (1 + e)      e = exp(-2|x|)
//! ```
//!
//! `exp(y)`, `y` clamped to `[-87, 0]` (so `2^n` below stays a normal number):
//!
//! ```text
//! n = round(y · log2 e)                         round-to-nearest via the 1.5·2^23 trick
//! r = y - n·ln2_hi - n·ln2_lo                   |r| ≤ ln2/2; ln2_hi has 9 significant bits, so n·ln2_hi is exact
//! p = 1 + r + r²(1/2 + r/6) + r⁴(1/24 + r/120 + r²/720)     Taylor to degree 6, Estrin's scheme
//! e = p · 2^n                                   2^n built from the exponent bits
//! ```
//!
//! The degree-6 Taylor remainder is `|r|⁷/7! ≤ 0.347⁷/5040 ≈ 1.2e-7` relative, and `e ≤ 1`, so with
//! rounding the absolute error of `e` stays below ~2.5e-7; the final division adds half an ulp.
//! Estrin's scheme (instead of Horner) halves the dependency chain, which is what the
//! one-sequence latency kernels wait on.
//!
//! NaN in gives NaN out: the clamp is written so a NaN passes through it, and every later step
//! propagates it.
//!
//! # Error budget
//!
//! [`ACTIVATION_ABS_TOL`] (1e-6 absolute against f64) is the contract. Measured worst cases over
//! every f32 bit pattern (the `#[ignore]`d exhaustive test in `tests/kernels.rs`) are written
//! next to the constants [`SIGMOID_MEASURED_MAX_ABS_ERR`] and [`TANH_MEASURED_MAX_ABS_ERR`].

use super::simd::Isa;

/// The contract: |approx(x) − f64 exact(x)| ≤ 1e-6 for every f32 `x` (NaN → NaN).
pub const ACTIVATION_ABS_TOL: f64 = 1e-6;
/// Worst absolute error of the sigmoid approximations over all 2^32 f32 inputs, measured with
/// the exhaustive test (AVX2+FMA and portable kernels; scalar is the same arithmetic).
pub const SIGMOID_MEASURED_MAX_ABS_ERR: f64 = 1.8e-7;
/// Worst absolute error of the tanh approximations over all 2^32 f32 inputs (same measurement).
pub const TANH_MEASURED_MAX_ABS_ERR: f64 = 2.4e-7;

/// Lower clamp of the `exp` argument: `exp(-87) ≈ 1.6e-38`, still a normal f32.
const EXP_ARG_MIN: f32 = -87.0;
const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// `ln 2 = LN2_HI + LN2_LO`; `LN2_HI = 355/512` has 9 significant bits.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// `1.5 · 2^23`: adding it rounds a float with |v| < 2^22 to the nearest integer, and leaves that
/// integer in the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;
/// Bits of `1.0f32`, i.e. the exponent bias already in place: `2^n = bits((n << 23) + ONE_BITS)`.
const ONE_BITS: i32 = 0x3f80_0000;

const C2: f32 = 1.0 / 2.0;
const C3: f32 = 1.0 / 6.0;
const C4: f32 = 1.0 / 24.0;
const C5: f32 = 1.0 / 120.0;
const C6: f32 = 1.0 / 720.0;

/// `exp(y)` for `y ≤ 0` (and NaN), 8 lanes. Larger `y` is not supported (callers pass `-|x|`).
#[inline(always)]
pub(crate) fn exp_nonpositive<I: Isa>(isa: I, y: I::V) -> I::V {
    let y = isa.max_keep_nan(isa.splat(EXP_ARG_MIN), y);
    // `shifted` holds round(y·log2e) in its low mantissa bits; `n` is the same value as a float.
    let shifted = isa.mul_add(y, isa.splat(LOG2_E), isa.splat(ROUND_MAGIC));
    let n = isa.sub(shifted, isa.splat(ROUND_MAGIC));
    let r = isa.neg_mul_add(n, isa.splat(LN2_HI), y);
    let r = isa.neg_mul_add(n, isa.splat(LN2_LO), r);
    let r2 = isa.mul(r, r);
    let r4 = isa.mul(r2, r2);
    let a = isa.mul_add(r, isa.splat(C3), isa.splat(C2));
    let b = isa.mul_add(r, isa.splat(C5), isa.splat(C4));
    let b = isa.mul_add(r2, isa.splat(C6), b);
    let p = isa.mul_add(r2, a, isa.add(r, isa.splat(1.0)));
    let p = isa.mul_add(r4, b, p);
    isa.mul(p, isa.shl23_add(shifted, ONE_BITS))
}

/// Logistic sigmoid `1 / (1 + exp(-x))`, 8 lanes (see the module docs).
#[inline(always)]
pub(crate) fn sigmoid<I: Isa>(isa: I, x: I::V) -> I::V {
    let e = exp_nonpositive(isa, isa.neg_abs(x));
    let r = isa.div(isa.splat(1.0), isa.add(isa.splat(1.0), e));
    isa.select_sign(x, isa.mul(e, r), r)
}

/// Hyperbolic tangent, 8 lanes (see the module docs).
#[inline(always)]
pub(crate) fn tanh<I: Isa>(isa: I, x: I::V) -> I::V {
    let na = isa.neg_abs(x);
    let e = exp_nonpositive(isa, isa.add(na, na));
    let one = isa.splat(1.0);
    let t = isa.div(isa.sub(one, e), isa.add(one, e));
    isa.copy_sign(t, x)
}

/// Scalar `exp(y)` for `y ≤ 0`: the same arithmetic as [`exp_nonpositive`], written out (no FMA:
/// `a * b + c`, as the portable path computes it).
pub fn exp_nonpositive_f32(y: f32) -> f32 {
    // Written so that NaN passes the clamp (a comparison with NaN is false).
    let y = if y < EXP_ARG_MIN { EXP_ARG_MIN } else { y };
    let shifted = y * LOG2_E + ROUND_MAGIC;
    let n = shifted - ROUND_MAGIC;
    let r = y - n * LN2_HI;
    let r = r - n * LN2_LO;
    let r2 = r * r;
    let r4 = r2 * r2;
    let a = r * C3 + C2;
    let b = r * C5 + C4;
    let b = r2 * C6 + b;
    let p = r2 * a + (r + 1.0);
    let p = r4 * b + p;
    let scale = f32::from_bits(((shifted.to_bits() << 23) as i32).wrapping_add(ONE_BITS) as u32);
    p * scale
}

/// Scalar logistic sigmoid, the same approximation as the 8-lane kernels.
pub fn sigmoid_f32(x: f32) -> f32 {
    let e = exp_nonpositive_f32(-x.abs());
    let r = 1.0 / (1.0 + e);
    if x.is_sign_negative() { e * r } else { r }
}

/// Scalar tanh, the same approximation as the 8-lane kernels.
pub fn tanh_f32(x: f32) -> f32 {
    let e = exp_nonpositive_f32(-2.0 * x.abs());
    ((1.0 - e) / (1.0 + e)).copysign(x)
}
