//! The AVX-512 kernel: the generic bodies on `core::arch` AVX-512F/BW/VL intrinsics, 16 lanes
//! per `__m512` (stable in Rust since 1.89).
//!
//! What changes against AVX2 is only this `Isa` impl (the bodies are the same code):
//!
//! - **16 sequences per block** in the batch kernels (`LANES = 16`), so one instruction does the
//!   work of two 256-bit ones (fewer µops per sequence-step for the front end and the ports).
//! - **`vscalefps`** multiplies by `2^n` in the exponential: one instruction instead of the
//!   convert, shift and integer add of the AVX2 path. For `|n| ≤ 126` and `p ∈ [0.7, 1.42]` it is
//!   exact, as the integer add is; below 2^-126 it rounds correctly where the add gives some
//!   other value below 2^-126, and `1 + e` is then 1 either way, so the activations are bitwise
//!   those of the AVX2 path.
//! - **Masked tails**: `load_partial` / `store_partial` are masked loads and stores, so a slice
//!   tail needs no copy through a zero-padded block.
//! - The embedded broadcast `{1to16}`: a recurrent weight is one `f32` read by the FMA itself
//!   (`splat_from`), where AVX2 reads a pre-broadcast copy of 8.
//!
//! The training shard runs its 16 sequences in zmm lanes with the batch activations, whose
//! reciprocal is the division, as on AVX2, so the batch kernels and the training shard give
//! AVX2's bits (`tests/kernels.rs` and `tests/train.rs` check it). The latency kernels keep
//! their one-unit-per-lane layout and run on the AVX2 instructions this proof also grants
//! (`Isa::x8`), inside the same trampoline, so they give the AVX2 path's bits. The exception is
//! the LSTM step on zmm, where the CPU runs it faster (AMD's Zen 5 and later;
//! `Avx512::zmm_lstm_step`):
//! its recurrent sum and activations (`Isa::lstm_gate_activations`) run two gates per zmm in
//! the same order of operations, `[i | f]` (the same bits) and `[g | o]`, whose `tanh(g)` is
//! `+0` where AVX2's is `−0`, so a zero `c'` and `h` may differ in sign; no nonzero value can
//! (`Avx512::tanh_sigmoid_piecewise`).
//!
//! Every operation enters through one trampoline, [`dispatch`], whose feature list must stay
//! identical to what [`Avx512::detect`] checks.

// The AVX-512 intrinsics and target features are stable since Rust 1.89, the workspace's
// `rust-version`.

use core::arch::x86_64::*;

use super::activations::{
    SIGMOID_PIECEWISE_BASE, TANH_PIECEWISE_BASE, TANH_SIGMOID_PIECEWISE, sigmoid_piecewise,
};
use super::isa::{Isa, Op};
use super::tables::Splat;
use super::{Avx2Fma, Avx512};
use crate::shape::HIDDEN;

/// The door: run `op`'s vector body with AVX-512.
#[inline(always)]
pub(super) fn dispatch<O: Op>(cpu: Avx512, op: O) -> O::Output {
    // SAFETY: an `Avx512` value exists only if `Avx512::detect` saw AVX-512F/BW/VL, AVX2 and
    // FMA, the features `run_avx512` enables.
    unsafe { run_avx512(cpu, op) }
}

/// # Safety
/// The CPU must support AVX-512F, AVX-512BW, AVX-512VL, AVX2 and FMA (see [`Avx512::detect`]).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
unsafe fn run_avx512<O: Op>(cpu: Avx512, op: O) -> O::Output {
    op.run(cpu)
}

/// The mask of the first `n ≤ 16` lanes.
#[inline(always)]
fn first_lanes(n: usize) -> __mmask16 {
    debug_assert!(n <= 16);
    ((1u32 << n) - 1) as __mmask16
}

impl Isa for Avx512 {
    const LANES: usize = 16;
    const VECTOR_REGISTERS: usize = 32;
    // `vscalefps` and an add: one FMA-pipe µop fewer than the shift and FMA, and Zen 4's
    // AVX-512 batch is bound by its FMA pipe (notebook LSTM 58.1 against 59.0–59.4 cycles per
    // sequence-step with the shift).
    const EXP_BY_SHIFT: bool = false;
    type V = __m512;
    type Lanes = [f32; 16];
    type Arr<T: Copy> = [T; 16];
    type X8 = Avx2Fma;

