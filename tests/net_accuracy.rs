//! Issue 14's "trains in `fusedrnn train` to Keras' accuracy", in a form CI can afford: the
//! general trainer ([`NetTrainer`], what `fusedrnn train` runs for these shapes) trains LSTM(32)
//! and GRU(16) on a reduced slice of the real IMDB data, and its validation accuracy must fall
//! within Keras' seed-to-seed spread for exactly the same slice and settings.
//!
//! The reference is `tests/fixtures/net_accuracy/reference.json`, written by `make_reference.py`
//! beside it (real Keras 3: `imdb.load_data(num_words=5000)`, `train_test_split(test_size=0.2,
//! random_state=42)`, `pad_sequences(maxlen=100)`, Embedding(5000, 32) → LSTM(32) / GRU(16) →
//! Dense(1, sigmoid), RMSprop(1e-3), batch 64; eight seeds). Its `reduced` setting: the first
//! 4,000 training rows and the first 1,000 validation rows of the split, 3 epochs. Its `full` setting
//! (the whole split, with test accuracy) is compared with a `fusedrnn train` run in the README of
//! that folder; it takes minutes, so it is not a test.
//!
//! The tolerance: fusedrnn's final validation accuracy and validation loss must each lie within
//! 3 standard deviations of Keras' mean over seeds (the seed changes initial weights and shuffles on both sides, so one
//! fusedrnn run is one more draw from the same spread if the training is the same).
//!
//! Needs `../shared/data/imdb.npz`: skipped loudly without it outside CI, a failure in CI. In a
//! debug build the two trainings take too long for CI's debug pass (measured in the README of the
//! fixture folder), so the test skips loudly there and CI's release pass runs it (`.ci/run`,
//! `--test net_accuracy`).

mod common;

use std::path::Path;

use fusedrnn::net::train::{NetTrainConfig, NetTrainer};
use fusedrnn::net::{Cell, Input, Spec};
use fusedrnn::tokfile::{PackParams, SplitName, TokFile, TokenIds};
use fusedrnn_data_tools::{ImdbArrays, pack};

/// The settings of `make_reference.py` (checked against reference.json's `settings`).
const NUM_WORDS: usize = 5000;
const MAXLEN: usize = 100;
const WIDTH: usize = 32;
const LR: f32 = 1e-3;
const BATCH: usize = 64;

fn reference() -> serde_json::Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/net_accuracy/reference.json");
    let text = std::fs::read_to_string(&path).expect("read reference.json");
    serde_json::from_str(&text).expect("parse reference.json")
}

fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("reference.json: {v} is not an array"))
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

#[test]
fn reduced_run_reaches_keras_accuracy() {
    let npz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/imdb.npz");
    if !npz.is_file() {
        common::skip_or_fail_in_ci(&format!("{} not found", npz.display()));
        return;
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "\n=== SKIPPED reduced_run_reaches_keras_accuracy in a debug build: two trainings on \
             4,000 real reviews take too long unoptimised; CI's release pass runs it \
             (cargo test --release --test net_accuracy) ===\n"
        );
        return;
    }
    let reference = reference();
    let settings = &reference["settings"];
    assert_eq!(settings["num_words"], NUM_WORDS);
    assert_eq!(settings["maxlen"], MAXLEN);
    assert_eq!(settings["embedding"], WIDTH);
    assert_eq!(settings["batch_size"], BATCH);
    assert!((settings["lr"].as_f64().unwrap() - f64::from(LR)).abs() < 1e-12);
    let reduced = &reference["reduced"];
    let setting = &reduced["setting"];
    let train_rows = setting["train_rows"].as_u64().unwrap() as usize;
    let val_rows = setting["val_rows"].as_u64().unwrap() as usize;
    let epochs = setting["epochs"].as_u64().unwrap() as usize;

    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("imdb.tok");
    let params = PackParams {
        num_words: NUM_WORDS as u32,
        seq_len: MAXLEN as u32,
        ..PackParams::NOTEBOOK
    };
    pack(&ImdbArrays::read(&npz).unwrap(), &params)
        .unwrap()
        .write(&path)
        .unwrap();
    let tok = TokFile::open(&path).unwrap();
    let rows = |name: SplitName, n: usize| -> (Vec<u16>, Vec<f32>) {
        let split = tok.split(name);
        let TokenIds::U16(ids) = split.tokens else {
            panic!("num_words {NUM_WORDS} stores 16-bit ids")
        };
        let labels = split.labels[..n].iter().map(|&y| f32::from(y)).collect();
        (ids[..n * MAXLEN].to_vec(), labels)
    };
    let (train_ids, train_y) = rows(SplitName::Train, train_rows);
    let (val_ids, val_y) = rows(SplitName::Val, val_rows);

    let mut failures = Vec::new();
    for (name, cell, units) in [
        ("lstm32", Cell::Lstm, 32),
        ("gru16", Cell::Gru { reset_after: true }, 16),
    ] {
        let spec = Spec {
            cell,
            units,
            vocab: NUM_WORDS,
            input: Input::Embedding { width: WIDTH },
            seq_len: MAXLEN,
        };
        let config = NetTrainConfig {
            epochs,
            batch_size: BATCH,
            lr: LR,
            patience: epochs,
            threads: 2,
            ..NetTrainConfig::default()
        };
        let fit = NetTrainer::new(spec, config)
            .unwrap()
            .fit((&train_ids, &train_y), (&val_ids, &val_y))
            .unwrap();
        assert_eq!(fit.history.len(), epochs, "{name}: ran every epoch");
        let last = epochs - 1;
        for (metric, ours) in [
            (
                "val_accuracy",
                fit.history
                    .iter()
                    .map(|r| r.val_accuracy)
                    .collect::<Vec<_>>(),
            ),
            ("val_loss", fit.history.iter().map(|r| r.val_loss).collect()),
        ] {
            let keras = &reduced["models"][name][format!("{metric}_summary")];
            let (mean, std) = (numbers(&keras["mean"]), numbers(&keras["std"]));
            for e in 0..epochs {
                eprintln!(
                    "{name} epoch {}: fusedrnn {metric} {:.4}, Keras {:.4} ± {:.4} (mean ± std over seeds)",
                    e + 1,
                    ours[e],
                    mean[e],
                    std[e]
                );
            }
            let v = f64::from(ours[last]);
            if (v - mean[last]).abs() > 3.0 * std[last] {
                failures.push(format!(
                    "{name}: {metric} {v:.4} after {epochs} epochs is outside Keras' {:.4} ± 3 × {:.4}",
                    mean[last], std[last]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
