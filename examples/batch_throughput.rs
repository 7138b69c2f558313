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
//! cargo run --release --example batch_throughput -- [KERNEL] [GHZ] [WINDOWS] [STEPPING] [BATCH]
//! ```
//! `KERNEL` as `FUSEDRNN_KERNEL` takes it (default: the best for this CPU). `STEPPING`, for the
//! AVX-512 kernel, is `pairs` (the software-pipelined block pairs, Zen 5's tuning) or
//! `alternating` (Intel's and Zen 4's), for the AVX2 kernel `cells8` (the LSTM's cell on all 8
//! units at once, Zen 3's) or `cells4`, to measure one core's form on another, or `default`
//! (this CPU's).
//! `BATCH` is the reviews per window (default 128, whose tokens stay in L1; 25,600, a window of
//! 5 MB of tokens, measures the kernels streaming them as a whole split does).

use std::hint::black_box;

use fusedrnn::kernels::Kernel;
use fusedrnn::shape::SEQ_LEN;

mod common;
use common::{Form, Rng, best_ns, random_tables, with_form};

const BATCH: usize = 128;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kernel = match args.first() {
        Some(name) => Kernel::from_override(name)?,
        None => Kernel::select()?,
    };
    let ghz: Option<f64> = args.get(1).map(|s| s.parse()).transpose()?;
    let windows: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(300);
    let kernel = with_form(kernel, Form::Stepping, args.get(3).map(String::as_str))?;
    let batch: usize = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(BATCH);
    if batch == 0 {
        return Err("BATCH is at least 1".into());
    }
    let mut rng = Rng(3);
    let (lt, rt) = random_tables(&mut rng);
    let seqs: Vec<[u16; SEQ_LEN]> = (0..batch)
        .map(|_| std::array::from_fn(|_| rng.token()))
        .collect();
    let mut probs = vec![0f32; batch];
    let lstm = best_ns(windows, 1, || {
        kernel.lstm_forward(&lt, black_box(&seqs), &mut probs);
        black_box(&probs);
    });
    let rnn = best_ns(windows, 1, || {
        kernel.rnn_forward(&rt, black_box(&seqs), &mut probs);
        black_box(&probs);
    });
    println!(
        "kernel {} (1 thread, batch {batch}, fastest of {windows}{})",
        kernel.name(),
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512(cpu) if cpu.pipelined_pairs() => ", pipelined block pairs",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512(_) => ", alternating block pairs",
            _ => "",
        }
    );
    let seq_steps = (batch * SEQ_LEN) as f64;
    for (name, ns) in [("lstm", lstm), ("rnn", rnn)] {
        let per = ns / seq_steps;
        let reviews = batch as f64 / ns * 1e9;
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
