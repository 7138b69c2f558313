//! Tokenizer speed: bytes of review text per second on one core (`Throughput::Bytes`, so criterion
//! reports MiB/s). Target: ≥ 50 MB/s.
//!
//! The text is the first 2,000 test reviews of `../shared/data/imdb.npz` decoded to words with
//! `imdb_word_index.json` and joined with spaces (about 2.5 MB): the real word mix and lengths, but
//! lowercase and without punctuation or `<br />`, so every byte takes the ASCII path. When the
//! shared data is absent the text is synthetic: words of the committed fixture index
//! (`tests/fixtures/text/word_index.json`) and a few unknown ones, with capitals, punctuation and
//! `<br />` breaks. The bench prints which it used.
//!
//! Two tokenizers: the notebook's (`num_words = 500`, a table of 496 words) and one that keeps
//! every word of the index (81,117 words for the shared index).
//!
//! Group `padded`: the one-review latency path's tokenizing, review text → the padded row of 100
//! ids, on `benches/peers/review_230.txt` (the review of the C API latency figure) with the
//! notebook's tokenizer: `backward` ([`Tokenizer::padded`]: the scan `fusedrnn_score_text` runs,
//! then the 100 lookups it runs inside the model's steps),
//! `forward_tail` (the path it replaced, kept as `padded_forward`) and `whole` (`tokenize_into`
//! of the whole text, then `to_padded`). Before criterion's figures it prints each one's p50 and
//! p99 per call (`std::time::Instant` around every call, 200,000 calls): criterion's mean counts
//! the time slices a loaded machine takes away, a per-call median mostly does not.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fusedrnn::text::{Tokenizer, TokenizerConfig, to_padded};

const REVIEWS: usize = 2_000;

/// (word index path, review texts, where they came from).
fn corpus() -> (PathBuf, Vec<String>, &'static str) {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    let npz = shared.join("imdb.npz");
    let index_path = shared.join("imdb_word_index.json");
    if npz.is_file() && index_path.is_file() {
        let arrays = fusedrnn_data_tools::ImdbArrays::read(&npz).unwrap();
        let index: HashMap<String, u32> =
            serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
        let mut by_rank = vec![""; index.len() + 1];
        for (w, &r) in &index {
            by_rank[r as usize] = w.as_str();
        }
        let texts = (0..REVIEWS.min(arrays.x_test.rows()))
            .map(|r| {
                let words: Vec<&str> = arrays
                    .x_test
                    .row(r)
                    .iter()
                    .map(|&k| by_rank[k as usize])
                    .collect();
                words.join(" ")
            })
            .collect();
        return (index_path, texts, "shared test reviews (decoded)");
    }
    let index_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text/word_index.json");
    let index: HashMap<String, u32> =
        serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let mut words: Vec<&str> = index.keys().map(String::as_str).collect();
    words.sort_unstable();
    words.extend(["Hitchcock", "cinematography", "1950s", "mediocre"]);
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let texts = (0..REVIEWS)
        .map(|_| {
            let mut text = String::new();
            let n = 100 + next() % 300;
            for i in 0..n {
                let word = words[(next() % words.len() as u64) as usize];
                if i > 0 {
                    text.push_str(match next() % 20 {
                        0 => ". ",
                        1 => ", ",
                        2 => ".<br /><br />",
                        _ => " ",
                    });
                }
                if next() % 10 == 0 {
                    text.push_str(&word.to_uppercase());
                } else {
                    text.push_str(word);
                }
            }
            text
        })
        .collect();
    (index_path, texts, "synthetic text from the fixture index")
}

fn bench(c: &mut Criterion) {
    let (index_path, texts, source) = corpus();
    let bytes: usize = texts.iter().map(String::len).sum();
    eprintln!("text: {} reviews, {bytes} bytes, {source}", texts.len());
    let mut g = c.benchmark_group("tokenize");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Bytes(bytes as u64));
    let configs = [
        ("num_words500", TokenizerConfig::default()),
        (
            "all_words",
            TokenizerConfig {
                num_words: None,
                ..TokenizerConfig::default()
            },
        ),
    ];
    for (name, config) in configs {
        let tokenizer = Tokenizer::from_file(&index_path, config).unwrap();
        let mut ids = Vec::with_capacity(4096);
        let mut n_ids = 0usize;
        g.bench_function(
            BenchmarkId::new(name, format!("{}reviews", texts.len())),
            |b| {
                b.iter(|| {
                    for text in &texts {
                        tokenizer.tokenize_wide_into(text, &mut ids);
                        n_ids += ids.len();
                    }
                    std::hint::black_box(n_ids)
                })
            },
        );
    }
    g.finish();

    let review = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/review_230.txt"),
    )
    .unwrap();
    let review = review.trim_end_matches(['\n', '\r']);
    let tokenizer = Tokenizer::from_file(&index_path, TokenizerConfig::default()).unwrap();
    let mut ids = Vec::with_capacity(4096);
    tokenizer.tokenize_into(review, &mut ids);
    assert_eq!(tokenizer.padded(review), to_padded(&ids));
    per_call("padded/review_230/backward", || {
        tokenizer.padded(std::hint::black_box(review))
    });
    per_call("padded/review_230/forward_tail", || {
        tokenizer.padded_forward(std::hint::black_box(review))
    });
    per_call("padded/review_230/whole", || {
        tokenizer.tokenize_into(std::hint::black_box(review), &mut ids);
        to_padded(&ids)
    });
    let mut g = c.benchmark_group("padded");
    g.sample_size(50)
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    g.bench_function("review_230/backward", |b| {
        b.iter(|| tokenizer.padded(std::hint::black_box(review)))
    });
    g.bench_function("review_230/forward_tail", |b| {
        b.iter(|| tokenizer.padded_forward(std::hint::black_box(review)))
    });
    g.bench_function("review_230/whole", |b| {
        b.iter(|| {
            tokenizer.tokenize_into(std::hint::black_box(review), &mut ids);
            to_padded(&ids)
        })
    });
    g.finish();
}

/// Prints the p50 and p99 of `f` per call, in µs (each call timed alone, after a warm-up).
fn per_call<T>(what: &str, mut f: impl FnMut() -> T) {
    const CALLS: usize = 200_000;
    for _ in 0..CALLS / 10 {
        std::hint::black_box(f());
    }
    let mut ns: Vec<u64> = (0..CALLS)
        .map(|_| {
            let t0 = std::time::Instant::now();
            std::hint::black_box(f());
            t0.elapsed().as_nanos() as u64
        })
        .collect();
    ns.sort_unstable();
    eprintln!(
        "{what} p50 {:.3} us  p99 {:.3} us  ({CALLS} calls, Instant per call)",
        ns[CALLS / 2] as f64 / 1e3,
        ns[CALLS * 99 / 100] as f64 / 1e3
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
