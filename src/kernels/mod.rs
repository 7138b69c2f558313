//! Kernel choice and the kernels.
//!
//! This module is the one place that asks the CPU what it can do. [`Kernel::select`] picks the
//! best kernel once (normally when a model is loaded), honouring the `FUSEDRNN_KERNEL`
//! environment variable, and every kernel has a printable [`Kernel::name`]:
//!
//! | kernel                | name                | what it is                                          |
//! |-----------------------|---------------------|-----------------------------------------------------|
//! | [`Kernel::Reference`] | `reference`         | scalar f32 loops ([`mod@reference`]), the test oracle|
//! | [`Kernel::Portable`]  | `portable-wide`     | `wide::f32x8` (`portable.rs`), any CPU              |
//! | same, on aarch64      | `portable-neon`     | `wide::f32x8` as two NEON `float32x4_t` halves      |
//! | [`Kernel::Avx2Fma`]   | `x86_64-avx2-fma`   | `core::arch` intrinsics (`x86_64_avx2_fma.rs`)      |
//! | [`Kernel::Avx512`]    | `x86_64-avx512`     | AVX-512F/BW/VL intrinsics (`x86_64_avx512.rs`)      |
//!
//! Every kernel reads the folded weights of [`tables`] ([`fold_lstm`], [`fold_rnn`]) and offers:
//! a throughput forward pass over a batch (one sequence per SIMD lane), a latency step of one
//! sequence (the gates in the lanes), a whole review (100 steps from the padding cache), and the
//! training shard's forward and backward passes.
//!
//! # The dispatch door
//!
//! Each operation is written once: a scalar reference ([`mod@reference`]) and one vector body
//! over the `Isa` trait (`isa.rs`) (`simd.rs` and `net_simd.rs` for inference, `bptt.rs` and
//! `net_train.rs` for training, `activations.rs`), bundled as an `Op` (`ops.rs`).
//! `Kernel::dispatch` is the only `match` on the kernel: the reference kernel runs the
//! reference, the portable kernel runs the body with `wide`, and each intrinsics ISA runs it
//! through its single `#[target_feature]` trampoline (the pattern of pulp's `Arch::dispatch`
//! and rten-simd's `dispatch`). New operations add an `Op`, not a wrapper per ISA. `unsafe`
//! lives only in the ISA impls and their trampolines. The operations for any shape
//! (`net_ops.rs`) pass the same door once per shape: `Kernel::dispatch_shaped` picks the
//! shape's const parameters first and dispatches `AtShape<op, units, cell>`, so each shape's
//! body is a trampoline (one function) of its own (`net_simd.rs`, "One trampoline per shape");
//! the portable kernel's too, through `portable::dispatch` (out of line). That door
//! (`net_ops`' `Door`) matches the kernel itself, the same arms but the portable one.
//!
//! ```text
//! mod.rs ── Kernel::dispatch(op) ─┬─ Reference → op.reference()          reference.rs
//!                                 ├─ Portable  → op.run(Portable)        portable.rs (wide)
//!                                 ├─ Avx2Fma   → #[target_feature] run   x86_64_avx2_fma.rs
//!                                 │                └─ op.run(Avx2Fma)
//!                                 └─ Avx512    → #[target_feature] run   x86_64_avx512.rs
//!                                                  └─ op.run(Avx512)
//! op.run: simd.rs / bptt.rs / activations.rs bodies over isa.rs's `Isa` (no cycles: isa ← tables,
//! activations ← isa, simd ← activations + reference + tables, ops ← simd, mod ← everything)
//! ```
//!
//! Tokens must be rows of the table (`< vocab`): the token file validates that when it is opened.
//! The safe functions here check it anyway through ordinary slice indexing and panic on an
//! out-of-range token; there is no unchecked indexing.

pub mod activations;
// The training shard's passes; the trainer reaches them through `Kernel::dispatch`.
pub(crate) mod bptt;
pub mod gemm;
mod isa;
mod lines;
mod net_ops;
mod net_simd;
pub(crate) mod net_train;
mod ops;
mod portable;
pub mod reference;
mod simd;
pub mod tables;
mod tanh_piecewise_table;
#[cfg(target_arch = "x86_64")]
mod x86_64_avx2_fma;
#[cfg(target_arch = "x86_64")]
mod x86_64_avx512;

pub use activations::Activation;
pub(crate) use isa::Op;
pub(crate) use lines::{LINE_FLOATS, LineFloats, on_line};
pub use net_train::RowsInit;
pub use tables::{
    GATE_C, GATE_F, GATE_I, GATE_O, GateRow, HiddenRow, LstmState, LstmTables, RnnState, RnnTables,
    leading_pads,
};

use crate::model::{LstmWeights, RnnWeights};
use crate::net::{NetPadCache, NetState, NetTables, TokenId};
use crate::shape::{HIDDEN, SEQ_LEN};
use crate::tokfile::TokenIds;

/// The environment variable that forces a kernel: `reference`, `portable`, `avx2-fma` or
/// `avx512` (`neon` on aarch64: the portable kernel there).
pub const KERNEL_ENV: &str = "FUSEDRNN_KERNEL";

/// Fold LSTM weights into [`LstmTables`] with the padding cache stepped by the reference kernel
/// (see [`Kernel::fold_lstm`] for a cache in a given kernel's arithmetic). Panics if the
/// vocabulary is empty (there is no pad token to cache).
pub fn fold_lstm(w: &LstmWeights) -> LstmTables {
    Kernel::Reference.fold_lstm(w)
}

/// Fold SimpleRNN weights (embedding or one-hot input) into [`RnnTables`] with the padding cache
/// stepped by the reference kernel (see [`Kernel::fold_rnn`]). Panics if the vocabulary is empty.
pub fn fold_rnn(w: &RnnWeights) -> RnnTables {
    Kernel::Reference.fold_rnn(w)
}

/// The portable kernel's name. On aarch64 `wide` compiles to NEON, part of the baseline ISA there
/// (no run-time check needed), so the name says which SIMD the best kernel of that target is.
const PORTABLE_NAME: &str = if cfg!(target_arch = "aarch64") {
    "portable-neon"
} else {
    "portable-wide"
};

/// Proof that this CPU has AVX2 and FMA. Only [`Avx2Fma::detect`] builds it.
///
/// The feature list checked here must stay identical to the `#[target_feature(enable =
/// "avx2,fma")]` list of the trampoline in `x86_64_avx2_fma.rs`.
///
/// It also carries two choices of code that give the same bits and whose speed depends on the
/// core: how the latency kernels splat `h` ([`Self::splats_from_halves`]) and how many units
/// the batch LSTM's cell takes at a time ([`Self::cells_by_eight`]).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
pub struct Avx2Fma {
    splats_from_halves: bool,
    cells_by_eight: bool,
}

