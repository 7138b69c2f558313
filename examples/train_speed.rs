//! The notebook trainer's speed on the real data (or the bench's synthetic stand-in): one LSTM
//! `fit` epoch (20,000 train + 5,000 validation reviews, batch 64) on 2 and 1 threads, one
//! batch of 64 on one and two threads, and the parts of the one-thread batch (the gradient; of
//! it, the `64 / LANES` shards' forward + backward from a filled `xproj`; the RMSprop update), each the
//! fastest of many short windows, so that a loaded machine disturbs it least. Build two versions
//! and run them alternately to compare.
//!
//! ```text
//! cargo run --release --example train_speed [-- ROUNDS [DROPOUT]]
//! ```
//!
//! With `DROPOUT` (e.g. `0.3`, the notebook's LSTM(8, dropout=0.3)) the two epochs train with
//! that input dropout; the batch figures stay without it.

use std::time::Instant;

use fusedrnn::kernels::Kernel;
use fusedrnn::model::Arch;
use fusedrnn::shape::{GATES, HIDDEN, NUM_WORDS, SEQ_LEN};
use fusedrnn::tokfile::SplitName;
use fusedrnn::train::{LANES, Layout, Quiet, Shard, TrainConfig, Trainer, fit, init_params};

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(5, |a| a.parse().expect("ROUNDS: a number"));
    let dropout: f32 = std::env::args()
        .nth(2)
        .map_or(0.0, |a| a.parse().expect("DROPOUT: a number"));
    let (tok, source) = fusedrnn_data_tools::locate::notebook_tok().expect("data");
    let train = tok.split(SplitName::Train);
    let val = tok.split(SplitName::Val);
    let kernel = Kernel::select().expect("kernel");
    println!("data {source}, kernel {}", kernel.name());
    let rows = train.rows_fixed::<SEQ_LEN>().expect("rows");
    let (seqs, labels) = (&rows[..64], &train.labels[..64]);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");
    let mut shards: Vec<Shard> = rows[..64]
        .chunks(LANES)
        .map(|c| {
            let mut s = Shard::new(GATES);
            s.fill(c, |i| ((i % 17) as f32 - 8.0) * 0.05);
            s
        })
        .collect();
    let rec: Vec<f32> = (0..HIDDEN * GATES)
        .map(|i| ((i % 13) as f32 - 6.0) * 0.05)
        .collect();
    let dense = [0.1f32; HIDDEN];
    let mut tr = Trainer::new(
        init_params(Layout::new(Arch::Lstm, NUM_WORDS), 1),
        1e-4,
        0.0,
        kernel,
    );
    let mut best = [f64::INFINITY; 7];
    for _ in 0..rounds {
        for (k, threads) in [(0, 2), (1, 1)] {
            let cfg = TrainConfig {
                arch: Arch::Lstm,
                epochs: 1,
                threads,
                dropout,
                ..TrainConfig::default()
            };
            let t = Instant::now();
            fit(&train, &val, tok.num_words(), &cfg, kernel, &mut Quiet).expect("fit");
            best[k] = best[k].min(t.elapsed().as_secs_f64());
        }
        for _ in 0..20 {
            let t = Instant::now();
            for _ in 0..10 {
                one.install(|| tr.train_batch(seqs, labels, None));
            }
            best[2] = best[2].min(t.elapsed().as_secs_f64() / 10.0);
            let t = Instant::now();
            for _ in 0..10 {
                two.install(|| tr.train_batch(seqs, labels, None));
            }
            best[3] = best[3].min(t.elapsed().as_secs_f64() / 10.0);
            let t = Instant::now();
            for _ in 0..10 {
                one.install(|| tr.compute_gradient(seqs, labels, None));
            }
            best[4] = best[4].min(t.elapsed().as_secs_f64() / 10.0);
            let t = Instant::now();
            for _ in 0..10 {
                for s in &mut shards {
                    s.run(Arch::Lstm, kernel, &rec, &dense, 0.0, 1.0 / 64.0);
                }
            }
            best[5] = best[5].min(t.elapsed().as_secs_f64() / 10.0);
            let t = Instant::now();
            for _ in 0..10 {
                tr.apply_gradient();
            }
            best[6] = best[6].min(t.elapsed().as_secs_f64() / 10.0);
        }
    }
    println!(
        "epoch 2 threads {:.4} s, epoch 1 thread {:.4} s (dropout {dropout}), batch64 1 thread {:.1} us",
        best[0],
        best[1],
        best[2] * 1e6
    );
    println!(
        "batch64 2 threads {:.1} us; 1 thread: gradient {:.1} us ({} shards fwd+bwd {:.1} us), rmsprop {:.1} us",
        best[3] * 1e6,
        best[4] * 1e6,
        64 / LANES,
        best[5] * 1e6,
        best[6] * 1e6
    );
}
