//! Sigmoid and tanh approximations, scalar and in vector lanes, and their error budget.
//!
//! # Algorithm (shared by every version)
//!
//! ```text
//! sigmoid(x) = 1 / (1 + exp(-x))           x clamped to [-87, 87]
//! tanh(x)    = 1 - 2 / (1 + exp(2x))       x clamped to [-43.5, 43.5]
//! ```
//!
//! The clamps change nothing that matters (σ(-87) < 1e-37, 1 - tanh(43.5) < 1e-37) and keep
//! `exp` finite. `exp(k·x)`, `k ∈ {-1, 2}`, `|k·x| ≤ 87`:
//!
//! ```text
//! n = round(k·x · log2 e)                  round-to-nearest via the 1.5·2^23 trick
//! r = k·x - n·ln2                          |r| ≤ ln2/2 (one FMA: see below)
//! p = 1 + r + P2·r² + … + P6·r⁶           near-minimax, degree 6 (Horner or Estrin, see below)
//! exp = p · 2^n                            n added to the exponent field of p
//! ```
//!
//! The polynomial's relative error is at most 1.1e-8 (see `P2` in the source). Relative errors
//! of `exp` become absolute errors of at most a quarter of that in σ (`σ' ≤ 1/4`) and half of it
//! in tanh, and the division adds half an ulp. The reduction uses `ln2` rounded to f32 in one
//! step: its error, `|n|·1.5e-9` relative in `exp`, only grows where `exp` is tiny or huge, i.e.
//! where σ and tanh are flat at 0 or ±1, so it costs nothing in *absolute* error and saves an
//! FMA and 4 cycles of latency per activation.
//!
//! Two evaluation orders of the same polynomial, chosen by the caller (measured on Zen 3):
//! Horner (6 FMAs, a 24-cycle chain) for the throughput kernels, where FMA-port µops are the
//! bottleneck (LSTM batch −7 %, SimpleRNN batch −26 % against Estrin); and Estrin's scheme
//! (`(1 + r) + r²(P2 + P3·r) + r⁴(P4 + P5·r + P6·r²)`, 8 µops, an 11-cycle chain) for the
//! one-sequence latency kernels, which wait on the chain (100-step LSTM review −16 %).
//!
//! NaN in gives NaN out: both clamps are written so a NaN passes through them, and every later
//! step propagates it.
//!
//! # Latency forms
//!
//! The one-sequence step kernels wait on every instruction of the chain, so they use a third
//! form (`sigmoid_latency`, `tanh_times_latency`; the cycle account is in `simd.rs`):
//!
//! - **No clamp on the chain.** The clamp is a `vmaxps` and a `vminps`, 8 cycles of latency on
//!   Intel cores (1 on Zen 3). Instead `exp` runs on `x` as it is, and a compare of `|x|` with the
//!   limit (beside the chain: `x` is known 40 cycles before the result) picks the saturated value
//!   with one blend at the end (2 cycles). Inside the limits the arithmetic is exactly the
//!   clamped one; outside, whatever `exp` produced (inf, NaN, garbage exponent) is replaced.
//!   A NaN `x` fails the ordered compare and keeps its computed NaN.
//! - **`tanh(x) = (e − 1)/(e + 1)`**, `e = exp(2x)`: numerator and denominator are computed side
//!   by side, saving the dependent `1 − …` after the division. Near 0 the numerator cancels, as
//!   `1 − 2/(1 + e)` does: the error stays absolute (`e` is within 1e-8 of 1 there).
//! - **`m · tanh(x) = (m·e − m)/(e + 1)`**: the LSTM's `h = o · tanh(c)` puts the multiply by `o`
//!   in the numerator's FMA, saving the dependent multiply after the division.
//!
//! Same polynomial, same error budget (the exhaustive test checks this form too). A reciprocal
//! estimate with a Newton step instead of the division was measured and not taken: `vrcpps` (4
//! cycles) plus the two FMAs of the Newton step (8) is 12 cycles of latency against 11.6 for
//! `vdivps` on the CPU of the `simd.rs` account, so it shortens nothing here (it would free the
//! divider in the batch kernels, a throughput question).
//!
//! # Piecewise-polynomial tanh (latency kernels, issue 16)
//!
//! `tanh_piecewise` / `tanh_times_piecewise` have neither `exp` nor a division: `|x|` is
//! split by its binary exponent into eight intervals (`[0, 1/4)`, the six octaves `[1/4, 1/2)`
//! … `[8, 16)`, and `|x| ≥ 16` where the result is 1), each with its own degree-7 polynomial
//! (Estrin's scheme, three FMA levels) in `t = |x|` on the first interval and in
//! `t = m − 1.5` (`m ∈ [1, 2)` the mantissa of `|x|`, exact) on the octaves. The eight
//! coefficients of the lane's interval come from eight 8-entry lane permutes (`vpermps`)
//! indexed by the exponent; the sign of `x` is OR-ed back at the end (`tanh` is odd). Chain:
//! index 5 cycles (and, shift, sub, max, min), permutes 3 (+ one per further coefficient, one
//! port), Estrin 12, sign 1. The coefficients are fitted by `scripts/fit_tanh_piecewise.py`
//! (near-minimax, float64, rounded to f32) into `tanh_piecewise_table.rs`; the worst interval
//! is `[4, 8)` (fit error 2.5e-7 of the 1e-6 contract), checked over every f32 by the same
//! exhaustive test as the other forms. Used for the LSTM cell's `g` and `tanh(c')` and the
//! SimpleRNN's `tanh`; the throughput kernels and training keep the `exp` forms above.
//!
//! `sigmoid_piecewise` (the LSTM step's `i, f, o` since issue 16 item 2) is the same table:
//! `σ(x) = 1/2 + tanh(x/2)/2`, and `x/2` has the mantissa of `x`, so its intervals are the
//! tanh's with the base exponent one higher, and its coefficients the tanh's halved (and on
//! the first interval, whose argument is `|x|` instead of `|x|/2`, scaled by `2^−j` for
//! `t^j`): powers of two, exact. The sign and the `1/2` ride in the last two FMAs
//! (`(s·t⁴)·M1 + (s·M0 + 1/2)`, `s = ±1`, NaN for a NaN `x`); the last interval (`|x| ≥ 32`)
//! is the constant 1/2, so the result is exactly 0 or 1 there.
//!
//! # Batch forms (issue 16 item 3)
//!
//! The batch kernels (16 sequences per zmm on AVX-512) are bound by µops on the two FP ports and,
//! before these forms, by the divider: a zmm `vdivps` occupies it ~12 cycles, 40 of them per LSTM
//! block-step (account in `simd.rs`). `sigmoid_batch` / `tanh_batch` compute the throughput
//! (Horner) form's *values* with fewer µops:
//!
//! - **`1/d` by `Isa::recip`**: the division on every kernel, so the bits are the throughput
//!   form's. (AVX-512 had `vrcp14ps` plus one Newton step, no divider, until it measured 3 %
//!   slower on Zen 4, where the divider is not the bound: `x86_64_avx512.rs`.)
//! - **Two `tanh`, one division** (the SimpleRNN batch kernels): `tanh_from_p_pair` takes
//!   `1/P_a` and `1/P_b` from one `1/(P_a·P_b)`, the same µops as two divisions on Intel's
//!   cores and half the divider (`simd.rs`, "Two `tanh`, one division").
//! - **No `k·x` µop.** Sigmoid reduces `−r = x + n·ln2` (one FMA) and runs Horner on `−r` with
//!   `c − a·b` steps; tanh reduces `r/2 = x − n·(ln2/2)` and runs Horner on `r/2` with the
//!   coefficients scaled by `2^k`. Negation and scaling by powers of two are exact and commute
//!   with rounding, so every intermediate is exactly `±` or `2^k ×` the throughput form's: the
//!   same bits, one µop fewer per activation.
//!
//! # The exponent by a shift (AVX2 and portable; Zen 4, 2026-12-05)
//!
//! The forms that need only `1 + exp` (the throughput and batch forms, not the latency forms,
//! which use `e` itself) no longer convert `n` to an integer. The rounding constant is
//! `1.5·2^23 + 128` (`ROUND_MAGIC_POW2`, even, so every tie rounds to the same `n`), the
//! rounded sum's low mantissa bits are `n + 128`, and its bits shifted left by 23 are the float
//! `2^(n + 1)` (`n + 128 ∈ [2, 254]`: a normal exponent). With the polynomial's coefficients
//! halved (exact), `1 + e = (p/2)·2^(n + 1) + 1` is one FMA. The product is exact, so this is
//! `1 + p·2^n` rounded once, as the exponent add and the add gave it: the same bits, checked
//! over all 2^32 inputs on the portable, AVX2 and AVX-512 kernels once, and on every 4099th
//! pattern, the clamp limits and the rounding ties in `cargo test`
//! (`exponent_by_shift_gives_the_exponent_adds_bits`). A NaN `p` stays NaN whatever the shift
//! makes of a NaN's bits.
//!
//! Per activation that is `vcvttps2dq`, `vpaddd` and `vaddps` replaced by one FMA: one µop
//! more on the FMA pipes, two fewer elsewhere. A loop of independent AVX2 sigmoids (C, four
//! chains stage by stage, as `sigmoid_batch_n` writes them; not kept) took 6.64 cycles per
//! vector against 7.00 with the convert (one chain at a time: 7.3 against 8.0). In the kernels,
//! alternating builds (cycles per sequence-step at 3.69 GHz): AVX2 notebook LSTM 67.1–67.6 →
//! 65.9–67.2, SimpleRNN 15.6–15.7 → 15.4–15.8 (`examples/batch_throughput`); AVX2 general
//! shapes (`examples/net_fma_share`) LSTM(17) 399–402 → 377, LSTM(32) 569–570 → 556, GRU(32)
//! 450–451 → 406, GRU(64) 1225–1231 → 1207, SimpleRNN(64) 374–375 → 358, the other rows −3 to
//! +1 %. AVX-512 keeps `vscalefps` and the add (`Isa::EXP_BY_SHIFT`): on Zen 4, whose zmm
//! FMAs bound its batch, the shift measured slower (notebook LSTM 58.1 → 59.0–59.4, LSTM(32)
//! 445–450 → 450–452, LSTM(17) 356 → 362). Not measured on Zen 3 or Zen 5.
//!
//! # Error budget
//!
//! [`ACTIVATION_ABS_TOL`] (1e-6 absolute against f64) is the contract. Measured worst cases over
//! every f32 bit pattern (the `#[ignore]`d exhaustive test in `tests/kernels.rs`) are written
//! next to the constants [`SIGMOID_MEASURED_MAX_ABS_ERR`] and [`TANH_MEASURED_MAX_ABS_ERR`].
//!
//! What the budget costs downstream: the LSTM multiplies its cell state by the forget gate
//! every step, so an error ε in `f` moves `c` by |c|·ε, and in a model with saturated gates
//! (weights ±3 in `tests/kernels.rs`: |c| grows to ~40 over 100 steps) the piecewise forms'
//! 2.7e-7 / 4.0e-7 became up to 8.1e-5 in the final `h` against the reference, where the `exp`
//! forms (about 1.5 ulp) gave up to 1.4e-5 (120,000 random sequences, Intel Xeon with AVX-512,
//! 2026-12-02). With weights ±0.5 every form stayed within 2.8e-7; the Keras parity fixtures
//! are within 1e-5 on every kernel. The latency step trades that tail for its shorter chain;
//! the batch kernels (`Kernel::lstm_forward`), whose activations are the `exp` forms, keep the
//! tighter agreement on a saturating model.