#[cfg(target_arch = "x86_64")]
impl Avx2Fma {
    /// `Some` if the CPU (and OS) support AVX2 and FMA. The splats from halves and the cells by
    /// eight are on where the core is AMD's Zen 3 and off elsewhere
    /// ([`Self::splats_from_halves`], [`Self::cells_by_eight`]).
    pub fn detect() -> Option<Self> {
        (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")).then(|| {
            let zen3 = cpu_is_amd_zen3();
            Self {
                splats_from_halves: zen3,
                cells_by_eight: zen3,
            }
        })
    }

    /// Whether the latency kernels (a review, several steps in one call, a text's score) splat
    /// each unit of the `h` they carry in a register from a copy of its 128-bit half (one
    /// `vinsertf128` and one `vperm2f128` a step, then an in-lane `vshufps` a unit) rather than
    /// with one `vpermps` a unit. The bits are the same either way.
    ///
    /// From halves is the default on AMD's Zen 3 (CPUID family 25, models 0x00–0x0f,
    /// 0x20–0x2f, 0x40–0x5f), where `vpermps` takes 8 cycles from its data operand
    /// (`benches/report/insn_latency.c`) and the halves 3 to 4 ("Splats from halves on Zen 3"
    /// in `simd.rs` has the measurements). Elsewhere it is off: on Golden Cove `vpermps` takes
    /// 3 cycles and every shuffle shares one port, and on Zen 4 and 5 it was not measured.
    pub fn splats_from_halves(self) -> bool {
        self.splats_from_halves
    }

    /// This proof with the latency kernels' splats chosen by hand (benchmarks, tests).
    pub fn with_splats_from_halves(self, on: bool) -> Self {
        Self {
            splats_from_halves: on,
            ..self
        }
    }

    /// Whether the notebook LSTM's batch kernels run the fused cell on all 8 units of a block
    /// at once, stage by stage (the activations' 40 chains of a block-step 20 at a time), rather
    /// than 4 units at a time. The bits are the same either way: every unit gets the same
    /// operations.
    ///
    /// By eight is the default on AMD's Zen 3, where it measured 63.5–63.6 cycles per LSTM
    /// sequence-step against 67.9–68.6 by four (`examples/batch_throughput`, alternated; "The
    /// LSTM step and the batch cell on Zen 3, by parts" in `simd.rs`). Elsewhere it is four: on Zen 5 and Golden Cove
    /// (AVX-512, where this choice does not apply) eight measured slower than four, and the
    /// AVX2 kernel on other cores was not measured with eight.
    pub fn cells_by_eight(self) -> bool {
        self.cells_by_eight
    }

    /// This proof with the batch LSTM cell's group chosen by hand (benchmarks, tests).
    pub fn with_cells_by_eight(self, on: bool) -> Self {
        Self {
            cells_by_eight: on,
            ..self
        }
    }
}

/// Proof that this CPU has AVX-512F, AVX-512BW and AVX-512VL, and AVX2 and FMA. Only
/// [`Avx512::detect`] builds it.
///
/// The feature list checked here must stay identical to the `#[target_feature(enable =
/// "avx512f,avx512bw,avx512vl,avx2,fma")]` list of the trampoline in `x86_64_avx512.rs`.
///
/// It also carries two choices of code that give the same bits and whose speed depends on the
/// core: how the batch kernels step their two blocks ([`Self::pipelined_pairs`]) and the
/// vectors the LSTM latency step runs on ([`Self::zmm_lstm_step`]).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
pub struct Avx512 {
    avx2_fma: Avx2Fma,
    pipelined_pairs: bool,
    zmm_lstm_step: bool,
}