    #[inline(always)]
    fn x8(self) -> Avx2Fma {
        self.avx2_fma()
    }
    #[inline(always)]
    fn pipelined_pairs(self) -> bool {
        Avx512::pipelined_pairs(self)
    }
    #[inline(always)]
    fn wide_lstm_step(self) -> bool {
        Avx512::zmm_lstm_step(self)
    }
    #[inline(always)]
    fn arr<T: Copy>(self, x: T) -> [T; 16] {
        [x; 16]
    }
    #[inline(always)]
    fn splat(self, x: f32) -> __m512 {
        // SAFETY: `self` proves AVX-512F (see `Avx512::detect`).
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    fn load(self, a: &[f32; 16]) -> __m512 {
        // SAFETY: AVX-512F proven by `self`; `a` is 16 readable floats (unaligned load).
        unsafe { _mm512_loadu_ps(a.as_ptr()) }
    }
    #[inline(always)]
    fn store(self, v: __m512) -> [f32; 16] {
        let mut out = [0f32; 16];
        // SAFETY: AVX-512F proven by `self`; `out` is 16 writable floats (unaligned store).
        unsafe { _mm512_storeu_ps(out.as_mut_ptr(), v) };
        out
    }
    #[inline(always)]
    fn load_partial(self, xs: &[f32]) -> __m512 {
        assert!(xs.len() <= 16, "at most 16 lanes");
        // SAFETY: AVX-512F proven by `self`; the mask enables exactly the `xs.len()` lanes that
        // are in `xs` (masked-off lanes are neither read nor faulted on) and zeroes the rest.
        unsafe { _mm512_maskz_loadu_ps(first_lanes(xs.len()), xs.as_ptr()) }
    }
    #[inline(always)]
    fn store_partial(self, v: __m512, xs: &mut [f32]) {
        assert!(xs.len() <= 16, "at most 16 lanes");
        // SAFETY: AVX-512F proven by `self`; the mask enables exactly the `xs.len()` lanes that
        // are in `xs`, which is a unique borrow.
        unsafe { _mm512_mask_storeu_ps(xs.as_mut_ptr(), first_lanes(xs.len()), v) }
    }
    #[inline(always)]
    fn prefetch<T>(self, xs: &[T]) {
        // SAFETY: SSE (implied by AVX-512F) proven by `self`; a prefetch never faults and reads no memory architecturally.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(xs.as_ptr().cast()) }
    }
    #[inline(always)]
    fn splat_from(self, w: &Splat) -> __m512 {
        // One float: LLVM folds the broadcast into the FMA's `{1to16}` memory operand.
        self.splat(w.0[0])
    }
    #[inline(always)]
    fn add(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F proven by `self`.
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F proven by `self`.
        unsafe { _mm512_sub_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F proven by `self`.
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    fn div(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F proven by `self`.
        unsafe { _mm512_div_ps(a, b) }
    }
    #[inline(always)]
    fn sqrt(self, a: __m512) -> __m512 {
        // SAFETY: AVX-512F proven by `self`.
        unsafe { _mm512_sqrt_ps(a) }
    }
    #[inline(always)]
    fn mul_add(self, a: __m512, b: __m512, c: __m512) -> __m512 {
        // SAFETY: AVX-512F proven by `self`.
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn neg_mul_add(self, a: __m512, b: __m512, c: __m512) -> __m512 {
        // SAFETY: AVX-512F proven by `self`.
        unsafe { _mm512_fnmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn clamp_keep_nan(self, x: __m512, lo: f32, hi: f32) -> __m512 {
        // `vmaxps a, x` / `vminps a, x` return their second operand when either is NaN. Tried
        // and not kept: one AVX-512DQ `vrangeps` (`min(|x|, hi)` with `x`'s sign) for the
        // symmetric clamps, −4 % on the batch kernels of a Golden Cove Xeon (LSTM 54.6–56.8 →
        // 52.5–52.6 cycles per sequence-step), but it returns the number for a quiet NaN `x`
        // (IEEE minNum), so a NaN pre-activation would come out a probability.
        // SAFETY: AVX-512F proven by `self`.
        unsafe { _mm512_min_ps(_mm512_set1_ps(hi), _mm512_max_ps(_mm512_set1_ps(lo), x)) }
    }
    #[inline(always)]
    fn scale_pow2(self, p: __m512, n: __m512) -> __m512 {
        // `vscalefps`: p · 2^floor(n), exact here (see the module docs); NaN stays NaN.
        // SAFETY: AVX-512F proven by `self`.
        unsafe { _mm512_scalef_ps(p, n) }
    }
    #[inline(always)]
    fn pow2_from_shifted(self, s: __m512) -> __m512 {
        // SAFETY: AVX-512F proven by `self`.
        unsafe { _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_castps_si512(s))) }
    }
    // `recip` is the default, the division, as on AVX2, so AVX-512 gives AVX2's bits in every
    // kernel (module docs). `vrcp14ps` and a Newton step (three FMA-pipe µops, no divider) was
    // the override until it measured slower on Zen 4: notebook batch LSTM 59.7 against 57.8
    // cycles per sequence-step with the division, SimpleRNN 11.5 against 11.0.
    #[inline(always)]
    fn lane_splat<const J: i32>(self, v: __m512) -> __m512 {
        // SAFETY: AVX-512F proven by `self`.
        unsafe { _mm512_permutexvar_ps(_mm512_set1_epi32(J), v) }
    }
    // The latency activations' saturation in one mask compare and one blend (the trait's
    // lane-by-lane defaults cost a store and 16 scalar selects): used by the general-shape
    // one-sequence path (`net_simd::seq_step`), which runs on 16 lanes.
    #[inline(always)]
    fn select_abs_gt(self, x: __m512, limit: f32, above: __m512, v: __m512) -> __m512 {
        // SAFETY: AVX-512F proven by `self`.
        unsafe {
            // Ordered compare: false for NaN, so a NaN `x` keeps `v`.
            let mask = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(_mm512_abs_ps(x), _mm512_set1_ps(limit));
            _mm512_mask_blend_ps(mask, v, above)
        }
    }
    #[inline(always)]
    fn xor_sign(self, v: __m512, s: __m512) -> __m512 {
        // Integer xor/and (AVX-512F; the float forms need AVX-512DQ).
        // SAFETY: AVX-512F proven by `self`.
        unsafe {
            let sign = _mm512_and_si512(_mm512_castps_si512(s), _mm512_set1_epi32(i32::MIN));
            _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), sign))
        }
    }
    // The piecewise polynomials (`Isa::piecewise_interval`; issue 16 item 2): the AVX2
    // override's instructions on zmm, where the trait's lane-by-lane defaults cost a store and
    // 16 scalar lanes each (the general-shape one-sequence path runs 16 lanes). The same bits
    // as the AVX2 override lane for lane, NaN lanes included.
    #[inline(always)]
    fn piecewise_interval<const BASE: i32>(self, x: __m512) -> (__m512, __m512) {
        // SAFETY: AVX-512F proven by `self`.
        let [lo, hi, bottom] = unsafe {
            [
                _mm512_set1_epi8(BASE as i8),
                _mm512_set1_epi8((BASE + 7) as i8),
                _mm512_set1_epi32(BASE + 1),
            ]
        };
        let (k, t) = self.interval_by(x, lo, hi, bottom);
        // SAFETY: a cast, no instruction.
        (unsafe { _mm512_castsi512_ps(k) }, t)
    }
    #[inline(always)]
    fn lookup8(self, table: &[f32; 8], index: __m512) -> __m512 {
        // The 8 entries in both halves of a zmm, so the 16-entry `vpermps` (low 4 bits of the
        // index) reads entry `index mod 8`.
        // SAFETY: AVX-512F proven by `self`; `table` is 8 readable floats (one unaligned
        // 256-bit load).
        unsafe {
            let t = _mm512_broadcast_f64x4(_mm256_loadu_pd(table.as_ptr().cast::<f64>()));
            _mm512_permutexvar_ps(_mm512_castps_si512(index), _mm512_castpd_ps(t))
        }
    }
    #[inline(always)]
    fn with_sign_of(self, p: __m512, x: __m512) -> __m512 {
        // SAFETY: AVX-512F proven by `self`.
        unsafe {
            // `p | (x & mask)`, the mask the sign bit, or all ones where `x` is NaN (OR-ing a
            // NaN's bits into `p` gives a NaN), in one `vpternlogd` (0xF8: A | (B & C)).
            let nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x, x);
            let mask =
                _mm512_mask_blend_epi32(nan, _mm512_set1_epi32(i32::MIN), _mm512_set1_epi32(-1));
            _mm512_castsi512_ps(_mm512_ternarylogic_epi32::<0xF8>(
                _mm512_castps_si512(p),
                _mm512_castps_si512(x),
                mask,
            ))
        }
    }
    #[inline(always)]
    fn lstm_gate_activations(
        self,
        row: &[[f32; HIDDEN]; 4],
        rec: &[[[f32; HIDDEN]; 4]; HIDDEN],
        h: __m256,
    ) -> [__m256; 4] {
        // The sigmoids of `i` and `f` on their zmm `[i | f]` as it leaves the sum: one
        // activation's µops (8 permutes) for two gates, and the same bits lane for lane as on
        // the 8-lane ISA (the piecewise operations above are the AVX2 ones on zmm). `f` is
        // extracted after its activation instead of before it. `tanh(g)` and `σ(o)` likewise
        // on `[g | o]`, in one evaluation (`tanh_sigmoid_piecewise`: AVX2's bits but for
        // `tanh(−0)`).
        let [z_if, z_go] = self.gate_sums_zmm(row, rec, h);
        let s_if = sigmoid_piecewise(self, z_if);
        let a_go = self.tanh_sigmoid_piecewise(z_go);
        [
            low_half(s_if),
            high_half(s_if),
            low_half(a_go),
            high_half(a_go),
        ]
    }
    #[inline(always)]
    fn gather_rows(self, rows: &[&[f32; HIDDEN]; 16]) -> [__m512; HIDDEN] {
        // SAFETY: AVX-512F proven by `self`; every pointer is the start of an `[f32; 8]`, so
        // each 256-bit (8-float) load is in bounds.
        unsafe {
            // a_k = [row p | row q], whole rows, the 128-bit lanes then holding columns 0..4 of
            // p, 4..8 of p, 0..4 of q and 4..8 of q: one load and one insert per two rows,
            // where 128-bit quarters took three inserts per four.
            // (Macros, not closures: a closure may be outlined without the target features.)
            macro_rules! pair {
                ($p:literal, $q:literal) => {{
                    let lo = _mm512_castps256_ps512(_mm256_loadu_ps(rows[$p].as_ptr()));
                    let hi = _mm256_castps_pd(_mm256_loadu_ps(rows[$q].as_ptr()));
                    _mm512_castpd_ps(_mm512_insertf64x4::<1>(_mm512_castps_pd(lo), hi))
                }};
            }
            // Four in-lane 4×4 transposes of four pairs: quarter j of output u holds column u
            // (quarters 0 and 2) or u + 4 (quarters 1 and 3) of the four rows quarter j came from.
            macro_rules! transpose {
                ($a0:expr, $a1:expr, $a2:expr, $a3:expr) => {{
                    let (a0, a1, a2, a3) = ($a0, $a1, $a2, $a3);
                    let t0 = _mm512_unpacklo_ps(a0, a1);
                    let t1 = _mm512_unpackhi_ps(a0, a1);
                    let t2 = _mm512_unpacklo_ps(a2, a3);
                    let t3 = _mm512_unpackhi_ps(a2, a3);
                    [
                        _mm512_shuffle_ps::<0x44>(t0, t2),
                        _mm512_shuffle_ps::<0xee>(t0, t2),
                        _mm512_shuffle_ps::<0x44>(t1, t3),
                        _mm512_shuffle_ps::<0xee>(t1, t3),
                    ]
                }};
            }
            // Rows 0..4 and 4..8 in the first four pairs, 8..12 and 12..16 in the others, so
            // that quarters 0 and 2 of the two halves, side by side, are rows 0..16 in order.
            let lo = transpose!(pair!(0, 4), pair!(1, 5), pair!(2, 6), pair!(3, 7));
            let hi = transpose!(pair!(8, 12), pair!(9, 13), pair!(10, 14), pair!(11, 15));
            let mut out = [_mm512_setzero_ps(); HIDDEN];
            for u in 0..4 {
                // Quarters 0 and 2 of each (column u), then 1 and 3 (column u + 4).
                out[u] = _mm512_shuffle_f32x4::<0x88>(lo[u], hi[u]);
                out[u + 4] = _mm512_shuffle_f32x4::<0xdd>(lo[u], hi[u]);
            }
            out
        }
    }
}

