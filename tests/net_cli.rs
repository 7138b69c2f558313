//! The CLI with models of any shape (issue 14): `predict`, `eval`, `summary` and `bench` of the
//! real Keras and PyTorch fixtures of `tests/fixtures/net/` on token files of their length, and
//! `train --arch gru|lstm|rnn --units --embedding` end to end into a model the other commands
//! open; bad flags exit 2 naming the flag.

use std::path::{Path, PathBuf};
use std::process::Output;

use fusedrnn::net::{self, Cell, Input};
use fusedrnn::tokfile::{PackParams, SplitData};
use fusedrnn::train::SplitMix64;

use crate::common;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/net")
        .join(name)
}

fn fusedrnn(args: &[&str]) -> Output {
    common::target_command(env!("CARGO_BIN_EXE_fusedrnn"))
        .args(args)
        .output()
        .expect("run fusedrnn")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The data of a version 1.0 C-order `.npy` with dtype `descr`, and its first dimension.
fn npy(path: &Path, descr: &str) -> (usize, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00", "{}", path.display());
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + len]).unwrap();
    assert!(header.contains(&format!("'descr': '{descr}'")), "{header}");
    let dims = header.split("'shape': (").nth(1).unwrap();
    let rows = dims[..dims.find([',', ')']).unwrap()]
        .trim()
        .parse()
        .unwrap();
    (rows, bytes[10 + len..].to_vec())
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// A token file whose three splits are the fixture's sequences (labels alternate).
fn fixture_token_file(dir: &Path, name: &str, num_words: u32) -> (PathBuf, Vec<f32>) {
    let (rows, data) = npy(&fixture(&format!("{name}.tokens.npy")), "<i4");
    let ids: Vec<u16> = data
        .chunks_exact(4)
        .map(|b| u16::try_from(i32::from_le_bytes(b.try_into().unwrap())).unwrap())
        .collect();
    let seq_len = ids.len() / rows;
    let labels: Vec<u8> = (0..rows).map(|i| (i % 2) as u8).collect();
    let lengths = vec![seq_len as u32; rows];
    let split = SplitData {
        tokens: &ids,
        labels: &labels,
        lengths: &lengths,
    };
    let params = PackParams {
        num_words,
        seq_len: seq_len as u32,
        ..PackParams::NOTEBOOK
    };
    let path = dir.join(format!("{name}.tok"));
    fusedrnn::tokfile::write_atomic(&path, &params, [split, split, split]).unwrap();
    let (_, probs) = npy(&fixture(&format!("{name}.probs.npy")), "<f4");
    (path, f32s(&probs))
}

#[test]
fn predict_eval_summary_of_real_keras_and_torch_models() {
    let tmp = tempfile::tempdir().unwrap();
    for (model, name, num_words) in [
        ("lstm32.keras", "lstm32", 5000),
        ("gru16.h5", "gru16", 500),
        ("gru16v1.keras", "gru16v1", 500),
        ("rnn64.keras", "rnn64", 100),
        // No input length in a state dict: it takes the data's.
        ("torch_gru16.safetensors", "torch_gru16", 300),
    ] {
        let (data, want) = fixture_token_file(tmp.path(), name, num_words);
        let out = tmp.path().join(format!("{name}.npy"));
        let model = fixture(model);
        let o = fusedrnn(&[
            "predict",
            "--model",
            s(&model),
            "--data",
            s(&data),
            "--out",
            s(&out),
            "--threads",
            "2",
        ]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let (n, got) = npy(&out, "<f4");
        let got = f32s(&got);
        assert_eq!(n, want.len(), "{name}");
        let worst = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (g - w).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-5,
            "{name}: worst |fusedrnn - framework| = {worst}"
        );

        let o = fusedrnn(&["eval", "--model", s(&model), "--data", s(&data), "--json"]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["count"], want.len(), "{name}: {v}");
        assert!(v["loss"].as_f64().unwrap().is_finite(), "{name}: {v}");
    }
    let o = fusedrnn(&["summary", "--model", s(&fixture("lstm32.keras"))]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        text.contains("│ lstm (LSTM)                     │ (None, 32)"),
        "{text}"
    );
    assert!(text.contains("(None, 200, 64)"), "{text}");
    assert!(text.contains("Total params: 332,449"), "{text}");
}

