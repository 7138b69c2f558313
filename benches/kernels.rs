//! Criterion benches of the kernels, every available kernel side by side:
//! `group/shape/kernel-name`, e.g. `lstm_forward/batch1024/x86_64-avx2-fma`.
//!
//! Throughput is `Elements(batch · SEQ_LEN)`, so reports read as sequence-steps (tokens) per
//! second. Sequences are uniformly random tokens with no padding (every step is computed, the
//! worst case) unless the name says `padded` (half the sequences have a random number of leading
//! pads, which the padding cache skips). Single thread. Run with
//! `cargo bench --bench kernels` (add `-- --quick` for a fast pass), nothing else running.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fusedrnn::kernels::{Kernel, LstmState, RnnState, fold_lstm, fold_rnn};
use fusedrnn::model::{LstmWeights, RnnInput, RnnWeights};
use fusedrnn::shape::{NUM_WORDS, SEQ_LEN};

/// SplitMix64, enough for bench inputs.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn uniform(&mut self, mag: f32) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * mag
    }
    fn array<const N: usize>(&mut self, mag: f32) -> [f32; N] {
        std::array::from_fn(|_| self.uniform(mag))
    }
    fn token(&mut self) -> u16 {
        1 + (self.next_u64() % (NUM_WORDS as u64 - 1)) as u16
    }
}

fn lstm_weights(rng: &mut Rng) -> LstmWeights {
    LstmWeights {
        embedding: (0..NUM_WORDS).map(|_| rng.array(0.05)).collect(),
        kernel: std::array::from_fn(|_| rng.array(0.4)),
        recurrent_kernel: std::array::from_fn(|_| rng.array(0.4)),
        bias: rng.array(0.1),
        dense_kernel: rng.array(0.5),
        dense_bias: 0.1,
    }
}

fn rnn_weights(rng: &mut Rng) -> RnnWeights {
    RnnWeights {
        input: RnnInput::Embedding {
            embedding: (0..NUM_WORDS).map(|_| rng.array(0.05)).collect(),
            kernel: std::array::from_fn(|_| rng.array(0.4)),
        },
        recurrent_kernel: std::array::from_fn(|_| rng.array(0.4)),
        bias: rng.array(0.1),
        dense_kernel: rng.array(0.5),
        dense_bias: 0.1,
    }
}

fn seqs(rng: &mut Rng, n: usize, padded: bool) -> Vec<[u16; SEQ_LEN]> {
    (0..n)
        .map(|_| {
            let pads = if padded && rng.next_u64().is_multiple_of(2) {
                (rng.next_u64() % SEQ_LEN as u64) as usize
            } else {
                0
            };
            std::array::from_fn(|t| if t < pads { 0 } else { rng.token() })
        })
        .collect()
}

fn configure(c: &mut Criterion) -> Criterion {
    std::mem::take(c)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .without_plots()
}