use super::isa::Isa;
use super::tanh_piecewise_table::TANH_PIECEWISE;

/// The contract: |approx(x) − f64 exact(x)| ≤ 1e-6 for every f32 `x` (NaN → NaN).
pub const ACTIVATION_ABS_TOL: f64 = 1e-6;
/// Worst absolute error of the sigmoid approximations over all 2^32 f32 inputs, measured by the
/// exhaustive test (AVX2+FMA and portable kernels, Horner and Estrin orders, the latency form,
/// the scalar version): 9.2e-8, about 1.5 ulp at 0.5. Margin to the contract: 10×. (With the
/// latency forms added the worst cases over all 2^32 inputs stayed 9.21e-8 and 1.84e-7.) The
/// piecewise sigmoid of the LSTM step kernel (`SigmoidPiecewise`, issue 16 item 2: half the
/// piecewise tanh's error at `x/2` plus two roundings near 1/2) measured 2.71e-7 over all 2^32
/// inputs on the portable, AVX2+FMA and AVX-512 kernels of an AMD EPYC Zen 5 (family 26
/// model 2), `FUSEDRNN_ACTIVATION_PAIR=5`: the worst sigmoid form now, margin 3.7×.
pub const SIGMOID_MEASURED_MAX_ABS_ERR: f64 = 2.71e-7;
/// Worst absolute error of the tanh approximations over all 2^32 f32 inputs (same
/// measurement, every form of [`Activation::ALL`] on every vector kernel of the development
/// machine, portable, AVX2+FMA and AVX-512): 4.01e-7, the piecewise tanh of the step kernels (`TanhPiecewise`, issue 16;
/// its fit error alone is 2.5e-7 on `[4, 8)`, see `tanh_piecewise_table.rs`). Margin to the
/// contract: 2.5×. The `exp` forms' worst case is 1.84e-7, about 1.5 ulp at 1 (the
/// `1 − 2/(1 + e)` form is absolute-accurate, not relative-accurate, near 0); the sigmoid's
/// stayed 9.21e-8 with the piecewise and batch forms added. The paired batch tanh of the
/// SimpleRNN batch kernels (`TanhBatchPaired`, each input its own partner; Golden Cove Xeon,
/// family 6 model 167, `FUSEDRNN_ACTIVATION_PAIR=6`): 3.43e-7 (the portable kernel, whose SSE
/// build has no FMA; AVX2+FMA and AVX-512 3.13e-7, at `x ≈ −2.36`).
pub const TANH_MEASURED_MAX_ABS_ERR: f64 = 4.02e-7;

/// Clamp of the `exp` argument: `exp(±87)` is a normal f32 (`2^n` for `|n| ≤ 126` below is too).
const EXP_ARG_MAX: f32 = 87.0;
const LOG2_E: f32 = std::f32::consts::LOG2_E;
const LN2: f32 = std::f32::consts::LN_2;
/// `1.5 · 2^23`: adding it rounds a float with |v| < 2^22 to the nearest integer, and leaves that
/// integer in the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;
/// `ROUND_MAGIC + 128`, for the forms that only need `1 + exp` (see "The exponent by a shift"
/// in the module docs): the rounded sum's low mantissa bits are `n + 128`, so its bits shifted
/// left by 23 are the float `2^(n + 1)` ([`Isa::pow2_from_shifted`]). Even, as `ROUND_MAGIC`
/// is, so a tie rounds to the same `n`.
const ROUND_MAGIC_POW2: f32 = ROUND_MAGIC + 128.0;

/// `exp(r) ≈ 1 + r·(1 + r·(P2 + r·(P3 + r·(P4 + r·(P5 + r·P6)))))` on `|r| ≤ ln2/2`: a
/// Chebyshev (near-minimax) fit of `(exp(r) − 1)/r` of degree 5, made with mpmath
/// (`chebyfit(lambda r: (exp(r)-1)/r, [-log(2)/2, log(2)/2], 6)`, 30 digits), rounded to f32.
/// The constant and linear coefficients are exactly 1 (the fit's linear one rounds to 1), so
/// `exp(0) = 1` exactly. Worst relative error of the f32-coefficient polynomial, evaluated in
/// 30-digit arithmetic at 4001 points: 1.1e-8, well below f32 rounding. (Degree 5 would save an
/// FMA — 7 % on the LSTM batch — but its 2.1e-7 doubled the kernels' worst error against the
/// reference on large-weight LSTMs, past 1e-5.)
const P2: f32 = 0.5;
const P3: f32 = 0.166_665_05;
const P4: f32 = 0.041_666_467;
const P5: f32 = 0.008_369_149;
const P6: f32 = 0.001_393_364_2;

/// `exp(K·x)` for `x` already clamped to `|K·x| ≤ 87` (or NaN), in lanes; Estrin's scheme if
/// `SHORT_CHAIN`, else Horner's.
#[inline(always)]
fn exp_scaled<I: Isa, const K: i32, const SHORT_CHAIN: bool>(isa: I, x: I::V) -> I::V {
    let (_, n, r) = reduce::<I, K>(isa, x, ROUND_MAGIC);
    let p = if SHORT_CHAIN {
        // (1 + r) + r²·(P2 + P3·r) + r⁴·(P4 + P5·r + P6·r²)
        let r2 = isa.mul(r, r);
        let r4 = isa.mul(r2, r2);
        let a = isa.mul_add(r, isa.splat(P3), isa.splat(P2));
        let b = isa.mul_add(r, isa.splat(P5), isa.splat(P4));
        let b = isa.mul_add(r2, isa.splat(P6), b);
        let p = isa.mul_add(r2, a, isa.add(r, isa.splat(1.0)));
        isa.mul_add(r4, b, p)
    } else {
        horner(isa, r, 1.0)
    };
    // p · 2^n by adding n to the exponent field: p ∈ [0.7, 1.42] has biased exponent 126 or
    // 127 and |n| ≤ 126, so the field stays in [0, 253] (0 only for results below 2^-126, where
    // the absolute error is nil). A convert and an integer add instead of a multiply on the FMA
    // ports; the convert (not the bits of `shifted`) keeps a NaN's payload out of the exponent.
    isa.scale_pow2(p, n)
}

/// The range reduction of `exp(K·x)` with the rounding constant `magic` ([`ROUND_MAGIC`] or
/// [`ROUND_MAGIC_POW2`]): the rounded sum `shifted` (`n` in its low mantissa bits), `n` as a
/// float, and `r = K·x − n·ln2`.
#[inline(always)]
fn reduce<I: Isa, const K: i32>(isa: I, x: I::V, magic: f32) -> (I::V, I::V, I::V) {
    let k = K as f32;
    let shifted = isa.mul_add(x, isa.splat(k * LOG2_E), isa.splat(magic));
    let n = isa.sub(shifted, isa.splat(magic));
    // k·x on the add ports (the FMA ports are the bottleneck of the batch kernels).
    let kx = match K {
        -1 => isa.sub(isa.splat(0.0), x),
        2 => isa.add(x, x),
        _ => isa.mul(x, isa.splat(k)),
    };
    (shifted, n, isa.neg_mul_add(n, isa.splat(LN2), kx))
}