#[test]
fn a_model_and_data_of_different_lengths_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    // gru16 runs length 100; rnn64's tokens are another length.
    let (data, _) = fixture_token_file(tmp.path(), "lstm32", 5000);
    let o = fusedrnn(&[
        "eval",
        "--model",
        s(&fixture("gru16.keras")),
        "--data",
        s(&data),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("the model runs sequences of 100 tokens; this data has 200"),
        "{err}"
    );
    // Ids the model has no rows for: gru16's data reaches id 499, `nolen` has 60 rows (and no
    // recorded length: it takes the data's).
    let (data100, _) = fixture_token_file(tmp.path(), "gru16", 500);
    let o = fusedrnn(&[
        "eval",
        "--model",
        s(&fixture("nolen.keras")),
        "--data",
        s(&data100),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("is not below the model's vocabulary of 60"),
        "{err}"
    );
}

fn split(d: &(Vec<u16>, Vec<u8>, Vec<u32>)) -> SplitData<'_> {
    SplitData {
        tokens: &d.0,
        labels: &d.1,
        lengths: &d.2,
    }
}

/// `rows` pre-padded sequences of `seq_len` over 40 words: label 1 when ids 4..14 outnumber
/// ids 14..24.
fn synth(rows: usize, seed: u64, seq_len: usize) -> (Vec<u16>, Vec<u8>, Vec<u32>) {
    let mut rng = SplitMix64::new(seed);
    let (mut tokens, mut labels, mut lengths) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rows {
        let len = 5 + rng.below(seq_len - 5);
        tokens.extend(std::iter::repeat_n(0u16, seq_len - len));
        let mut score = 0i32;
        for i in 0..len {
            let w = if i == 0 { 1 } else { 2 + rng.below(38) as u16 };
            score += i32::from((4..14).contains(&w)) - i32::from((14..24).contains(&w));
            tokens.push(w);
        }
        labels.push(u8::from(score > 0 || (score == 0 && rng.below(2) == 1)));
        lengths.push(len as u32);
    }
    (tokens, labels, lengths)
}

/// `dir/synth.tok`: three splits of [`synth`] rows (seeds `seed`, `seed + 1`, `seed + 2`) over
/// 40 words.
fn synth_tok(dir: &Path, rows: usize, seed: u64, seq_len: usize) -> PathBuf {
    let d: Vec<_> = (0..3).map(|i| synth(rows, seed + i, seq_len)).collect();
    let params = PackParams {
        num_words: 40,
        seq_len: seq_len as u32,
        ..PackParams::NOTEBOOK
    };
    let data = dir.join("synth.tok");
    fusedrnn::tokfile::write_atomic(&data, &params, [split(&d[0]), split(&d[1]), split(&d[2])])
        .unwrap();
    data
}

