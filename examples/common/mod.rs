//! What the fastest-of-windows timing examples (`chain_latency`, `batch_throughput`) share: the
//! benches' SplitMix64 generator, the notebook-shape weights they time, the timer, and the
//! argument that picks an AVX-512 form.

use std::time::Instant;

use fusedrnn::kernels::{Kernel, LstmTables, RnnTables, fold_lstm, fold_rnn};
use fusedrnn::model::{LstmWeights, RnnInput, RnnWeights};
use fusedrnn::shape::NUM_WORDS;

/// SplitMix64 (the benches' generator).
pub struct Rng(pub u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn uniform(&mut self, mag: f32) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * mag
    }
    fn array<const N: usize>(&mut self, mag: f32) -> [f32; N] {
        std::array::from_fn(|_| self.uniform(mag))
    }
    /// A token id in `1..NUM_WORDS` (never the pad).
    pub fn token(&mut self) -> u16 {
        1 + (self.next_u64() % (NUM_WORDS as u64 - 1)) as u16
    }
}

/// Random Embedding + LSTM(8) and Embedding + SimpleRNN(8) weights, folded for the kernels.
pub fn random_tables(rng: &mut Rng) -> (LstmTables, RnnTables) {
    let lw = LstmWeights {
        embedding: (0..NUM_WORDS).map(|_| rng.array(0.05)).collect(),
        kernel: std::array::from_fn(|_| rng.array(0.4)),
        recurrent_kernel: std::array::from_fn(|_| rng.array(0.4)),
        bias: rng.array(0.1),
        dense_kernel: rng.array(0.5),
        dense_bias: 0.1,
    };
    let rw = RnnWeights {
        input: RnnInput::Embedding {
            embedding: (0..NUM_WORDS).map(|_| rng.array(0.05)).collect(),
            kernel: std::array::from_fn(|_| rng.array(0.4)),
        },
        recurrent_kernel: std::array::from_fn(|_| rng.array(0.4)),
        bias: rng.array(0.1),
        dense_kernel: rng.array(0.5),
        dense_bias: 0.1,
    };
    (fold_lstm(&lw), fold_rnn(&rw))
}

/// The fastest of `windows` runs of `f`, in ns per `per` units of work.
pub fn best_ns(windows: usize, per: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..windows {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_nanos() as f64 / per as f64);
    }
    best
}

/// One of the per-CPU forms that give the same bits (`Kernel::tuning`: the AVX-512 kernel's
/// two, the AVX2 kernel's two), as an example's argument names it.
#[allow(dead_code)] // each example takes one of them
pub enum Form {
    /// `STEPPING`: `pairs` (the pipelined block pairs) or `alternating` on AVX-512; `cells8`
    /// (the batch LSTM's cell on all 8 units at once) or `cells4` on AVX2.
    Stepping,
    /// `STEP`: `zmm` (the LSTM step with two gates per zmm) or `8-lane` on AVX-512; `halves`
    /// (splats of `h` from its halves) or `permutes` on AVX2.
    LstmStep,
}

/// `kernel` with `form` set as `arg` says: unchanged for no argument or `default` (this CPU's
/// choice); an error naming the argument for another word, or for a kernel other than AVX-512
/// and AVX2.
pub fn with_form(kernel: Kernel, form: Form, arg: Option<&str>) -> Result<Kernel, String> {
    let (what, on, off) = match (&form, kernel) {
        #[cfg(target_arch = "x86_64")]
        (Form::Stepping, Kernel::Avx2Fma(_)) => ("STEPPING", "cells8", "cells4"),
        (Form::Stepping, _) => ("STEPPING", "pairs", "alternating"),
        #[cfg(target_arch = "x86_64")]
        (Form::LstmStep, Kernel::Avx2Fma(_)) => ("STEP", "halves", "permutes"),
        (Form::LstmStep, _) => ("STEP", "zmm", "8-lane"),
    };
    let want = match arg {
        None | Some("default") => return Ok(kernel),
        Some(w) if w == on || w == off => w == on,
        Some(other) => return Err(format!("{what} is {on}, {off} or default, not {other:?}")),
    };
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512(cpu) => Ok(Kernel::Avx512(match form {
            Form::Stepping => cpu.with_pipelined_pairs(want),
            Form::LstmStep => cpu.with_zmm_lstm_step(want),
        })),
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2Fma(cpu) => Ok(Kernel::Avx2Fma(match form {
            Form::Stepping => cpu.with_cells_by_eight(want),
            Form::LstmStep => cpu.with_splats_from_halves(want),
        })),
        _ => Err(format!(
            "{what} {} is not a form of the {} kernel",
            if want { on } else { off },
            kernel.name()
        )),
    }
}