/// The degree-6 polynomial of `exp(r)` in Horner's order, its coefficients times `m` (a power
/// of two: every intermediate is exactly `m` times the unscaled one).
#[inline(always)]
fn horner<I: Isa>(isa: I, r: I::V, m: f32) -> I::V {
    let p = isa.mul_add(r, isa.splat(m * P6), isa.splat(m * P5));
    let p = isa.mul_add(r, p, isa.splat(m * P4));
    let p = isa.mul_add(r, p, isa.splat(m * P3));
    let p = isa.mul_add(r, p, isa.splat(m * P2));
    let p = isa.mul_add(r, p, isa.splat(m));
    isa.mul_add(r, p, isa.splat(m))
}

/// The factor of the polynomial's coefficients in the forms that end in [`one_plus_scaled`]:
/// ½ where the ISA builds `2^(n + 1)` by a shift ([`Isa::EXP_BY_SHIFT`]), else 1. A power of
/// two, so every intermediate is exactly that multiple of the unscaled one.
#[inline(always)]
fn poly_scale<I: Isa>() -> f32 {
    if I::EXP_BY_SHIFT { 0.5 } else { 1.0 }
}

/// `1 + p·2^n`, `p` a polynomial scaled by [`poly_scale`], `n` the rounded integer and `shifted`
/// the rounded sum of [`ROUND_MAGIC_POW2`] it came from ("The exponent by a shift" in the module
/// docs): with [`Isa::EXP_BY_SHIFT`], `(p/2)·2^(n + 1) + 1` in one FMA, no convert; else the
/// exponent add and an add. `p·2^n` is exact, so both are `1 + exp` rounded once, the same bits;
/// a NaN `p` stays NaN.
#[inline(always)]
fn one_plus_scaled<I: Isa>(isa: I, p: I::V, n: I::V, shifted: I::V) -> I::V {
    if I::EXP_BY_SHIFT {
        isa.mul_add(p, isa.pow2_from_shifted(shifted), isa.splat(1.0))
    } else {
        isa.add(isa.splat(1.0), isa.scale_pow2(p, n))
    }
}

/// `1 + exp(K·x)` for `x` already clamped to `|K·x| ≤ 87` (or NaN), Horner's order: the value
/// of `1 + exp_scaled::<K, false>`, bit for bit, with the polynomial's coefficients halved and
/// the exponent by [`one_plus_scaled`].
#[inline(always)]
fn one_plus_exp_horner<I: Isa, const K: i32>(isa: I, x: I::V) -> I::V {
    let (shifted, n, r) = reduce::<I, K>(isa, x, ROUND_MAGIC_POW2);
    one_plus_scaled(isa, horner(isa, r, poly_scale::<I>()), n, shifted)
}

/// `1 + exp(K·x)`, Estrin's order if `SHORT_CHAIN`, else Horner's.
#[inline(always)]
fn one_plus_exp<I: Isa, const K: i32, const SHORT_CHAIN: bool>(isa: I, x: I::V) -> I::V {
    if SHORT_CHAIN {
        isa.add(isa.splat(1.0), exp_scaled::<I, K, true>(isa, x))
    } else {
        one_plus_exp_horner::<I, K>(isa, x)
    }
}

/// Logistic sigmoid `1 / (1 + exp(-x))`, in lanes (see the module docs for `SHORT_CHAIN`).
#[inline(always)]
pub(crate) fn sigmoid_with<I: Isa, const SHORT_CHAIN: bool>(isa: I, x: I::V) -> I::V {
    let x = isa.clamp_keep_nan(x, -EXP_ARG_MAX, EXP_ARG_MAX);
    isa.div(isa.splat(1.0), one_plus_exp::<I, -1, SHORT_CHAIN>(isa, x))
}

/// Hyperbolic tangent `1 - 2 / (1 + exp(2x))`, in lanes (see the module docs for `SHORT_CHAIN`).
#[inline(always)]
pub(crate) fn tanh_with<I: Isa, const SHORT_CHAIN: bool>(isa: I, x: I::V) -> I::V {
    let x = isa.clamp_keep_nan(x, -EXP_ARG_MAX / 2.0, EXP_ARG_MAX / 2.0);
    let d = one_plus_exp::<I, 2, SHORT_CHAIN>(isa, x);
    let one = isa.splat(1.0);
    isa.sub(one, isa.div(isa.splat(2.0), d))
}

/// Sigmoid for the throughput kernels (Horner).
#[inline(always)]
pub(crate) fn sigmoid<I: Isa>(isa: I, x: I::V) -> I::V {
    sigmoid_with::<I, false>(isa, x)
}

/// Tanh for the throughput kernels (Horner).
#[inline(always)]
pub(crate) fn tanh<I: Isa>(isa: I, x: I::V) -> I::V {
    tanh_with::<I, false>(isa, x)
}

/// Sigmoid for the latency kernels (Estrin).
#[inline(always)]
pub(crate) fn sigmoid_short_chain<I: Isa>(isa: I, x: I::V) -> I::V {
    sigmoid_with::<I, true>(isa, x)
}

/// Tanh for the latency kernels (Estrin).
#[inline(always)]
pub(crate) fn tanh_short_chain<I: Isa>(isa: I, x: I::V) -> I::V {
    tanh_with::<I, true>(isa, x)
}

/// Sigmoid for the latency kernels: the short-chain `exp`, and the saturation beside the chain
/// instead of on it (see "Latency forms" in the module docs). Equal to
/// [`sigmoid_short_chain`] wherever `|x| ≤ 87`; 1 above, 0 below.
#[inline(always)]
pub(crate) fn sigmoid_latency<I: Isa>(isa: I, x: I::V) -> I::V {
    let one = isa.splat(1.0);
    let e = exp_scaled::<I, -1, true>(isa, x);
    let s = isa.div(one, isa.add(one, e));
    let half = isa.splat(0.5);
    let saturated = isa.add(half, isa.xor_sign(half, x));
    isa.select_abs_gt(x, EXP_ARG_MAX, saturated, s)
}

/// `m · tanh(x)` for the latency kernels, as `(m·e − m) / (e + 1)` with `e = exp(2x)` (short
/// chain): the multiply by `m` rides in the numerator's FMA and the `1 − …` of the throughput
/// form disappears; the saturation (`±m` where `|x| > 43.5`) is beside the chain (module docs,
/// "Latency forms"). With `m = 1` it is the step kernels' `tanh`.
#[inline(always)]
pub(crate) fn tanh_times_latency<I: Isa>(isa: I, m: I::V, x: I::V) -> I::V {
    let e = exp_scaled::<I, 2, true>(isa, x);
    let num = isa.mul_add(m, e, isa.sub(isa.splat(0.0), m));
    let t = isa.div(num, isa.add(e, isa.splat(1.0)));
    isa.select_abs_gt(x, EXP_ARG_MAX / 2.0, isa.xor_sign(m, x), t)
}

/// Biased exponent below which `|x|` is in the first interval of the piecewise tanh
/// (`|x| < 2^(125 − 127) = 1/4`: interval `e − 124`, clamped to `[0, 7]`).
pub(crate) const TANH_PIECEWISE_BASE: i32 = 124;

/// [`TANH_PIECEWISE`] with each row rotated so that entry `(k + TANH_PIECEWISE_BASE) mod 8`
/// holds interval `k`'s coefficient: [`Isa::piecewise_interval`]'s index is the clamped
/// exponent itself, whose low 3 bits the lane permute reads (no subtraction on the chain).
const TANH_PIECEWISE_ROTATED: [[f32; 8]; 8] = rotate_rows(&TANH_PIECEWISE, TANH_PIECEWISE_BASE);

/// `out[j][(k + base) mod 8] = t[j][k]`.
const fn rotate_rows(t: &[[f32; 8]; 8], base: i32) -> [[f32; 8]; 8] {
    let mut out = [[0.0; 8]; 8];
    let mut j = 0;
    while j < 8 {
        let mut k = 0;
        while k < 8 {
            out[j][((k as i32 + base) & 7) as usize] = t[j][k];
            k += 1;
        }
        j += 1;
    }
    out
}

/// The two Estrin halves of a degree-7 piecewise polynomial with coefficient rows `c` (rotated
/// like [`TANH_PIECEWISE_ROTATED`]) looked up at interval index `k`: `M0 = (c0 + c1·t) +
/// (c2 + c3·t)·t²` and `M1` likewise from `c4..c7`, so that `P = M0 + t⁴·M1`.
#[inline(always)]
fn piecewise_halves<I: Isa>(isa: I, c: &[[f32; 8]; 8], k: I::V, t: I::V, t2: I::V) -> (I::V, I::V) {
    let l0 = isa.mul_add(t, isa.lookup8(&c[1], k), isa.lookup8(&c[0], k));
    let l1 = isa.mul_add(t, isa.lookup8(&c[3], k), isa.lookup8(&c[2], k));
    let l2 = isa.mul_add(t, isa.lookup8(&c[5], k), isa.lookup8(&c[4], k));
    let l3 = isa.mul_add(t, isa.lookup8(&c[7], k), isa.lookup8(&c[6], k));
    (isa.mul_add(t2, l1, l0), isa.mul_add(t2, l3, l2))
}

