//! The AVX2+FMA kernel: the generic bodies (`kernels::simd`, `kernels::bptt`) on `core::arch`
//! intrinsics, 8 lanes per `__m256`.
//!
//! Every operation enters through one trampoline, [`dispatch`]: a safe function taking the
//! [`Avx2Fma`] proof token and calling the one `unsafe fn … #[target_feature(enable =
//! "avx2,fma")]`, which runs the operation's body. That feature list must stay identical to what
//! [`Avx2Fma::detect`] checks. The `Isa` methods are safe for the same reason: they take the
//! token as `self`. They are `#[inline(always)]`, as is every body, so in an optimised build
//! they inline into the trampoline's instance for that operation and become single VEX
//! instructions.
//!
//! The throughput kernels' gather (`gather_rows`) builds the 8×8 transpose from 128-bit loads:
//! `vinsertf128` with a memory operand puts rows `l` and `l + 4` into the two halves of one
//! register, so the lane-crossing step of the transpose costs no shuffle µop, and the rest is
//! two in-lane 4×4 transposes (`vunpck{l,h}ps` + `vshufps`, 16 shuffles per gate block).
//! Measured against `_mm256_i32gather_ps` (one 8-lane gather per unit and gate, 32 per LSTM
//! step) on Zen 3: the gathers made the LSTM batch kernel 28 % slower and the SimpleRNN one
//! 35 % slower, so the transpose stays.
//!
//! `load_partial` / `store_partial` (a slice's last, short vector: the general kernels'
//! input rows and states where the units are not a multiple of 8) are `vmaskmovps`, its mask a
//! window into a table of ones and zeros. The trait's default copied through a zeroed block, a
//! `memcpy` of variable length and a store that the next vector load could not forward from.
//! Measured on an Intel Xeon (family 6 model 207, 2026-12-04; 96 sequences × 200 tokens, fastest
//! of 30 calls), per sequence-step: LSTM(1) 81 → 45 ns, LSTM(9) 109 → 84, GRU(9) 95 → 56,
//! SimpleRNN(9) 24 → 17; one review of 200 steps, LSTM(1) 15.6 → 9.7 µs. Not measured on AMD,
//! whose masked stores are slower than Intel's.

use core::arch::x86_64::*;

use super::Avx2Fma;
use super::isa::{Isa, Op};
use super::tables::Splat;
use crate::shape::HIDDEN;

/// The door: run `op`'s vector body with AVX2+FMA.
#[inline(always)]
pub(super) fn dispatch<O: Op>(cpu: Avx2Fma, op: O) -> O::Output {
    // SAFETY: an `Avx2Fma` value exists only if `Avx2Fma::detect` saw AVX2 and FMA, the features
    // `run_avx2_fma` enables.
    unsafe { run_avx2_fma(cpu, op) }
}

/// # Safety
/// The CPU must support AVX2 and FMA (see [`Avx2Fma::detect`]).
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2_fma<O: Op>(cpu: Avx2Fma, op: O) -> O::Output {
    op.run(cpu)
}

/// The mask of the first `n ≤ 8` lanes (a lane's sign bit set), for `vmaskmovps`: a window of
/// eight of sixteen `i32`s, the first eight all ones. Panics if `n > 8`.
#[inline(always)]
fn first_lanes(_cpu: Avx2Fma, n: usize) -> __m256i {
    static WINDOW: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];
    let w = &WINDOW[8 - n..16 - n];
    // SAFETY: AVX proven by `_cpu`; `w` is 8 readable `i32`s (unaligned load).
    unsafe { _mm256_loadu_si256(w.as_ptr().cast()) }
}

impl Isa for Avx2Fma {
    const LANES: usize = 8;
    type V = __m256;
    type Lanes = [f32; 8];
    type Arr<T: Copy> = [T; 8];
    type X8 = Avx2Fma;

    #[inline(always)]
    fn x8(self) -> Avx2Fma {
        self
    }
    #[inline(always)]
    fn arr<T: Copy>(self, x: T) -> [T; 8] {
        [x; 8]
    }

