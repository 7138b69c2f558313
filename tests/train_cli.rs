//! `fusedrnn train` end to end on a small synthetic token file, its flag validation, the fit
//! loop's determinism across thread counts, and (when `../shared/data/imdb.npz` is present, in
//! release builds) learning on the real data.

use std::path::{Path, PathBuf};
use std::process::Output;

use fusedrnn::kernels::Kernel;
use fusedrnn::model::{Arch, Model};
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::tokfile::{PackParams, SplitData, SplitName, TokFile};
use fusedrnn::train::{Quiet, SplitMix64, TrainConfig, fit};

use crate::common;

const NUM_WORDS: u32 = 50;

/// `rows` pre-padded reviews over `NUM_WORDS`: label 1 when ids 4..14 outnumber ids 14..24.
fn synth(rows: usize, seed: u64, seq_len: usize) -> (Vec<u16>, Vec<u8>, Vec<u32>) {
    let mut rng = SplitMix64::new(seed);
    let (mut tokens, mut labels, mut lengths) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rows {
        let len = 10 + rng.below(seq_len - 10);
        let mut row = vec![0u16; seq_len - len];
        let mut score = 0i32;
        for i in 0..len {
            let w = if i == 0 {
                1
            } else {
                2 + rng.below(NUM_WORDS as usize - 2) as u16
            };
            score += i32::from((4..14).contains(&w)) - i32::from((14..24).contains(&w));
            row.push(w);
        }
        tokens.extend(row);
        labels.push(u8::from(score > 0 || (score == 0 && rng.below(2) == 1)));
        lengths.push(len as u32);
    }
    (tokens, labels, lengths)
}

fn split(d: &(Vec<u16>, Vec<u8>, Vec<u32>)) -> SplitData<'_> {
    SplitData {
        tokens: &d.0,
        labels: &d.1,
        lengths: &d.2,
    }
}

/// A token file with `train`/`val`/`test` rows of `seq_len` tokens.
fn token_file(dir: &Path, name: &str, rows: [usize; 3], seq_len: usize) -> PathBuf {
    let data: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(i, &n)| synth(n, 100 + i as u64, seq_len))
        .collect();
    let params = PackParams {
        num_words: NUM_WORDS,
        seq_len: seq_len as u32,
        ..PackParams::NOTEBOOK
    };
    let path = dir.join(name);
    fusedrnn::tokfile::write_atomic(
        &path,
        &params,
        [split(&data[0]), split(&data[1]), split(&data[2])],
    )
    .expect("write token file");
    path
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