#[cfg(target_arch = "x86_64")]
impl Avx512 {
    /// `Some` if the CPU (and OS) support AVX-512F/BW/VL, AVX2 and FMA. The batch kernels'
    /// pipelined pairs and the LSTM step on zmm are on where the core is AMD's Zen 5 or later
    /// (CPUID vendor AMD, family 26 or more) and off elsewhere ([`Self::pipelined_pairs`],
    /// [`Self::zmm_lstm_step`]): measured faster on Zen 5, slower on Zen 4 and Golden Cove.
    pub fn detect() -> Option<Self> {
        let avx2_fma = Avx2Fma::detect()?;
        let zen5_on = cpu_is_amd_zen5_or_later();
        (is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vl"))
        .then_some(Self {
            avx2_fma,
            pipelined_pairs: zen5_on,
            zmm_lstm_step: zen5_on,
        })
    }

    /// The AVX2+FMA proof this one includes.
    pub fn avx2_fma(self) -> Avx2Fma {
        self.avx2_fma
    }

    /// Whether the notebook batch kernels run their two blocks as the software-pipelined pair
    /// (one block's recurrent products beside the other's activations, `simd::lstm_pair`,
    /// `simd::rnn_pair`) or as two steps alternating. The bits are the same either way.
    ///
    /// The pair is the default on AMD's Zen 5 and later (CPUID family 26 or more), where it
    /// measured faster (Zen 5: LSTM 38.2–39.5 → 36.0–38.3 cycles per sequence-step, SimpleRNN
    /// 7.5–7.8 → 6.4–6.7). Elsewhere it is off:
    /// on a Golden Cove Xeon (CPUID family 6 model 167) the commit that brought it (2231659)
    /// took the LSTM from 50.2–50.6 to 55.9 cycles and the SimpleRNN from 10.8 to 12.2
    /// (`examples/batch_throughput`, builds alternating; `simd.rs`), and on Zen 4 (AMD EPYC
    /// family 25 model 17, which runs a zmm as two 256-bit halves) the pair measured LSTM
    /// 54.7–54.9 against 53.0–53.3 alternating and SimpleRNN 11.7–11.8 against 11.4
    /// (2026-12-06, `batch_throughput avx512 3.69 600 pairs|alternating`, three alternations).
    pub fn pipelined_pairs(self) -> bool {
        self.pipelined_pairs
    }

    /// This proof with the batch kernels' block stepping chosen by hand (benchmarks, tests).
    pub fn with_pipelined_pairs(self, on: bool) -> Self {
        Self {
            pipelined_pairs: on,
            ..self
        }
    }

    /// Whether the one-sequence LSTM step (`lstm_step`, the reviews of the latency kernel,
    /// `score_text`) runs its recurrent sum and activations with two gates per zmm, `[i | f]`
    /// and `[g | o]`, or entirely in the 8-lane form the AVX2 kernel runs (compiled here with
    /// AVX-512's encodings and 32 registers). The bits are AVX2's either way, but for the sign
    /// of a zero `c'` or `h` on zmm (`tanh(−0) = +0` there).
    ///
    /// On zmm is the default on AMD's Zen 5 and later (CPUID family 26 or more), where it
    /// measured faster (Zen 5: the 100-step review 101.5 → 91.4–94.5 cycles a step for
    /// `[i | f]` alone). Elsewhere it is off: on a
    /// Golden Cove Xeon (CPUID family 6 model 167) the 8-lane form takes the review from 131.2
    /// to 121.8 cycles a step (`examples/chain_latency`, builds alternating; `simd.rs`), and on
    /// Zen 4 (AMD EPYC family 25 model 17) from 123.3–123.4 to 108.9–109.1 (2026-12-06,
    /// `chain_latency avx512 3.69 quiet zmm|8-lane`, three alternations).
    pub fn zmm_lstm_step(self) -> bool {
        self.zmm_lstm_step
    }

    /// This proof with the LSTM step's vectors chosen by hand (benchmarks, tests).
    pub fn with_zmm_lstm_step(self, on: bool) -> Self {
        Self {
            zmm_lstm_step: on,
            ..self
        }
    }
}

/// Whether CPUID's vendor string is AMD's ("AuthenticAMD") and its family (base plus extended,
/// as CPUID leaf 1 gives them) is 26 or more: Zen 5 and later, whose cores run a zmm µop
/// whole where Zen 4 (family 25) splits it in two.
#[cfg(target_arch = "x86_64")]
fn cpu_is_amd_zen5_or_later() -> bool {
    amd_leaf1().is_some_and(|eax| cpu_family(eax) >= 26)
}

/// Whether the CPU is AMD's Zen 3: family 25 and one of its Zen 3 models (EPYC Milan 0x00–0x0f,
/// Vermeer 0x20–0x2f, Rembrandt and Cezanne 0x40–0x5f; Zen 4 has the others).
#[cfg(target_arch = "x86_64")]
fn cpu_is_amd_zen3() -> bool {
    amd_leaf1().is_some_and(is_zen3)
}

/// [`cpu_is_amd_zen3`] of CPUID leaf 1's `eax` on an AMD CPU.
#[cfg(target_arch = "x86_64")]
fn is_zen3(eax: u32) -> bool {
    cpu_family(eax) == 25 && matches!(cpu_model(eax), 0x00..=0x0f | 0x20..=0x2f | 0x40..=0x5f)
}

/// CPUID leaf 1's `eax` if the vendor string is AMD's ("AuthenticAMD").
#[cfg(target_arch = "x86_64")]
fn amd_leaf1() -> Option<u32> {
    #[allow(unused_unsafe)] // `__cpuid` is a safe function on newer toolchains than 1.89
    // SAFETY: CPUID leaves 0 and 1 exist on every x86-64 processor.
    let (vendor, leaf1) = unsafe {
        (
            core::arch::x86_64::__cpuid(0),
            core::arch::x86_64::__cpuid(1),
        )
    };
    let amd = (vendor.ebx, vendor.edx, vendor.ecx) == (0x6874_7541, 0x6974_6e65, 0x444d_4163);
    amd.then_some(leaf1.eax)
}

/// The display family of CPUID leaf 1's `eax`: the base family, plus the extended family
/// where the base is 15.
#[cfg(target_arch = "x86_64")]
fn cpu_family(eax: u32) -> u32 {
    let base = (eax >> 8) & 0xf;
    if base == 0xf {
        base + ((eax >> 20) & 0xff)
    } else {
        base
    }
}

/// The display model of CPUID leaf 1's `eax`: the base model, with the extended model as its
/// high nibble where the base family is 6 or 15.
#[cfg(target_arch = "x86_64")]
fn cpu_model(eax: u32) -> u32 {
    let (base_family, base) = ((eax >> 8) & 0xf, (eax >> 4) & 0xf);
    if base_family == 0x6 || base_family == 0xf {
        base | ((eax >> 12) & 0xf0)
    } else {
        base
    }
}

/// A kernel family; every variant can run on this CPU (a value is the proof).
#[derive(Clone, Copy, Debug)]
pub enum Kernel {
    /// Scalar f32 loops: slow, obviously correct.
    Reference,
    /// `wide::f32x8`: whatever SIMD the build was compiled for.
    Portable,
    /// AVX2 + FMA intrinsics, chosen at run time.
    #[cfg(target_arch = "x86_64")]
    Avx2Fma(Avx2Fma),
    /// AVX-512 intrinsics (16 sequences per batch block), chosen at run time.
    #[cfg(target_arch = "x86_64")]
    Avx512(Avx512),
}

/// Why [`Kernel::select`] refused the `FUSEDRNN_KERNEL` override.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KernelError {
    #[error("{KERNEL_ENV}={0:?} is not one of: reference, portable, avx2-fma, avx512")]
    Unknown(String),
    #[error(
        "{KERNEL_ENV}={0:?} asks for a kernel this CPU cannot run (avx2-fma needs AVX2 and FMA; \
         avx512 needs AVX-512F, AVX-512BW, AVX-512VL, AVX2 and FMA)"
    )]
    Unsupported(String),
}

/// A session's own scratch for the one-sequence path ([`Kernel::net_steps_in`]): `Z` and
/// `r ⊙ h` for its shape, on a cache line, and a chunk of widened ids. Made once per session.
///
/// Measured against this thread's scratch ([`Kernel::net_steps`]; Zen 4, a session fed a token
/// a call, a throwaway example, the builds alternating twice, 2026-12-07), ns a step: GRU(16)
/// 63.7–65.8 → 49.7–49.8, LSTM(32) 156–160 → 139–141, SimpleRNN(8) 42.4–42.8 → 38.4–38.5,
/// LSTM(8) 68.2–68.6 → 64.7–64.9. Not explained: the thread's scratch is as warm.
#[derive(Clone, Debug)]
pub(crate) struct NetStepScratch {
    floats: LineFloats,
    ids: [u32; 64],
}

impl NetStepScratch {
    /// Scratch for a network of `units` units.
    pub(crate) fn new(units: usize) -> NetStepScratch {
        NetStepScratch {
            floats: LineFloats::zeros(net_simd::steps_scratch_floats(units)),
            ids: [0; 64],
        }
    }
}

impl Kernel {
    /// The fastest kernel this CPU can run, ignoring any override.
    pub fn best() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if let Some(cpu) = Avx512::detect() {
            return Kernel::Avx512(cpu);
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(cpu) = Avx2Fma::detect() {
            return Kernel::Avx2Fma(cpu);
        }
        Kernel::Portable
    }

