//! `read_net`: Keras files of any supported shape (tests/fixtures/net, written by
//! make_fixtures.py with Keras 3.15.1): the layer kinds, sizes, `reset_after` and input length
//! come back from the config, the tensors in Keras' shapes; what fusedrnn cannot run is refused
//! naming the layer. The notebook reader (`read`) keeps refusing these shapes.

use std::io::{Cursor, Read, Write};
use std::path::PathBuf;

use fusedrnn_keras::{Cell, Format, net_from_bytes, read, read_net};
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/net")
        .join(name)
}

#[test]
fn every_layer_kind_reads_with_its_sizes_and_tensors() {
    // (file, cell, units, vocab, width, seq_len)
    let cases = [
        ("lstm32.keras", Cell::Lstm, 32, 5000, Some(64), Some(200)),
        ("lstm32.h5", Cell::Lstm, 32, 5000, Some(64), Some(200)),
        (
            "gru16.keras",
            Cell::Gru { reset_after: true },
            16,
            500,
            Some(16),
            Some(100),
        ),
        (
            "gru16v1.h5",
            Cell::Gru { reset_after: false },
            16,
            500,
            Some(16),
            Some(100),
        ),
        ("rnn64.keras", Cell::SimpleRnn, 64, 100, None, Some(50)),
        (
            "nolen.keras",
            Cell::Gru { reset_after: true },
            4,
            60,
            Some(8),
            None,
        ),
    ];
    for (file, cell, units, vocab, width, seq_len) in cases {
        let m = read_net(fixture(file)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (m.cell, m.units, m.vocab, m.width, m.seq_len),
            (cell, units, vocab, width, seq_len),
            "{file}"
        );
        let format = if file.ends_with(".h5") {
            Format::LegacyH5
        } else {
            Format::KerasZip
        };
        assert_eq!(m.format, format);
        let g = cell.gates() * units;
        let p = cell.keras_name();
        let in_rows = width.unwrap_or(vocab);
        let mut want: Vec<(String, Vec<usize>)> = vec![
            (format!("{p}.kernel"), vec![in_rows, g]),
            (format!("{p}.recurrent_kernel"), vec![units, g]),
            (
                format!("{p}.bias"),
                match cell {
                    Cell::Gru { reset_after: true } => vec![2, g],
                    _ => vec![g],
                },
            ),
            ("dense.kernel".into(), vec![units, 1]),
            ("dense.bias".into(), vec![1]),
        ];
        if let Some(w) = width {
            want.insert(0, ("embedding.embeddings".into(), vec![vocab, w]));
        }
        let got: Vec<(String, Vec<usize>)> = m
            .tensors
            .iter()
            .map(|t| (t.name.to_owned(), t.shape.clone()))
            .collect();
        assert_eq!(got, want, "{file}");
        for t in &m.tensors {
            assert_eq!(t.values.len(), t.shape.iter().product::<usize>());
        }
    }
}

#[test]
fn the_notebook_reader_still_refuses_other_shapes() {
    for (file, words) in [
        ("gru16.keras", &["(GRU)", "not supported"][..]),
        ("lstm32.h5", &["output_dim 64"][..]),
        ("rnn64.keras", &["units 64"][..]),
    ] {
        let err = read(fixture(file)).unwrap_err().to_string();
        for w in words {
            assert!(err.contains(w), "{file}: {w:?} not in: {err}");
        }
    }
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut out = Vec::new();
            f.read_to_end(&mut out).unwrap();
            (f.name().unwrap().into_owned(), out)
        })
        .collect()
}

