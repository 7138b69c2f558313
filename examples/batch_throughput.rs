//! Batch throughput of the notebook kernels (sequences in lanes) as the *fastest* of many short
//! timed windows on one thread, the figure that survives a loaded machine (issue 16 item 3: the
//! port account in `src/kernels/simd.rs`). A window is one `lstm_forward` / `rnn_forward` call
//! over 128 full-length reviews (no leading pads, so every review runs all 100 steps); the
//! minimum over the windows is the time with the core to itself. For comparing builds side by
//! side while others compile; `fusedrnn bench` and criterion give the figures for a quiet
//! machine. Prints ns per sequence-step, reviews/s on this thread and, with the clock given
//! (`benches/report/clock.c`), cycles per sequence-step.
//!
//! ```sh
//! cargo run --release --example batch_throughput -- [KERNEL] [GHZ] [WINDOWS]
//! ```
//! `KERNEL` as `FUSEDRNN_KERNEL` takes it (default: the best for this CPU).

use std::hint::black_box;
use std::time::Instant;

use fusedrnn::kernels::{Kernel, fold_lstm, fold_rnn};
use fusedrnn::model::{LstmWeights, RnnInput, RnnWeights};
use fusedrnn::shape::{NUM_WORDS, SEQ_LEN};

const BATCH: usize = 128;

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

/// The fastest of `windows` runs of `f`, in ns.
fn best_ns(windows: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..windows {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_nanos() as f64);
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
    let windows: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(300);
    let mut rng = Rng(3);
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
    let seqs: Vec<[u16; SEQ_LEN]> = (0..BATCH)
        .map(|_| std::array::from_fn(|_| rng.token()))
        .collect();
    let mut probs = vec![0f32; BATCH];
    let lstm = best_ns(windows, || {
        kernel.lstm_forward(&lt, black_box(&seqs), &mut probs);
        black_box(&probs);
    });
    let rnn = best_ns(windows, || {
        kernel.rnn_forward(&rt, black_box(&seqs), &mut probs);
        black_box(&probs);
    });
    println!(
        "kernel {} (1 thread, batch {BATCH}, fastest of {windows})",
        kernel.name()
    );
    let seq_steps = (BATCH * SEQ_LEN) as f64;
    for (name, ns) in [("lstm", lstm), ("rnn", rnn)] {
        let per = ns / seq_steps;
        let reviews = BATCH as f64 / ns * 1e9;
        match ghz {
            Some(g) => println!(
                "{name:<5} {per:7.3} ns/seq-step {:6.1} cycles/seq-step at {g} GHz  {reviews:10.0} reviews/s",
                per * g
            ),
            None => println!("{name:<5} {per:7.3} ns/seq-step  {reviews:10.0} reviews/s"),
        }
    }
    Ok(())
}
