//! Whole-split scoring, as `fusedrnn predict` does it: the 25,000-review test split of
//! `../shared/data/imdb.npz` packed with the notebook's defaults (or `$FUSEDRNN_IMDB_NPZ`; a
//! synthetic corpus of the same shape when neither is there — the bench says which), each
//! architecture, 1 and 2 threads, the kernel `Kernel::select` picks (`FUSEDRNN_KERNEL` to pin
//! one). Weights: the parity fixtures (speed does not depend on their values).
//!
//! Throughput is `Elements(reviews)`: criterion's "elem/s" is reviews per second.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fusedrnn::infer::Scorer;
use fusedrnn::kernels::Kernel;
use fusedrnn::model::Model;
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::tokfile::{SplitName, TokFile};
use fusedrnn_data_tools::synth::{SynthConfig, generate, npz_bytes};
use fusedrnn_data_tools::{ImdbArrays, PackConfig, pack};

/// The test split, packed with the notebook's defaults, and where it came from.
fn test_split() -> (TokFile, &'static str) {
    let path = std::env::var_os("FUSEDRNN_IMDB_NPZ")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/imdb.npz"));
    let (arrays, source) = match ImdbArrays::read(&path) {
        Ok(a) => (a, "shared imdb.npz"),
        Err(_) => {
            let (a, b, c, d) = generate(&SynthConfig::default());
            (
                ImdbArrays::from_bytes(&npz_bytes(&a, &b, &c, &d).unwrap()).unwrap(),
                "synthetic corpus",
            )
        }
    };
    let packed = pack(&arrays, &PackConfig::default()).unwrap();
    let [a, b, c] = &packed.splits;
    let mut bytes = Vec::new();
    fusedrnn::tokfile::encode(
        &mut bytes,
        &packed.params,
        [a.as_data(), b.as_data(), c.as_data()],
    )
    .unwrap();
    (TokFile::from_bytes(&bytes).unwrap(), source)
}

fn bench(c: &mut Criterion) {
    let (tok, source) = test_split();
    let split = tok.split(SplitName::Test);
    let seqs = split.rows_fixed::<SEQ_LEN>().unwrap();
    let kernel = Kernel::select().unwrap();
    eprintln!(
        "throughput on the {source}: {} test reviews, kernel {}",
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
