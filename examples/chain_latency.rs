//! Step and review latency of the one-sequence kernels as the *fastest* of many short timed
//! windows, the figure that survives a loaded machine (issue 16 item 1: the cycle account in
//! `src/kernels/simd.rs`). A window is 2,000 dependent steps (or 20 reviews); a process that
//! loses the core mid-window only makes that window slower, so the minimum over 2,000 windows
//! is the time with the core to itself. Criterion's mean and `fusedrnn bench`'s p50 are the
//! figures for a quiet machine; this one is for comparing builds side by side while others
//! compile. Prints ns and, with the clock given (`benches/report/clock.c`), cycles.
//!
//! ```sh
//! cargo run --release --example chain_latency -- [KERNEL] [GHZ] [busy | quiet] [STEP]
//! ```
//! `KERNEL` as `FUSEDRNN_KERNEL` takes it (default: the best for this CPU; `best` names it
//! explicitly). `STEP`, for the AVX-512 kernel, is `zmm` (the LSTM step with two gates per zmm,
//! Zen 5's tuning) or `8-lane` (the AVX2 kernel's form in AVX-512's encodings, Intel's and Zen
//! 4's); for the AVX2 kernel `halves` (`h` splatted from its two halves, Zen 3's) or `permutes`
//! (one `vpermps` a unit); to measure one core's form on another, or `default` (this CPU's).
//!
//! The steps are timed one call each (`Kernel::lstm_step`, the state through memory) and 100
//! tokens a call (`Kernel::lstm_steps`, the state in registers between them).
//!
//! With `busy` (issue 16 item 7) it then prints the *distribution* a caller sees: p50 and p99
//! of single reviews and of steps (timed 10 at a time, so the clock read is a small part),
//! first with this thread alone, then while a second thread runs batch predicts
//! (`Kernel::lstm_forward` on 256 reviews, over and over) on the other core: what a latency
//! caller gets beside a batch job on a 2-core machine (shared L2/L3, memory, and the
//! hypervisor's and other processes' share of the cores).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use fusedrnn::kernels::{Kernel, LstmState, LstmTables, RnnState, RnnTables};
use fusedrnn::shape::SEQ_LEN;

mod common;
use common::{Form, Rng, best_ns, random_tables, with_form};

