//! Reading real Keras files (tests/fixtures/keras_import, written by gen_keras_import.py with
//! Keras 3.15.1, plus tf.keras-2-style files written with h5py), and refusing bad ones with a
//! message that names the layer, dataset or member.

use std::io::Write;
use std::path::PathBuf;

use fusedrnn_keras::{Arch, Format, ImportError, KerasModel, from_bytes, read};
use hdf5_pure::{AttrValue, FileBuilder};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/keras_import")
        .join(name)
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const ARCHS: [(Arch, &str); 3] = [
    (Arch::Lstm, "lstm"),
    (Arch::Rnn, "rnn"),
    (Arch::RnnOneHot, "rnn-onehot"),
];

fn err(bytes: &[u8]) -> String {
    match from_bytes(bytes, "m.keras") {
        Ok(m) => panic!("expected an error, got a {} model", m.arch.name()),
        Err(e) => {
            let text = e.to_string();
            assert!(text.starts_with("m.keras: "), "{text}");
            text
        }
    }
}

fn assert_has(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "{n:?} not in: {text}");
    }
}

#[test]
fn every_format_of_every_arch_imports_to_the_same_weights() {
    for (arch, name) in ARCHS {
        let files = [
            (format!("{name}.keras"), Format::KerasZip, "3.15.1"),
            (format!("{name}.h5"), Format::LegacyH5, "3.15.1"),
            (format!("{name}.tf2.h5"), Format::LegacyH5, "2.15.0"),
        ];
        let models: Vec<KerasModel> = files
            .iter()
            .map(|(file, format, version)| {
                let m = read(fixture(file)).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(m.arch, arch, "{file}");
                assert_eq!(m.format, *format, "{file}");
                assert_eq!(m.keras_version.as_deref(), Some(*version), "{file}");
                assert_eq!(m.seq_len, Some(100), "{file}");
                assert_eq!(m.num_words, 100, "{file}");
                m
            })
            .collect();
        let names: Vec<&str> = models[0].tensors.iter().map(|t| t.name).collect();
        let expected: &[&str] = match arch {
            Arch::Lstm => &[
                "embedding.embeddings",
                "lstm.kernel",
                "lstm.recurrent_kernel",
                "lstm.bias",
                "dense.kernel",
                "dense.bias",
            ],
            Arch::Rnn => &[
                "embedding.embeddings",
                "simple_rnn.kernel",
                "simple_rnn.recurrent_kernel",
                "simple_rnn.bias",
                "dense.kernel",
                "dense.bias",
            ],
            Arch::RnnOneHot => &[
                "simple_rnn.kernel",
                "simple_rnn.recurrent_kernel",
                "simple_rnn.bias",
                "dense.kernel",
                "dense.bias",
            ],
        };
        assert_eq!(names, expected, "{name}");
        for m in &models[1..] {
            for (a, b) in models[0].tensors.iter().zip(&m.tensors) {
                assert_eq!((a.name, &a.shape, &a.values), (b.name, &b.shape, &b.values));
            }
        }
    }
}

#[test]
fn datasets_are_found_through_the_config_layer_names() {
    let m = read(fixture("lstm.tf2.h5")).unwrap();
    assert_eq!(
        m.tensor("lstm.kernel").unwrap().dataset,
        "/model_weights/my_lstm/my_lstm/lstm_cell/kernel:0"
    );
    let m = read(fixture("rnn.h5")).unwrap();
    assert_eq!(
        m.tensor("simple_rnn.bias").unwrap().dataset,
        "/model_weights/simple_rnn_1/sequential/simple_rnn_1/simple_rnn_cell/bias"
    );
    let m = read(fixture("rnn-onehot.keras")).unwrap();
    assert_eq!(
        m.tensor("simple_rnn.kernel").unwrap().dataset,
        "/layers/simple_rnn/cell/vars/0"
    );
    assert_eq!(m.tensor("simple_rnn.kernel").unwrap().shape, [100, 8]);
}