    #[inline(always)]
    fn splat(self, x: f32) -> __m256 {
        // SAFETY: `self` proves AVX2+FMA (see `Avx2Fma::detect`).
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    fn load(self, a: &[f32; 8]) -> __m256 {
        // SAFETY: AVX proven by `self`; `a` is 8 readable floats (unaligned load).
        unsafe { _mm256_loadu_ps(a.as_ptr()) }
    }
    #[inline(always)]
    fn store(self, v: __m256) -> [f32; 8] {
        let mut out = [0f32; 8];
        // SAFETY: AVX proven by `self`; `out` is 8 writable floats (unaligned store).
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), v) };
        out
    }
    #[inline(always)]
    fn load_partial(self, xs: &[f32]) -> __m256 {
        // SAFETY: AVX proven by `self`; `vmaskmovps` reads (and may fault on) only the lanes
        // whose mask is set, exactly the `xs.len()` floats in `xs`, and zeroes the rest.
        unsafe { _mm256_maskload_ps(xs.as_ptr(), first_lanes(self, xs.len())) }
    }
    #[inline(always)]
    fn store_partial(self, v: __m256, xs: &mut [f32]) {
        // SAFETY: AVX proven by `self`; `vmaskmovps` writes only the lanes whose mask is set,
        // exactly the `xs.len()` floats of `xs`, which is a unique borrow.
        unsafe { _mm256_maskstore_ps(xs.as_mut_ptr(), first_lanes(self, xs.len()), v) }
    }
    #[inline(always)]
    fn prefetch<T>(self, xs: &[T]) {
        // SAFETY: SSE (implied by AVX2) proven by `self`; a prefetch never faults and reads no memory architecturally.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(xs.as_ptr().cast()) }
    }
    #[inline(always)]
    fn splat_from(self, w: &Splat) -> __m256 {
        // The 8 copies are loaded as they are: `vfmadd231ps` takes them as a memory operand,
        // where a broadcast would be a µop of its own.
        self.load(&w.0)
    }
    #[inline(always)]
    fn add(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX proven by `self`.
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX proven by `self`.
        unsafe { _mm256_sub_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX proven by `self`.
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    fn div(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX proven by `self`.
        unsafe { _mm256_div_ps(a, b) }
    }
    #[inline(always)]
    fn sqrt(self, a: __m256) -> __m256 {
        // SAFETY: AVX proven by `self`.
        unsafe { _mm256_sqrt_ps(a) }
    }
    #[inline(always)]
    fn mul_add(self, a: __m256, b: __m256, c: __m256) -> __m256 {
        // SAFETY: FMA proven by `self`.
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn neg_mul_add(self, a: __m256, b: __m256, c: __m256) -> __m256 {
        // SAFETY: FMA proven by `self`.
        unsafe { _mm256_fnmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn clamp_keep_nan(self, x: __m256, lo: f32, hi: f32) -> __m256 {
        // `vmaxps a, x` / `vminps a, x` return their second operand when either is NaN.
        // SAFETY: AVX proven by `self`.
        unsafe { _mm256_min_ps(_mm256_set1_ps(hi), _mm256_max_ps(_mm256_set1_ps(lo), x)) }
    }
    #[inline(always)]
    fn scale_pow2(self, p: __m256, n: __m256) -> __m256 {
        // SAFETY: AVX2 proven by `self`.
        unsafe {
            let e = _mm256_slli_epi32::<23>(_mm256_cvttps_epi32(n));
            _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e))
        }
    }
    #[inline(always)]
    fn pow2_from_shifted(self, s: __m256) -> __m256 {
        // SAFETY: AVX2 proven by `self`.
        unsafe { _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_castps_si256(s))) }
    }
    #[inline(always)]
    fn lane_splat<const J: i32>(self, v: __m256) -> __m256 {
        // One `vpermps` with its index read from memory: given the constant index, LLVM rewrote
        // the permute as two shuffles for most lanes (`vshufps` then `vpermpd`, or `vshufps`
        // then `vbroadcastss`), both on Golden Cove's one shuffle port and a cycle longer. The
        // volatile read hides the index's value; the load is off the chain (simd.rs, "One
        // permute per lane splat").
        // SAFETY: AVX2 proven by `self`; the index is a whole row of `LANE_INDEX`, 32 bytes at a
        // 32-byte boundary, read as one `__m256i`.
        unsafe {
            let row: *const [i32; 8] = &LANE_INDEX.0[J as usize];
            _mm256_permutevar8x32_ps(v, core::ptr::read_volatile(row.cast::<__m256i>()))
        }
    }
    #[inline(always)]
    fn splats_from_halves(self) -> bool {
        self.splats_from_halves()
    }
    #[inline(always)]
    fn cells_by_eight(self) -> bool {
        self.cells_by_eight()
    }
    #[inline(always)]
    fn lane_halves(self, v: __m256) -> [__m256; 2] {
        // SAFETY: `self` proves AVX2+FMA, which include the AVX `lane_halves_asm` is compiled
        // for.
        unsafe { lane_halves_asm(v) }
    }
    #[inline(always)]
    fn half_splat<const J: i32>(self, halves: [__m256; 2]) -> __m256 {
        let half = halves[(J / 4) as usize];
        // One in-lane `vshufps` (or `vpermilps`) with an immediate. SAFETY: AVX proven by `self`.
        unsafe {
            match J % 4 {
                0 => _mm256_permute_ps::<0x00>(half),
                1 => _mm256_permute_ps::<0x55>(half),
                2 => _mm256_permute_ps::<0xaa>(half),
                _ => _mm256_permute_ps::<0xff>(half),
            }
        }
    }
    #[inline(always)]
    fn gather_rows(self, rows: &[&[f32; HIDDEN]; 8]) -> [__m256; HIDDEN] {
        // SAFETY: AVX proven by `self`; every pointer is the start or the middle of an
        // `[f32; 8]`, so each 128-bit (4-float) load is in bounds.
        unsafe {
            let pair = |k: usize, half: usize| {
                let lo = _mm_loadu_ps(rows[k].as_ptr().add(4 * half));
                let hi = _mm_loadu_ps(rows[k + 4].as_ptr().add(4 * half));
                _mm256_insertf128_ps::<1>(_mm256_castps128_ps256(lo), hi)
            };
            let mut out = [_mm256_setzero_ps(); 8];
            for half in 0..2 {
                // a_k = [row k, cols 4·half..+4 | row k+4, same cols]
                let (a0, a1, a2, a3) = (pair(0, half), pair(1, half), pair(2, half), pair(3, half));
                let t0 = _mm256_unpacklo_ps(a0, a1);
                let t1 = _mm256_unpackhi_ps(a0, a1);
                let t2 = _mm256_unpacklo_ps(a2, a3);
                let t3 = _mm256_unpackhi_ps(a2, a3);
                out[4 * half] = _mm256_shuffle_ps::<0x44>(t0, t2);
                out[4 * half + 1] = _mm256_shuffle_ps::<0xee>(t0, t2);
                out[4 * half + 2] = _mm256_shuffle_ps::<0x44>(t1, t3);
                out[4 * half + 3] = _mm256_shuffle_ps::<0xee>(t1, t3);
            }
            out
        }
    }
    #[inline(always)]
    fn select_abs_gt(self, x: __m256, limit: f32, above: __m256, v: __m256) -> __m256 {
        // SAFETY: AVX proven by `self`.
        unsafe {
            let abs = _mm256_andnot_ps(_mm256_set1_ps(-0.0), x);
            // Ordered compare: false for NaN, so a NaN `x` keeps `v`.
            let mask = _mm256_cmp_ps::<_CMP_GT_OQ>(abs, _mm256_set1_ps(limit));
            _mm256_blendv_ps(v, above, mask)
        }
    }
    #[inline(always)]
    fn xor_sign(self, v: __m256, s: __m256) -> __m256 {
        // SAFETY: AVX proven by `self`.
        unsafe { _mm256_xor_ps(v, _mm256_and_ps(_mm256_set1_ps(-0.0), s)) }
    }

    // The piecewise tanh (see `Isa::piecewise_interval`): integer ops on the bits of `x` and
    // one `vpermps` per coefficient.
    #[inline(always)]
    fn piecewise_interval<const BASE: i32>(self, x: __m256) -> (__m256, __m256) {
        // SAFETY: AVX2 proven by `self`.
        unsafe {
            let bits = _mm256_castps_si256(x);
            // The index chain is three 1-µop links (issue 16, Zen 5 account in `simd.rs`):
            // `x >> 23` is `sign << 8 | e`, and a byte-wise unsigned clamp puts byte 0 (the
            // exponent) in `[BASE, BASE + 7]`; the other bytes (the sign among them) become
            // `BASE` too, but `vpermps` reads only the low 3 bits of each lane.
            let e = _mm256_srli_epi32::<23>(bits);
            let k = _mm256_min_epu8(
                _mm256_max_epu8(e, _mm256_set1_epi8(BASE as i8)),
                _mm256_set1_epi8((BASE + 7) as i8),
            );
            // The argument, beside the index chain: the mantissa of `x` is that of `|x|`.
            let m = _mm256_or_si256(
                _mm256_and_si256(bits, _mm256_set1_epi32(0x007f_ffff)),
                _mm256_set1_epi32(0x3f80_0000),
            );
            let tm = _mm256_sub_ps(_mm256_castsi256_ps(m), _mm256_set1_ps(1.5));
            let a = _mm256_andnot_ps(_mm256_set1_ps(-0.0), x);
            let ea = _mm256_srli_epi32::<23>(_mm256_castps_si256(a));
            let bottom = _mm256_cmpgt_epi32(_mm256_set1_epi32(BASE + 1), ea);
            let t = _mm256_blendv_ps(tm, a, _mm256_castsi256_ps(bottom));
            (_mm256_castsi256_ps(k), t)
        }
    }
    #[inline(always)]
    fn lookup8(self, table: &[f32; 8], index: __m256) -> __m256 {
        // SAFETY: AVX2 proven by `self`; `table` is 8 readable floats (unaligned load).
        unsafe {
            _mm256_permutevar8x32_ps(_mm256_loadu_ps(table.as_ptr()), _mm256_castps_si256(index))
        }
    }
    #[inline(always)]
    fn with_sign_of(self, p: __m256, x: __m256) -> __m256 {
        // SAFETY: AVX proven by `self`.
        unsafe {
            // The sign bit of `x`, or all of `x` where it is NaN: OR-ing a NaN's bits into `p`
            // gives an all-ones exponent and a non-zero mantissa, a NaN.
            let nan = _mm256_cmp_ps::<_CMP_UNORD_Q>(x, x);
            let s = _mm256_and_ps(x, _mm256_or_ps(nan, _mm256_set1_ps(-0.0)));
            _mm256_or_ps(p, s)
        }
    }
}