/// `m · tanh(x)` (`m ≥ 0` or NaN) without `exp` or division: the piecewise polynomial of the
/// module docs ("Piecewise-polynomial tanh"). With `SCALED = false`, `m` is ignored and the
/// result is `tanh(x)`. The multiply by `m` rides on the last Estrin level
/// (`m·P = (m·t⁴)·M1 + m·M0`), whose `m·M0` is ready before `M1` (its coefficients are looked
/// up first).
#[inline(always)]
fn tanh_piecewise_with<I: Isa, const SCALED: bool>(isa: I, m: I::V, x: I::V) -> I::V {
    let (k, t) = isa.piecewise_interval::<TANH_PIECEWISE_BASE>(x);
    let t2 = isa.mul(t, t);
    let t4 = isa.mul(t2, t2);
    let (m0, m1) = piecewise_halves(isa, &TANH_PIECEWISE_ROTATED, k, t, t2);
    let p = if SCALED {
        isa.mul_add(isa.mul(m, t4), m1, isa.mul(m, m0))
    } else {
        isa.mul_add(t4, m1, m0)
    };
    isa.with_sign_of(p, x)
}

/// `tanh(x)` for the latency kernels, piecewise polynomial (module docs).
#[inline(always)]
pub(crate) fn tanh_piecewise<I: Isa>(isa: I, x: I::V) -> I::V {
    tanh_piecewise_with::<I, false>(isa, x, x)
}

/// `m · tanh(x)` for the latency kernels (`m ≥ 0`: the LSTM's output gate), piecewise
/// polynomial (module docs).
#[inline(always)]
pub(crate) fn tanh_times_piecewise<I: Isa>(isa: I, m: I::V, x: I::V) -> I::V {
    tanh_piecewise_with::<I, true>(isa, m, x)
}

/// Biased exponent below which `|x|` is in the first interval of the piecewise sigmoid
/// (`|x| < 1/2`): one more than the tanh's, since `σ(x) = 1/2 + tanh(x/2)/2` and `x/2` has
/// the exponent of `x` minus one and the same mantissa.
pub(crate) const SIGMOID_PIECEWISE_BASE: i32 = TANH_PIECEWISE_BASE + 1;

/// The piecewise sigmoid's coefficients, derived exactly from the tanh's: `σ(x) − 1/2 =
/// tanh(x/2)/2`, so every coefficient is halved, and on the first interval (argument `|x|`,
/// where the tanh's is `|x|/2`) the coefficient of `t^j` is also scaled by `2^−j`. On the
/// octaves the argument `m − 1.5` is the same for `x` and `x/2`, and the interval index
/// `e − SIGMOID_PIECEWISE_BASE` of `x` is the tanh's index of `x/2`. Powers of two only: every
/// intermediate of the evaluation is exactly a power of two times the tanh's at `x/2`.
/// Rotated by [`SIGMOID_PIECEWISE_BASE`] (see [`TANH_PIECEWISE_ROTATED`]).
const SIGMOID_PIECEWISE_ROTATED: [[f32; 8]; 8] =
    rotate_rows(&sigmoid_from_tanh(&TANH_PIECEWISE), SIGMOID_PIECEWISE_BASE);

/// See [`SIGMOID_PIECEWISE_ROTATED`].
const fn sigmoid_from_tanh(t: &[[f32; 8]; 8]) -> [[f32; 8]; 8] {
    let mut out = [[0.0; 8]; 8];
    let mut j = 0;
    let mut first = 0.5f32;
    while j < 8 {
        let mut k = 0;
        while k < 8 {
            out[j][k] = t[j][k] * if k == 0 { first } else { 0.5 };
            k += 1;
        }
        first *= 0.5;
        j += 1;
    }
    out
}

/// The coefficient rows of [`TANH_PIECEWISE`] and the piecewise sigmoid's side by side in 16
/// entries, for one 16-entry lane permute that evaluates `tanh` in some lanes and `σ` in others
/// (AVX-512's `[g | o]` zmm, `Avx512::tanh_sigmoid_piecewise`). A `tanh` lane's index is its
/// exponent clamped to `[B, B + 7]` (`B` = [`TANH_PIECEWISE_BASE`]), a sigmoid lane's its
/// exponent clamped to `[B + 1, B + 8]` plus 7: the two sets of 8 are disjoint mod 16, and
/// entry `(B + k) mod 16` holds the `tanh`'s interval `k`, entry `(B + 8 + k) mod 16` the
/// sigmoid's.
#[cfg(target_arch = "x86_64")]
pub(crate) const TANH_SIGMOID_PIECEWISE: [[f32; 16]; 8] = {
    let sigmoid = sigmoid_from_tanh(&TANH_PIECEWISE);
    let mut out = [[0.0; 16]; 8];
    let mut j = 0;
    while j < 8 {
        let mut k = 0;
        while k < 8 {
            out[j][(TANH_PIECEWISE_BASE as usize + k) & 15] = TANH_PIECEWISE[j][k];
            out[j][(TANH_PIECEWISE_BASE as usize + 8 + k) & 15] = sigmoid[j][k];
            k += 1;
        }
        j += 1;
    }
    out
};

/// Sigmoid without `exp` or division (issue 16 item 2, the latency kernels' gates): `1/2 +
/// tanh(x/2)/2` on the piecewise tanh's intervals and coefficients
/// ([`SIGMOID_PIECEWISE_ROTATED`]), the sign and the `1/2` folded into the last two FMAs:
/// `s·M0 + 1/2` (ready beside the second half's coefficients) and then `(s·t⁴)·M1 + …`,
/// with `s = ±1` the sign of `x` (NaN where `x` is NaN, so NaN propagates). No saturation
/// step: the last interval (`|x| ≥ 32`) is the constant `1/2`, so the result is exactly 0 or
/// 1 there, infinities included.
#[inline(always)]
pub(crate) fn sigmoid_piecewise<I: Isa>(isa: I, x: I::V) -> I::V {
    let (k, t) = isa.piecewise_interval::<SIGMOID_PIECEWISE_BASE>(x);
    let s = isa.with_sign_of(isa.splat(1.0), x);
    let t2 = isa.mul(t, t);
    let st4 = isa.mul(s, isa.mul(t2, t2));
    let (m0, m1) = piecewise_halves(isa, &SIGMOID_PIECEWISE_ROTATED, k, t, t2);
    isa.mul_add(st4, m1, isa.mul_add(s, m0, isa.splat(0.5)))
}

// ---------------------------------------------------------------------------------------------
// Batch forms (issue 16 item 3: the throughput kernels' activations; module docs, "Batch forms")
// ---------------------------------------------------------------------------------------------

/// `1 + exp(−x)` for `x` clamped to `|x| ≤ 87`, Horner's order, as [`exp_scaled`] with
/// `K = −1` computes `exp`, without the negation: the reduction gives `−r` and Horner runs
/// `c − (−r)·p` (coefficients halved, the exponent by [`one_plus_scaled`]).
#[inline(always)]
fn one_plus_exp_neg_batch<I: Isa>(isa: I, x: I::V) -> I::V {
    let shifted = isa.mul_add(x, isa.splat(-LOG2_E), isa.splat(ROUND_MAGIC_POW2));
    let n = isa.sub(shifted, isa.splat(ROUND_MAGIC_POW2));
    // −r = x + n·ln2 (exactly the negation of `−x − n·ln2`).
    let nr = isa.mul_add(n, isa.splat(LN2), x);
    let m = poly_scale::<I>();
    let p = isa.neg_mul_add(nr, isa.splat(m * P6), isa.splat(m * P5));
    let p = isa.neg_mul_add(nr, p, isa.splat(m * P4));
    let p = isa.neg_mul_add(nr, p, isa.splat(m * P3));
    let p = isa.neg_mul_add(nr, p, isa.splat(m * P2));
    let p = isa.neg_mul_add(nr, p, isa.splat(m));
    let p = isa.neg_mul_add(nr, p, isa.splat(m));
    one_plus_scaled(isa, p, n, shifted)
}

/// Clamp of the arguments of the paired `tanh` ([`tanh_from_p_pair`]): `tanh(20)` is `1 −
/// 8.5e-18`, which rounds to 1 in f32, so the clamp changes no result, and `P = 1 + e^(2x)` stays
/// below `2.4e17`, so the product of a pair's two stays below `5.6e34`, finite.
pub(crate) const TANH_PAIR_LIMIT: f32 = 20.0;

