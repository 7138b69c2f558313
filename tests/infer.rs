//! Inference against the real thing: the probabilities Keras 3 (and PyTorch) computed for the
//! fixture models (`tests/fixtures/parity/gen_parity.py`), for every architecture, both tensor
//! namings, every kernel this CPU runs, 1 and 2 threads; and the CLI that wraps it.

mod common;

use common::{fixture, parity_json, probs, read_tokens};
use fusedrnn::infer::{Scorer, evaluate, with_threads};
use fusedrnn::kernels::Kernel;
use fusedrnn::model::Model;
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::tokfile::{PackParams, SplitData, TokFile};

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
                }
            }
        }
    }
    eprintln!("worst |ours - Keras| over every arch, naming, kernel and thread count: {worst:.2e}");
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
    assert_eq!(v["kernel"].as_str(), Some(Kernel::select().unwrap().name()));
    for key in ["reviews_per_s", "ns_per_sequence_step"] {
        assert!(v[key].as_f64().unwrap() > 0.0, "{key}: {v}");
    }
    for (key, unit) in [("step_latency_ns", 1.0), ("review_latency_us", 1.0)] {
        let (p50, p99) = (
            v[key]["p50"].as_f64().unwrap(),
            v[key]["p99"].as_f64().unwrap(),
        );
        assert!(p50 > 0.0 && p99 >= p50 * unit, "{key}: {v}");
    }
    assert!(v["steps_timed"].as_u64().unwrap() >= 100_000);
}
