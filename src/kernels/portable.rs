//! The portable kernel: the generic bodies (`kernels::simd`, `kernels::bptt`) on `wide::f32x8`.
//! No `unsafe` and no trampoline: [`super::Kernel::dispatch`] calls the bodies directly, but
//! for the operations of any shape, whose door is [`dispatch`] (out of line).
//!
//! `wide` chooses its instructions when it is compiled: on a default x86-64 build an `f32x8` is
//! two SSE halves and there is no FMA, so `mul_add` below is written `a * b + c`. Built with
//! `-C target-cpu=native` the same code becomes AVX (and FMA, when `wide` sees it).

use wide::{f32x8, i32x8};

use super::isa::{Isa, Op};
use super::tables::Splat;
use crate::shape::HIDDEN;

/// The door of the operations for any shape (`Kernel::dispatch_shaped`): run `op`'s vector body
/// on `wide`, out of line.
///
/// So each shape's body is one function, not inlined with every other shape's into the
/// function that matches on the shape. An optimised build shares the stack slots of bodies that
/// never run together; a build without optimisation does not, and there one such function's
/// frame (the closure of `Kernel::net_steps_ids`, x86-64 `dev` build) was 2.9 MB, over a
/// spawned thread's 2 MiB stack (`tests/thread_stack.rs`).
///
/// Not the door of the fixed-shape operations (one body each, inline in `Kernel::dispatch`):
/// there the call moved the notebook SimpleRNN's session step (`fusedrnn bench`, AMD EPYC Zen 4,
/// AVX-512 machine) from 15.3–17.8 ns to 26 ns in most runs, though that kernel is AVX2's, by
/// changing the code around its call.
#[inline(never)]
pub(super) fn dispatch<O: Op>(op: O) -> O::Output {
    op.run(Portable)
}

/// The `wide` instruction set: always available.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Portable;

impl Isa for Portable {
    const LANES: usize = 8;
    type V = f32x8;
    type Lanes = [f32; 8];
    type Arr<T: Copy> = [T; 8];
    type X8 = Portable;
    /// An `f32x8` takes two of NEON's 32 registers or of SSE's 16 (one of AVX's 16).
    const VECTOR_REGISTERS: usize = if cfg!(any(target_arch = "aarch64", target_feature = "avx")) {
        16
    } else {
        8
    };

    #[inline(always)]
    fn x8(self) -> Portable {
        self
    }
    #[inline(always)]
    fn arr<T: Copy>(self, x: T) -> [T; 8] {
        [x; 8]
    }

    #[inline(always)]
    fn splat(self, x: f32) -> f32x8 {
        f32x8::splat(x)
    }
    #[inline(always)]
    fn load(self, a: &[f32; 8]) -> f32x8 {
        f32x8::from(*a)
    }
    #[inline(always)]
    fn store(self, v: f32x8) -> [f32; 8] {
        v.to_array()
    }
    #[inline(always)]
    fn splat_from(self, w: &Splat) -> f32x8 {
        f32x8::from(w.0)
    }
    #[inline(always)]
    fn add(self, a: f32x8, b: f32x8) -> f32x8 {
        a + b
    }
    #[inline(always)]
    fn sub(self, a: f32x8, b: f32x8) -> f32x8 {
        a - b
    }
    #[inline(always)]
    fn mul(self, a: f32x8, b: f32x8) -> f32x8 {
        a * b
    }
    #[inline(always)]
    fn div(self, a: f32x8, b: f32x8) -> f32x8 {
        a / b
    }
    #[inline(always)]
    fn sqrt(self, a: f32x8) -> f32x8 {
        a.sqrt()
    }
    #[inline(always)]
    fn mul_add(self, a: f32x8, b: f32x8, c: f32x8) -> f32x8 {
        a * b + c
    }
    #[inline(always)]
    fn neg_mul_add(self, a: f32x8, b: f32x8, c: f32x8) -> f32x8 {
        c - a * b
    }
    #[inline(always)]
    fn clamp_keep_nan(self, x: f32x8, lo: f32, hi: f32) -> f32x8 {
        // `fast_max(a, b)` / `fast_min(a, b)` are `maxps a, b` / `minps a, b`, which return `b`
        // when either is NaN.
        f32x8::splat(hi).fast_min(f32x8::splat(lo).fast_max(x))
    }
    #[inline(always)]
    fn scale_pow2(self, p: f32x8, n: f32x8) -> f32x8 {
        let bits: i32x8 = bytemuck::cast(p);
        bytemuck::cast(bits + (n.fast_trunc_int() << 23))
    }
    #[inline(always)]
    fn pow2_from_shifted(self, s: f32x8) -> f32x8 {
        let bits: i32x8 = bytemuck::cast(s);
        bytemuck::cast(bits << 23)
    }
    #[inline(always)]
    fn lane_splat<const J: i32>(self, v: f32x8) -> f32x8 {
        f32x8::splat(v.to_array()[J as usize])
    }
    #[inline(always)]
    fn gather_rows(self, rows: &[&[f32; HIDDEN]; 8]) -> [f32x8; HIDDEN] {
        f32x8::transpose(rows.map(|r| f32x8::from(*r)))
    }
    #[inline(always)]
    fn select_abs_gt(self, x: f32x8, limit: f32, above: f32x8, v: f32x8) -> f32x8 {
        // `simd_gt` is an ordered compare: false for NaN. Then `mask ? above : v` by bits.
        let mask = x.abs().simd_gt(f32x8::splat(limit));
        v ^ ((v ^ above) & mask)
    }
    #[inline(always)]
    fn xor_sign(self, v: f32x8, s: f32x8) -> f32x8 {
        v ^ (s & f32x8::splat(-0.0))
    }
}