/// Per-lane constants of [`Avx512::tanh_sigmoid_piecewise`]: the low 8 lanes evaluate `tanh`,
/// the high 8 the sigmoid.
#[repr(C, align(64))]
struct PairLanes<T>([T; 16]);

impl<T: Copy> PairLanes<T> {
    const fn new(tanh: T, sigmoid: T) -> Self {
        let mut v = [tanh; 16];
        let mut l = 8;
        while l < 16 {
            v[l] = sigmoid;
            l += 1;
        }
        Self(v)
    }
}

/// Every byte `b`, as the byte-wise clamp reads it.
const fn bytes(b: i32) -> i32 {
    i32::from_ne_bytes([b as u8; 4])
}

const TANH_BASE: i32 = TANH_PIECEWISE_BASE;
const SIGMOID_BASE: i32 = SIGMOID_PIECEWISE_BASE;
static PAIR_CLAMP_LO: PairLanes<i32> = PairLanes::new(bytes(TANH_BASE), bytes(SIGMOID_BASE));
static PAIR_CLAMP_HI: PairLanes<i32> =
    PairLanes::new(bytes(TANH_BASE + 7), bytes(SIGMOID_BASE + 7));
/// Added to the clamped exponent: the sigmoid lanes read entries `B + 8 ..= B + 15`.
static PAIR_INDEX_OFFSET: PairLanes<i32> = PairLanes::new(0, 7);
/// The first interval (`t = |x|`) is below this biased exponent.
static PAIR_BOTTOM: PairLanes<i32> = PairLanes::new(TANH_BASE + 1, SIGMOID_BASE + 1);
/// The last FMA's addend: `σ = 1/2 + s·P`; `tanh = s·P`, with `−0` so that `s·M0 + (−0)` is
/// `s·M0` exactly, signed zeros included.
static PAIR_ADDEND: PairLanes<f32> = PairLanes::new(-0.0, 0.5);
#[repr(C, align(64))]
struct Rows([[f32; 16]; 8]);
static PAIR_ROWS: Rows = Rows(TANH_SIGMOID_PIECEWISE);

