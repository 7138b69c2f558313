//! Keras files end to end: real Keras 3 saves (`.keras`, legacy `.h5`) and tf.keras-2-style `.h5`
//! files of the three models, imported and scored on every kernel against Keras' own
//! probabilities; `fusedrnn import` / `predict --model x.h5` / `export --to torch` through the CLI,
//! checked against what torch was given and computed; bad files through the CLI: one clear error,
//! no panic, no output file.
//!
//! Fixtures: `tests/fixtures/keras_import/`, written by `gen_keras_import.py` there (Keras 3.15.1
//! on JAX, torch 2.15.0; versions in `keras_import.json`).

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

use fusedrnn::infer::Scorer;
use fusedrnn::kernels::Kernel;
use fusedrnn::model::{Arch, Model};
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::tokfile::{PackParams, SplitData};
use safetensors::SafeTensors;

const ARCHS: [&str; 3] = ["lstm", "rnn", "rnn-onehot"];
/// `.keras`, Keras 3 legacy `.h5`, tf.keras-2-style `.h5`.
const SUFFIXES: [&str; 3] = [".keras", ".h5", ".tf2.h5"];
/// DESIGN.md: within 1e-5 of Keras' probabilities.
const TOL: f64 = 1e-5;
const NUM_WORDS: u32 = 100;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keras_import")
        .join(name)
}

fn json() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("keras_import.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn probs(json: &serde_json::Value, arch: &str, source: &str) -> Vec<f64> {
    json["archs"][arch][source]
        .as_array()
        .unwrap_or_else(|| panic!("no {source} probabilities for {arch}"))
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect()
}

fn tokens() -> Vec<[u16; SEQ_LEN]> {
    common::read_tokens_at(&fixture("tokens.npy"))
}

/// What the CLI does with a Keras file, through the library: read, then the checked constructor.
fn import(path: &Path) -> Model {
    let k = fusedrnn_keras::read(path).unwrap_or_else(|e| panic!("{e}"));
    let arch = Arch::from_name(k.arch.name()).unwrap();
    let tensors = k
        .tensors
        .iter()
        .map(|t| (t.name, t.shape.as_slice(), t.values.as_slice()));
    Model::from_keras_tensors(arch, tensors, &path.display().to_string()).unwrap()
}

fn assert_close(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (row, (&p, &k)) in got.iter().zip(want).enumerate() {
        assert!(
            (f64::from(p) - k).abs() <= TOL,
            "{what} row {row}: {p} vs {k}"
        );
    }
}

#[test]
fn imported_models_match_keras_on_every_kernel() {
    let json = json();
    let tokens = tokens();
    for arch in ARCHS {
        let keras = probs(&json, arch, "keras");
        let mut first: Option<Model> = None;
        for suffix in SUFFIXES {
            let file = format!("{arch}{suffix}");
            let model = import(&fixture(&file));
            assert_eq!(model.arch().name(), arch, "{file}");
            assert_eq!(model.vocab(), NUM_WORDS as usize, "{file}");
            for kernel in Kernel::available() {
                let mut got = vec![f32::NAN; tokens.len()];
                Scorer::new(&model, kernel).score(&tokens, &mut got);
                assert_close(&got, &keras, &format!("{file} {}", kernel.name()));
            }
            // The three files hold the same weights.
            match &first {
                None => first = Some(model),
                Some(m) => assert_eq!(m, &model, "{file}"),
            }
        }
    }
}

