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

use fusedrnn::kernels::{Kernel, LstmState, RnnState};
use fusedrnn::shape::SEQ_LEN;

mod common;
use common::{Rng, best_ns, random_tables};

const WINDOWS: usize = 2000;
const STEPS: usize = 2000;
const REVIEWS: usize = 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kernel = match args.first() {
        Some(name) => Kernel::from_override(name)?,
        None => Kernel::select()?,
    };
    let ghz: Option<f64> = args.get(1).map(|s| s.parse()).transpose()?;
    let mut rng = Rng(2);
    let (lt, rt) = random_tables(&mut rng);
    let toks: Vec<u16> = (0..STEPS).map(|_| rng.token()).collect();
    let reviews: Vec<[u16; SEQ_LEN]> = (0..REVIEWS)
        .map(|_| std::array::from_fn(|_| rng.token()))
        .collect();

    let mut ls = LstmState::default();
    let lstm_step = best_ns(WINDOWS, STEPS, || {
        for &tok in &toks {
            kernel.lstm_step(&lt, &mut ls, black_box(tok));
        }
    });
    let mut rs = RnnState::default();
    let rnn_step = best_ns(WINDOWS, STEPS, || {
        for &tok in &toks {
            kernel.rnn_step(&rt, &mut rs, black_box(tok));
        }
    });
    let lstm_review = best_ns(WINDOWS, REVIEWS, || {
        for r in &reviews {
            black_box(kernel.lstm_review_hidden(&lt, black_box(r)));
        }
    });
    let rnn_review = best_ns(WINDOWS, REVIEWS, || {
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
