//! The general-shape kernels (`fusedrnn::net`, issue 14): batch throughput through
//! `NetScorer` (reviews/s, 1 and 2 threads, batch 1024), one-review latency
//! (`NetScorer::score_one`: its steps in one kernel call) and a review streamed a token a call
//! (`NetSession::feed`; throughput in steps), for LSTM(32) and GRU(32) on Embedding(5000, 64),
//! length 200, and for LSTM, GRU and SimpleRNN at 8, 16, 24 and 64 units (24: a size without
//! bodies compiled for it, as every size but 8, 16, 32, 64 and 128). The kernel
//! `Kernel::select` picks (`FUSEDRNN_KERNEL` to pin one). Rows have no leading pads, so every
//! step is computed.
//!
//! For the FMA share and cycles per sequence-step, see `examples/net_fma_share.rs`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fusedrnn::kernels::Kernel;
use fusedrnn::net::{Cell, Input, NetScorer, NetWeights, Spec};

const LEN: usize = 200;
const BATCH: usize = 1024;

fn bench(c: &mut Criterion) {
    let kernel = Kernel::select().unwrap();
    let ids: Vec<u32> = (0..BATCH * LEN)
        .map(|i| 1 + (i as u32).wrapping_mul(2_654_435_761) % 4999)
        .collect();
    let shapes = [
        (Cell::Lstm, 32),
        (Cell::Gru { reset_after: true }, 32),
        (Cell::Lstm, 16),
        (Cell::Gru { reset_after: true }, 16),
        (Cell::SimpleRnn, 16),
        (Cell::Lstm, 24),
        (Cell::Gru { reset_after: true }, 24),
        (Cell::SimpleRnn, 24),
        (Cell::Lstm, 64),
        (Cell::Gru { reset_after: true }, 64),
        (Cell::SimpleRnn, 64),
        (Cell::Lstm, 8),
        (Cell::Gru { reset_after: true }, 8),
        (Cell::SimpleRnn, 8),
    ];
    let mut g = c.benchmark_group("net");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for (cell, units) in shapes {
        let spec = Spec {
            cell,
            units,
            vocab: 5000,
            input: Input::Embedding { width: 64 },
            seq_len: LEN,
        };
        let scorer = NetScorer::from_weights(&NetWeights::seeded(spec, 1, 0.1), kernel).unwrap();
        let name = format!("{}{units}/{}", cell.name(), kernel.name());
        g.throughput(Throughput::Elements(BATCH as u64));
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut probs = vec![0.0; BATCH];
            g.bench_function(
                BenchmarkId::new(format!("batch{BATCH}/{name}"), threads),
                |b| b.iter(|| pool.install(|| scorer.score(&ids, &mut probs).unwrap())),
            );
        }
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::new("one", &name), |b| {
            b.iter(|| scorer.score_one(black_box(&ids[..LEN])).unwrap())
        });
        // A stream fed a token a call: the review's steps through a session, one `feed` each.
        g.throughput(Throughput::Elements(LEN as u64));
        let mut session = scorer.session();
        g.bench_function(BenchmarkId::new("step", &name), |b| {
            b.iter(|| {
                session.reset();
                for &id in &ids[..LEN] {
                    session.feed(black_box(id)).unwrap();
                }
                black_box(session.prob())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
