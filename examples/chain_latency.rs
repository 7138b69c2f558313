//! Step and review latency of the one-sequence kernels as the *fastest* of many short timed
//! windows, the figure that survives a loaded machine (issue 16 item 1: the cycle account in
//! `src/kernels/simd.rs`). A window is 2,000 dependent steps (or 20 reviews); a process that
//! loses the core mid-window only makes that window slower, so the minimum over 2,000 windows
//! is the time with the core to itself. Criterion's mean and `fusedrnn bench`'s p50 are the
//! figures for a quiet machine; this one is for comparing builds side by side while others
//! compile. Prints ns and, with the clock given (`benches/report/clock.c`), cycles.
//!
//! ```sh
//! cargo run --release --example chain_latency -- [KERNEL] [GHZ]
//! ```
//! `KERNEL` as `FUSEDRNN_KERNEL` takes it (default: the best for this CPU).

use std::hint::black_box;
use std::time::Instant;

use fusedrnn::kernels::{Kernel, LstmState, RnnState, fold_lstm, fold_rnn};
use fusedrnn::model::{LstmWeights, RnnInput, RnnWeights};
use fusedrnn::shape::{NUM_WORDS, SEQ_LEN};

const WINDOWS: usize = 2000;
const STEPS: usize = 2000;
const REVIEWS: usize = 20;

/// SplitMix64 (the benches' generator).
struct Rng(u64);

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
    fn token(&mut self) -> u16 {
        1 + (self.next_u64() % (NUM_WORDS as u64 - 1)) as u16
    }
}

/// The fastest of `WINDOWS` runs of `f`, in ns per `per` units of work.
fn best_ns(per: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..WINDOWS {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_nanos() as f64 / per as f64);
    }
    best
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kernel = match args.first() {
        Some(name) => Kernel::from_override(name)?,
        None => Kernel::select()?,
    };
    let ghz: Option<f64> = args.get(1).map(|s| s.parse()).transpose()?;
    let mut rng = Rng(2);
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
    let (lt, rt) = (fold_lstm(&lw), fold_rnn(&rw));
    let toks: Vec<u16> = (0..STEPS).map(|_| rng.token()).collect();
    let reviews: Vec<[u16; SEQ_LEN]> = (0..REVIEWS)
        .map(|_| std::array::from_fn(|_| rng.token()))
        .collect();

    let mut ls = LstmState::default();
    let lstm_step = best_ns(STEPS, || {
        for &tok in &toks {
            kernel.lstm_step(&lt, &mut ls, black_box(tok));
        }
    });
    let mut rs = RnnState::default();
    let rnn_step = best_ns(STEPS, || {
        for &tok in &toks {
            kernel.rnn_step(&rt, &mut rs, black_box(tok));
        }
    });
    let lstm_review = best_ns(REVIEWS, || {
        for r in &reviews {
            black_box(kernel.lstm_review_hidden(&lt, black_box(r)));
        }
    });
    let rnn_review = best_ns(REVIEWS, || {
        for r in &reviews {
            black_box(kernel.rnn_review_hidden(&rt, black_box(r)));
        }
    });
    black_box((ls, rs));
    println!("kernel {}", kernel.name());
    for (name, ns, steps) in [
        ("lstm step", lstm_step, 1.0),
        ("rnn step", rnn_step, 1.0),
        ("lstm review (100 steps)", lstm_review, SEQ_LEN as f64),
        ("rnn review (100 steps)", rnn_review, SEQ_LEN as f64),
    ] {
        match ghz {
            Some(g) => println!(
                "{name:<24} {ns:9.1} ns  {:7.1} cycles/step at {g} GHz",
                ns * g / steps
            ),
            None => println!("{name:<24} {ns:9.1} ns"),
        }
    }
    Ok(())
}