/// `(tanh a, tanh b)` from `P_a = 1 + e^(2a)` and `P_b` (their arguments clamped to
/// ±[`TANH_PAIR_LIMIT`]) with one division for the two (issue 16 item 3, "Two `tanh`, one
/// division" in `simd.rs`): `q = 1/(P_a·P_b)`, then `1/P_a = P_b·q` and `tanh a = 1 − 2/P_a`
/// by one FMA, and `b` alike. As many µops as two divisions and their FMAs on Intel's cores (a
/// zmm `vdivps` is three), half the divider. `1/P_a` is rounded twice (the product, the
/// division) instead of once, and the worst case is where `P_a·P_b` lies just above 1, where a
/// rounding's relative error is largest: both units near −1. Over every f32, each input its own
/// partner, the worst error is 3.13e-7 (AVX2 and AVX-512; 3.43e-7 on the portable kernel
/// without FMA), where one `tanh` at a time ([`tanh_batch`]) is within 1.84e-7: 2.9× inside
/// the contract. The same operations on every ISA, so the same bits; a NaN in either lane of a
/// pair makes both NaN.
#[inline(always)]
pub(crate) fn tanh_from_p_pair<I: Isa>(isa: I, pa: I::V, pb: I::V) -> (I::V, I::V) {
    let one = isa.splat(1.0);
    let q = isa.recip(isa.mul(pa, pb));
    // 1 − (2·P_b)·q in one rounding (2·P_b is exact, and off the division's chain).
    (
        isa.neg_mul_add(isa.add(pb, pb), q, one),
        isa.neg_mul_add(isa.add(pa, pa), q, one),
    )
}

/// [`tanh_from_p_pair`] with `x` its own partner (the first of the two results), for the
/// activation tests ([`Activation::TanhBatchPaired`]): a pair's three roundings, one vector.
#[inline(always)]
fn tanh_paired_with_itself<I: Isa>(isa: I, x: I::V) -> I::V {
    let mut p = [x];
    one_plus_exp2_n(isa, &mut p, TANH_PAIR_LIMIT);
    tanh_from_p_pair(isa, p[0], p[0]).0
}

/// `tanh` of `N` vectors (`N` even) in pairs, `x[2k]` with `x[2k + 1]`, one division a pair
/// ([`tanh_from_p_pair`]); the `1 + e^(2x)` stage by stage across all `N` as in
/// [`one_plus_exp2_n`]. The SimpleRNN batch kernels' `tanh`.
#[inline(always)]
pub(crate) fn tanh_batch_pairs_n<I: Isa, const N: usize>(isa: I, x: &mut [I::V; N]) {
    const { assert!(N.is_multiple_of(2), "tanh_batch_pairs_n takes pairs") };
    one_plus_exp2_n(isa, x, TANH_PAIR_LIMIT);
    for k in 0..N / 2 {
        (x[2 * k], x[2 * k + 1]) = tanh_from_p_pair(isa, x[2 * k], x[2 * k + 1]);
    }
}

/// Sigmoid for the batch kernels: [`sigmoid`]'s value, one µop fewer, `1/(1 + e)` by
/// `Isa::recip` (see "Batch forms" in the module docs).
#[inline(always)]
pub(crate) fn sigmoid_batch<I: Isa>(isa: I, x: I::V) -> I::V {
    let x = isa.clamp_keep_nan(x, -EXP_ARG_MAX, EXP_ARG_MAX);
    isa.recip(one_plus_exp_neg_batch(isa, x))
}

/// Tanh for the batch kernels: [`tanh`]'s value, one µop fewer, `1 − 2·(1/(1 + e))` with the
/// reciprocal by `Isa::recip` (`2·(1/d)` is `2/d` exactly when `recip` divides). The `exp(2x)`
/// inside, for `x` clamped to `|x| ≤ 43.5`, is Horner's order as [`exp_scaled`] with `K = 2`
/// computes it, without the doubling: the reduction gives `s = r/2` and Horner runs on `s` with
/// the coefficients times `2^(k − 1)`, so the `k`-th intermediate is exactly `2^(k − 1)` times
/// the original (the exponent by [`one_plus_scaled`]).
#[inline(always)]
pub(crate) fn tanh_batch<I: Isa>(isa: I, x: I::V) -> I::V {
    let x = isa.clamp_keep_nan(x, -EXP_ARG_MAX / 2.0, EXP_ARG_MAX / 2.0);
    let shifted = isa.mul_add(x, isa.splat(2.0 * LOG2_E), isa.splat(ROUND_MAGIC_POW2));
    let n = isa.sub(shifted, isa.splat(ROUND_MAGIC_POW2));
    let s = isa.neg_mul_add(n, isa.splat(LN2 / 2.0), x);
    let m = poly_scale::<I>();
    let p = isa.mul_add(s, isa.splat(m * 64.0 * P6), isa.splat(m * 32.0 * P5));
    let p = isa.mul_add(s, p, isa.splat(m * 16.0 * P4));
    let p = isa.mul_add(s, p, isa.splat(m * 8.0 * P3));
    let p = isa.mul_add(s, p, isa.splat(m * 4.0 * P2));
    let p = isa.mul_add(s, p, isa.splat(m * 2.0));
    let p = isa.mul_add(s, p, isa.splat(m));
    let one_plus_e = one_plus_scaled(isa, p, n, shifted);
    isa.neg_mul_add(isa.splat(2.0), isa.recip(one_plus_e), isa.splat(1.0))
}

/// `1 + exp(−x)` of `N` vectors, `x` first clamped to `±limit` (`limit ≤ 87`), written stage by
/// stage across them: `N` independent chains side by side in program order, so the scheduler
/// holds µops that are ready together instead of one activation's 20-deep chain (issue 16 item
/// 3; the account is in `simd.rs`). Every lane's value is [`one_plus_exp_neg_batch`]'s of the
/// clamped `x`, bit for bit.
#[inline(always)]
pub(crate) fn one_plus_exp_neg_n<I: Isa, const N: usize>(isa: I, x: &mut [I::V; N], limit: f32) {
    let mut shifted = *x;
    let mut n = *x;
    let mut nr = *x;
    for xk in x.iter_mut() {
        *xk = isa.clamp_keep_nan(*xk, -limit, limit);
    }
    for k in 0..N {
        shifted[k] = isa.mul_add(x[k], isa.splat(-LOG2_E), isa.splat(ROUND_MAGIC_POW2));
        n[k] = isa.sub(shifted[k], isa.splat(ROUND_MAGIC_POW2));
    }
    for k in 0..N {
        nr[k] = isa.mul_add(n[k], isa.splat(LN2), x[k]);
    }
    let m = poly_scale::<I>();
    for k in 0..N {
        x[k] = isa.neg_mul_add(nr[k], isa.splat(m * P6), isa.splat(m * P5));
    }
    for c in [P4, P3, P2, 1.0, 1.0] {
        for k in 0..N {
            x[k] = isa.neg_mul_add(nr[k], x[k], isa.splat(m * c));
        }
    }
    for k in 0..N {
        x[k] = one_plus_scaled(isa, x[k], n[k], shifted[k]);
    }
}

/// `1 + exp(2x)` of `N` vectors, `x` first clamped to `±limit` (`limit ≤ 43.5`), stage by stage
/// across them (see [`one_plus_exp_neg_n`]): every lane's value is the `1 + e` of
/// [`tanh_batch`] for the clamped `x`, bit for bit.
#[inline(always)]
pub(crate) fn one_plus_exp2_n<I: Isa, const N: usize>(isa: I, x: &mut [I::V; N], limit: f32) {
    let mut shifted = *x;
    let mut n = *x;
    let mut s = *x;
    for xk in x.iter_mut() {
        *xk = isa.clamp_keep_nan(*xk, -limit, limit);
    }
    for k in 0..N {
        shifted[k] = isa.mul_add(x[k], isa.splat(2.0 * LOG2_E), isa.splat(ROUND_MAGIC_POW2));
        n[k] = isa.sub(shifted[k], isa.splat(ROUND_MAGIC_POW2));
    }
    for k in 0..N {
        s[k] = isa.neg_mul_add(n[k], isa.splat(LN2 / 2.0), x[k]);
    }
    let m = poly_scale::<I>();
    for k in 0..N {
        x[k] = isa.mul_add(s[k], isa.splat(m * 64.0 * P6), isa.splat(m * 32.0 * P5));
    }
    for c in [16.0 * P4, 8.0 * P3, 4.0 * P2, 2.0, 1.0] {
        for k in 0..N {
            x[k] = isa.mul_add(s[k], x[k], isa.splat(m * c));
        }
    }
    for k in 0..N {
        x[k] = one_plus_scaled(isa, x[k], n[k], shifted[k]);
    }
}

/// [`sigmoid_batch`] of `N` vectors, stage by stage across them (every lane's value is
/// [`sigmoid_batch`]'s, bit for bit; see [`one_plus_exp_neg_n`]).
#[inline(always)]
pub(crate) fn sigmoid_batch_n<I: Isa, const N: usize>(isa: I, x: &mut [I::V; N]) {
    one_plus_exp_neg_n(isa, x, EXP_ARG_MAX);
    for xk in x.iter_mut() {
        *xk = isa.recip(*xk);
    }
}

/// [`tanh_batch`] of `N` vectors, stage by stage across them (bit for bit [`tanh_batch`]'s
/// values; see [`one_plus_exp_neg_n`]).
#[inline(always)]
pub(crate) fn tanh_batch_n<I: Isa, const N: usize>(isa: I, x: &mut [I::V; N]) {
    one_plus_exp2_n(isa, x, EXP_ARG_MAX / 2.0);
    let one = isa.splat(1.0);
    for xk in x.iter_mut() {
        *xk = isa.neg_mul_add(isa.splat(2.0), isa.recip(*xk), one);
    }
}