impl Avx512 {
    /// `piecewise_interval` with each lane's bounds in vectors: the index, the exponent `x >> 23`
    /// with byte 0 clamped byte-wise to `[lo, hi]` (the permute reads only the low bits), and the
    /// argument `t`, `|x|` below the biased exponent `bottom` and the mantissa minus 1.5 above.
    #[inline(always)]
    fn interval_by(
        self,
        x: __m512,
        lo: __m512i,
        hi: __m512i,
        bottom: __m512i,
    ) -> (__m512i, __m512) {
        // SAFETY: AVX-512F and AVX-512BW (the byte-wise max/min) proven by `self`.
        unsafe {
            let bits = _mm512_castps_si512(x);
            // `x >> 23` is `sign << 8 | e`.
            let e = _mm512_srli_epi32::<23>(bits);
            let k = _mm512_min_epu8(_mm512_max_epu8(e, lo), hi);
            let m = _mm512_or_si512(
                _mm512_and_si512(bits, _mm512_set1_epi32(0x007f_ffff)),
                _mm512_set1_epi32(0x3f80_0000),
            );
            let tm = _mm512_sub_ps(_mm512_castsi512_ps(m), _mm512_set1_ps(1.5));
            let a = _mm512_and_si512(bits, _mm512_set1_epi32(0x7fff_ffff));
            let below = _mm512_cmplt_epi32_mask(_mm512_srli_epi32::<23>(a), bottom);
            (k, _mm512_mask_blend_ps(below, tm, _mm512_castsi512_ps(a)))
        }
    }

