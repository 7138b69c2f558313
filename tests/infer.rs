//! Inference against the real thing: the probabilities Keras 3 (and PyTorch) computed for the
//! fixture models (`tests/fixtures/parity/gen_parity.py`), for every architecture, both tensor
//! namings, every kernel this CPU runs, 1 and 2 threads; and the CLI that wraps it.

use crate::common;

use common::{fixture, parity_json, probs, read_tokens};
use fusedrnn::infer::ids::score_rows;
use fusedrnn::infer::{SORT_ROWS, Scorer, evaluate, with_busy_threads, with_threads};
use fusedrnn::kernels::Kernel;
use fusedrnn::model::Model;
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::tokfile::{PackParams, SplitData, TokFile, TokenIds};

const ARCHS: [&str; 3] = ["lstm", "rnn", "rnn-onehot"];

/// The contract in DESIGN.md: within 1e-5 of Keras' probabilities. Measured worst case over
/// the 3 × 64 fixture rows, every kernel: printed by the test (about 2e-7).
const KERAS_PROB_TOL: f64 = 1e-5;

fn kernels() -> Vec<Kernel> {
    let skipped = Kernel::unavailable_names();
    if !skipped.is_empty() {
        eprintln!("kernels this CPU cannot run (skipped): {skipped:?}");
    }
    Kernel::available()
}

#[test]
fn every_kernel_and_thread_count_matches_keras() {
    let json = parity_json();
    let tokens = read_tokens();
    let mut worst = 0.0f64;
    for arch in ARCHS {
        let keras = probs(&json, arch, "keras");
        for file in [
            format!("{arch}.safetensors"),
            format!("{arch}.torch.safetensors"),
        ] {
            let model = Model::load(fixture(&file)).unwrap();
            for kernel in kernels() {
                let scorer = Scorer::new(&model, kernel);
                for threads in [1, 2] {
                    let mut got = vec![f32::NAN; tokens.len()];
                    with_threads(threads, || scorer.score(&tokens, &mut got)).unwrap();
                    for (row, (&p, &k)) in got.iter().zip(&keras).enumerate() {
                        let d = (f64::from(p) - k).abs();
                        worst = worst.max(d);
                        assert!(
                            d <= KERAS_PROB_TOL,
                            "{file} {} {threads} threads row {row}: {p} vs Keras {k}",
                            kernel.name()
                        );
                    }
                }
                // The latency path (one review at a time) and the streaming session agree too.
                for (row, toks) in tokens.iter().enumerate().step_by(5) {
                    let one = scorer.score_one(toks).unwrap();
                    assert!(
                        (f64::from(one) - keras[row]).abs() <= KERAS_PROB_TOL,
                        "{file} {} score_one row {row}",
                        kernel.name()
                    );
                    let mut s = scorer.session();
                    for &t in toks {
                        s.feed(t).unwrap();
                    }
                    assert_eq!(s.steps(), SEQ_LEN);
                    assert!(
                        (f64::from(s.prob()) - keras[row]).abs() <= KERAS_PROB_TOL,
                        "{file} {} session row {row}",
                        kernel.name()
                    );
                    // Fed in one call (the state in registers between the steps): the same bits.
                    let mut all = scorer.session();
                    all.feed_all(toks).unwrap();
                    assert_eq!(
                        (all.prob().to_bits(), all.steps()),
                        (s.prob().to_bits(), s.steps()),
                        "{file} {} feed_all row {row}",
                        kernel.name()
                    );
                }
            }
        }
    }
    eprintln!("worst |ours - Keras| over every arch, naming, kernel and thread count: {worst:.2e}");
}

