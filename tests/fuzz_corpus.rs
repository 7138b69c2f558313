//! Replays the cargo-fuzz seed corpora of the library's parsers (token file, weights, word index)
//! and of the CLI's Keras import as ordinary tests: each input gets an answer or an error, never a
//! panic.

use std::path::Path;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn tok_corpus() {
    let mut ok = 0;
    for (_, bytes) in corpus("tok") {
        if let Ok(tok) = fusedrnn::tokfile::TokFile::from_bytes(&bytes) {
            ok += 1;
            for split in tok.splits() {
                let _ = split.stats();
            }
        }
    }
    assert!(ok >= 2);
}

#[test]
fn safetensors_corpus() {
    let mut ok = 0;
    for (_, bytes) in corpus("safetensors") {
        ok += usize::from(fusedrnn::model::Model::from_bytes(&bytes, "corpus.safetensors").is_ok());
    }
    assert!(ok >= 3);
}

/// The `hdf5` target's path: `fusedrnn-keras` then the library's checked constructor, as
/// `fusedrnn import` and `--model m.h5` run it.
#[test]
fn hdf5_corpus() {
    let mut ok = 0;
    for (name, bytes) in corpus("hdf5") {
        if let Ok(k) = fusedrnn_keras::from_bytes(&bytes, &name) {
            let arch = fusedrnn::model::Arch::from_name(k.arch.name()).unwrap();
            let tensors = k
                .tensors
                .iter()
                .map(|t| (t.name, t.shape.as_slice(), t.values.as_slice()));
            ok += usize::from(
                fusedrnn::model::Model::from_keras_tensors(arch, tensors, &name).is_ok(),
            );
        }
    }
    assert!(ok >= 2);
}

/// The `word_index` target's path: the streamed word index parser, then tokenizing with it.
#[test]
fn word_index_corpus() {
    let mut ok = 0;
    for (name, bytes) in corpus("word_index") {
        for num_words in [Some(500), None] {
            let config = fusedrnn::text::TokenizerConfig {
                num_words,
                ..Default::default()
            };
            if let Ok(t) = fusedrnn::text::Tokenizer::from_reader(&bytes[..], config) {
                ok += 1;
                let mut ids = Vec::new();
                t.tokenize_wide_into(&String::from_utf8_lossy(&bytes), &mut ids);
                assert!(ids.iter().all(|&id| id <= t.max_id()), "{name}");
            }
        }
    }
    assert!(ok >= 6, "{ok}");
}
