//! Training speed: one batch of 64 (forward + backward + RMSprop) per architecture, its parts
//! (one shard's forward + backward, the GEMMs, the optimizer), and one whole LSTM epoch over the
//! 20,000 training reviews with validation on 5,000 (batch 64, 2 threads).
//!
//! Data: `../shared/data/imdb.npz` packed with the notebook's defaults (or `$FUSEDRNN_IMDB_NPZ`;
//! a synthetic corpus of the same shape when neither is there — the bench says which). Kernel:
//! whatever `Kernel::select` picks (`FUSEDRNN_KERNEL` to pin one).

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fusedrnn::kernels::Kernel;
use fusedrnn::kernels::gemm::sgemm;
use fusedrnn::model::Arch;
use fusedrnn::shape::{EMBED, GATES, HIDDEN, NUM_WORDS, SEQ_LEN};
use fusedrnn::tokfile::{SplitName, TokFile};
use fusedrnn::train::{
    LANES, Layout, Quiet, RmsProp, Shard, TrainConfig, Trainer, fit, init_params,
};

/// The notebook's packed data (real when this machine has it) and where it came from.
fn data() -> (TokFile, String) {
    let (tok, source) = fusedrnn_data_tools::locate::notebook_tok().unwrap();
    (tok, source.to_string())
}

const ARCHS: [Arch; 3] = [Arch::Lstm, Arch::Rnn, Arch::RnnOneHot];

fn bench(c: &mut Criterion) {
    let (tok, source) = data();
    let train = tok.split(SplitName::Train);
    let val = tok.split(SplitName::Val);
    let rows = train.rows_fixed::<SEQ_LEN>().unwrap();
    let kernel = Kernel::select().unwrap();
    eprintln!(
        "training benches on {source}: {} train / {} val reviews, kernel {}",
        train.len(),
        val.len(),
        kernel.name()
    );
    let (seqs, labels) = (&rows[..64], &train.labels[..64]);
    let keys: Vec<u64> = (0..64).collect();

    // One batch of 64 on one thread: forward + backward + RMSprop.
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("train_batch");
    g.sample_size(30)
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements((64 * SEQ_LEN) as u64));
    for arch in ARCHS {
        for dropout in [0.0f32, 0.3] {
            let name = format!(
                "batch64/{arch}{}/{}",
                if dropout > 0.0 { "+dropout" } else { "" },
                kernel.name()
            );
            let mut tr = Trainer::new(
                init_params(Layout::new(arch, NUM_WORDS), 1),
                1e-4,
                dropout,
                kernel,
            );
            g.bench_function(name, |b| {
                b.iter(|| one.install(|| tr.train_batch(seqs, labels, Some(&keys))))
            });
        }
    }
    g.finish();

    // The parts of a batch.
    let mut g = c.benchmark_group("train_parts");
    g.sample_size(30).measurement_time(Duration::from_secs(2));
    for (arch, cols) in [(Arch::Lstm, GATES), (Arch::Rnn, HIDDEN)] {
        let mut shard = Shard::new(cols);
        shard.fill(&rows[..LANES], |i| ((i % 17) as f32 - 8.0) * 0.05);
        let rec: Vec<f32> = (0..HIDDEN * cols)
            .map(|i| ((i % 13) as f32 - 6.0) * 0.05)
            .collect();
        let dense = [0.1f32; HIDDEN];
        g.bench_function(
            format!("shard{LANES}_forward_backward/{arch}/{}", kernel.name()),
            |b| b.iter(|| shard.run(arch, kernel, &rec, &dense, 0.0, 1.0 / 64.0)),
        );
    }
    let n = Layout::new(Arch::Lstm, NUM_WORDS).len();
    let mut opt = RmsProp::new(n, 1e-4);
    let mut w = vec![0.1f32; n];
    let grad = vec![1e-3f32; n];
    g.bench_function("rmsprop/lstm", |b| b.iter(|| opt.step(&mut w, &grad)));
    // The GEMMs of one LSTM batch: the fold E·W, then δW = Eᵀ·δT and δE = δT·Wᵀ; with dropout,
    // per shard of 8: X'·W, X'ᵀ·δZ and δZ·Wᵀ.
    let v = NUM_WORDS;
    let e = vec![0.01f32; v * EMBED];
    let k = vec![0.02f32; EMBED * GATES];
    let dt = vec![0.03f32; v * GATES];
    let mut out_vg = vec![0f32; v * GATES];
    let mut out_eg = vec![0f32; EMBED * GATES];
    let mut out_ve = vec![0f32; v * EMBED];
    g.bench_function("gemm_per_batch/lstm", |b| {
        b.iter(|| {
            sgemm(v, EMBED, GATES, &e, &k, 0.0, &mut out_vg);
            sgemm(EMBED, v, GATES, &e, &dt, 0.0, &mut out_eg);
            sgemm(v, GATES, EMBED, &dt, &k, 0.0, &mut out_ve);
        })
    });
    let r = LANES * SEQ_LEN;
    let x = vec![0.01f32; r * EMBED];
    let dz = vec![0.02f32; r * GATES];
    let mut xp = vec![0f32; r * GATES];
    let mut dx = vec![0f32; r * EMBED];
    g.bench_function("gemm_per_shard_dropout/lstm", |b| {
        b.iter(|| {
            sgemm(r, EMBED, GATES, &x, &k, 1.0, &mut xp);
            sgemm(EMBED, r, GATES, &x, &dz, 0.0, &mut out_eg);
            sgemm(r, GATES, EMBED, &dz, &k, 0.0, &mut dx);
        })
    });
    g.finish();

    // One LSTM epoch: 20,000 reviews in 313 batches of 64, then validation on 5,000.
    let mut g = c.benchmark_group("train_epoch");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(train.len() as u64));
    for (arch, dropout) in [
        (Arch::Lstm, 0.0f32),
        (Arch::Lstm, 0.3),
        (Arch::Rnn, 0.0),
        (Arch::RnnOneHot, 0.0),
    ] {
        let cfg = TrainConfig {
            arch,
            epochs: 1,
            dropout,
            threads: 2,
            ..TrainConfig::default()
        };
        let name = format!(
            "{arch}{}/threads2/{}",
            if dropout > 0.0 { "+dropout" } else { "" },
            kernel.name()
        );
        g.bench_function(name, |b| {
            b.iter(|| fit(&train, &val, tok.num_words(), &cfg, kernel, &mut Quiet).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
