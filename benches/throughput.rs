//! Whole-split scoring, as `fusedrnn predict` does it: the 25,000-review test split of
//! `../shared/data/imdb.npz` packed with the notebook's defaults (or `$FUSEDRNN_IMDB_NPZ`; a
//! synthetic corpus of the same shape when neither is there — the bench says which), each
//! architecture, 1 and 2 threads, the kernel `Kernel::select` picks (`FUSEDRNN_KERNEL` to pin
//! one). Weights: the parity fixtures (speed does not depend on their values).
//!
//! Throughput is `Elements(reviews)`: criterion's "elem/s" is reviews per second.

use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fusedrnn::infer::Scorer;
use fusedrnn::kernels::Kernel;
use fusedrnn::model::Model;
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::tokfile::{SplitName, TokFile};

/// The notebook's packed data (real when this machine has it) and where it came from.
fn test_split() -> (TokFile, String) {
    let (tok, source) = fusedrnn_data_tools::locate::notebook_tok().unwrap();
    (tok, source.to_string())
}

fn bench(c: &mut Criterion) {
    let (tok, source) = test_split();
    let split = tok.split(SplitName::Test);
    let seqs = split.rows_fixed::<SEQ_LEN>().unwrap();
    let kernel = Kernel::select().unwrap();
    eprintln!(
        "throughput on {source}: {} test reviews, kernel {}",
        seqs.len(),
        kernel.name()
    );
    let mut g = c.benchmark_group("throughput");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(seqs.len() as u64));
    for arch in ["lstm", "rnn", "rnn-onehot"] {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/parity/{arch}.safetensors"));
        let scorer = Scorer::new(&Model::load(file).unwrap(), kernel);
        let mut probs = vec![0.0; seqs.len()];
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let id = BenchmarkId::new(
                format!("{arch}/test25000/{}", kernel.name()),
                format!("{threads}t"),
            );
            g.bench_function(id, |b| {
                b.iter(|| pool.install(|| scorer.score(seqs, &mut probs)))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