    /// `[tanh(g) | σ(o)]` of the zmm `[g | o]` in one evaluation of the piecewise polynomials
    /// (issue 16 item 2): 8 coefficient permutes for the two gates instead of 16, each lane
    /// indexing its function's half of a 16-entry table ([`TANH_SIGMOID_PIECEWISE`]), and one
    /// evaluation's µops. Both functions end in `sigmoid_piecewise`'s FMA, `(s·t⁴)·M1 + (s·M0 +
    /// a)` with `s = ±1` the sign of `x` and `a` `1/2` for `σ`, `−0` for `tanh`: the sigmoid lanes
    /// are `sigmoid_piecewise`'s operations and bits; the `tanh` lanes put the sign on before the
    /// last rounding where `tanh_piecewise` puts it on after, which rounds the same (to nearest,
    /// even, is symmetric) but for a zero result: `tanh(−0)` is `+0` here. In the LSTM step
    /// that is `g` for a pre-activation of exactly `−0`, and `c' = f·c + i·g` keeps `i·g`'s zero
    /// sign only where `f·c` is `−0` too (`c` is `−0`, or a negative `c` times `f` rounds to
    /// `−0`; `f` is never `−0`): then `c'`, and `h' = o·tanh(c')` with it, are `+0` where the
    /// AVX2 step has `−0`. No nonzero value and no probability can differ. NaN stays NaN.
    #[inline(always)]
    fn tanh_sigmoid_piecewise(self, x: __m512) -> __m512 {
        // SAFETY: AVX-512F and AVX-512BW (the byte-wise max/min) proven by `self`; every load
        // is of a 64-byte-aligned static of 16 lanes.
        unsafe {
            let ld = |v: &PairLanes<i32>| _mm512_load_si512(v.0.as_ptr().cast());
            // Each half's own bounds, then the sigmoid lanes moved to the table's other half.
            let (k, t) =
                self.interval_by(x, ld(&PAIR_CLAMP_LO), ld(&PAIR_CLAMP_HI), ld(&PAIR_BOTTOM));
            let k = _mm512_add_epi32(k, ld(&PAIR_INDEX_OFFSET));
            let s = self.with_sign_of(_mm512_set1_ps(1.0), x);
            let t2 = _mm512_mul_ps(t, t);
            let st4 = _mm512_mul_ps(s, _mm512_mul_ps(t2, t2));
            let c = |j: usize| _mm512_permutexvar_ps(k, _mm512_load_ps(PAIR_ROWS.0[j].as_ptr()));
            let l0 = _mm512_fmadd_ps(t, c(1), c(0));
            let l1 = _mm512_fmadd_ps(t, c(3), c(2));
            let l2 = _mm512_fmadd_ps(t, c(5), c(4));
            let l3 = _mm512_fmadd_ps(t, c(7), c(6));
            let m0 = _mm512_fmadd_ps(t2, l1, l0);
            let m1 = _mm512_fmadd_ps(t2, l3, l2);
            let addend = _mm512_load_ps(PAIR_ADDEND.0.as_ptr());
            _mm512_fmadd_ps(st4, m1, _mm512_fmadd_ps(s, m0, addend))
        }
    }