    /// The fastest kernel, unless `FUSEDRNN_KERNEL` asks for another; an override the CPU cannot
    /// honour (or an unknown name) is an error, never a silent fallback.
    pub fn select() -> Result<Kernel, KernelError> {
        match std::env::var(KERNEL_ENV) {
            Ok(name) => Kernel::from_override(&name),
            Err(_) => Ok(Kernel::best()),
        }
    }

    /// Parse an override value (`reference`, `portable`, `avx2-fma`, `avx512`; the printable
    /// names are accepted too) and check the CPU can run it.
    pub fn from_override(name: &str) -> Result<Kernel, KernelError> {
        match name.trim() {
            "reference" => Ok(Kernel::Reference),
            "portable" | "portable-wide" => Ok(Kernel::Portable),
            "neon" | "portable-neon" if cfg!(target_arch = "aarch64") => Ok(Kernel::Portable),
            "avx2-fma" | "x86_64-avx2-fma" => {
                #[cfg(target_arch = "x86_64")]
                if let Some(cpu) = Avx2Fma::detect() {
                    return Ok(Kernel::Avx2Fma(cpu));
                }
                Err(KernelError::Unsupported(name.to_owned()))
            }
            "avx512" | "x86_64-avx512" => {
                #[cfg(target_arch = "x86_64")]
                if let Some(cpu) = Avx512::detect() {
                    return Ok(Kernel::Avx512(cpu));
                }
                Err(KernelError::Unsupported(name.to_owned()))
            }
            _ => Err(KernelError::Unknown(name.to_owned())),
        }
    }

    /// Every kernel this CPU can run, slowest first: tests and benches loop over these.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))] // only x86-64 pushes
    pub fn available() -> Vec<Kernel> {
        let mut all = vec![Kernel::Reference, Kernel::Portable];
        #[cfg(target_arch = "x86_64")]
        if let Some(cpu) = Avx2Fma::detect() {
            all.push(Kernel::Avx2Fma(cpu));
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(cpu) = Avx512::detect() {
            all.push(Kernel::Avx512(cpu));
        }
        all
    }

    /// Names of the kernels compiled into this build that this CPU cannot run.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))] // only x86-64 pushes
    pub fn unavailable_names() -> Vec<&'static str> {
        let mut missing = Vec::new();
        #[cfg(target_arch = "x86_64")]
        if Avx2Fma::detect().is_none() {
            missing.push("x86_64-avx2-fma");
        }
        #[cfg(target_arch = "x86_64")]
        if Avx512::detect().is_none() {
            missing.push("x86_64-avx512");
        }
        missing
    }