fn rezip(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in members {
        w.start_file(name.as_str(), options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// `gru16.keras` with the config of its layer of class `class` edited.
fn edited(class: &str, key: &str, value: Value) -> Vec<u8> {
    let mut members = unzip(&std::fs::read(fixture("gru16.keras")).unwrap());
    let (_, config) = members
        .iter_mut()
        .find(|(n, _)| n == "config.json")
        .unwrap();
    let mut json: Value = serde_json::from_slice(config).unwrap();
    let layer = json["config"]["layers"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|l| l["class_name"] == class)
        .unwrap();
    layer["config"][key] = value;
    *config = serde_json::to_vec(&json).unwrap();
    rezip(&members)
}

#[test]
fn settings_fusedrnn_cannot_run_are_refused_naming_the_layer() {
    let cases: Vec<(&str, &str, Value, &[&str])> = vec![
        (
            "GRU",
            "recurrent_activation",
            json!("hard_sigmoid"),
            &["(GRU)", "recurrent_activation \"hard_sigmoid\""],
        ),
        ("GRU", "activation", json!("relu"), &["activation \"relu\""]),
        ("GRU", "use_bias", json!(false), &["use_bias=false"]),
        ("GRU", "units", json!(300), &["units 300 is out of range"]),
        ("GRU", "return_state", json!(true), &["return_state=true"]),
        (
            "GRU",
            "return_sequences",
            json!(true),
            &["return_sequences=true"],
        ),
        ("GRU", "reset_after", json!("yes"), &["reset_after"]),
        (
            "Embedding",
            "mask_zero",
            json!(true),
            &["(Embedding)", "mask_zero=true"],
        ),
        (
            "Embedding",
            "output_dim",
            json!(5000),
            &["output_dim 5000 is out of range"],
        ),
        (
            "Embedding",
            "input_dim",
            json!(1u64 << 30),
            &["input_dim 1073741824 is out of range"],
        ),
    ];
    for (class, key, value, needles) in cases {
        let err = net_from_bytes(&edited(class, key, value), "m.keras")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("m.keras: "), "{err}");
        for n in needles {
            assert!(err.contains(n), "{class}.{key}: {n:?} not in: {err}");
        }
    }
    // Settings that do not change the forward pass are accepted.
    for (key, value) in [
        ("unroll", json!(true)),
        ("dropout", json!(0.4)),
        ("recurrent_dropout", json!(0.2)),
    ] {
        let m = net_from_bytes(&edited("GRU", key, value), "m.keras").unwrap();
        assert_eq!(m.cell, Cell::Gru { reset_after: true }, "{key}");
    }
    // A config that disagrees with the weights: the dataset is named, nothing is read past it.
    let err = net_from_bytes(&edited("GRU", "units", json!(17)), "m.keras")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layers/gru/cell/vars/0") && err.contains("expected"),
        "{err}"
    );
    // Switching reset_after changes the bias' shape, which the file then does not have.
    let err = net_from_bytes(&edited("GRU", "reset_after", json!(false)), "m.keras")
        .unwrap_err()
        .to_string();
    assert!(err.contains("vars/2") && err.contains("[48]"), "{err}");
}

#[test]
fn refused_fixtures_name_the_layer() {
    for (file, words) in [
        ("bad_stacked.h5", &["stacked"][..]),
        ("bad_bidirectional.keras", &["Bidirectional"][..]),
        ("bad_mask_zero.keras", &["mask_zero"][..]),
        ("bad_return_sequences.keras", &["return_sequences"][..]),
        ("bad_go_backwards.h5", &["go_backwards"][..]),
    ] {
        let err = read_net(fixture(file)).unwrap_err().to_string();
        assert!(err.contains(file), "{err}");
        for w in words {
            assert!(err.contains(w), "{file}: {w:?} not in: {err}");
        }
    }
}

#[test]
fn truncated_files_are_errors_never_panics() {
    for file in ["gru16.h5", "rnn64.keras"] {
        let bytes = std::fs::read(fixture(file)).unwrap();
        for cut in (0..bytes.len()).step_by(bytes.len() / 37 + 1) {
            assert!(
                net_from_bytes(&bytes[..cut], file).is_err(),
                "{file}[..{cut}]"
            );
        }
    }
}