#[test]
fn from_keras_tensors_runs_the_loader_checks() {
    let k = fusedrnn_keras::read(fixture("lstm.keras")).unwrap();
    let tensors = || {
        k.tensors
            .iter()
            .map(|t| (t.name, t.shape.as_slice(), t.values.as_slice()))
    };
    // A shape that does not match the values, a missing tensor, an arch the names contradict.
    let wrong = [4usize, 4];
    let e = Model::from_keras_tensors(
        Arch::Lstm,
        tensors().map(|(n, s, v)| (n, if n == "lstm.bias" { &wrong[..] } else { s }, v)),
        "x.h5",
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("x.h5: tensor `lstm.bias`"), "{e}");
    let e = Model::from_keras_tensors(
        Arch::Lstm,
        tensors().filter(|(n, _, _)| *n != "dense.bias"),
        "x.h5",
    )
    .unwrap_err();
    assert!(e.to_string().contains("missing tensor `dense.bias`"), "{e}");
    let e = Model::from_keras_tensors(Arch::Rnn, tensors(), "x.h5").unwrap_err();
    assert!(e.to_string().contains("metadata `arch`"), "{e}");
    let nan = [f32::NAN; 32];
    let e = Model::from_keras_tensors(
        Arch::Lstm,
        tensors().map(|(n, s, v)| (n, s, if n == "lstm.bias" { &nan[..] } else { v })),
        "x.h5",
    )
    .unwrap_err();
    assert!(e.to_string().contains("element 0 is NaN"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Through the CLI.

fn fusedrnn(args: &[&str]) -> Output {
    common::target_command(env!("CARGO_BIN_EXE_fusedrnn"))
        .args(args)
        .output()
        .expect("run fusedrnn")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A token file whose test split is the fixture's 32 rows (labels and lengths are not used).
fn token_file(dir: &Path) -> PathBuf {
    let tokens: Vec<u16> = tokens().iter().flatten().copied().collect();
    let rows = tokens.len() / SEQ_LEN;
    let labels = vec![0u8; rows];
    let lengths: Vec<u32> = vec![SEQ_LEN as u32; rows];
    let empty = SplitData {
        tokens: &[],
        labels: &[],
        lengths: &[],
    };
    let test = SplitData {
        tokens: &tokens,
        labels: &labels,
        lengths: &lengths,
    };
    let params = PackParams {
        num_words: NUM_WORDS,
        ..PackParams::NOTEBOOK
    };
    let path = dir.join("fixture.tok");
    fusedrnn::tokfile::write_atomic(&path, &params, [empty, empty, test]).unwrap();
    path
}

/// `fusedrnn predict --model M --data T --out P.npy` and the probabilities it wrote.
fn predict(model: &Path, data: &Path, dir: &Path) -> Vec<f32> {
    let out = dir.join("p.npy");
    let o = fusedrnn(&[
        "predict",
        "--model",
        s(model),
        "--data",
        s(data),
        "--out",
        s(&out),
    ]);
    assert!(
        o.status.success(),
        "predict {}: {}",
        model.display(),
        stderr(&o)
    );
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    let header = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    bytes[10 + header..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

#[test]
fn cli_import_then_predict_and_model_h5_directly() {
    let dir = tempfile::tempdir().unwrap();
    let data = token_file(dir.path());
    let json = json();
    for arch in ARCHS {
        let keras = probs(&json, arch, "keras");
        for suffix in SUFFIXES {
            let file = fixture(&format!("{arch}{suffix}"));
            // --model x.h5 / x.keras directly.
            assert_close(&predict(&file, &data, dir.path()), &keras, s(&file));
            // import, then the .safetensors it wrote.
            let out = dir.path().join(format!("{arch}{suffix}.safetensors"));
            let o = fusedrnn(&["import", s(&file), "--out", s(&out)]);
            assert!(o.status.success(), "{}", stderr(&o));
            assert!(stderr(&o).contains(&format!("imported {arch} (num_words 100, seq_len 100)")));
            let saved = Model::load(&out).unwrap();
            assert_eq!(saved, import(&file));
            let bytes = std::fs::read(&out).unwrap();
            let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
            let meta = header.metadata().as_ref().unwrap();
            assert_eq!(meta["arch"], arch);
            assert_eq!(meta["seq_len"], "100");
            assert_eq!(meta["num_words"], "100");
            assert_close(&predict(&out, &data, dir.path()), &keras, s(&out));
        }
        // summary takes a Keras file too.
        let o = fusedrnn(&["summary", "--model", s(&fixture(&format!("{arch}.keras")))]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
}

/// `fusedrnn export --to torch` writes exactly the state_dict that torch was loaded with (saved
/// by torch itself in the fixture), and scoring that file gives torch's probabilities.
#[test]
fn export_to_torch_matches_what_torch_ran() {
    let dir = tempfile::tempdir().unwrap();
    let data = token_file(dir.path());
    let json = json();
    for arch in ARCHS {
        for suffix in [".keras", ".tf2.h5"] {
            let src = fixture(&format!("{arch}{suffix}"));
            let out = dir.path().join(format!("{arch}.torch.safetensors"));
            let o = fusedrnn(&["export", s(&src), "--to", "torch", "--out", s(&out)]);
            assert!(o.status.success(), "{}", stderr(&o));
            let ours = std::fs::read(&out).unwrap();
            let theirs = std::fs::read(fixture(&format!("{arch}.torch.safetensors"))).unwrap();
            let (ours, theirs) = (
                SafeTensors::deserialize(&ours).unwrap(),
                SafeTensors::deserialize(&theirs).unwrap(),
            );
            let mut names = ours.names();
            names.sort_unstable();
            let mut want = theirs.names();
            want.sort_unstable();
            assert_eq!(names, want, "{arch}");
            for name in names {
                let (a, b) = (ours.tensor(name).unwrap(), theirs.tensor(name).unwrap());
                assert_eq!(a.shape(), b.shape(), "{arch} {name}");
                assert_eq!(a.dtype(), b.dtype(), "{arch} {name}");
                assert_eq!(a.data(), b.data(), "{arch} {name}: bytes differ");
            }
            // Loads back (PyTorch names) to identical weights, and scores as torch did.
            assert_eq!(Model::load(&out).unwrap(), import(&src), "{arch}");
            assert_close(
                &predict(&out, &data, dir.path()),
                &probs(&json, arch, "torch"),
                s(&out),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bad files: one clear error naming the file and the problem, no panic, no output.

/// `import BAD --out o.safetensors` and `predict --model BAD` both fail cleanly; returns stderr.
fn refused(bad: &Path, dir: &Path) -> String {
    let out = dir.join("o.safetensors");
    let o = fusedrnn(&["import", s(bad), "--out", s(&out)]);
    let err = stderr(&o);
    assert!(!o.status.success(), "{}: import succeeded", bad.display());
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.starts_with(&format!("fusedrnn: error: {}: ", bad.display())),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!out.exists(), "{}: wrote {}", bad.display(), out.display());
    let data = token_file(dir);
    let p = dir.join("p.npy");
    let o = fusedrnn(&[
        "predict",
        "--model",
        s(bad),
        "--data",
        s(&data),
        "--out",
        s(&p),
    ]);
    assert!(!o.status.success() && !p.exists());
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    err
}

#[test]
fn bad_keras_files_fail_cleanly_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    for (file, needle) in [
        (
            "bad-hard-sigmoid.keras",
            "layer `lstm` (LSTM): recurrent_activation \"hard_sigmoid\"",
        ),
        ("bad-stacked.h5", "stacked recurrent layers"),
        (
            "bad-bidirectional.keras",
            "layer `bidirectional` (Bidirectional)",
        ),
    ] {
        let err = refused(&fixture(file), dir.path());
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    // A GRU is no longer refused by `import` (issue 14): it imports into the general format.
    let out = dir.path().join("gru.safetensors");
    let o = fusedrnn(&["import", s(&fixture("bad-gru.h5")), "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("GRU(8)"), "{}", stderr(&o));
    let spec = fusedrnn::net::open(&out).unwrap().spec;
    assert_eq!((spec.units, spec.vocab, spec.seq_len), (8, 20, 100));
    // Truncated and corrupted copies of real files.
    for file in ["lstm.h5", "lstm.keras", "rnn.tf2.h5"] {
        let data = std::fs::read(fixture(file)).unwrap();
        let name = file.replace('.', "-");
        let cuts = [0, 7, 100, 1500, data.len() / 3];
        for cut in cuts {
            let bad = dir.path().join(format!("{name}-cut{cut}.{}", ext(file)));
            std::fs::write(&bad, &data[..cut]).unwrap();
            refused(&bad, dir.path());
        }
        // Garble the HDF5 superblock (in a .keras, that of the stored model.weights.h5).
        let hdf5 = data.windows(4).position(|w| w == b"\x89HDF").unwrap();
        let mut flipped = data.clone();
        for b in &mut flipped[hdf5 + 8..hdf5 + 64] {
            *b ^= 0xA5;
        }
        let bad = dir.path().join(format!("{name}-flipped.{}", ext(file)));
        std::fs::write(&bad, &flipped).unwrap();
        refused(&bad, dir.path());
    }
}

fn ext(file: &str) -> &str {
    file.rsplit('.').next().unwrap()
}

/// A copy of the `lstm.keras` fixture, `dir/{name}.keras`, whose input layer declares
/// `"batch_shape": {shape}` instead of `[null, 100]`.
fn keras_with_batch_shape(dir: &Path, name: &str, shape: &str) -> PathBuf {
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(fixture("lstm.keras")).unwrap()).unwrap();
    let path = dir.join(format!("{name}.keras"));
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let entry = f.name().unwrap().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).unwrap();
        if entry == "config.json" {
            let text = String::from_utf8(data).unwrap();
            let edited = text.replace(
                "\"batch_shape\": [null, 100]",
                &format!("\"batch_shape\": {shape}"),
            );
            assert_ne!(edited, text);
            data = edited.into_bytes();
        }
        w.start_file(entry.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(&data).unwrap();
    }
    w.finish().unwrap();
    path
}

/// A declared input shape that is not sizes and nulls is refused naming it, not read as no
/// length at all (which `import --seq-len` or a token file's length would then fill in).
#[test]
fn a_corrupt_batch_shape_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    for (i, shape) in ["[null, -5]", "[null, \"x\"]", "[null, 1.5]", "\"100\""]
        .into_iter()
        .enumerate()
    {
        let bad = keras_with_batch_shape(dir.path(), &format!("shape{i}"), shape);
        let err = refused(&bad, dir.path());
        assert!(err.contains("`batch_shape` is"), "{shape}: {err}");
        let out = dir.path().join("o.safetensors");
        let o = fusedrnn(&["import", s(&bad), "--out", s(&out), "--seq-len", "30"]);
        assert!(
            !o.status.success() && !out.exists(),
            "{shape}: {}",
            stderr(&o)
        );
    }
}

/// A notebook-shaped Keras model of another input length is a general model (issue 14): it
/// imports into the general format with its length, and a token file of another length is refused
/// by `predict`, naming both lengths.
#[test]
fn keras_input_length_other_than_100_imports_as_a_general_model() {
    let dir = tempfile::tempdir().unwrap();
    let bad = keras_with_batch_shape(dir.path(), "len50", "[null, 50]");
    let out = dir.path().join("len50.safetensors");
    let o = fusedrnn(&["import", s(&bad), "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("length 50"), "{}", stderr(&o));
    let general = fusedrnn::net::open(&out).unwrap();
    assert_eq!(general.spec.seq_len, 50);
    assert_eq!(general.to_notebook(), None, "not the notebook's length");
    let data = token_file(dir.path());
    let p = dir.path().join("p.npy");
    let o = fusedrnn(&[
        "predict",
        "--model",
        s(&out),
        "--data",
        s(&data),
        "--out",
        s(&p),
    ]);
    assert!(!o.status.success() && !p.exists());
    let err = stderr(&o);
    assert!(err.contains("50") && err.contains("100"), "{err}");
}