fn activations(c: &mut Criterion) {
    let mut rng = Rng(1);
    let xs: Vec<f32> = (0..4096).map(|_| rng.uniform(10.0)).collect();
    let mut g = c.benchmark_group("activations");
    g.throughput(Throughput::Elements(xs.len() as u64));
    // The fresh copy of the inputs is made outside the timed routine: copied inside it, a 16 KiB
    // `memcpy` took 77 % of the samples on a Zen 3 (glibc's `rep movsb` path, slow there for some
    // relative alignments of the two buffers), and the figure was 7.6 µs or 1.6 µs by where the
    // allocator put them.
    for k in Kernel::available() {
        g.bench_function(BenchmarkId::new("sigmoid4096", k.name()), |b| {
            b.iter_batched_ref(
                || xs.clone(),
                |buf| k.sigmoid_in_place(black_box(buf)),
                BatchSize::SmallInput,
            )
        });
        g.bench_function(BenchmarkId::new("tanh4096", k.name()), |b| {
            b.iter_batched_ref(
                || xs.clone(),
                |buf| k.tanh_in_place(black_box(buf)),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn steps(c: &mut Criterion) {
    let mut rng = Rng(2);
    let lt = fold_lstm(&lstm_weights(&mut rng));
    let rt = fold_rnn(&rnn_weights(&mut rng));
    let toks: Vec<u16> = (0..1024).map(|_| rng.token()).collect();
    let mut g = c.benchmark_group("step_latency");
    g.throughput(Throughput::Elements(1));
    for k in Kernel::available() {
        // Each iteration depends on the previous state: this is step *latency*.
        let mut s = LstmState::default();
        let mut i = 0;
        g.bench_function(BenchmarkId::new("lstm", k.name()), |b| {
            b.iter(|| {
                i = (i + 1) & 1023;
                k.lstm_step(&lt, &mut s, black_box(toks[i]));
            })
        });
        let mut s = RnnState::default();
        g.bench_function(BenchmarkId::new("rnn", k.name()), |b| {
            b.iter(|| {
                i = (i + 1) & 1023;
                k.rnn_step(&rt, &mut s, black_box(toks[i]));
            })
        });
    }
    g.finish();
    // The same steps 100 tokens a call, the state in registers between them.
    let mut g = c.benchmark_group("steps_together");
    g.throughput(Throughput::Elements(SEQ_LEN as u64));
    for k in Kernel::available() {
        let mut s = LstmState::default();
        let mut i = 0;
        g.bench_function(BenchmarkId::new("lstm", k.name()), |b| {
            b.iter(|| {
                i = (i + SEQ_LEN) % (toks.len() - SEQ_LEN);
                k.lstm_steps(&lt, &mut s, black_box(&toks[i..i + SEQ_LEN]));
            })
        });
        let mut s = RnnState::default();
        g.bench_function(BenchmarkId::new("rnn", k.name()), |b| {
            b.iter(|| {
                i = (i + SEQ_LEN) % (toks.len() - SEQ_LEN);
                k.rnn_steps(&rt, &mut s, black_box(&toks[i..i + SEQ_LEN]));
            })
        });
    }
    g.finish();
}

fn reviews(c: &mut Criterion) {
    let mut rng = Rng(3);
    let lt = fold_lstm(&lstm_weights(&mut rng));
    let rt = fold_rnn(&rnn_weights(&mut rng));
    let review = seqs(&mut rng, 1, false)[0];
    let mut g = c.benchmark_group("sequence_latency");
    g.throughput(Throughput::Elements(SEQ_LEN as u64));
    for k in Kernel::available() {
        g.bench_function(BenchmarkId::new("lstm", k.name()), |b| {
            b.iter(|| k.lstm_review(&lt, black_box(&review)))
        });
        g.bench_function(BenchmarkId::new("rnn", k.name()), |b| {
            b.iter(|| k.rnn_review(&rt, black_box(&review)))
        });
    }
    g.finish();
}

fn forward(c: &mut Criterion) {
    let mut rng = Rng(4);
    let lt = fold_lstm(&lstm_weights(&mut rng));
    let rt = fold_rnn(&rnn_weights(&mut rng));
    for (shape, n, padded) in [
        ("batch1024", 1024, false),
        ("batch25000", 25_000, false),
        ("batch25000_padded", 25_000, true),
    ] {
        let data = seqs(&mut rng, n, padded);
        let mut out = vec![0f32; n];
        for (group, is_lstm) in [("lstm_forward", true), ("rnn_forward", false)] {
            let mut g = c.benchmark_group(group);
            g.throughput(Throughput::Elements((n * SEQ_LEN) as u64));
            for k in Kernel::available() {
                // The scalar reference over 25k reviews takes seconds per iteration.
                if n > 1024 && matches!(k, Kernel::Reference) {
                    continue;
                }
                g.bench_function(BenchmarkId::new(shape, k.name()), |b| {
                    b.iter(|| {
                        if is_lstm {
                            k.lstm_forward(&lt, black_box(&data), &mut out);
                        } else {
                            k.rnn_forward(&rt, black_box(&data), &mut out);
                        }
                    })
                });
            }
            g.finish();
        }
    }
}

fn folding(c: &mut Criterion) {
    let mut rng = Rng(5);
    let lw = lstm_weights(&mut rng);
    let rw = rnn_weights(&mut rng);
    let mut g = c.benchmark_group("fold");
    g.bench_function("lstm/vocab500", |b| b.iter(|| fold_lstm(black_box(&lw))));
    g.bench_function("rnn/vocab500", |b| b.iter(|| fold_rnn(black_box(&rw))));
    g.finish();
}

fn benches(c: &mut Criterion) {
    let mut c = configure(c);
    activations(&mut c);
    steps(&mut c);
    reviews(&mut c);
    forward(&mut c);
    folding(&mut c);
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
