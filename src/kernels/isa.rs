//! The instruction-set trait every vector body is written over, and the operation trait that
//! carries a body through the dispatch door.
//!
//! An [`Isa`] value is a proof that the CPU runs its instructions (for AVX2 it is the
//! [`super::Avx2Fma`] detection token), so every method is safe; the `unsafe` of an intrinsics
//! ISA lives in its impl, one `// SAFETY:` per method, and in its one `#[target_feature]`
//! trampoline ([`Op`]).
//!
//! The lane count is an associated constant: the batch bodies put one *sequence* per lane and
//! run unchanged with 8 lanes (AVX2, `wide`) or 16 (AVX-512); so does the training shard (16
//! sequences: one vector, or two halves). The bodies whose layout is tied to `HIDDEN = 8` (the
//! latency kernels with the 8 units in lanes) ask the
//! ISA for its 8-lane form ([`Isa::x8`]): itself for the 8-lane ISAs, AVX2 for AVX-512 (whose
//! proof implies AVX2 and FMA), so they too are written once.

use super::tables::Splat;
use crate::shape::HIDDEN;

/// The handful of f32 vector operations the kernels need.
pub(crate) trait Isa: Copy {
    /// Lanes per vector (8 or 16).
    const LANES: usize;
    /// `LANES` f32 lanes in a register.
    type V: Copy;
    /// The same lanes in memory: `[f32; LANES]`.
    type Lanes: Copy + Default + AsRef<[f32]> + AsMut<[f32]>;
    /// Anything per lane, `[T; LANES]`: the sequences of a batch block, their table rows, their
    /// batch indices (exactly `LANES`, so the bodies index them without bounds checks).
    type Arr<T: Copy>: Copy + AsRef<[T]> + AsMut<[T]>;
    /// The 8-lane ISA this proof also grants (see the module docs).
    type X8: Isa8;
    /// How many `V`s the registers hold (16 for AVX2; AVX-512 has 32; the portable `f32x8` on
    /// SSE 8): how much a body may keep in registers at once (the batch kernels' pipelined
    /// pairs, `simd::lstm_pair` and `simd::rnn_pair`; the training shard's accumulator tiles,
    /// `kernels::bptt`).
    const VECTOR_REGISTERS: usize = 16;
    /// Whether the activations that need only `1 + exp` build `2^n` by shifting the bits of the
    /// rounded sum ([`Isa::pow2_from_shifted`] and one FMA) rather than by [`Isa::scale_pow2`]
    /// and an add: the same bits either way; which is faster depends on the ISA (module docs of
    /// [`super::activations`], "The exponent by a shift").
    const EXP_BY_SHIFT: bool = true;
    /// Whether the notebook batch kernels run two blocks as the software-pipelined pair
    /// (`simd::lstm_pair`, `simd::rnn_pair`; both also need 32 registers) rather than as two
    /// alternating steps: the same bits; AVX-512 decides per CPU
    /// ([`super::Avx512::pipelined_pairs`]).
    #[inline(always)]
    fn pipelined_pairs(self) -> bool {
        true
    }