/// Clamp of the sigmoid arguments in the fused LSTM cell ([`lstm_cell_c_batch_n`]): `σ(−30)`
/// is 9.4e-14, and `σ(30)` rounds to 1 in f32, so the clamp moves no result by more than
/// 1e-13.
const CELL_SIGMOID_LIMIT: f32 = 30.0;

/// Clamp of the tanh arguments in the fused LSTM cell: `tanh(9)` is `1 − 3.0e-8`, so the clamp
/// moves no result by more than 3.1e-8.
const CELL_TANH_LIMIT: f32 = 9.0;

/// The cell update of the LSTM batch kernels for `N` vectors of units, from the gates'
/// pre-activations (issue 16 item 3, "The fused cell" in `simd.rs`): `c ← σ(i)·tanh(g) +
/// σ(f)·c` with one division where the activations one at a time take three. With `D(x) = 1 +
/// e^(−x)` (`σ = 1/D`) and `P(x) = 1 + e^(2x)` (`tanh = (P − 2)/P`):
///
/// ```text
///   c' = ((P_g − 2)·D_f + c·(P_g·D_i)) / ((P_g·D_i)·D_f)
/// ```
///
/// The arguments are clamped to ±[`CELL_SIGMOID_LIMIT`] and ±[`CELL_TANH_LIMIT`], so the
/// denominator stays below `e^78` (finite) whatever the inputs, and the numerator is finite for
/// `|c| < 4e17` (an LSTM that starts from zero adds less than 1 to `|c|` a step); NaN
/// propagates. The same operations on every ISA, so the same bits.
#[inline(always)]
pub(crate) fn lstm_cell_c_batch_n<I: Isa, const N: usize>(
    isa: I,
    i: [I::V; N],
    f: [I::V; N],
    g: [I::V; N],
    c: &mut [I::V; N],
) {
    let (mut di, mut df, mut pg) = (i, f, g);
    one_plus_exp_neg_n(isa, &mut di, CELL_SIGMOID_LIMIT);
    one_plus_exp_neg_n(isa, &mut df, CELL_SIGMOID_LIMIT);
    one_plus_exp2_n(isa, &mut pg, CELL_TANH_LIMIT);
    let two = isa.splat(2.0);
    for k in 0..N {
        let pd = isa.mul(pg[k], di[k]);
        let num = isa.mul_add(c[k], pd, isa.mul(isa.sub(pg[k], two), df[k]));
        c[k] = isa.div(num, isa.mul(pd, df[k]));
    }
}

/// The LSTM batch kernels' new `h = σ(o)·tanh(c)` for `N` vectors of units, from the output
/// gate's pre-activation `o` and the updated cell `c`, with one division (see
/// [`lstm_cell_c_batch_n`]): `h = (P_c − 2) / (P_c·D_o)`, the arguments clamped alike.
#[inline(always)]
pub(crate) fn lstm_cell_h_batch_n<I: Isa, const N: usize>(
    isa: I,
    o: [I::V; N],
    c: [I::V; N],
) -> [I::V; N] {
    lstm_cell_h_from_d_batch_n(isa, lstm_cell_d_batch_n(isa, o), c)
}

/// `D_o = 1 + e^(−o)` of the fused cell's output gate, `o` clamped as there: for a caller that
/// computes it before `c'` is known ([`lstm_cell_h_from_d_batch_n`] finishes `h`).
#[inline(always)]
pub(crate) fn lstm_cell_d_batch_n<I: Isa, const N: usize>(isa: I, o: [I::V; N]) -> [I::V; N] {
    let mut d = o;
    one_plus_exp_neg_n(isa, &mut d, CELL_SIGMOID_LIMIT);
    d
}

/// The fused cell's `h = (P_c − 2) / (P_c·D_o)` from `D_o` ([`lstm_cell_d_batch_n`]) and the
/// updated cell `c`: the bits of [`lstm_cell_h_batch_n`].
#[inline(always)]
pub(crate) fn lstm_cell_h_from_d_batch_n<I: Isa, const N: usize>(
    isa: I,
    d: [I::V; N],
    c: [I::V; N],
) -> [I::V; N] {
    let mut p = c;
    one_plus_exp2_n(isa, &mut p, CELL_TANH_LIMIT);
    let two = isa.splat(2.0);
    let mut h = p;
    for k in 0..N {
        h[k] = isa.div(isa.sub(p[k], two), isa.mul(p[k], d[k]));
    }
    h
}

/// Which activation, and which evaluation order of its polynomial (all meet the same error
/// contract; the kernels use the throughput form in batches and the latency form in steps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// Sigmoid, Horner's scheme.
    Sigmoid,
    /// Tanh, Horner's scheme.
    Tanh,
    /// Sigmoid, Estrin's scheme.
    SigmoidShortChain,
    /// Tanh, Estrin's scheme.
    TanhShortChain,
    /// Sigmoid, Estrin's scheme, saturation beside the chain (the step kernels' form).
    SigmoidLatency,
    /// Tanh as `(e − 1)/(e + 1)`, Estrin's scheme, saturation beside the chain (the step
    /// kernels' form, with the multiplier 1).
    TanhLatency,
    /// Tanh as a piecewise polynomial selected by the exponent of `|x|` (the step kernels'
    /// form since issue 16; no `exp`, no division).
    TanhPiecewise,
    /// Sigmoid, the batch form (Horner, `Isa::recip`: the batch kernels' form).
    SigmoidBatch,
    /// Tanh, the batch form (Horner, `Isa::recip`).
    TanhBatch,
    /// Sigmoid as `1/2 + tanh(x/2)/2` on the piecewise tanh's intervals (the LSTM step
    /// kernel's gates since issue 16 item 2; no `exp`, no division).
    SigmoidPiecewise,
    /// Tanh, the paired batch form of the SimpleRNN batch kernels (two `tanh` with one
    /// division), each input its own partner.
    TanhBatchPaired,
}

impl Activation {
    pub const ALL: [Activation; 11] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::SigmoidShortChain,
        Activation::TanhShortChain,
        Activation::SigmoidLatency,
        Activation::TanhLatency,
        Activation::TanhPiecewise,
        Activation::SigmoidBatch,
        Activation::TanhBatch,
        Activation::SigmoidPiecewise,
        Activation::TanhBatchPaired,
    ];

    /// Sigmoid (false) or tanh (true).
    pub fn is_tanh(self) -> bool {
        matches!(
            self,
            Activation::Tanh
                | Activation::TanhShortChain
                | Activation::TanhLatency
                | Activation::TanhPiecewise
                | Activation::TanhBatch
                | Activation::TanhBatchPaired
        )
    }
}

/// Activation number `ACT` (the order of [`Activation::ALL`]) of one vector.
#[inline(always)]
fn apply<I: Isa, const ACT: u8>(isa: I, v: I::V) -> I::V {
    match ACT {
        0 => sigmoid(isa, v),
        1 => tanh(isa, v),
        2 => sigmoid_short_chain(isa, v),
        3 => tanh_short_chain(isa, v),
        4 => sigmoid_latency(isa, v),
        5 => tanh_times_latency(isa, isa.splat(1.0), v),
        6 => tanh_piecewise(isa, v),
        7 => sigmoid_batch(isa, v),
        8 => tanh_batch(isa, v),
        9 => sigmoid_piecewise(isa, v),
        _ => tanh_paired_with_itself(isa, v),
    }
}

/// Activation `ACT` over `xs`, `LANES` at a time, the tail through a partial (masked) load and
/// store. The activation is a const parameter, not a closure: a closure is a function of its
/// own that LLVM declines to inline into a `#[target_feature]` caller, leaving every intrinsic a
/// call.
#[inline(always)]
fn map_in_place<I: Isa, const ACT: u8>(isa: I, xs: &mut [f32]) {
    let mut chunks = xs.chunks_exact_mut(I::LANES);
    for c in &mut chunks {
        let mut block = I::Lanes::default();
        block.as_mut().copy_from_slice(c);
        c.copy_from_slice(isa.store(apply::<I, ACT>(isa, isa.load(&block))).as_ref());
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        let v = apply::<I, ACT>(isa, isa.load_partial(tail));
        isa.store_partial(v, tail);
    }
}

/// An activation over a slice, in place (the vector body of
/// [`super::Kernel::activation_in_place`]).
#[inline(always)]
pub(crate) fn activation_in_place<I: Isa>(isa: I, act: Activation, xs: &mut [f32]) {
    match act {
        Activation::Sigmoid => map_in_place::<I, 0>(isa, xs),
        Activation::Tanh => map_in_place::<I, 1>(isa, xs),
        Activation::SigmoidShortChain => map_in_place::<I, 2>(isa, xs),
        Activation::TanhShortChain => map_in_place::<I, 3>(isa, xs),
        Activation::SigmoidLatency => map_in_place::<I, 4>(isa, xs),
        Activation::TanhLatency => map_in_place::<I, 5>(isa, xs),
        Activation::TanhPiecewise => map_in_place::<I, 6>(isa, xs),
        Activation::SigmoidBatch => map_in_place::<I, 7>(isa, xs),
        Activation::TanhBatch => map_in_place::<I, 8>(isa, xs),
        Activation::SigmoidPiecewise => map_in_place::<I, 9>(isa, xs),
        Activation::TanhBatchPaired => map_in_place::<I, 10>(isa, xs),
    }
}