/// `score` takes each run of `SORT_ROWS` rows in the order of their leading pads and puts the
/// probabilities back in input order; the token file's `u32` ids and the caller's integer rows
/// (`score_rows`, the Python binding's path) go the same way. Every probability must be the
/// bits of its row scored alone, on every kernel, on 1 and 2 threads, with the pads in no order
/// and already in order.
#[test]
fn score_puts_rows_sorted_by_pads_back_in_input_order() {
    let tokens = read_tokens();
    // More than two runs of SORT_ROWS, most rows with leading pads, in no order of them.
    let n = 2 * SORT_ROWS + 300;
    let unsorted: Vec<[u16; SEQ_LEN]> = (0..n)
        .map(|k| {
            let mut row = tokens[k % tokens.len()];
            let pads = if k % 3 == 0 {
                0
            } else {
                (7 * k) % (SEQ_LEN + 1)
            };
            row[..pads].fill(0);
            row
        })
        .collect();
    let mut sorted = unsorted.clone();
    sorted.sort_by_key(|r| r.iter().take_while(|&&t| t == 0).count());
    for arch in ["lstm", "rnn"] {
        let model = Model::load(fixture(&format!("{arch}.safetensors"))).unwrap();
        for kernel in kernels() {
            let scorer = Scorer::new(&model, kernel);
            for rows in [&unsorted, &sorted] {
                let alone: Vec<u32> = rows
                    .iter()
                    .map(|r| {
                        let mut p = [f32::NAN];
                        scorer.score_chunk(std::slice::from_ref(r), &mut p);
                        p[0].to_bits()
                    })
                    .collect();
                let wide: Vec<u32> = rows.iter().flatten().map(|&t| u32::from(t)).collect();
                for threads in [1, 2] {
                    let what = format!("{arch} {} {threads} threads", kernel.name());
                    let mut got = vec![f32::NAN; n];
                    with_threads(threads, || scorer.score(rows, &mut got)).unwrap();
                    let got: Vec<u32> = got.iter().map(|p| p.to_bits()).collect();
                    assert!(got == alone, "score, {what}");
                    let mut got = vec![f32::NAN; n];
                    with_threads(threads, || {
                        scorer.score_ids("test", TokenIds::U32(&wide), &mut got)
                    })
                    .unwrap()
                    .unwrap();
                    let got: Vec<u32> = got.iter().map(|p| p.to_bits()).collect();
                    assert!(got == alone, "score_ids u32, {what}");
                    let mut got = vec![f32::NAN; n];
                    let fill = |r: usize, out: &mut [i64; SEQ_LEN]| {
                        for (o, &t) in out.iter_mut().zip(&rows[r]) {
                            *o = i64::from(t);
                        }
                    };
                    with_threads(threads, || score_rows(&scorer, n, fill, &mut got))
                        .unwrap()
                        .unwrap();
                    let got: Vec<u32> = got.iter().map(|p| p.to_bits()).collect();
                    assert!(got == alone, "score_rows, {what}");
                }
            }
        }
    }
}

#[test]
fn session_resets_and_skips_pads_from_the_cache() {
    let tokens = read_tokens();
    let model = Model::load(fixture("lstm.safetensors")).unwrap();
    let scorer = Scorer::new(&model, Kernel::select().unwrap());
    let row = tokens
        .iter()
        .find(|r| r[0] == 0 && r[SEQ_LEN - 1] != 0)
        .expect("a padded row");
    let pads = row.iter().take_while(|&&t| t == 0).count();
    let mut full = scorer.session();
    for &t in row {
        full.feed(t).unwrap();
    }
    let mut cached = scorer.session();
    cached.reset_padded(pads);
    for &t in &row[pads..] {
        cached.feed(t).unwrap();
    }
    assert!(
        (full.prob() - cached.prob()).abs() <= 1e-6,
        "{} vs {}",
        full.prob(),
        cached.prob()
    );
    assert_eq!(cached.steps(), SEQ_LEN);
    cached.reset();
    assert_eq!(cached.steps(), 0);
    let err = cached.feed(500).unwrap_err().to_string();
    assert!(
        err.contains("token id 500 is not below the model's vocabulary of 500"),
        "{err}"
    );
    // Several at once: the bad one is named by its position, and no step is taken.
    cached.feed(7).unwrap();
    let before = cached.prob();
    let err = cached.feed_all(&[1, 2, 500, 3]).unwrap_err().to_string();
    assert!(
        err.contains("position 2: token id 500 is not below the model's vocabulary of 500"),
        "{err}"
    );
    assert_eq!((cached.steps(), cached.prob()), (1, before));
}