    /// The 8-lane form of this ISA.
    fn x8(self) -> Self::X8;
    /// `[x; LANES]`.
    fn arr<T: Copy>(self, x: T) -> Self::Arr<T>;
    fn splat(self, x: f32) -> Self::V;
    fn load(self, a: &Self::Lanes) -> Self::V;
    fn store(self, v: Self::V) -> Self::Lanes;
    /// The first `xs.len() ≤ LANES` lanes from `xs`, the rest 0 (a masked load where the ISA
    /// has one).
    #[inline(always)]
    fn load_partial(self, xs: &[f32]) -> Self::V {
        let mut a = Self::Lanes::default();
        a.as_mut()[..xs.len()].copy_from_slice(xs);
        self.load(&a)
    }
    /// The first `xs.len() ≤ LANES` lanes of `v` into `xs` (a masked store where the ISA has
    /// one).
    #[inline(always)]
    fn store_partial(self, v: Self::V, xs: &mut [f32]) {
        let a = self.store(v);
        xs.copy_from_slice(&a.as_ref()[..xs.len()]);
    }
    /// The first `LANES` floats of `xs` (an unaligned load). Panics if `xs` is shorter.
    #[inline(always)]
    fn load_slice(self, xs: &[f32]) -> Self::V {
        let mut a = Self::Lanes::default();
        a.as_mut().copy_from_slice(&xs[..Self::LANES]);
        self.load(&a)
    }
    /// `v` into the first `LANES` floats of `xs` (an unaligned store). Panics if `xs` is
    /// shorter.
    #[inline(always)]
    fn store_slice(self, v: Self::V, xs: &mut [f32]) {
        let a = self.store(v);
        xs[..Self::LANES].copy_from_slice(a.as_ref());
    }
    /// A hint to bring the cache line holding `xs[0]` into L1 (no-op where the ISA has no
    /// prefetch); never faults, whatever `xs` is.
    #[inline(always)]
    fn prefetch<T>(self, xs: &[T]) {
        let _ = xs;
    }
    /// One weight in every lane, from its pre-broadcast copy in the tables (8 lanes there; an
    /// ISA with more lanes broadcasts the first).
    fn splat_from(self, w: &Splat) -> Self::V;
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    fn div(self, a: Self::V, b: Self::V) -> Self::V;
    /// The square root of every lane, correctly rounded (IEEE 754, as `f32::sqrt`).
    fn sqrt(self, a: Self::V) -> Self::V;
    /// `a · b + c` (fused where the instruction set has FMA).
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `c − a · b` (fused where the instruction set has FMA).
    fn neg_mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `min(max(x, lo), hi)`, and `x` itself where `x` is NaN.
    fn clamp_keep_nan(self, x: Self::V, lo: f32, hi: f32) -> Self::V;
    /// `p · 2^n` for integer-valued `n`, `|n| ≤ 126`, `p ∈ [0.7, 1.42]` (see
    /// [`super::activations`]); where the result would be below 2^-126 any value below 2^-126
    /// will do, and a NaN `p` stays NaN.
    fn scale_pow2(self, p: Self::V, n: Self::V) -> Self::V;
    /// The float whose bits are `s`'s shifted left by 23 (one integer shift): for
    /// `s = 1.5·2^23 + 128 + n`, `n` an integer with `|n| ≤ 126`, the low 8 bits of its mantissa
    /// are `n + 128` and this is exactly `2^(n + 1)`; for any other `s`, some float.
    fn pow2_from_shifted(self, s: Self::V) -> Self::V;
    /// Lane `J` of `v` in every lane (`J < LANES`).
    fn lane_splat<const J: i32>(self, v: Self::V) -> Self::V;
    /// Whether the latency kernels splat the lanes of a state they carry in a register from its
    /// two halves ([`Isa::lane_halves`] once a step, then [`Isa::half_splat`] per lane) rather
    /// than with one [`Isa::lane_splat`] each: the same bits; the AVX2 kernel decides per CPU
    /// ([`super::Avx2Fma::splats_from_halves`]).
    #[inline(always)]
    fn splats_from_halves(self) -> bool {
        false
    }
    /// Whether the notebook LSTM's batch step runs its fused cell on all `HIDDEN` units at once
    /// rather than 4 at a time: the same bits; the AVX2 kernel decides per CPU
    /// ([`super::Avx2Fma::cells_by_eight`]).
    #[inline(always)]
    fn cells_by_eight(self) -> bool {
        false
    }
    /// `v`'s low half in both halves of one vector and its high half in both of another (an
    /// 8-lane ISA; the default, for ISAs that do not splat from halves, is `v` twice).
    #[inline(always)]
    fn lane_halves(self, v: Self::V) -> [Self::V; 2] {
        [v, v]
    }
    /// Lane `J` of the vector whose [`Isa::lane_halves`] are `halves`, in every lane.
    #[inline(always)]
    fn half_splat<const J: i32>(self, halves: [Self::V; 2]) -> Self::V {
        self.lane_splat::<J>(halves[0])
    }
    /// Load `LANES` rows of 8 floats and transpose: lane `l` of output `u` is `rows[l][u]`.
    fn gather_rows(self, rows: &Self::Arr<&[f32; HIDDEN]>) -> [Self::V; HIDDEN];