    /// `simd::lstm_gate_sums_lanes` with two gates per zmm, `[i | f]` and `[g | o]` (Keras'
    /// order, adjacent in memory): 16 FMAs instead of 32 ymm ones, each lane computed by the
    /// same operations in the same order, so the bits are the AVX2 path's.
    #[inline(always)]
    fn gate_sums_zmm(
        self,
        row: &[[f32; HIDDEN]; 4],
        rec: &[[[f32; HIDDEN]; 4]; HIDDEN],
        h: __m256,
    ) -> [__m512; 2] {
        // SAFETY: AVX-512F and AVX (implied) proven by `self`; every 512-bit load reads 16
        // consecutive floats at offset 0 or 16 of a 32-float `[[f32; 8]; 4]`.
        unsafe {
            let hz = _mm512_castps256_ps512(h);
            macro_rules! s {
                ($j:literal) => {
                    _mm512_permutexvar_ps(_mm512_set1_epi32($j), hz)
                };
            }
            let s = [s!(0), s!(1), s!(2), s!(3), s!(4), s!(5), s!(6), s!(7)];
            let mut z = [_mm512_setzero_ps(); 2];
            for (pair, zp) in z.iter_mut().enumerate() {
                macro_rules! u {
                    ($j:literal) => {
                        _mm512_loadu_ps(rec[$j].as_ptr().cast::<f32>().add(16 * pair))
                    };
                }
                let r = _mm512_loadu_ps(row.as_ptr().cast::<f32>().add(16 * pair));
                let a0 = _mm512_fmadd_ps(s[4], u!(4), _mm512_fmadd_ps(s[0], u!(0), r));
                let a1 = _mm512_fmadd_ps(s[5], u!(5), _mm512_mul_ps(s[1], u!(1)));
                let a2 = _mm512_fmadd_ps(s[6], u!(6), _mm512_mul_ps(s[2], u!(2)));
                let a3 = _mm512_fmadd_ps(s[7], u!(7), _mm512_mul_ps(s[3], u!(3)));
                *zp = _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
            }
            z
        }
    }
}

/// The low 8 lanes of a zmm (free).
#[inline(always)]
fn low_half(v: __m512) -> __m256 {
    // SAFETY: a cast, no instruction; AVX-512F is enabled wherever this inlines (the
    // trampoline).
    unsafe { _mm512_castps512_ps256(v) }
}

/// The high 8 lanes of a zmm, by `vextractf64x4` (AVX-512F; the f32x8 form needs DQ).
#[inline(always)]
fn high_half(v: __m512) -> __m256 {
    // SAFETY: as `low_half`.
    unsafe { _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v))) }
}

#[cfg(test)]
mod tests {
    //! The AVX-512 overrides of the piecewise operations against the trait's lane-by-lane
    //! defaults (the portable ISA keeps them), on each 8-lane half.
    use core::arch::x86_64::__m512;

    use proptest::prelude::*;

    use super::super::activations::{sigmoid_piecewise, tanh_piecewise};
    use super::super::isa::Isa;
    use super::super::portable::Portable;
    use super::super::tables::GATE_C;
    use super::super::{Kernel, LstmState, fold_lstm};
    use super::Avx512;
    use crate::model::LstmWeights;
    use crate::shape::{EMBED, GATES, HIDDEN};

