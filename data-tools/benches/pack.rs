//! imdb-pack's stages on the 50,000-review data set: a real `imdb.npz` when this machine has one
//! (see `data-tools/src/locate.rs`), else a synthetic corpus of the same shape.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fusedrnn_data_tools::synth::{SynthConfig, generate, npz_bytes};
use fusedrnn_data_tools::{ImdbArrays, PackParams, pack};

/// The npz bytes (the real file when this machine has one) and where they came from.
fn npz() -> (Vec<u8>, String) {
    match fusedrnn_data_tools::locate::find_imdb_npz() {
        Some(path) => (std::fs::read(&path).unwrap(), path.display().to_string()),
        None => {
            let (a, b, c, d) = generate(&SynthConfig::default());
            (
                npz_bytes(&a, &b, &c, &d).unwrap(),
                "synthetic corpus".to_string(),
            )
        }
    }
}

fn bench(c: &mut Criterion) {
    let (bytes, source) = npz();
    eprintln!("pack benches on {source} ({} bytes)", bytes.len());
    let mut g = c.benchmark_group("pack");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(50_000));
    g.bench_function("read_npz", |b| {
        b.iter(|| ImdbArrays::from_bytes(&bytes).unwrap())
    });
    let arrays = ImdbArrays::from_bytes(&bytes).unwrap();
    g.bench_function("load_data_split_pad", |b| {
        b.iter(|| pack(&arrays, &PackParams::NOTEBOOK).unwrap())
    });
    let packed = pack(&arrays, &PackParams::NOTEBOOK).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imdb.tok");
    g.bench_function("write_tok", |b| b.iter(|| packed.write(&out).unwrap()));
    g.bench_function("open_tok_validated", |b| {
        b.iter(|| fusedrnn::tokfile::TokFile::open(&out).unwrap())
    });
    g.bench_function("end_to_end", |b| {
        b.iter(|| {
            let arrays = ImdbArrays::from_bytes(&bytes).unwrap();
            pack(&arrays, &PackParams::NOTEBOOK)
                .unwrap()
                .write(&out)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