#[test]
fn train_a_gru_then_use_it() {
    let tmp = tempfile::tempdir().unwrap();
    let seq_len = 30;
    let data = synth_tok(tmp.path(), 160, 7, seq_len);
    let out = tmp.path().join("run");
    let o = fusedrnn(&[
        "train",
        "--data",
        s(&data),
        "--arch",
        "gru",
        "--units",
        "12",
        "--embedding",
        "6",
        "--epochs",
        "3",
        "--lr",
        "1e-2",
        "--dropout",
        "0.2",
        "--threads",
        "2",
        "--out",
        s(&out),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(!lines.is_empty() && lines.len() <= 3, "{stdout}");
    assert!(
        lines[0].starts_with("Epoch 1/3 - ") && lines[0].contains(" - val_loss: "),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(out.join("history.csv")).unwrap();
    assert_eq!(csv.lines().count(), lines.len() + 1, "{csv}");
    assert_eq!(
        &std::fs::read(out.join("loss.png")).unwrap()[..4],
        b"\x89PNG"
    );
    let best = out.join("best.safetensors");
    let w = net::open(&best).unwrap();
    assert_eq!(w.spec.cell, Cell::Gru { reset_after: true });
    assert_eq!(
        (w.spec.units, w.spec.input, w.spec.seq_len),
        (12, Input::Embedding { width: 6 }, seq_len)
    );
    // The checkpoint scores the test split through predict and eval.
    let probs = tmp.path().join("p.npy");
    let o = fusedrnn(&[
        "predict",
        "--model",
        s(&best),
        "--data",
        s(&data),
        "--out",
        s(&probs),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (n, p) = npy(&probs, "<f4");
    assert_eq!(n, 160);
    assert!(f32s(&p).iter().all(|p| (0.0..=1.0).contains(p)));
    let o = fusedrnn(&[
        "bench",
        "--model",
        s(&best),
        "--data",
        s(&data),
        "--threads",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["arch"].as_str(), v["seq_len"].as_u64()),
        (Some("gru"), Some(seq_len as u64)),
        "{v}"
    );
    assert!(v["reviews_per_s"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["step_latency_ns"]["p50"].as_f64().unwrap() > 0.0, "{v}");
}

/// `train` of every cell on the general kernels gives the same checkpoint, byte for byte, with
/// `FUSEDRNN_KERNEL=avx512` and `avx2-fma` (dropout on, 2 threads). On a CPU without AVX-512
/// this says loudly that it skipped: not a failure even with `CI=true`, since CI machines need
/// not have AVX-512.
#[test]
fn general_training_gives_avx2_bits_on_avx512() {
    if common::avx512_and_avx2("net_cli::general_training_gives_avx2_bits_on_avx512").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = synth_tok(tmp.path(), 100, 30, 20);
    for arch in ["lstm", "gru", "gru-v1", "rnn"] {
        let train = |kernel: &str| {
            let out = tmp.path().join(format!("{arch}-{kernel}"));
            let o = common::target_command(env!("CARGO_BIN_EXE_fusedrnn"))
                .env("FUSEDRNN_KERNEL", kernel)
                .args([
                    "train",
                    "--data",
                    s(&data),
                    "--arch",
                    arch,
                    "--units",
                    "17",
                    "--embedding",
                    "5",
                    "--epochs",
                    "2",
                    "--lr",
                    "1e-2",
                    "--dropout",
                    "0.2",
                    "--threads",
                    "2",
                    "--out",
                    s(&out),
                ])
                .output()
                .expect("run fusedrnn");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            std::fs::read(out.join("best.safetensors")).unwrap()
        };
        assert!(
            train("avx512") == train("avx2-fma"),
            "{arch}: the AVX-512 checkpoint differs from the AVX2 one"
        );
    }
}

/// Flags each within its range whose embedding is not (here 2^24 × 4096 floats, 256 GiB):
/// refused before anything is allocated or created, naming the embedding.
#[test]
fn an_embedding_past_the_limit_is_refused_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, _) = fixture_token_file(tmp.path(), "lstm32", 5000);
    let out = tmp.path().join("run");
    let o = fusedrnn(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&out),
        "--arch",
        "rnn",
        "--units",
        "1",
        "--embedding",
        "4096",
        "--vocab",
        "16777216",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("an embedding of 16777216 × 4096"), "{err}");
    assert!(!out.exists(), "nothing is created for a refused shape");
}

/// A token file of rows longer than any model runs (5,000 ids) is named as the cause: by
/// `predict` before the model (a PyTorch state dict, which records no length, would take the
/// data's and be blamed for it), and by `train`, not as a flag.
#[test]
fn a_token_file_too_long_for_any_model_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let ids = vec![1u16; 2 * 5000];
    let (labels, lengths) = ([0u8, 1], [5000u32; 2]);
    let split = SplitData {
        tokens: &ids,
        labels: &labels,
        lengths: &lengths,
    };
    let params = PackParams {
        num_words: 5000,
        seq_len: 5000,
        ..PackParams::NOTEBOOK
    };
    let data = tmp.path().join("long.tok");
    fusedrnn::tokfile::write_atomic(&data, &params, [split, split, split]).unwrap();
    let (out, run) = (tmp.path().join("p.npy"), tmp.path().join("run"));
    let model = fixture("torch_gru16.safetensors");
    for args in [
        vec![
            "predict",
            "--model",
            s(&model),
            "--data",
            s(&data),
            "--out",
            s(&out),
        ],
        vec![
            "train",
            "--data",
            s(&data),
            "--arch",
            "gru",
            "--out",
            s(&run),
        ],
    ] {
        let o = fusedrnn(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(&format!("{}: ", s(&data))), "{args:?}: {err}");
        assert!(
            err.contains("5000") && err.contains("4096"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("--arch"), "{args:?}: {err}");
    }
    assert!(!out.exists() && !run.exists(), "nothing is written");
}

#[test]
fn bad_shape_flags_exit_2_naming_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    for (flag, value, says) in [
        ("--arch", "gru-v2", "gru-v1"),
        ("--units", "0", "at least 1"),
        ("--units", "257", "1..=256"),
        ("--embedding", "-3", "--embedding"),
        ("--embedding", "5000", "1..=4096"),
    ] {
        let mut args = vec![
            "train",
            "--data",
            "x.tok",
            "--out",
            s(&out),
            "--arch",
            "lstm",
        ];
        if flag == "--arch" {
            args.pop();
            args.push(value);
        } else {
            args.extend([flag, value]);
        }
        let o = fusedrnn(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(says), "{flag} {value}: {err}");
    }
    assert!(!out.exists(), "nothing is created for a refused flag");
}