/// Scalar `exp(k·x)`, `|k·x| ≤ 87`: the same arithmetic as the vector Horner version, written
/// out (no FMA: `a * b + c`, as the portable path computes it).
fn exp_scaled_f32(x: f32, k: f32) -> f32 {
    let shifted = x * (k * LOG2_E) + ROUND_MAGIC;
    let n = shifted - ROUND_MAGIC;
    let r = x * k - n * LN2;
    let p = r * P6 + P5;
    let p = r * p + P4;
    let p = r * p + P3;
    let p = r * p + P2;
    let p = r * p + 1.0;
    let p = r * p + 1.0;
    // `as i32` saturates and maps NaN to 0, so a NaN `p` stays NaN.
    f32::from_bits(p.to_bits().wrapping_add(((n as i32) << 23) as u32))
}

/// Clamp written so that NaN passes (comparisons with NaN are false).
fn clamp_keep_nan_f32(x: f32, lo: f32, hi: f32) -> f32 {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}

/// Scalar logistic sigmoid, the same approximation as the vector kernels.
pub fn sigmoid_f32(x: f32) -> f32 {
    let x = clamp_keep_nan_f32(x, -EXP_ARG_MAX, EXP_ARG_MAX);
    1.0 / (1.0 + exp_scaled_f32(x, -1.0))
}

/// Scalar tanh, the same approximation as the vector kernels.
pub fn tanh_f32(x: f32) -> f32 {
    let x = clamp_keep_nan_f32(x, -EXP_ARG_MAX / 2.0, EXP_ARG_MAX / 2.0);
    1.0 - 2.0 / (1.0 + exp_scaled_f32(x, 2.0))
}

#[cfg(test)]
mod tests {
    use super::super::Kernel;
    use super::super::isa::{Isa, Op};
    use super::*;