/// `[v₀..₄ | v₀..₄]` and `[v₄..₈ | v₄..₈]`: one `vinsertf128` and one `vperm2f128`, for
/// [`Isa::half_splat`]'s in-lane splats (`simd.rs`, "Splats from halves on Zen 3").
///
/// In `asm!` so that LLVM cannot see through them: as shuffles it folds each half and the
/// in-lane splat after it into one lane splat, which it lowers as it likes (`vshufps` then
/// `vpermpd` for most lanes; `vpermpd` takes 6.5 cycles on Zen 3). `#[target_feature]`
/// because `ymm_reg` operands need AVX in the function that names them; it inlines into the
/// trampoline, which has it.
#[target_feature(enable = "avx")]
#[inline]
fn lane_halves_asm(v: __m256) -> [__m256; 2] {
    let (lo, hi): (__m256, __m256);
    // SAFETY: AVX is enabled here; the two instructions read `v` and write `lo` and `hi`, all
    // registers named to the compiler: no memory, no stack, no flags.
    unsafe {
        core::arch::asm!(
            "vinsertf128 {lo}, {v}, {v:x}, 1",
            "vperm2f128 {hi}, {v}, {v}, 0x11",
            v = in(ymm_reg) v,
            lo = out(ymm_reg) lo,
            hi = out(ymm_reg) hi,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    [lo, hi]
}

/// Row `j` is the `vpermps` index of lane `j` (eight `j`s), for [`Avx2Fma`]'s `lane_splat`.
#[repr(C, align(32))]
struct LaneIndex([[i32; 8]; 8]);

static LANE_INDEX: LaneIndex = LaneIndex([
    [0; 8], [1; 8], [2; 8], [3; 8], [4; 8], [5; 8], [6; 8], [7; 8],
]);