#[test]
fn train_then_eval_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let data = token_file(tmp.path(), "small.tok", [200, 80, 80], SEQ_LEN);
    let out = tmp.path().join("run");
    let o = fusedrnn(&[
        "train",
        "--data",
        s(&data),
        "--arch",
        "lstm",
        "--epochs",
        "3",
        "--lr",
        "1e-2",
        "--threads",
        "2",
        "--out",
        s(&out),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(!lines.is_empty() && lines.len() <= 3, "{stdout}");
    for (i, line) in lines.iter().enumerate() {
        assert!(line.starts_with(&format!("Epoch {}/3 - ", i + 1)), "{line}");
        for key in [
            " - loss: ",
            " - accuracy: ",
            " - val_loss: ",
            " - val_accuracy: ",
        ] {
            assert!(line.contains(key), "{line}");
        }
    }
    let csv = std::fs::read_to_string(out.join("history.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "epoch,loss,accuracy,val_loss,val_accuracy,seconds");
    assert_eq!(rows.len(), lines.len() + 1);
    let png = std::fs::read(out.join("loss.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let model = Model::load(out.join("best.safetensors")).unwrap();
    assert_eq!(
        (model.arch(), model.vocab()),
        (Arch::Lstm, NUM_WORDS as usize)
    );
    // The checkpoint holds the lowest val_loss of the history.
    let best_val = rows[1..]
        .iter()
        .map(|r| r.split(',').nth(3).unwrap().parse::<f64>().unwrap())
        .fold(f64::INFINITY, f64::min);
    let o = fusedrnn(&[
        "eval",
        "--model",
        s(&out.join("best.safetensors")),
        "--data",
        s(&data),
        "--split",
        "val",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        (v["loss"].as_f64().unwrap() - best_val).abs() < 1e-5,
        "{v} vs {best_val}"
    );
}

#[test]
fn every_arch_trains_with_and_without_dropout() {
    let tmp = tempfile::tempdir().unwrap();
    let data = token_file(tmp.path(), "small.tok", [70, 30, 10], SEQ_LEN);
    for arch in ["lstm", "rnn", "rnn-onehot"] {
        for dropout in ["0", "0.3"] {
            let out = tmp.path().join(format!("{arch}-{dropout}"));
            let o = fusedrnn(&[
                "train",
                "--data",
                s(&data),
                "--arch",
                arch,
                "--epochs",
                "1",
                "--dropout",
                dropout,
                "--out",
                s(&out),
            ]);
            assert!(
                o.status.success(),
                "{arch}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(out.join("best.safetensors").is_file());
        }
    }
}

/// Bad flags and unusable data: an error on stderr, a non-zero exit, and no output at all.
#[test]
fn bad_settings_fail_cleanly_without_output() {
    let tmp = tempfile::tempdir().unwrap();
    let good = token_file(tmp.path(), "good.tok", [20, 10, 5], SEQ_LEN);
    let short = token_file(tmp.path(), "short.tok", [20, 10, 5], 50);
    let no_val = token_file(tmp.path(), "noval.tok", [20, 0, 5], SEQ_LEN);
    let no_train = token_file(tmp.path(), "notrain.tok", [0, 10, 5], SEQ_LEN);
    let cases: Vec<(&Path, Vec<&str>, &str)> = vec![
        (&good, vec!["--batch-size", "0"], "--batch-size"),
        (&good, vec!["--epochs", "0"], "--epochs"),
        (&good, vec!["--threads", "0"], "--threads"),
        (&good, vec!["--dropout", "1"], "--dropout"),
        (&good, vec!["--dropout=-0.1"], "--dropout"),
        (&good, vec!["--dropout", "NaN"], "--dropout"),
        (&good, vec!["--lr", "0"], "--lr"),
        (&good, vec!["--lr=-1e-3"], "--lr"),
        (&good, vec!["--lr", "inf"], "--lr"),
        (&good, vec!["--lr", "NaN"], "--lr"),
        (&good, vec!["--vocab", "10"], "vocabulary"),
        (&good, vec!["--arch", "gru-v2"], "gru-v1"),
        // Shapes beyond the notebook's (another length, GRU, other sizes) train on the general
        // path since issue 14: tests/net_cli.rs; a shape beyond the limits is still refused.
        (&short, vec!["--units", "300"], "--units"),
        (&no_val, vec![], "val split is empty"),
        (&no_train, vec![], "train split is empty"),
    ];
    for (i, (data, extra, needle)) in cases.iter().enumerate() {
        let out = tmp.path().join(format!("out{i}"));
        let mut args = vec!["train", "--data", s(data), "--out", s(&out)];
        if !extra.contains(&"--arch") {
            args.extend(["--arch", "lstm"]);
        }
        args.extend(extra.iter().copied());
        let o = fusedrnn(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{extra:?} should fail");
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert!(!out.exists(), "{extra:?}: created {}", out.display());
    }
    // The output folder's parent must exist.
    let out = tmp.path().join("missing/run");
    let o = fusedrnn(&[
        "train",
        "--data",
        s(&good),
        "--arch",
        "lstm",
        "--out",
        s(&out),
    ]);
    assert!(!o.status.success());
}

/// The whole fit loop (shuffles, dropout masks, validation, early stopping) on 1 and 2 threads:
/// bit-identical best weights and history.
#[test]
fn fit_is_deterministic_across_thread_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let data = token_file(tmp.path(), "small.tok", [150, 40, 10], SEQ_LEN);
    let tok = TokFile::open(&data).unwrap();
    let (train, val) = (tok.split(SplitName::Train), tok.split(SplitName::Val));
    for arch in [Arch::Lstm, Arch::Rnn, Arch::RnnOneHot] {
        let run = |threads| {
            let cfg = TrainConfig {
                arch,
                vocab: NUM_WORDS as usize,
                epochs: 3,
                batch_size: 32,
                lr: 3e-3,
                dropout: 0.3,
                patience: 3,
                seed: 9,
                threads,
            };
            fit(
                &train,
                &val,
                tok.num_words(),
                &cfg,
                Kernel::best(),
                &mut Quiet,
            )
            .unwrap()
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(a.best, b.best, "{arch}: best weights differ");
        let key = |o: &fusedrnn::train::FitOutcome| -> Vec<(u64, u64)> {
            o.history
                .iter()
                .map(|r| (r.loss.to_bits(), r.val_loss.to_bits()))
                .collect()
        };
        assert_eq!(key(&a), key(&b), "{arch}: history differs");
    }
}

/// Two LSTM epochs on the real IMDB data learn far beyond chance. Measured (release, 2 threads,
/// lr 1e-3, seed 42): val_accuracy 0.75 after 1 epoch, 0.77 after 2, 0.7 s with packing. At the
/// notebook's lr 1e-4 two epochs only reach ~0.60 (ten are needed), so this test uses 1e-3.
#[test]
fn lstm_learns_the_real_data() {
    if common::debug_sized() {
        eprintln!(
            "\n=== SKIPPED lstm_learns_the_real_data in a debug build: two epochs on the real data \
             are too slow there; CI runs it optimised (`.ci/run`, profile `ci`) ===\n"
        );
        return;
    }
    let npz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/imdb.npz");
    if !npz.is_file() {
        common::skip_or_fail_in_ci(&format!("{} not found", npz.display()));
        return;
    }
    use fusedrnn_data_tools::{ImdbArrays, PackParams, pack};
    let tmp = tempfile::tempdir().unwrap();
    let arrays = ImdbArrays::read(&npz).unwrap();
    let path = tmp.path().join("imdb.tok");
    pack(&arrays, &PackParams::NOTEBOOK)
        .unwrap()
        .write(&path)
        .unwrap();
    let tok = TokFile::open(&path).unwrap();
    let cfg = TrainConfig {
        epochs: 2,
        lr: 1e-3,
        threads: 2,
        ..TrainConfig::default()
    };
    let out = fit(
        &tok.split(SplitName::Train),
        &tok.split(SplitName::Val),
        tok.num_words(),
        &cfg,
        Kernel::best(),
        &mut Quiet,
    )
    .unwrap();
    let best = out.history[out.best_epoch - 1];
    println!("{:?}", out.history);
    assert!(
        best.val_accuracy >= 0.70,
        "val_accuracy {}",
        best.val_accuracy
    );
}