    /// The printable name: `reference`, `portable-wide` (`portable-neon` on aarch64),
    /// `x86_64-avx2-fma` or `x86_64-avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Reference => "reference",
            Kernel::Portable => PORTABLE_NAME,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(_) => "x86_64-avx2-fma",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512(_) => "x86_64-avx512",
        }
    }

    /// The per-CPU choices this kernel made that give the same bits but not the same speed
    /// (benchmarks print them beside [`Self::name`]): for AVX-512, how the notebook batch
    /// kernels step a pair of blocks ([`Avx512::pipelined_pairs`]) and the vectors of the
    /// notebook LSTM's latency step ([`Avx512::zmm_lstm_step`]); for AVX2, how the notebook
    /// latency kernels splat `h` ([`Avx2Fma::splats_from_halves`]) and how many units the
    /// batch LSTM's cell takes at a time ([`Avx2Fma::cells_by_eight`]); the general-shape
    /// kernels (`net`) have one form. Empty for the other kernels, which have one form each.
    pub fn tuning(self) -> &'static str {
        #[cfg(target_arch = "x86_64")]
        if let Kernel::Avx2Fma(cpu) = self {
            return match (cpu.splats_from_halves(), cpu.cells_by_eight()) {
                (true, true) => "splats from halves, LSTM cells by 8",
                (true, false) => "splats from halves, LSTM cells by 4",
                (false, true) => "splats by vpermps, LSTM cells by 8",
                (false, false) => "splats by vpermps, LSTM cells by 4",
            };
        }
        #[cfg(target_arch = "x86_64")]
        if let Kernel::Avx512(cpu) = self {
            return match (cpu.pipelined_pairs(), cpu.zmm_lstm_step()) {
                (true, true) => "pipelined block pairs, LSTM step on zmm",
                (true, false) => "pipelined block pairs, 8-lane LSTM step",
                (false, true) => "alternating block pairs, LSTM step on zmm",
                (false, false) => "alternating block pairs, 8-lane LSTM step",
            };
        }
        ""
    }

    /// Fold LSTM weights (see [`fold_lstm`]), with the padding caches computed by this kernel:
    /// one by its step, so [`Self::lstm_review`] equals stepping every token with
    /// [`Self::lstm_step`] bitwise, one by its batch kernel, where a batch block starts, so a
    /// review's bits in [`Self::lstm_forward`] do not depend on the reviews around it. Panics
    /// if the vocabulary is empty.
    pub fn fold_lstm(self, w: &LstmWeights) -> LstmTables {
        let mut t = tables::fold_lstm_with(w, |t, s, tok| self.lstm_step(t, s, tok));
        let batch = self.dispatch(ops::LstmBatchPads { t: &t });
        t.set_batch_pad_states(batch);
        t
    }

    /// Fold SimpleRNN weights (see [`fold_rnn`]), with the padding caches computed by this
    /// kernel's step and by its batch kernel (as [`Self::fold_lstm`]). Panics if the
    /// vocabulary is empty.
    pub fn fold_rnn(self, w: &RnnWeights) -> RnnTables {
        let mut t = tables::fold_rnn_with(w, |t, s, tok| self.rnn_step(t, s, tok));
        let batch = self.dispatch(ops::RnnBatchPads { t: &t });
        t.set_batch_pad_states(batch);
        t
    }

    /// LSTM probabilities of a batch `[n, SEQ_LEN]` into `probs [n]`.
    ///
    /// Allocation-free, single-threaded (split a batch across threads by calling this per
    /// chunk). Panics if `seqs.len() != probs.len()` or a token is `≥ vocab`.
    pub fn lstm_forward(self, t: &LstmTables, seqs: &[[u16; SEQ_LEN]], probs: &mut [f32]) {
        let seqs = simd::BatchRows::Rows(seqs);
        self.dispatch(ops::Forward { m: t, seqs, probs });
    }

    /// [`Self::lstm_forward`] of rows given by reference: `probs[i]` is row `rows[i]`'s. The
    /// kernel takes its blocks from consecutive rows (after sorting windows of 64 by leading
    /// pads), so a caller that orders the rows by their leading pads first lets each block skip
    /// the pads all of its rows share ([`crate::infer::Scorer::score`] does). Each row's
    /// probability is the same bits whatever rows share its block.
    pub fn lstm_forward_refs(self, t: &LstmTables, rows: &[&[u16; SEQ_LEN]], probs: &mut [f32]) {
        let seqs = simd::BatchRows::Refs(rows);
        self.dispatch(ops::Forward { m: t, seqs, probs });
    }

    /// Final LSTM hidden states `[n, HIDDEN]` of a batch (same contract as [`Self::lstm_forward`]).
    pub fn lstm_forward_hidden(
        self,
        t: &LstmTables,
        seqs: &[[u16; SEQ_LEN]],
        hidden: &mut [[f32; HIDDEN]],
    ) {
        self.dispatch(ops::ForwardHidden { m: t, seqs, hidden });
    }

    /// One LSTM step of one sequence (streaming). Panics if `token ≥ vocab`.
    pub fn lstm_step(self, t: &LstmTables, state: &mut LstmState, token: u16) {
        self.dispatch(ops::LstmStep { t, state, token });
    }

    /// LSTM steps of one sequence with `tokens` in order (streaming several at once): the state
    /// [`Self::lstm_step`] reaches taking them one at a time, bit for bit, faster, because the
    /// state stays in registers from one step to the next (a step reads `h` back from memory).
    /// Panics, before any step, if a token is `≥ vocab`.
    pub fn lstm_steps(self, t: &LstmTables, state: &mut LstmState, tokens: &[u16]) {
        assert_below_vocab(tokens, t.vocab());
        self.dispatch(ops::LstmSteps { t, state, tokens });
    }

    /// The model's output for a state: `σ(h · dense_kernel + dense_bias)`.
    pub fn lstm_prob(self, t: &LstmTables, state: &LstmState) -> f32 {
        reference::lstm_prob(t, state)
    }

    /// Final `h` of one review, latency-optimised: starts from the padding cache after the
    /// review's leading pads. Panics if a token is `≥ vocab`.
    pub fn lstm_review_hidden(self, t: &LstmTables, tokens: &[u16; SEQ_LEN]) -> [f32; HIDDEN] {
        self.lstm_review_hidden_by(t, leading_pads(tokens), |k| tokens[k])
    }

    /// [`Self::lstm_review_hidden`] of the row of `pads` leading pads followed by the ids
    /// `id(pads)`, …, `id(SEQ_LEN - 1)`. `id` is called once for each, in order, one step ahead
    /// of the step that reads its id, so work it does overlaps the model's (the text path's word
    /// lookups, [`crate::text::Tokenizer::tail_id`]). An id of 0 after the pads is stepped as
    /// a token, where the row form would count it as a pad if it came first. Panics if
    /// `pads > SEQ_LEN` or an id is `≥ vocab`.
    pub fn lstm_review_hidden_by(
        self,
        t: &LstmTables,
        pads: usize,
        id: impl FnMut(usize) -> u16,
    ) -> [f32; HIDDEN] {
        self.dispatch(ops::LstmReviewHidden { t, pads, id })
    }

    /// Probability of one review, latency-optimised (see [`Self::lstm_review_hidden`]).
    pub fn lstm_review(self, t: &LstmTables, tokens: &[u16; SEQ_LEN]) -> f32 {
        self.lstm_review_by(t, leading_pads(tokens), |k| tokens[k])
    }

    /// Probability of one review given as [`Self::lstm_review_hidden_by`]'s.
    pub fn lstm_review_by(self, t: &LstmTables, pads: usize, id: impl FnMut(usize) -> u16) -> f32 {
        let h = self.lstm_review_hidden_by(t, pads, id);
        reference::lstm_prob(
            t,
            &LstmState {
                h,
                c: [0.0; HIDDEN],
            },
        )
    }

    /// SimpleRNN probabilities of a batch (contract of [`Self::lstm_forward`]).
    pub fn rnn_forward(self, t: &RnnTables, seqs: &[[u16; SEQ_LEN]], probs: &mut [f32]) {
        let seqs = simd::BatchRows::Rows(seqs);
        self.dispatch(ops::Forward { m: t, seqs, probs });
    }

    /// SimpleRNN probabilities of rows given by reference (contract of
    /// [`Self::lstm_forward_refs`]).
    pub fn rnn_forward_refs(self, t: &RnnTables, rows: &[&[u16; SEQ_LEN]], probs: &mut [f32]) {
        let seqs = simd::BatchRows::Refs(rows);
        self.dispatch(ops::Forward { m: t, seqs, probs });
    }

    /// Final SimpleRNN hidden states of a batch.
    pub fn rnn_forward_hidden(
        self,
        t: &RnnTables,
        seqs: &[[u16; SEQ_LEN]],
        hidden: &mut [[f32; HIDDEN]],
    ) {
        self.dispatch(ops::ForwardHidden { m: t, seqs, hidden });
    }

    /// One SimpleRNN step of one sequence. Panics if `token ≥ vocab`.
    pub fn rnn_step(self, t: &RnnTables, state: &mut RnnState, token: u16) {
        self.dispatch(ops::RnnStep { t, state, token });
    }

    /// SimpleRNN steps of one sequence with `tokens` in order: [`Self::rnn_step`]'s state, bit
    /// for bit, the state in registers between the steps (see [`Self::lstm_steps`]). Panics,
    /// before any step, if a token is `≥ vocab`.
    pub fn rnn_steps(self, t: &RnnTables, state: &mut RnnState, tokens: &[u16]) {
        assert_below_vocab(tokens, t.vocab());
        self.dispatch(ops::RnnSteps { t, state, tokens });
    }

    /// `σ(h · dense_kernel + dense_bias)`.
    pub fn rnn_prob(self, t: &RnnTables, state: &RnnState) -> f32 {
        reference::rnn_prob(t, state)
    }

    /// Final `h` of one review, latency-optimised (padding cache, state in registers).
    pub fn rnn_review_hidden(self, t: &RnnTables, tokens: &[u16; SEQ_LEN]) -> [f32; HIDDEN] {
        self.rnn_review_hidden_by(t, leading_pads(tokens), |k| tokens[k])
    }

    /// [`Self::rnn_review_hidden`] of a review given as [`Self::lstm_review_hidden_by`]'s.
    pub fn rnn_review_hidden_by(
        self,
        t: &RnnTables,
        pads: usize,
        id: impl FnMut(usize) -> u16,
    ) -> [f32; HIDDEN] {
        self.dispatch(ops::RnnReviewHidden { t, pads, id })
    }

    /// Probability of one review, latency-optimised.
    pub fn rnn_review(self, t: &RnnTables, tokens: &[u16; SEQ_LEN]) -> f32 {
        self.rnn_review_by(t, leading_pads(tokens), |k| tokens[k])
    }

    /// Probability of one review given as [`Self::lstm_review_hidden_by`]'s.
    pub fn rnn_review_by(self, t: &RnnTables, pads: usize, id: impl FnMut(usize) -> u16) -> f32 {
        let h = self.rnn_review_hidden_by(t, pads, id);
        reference::rnn_prob(t, &RnnState { h })
    }

    /// The padding cache of `t` stepped by this kernel ([`NetPadCache::new`]).
    pub fn net_pad_cache(self, t: &NetTables) -> NetPadCache {
        NetPadCache::new(self, t)
    }

    /// Probabilities of a batch of any shape ([`crate::net`]): `seqs` is `[n, seq_len]` flat,
    /// `probs` is `[n]`. Each block of sequences starts after its fewest leading pads from the
    /// batch table of `pads` ([`NetPadCache::batch_state`], stepped by this same pass), so a
    /// sequence's result does not depend on the batch around it: with a cache built by this
    /// kernel it is bit for bit the batch pass over every token from zeros, and within a few
    /// ulps of stepping every token with [`Self::net_step`] (the one-sequence path, whose
    /// activations are the latency forms).
    ///
    /// Allocation-free after a thread's first call (a per-thread scratch) and single-threaded ([`crate::net::NetScorer`] splits across threads).
    /// Panics if `seqs.len() != probs.len() · seq_len`, if `pads` is for another shape, or if a
    /// token is `≥ vocab` (the scorer checks first).
    pub fn net_forward<T: TokenId>(
        self,
        t: &NetTables,
        pads: &NetPadCache,
        seqs: &[T],
        probs: &mut [f32],
    ) {
        net_check(t, pads, seqs, probs.len());
        self.net_forward_ids(t, Some(pads), T::ids(seqs), net_simd::NetOut::Probs(probs));
    }

    /// Final hidden states `[n, units]` of a batch (the contract of [`Self::net_forward`]).
    pub fn net_forward_hidden<T: TokenId>(
        self,
        t: &NetTables,
        pads: &NetPadCache,
        seqs: &[T],
        hidden: &mut [f32],
    ) {
        let units = t.spec().units;
        assert!(
            hidden.len().is_multiple_of(units),
            "hidden must be [n, units]"
        );
        net_check(t, pads, seqs, hidden.len() / units);
        self.net_forward_ids(
            t,
            Some(pads),
            T::ids(seqs),
            net_simd::NetOut::Hidden(hidden),
        );
    }

    /// The kernel that runs the general bodies of `units` units: AVX-512 runs 8 units or fewer
    /// on AVX2 (its proof grants it), where 16 lanes would be half padding.
    ///
    /// Measured on an Intel Xeon (family 6 model 207, 2026-12-04; 96 sequences × 200 tokens,
    /// fastest of 30 calls, four alternating runs of the builds before and after), per
    /// sequence-step: LSTM(8) 50.3 → 37.7 ns, LSTM(1) 53.1 → 33.7, GRU(8) 38.6 → 33.5,
    /// reset-before GRU(8) 37.8 → 30.4, SimpleRNN(8) 13.1 → 10.7; one review of 200 steps,
    /// LSTM(8) 13.1 → 9.9 µs, GRU(8) 11.9 → 10.2, SimpleRNN(8) 6.9 → 5.6. Tried and not kept:
    /// the switch inside AVX-512's trampoline (a branch to its `Isa::x8` in
    /// `net_simd::by_shape`) made that function larger and LSTM(32) 4–7 % slower; a trampoline
    /// of its own with AVX-512's features for the 8-lane bodies gained 0–4 % over this, for
    /// another copy of every general body in the build.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))] // no 16-lane ISA there
    fn for_net(self, units: usize) -> Kernel {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512(cpu) if units <= 8 => Kernel::Avx2Fma(isa::Isa::x8(cpu)),
            k => k,
        }
    }

    /// The states `[seq_len + 1, H + C]` after `0..=seq_len` pads, stepped by this kernel's
    /// batch pass ([`NetPadCache::batch_state`]).
    pub(crate) fn net_batch_pad_states(self, t: &NetTables) -> Vec<f32> {
        let s = t.spec();
        let lstm = s.cell == crate::net::Cell::Lstm;
        let width = s.units * if lstm { 2 } else { 1 };
        let mut states = vec![0.0; (s.seq_len + 1) * width];
        let pads = vec![0u32; s.seq_len];
        let out = net_simd::NetOut::States(&mut states);
        self.net_forward_ids(t, None, TokenIds::U32(&pads), out);
        states
    }

    /// The batch bodies, compiled once, in this crate (see [`TokenId::ids`]).
    fn net_forward_ids(
        self,
        t: &NetTables,
        pads: Option<&NetPadCache>,
        seqs: TokenIds<'_>,
        out: net_simd::NetOut<'_>,
    ) {
        let (units, len) = (t.spec().units, t.spec().seq_len);
        let k = self.for_net(units);
        let n = seqs.len() / len;
        // The last block's rows alone where they are at most half a block
        // (`net_simd::alone_tail`): the same bits, faster. Not the padding cache's states.
        let tail = match (&out, k) {
            (net_simd::NetOut::States(_), _) | (_, Kernel::Reference) => 0,
            #[cfg(target_arch = "x86_64")]
            (_, Kernel::Avx512(_)) => net_simd::alone_tail(n, 16),
            _ => net_simd::alone_tail(n, 8),
        };
        let head = n - tail;
        let (out, rest) = match out {
            net_simd::NetOut::Probs(p) => {
                let (a, b) = p.split_at_mut(head);
                (net_simd::NetOut::Probs(a), net_simd::NetOut::Probs(b))
            }
            net_simd::NetOut::Hidden(o) => {
                let (a, b) = o.split_at_mut(head * units);
                (net_simd::NetOut::Hidden(a), net_simd::NetOut::Hidden(b))
            }
            states => (states, net_simd::NetOut::Probs(&mut [])),
        };
        net_ops::with_scratch(units, len, |scratch, ids| {
            if head > 0 {
                k.dispatch_shaped(net_ops::NetForward {
                    t,
                    pads,
                    seqs: seqs.slice(0..head * len),
                    out,
                    scratch: &mut *scratch,
                    ids: &mut *ids,
                });
            }
            if tail > 0 {
                k.dispatch_shaped(net_ops::NetForwardAlone(net_ops::NetForward {
                    t,
                    pads,
                    seqs: seqs.slice(head * len..n * len),
                    out: rest,
                    scratch,
                    ids,
                }));
            }
        });
    }

    /// One step of one sequence of any shape (streaming). Panics if `token ≥ vocab` or the
    /// state does not fit the shape.
    pub fn net_step<T: TokenId>(self, t: &NetTables, state: &mut NetState, token: T) {
        self.net_steps(t, state, &[token]);
    }

    /// Steps `state` through `tokens` in one call: bit for bit [`Self::net_step`] per token.
    /// Panics as [`Self::net_step`].
    pub fn net_steps<T: TokenId>(self, t: &NetTables, state: &mut NetState, tokens: &[T]) {
        assert!(
            state.fits(t.spec()),
            "the state must fit the network's shape"
        );
        self.net_steps_ids(t, state, T::ids(tokens));
    }

    /// [`Self::net_steps`] with the caller's scratch (a [`NetStepScratch`] made for this
    /// network's shape), not this thread's: a session's step, without the thread-local lookup.
    /// Panics as [`Self::net_steps`], or if the scratch is for fewer units.
    pub(crate) fn net_steps_in<T: TokenId>(
        self,
        t: &NetTables,
        state: &mut NetState,
        tokens: &[T],
        scratch: &mut NetStepScratch,
    ) {
        assert!(
            state.fits(t.spec()),
            "the state must fit the network's shape"
        );
        let floats = &mut scratch.floats[..net_simd::steps_scratch_floats(t.spec().units)];
        self.net_steps_with(t, state, T::ids(tokens), floats, &mut scratch.ids);
    }

    /// The stepping bodies, compiled once, in this crate (see [`TokenId::ids`]).
    fn net_steps_ids(self, t: &NetTables, state: &mut NetState, tokens: TokenIds<'_>) {
        net_ops::with_scratch(t.spec().units, t.spec().seq_len, |scratch, ids| {
            self.net_steps_with(t, state, tokens, scratch, ids)
        });
    }

    /// The stepping bodies with the given scratch (thread's or session's).
    ///
    /// Inlined, the one exception to [`TokenId::ids`]: through [`Self::net_steps_in`] a
    /// [`crate::net::NetSession`]'s step is compiled where its generic `feed` is, so a crate
    /// that feeds a session compiles the shape's match and the kernels' trampolines again. Out
    /// of line here, a session fed a token a call, Embedding(500, 16), 100 tokens (AMD EPYC Zen
    /// 4, AVX-512 machine, fastest of 2,000) took 31.5 ns a step against 21.6 for SimpleRNN(8),
    /// 51–52 against 41 for LSTM(8), 163 against 155 for GRU(24); the same steps in one call
    /// did not move. [`Self::net_steps_ids`] (a whole sequence a call) is out of line.
    #[inline(always)]
    fn net_steps_with(
        self,
        t: &NetTables,
        state: &mut NetState,
        tokens: TokenIds<'_>,
        scratch: &mut [f32],
        ids: &mut [u32],
    ) {
        self.for_net(t.spec().units)
            .dispatch_shaped(net_ops::NetSteps {
                t,
                state,
                tokens,
                scratch,
                ids,
            });
    }

    /// The final state of one sequence (any length), latency-optimised: starts from `pads`
    /// after its leading pads (at most `seq_len` of them), then steps the rest. With a cache
    /// built by this kernel, bit for bit [`Self::net_step`] over every token from zeros.
    /// Panics if a token is `≥ vocab` or `pads` is for another shape.
    pub fn net_sequence_state<T: TokenId>(
        self,
        t: &NetTables,
        pads: &NetPadCache,
        tokens: &[T],
    ) -> NetState {
        assert_eq!(
            pads.spec(),
            t.spec(),
            "the padding cache is for another shape"
        );
        let k = crate::net::leading_pads(tokens).min(pads.max_pads());
        let mut s = pads.to_state(k);
        self.net_steps(t, &mut s, &tokens[k..]);
        s
    }

    /// Probability of one sequence, latency-optimised (see [`Self::net_sequence_state`]).
    pub fn net_sequence<T: TokenId>(self, t: &NetTables, pads: &NetPadCache, tokens: &[T]) -> f32 {
        self.net_prob(t, &self.net_sequence_state(t, pads, tokens))
    }

    /// `σ(h · dense_kernel + dense_bias)` of a state (the same scalar code for every kernel).
    pub fn net_prob(self, t: &NetTables, state: &NetState) -> f32 {
        crate::net::reference::prob(t, &state.h)
    }

    /// Run `op` on this kernel: the one door every operation passes (see the module docs).
    #[inline(always)]
    pub(crate) fn dispatch<O: Op>(self, op: O) -> O::Output {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512(cpu) => x86_64_avx512::dispatch(cpu, op),
            // Every other kernel's door (its AVX-512 arm is not taken from here).
            k => k.dispatch_8_lanes(op),
        }
    }

    /// [`Self::dispatch`] of an operation that runs on 8 lanes only: AVX-512's is its AVX2
    /// form (as [`Self::for_net`] picks for at most 8 units), so no 16-lane body of `op` is
    /// compiled (`net_simd::by_shape`'s 8-unit bodies). The doors of the other kernels, for
    /// [`Self::dispatch`] too.
    #[inline(always)]
    pub(crate) fn dispatch_8_lanes<O: Op>(self, op: O) -> O::Output {
        match self {
            Kernel::Reference => op.reference(),
            Kernel::Portable => op.run(portable::Portable),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86_64_avx2_fma::dispatch(cpu, op),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512(cpu) => x86_64_avx2_fma::dispatch(isa::Isa::x8(cpu), op),
        }
    }

    /// One RMSprop update, Keras' (`v ← ρ·v + (1 − ρ)·g²`, `w ← w − lr·g / sqrt(v + ε)`, in
    /// that order), of the weights `w`, their velocities `v` and gradient `g`, element by
    /// element: every kernel gives the reference's bits (no fused multiply-add; square root
    /// and division correctly rounded). [`crate::train::RmsProp::step_on`] runs it over blocks
    /// in parallel.
    ///
    /// Panics unless `v` and `g` have `w`'s length.
    pub fn rmsprop(self, rho: f32, lr: f32, eps: f32, w: &mut [f32], v: &mut [f32], g: &[f32]) {
        assert_eq!(v.len(), w.len(), "one velocity per weight");
        assert_eq!(g.len(), w.len(), "one gradient per weight");
        self.dispatch(net_train::RmsPropStep {
            rho,
            lr,
            eps,
            w,
            v,
            g,
        });
    }

    /// `C [m, n] = init + A [m, k] · B [k, n]`, all row-major and contiguous: the product of
    /// one training step's few rows (the general-shape trainer's `h·U` and `δz·Uᵀ`), with `B`
    /// read in place rather than packed (see `net_train.rs`). Each element sums `j` in order
    /// from its initial value, so a row's result does not depend on the other rows or on `m`;
    /// the reference kernel multiplies and adds, the others fuse the two.
    ///
    /// Panics unless `a.len() == m·k`, `b.len() == k·n`, `c.len() == m·n`, an
    /// [`RowsInit::From`] matrix is `m·n` floats and an [`RowsInit::Row`] is `n`.
    #[allow(clippy::too_many_arguments)]
    pub fn rows_product(
        self,
        m: usize,
        k: usize,
        n: usize,
        a: &[f32],
        b: &[f32],
        init: RowsInit<'_>,
        c: &mut [f32],
    ) {
        self.product(false, m, k, n, a, b, init, c);
    }

    /// As [`Kernel::rows_product`] with `A` stored transposed: `C [m, n] = init + Aᵀ · B` for
    /// `A` row-major `[k, m]` (`Aᵀ` is `[m, k]`), `B [k, n]`: the sum over `j` of the outer
    /// products of row `j` of `A` and row `j` of `B`, in order (the trainer's per-step
    /// `δU += h_{t−1}ᵀ·δa_t`). Panics unless `a.len() == k·m`, and as `rows_product` otherwise.
    #[allow(clippy::too_many_arguments)]
    pub fn rows_product_tn(
        self,
        m: usize,
        k: usize,
        n: usize,
        a: &[f32],
        b: &[f32],
        init: RowsInit<'_>,
        c: &mut [f32],
    ) {
        self.product(true, m, k, n, a, b, init, c);
    }

    #[allow(clippy::too_many_arguments)]
    fn product(
        self,
        transposed: bool,
        m: usize,
        k: usize,
        n: usize,
        a: &[f32],
        b: &[f32],
        init: RowsInit<'_>,
        c: &mut [f32],
    ) {
        let size = |x: usize, y: usize| x.checked_mul(y).expect("a matrix size overflows");
        let a_shape = if transposed {
            "A must be [k, m]"
        } else {
            "A must be [m, k]"
        };
        assert_eq!(a.len(), size(m, k), "{a_shape}");
        assert_eq!(b.len(), size(k, n), "B must be [k, n]");
        assert_eq!(c.len(), size(m, n), "C must be [m, n]");
        match init {
            RowsInit::From(x) => assert_eq!(x.len(), c.len(), "the initial matrix must be [m, n]"),
            RowsInit::Row(x) => assert_eq!(x.len(), n, "the initial row must be n floats"),
            RowsInit::Zero | RowsInit::Out => {}
        }
        if m == 0 || n == 0 {
            return;
        }
        self.dispatch(net_train::RowsProduct {
            m,
            k,
            n,
            transposed,
            a,
            b,
            init,
            c,
        });
    }

    /// This kernel's activation over a slice, in place. The reference uses the standard
    /// library (`1 / (1 + exp(-x))`, `tanh`) for every variant; the others the approximations of
    /// [`activations`].
    pub fn activation_in_place(self, act: Activation, xs: &mut [f32]) {
        self.dispatch(ops::ActivationInPlace { act, xs });
    }

    /// This kernel's sigmoid (throughput form) over a slice, in place.
    pub fn sigmoid_in_place(self, xs: &mut [f32]) {
        self.activation_in_place(Activation::Sigmoid, xs);
    }

    /// This kernel's tanh (throughput form) over a slice, in place.
    pub fn tanh_in_place(self, xs: &mut [f32]) {
        self.activation_in_place(Activation::Tanh, xs);
    }
}