const WINDOWS: usize = 2000;
const STEPS: usize = 2000;
const REVIEWS: usize = 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kernel = match args.first().map(String::as_str) {
        Some("best") | None => Kernel::select()?,
        Some(name) => Kernel::from_override(name)?,
    };
    let ghz: Option<f64> = args.get(1).map(|s| s.parse()).transpose()?;
    let busy = match args.get(2).map(String::as_str) {
        None | Some("quiet") => false,
        Some("busy") => true,
        Some(other) => {
            return Err(format!("the third argument is busy or quiet, not {other:?}").into());
        }
    };
    let kernel = with_form(kernel, Form::LstmStep, args.get(3).map(String::as_str))?;
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
    let lstm_steps = best_ns(WINDOWS, STEPS, || {
        for part in toks.chunks(SEQ_LEN) {
            kernel.lstm_steps(&lt, &mut ls, black_box(part));
        }
    });
    let rnn_steps = best_ns(WINDOWS, STEPS, || {
        for part in toks.chunks(SEQ_LEN) {
            kernel.rnn_steps(&rt, &mut rs, black_box(part));
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
    println!("kernel {} {}", kernel.name(), kernel.tuning());
    for (name, ns, steps) in [
        ("lstm step", lstm_step, 1.0),
        ("rnn step", rnn_step, 1.0),
        ("lstm steps (100 a call)", lstm_steps, 1.0),
        ("rnn steps (100 a call)", rnn_steps, 1.0),
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
    if busy {
        percentiles(kernel, &lt, &rt, &toks, &reviews, ghz);
    }
    Ok(())
}

/// Step and review p50/p99, quiet and beside a batch-predicting thread (module docs).
fn percentiles(
    kernel: Kernel,
    lt: &LstmTables,
    rt: &RnnTables,
    toks: &[u16],
    reviews: &[[u16; SEQ_LEN]],
    ghz: Option<f64>,
) {
    const SAMPLES: usize = 20_000;
    const STEPS_PER_SAMPLE: usize = 10;
    let sample = |f: &mut dyn FnMut(usize)| -> (f64, f64) {
        let mut ns: Vec<f64> = (0..SAMPLES)
            .map(|k| {
                let t = Instant::now();
                f(k);
                t.elapsed().as_nanos() as f64
            })
            .collect();
        ns.sort_by(f64::total_cmp);
        (ns[SAMPLES / 2], ns[SAMPLES * 99 / 100])
    };
    let measure = || {
        let mut ls = LstmState::default();
        let mut rs = RnnState::default();
        let n = toks.len() - STEPS_PER_SAMPLE;
        let (l50, l99) = sample(&mut |k| {
            let at = k * STEPS_PER_SAMPLE % n;
            for &tok in &toks[at..at + STEPS_PER_SAMPLE] {
                kernel.lstm_step(lt, &mut ls, black_box(tok));
            }
        });
        let (r50, r99) = sample(&mut |k| {
            let at = k * STEPS_PER_SAMPLE % n;
            for &tok in &toks[at..at + STEPS_PER_SAMPLE] {
                kernel.rnn_step(rt, &mut rs, black_box(tok));
            }
        });
        let (lr50, lr99) = sample(&mut |k| {
            black_box(kernel.lstm_review_hidden(lt, black_box(&reviews[k % reviews.len()])));
        });
        let (rr50, rr99) = sample(&mut |k| {
            black_box(kernel.rnn_review_hidden(rt, black_box(&reviews[k % reviews.len()])));
        });
        black_box((ls, rs));
        let per = STEPS_PER_SAMPLE as f64;
        [
            ("lstm step", l50 / per, l99 / per, 1.0),
            ("rnn step", r50 / per, r99 / per, 1.0),
            ("lstm review", lr50, lr99, SEQ_LEN as f64),
            ("rnn review", rr50, rr99, SEQ_LEN as f64),
        ]
    };
    let report = |label: &str, rows: [(&str, f64, f64, f64); 4]| {
        println!("{label}");
        for (name, p50, p99, steps) in rows {
            match ghz {
                Some(g) => println!(
                    "  {name:<12} p50 {p50:9.1} ns  p99 {p99:9.1} ns   ({:.1} / {:.1} cycles/step)",
                    p50 * g / steps,
                    p99 * g / steps
                ),
                None => println!("  {name:<12} p50 {p50:9.1} ns  p99 {p99:9.1} ns"),
            }
        }
    };
    report("alone (p50 / p99; steps timed 10 at a time):", measure());
    let stop = AtomicBool::new(false);
    let batches = AtomicUsize::new(0);
    let loaded = std::thread::scope(|s| {
        s.spawn(|| {
            let batch: Vec<[u16; SEQ_LEN]> = (0..256).map(|k| reviews[k % reviews.len()]).collect();
            let mut probs = vec![0f32; batch.len()];
            while !stop.load(Ordering::Relaxed) {
                kernel.lstm_forward(lt, &batch, &mut probs);
                batches.fetch_add(1, Ordering::Relaxed);
            }
            black_box(probs);
        });
        // Let the batch thread start before timing.
        while batches.load(Ordering::Relaxed) == 0 {
            std::hint::spin_loop();
        }
        let rows = measure();
        stop.store(true, Ordering::Relaxed);
        rows
    });
    report(
        "beside a batch predict on the other thread (LSTM, 256 reviews per call):",
        loaded,
    );
    println!(
        "  (batch thread: {} predicts of 256 reviews meanwhile)",
        batches.load(Ordering::Relaxed)
    );
}
