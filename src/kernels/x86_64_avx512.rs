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
//! The latency kernels and the training shard keep their one-unit-per-lane layout and run on
//! the AVX2 instructions this proof also grants (`Isa::x8`), inside the same trampoline, so they
//! give the AVX2 path's bits; the one exception, the LSTM step's recurrent sum
//! (`Isa::lstm_gate_sums`), runs two gates per zmm in the same order of operations, and so
//! gives the same bits too.
//!
//! Every operation enters through one trampoline, [`dispatch`], whose feature list must stay
//! identical to what [`Avx512::detect`] checks.

// The AVX-512 intrinsics and target features are stable since Rust 1.89, the workspace's
// `rust-version`.

use core::arch::x86_64::*;

use super::isa::{Isa, Op};
use super::tables::Splat;
use super::{Avx2Fma, Avx512};
use crate::shape::HIDDEN;

/// The door: run `op`'s vector body with AVX-512.
#[inline]
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
    type V = __m512;
    type Lanes = [f32; 16];
    type Arr<T: Copy> = [T; 16];
    type X8 = Avx2Fma;

    #[inline(always)]
    fn x8(self) -> Avx2Fma {
        self.avx2_fma()
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
    fn prefetch(self, xs: &[f32]) {
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
        // `vmaxps a, x` / `vminps a, x` return their second operand when either is NaN.
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
    fn recip(self, d: __m512) -> __m512 {
        // `vrcp14ps` (relative error below 2^-14) and one Newton step `y + y·(1 − d·y)`: error
        // below 2^-28 plus the last FMA's rounding. Three FMA-port µops and no divider, where a
        // zmm `vdivps` occupies the divider ~12 cycles (the batch kernels' bottleneck; account
        // in `simd.rs`). `d ≤ 2^126` keeps the estimate normal; NaN stays NaN.
        // SAFETY: AVX-512F proven by `self`.
        unsafe {
            let y = _mm512_rcp14_ps(d);
            let t = _mm512_fnmadd_ps(d, y, _mm512_set1_ps(1.0));
            _mm512_fmadd_ps(y, t, y)
        }
    }
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
    #[inline(always)]
    fn lstm_gate_sums(
        self,
        row: &[[f32; HIDDEN]; 4],
        rec: &[[[f32; HIDDEN]; 4]; HIDDEN],
        h: __m256,
    ) -> [__m256; 4] {
        // `simd::lstm_gate_sums_lanes` with two gates per zmm, `[i | f]` and `[g | o]` (Keras'
        // order, adjacent in memory): 16 FMAs instead of 32 ymm ones, each lane computed by
        // the same operations in the same order, so the bits are the AVX2 path's. `i` and `g`
        // are the low halves (free); `f` and `o` cost one extract, and the step reads them
        // last (`simd::lstm_cell_lanes`).
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
            // The high half by `vextractf64x4` (AVX-512F; the f32x8 form needs DQ).
            let hi = |v: __m512| _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
            [
                _mm512_castps512_ps256(z[0]),
                hi(z[0]),
                _mm512_castps512_ps256(z[1]),
                hi(z[1]),
            ]
        }
    }
    #[inline(always)]
    fn gather_rows(self, rows: &[&[f32; HIDDEN]; 16]) -> [__m512; HIDDEN] {
        // SAFETY: AVX-512F proven by `self`; every pointer is the start or the middle of an
        // `[f32; 8]`, so each 128-bit (4-float) load is in bounds.
        unsafe {
            // a_k = [row k | row k+4 | row k+8 | row k+12], columns 4·half..+4 of each: the
            // lane-crossing part of the transpose is done by the loads.
            let quad = |k: usize, half: usize| {
                let q = |r: usize| _mm_loadu_ps(rows[r].as_ptr().add(4 * half));
                let v = _mm512_castps128_ps512(q(k));
                let v = _mm512_insertf32x4::<1>(v, q(k + 4));
                let v = _mm512_insertf32x4::<2>(v, q(k + 8));
                _mm512_insertf32x4::<3>(v, q(k + 12))
            };
            let mut out = [_mm512_setzero_ps(); HIDDEN];
            for half in 0..2 {
                let (a0, a1, a2, a3) = (quad(0, half), quad(1, half), quad(2, half), quad(3, half));
                // Four in-lane 4×4 transposes.
                let t0 = _mm512_unpacklo_ps(a0, a1);
                let t1 = _mm512_unpackhi_ps(a0, a1);
                let t2 = _mm512_unpacklo_ps(a2, a3);
                let t3 = _mm512_unpackhi_ps(a2, a3);
                out[4 * half] = _mm512_shuffle_ps::<0x44>(t0, t2);
                out[4 * half + 1] = _mm512_shuffle_ps::<0xee>(t0, t2);
                out[4 * half + 2] = _mm512_shuffle_ps::<0x44>(t1, t3);
                out[4 * half + 3] = _mm512_shuffle_ps::<0xee>(t1, t3);
            }
            out
        }
    }
}
