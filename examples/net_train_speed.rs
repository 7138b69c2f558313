//! One training epoch through the general-shape trainer (`fusedrnn::net::train`), and the
//! notebook's fixed-shape trainer (`fusedrnn::train`) on its own shape in the same run:
//! 20,000 training + 5,000 validation reviews, batch 64, RMSprop, 2 threads (`--threads N`).
//!
//! ```text
//! cargo run --release --example net_train_speed [-- --threads 2 --repeats 2 --dropout 0.3]
//! ```
//!
//! `--dropout R` trains every model with input dropout `R` (default 0).
//!
//! The data is synthetic (IMDB-like lengths, pre-padded, Zipf-like ids): speed does not depend
//! on the words. Figures are wall-clock seconds of `fit` with `epochs = 1` (training and
//! validation); on a loaded machine compare the figures of one run with each other only.

use std::time::Instant;

use fusedrnn::kernels::Kernel;
use fusedrnn::model::Arch;
use fusedrnn::net::train::{NetTrainConfig, NetTrainer};
use fusedrnn::net::{Cell, Input, Spec};
use fusedrnn::tokfile::{Split, SplitName};
use fusedrnn::train::{Quiet, TrainConfig, fit};

/// `n` pre-padded rows of `seq_len` ids below `vocab` and 0/1 labels.
fn corpus(n: usize, seq_len: usize, vocab: usize, seed: u64) -> (Vec<u16>, Vec<u8>, Vec<u32>) {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    let mut ids = vec![0u16; n * seq_len];
    let mut labels = Vec::with_capacity(n);
    let mut lengths = Vec::with_capacity(n);
    for row in ids.chunks_exact_mut(seq_len) {
        // Lengths like IMDB's (median ≈ 180 words): most reviews fill the window.
        let len = (30 + next() as usize % 400).min(seq_len);
        for t in &mut row[seq_len - len..] {
            // Zipf-like: small ids are frequent.
            let u = (next() % 1_000_000) as f64 / 1e6;
            *t = ((vocab as f64).powf(u) as usize).clamp(1, vocab - 1) as u16;
        }
        labels.push((next() % 2) as u8);
        lengths.push(len as u32);
    }
    (ids, labels, lengths)
}

/// CPU seconds of this process so far, all threads (Linux `/proc/self/stat`, 100 Hz ticks);
/// `NaN` elsewhere. On a loaded machine this is the figure to compare.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok());
    match (tick(11), tick(12)) {
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => f64::NAN,
    }
}

fn net_epoch(spec: Spec, threads: usize, dropout: f32, (train, val): (usize, usize)) -> f64 {
    let (ids, labels, _) = corpus(train, spec.seq_len, spec.vocab, 1);
    let (vids, vlabels, _) = corpus(val, spec.seq_len, spec.vocab, 2);
    let f = |l: &[u8]| l.iter().map(|&y| f32::from(y)).collect::<Vec<f32>>();
    let (labels, vlabels) = (f(&labels), f(&vlabels));
    let cfg = NetTrainConfig {
        epochs: 1,
        threads,
        dropout,
        ..NetTrainConfig::default()
    };
    let mut tr = NetTrainer::new(spec, cfg).expect("a valid spec");
    let (t, c) = (Instant::now(), cpu_seconds());
    let fit = tr.fit((&ids, &labels), (&vids, &vlabels)).expect("fit");
    let (s, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    println!(
        "  net::train  {spec}: {s:.3} s/epoch wall, {cpu:.2} s CPU (loss {:.4}, val_loss {:.4})",
        fit.history[0].loss, fit.history[0].val_loss
    );
    cpu
}

fn fixed_epoch(threads: usize, dropout: f32, (train, val): (usize, usize)) -> f64 {
    let (ids, labels, lengths) = corpus(train, 100, 500, 1);
    let (vids, vlabels, vlengths) = corpus(val, 100, 500, 2);
    let train = Split::from_parts(SplitName::Train, 100, &ids, &labels, &lengths).unwrap();
    let val = Split::from_parts(SplitName::Val, 100, &vids, &vlabels, &vlengths).unwrap();
    let cfg = TrainConfig {
        arch: Arch::Lstm,
        epochs: 1,
        threads,
        dropout,
        ..TrainConfig::default()
    };
    let kernel = Kernel::select().expect("a kernel");
    let (t, c) = (Instant::now(), cpu_seconds());
    let out = fit(&train, &val, 500, &cfg, kernel, &mut Quiet).expect("fit");
    let (s, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    println!(
        "  train (fixed shape, {}) LSTM(8) on Embedding(500, 16), length 100: {s:.3} s/epoch wall, {cpu:.2} s CPU (loss {:.4})",
        kernel.name(),
        out.history[0].loss
    );
    cpu
}

fn main() {
    let mut threads = 2;
    let mut repeats = 2;
    let mut train = 20_000;
    let mut only = String::new();
    let mut dropout = 0f32;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next();
        let n = v.as_deref().and_then(|v| v.parse().ok());
        match (a.as_str(), n) {
            ("--threads", Some(n)) if n > 0 => threads = n,
            ("--repeats", Some(n)) => repeats = n,
            ("--train", Some(n)) if n >= 4 => train = n,
            ("--only", _) if v.is_some() => only = v.unwrap_or_default(),
            ("--dropout", _) => match v.as_deref().map(str::parse::<f32>) {
                Some(Ok(r)) if (0.0..1.0).contains(&r) => dropout = r,
                _ => {
                    eprintln!("--dropout: a rate in [0, 1)");
                    std::process::exit(2);
                }
            },
            _ => {
                eprintln!(
                    "usage: net_train_speed [--threads N] [--repeats N] [--train N] [--only notebook|lstm|gru] [--dropout R]"
                );
                std::process::exit(2);
            }
        }
    }
    let sizes = (train, train / 4);
    let want = |name: &str| only.is_empty() || only == name;
    let emb = |cell, units| Spec {
        cell,
        units,
        vocab: 5000,
        input: Input::Embedding { width: 64 },
        seq_len: 200,
    };
    let notebook = Spec {
        cell: Cell::Lstm,
        units: 8,
        vocab: 500,
        input: Input::Embedding { width: 16 },
        seq_len: 100,
    };
    println!(
        "{} train + {} val reviews, batch 64, {threads} threads, dropout {dropout}, {repeats} rounds",
        sizes.0, sizes.1
    );
    for round in 1..=repeats {
        println!("round {round}");
        if want("notebook") {
            let fixed = fixed_epoch(threads, dropout, sizes);
            let ours = net_epoch(notebook, threads, dropout, sizes);
            println!(
                "  notebook shape: net::train / fixed-shape trainer = {:.2} (CPU seconds)",
                ours / fixed
            );
        }
        if want("lstm") {
            net_epoch(emb(Cell::Lstm, 32), threads, dropout, sizes);
        }
        if want("gru") {
            net_epoch(
                emb(Cell::Gru { reset_after: true }, 32),
                threads,
                dropout,
                sizes,
            );
        }
    }
}