    // The batch (throughput) activations' reciprocal (issue 16 item 3; `super::activations`,
    // "Batch forms"): the division on every ISA today, so the batch kernels of AVX-512 and
    // AVX2 give the same bits. An ISA may override it with an estimate refined by a Newton step
    // where the divider is the bottleneck (AVX-512 did until Zen 4 measured it slower).

    /// `1 / d` for `d ∈ [1, 2^126]` or NaN (NaN stays NaN), within one ulp of the correctly
    /// rounded quotient. The default is the division itself (so the batch activations keep the
    /// division's bits on the ISAs that do not override it).
    #[inline(always)]
    fn recip(self, d: Self::V) -> Self::V {
        self.div(self.splat(1.0), d)
    }

    // The latency activations' saturation (`super::activations::sigmoid_latency`): a compare
    // and a blend beside the chain instead of a clamp on it. Lane-by-lane defaults for ISAs
    // whose latency bodies run elsewhere (AVX-512 runs them on its `x8()`, AVX2).

    /// Lanes where `|x| > limit` take `above`, the others (and NaN `x`) keep `v`.
    #[inline(always)]
    fn select_abs_gt(self, x: Self::V, limit: f32, above: Self::V, v: Self::V) -> Self::V {
        let (x, above, mut out) = (self.store(x), self.store(above), self.store(v));
        for ((o, x), a) in out.as_mut().iter_mut().zip(x.as_ref()).zip(above.as_ref()) {
            if x.abs() > limit {
                *o = *a;
            }
        }
        self.load(&out)
    }
    /// `v` with its sign flipped in the lanes where `s` has its sign bit set.
    #[inline(always)]
    fn xor_sign(self, v: Self::V, s: Self::V) -> Self::V {
        let (s, mut out) = (self.store(s), self.store(v));
        for (o, s) in out.as_mut().iter_mut().zip(s.as_ref()) {
            *o = f32::from_bits(o.to_bits() ^ (s.to_bits() & 0x8000_0000));
        }
        self.load(&out)
    }

    // The piecewise-polynomial tanh of the latency kernels
    // (`super::activations::tanh_piecewise`, issue 16): the interval of `|x|` read from its
    // exponent bits, the polynomial's argument, an 8-entry lane permute for the coefficients,
    // and the sign put back. Lane-by-lane defaults; the AVX2 ISA (which also runs AVX-512's
    // latency bodies) overrides them with single instructions.

    /// Per lane, with `a = |x|` and `e` the biased exponent of `a`: the interval index
    /// `clamp(e − BASE, 0, 7)`, given as any `i32` in the lane's bits whose low 3 bits are
    /// `(index + BASE) mod 8` (the clamped exponent `clamp(e, BASE, BASE + 7)` itself: the
    /// lookup reads a table rotated by `BASE`, so no subtraction sits on the chain), and the
    /// polynomial's argument: `a` itself where `e ≤ BASE` (interval 0), else `m − 1.5` with
    /// `m ∈ [1, 2)` the mantissa of `a` (exact). NaN and infinities land in interval 7.
    #[inline(always)]
    fn piecewise_interval<const BASE: i32>(self, x: Self::V) -> (Self::V, Self::V) {
        let (mut k, mut t) = (self.store(x), self.store(x));
        for (k, t) in k.as_mut().iter_mut().zip(t.as_mut()) {
            let a = t.to_bits() & 0x7fff_ffff;
            let e = (a >> 23) as i32;
            *k = f32::from_bits(e.clamp(BASE, BASE + 7) as u32);
            *t = if e <= BASE {
                f32::from_bits(a)
            } else {
                f32::from_bits((a & 0x007f_ffff) | 0x3f80_0000) - 1.5
            };
        }
        (self.load(&k), self.load(&t))
    }
    /// Lane `l` is `table[index[l] mod 8]`, `index` from [`Isa::piecewise_interval`] (one lane
    /// permute reads only the low 3 bits of its index).
    #[inline(always)]
    fn lookup8(self, table: &[f32; 8], index: Self::V) -> Self::V {
        let mut out = self.store(index);
        for o in out.as_mut() {
            *o = table[(o.to_bits() & 7) as usize];
        }
        self.load(&out)
    }
    // The LSTM latency kernel's step (issue 16, step 2): written once on the 8-lane form,
    // overridden by AVX-512 with two gates per zmm, which its cores run where it is faster.

