//! Batch throughput of the general shapes on a real, padded token file: how much the padding
//! cache and the batch's sort by leading pads save where reviews are shorter than `maxlen`
//! (`benches/net.rs` and `benches/peers/shapes.py` time rows without pads, every step computed).
//!
//! ```text
//! target/release/imdb-pack --npz ../shared/data/imdb.npz --num-words 5000 --maxlen 200 --out imdb200.tok
//! cargo run --release --example net_padded_throughput -- imdb200.tok [THREADS [PASSES]]
//! ```
//!
//! Scores the file's test split with LSTM(32) and GRU(32) on Embedding(num_words, 64), seeded
//! weights (scale 0.1), on `THREADS` threads (default 2), and prints the fastest of `PASSES`
//! (default 5) in reviews/s, with the share of positions that are leading pads and a hash of
//! the probabilities' bits (equal across kernels and builds that give the same bits).

use std::time::Instant;

use fusedrnn::kernels::Kernel;
use fusedrnn::net::{Cell, Input, NetScorer, NetWeights, Spec, leading_pads};
use fusedrnn::tokfile::{SplitName, TokFile};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: net_padded_throughput TOKFILE [THREADS [PASSES]]")?;
    let threads: usize = args.next().map_or(Ok(2), |a| a.parse())?;
    let passes: usize = args.next().map_or(Ok(5), |a| a.parse())?;
    let file = TokFile::open(&path)?;
    let split = file.split(SplitName::Test);
    let len = file.seq_len();
    let ids: Vec<u32> = (0..split.len()).flat_map(|i| split.row(i).iter()).collect();
    let pads: usize = ids.chunks(len).map(leading_pads).sum();
    let kernel = Kernel::select()?;
    println!(
        "{path}: {} test reviews of {len}, {:.1} % leading pads; kernel {}, {threads} threads",
        split.len(),
        100.0 * pads as f64 / ids.len() as f64,
        kernel.name()
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    for cell in [Cell::Lstm, Cell::Gru { reset_after: true }] {
        let spec = Spec {
            cell,
            units: 32,
            vocab: file.num_words(),
            input: Input::Embedding { width: 64 },
            seq_len: len,
        };
        let scorer = NetScorer::from_weights(&NetWeights::seeded(spec, 1, 0.1), kernel)?;
        let mut probs = vec![0.0f32; split.len()];
        let mut best = f64::MAX;
        for _ in 0..passes.max(1) {
            let t = Instant::now();
            pool.install(|| scorer.score(&ids, &mut probs))?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        let hash = probs.iter().fold(0u64, |a, p| {
            a.wrapping_mul(0x100_0000_01b3) ^ u64::from(p.to_bits())
        });
        println!(
            "{}(32): {:.0} reviews/s ({:.1} ms a pass), probabilities' hash {hash:016x}",
            cell.name(),
            split.len() as f64 / best,
            best * 1e3
        );
    }
    Ok(())
}
