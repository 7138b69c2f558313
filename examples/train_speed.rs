//! The notebook trainer's speed on the real data (or the bench's synthetic stand-in): one LSTM
//! `fit` epoch (20,000 train + 5,000 validation reviews, batch 64) on 2 and 1 threads, and one
//! batch of 64 on one thread, each the fastest of many short windows, so that a loaded machine
//! disturbs it least. Build two versions and run them alternately to compare.
//!
//! ```text
//! cargo run --release --example train_speed [-- ROUNDS]
//! ```

use std::time::Instant;

use fusedrnn::kernels::Kernel;
use fusedrnn::model::Arch;
use fusedrnn::shape::{NUM_WORDS, SEQ_LEN};
use fusedrnn::tokfile::SplitName;
use fusedrnn::train::{Layout, Quiet, TrainConfig, Trainer, fit, init_params};

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(5, |a| a.parse().expect("ROUNDS: a number"));
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
    let mut tr = Trainer::new(
        init_params(Layout::new(Arch::Lstm, NUM_WORDS), 1),
        1e-4,
        0.0,
        kernel,
    );
    let mut best = [f64::INFINITY; 3];
    for _ in 0..rounds {
        for (k, threads) in [(0, 2), (1, 1)] {
            let cfg = TrainConfig {
                arch: Arch::Lstm,
                epochs: 1,
                threads,
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
        }
    }
    println!(
        "epoch 2 threads {:.4} s, epoch 1 thread {:.4} s, batch64 1 thread {:.1} us",
        best[0],
        best[1],
        best[2] * 1e6
    );
}