    /// Whether the LSTM latency step runs on this ISA's own vectors
    /// ([`Isa::lstm_gate_activations`], which AVX-512 overrides with two gates per zmm) rather
    /// than on its 8-lane form [`Isa::X8`]: AVX-512 decides per CPU
    /// ([`super::Avx512::zmm_lstm_step`]); the 8-lane ISAs are their own 8-lane form.
    #[inline(always)]
    fn wide_lstm_step(self) -> bool {
        false
    }

    /// The LSTM latency kernel's activated gates `[σ(z_i), σ(z_f), tanh(z_g), σ(z_o)]` (lane =
    /// unit) of the pre-activations `z[g] = row[g] + Σ_j splat(h[j]) · rec[j][g]`, every lane
    /// summed in the one order of [`super::simd::lstm_gate_sums_lanes`], so that ISAs with
    /// fused FMA agree bitwise, and activated by the piecewise forms of [`super::activations`]
    /// (issue 16 item 2). Overridden by AVX-512, which runs the sums and the `[i | f]` sigmoids
    /// on two gates per zmm, with the same bits, and `tanh(g)`, `σ(o)` on `[g | o]`, with the
    /// same bits but `tanh(−0) = +0`.
    #[inline(always)]
    fn lstm_gate_activations(
        self,
        row: &[[f32; HIDDEN]; 4],
        rec: &[[[f32; HIDDEN]; 4]; HIDDEN],
        h: <Self::X8 as Isa>::V,
    ) -> [<Self::X8 as Isa>::V; 4] {
        use super::simd::{HSplat, InRegister};
        let x8 = self.x8();
        let z = super::simd::lstm_gate_sums_lanes(x8, row, rec, InRegister(h));
        let g_first = <InRegister<_> as HSplat<Self::X8>>::TANH_BEFORE_FORGET;
        super::simd::lstm_gate_activations_lanes(x8, z, g_first)
    }

    /// `p` (`≥ +0` or NaN) with the sign bit of `x`; NaN where `x` is NaN.
    #[inline(always)]
    fn with_sign_of(self, p: Self::V, x: Self::V) -> Self::V {
        let (x, mut out) = (self.store(x), self.store(p));
        for (o, x) in out.as_mut().iter_mut().zip(x.as_ref()) {
            *o = if x.is_nan() {
                *x
            } else {
                f32::from_bits(o.to_bits() | (x.to_bits() & 0x8000_0000))
            };
        }
        self.load(&out)
    }
}

/// An ISA with one lane per hidden unit (`LANES = HIDDEN = 8`): what the latency and training
/// bodies are written over.
pub(crate) trait Isa8: Isa<Lanes = [f32; HIDDEN]> {}

impl<I: Isa<Lanes = [f32; HIDDEN]>> Isa8 for I {}

/// One kernel operation: its scalar reference and its vector body, written once over [`Isa`].
///
/// [`super::Kernel::dispatch`] is the one door: the reference kernel calls
/// [`Op::reference`], the portable kernel calls [`Op::run`] with `wide`, and each intrinsics
/// ISA calls [`Op::run`] inside its one `#[target_feature]` trampoline, into which `run` (and
/// everything it calls, all `#[inline(always)]`) inlines. A new operation is a new `Op`, never a
/// new wrapper per ISA.
pub(crate) trait Op {
    type Output;
    /// The scalar reference ([`super::reference`]).
    fn reference(self) -> Self::Output;
    /// The vector body; implementations must be `#[inline(always)]`.
    fn run<I: Isa>(self, isa: I) -> Self::Output;
}