#[test]
fn models_we_cannot_run_are_refused_naming_the_layer() {
    for (file, needles) in [
        (
            "bad-hard-sigmoid.keras",
            &[
                "layer `lstm` (LSTM)",
                "recurrent_activation \"hard_sigmoid\"",
            ][..],
        ),
        (
            "bad-stacked.h5",
            &[
                "layer `lstm_2` (LSTM)",
                "stacked recurrent layers (`lstm_1` then `lstm_2`)",
            ][..],
        ),
        (
            "bad-bidirectional.keras",
            &[
                "layer `bidirectional` (Bidirectional)",
                "layer type not supported",
            ][..],
        ),
        (
            "bad-gru.h5",
            &["layer `gru` (GRU)", "layer type not supported"][..],
        ),
    ] {
        let e = read(fixture(file)).expect_err(file).to_string();
        assert!(e.starts_with(&fixture(file).display().to_string()), "{e}");
        assert_has(&e, needles);
    }
}

// ---------------------------------------------------------------------------------------------
// .keras files rebuilt with an edited config or hand-made weights.

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut out).unwrap();
            (f.name().unwrap().into_owned(), out)
        })
        .collect()
}

fn rezip(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    rezip_with(members, zip::CompressionMethod::Stored)
}

fn rezip_with(members: &[(String, Vec<u8>)], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in members {
        w.start_file(name.as_str(), options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// `lstm.keras` with its config changed by `edit` (given the layers list).
fn with_config(file: &str, edit: impl FnOnce(&mut Vec<Value>)) -> Vec<u8> {
    let mut members = unzip(&bytes(file));
    let (_, config) = members
        .iter_mut()
        .find(|(n, _)| n == "config.json")
        .unwrap();
    let mut json: Value = serde_json::from_slice(config).unwrap();
    edit(json["config"]["layers"].as_array_mut().unwrap());
    *config = serde_json::to_vec(&json).unwrap();
    rezip(&members)
}

fn layer<'a>(layers: &'a mut [Value], class: &str) -> &'a mut Value {
    &mut layers
        .iter_mut()
        .find(|l| l["class_name"] == class)
        .unwrap()["config"]
}

#[test]
fn settings_that_change_the_forward_pass_are_refused() {
    use serde_json::json;
    let cases: Vec<(&str, &str, Value, &[&str])> = vec![
        (
            "Embedding",
            "mask_zero",
            json!(true),
            &["layer `token_embedding` (Embedding)", "mask_zero=true"],
        ),
        ("Embedding", "output_dim", json!(32), &["output_dim 32"]),
        (
            "Embedding",
            "input_dim",
            json!(70000),
            &["input_dim 70000 is out of range"],
        ),
        (
            "LSTM",
            "units",
            json!(16),
            &["layer `lstm_8` (LSTM)", "units 16"],
        ),
        (
            "LSTM",
            "activation",
            json!("relu"),
            &["activation \"relu\""],
        ),
        ("LSTM", "use_bias", json!(false), &["use_bias=false"]),
        (
            "LSTM",
            "return_sequences",
            json!(true),
            &["return_sequences=true"],
        ),
        ("LSTM", "go_backwards", json!(true), &["go_backwards=true"]),
        ("LSTM", "stateful", json!(true), &["stateful=true"]),
        (
            "Dense",
            "activation",
            json!("linear"),
            &["layer `sentiment` (Dense)", "activation \"linear\""],
        ),
        ("Dense", "units", json!(2), &["units 2"]),
    ];
    for (class, key, value, needles) in cases {
        let file = with_config("lstm.keras", |layers| {
            layer(layers, class)[key] = value.clone();
        });
        assert_has(&err(&file), needles);
    }
    // Dropout (recurrent or not) changes nothing at inference.
    let file = with_config("lstm.keras", |layers| {
        layer(layers, "LSTM")["dropout"] = json!(0.5);
        layer(layers, "LSTM")["recurrent_dropout"] = json!(0.5);
    });
    assert_eq!(from_bytes(&file, "m").unwrap(), {
        let mut m = read(fixture("lstm.keras")).unwrap();
        m.keras_version = Some("3.15.1".into());
        m
    });
    // Unknown layers, layers out of order, missing layers, other model classes, broken JSON.
    let file = with_config("lstm.keras", |layers| {
        layers.insert(
            2,
            json!({"class_name": "Conv1D", "config": {"name": "conv"}}),
        );
    });
    assert_has(&err(&file), &["layer `conv` (Conv1D)", "not supported"]);
    let file = with_config("lstm.keras", |layers| {
        let dense = layers.pop().unwrap();
        layers.insert(1, dense);
    });
    assert_has(
        &err(&file),
        &["layer `sentiment` (Dense)", "before the recurrent layer"],
    );
    let file = with_config("lstm.keras", |layers| {
        layers.pop();
    });
    assert_has(&err(&file), &["no Dense(1, sigmoid) layer after `lstm_8`"]);
    let file = with_config("rnn-onehot.keras", |layers| {
        layer(layers, "SimpleRNN")["units"] = json!(4);
    });
    assert_has(&err(&file), &["layer `rnn_8` (SimpleRNN)", "units 4"]);
    let mut members = unzip(&bytes("lstm.keras"));
    members[1].1 = br#"{"class_name": "MyModel", "config": {}}"#.to_vec();
    assert_eq!(members[1].0, "config.json");
    assert_has(&err(&rezip(&members)), &["model class `MyModel`"]);
    members[1].1 = b"{not json".to_vec();
    assert_has(&err(&rezip(&members)), &["model config: not valid JSON"]);
}

#[test]
fn keras_zip_missing_a_member_is_refused_naming_it() {
    let members = unzip(&bytes("lstm.keras"));
    for missing in ["config.json", "model.weights.h5"] {
        let kept: Vec<_> = members
            .iter()
            .filter(|(n, _)| n != missing)
            .cloned()
            .collect();
        assert_has(&err(&rezip(&kept)), &[&format!("no member {missing}")]);
    }
    // Deflated members read the same.
    let deflated = rezip_with(&members, zip::CompressionMethod::Deflated);
    assert!(deflated.len() < bytes("lstm.keras").len());
    assert_eq!(
        from_bytes(&deflated, "m").unwrap(),
        read(fixture("lstm.keras")).unwrap()
    );
    // metadata.json is optional: only the version comes from it.
    let kept: Vec<_> = members
        .iter()
        .filter(|(n, _)| n != "metadata.json")
        .cloned()
        .collect();
    assert_eq!(from_bytes(&rezip(&kept), "m").unwrap().keras_version, None);
}

/// A `model.weights.h5` in Keras 3's layout built by hand from the LSTM fixture's weights, with
/// `edit` applied to the list of (path, shape, values) first.
fn lstm_weights_h5(edit: impl FnOnce(&mut Vec<(String, Vec<u64>, Vec<f32>)>)) -> Vec<u8> {
    lstm_weights_h5_keyed(["embedding", "lstm", "dense"], edit)
}

/// [`lstm_weights_h5`] with the layers' groups under other keys.
fn lstm_weights_h5_keyed(
    keys: [&str; 3],
    edit: impl FnOnce(&mut Vec<(String, Vec<u64>, Vec<f32>)>),
) -> Vec<u8> {
    let m = read(fixture("lstm.keras")).unwrap();
    let mut datasets: Vec<(String, Vec<u64>, Vec<f32>)> = m
        .tensors
        .iter()
        .map(|t| {
            let path = t.dataset.trim_start_matches('/').to_owned();
            (
                path,
                t.shape.iter().map(|&n| n as u64).collect(),
                t.values.clone(),
            )
        })
        .collect();
    edit(&mut datasets);
    // layers/<layer>[/cell]/vars/<i>
    let mut fb = FileBuilder::new();
    let mut layers = fb.create_group("layers");
    for (layer, key) in ["embedding", "lstm", "dense"].into_iter().zip(keys) {
        let mut g = layers.create_group(key);
        let mut cell = g.create_group("cell");
        let mut vars = g.create_group("vars");
        let mut cell_vars = cell.create_group("vars");
        for (path, shape, values) in &datasets {
            let (parent, index) = path.rsplit_once('/').unwrap();
            let target = if parent == format!("layers/{layer}/vars") {
                &mut vars
            } else if parent == format!("layers/{layer}/cell/vars") {
                &mut cell_vars
            } else {
                continue;
            };
            target
                .create_dataset(index)
                .with_f32_data(values)
                .with_shape(shape);
        }
        cell.add_group(cell_vars.finish());
        g.add_group(vars.finish());
        g.add_group(cell.finish());
        layers.add_group(g.finish());
    }
    fb.add_group(layers.finish());
    fb.finish().unwrap()
}

fn lstm_keras_with_weights(weights: Vec<u8>) -> Vec<u8> {
    let mut members = unzip(&bytes("lstm.keras"));
    let (_, w) = members
        .iter_mut()
        .find(|(n, _)| n == "model.weights.h5")
        .unwrap();
    *w = weights;
    rezip(&members)
}

#[test]
fn missing_or_misshapen_weights_are_refused_naming_the_dataset() {
    // Unchanged, the hand-built file imports to the fixture's weights.
    let same = lstm_keras_with_weights(lstm_weights_h5(|_| {}));
    assert_eq!(
        from_bytes(&same, "m").unwrap().tensors,
        read(fixture("lstm.keras")).unwrap().tensors
    );

    // Keyed by layer name rather than by class (as Keras 3 does): read too.
    let by_name = lstm_keras_with_weights(lstm_weights_h5_keyed(
        ["token_embedding", "lstm_8", "sentiment"],
        |_| {},
    ));
    let m = from_bytes(&by_name, "m").unwrap();
    assert_eq!(m.tensors[1].dataset, "/layers/lstm_8/cell/vars/0");
    assert_eq!(
        m.tensors[1].values,
        read(fixture("lstm.keras")).unwrap().tensors[1].values
    );

    let missing = lstm_keras_with_weights(lstm_weights_h5(|d| {
        d.retain(|(p, _, _)| p != "layers/lstm/cell/vars/1");
    }));
    assert_has(
        &err(&missing),
        &["layer `lstm_8`: missing weight dataset `/layers/lstm/cell/vars/1`"],
    );

    let misshapen = lstm_keras_with_weights(lstm_weights_h5(|d| {
        let kernel = d
            .iter_mut()
            .find(|(p, _, _)| p.ends_with("cell/vars/0"))
            .unwrap();
        kernel.1 = vec![32, 16];
    }));
    assert_has(
        &err(&misshapen),
        &[
            "dataset `/layers/lstm/cell/vars/0`: expected shape [16, 32] (`lstm.kernel`), found shape [32, 16]",
        ],
    );

    let vocab = lstm_keras_with_weights(lstm_weights_h5(|d| {
        let emb = &mut d[0];
        emb.1 = vec![50, 16];
        emb.2.truncate(50 * 16);
    }));
    assert_has(
        &err(&vocab),
        &["dataset `/layers/embedding/vars/0`: expected shape [100, 16]"],
    );

    let nan = lstm_keras_with_weights(lstm_weights_h5(|d| d[3].2[5] = f32::NAN));
    assert_has(
        &err(&nan),
        &["dataset `/layers/lstm/cell/vars/2`: element 5 is NaN"],
    );
}

/// A legacy `.h5` by hand: the LSTM fixture's config and weights under flat weight names.
fn legacy_lstm(drop: Option<&str>, with_config: bool) -> Vec<u8> {
    let original = hdf5_pure::File::from_bytes(bytes("lstm.h5")).unwrap();
    let config = original.root().attrs().unwrap()["model_config"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = read(fixture("lstm.h5")).unwrap();
    let mut fb = FileBuilder::new();
    if with_config {
        fb.set_attr("model_config", AttrValue::VarLenString(config));
    }
    let mut mw = fb.create_group("model_weights");
    for layer in ["embedding_1", "lstm_1", "dense_1"] {
        let mut g = mw.create_group(layer);
        let mut names = Vec::new();
        for t in m
            .tensors
            .iter()
            .filter(|t| t.dataset.contains(&format!("/{layer}/")))
        {
            let var = t.dataset.rsplit('/').next().unwrap();
            if Some(var) == drop && layer == "lstm_1" {
                continue;
            }
            let name = format!("{var}:0");
            let shape: Vec<u64> = t.shape.iter().map(|&n| n as u64).collect();
            g.create_dataset(&name)
                .with_f32_data(&t.values)
                .with_shape(&shape);
            names.push(name);
        }
        g.set_attr("weight_names", AttrValue::StringArray(names));
        mw.add_group(g.finish());
    }
    fb.add_group(mw.finish());
    fb.finish().unwrap()
}

#[test]
fn legacy_h5_missing_weight_or_config_is_refused() {
    let same = from_bytes(&legacy_lstm(None, true), "m").unwrap();
    assert_eq!(
        same.tensor("lstm.kernel").unwrap().dataset,
        "/model_weights/lstm_1/kernel:0"
    );
    let ok = read(fixture("lstm.h5")).unwrap();
    for (a, b) in same.tensors.iter().zip(&ok.tensors) {
        assert_eq!(a.values, b.values);
    }
    assert_has(
        &err(&legacy_lstm(Some("recurrent_kernel"), true)),
        &["layer `lstm_1`: missing weight dataset `/model_weights/lstm_1/…/recurrent_kernel"],
    );
    assert_has(
        &err(&legacy_lstm(None, false)),
        &["no `model_config` attribute: a weights-only file"],
    );
}

// ---------------------------------------------------------------------------------------------
// Corrupt bytes: an error, never a panic.

fn no_panic_on(name: &str, data: &[u8]) -> Result<KerasModel, ImportError> {
    let result = std::panic::catch_unwind(|| from_bytes(data, "m"));
    result.unwrap_or_else(|_| panic!("{name}: the import panicked"))
}

#[test]
fn truncated_files_are_errors() {
    for file in ["lstm.h5", "lstm.tf2.h5", "lstm.keras", "rnn-onehot.h5"] {
        let data = bytes(file);
        let n = data.len();
        for cut in [
            0,
            4,
            8,
            9,
            64,
            200,
            512,
            1000,
            2048,
            n / 4,
            n / 2,
            3 * n / 4,
            n - 100,
            n - 1,
        ] {
            let r = no_panic_on(&format!("{file}[..{cut}]"), &data[..cut]);
            let e = r.expect_err(&format!("{file}[..{cut}] imported"));
            assert!(e.to_string().starts_with("m: "), "{e}");
            // Past the superblock, a cut .h5 is named as truncated (the superblock holds the
            // file's length), not as a missing attribute of a root group cut short.
            if file.ends_with(".h5") && cut >= 96 {
                assert!(e.to_string().contains("truncated"), "{file}[..{cut}]: {e}");
            }
        }
    }
    assert_has(&err(b"hello"), &["not a Keras model file"]);
    assert_has(&err(b""), &["not a Keras model file"]);
}

#[test]
fn bit_flips_in_the_structure_are_errors_or_harmless() {
    // Flip single bits through the first 4 KiB (superblock, root group, heaps, object headers)
    // and a sample of the rest: whatever the reader makes of it, it must not panic.
    for file in ["lstm.h5", "lstm.tf2.h5", "rnn-onehot.keras"] {
        let data = bytes(file);
        let offsets = (0..data.len().min(4096))
            .step_by(7)
            .chain((4096..data.len()).step_by(997));
        for (i, at) in offsets.enumerate() {
            let mut bad = data.clone();
            bad[at] ^= 1 << (i % 8);
            let _ = no_panic_on(&format!("{file} bit {} of byte {at}", i % 8), &bad);
        }
    }
}