/// Writes the fixture tokens as the test split of a token file, labels from Keras' own
/// predictions so the accuracy is known.
fn fixture_tok(dir: &std::path::Path, num_words: u32) -> (std::path::PathBuf, Vec<u8>) {
    let tokens = read_tokens();
    let keras = probs(&parity_json(), "lstm", "keras");
    let labels: Vec<u8> = keras
        .iter()
        .enumerate()
        .map(|(i, &p)| u8::from((p > 0.5) != (i % 4 == 0)))
        .collect();
    let flat: Vec<u16> = tokens.iter().flatten().copied().collect();
    let lengths = vec![SEQ_LEN as u32; tokens.len()];
    let params = PackParams {
        num_words,
        ..PackParams::NOTEBOOK
    };
    let path = dir.join("fixture.tok");
    let empty = SplitData::default();
    let test = SplitData {
        tokens: &flat,
        labels: &labels,
        lengths: &lengths,
    };
    fusedrnn::tokfile::write_atomic(&path, &params, [empty, empty, test]).unwrap();
    (path, labels)
}

fn fusedrnn(args: &[&str]) -> std::process::Output {
    common::target_command(env!("CARGO_BIN_EXE_fusedrnn"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn predict_and_eval_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (tok, labels) = fixture_tok(dir.path(), 500);
    let model = fixture("lstm.safetensors");
    let out = dir.path().join("p.npy");
    let o = fusedrnn(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        tok.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "2",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..10], b"\x93NUMPY\x01\x00\x76\x00");
    let header = std::str::from_utf8(&bytes[10..128]).unwrap();
    assert!(
        header.contains("'descr': '<f4'") && header.contains("'shape': (64,)"),
        "{header}"
    );
    let got: Vec<f32> = bytes[128..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let keras = probs(&parity_json(), "lstm", "keras");
    assert_eq!(got.len(), keras.len());
    for (p, k) in got.iter().zip(&keras) {
        assert!((f64::from(*p) - k).abs() <= KERAS_PROB_TOL);
    }

    let o = fusedrnn(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        tok.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let want = evaluate(&got, &labels);
    assert_eq!(v["split"], "test");
    assert_eq!(v["count"], 64);
    assert!((v["loss"].as_f64().unwrap() - want.loss).abs() < 1e-9);
    // Labels agree with Keras' prediction except every fourth row.
    assert_eq!(v["accuracy"].as_f64().unwrap(), 0.75);
}

#[test]
fn mismatched_model_and_data_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (tok, _) = fixture_tok(dir.path(), 1000);
    let model = fixture("lstm.safetensors");
    let out = dir.path().join("p.npy");
    let o = fusedrnn(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        tok.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.contains("token ids up to 1000 - 1 but the model's vocabulary has 500 rows"),
        "{stderr}"
    );
    assert!(!out.exists());
    let o = fusedrnn(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        tok.to_str().unwrap(),
        "--threads",
        "0",
    ]);
    assert!(!o.status.success());
    let o = fusedrnn(&[
        "eval",
        "--model",
        "/nonexistent.safetensors",
        "--data",
        tok.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && stderr.contains("/nonexistent.safetensors"),
        "{stderr}"
    );
    let tokfile = TokFile::open(&tok).unwrap();
    assert_eq!(tokfile.num_words(), 1000);
}

#[test]
fn bench_reports_every_figure_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let (tok, _) = fixture_tok(dir.path(), 500);
    let model = fixture("rnn.safetensors");
    let o = fusedrnn(&[
        "bench",
        "--model",
        model.to_str().unwrap(),
        "--data",
        tok.to_str().unwrap(),
        "--threads",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["arch"].as_str(), v["threads"].as_u64()),
        (Some("rnn"), Some(1))
    );
    let kernel = Kernel::select().unwrap();
    assert_eq!(
        (v["kernel"].as_str(), v["kernel_tuning"].as_str()),
        (Some(kernel.name()), Some(kernel.tuning()))
    );
    for key in ["reviews_per_s", "ns_per_sequence_step"] {
        assert!(v[key].as_f64().unwrap() > 0.0, "{key}: {v}");
    }
    for (key, unit) in [
        ("step_latency_ns", 1.0),
        ("steps_together_ns", 1.0),
        ("review_latency_us", 1.0),
    ] {
        let (p50, p99) = (
            v[key]["p50"].as_f64().unwrap(),
            v[key]["p99"].as_f64().unwrap(),
        );
        assert!(p50 > 0.0 && p99 >= p50 * unit, "{key}: {v}");
    }
    assert!(v["steps_timed"].as_u64().unwrap() >= 100_000);
}

/// The fixture rows tiled to `n` rows (so chunk boundaries and the last partial chunk occur).
fn tiled(n: usize) -> Vec<u32> {
    let rows = read_tokens();
    (0..n)
        .flat_map(|i| rows[i % rows.len()].map(u32::from))
        .collect()
}

/// A token file with the same `ids` (and labels) in every split, stored as u16 (500 words,
/// version 1) or u32 (100,000 words, version 2).
fn tok_with(ids: &[u32], num_words: u32) -> Vec<u8> {
    let n = ids.len() / SEQ_LEN;
    let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
    let lengths = vec![SEQ_LEN as u32; n];
    let data = SplitData {
        tokens: ids,
        labels: &labels,
        lengths: &lengths,
    };
    let params = PackParams {
        num_words,
        ..PackParams::NOTEBOOK
    };
    let mut out = Vec::new();
    fusedrnn::tokfile::encode(&mut out, &params, [data, data, data]).unwrap();
    out
}

#[test]
fn a_u32_file_scores_bit_for_bit_as_its_u16_twin() {
    // 1000 rows: seven full chunks of 128 and a partial one.
    let ids = tiled(1000);
    let narrow = TokFile::from_bytes(&tok_with(&ids, 500)).unwrap();
    let wide = TokFile::from_bytes(&tok_with(&ids, 100_000)).unwrap();
    assert_eq!((narrow.version(), wide.version()), (1, 2));
    for arch in ARCHS {
        let model = Model::load(fixture(&format!("{arch}.safetensors"))).unwrap();
        for kernel in kernels() {
            let scorer = Scorer::new(&model, kernel);
            for threads in [1, 2] {
                let test = fusedrnn::tokfile::SplitName::Test;
                let want = scorer
                    .score_split(&narrow.split(test), narrow.num_words(), threads)
                    .unwrap();
                let got = scorer
                    .score_split(&wide.split(test), wide.num_words(), threads)
                    .unwrap();
                assert_eq!(got.len(), 1000);
                let bits = |v: &[f32]| v.iter().map(|p| p.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "{arch} {} {threads}",
                    kernel.name()
                );
            }
        }
    }
}

#[test]
fn a_u32_id_outside_the_model_is_named_by_row_and_position() {
    let mut ids = tiled(300);
    ids[137 * SEQ_LEN + 42] = 500;
    ids[250 * SEQ_LEN + 3] = 70_000;
    let wide = TokFile::from_bytes(&tok_with(&ids, 100_000)).unwrap();
    let model = Model::load(fixture("lstm.safetensors")).unwrap();
    let scorer = Scorer::new(&model, Kernel::select().unwrap());
    let split = wide.split(fusedrnn::tokfile::SplitName::Val);
    let want = "val row 137, position 42: token id 500 is not below the model's vocabulary of 500";
    let e = scorer.check(&split, wide.num_words()).unwrap_err();
    assert_eq!(e.to_string(), want);
    // Scoring without the check finds the same first id, whatever chunk failed first.
    let mut probs = vec![0.0; 300];
    let e = with_threads(2, || scorer.score_ids("val", split.tokens, &mut probs))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.to_string(), want);
}