    /// Any f32 bit pattern, with the special values and interval edges often.
    fn any_f32() -> impl Strategy<Value = f32> {
        prop_oneof![
            any::<u32>().prop_map(f32::from_bits),
            (-40.0f32..40.0),
            prop::sample::select(vec![
                0.0,
                -0.0,
                0.25,
                -0.5,
                16.0,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NAN,
                -f32::NAN,
                f32::MIN_POSITIVE / 2.0,
            ]),
        ]
    }

    fn halves(v: [f32; 16]) -> [[f32; 8]; 2] {
        let mut h = [[0.0; 8]; 2];
        h[0].copy_from_slice(&v[..8]);
        h[1].copy_from_slice(&v[8..]);
        h
    }

    fn bits<const N: usize>(v: [f32; N]) -> [u32; N] {
        v.map(f32::to_bits)
    }

    /// The AVX-512 proof, or `None` after saying once, loudly, that this CPU cannot run these
    /// tests (no emulator here runs AVX-512; CI machines need not have it).
    fn avx512_or_say_skipped() -> Option<Avx512> {
        static SAID: std::sync::Once = std::sync::Once::new();
        let cpu = Avx512::detect();
        if cpu.is_none() {
            SAID.call_once(|| {
                eprintln!("\n=== SKIPPED x86_64_avx512 tests: no AVX-512F/BW/VL on this CPU ===\n")
            });
        }
        cpu
    }

    /// The LSTM step runs on the vectors `Avx512::zmm_lstm_step` names, seen where the two forms
    /// differ: a `g` pre-activation of exactly `−0` (its table row and recurrent column `−0`,
    /// `h = +0`) and `c = −0`. The 8-lane step gives AVX2's bits, `c' = f·c + i·tanh(g) = −0`
    /// and `h' = −0`; on zmm `tanh(g) = +0`, so `c' = −0 + +0 = +0` and `h' = +0`.
    #[test]
    fn the_lstm_step_runs_on_the_vectors_zmm_lstm_step_names() {
        let Some(cpu) = avx512_or_say_skipped() else {
            return;
        };
        let mut recurrent_kernel = [[0.0; GATES]; HIDDEN];
        for row in &mut recurrent_kernel {
            row[GATE_C * HIDDEN..(GATE_C + 1) * HIDDEN].fill(-0.0);
        }
        let w = LstmWeights {
            embedding: vec![[0.0; EMBED]; 2],
            kernel: [[0.0; GATES]; EMBED],
            recurrent_kernel,
            bias: [0.0; GATES],
            dense_kernel: [0.0; HIDDEN],
            dense_bias: 0.0,
        };
        let mut t = fold_lstm(&w);
        t.table_mut()[1].0[GATE_C] = [-0.0; HIDDEN];
        let step = |k: Kernel| {
            let mut s = LstmState {
                h: [0.0; HIDDEN],
                c: [-0.0; HIDDEN],
            };
            k.lstm_step(&t, &mut s, 1);
            (bits(s.c), bits(s.h))
        };
        let (neg, pos) = ([0x8000_0000; HIDDEN], [0; HIDDEN]);
        assert_eq!(step(Kernel::Avx2Fma(cpu.avx2_fma())), (neg, neg), "AVX2");
        let k = |zmm| Kernel::Avx512(cpu.with_zmm_lstm_step(zmm));
        assert_eq!(step(k(false)), (neg, neg), "the 8-lane step");
        assert_eq!(step(k(true)), (pos, pos), "the step on zmm");
    }

    /// The `[tanh | σ]` pair of 16 lanes against `tanh_piecewise` of the low 8 and
    /// `sigmoid_piecewise` of the high 8 on AVX2 (the 8-lane path the latency kernels run), bit
    /// for bit (NaN payloads aside), but `tanh(−0)`, which the pair gives as `+0`.
    fn pair_matches(wide: Avx512, x: [f32; 16]) -> Result<(), String> {
        let got = halves(wide.store(wide.tanh_sigmoid_piecewise(wide.load(&x))));
        let d = wide.x8();
        let [lo, hi] = halves(x);
        let want = [
            d.store(tanh_piecewise(d, d.load(&lo))),
            d.store(sigmoid_piecewise(d, d.load(&hi))),
        ];
        for (half, xs) in [lo, hi].iter().enumerate() {
            for l in 0..8 {
                let (g, mut w) = (got[half][l], want[half][l]);
                if half == 0 && xs[l].to_bits() == 0x8000_0000 {
                    assert_eq!(w.to_bits(), 0x8000_0000, "tanh_piecewise(-0)");
                    w = 0.0;
                }
                if g.to_bits() != w.to_bits() && !(g.is_nan() && w.is_nan()) {
                    let f = ["tanh", "sigmoid"][half];
                    return Err(format!(
                        "{f}({:e} = {:#x}): {g:e} != {w:e}",
                        xs[l],
                        xs[l].to_bits()
                    ));
                }
            }
        }
        Ok(())
    }