    /// `tanh_batch` (one vector's chain) against `tanh_batch_n`, the stage-by-stage form
    /// written separately, on `xs` in vectors: the inputs where their bits differ (both NaN
    /// counts as equal).
    struct OneAgainstN<'a> {
        xs: &'a [f32],
    }

    /// The inputs where two forms differ, each with the name of the form that differs.
    type Differ = Vec<(&'static str, f32)>;

    /// Adds to `differ` the lanes of `chunk` where `want` and `got` differ in their bits (both
    /// NaN counts as equal).
    #[inline(always)]
    fn push_differing<I: Isa>(
        isa: I,
        name: &'static str,
        chunk: &[f32],
        (want, got): (I::V, I::V),
        differ: &mut Differ,
    ) {
        let (want, got) = (isa.store(want), isa.store(got));
        for ((&x, w), g) in chunk.iter().zip(want.as_ref()).zip(got.as_ref()) {
            if w.to_bits() != g.to_bits() && !(w.is_nan() && g.is_nan()) {
                differ.push((name, x));
            }
        }
    }

    /// Every 4099th f32 bit pattern (infinities and NaNs among them), then `extra`.
    fn every_4099th_f32(extra: &[f32]) -> Vec<f32> {
        let mut xs: Vec<f32> = (0..1u64 << 32)
            .step_by(4099)
            .map(|b| f32::from_bits(b as u32))
            .collect();
        xs.extend_from_slice(extra);
        xs
    }

    /// Runs `op()` on every vector kernel this CPU has and asserts that nothing differs.
    fn assert_no_kernel_differs<O: Op<Output = Differ>>(op: impl Fn() -> O) {
        let mut checked = 0;
        for k in Kernel::available() {
            if matches!(k, Kernel::Reference) {
                continue;
            }
            let differ = k.dispatch(op());
            assert!(
                differ.is_empty(),
                "{}: {} values differ, the first {:?}",
                k.name(),
                differ.len(),
                differ[0]
            );
            checked += 1;
        }
        assert!(checked >= 1, "the portable kernel always runs");
    }

    impl Op for OneAgainstN<'_> {
        type Output = Differ;
        fn reference(self) -> Differ {
            Vec::new()
        }
        #[inline(always)]
        fn run<I: Isa>(self, isa: I) -> Differ {
            let mut differ = Vec::new();
            for chunk in self.xs.chunks(I::LANES) {
                let x = isa.load_partial(chunk);
                let mut n = [x];
                tanh_batch_n(isa, &mut n);
                let pair = (n[0], tanh_batch(isa, x));
                push_differing(isa, "tanh_batch", chunk, pair, &mut differ);
            }
            differ
        }
    }

    /// Every form that needs only `1 + exp` (the throughput and batch forms, one vector
    /// and `N` at a time) against the exponent add it replaced ([`exp_scaled`], Horner's order,
    /// then `1 + e`): the inputs where their bits differ (both NaN counts as equal).
    struct ShiftAgainstAdd<'a> {
        xs: &'a [f32],
    }

    impl Op for ShiftAgainstAdd<'_> {
        type Output = Differ;
        fn reference(self) -> Differ {
            Vec::new()
        }
        #[inline(always)]
        fn run<I: Isa>(self, isa: I) -> Differ {
            let one = isa.splat(1.0);
            let mut differ = Vec::new();
            // The shift itself on every ISA, whether or not its activations use it.
            for n in -126..=126 {
                let got = isa.store(isa.pow2_from_shifted(isa.splat(ROUND_MAGIC_POW2 + n as f32)));
                if got.as_ref().iter().any(|&g| g != 2f32.powi(n + 1)) {
                    differ.push(("pow2_from_shifted", n as f32));
                }
            }
            for chunk in self.xs.chunks(I::LANES) {
                let x = isa.load_partial(chunk);
                let xs = isa.clamp_keep_nan(x, -EXP_ARG_MAX, EXP_ARG_MAX);
                let xt = isa.clamp_keep_nan(x, -EXP_ARG_MAX / 2.0, EXP_ARG_MAX / 2.0);
                let es = exp_scaled::<I, -1, false>(isa, xs);
                let et = exp_scaled::<I, 2, false>(isa, xt);
                let want_s = isa.div(one, isa.add(one, es));
                let want_t = isa.sub(one, isa.div(isa.splat(2.0), isa.add(one, et)));
                let (mut ns, mut nt) = ([x; 4], [x; 4]);
                sigmoid_batch_n(isa, &mut ns);
                tanh_batch_n(isa, &mut nt);
                for (name, want, got) in [
                    ("sigmoid", want_s, sigmoid(isa, x)),
                    ("sigmoid_batch", want_s, sigmoid_batch(isa, x)),
                    ("sigmoid_batch_n", want_s, ns[3]),
                    ("tanh", want_t, tanh(isa, x)),
                    ("tanh_batch", want_t, tanh_batch(isa, x)),
                    ("tanh_batch_n", want_t, nt[3]),
                ] {
                    push_differing(isa, name, chunk, (want, got), &mut differ);
                }
            }
            differ
        }
    }

    /// The exponent by a shift ([`Isa::pow2_from_shifted`], where [`Isa::EXP_BY_SHIFT`]) gives
    /// the exponent add's bits, on every vector kernel this CPU has: every 4099th f32 bit
    /// pattern (infinities and NaNs among them), the clamp limits, the smallest and largest
    /// exponents `n` (`σ(±87)`, `tanh(±43.5)`), and inputs whose `n` is a rounding tie.
    #[test]
    fn exponent_by_shift_gives_the_exponent_adds_bits() {
        let mut xs = every_4099th_f32(&[
            87.0,
            -87.0,
            86.9,
            -86.9,
            43.5,
            -43.5,
            43.4,
            -43.4,
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
        ]);
        // `x` near `(k + 1/2)·ln2` and `(k + 1/2)·ln2/2`: `n` rounds at a tie or next to one.
        for k in -126..126 {
            let t = (k as f32 + 0.5) * LN2;
            for x in [t, t / 2.0] {
                xs.extend([
                    x,
                    f32::from_bits(x.to_bits() + 1),
                    f32::from_bits(x.to_bits() - 1),
                ]);
            }
        }
        assert_no_kernel_differs(|| ShiftAgainstAdd { xs: &xs });
    }

    /// Gate pre-activations and cell states for the fused cell's tests: every combination of
    /// a grid through the clamps and the saturation (`i, f, g, o` each from `GATE_GRID`, `c`
    /// from `CELL_GRID`), then `random` combinations of uniform values in `[−12, 12]` and
    /// `[−20, 20]` (a fixed xorshift seed).
    fn cell_inputs(random: usize) -> Vec<[f32; 5]> {
        const GATE_GRID: [f32; 17] = [
            -100.0, -30.5, -30.0, -29.5, -9.5, -9.0, -3.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 3.0, 9.0,
            9.5, 30.0, 100.0,
        ];
        const CELL_GRID: [f32; 9] = [-60.0, -9.5, -1.0, -0.1, 0.0, 0.1, 1.0, 9.5, 60.0];
        let mut out = Vec::new();
        for i in GATE_GRID {
            for f in GATE_GRID {
                for g in GATE_GRID {
                    for c in CELL_GRID {
                        out.push([i, f, g, GATE_GRID[out.len() % GATE_GRID.len()], c]);
                    }
                }
            }
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut uniform = |scale: f32| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        };
        for _ in 0..random {
            out.push([
                uniform(12.0),
                uniform(12.0),
                uniform(12.0),
                uniform(12.0),
                uniform(20.0),
            ]);
        }
        out
    }

    /// The fused cell's `c'` and `h` against f64 (`σ(i)·tanh(g) + σ(f)·c`, then `σ(o)·tanh` of
    /// the kernel's own `c'`): the largest error of each, `c'`'s relative to `1 + |c|`.
    struct FusedCellError<'a> {
        inputs: &'a [[f32; 5]],
    }

    impl Op for FusedCellError<'_> {
        type Output = (f64, f64);
        fn reference(self) -> (f64, f64) {
            (0.0, 0.0)
        }
        #[inline(always)]
        fn run<I: Isa>(self, isa: I) -> (f64, f64) {
            let s64 = |x: f64| 1.0 / (1.0 + (-x).exp());
            let (mut worst_c, mut worst_h) = (0.0f64, 0.0f64);
            for chunk in self.inputs.chunks(I::LANES) {
                let lanes = |k: usize| {
                    let v: Vec<f32> = chunk.iter().map(|x| x[k]).collect();
                    isa.load_partial(&v)
                };
                let mut c = [lanes(4)];
                lstm_cell_c_batch_n(isa, [lanes(0)], [lanes(1)], [lanes(2)], &mut c);
                let h = lstm_cell_h_batch_n(isa, [lanes(3)], c);
                let (c, h) = (isa.store(c[0]), isa.store(h[0]));
                for ((x, &c1), &h1) in chunk.iter().zip(c.as_ref()).zip(h.as_ref()) {
                    let [i, f, g, o, c0] = x.map(f64::from);
                    let want_c = s64(i) * g.tanh() + s64(f) * c0;
                    let want_h = s64(o) * f64::from(c1).tanh();
                    worst_c = worst_c.max((f64::from(c1) - want_c).abs() / (1.0 + c0.abs()));
                    worst_h = worst_h.max((f64::from(h1) - want_h).abs());
                }
            }
            (worst_c, worst_h)
        }
    }

    /// The fused LSTM cell of the batch kernels keeps the accuracy contract on every vector
    /// kernel this CPU has: `c'` within 1e-6·(1 + |c|) of f64 and `h` within 1e-6 (the
    /// activations' contract), through the clamps, the saturation and random inputs.
    #[test]
    fn fused_lstm_cell_is_within_the_contract() {
        let inputs = cell_inputs(200_000);
        for k in Kernel::available() {
            if matches!(k, Kernel::Reference) {
                continue;
            }
            let (c, h) = k.dispatch(FusedCellError { inputs: &inputs });
            eprintln!("{}: c' {c:.3e}, h {h:.3e}", k.name());
            assert!(
                c <= 1e-6 && h <= 1e-6,
                "{}: c' off by {c:.3e}, h by {h:.3e}",
                k.name()
            );
        }
    }

    /// The paired `tanh` of the SimpleRNN batch kernels against f64: the largest error over
    /// both results of every pair `(a[k], b[k])`, and the inputs where a NaN did not come out
    /// NaN (or came out of no NaN).
    struct PairedTanhError<'a> {
        a: &'a [f32],
        b: &'a [f32],
    }

    impl Op for PairedTanhError<'_> {
        type Output = (f64, Vec<(f32, f32)>);
        fn reference(self) -> Self::Output {
            (0.0, Vec::new())
        }
        #[inline(always)]
        fn run<I: Isa>(self, isa: I) -> Self::Output {
            let (mut worst, mut nan_wrong) = (0.0f64, Vec::new());
            for (ca, cb) in self.a.chunks(I::LANES).zip(self.b.chunks(I::LANES)) {
                let mut x = [isa.load_partial(ca), isa.load_partial(cb)];
                tanh_batch_pairs_n(isa, &mut x);
                let (ta, tb) = (isa.store(x[0]), isa.store(x[1]));
                for (k, (&a, &b)) in ca.iter().zip(cb).enumerate() {
                    let nan_in = a.is_nan() || b.is_nan();
                    for (x, y) in [(a, ta.as_ref()[k]), (b, tb.as_ref()[k])] {
                        if nan_in {
                            if !y.is_nan() {
                                nan_wrong.push((a, b));
                            }
                        } else if y.is_nan() {
                            nan_wrong.push((a, b));
                        } else {
                            worst = worst.max((f64::from(y) - f64::from(x).tanh()).abs());
                        }
                    }
                }
            }
            (worst, nan_wrong)
        }
    }

    /// The SimpleRNN batch kernels' `tanh`, two with one division ([`tanh_from_p_pair`]), keeps
    /// the activations' contract (1e-6 of f64) on every vector kernel this CPU has: every 4099th
    /// f32 bit pattern (infinities and NaNs among them) paired with the same patterns in
    /// another order, a grid through the clamp and the saturation, every value with every
    /// other, and the region of the worst case densely; a NaN in a pair makes both NaN, and
    /// only then. (The exhaustive test in `tests/kernels.rs` runs every f32 with itself.)
    #[test]
    fn paired_tanh_is_within_the_contract() {
        let mut a = every_4099th_f32(&[]);
        let mut b: Vec<f32> = a.iter().rev().copied().collect();
        b.rotate_left(a.len() / 3);
        const GRID: [f32; 19] = [
            f32::NEG_INFINITY,
            -1e30,
            -20.5,
            -20.0,
            -19.5,
            -9.0,
            -0.55,
            -1e-3,
            -1e-30,
            0.0,
            -0.0,
            1e-30,
            1e-3,
            0.55,
            9.0,
            19.5,
            20.0,
            20.5,
            f32::INFINITY,
        ];
        for x in GRID {
            for y in GRID {
                a.push(x);
                b.push(y);
            }
        }
        // Where the worst case lies (both units near −1, `P_a·P_b` just above 1): every 31st
        // pattern of [−4, −1], with itself and with the next pattern.
        for bits in ((-1.0f32).to_bits()..(-4.0f32).to_bits()).step_by(31) {
            let x = f32::from_bits(bits);
            a.extend([x, x]);
            b.extend([x, f32::from_bits(bits + 1)]);
        }
        for k in Kernel::available() {
            if matches!(k, Kernel::Reference) {
                continue;
            }
            let (worst, nan_wrong) = k.dispatch(PairedTanhError { a: &a, b: &b });
            eprintln!("{}: paired tanh within {worst:.3e}", k.name());
            assert!(
                worst <= ACTIVATION_ABS_TOL,
                "{}: off by {worst:.3e}",
                k.name()
            );
            assert!(
                nan_wrong.is_empty(),
                "{}: NaN wrong for {} pairs, the first {:?}",
                k.name(),
                nan_wrong.len(),
                nan_wrong[0]
            );
        }
    }

    /// The batch kernels and the training shards run `tanh_batch_n` (stage by stage across
    /// vectors); the exhaustive activation test holds `tanh_batch` (one vector's chain) to the
    /// contract: the two must give the same bits, on every vector kernel this CPU has. Every
    /// 4099th f32 bit pattern (infinities and NaNs among them) and the clamp limits.
    #[test]
    fn tanh_batch_gives_tanh_batch_n_bits() {
        let xs = every_4099th_f32(&[43.5, -43.5, 0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY]);
        assert_no_kernel_differs(|| OneAgainstN { xs: &xs });
    }

    /// The LSTM latency step activates its gates in either of two program orders
    /// (`simd::HSplat::TANH_BEFORE_FORGET`): in both, each gate must come out as its own
    /// activation, bit for bit, on every vector kernel this CPU has (its 8-lane form). Every
    /// 4099th f32 bit pattern, 32 at a time as the four gates of a step.
    #[test]
    fn lstm_gates_in_either_order_are_their_own_activations() {
        let xs = every_4099th_f32(&[]);
        assert_no_kernel_differs(|| GateOrders { xs: &xs });
    }

    /// See [`lstm_gates_in_either_order_are_their_own_activations`].
    struct GateOrders<'a> {
        xs: &'a [f32],
    }

    impl Op for GateOrders<'_> {
        type Output = Differ;
        fn reference(self) -> Differ {
            Vec::new()
        }
        #[inline(always)]
        fn run<I: Isa>(self, isa: I) -> Differ {
            use super::super::simd::lstm_gate_activations_lanes;
            use super::super::tables::{GATE_C, GATE_F, GATE_I, GATE_O};
            use crate::shape::HIDDEN;
            let x8 = isa.x8();
            let mut differ = Vec::new();
            for step in self.xs.chunks_exact(4 * HIDDEN) {
                let gate = |g: usize| &step[g * HIDDEN..(g + 1) * HIDDEN];
                let z = [0, 1, 2, 3].map(|g| x8.load(gate(g).try_into().expect("8 lanes")));
                let want = [
                    sigmoid_piecewise(x8, z[GATE_I]),
                    sigmoid_piecewise(x8, z[GATE_F]),
                    tanh_piecewise(x8, z[GATE_C]),
                    sigmoid_piecewise(x8, z[GATE_O]),
                ];
                for (name, tanh_first) in [("σ(f) first", false), ("tanh(g) first", true)] {
                    let got = lstm_gate_activations_lanes(x8, z, tanh_first);
                    for g in 0..4 {
                        push_differing(x8, name, gate(g), (want[g], got[g]), &mut differ);
                    }
                }
            }
            differ
        }
    }
}