#[test]
fn the_command_line_scores_a_u32_file_as_its_u16_twin() {
    let dir = tempfile::tempdir().unwrap();
    let ids = tiled(300);
    let paths: Vec<_> = [(500, "u16.tok"), (100_000, "u32.tok")]
        .into_iter()
        .map(|(num_words, name)| {
            let path = dir.path().join(name);
            std::fs::write(&path, tok_with(&ids, num_words)).unwrap();
            path
        })
        .collect();
    let model = fixture("lstm.safetensors");
    let s = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let mut outputs = Vec::new();
    for (i, tok) in paths.iter().enumerate() {
        let npy = dir.path().join(format!("p{i}.npy"));
        let o = fusedrnn(&[
            "predict",
            "--model",
            &s(&model),
            "--data",
            &s(tok),
            "--out",
            &s(&npy),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = fusedrnn(&[
            "eval",
            "--model",
            &s(&model),
            "--data",
            &s(tok),
            "--split",
            "val",
            "--json",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        outputs.push((std::fs::read(&npy).unwrap(), o.stdout));
    }
    assert_eq!(outputs[0].0.len(), 128 + 300 * 4);
    assert!(
        outputs[0] == outputs[1],
        "u16 and u32 files score differently"
    );

    // An id beyond the model's vocabulary: the error names the files, split, row and id, and
    // nothing is written.
    let mut bad = ids.clone();
    bad[200 * SEQ_LEN + 99] = 80_000;
    let tok = dir.path().join("bad-u32.tok");
    std::fs::write(&tok, tok_with(&bad, 100_000)).unwrap();
    let out = dir.path().join("bad.npy");
    for args in [
        vec!["predict", "--out", out.to_str().unwrap()],
        vec!["eval"],
    ] {
        let mut all = args.clone();
        all.extend([
            "--model",
            model.to_str().unwrap(),
            "--data",
            tok.to_str().unwrap(),
        ]);
        let o = fusedrnn(&all);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(
            stderr.contains("bad-u32.tok")
                && stderr.contains(
                    "test row 200, position 99: token id 80000 is not below the model's vocabulary of 500"
                ),
            "{stderr}"
        );
        assert!(!out.exists());
    }

    // Training a model on a u32 file's whole vocabulary (100,000 rows, more than 16-bit ids
    // hold): the general kernels take it (issue 14), and the checkpoint has every row.
    let run = dir.path().join("run-wide");
    let o = fusedrnn(&[
        "train",
        "--arch",
        "lstm",
        "--data",
        &s(&paths[1]),
        "--epochs",
        "1",
        "--out",
        &s(&run),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let wide = fusedrnn::net::open(run.join("best.safetensors")).unwrap();
    assert_eq!(wide.spec.vocab, 100_000);
    // With --vocab the ids fit: the u32 file trains exactly as its u16 twin.
    let runs: Vec<Vec<u8>> = paths
        .iter()
        .enumerate()
        .map(|(i, tok)| {
            let run = dir.path().join(format!("run{i}"));
            let o = fusedrnn(&[
                "train",
                "--arch",
                "lstm",
                "--data",
                &s(tok),
                "--vocab",
                "500",
                "--epochs",
                "1",
                "--threads",
                "1",
                "--out",
                &s(&run),
            ]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            std::fs::read(run.join("best.safetensors")).unwrap()
        })
        .collect();
    assert!(runs[0] == runs[1], "u16 and u32 files train differently");
    // An id beyond --vocab in a u32 file is named like scoring names it.
    let o = fusedrnn(&[
        "train",
        "--arch",
        "lstm",
        "--data",
        &s(&tok),
        "--vocab",
        "500",
        "--out",
        &s(&dir.path().join("run-bad")),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.contains(
            "train row 200, position 99: token id 80000 is not below the model's vocabulary of 500"
        ),
        "{stderr}"
    );
}

/// The training loops' pool: the busy workers run the parallel steps inside `f` (the result is
/// that of the work, not of the thread that did it), the pool ends when `f` returns, and a
/// panic in `f` comes out as a panic instead of leaving the spinners waiting for ever.
#[test]
fn busy_threads_run_the_work_and_end_with_it() {
    use rayon::prelude::*;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    for threads in [1, 2, cores, cores + 1] {
        let (sum, workers) = with_busy_threads(threads, || {
            let mut sum = 0u64;
            let mut seen = std::collections::BTreeSet::new();
            for round in 0..200u64 {
                let items: Vec<(u64, Option<usize>)> = (0..64u64)
                    .into_par_iter()
                    .map(|i| (i * round, rayon::current_thread_index()))
                    .collect();
                sum += items.iter().map(|&(x, _)| x).sum::<u64>();
                seen.extend(items.iter().map(|&(_, t)| t));
            }
            (sum, seen)
        })
        .unwrap();
        assert_eq!(
            sum,
            (0..200u64).map(|r| r * (0..64).sum::<u64>()).sum::<u64>()
        );
        assert!(
            workers.iter().all(|&t| t.is_some_and(|t| t < threads)),
            "{threads} threads: {workers:?}"
        );
        let outcome = std::panic::catch_unwind(|| {
            with_busy_threads(threads, || -> u32 { panic!("inside the pool") })
        });
        assert!(outcome.is_err(), "{threads} threads: the panic was lost");
    }
    assert!(with_busy_threads(0, || ()).is_err(), "0 threads is refused");
}

/// `Scorer::score_text` (the words looked up inside the model's steps) gives the bits of
/// `score_one` of `Tokenizer::padded`, on every kernel, for the LSTM and the SimpleRNN: short
/// texts (pads and the start char), long ones (only the last 100 words kept), words across the
/// reader's 64-byte chunks, non-ASCII text (the forward fallback), and the tokenizers it does
/// not run lazily for (ids the model has no row for, a start char of 0).
#[test]
fn score_text_has_the_bits_of_score_one_of_the_padded_row() {
    use fusedrnn::text::{Tokenizer, TokenizerConfig};
    let index = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/text/word_index.json");
    let mut texts: Vec<String> = [
        "",
        "the",
        "This movie was GREAT, I loved it!",
        "A bad film.<br /><br />I didn't like the story at all; it's not good.",
        "Caf\u{e9} \u{1f600} 'the' really, really bad ... 10/10",
        "''' ' the '''movie''' and",
    ]
    .map(String::from)
    .to_vec();
    let words = [
        "the",
        "Movie",
        "was",
        "good",
        "bad",
        "zzzunknown",
        "it's",
        "'",
        "a",
    ];
    for n in [60, 99, 100, 101, 250] {
        let text: Vec<&str> = (0..n).map(|i| words[i * 7 % words.len()]).collect();
        texts.push(text.join(" "));
        texts.push(format!("{}\u{e9}", text.join(". ")));
        texts.push(format!("\u{e9}{}", text.join(", ")));
    }
    for pad in [60, 63, 64, 65, 127, 128, 129] {
        texts.push(format!("{} {}", "movie".repeat(pad / 5), "x".repeat(pad)));
    }
    let mut checked = 0;
    for arch in ["lstm", "rnn"] {
        let model = Model::load(fixture(&format!("{arch}.safetensors"))).unwrap();
        for kernel in kernels() {
            let scorer = Scorer::new(&model, kernel);
            let vocab = scorer.vocab() as u32;
            for config in [
                TokenizerConfig {
                    num_words: Some(vocab),
                    ..TokenizerConfig::default()
                },
                TokenizerConfig {
                    num_words: Some(vocab),
                    start_char: 0,
                    ..TokenizerConfig::default()
                },
                TokenizerConfig {
                    num_words: None,
                    ..TokenizerConfig::default()
                },
            ] {
                let tokenizer = Tokenizer::from_file(&index, config).unwrap();
                for text in &texts {
                    let want = scorer.score_one(&tokenizer.padded(text));
                    let got = scorer.score_text(&tokenizer, text);
                    match (want, got) {
                        (Ok(w), Ok(g)) => assert_eq!(
                            w.to_bits(),
                            g.to_bits(),
                            "{arch} {kernel:?} {config:?}: {text:?}"
                        ),
                        (Err(w), Err(g)) => assert_eq!(w.to_string(), g.to_string()),
                        (w, g) => panic!("{arch} {kernel:?} {config:?} {text:?}: {w:?} vs {g:?}"),
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 2 * 3 * texts.len());
}