/// The token check of the multi-step calls, before their first step (panics, as documented
/// there).
fn assert_below_vocab(tokens: &[u16], vocab: usize) {
    if let Some(at) = tokens.iter().position(|&t| usize::from(t) >= vocab) {
        panic!(
            "tokens[{at}] = {} is not below the vocabulary of {vocab}",
            tokens[at]
        );
    }
}

/// The shape checks of the batch passes (panics, as documented there).
fn net_check<T>(t: &NetTables, pads: &NetPadCache, seqs: &[T], rows: usize) {
    assert_eq!(
        pads.spec(),
        t.spec(),
        "the padding cache is for another shape"
    );
    assert_eq!(
        Some(seqs.len()),
        rows.checked_mul(t.spec().seq_len),
        "seqs must be [rows, seq_len]"
    );
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::{cpu_family, cpu_model, is_zen3};

    #[test]
    fn cpu_family_adds_the_extended_family_only_to_base_15() {
        // CPUID leaf 1 `eax` of the cores this project has run on.
        assert_eq!(cpu_family(0x00a1_0f11), 25, "Zen 4 (EPYC Genoa)");
        assert_eq!(cpu_family(0x00b0_0f21), 26, "Zen 5 (EPYC Turin)");
        assert_eq!(cpu_family(0x00a0_0f11), 25, "Zen 3 (EPYC Milan)");
        assert_eq!(cpu_family(0x0008_06f8), 6, "Golden Cove (Sapphire Rapids)");
        // An extended family beside a base other than 15 is not added.
        assert_eq!(cpu_family(0x00f0_0600), 6);
    }

    #[test]
    fn cpu_model_and_zen3_from_cpuid_leaf1() {
        assert_eq!(cpu_model(0x00a1_0f11), 0x11, "Zen 4 (EPYC Genoa)");
        assert_eq!(cpu_model(0x00a0_0f11), 0x01, "Zen 3 (EPYC Milan)");
        assert_eq!(
            cpu_model(0x0008_06f8),
            0x8f,
            "Golden Cove (Sapphire Rapids)"
        );
        // An extended model beside a base family other than 6 or 15 is not added.
        assert_eq!(cpu_model(0x0001_0531), 3);
        assert!(is_zen3(0x00a0_0f11), "EPYC Milan");
        assert!(is_zen3(0x00a2_0f12), "Ryzen 5000 (Vermeer)");
        assert!(is_zen3(0x00a5_0f00), "Ryzen 5000G (Cezanne)");
        assert!(!is_zen3(0x00a1_0f11), "EPYC Genoa is Zen 4");
        assert!(!is_zen3(0x00a6_0f12), "Ryzen 7000 (Raphael) is Zen 4");
        assert!(!is_zen3(0x00b0_0f21), "EPYC Turin is Zen 5");
        assert!(!is_zen3(0x0083_0f10), "EPYC Rome is Zen 2");
    }
}