    #[test]
    fn tanh_sigmoid_pair_gives_the_two_forms_bits_on_a_sweep() {
        let Some(wide) = avx512_or_say_skipped() else {
            return;
        };
        // Every 257th bit pattern and its negation (every exponent of both signs, NaNs and
        // infinities among them), 16 at a time with the lane moving by one each pattern, and
        // each group again rotated by 8 lanes: every value through both functions.
        let (mut x, mut y) = ([0f32; 16], [0f32; 16]);
        for (n, b) in (0..=u32::MAX).step_by(257).enumerate() {
            x[n % 16] = f32::from_bits(b);
            y[n % 16] = f32::from_bits(b ^ 0x8000_0000);
            if n % 16 == 15 {
                for v in [x, y] {
                    pair_matches(wide, v).unwrap();
                    pair_matches(wide, std::array::from_fn(|l| v[(l + 8) % 16])).unwrap();
                }
            }
        }
        for v in [
            0.0,
            -0.0,
            f32::NAN,
            -f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ] {
            pair_matches(wide, [v; 16]).unwrap();
        }
    }

    proptest! {
        #[test]
        fn clamp_equals_the_default(x in prop::array::uniform16(any_f32())) {
            let Some(wide) = avx512_or_say_skipped() else { return Ok(()) };
            // The batch activations' clamps and an asymmetric one; a NaN `x` stays NaN (a
            // one-µop `vrangeps` clamp would return the bound there: `clamp_keep_nan`).
            for (lo, hi) in [(-87.0, 87.0), (-43.5, 43.5), (-1.0, 2.0)] {
                let got = halves(wide.store(wide.clamp_keep_nan(wide.load(&x), lo, hi)));
                for (half, xs) in halves(x).iter().enumerate() {
                    let d = Portable;
                    let want = d.store(d.clamp_keep_nan(d.load(xs), lo, hi));
                    for (g, w) in got[half].iter().zip(want) {
                        prop_assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                            "clamp({xs:?}, {lo}, {hi}): {g:?} {w:?}");
                    }
                }
            }
        }

        #[test]
        fn tanh_sigmoid_pair_gives_the_two_forms_bits(x in prop::array::uniform16(any_f32())) {
            let Some(wide) = avx512_or_say_skipped() else { return Ok(()) };
            pair_matches(wide, x).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn piecewise_ops_equal_the_defaults(
            x in prop::array::uniform16(any_f32()),
            p in prop::array::uniform16(0.0f32..2.0),
            table in prop::array::uniform8(-2.0f32..2.0),
        ) {
            let Some(wide) = avx512_or_say_skipped() else { return Ok(()) };
            let v = wide.load(&x);
            let (k, t) = wide.piecewise_interval::<124>(v);
            let (k1, t1) = wide.piecewise_interval::<125>(v);
            let looked = wide.lookup8(&table, k);
            let signed = wide.with_sign_of(wide.load(&p), v);
            let (xh, ph) = (halves(x), halves(p));
            for half in 0..2 {
                let lanes = 8 * half..8 * half + 8;
                let d = Portable;
                let dx = d.load(&xh[half]);
                let (dk, dt) = d.piecewise_interval::<124>(dx);
                let (dk1, dt1) = d.piecewise_interval::<125>(dx);
                // The index: only its low 3 bits are specified.
                let low3 = |v: [f32; 8]| v.map(|f| f.to_bits() & 7);
                let got = |v: __m512| halves(wide.store(v))[half];
                prop_assert_eq!(low3(got(k)), low3(d.store(dk)), "index, lanes {:?}", lanes.clone());
                prop_assert_eq!(low3(got(k1)), low3(d.store(dk1)));
                prop_assert_eq!(bits(got(t)), bits(d.store(dt)), "argument, lanes {:?}", lanes.clone());
                prop_assert_eq!(bits(got(t1)), bits(d.store(dt1)));
                prop_assert_eq!(bits(got(looked)), bits(d.store(d.lookup8(&table, dk))));
                let ds = d.with_sign_of(d.load(&ph[half]), dx);
                for (g, w) in got(signed).iter().zip(d.store(ds)) {
                    // NaN payloads are not specified; NaN-ness and every other bit are.
                    prop_assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()), "{g:?} {w:?}");
                }
            }
        }
    }
}
