//! Replays the cargo-fuzz seed corpora (and any crash inputs added to them) through the
//! parsers as ordinary tests: each must return, with an answer or an error, never panic.

use std::path::Path;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
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
fn npz_corpus() {
    let mut ok = 0;
    for (_, bytes) in corpus("npz") {
        ok += usize::from(fusedrnn_data_tools::ImdbArrays::from_bytes(&bytes).is_ok());
    }
    assert!(ok >= 2, "the good archives in the corpus must still parse");
    // Found by cargo fuzz: a member claiming 4 GiB of compressed data in a 5 KB archive once
    // sized an allocation; now the claim is checked against the archive first.
    let oom = corpus("npz")
        .into_iter()
        .find(|(n, _)| n.contains("oom-dd58692c"))
        .expect("the OOM input");
    let err = fusedrnn_data_tools::ImdbArrays::from_bytes(&oom.1).unwrap_err();
    assert!(
        err.contains("claims 4294963716 compressed bytes, but the archive has 5141"),
        "{err}"
    );
}

#[test]
fn npy_header_corpus() {
    for (name, bytes) in corpus("npy_header") {
        let header = fusedrnn_data_tools::npy::parse_header(&bytes);
        // Seeds (`*.npy`) are numpy's own headers; `crash-*` files are inputs that once
        // panicked; the files named by a hash are what 10-minute fuzz runs reached (merged
        // with `-merge=1`), most of them invalid.
        let is_seed = name.ends_with(".npy");
        assert!(header.is_ok() || !is_seed, "{name}: {header:?}");
        let _ = fusedrnn_data_tools::npy::read_int_vector(&bytes);
    }
}

#[test]
fn pickle_corpus() {
    let mut ok = 0;
    for (_, bytes) in corpus("pickle") {
        ok += usize::from(fusedrnn_data_tools::pickle::decode_object_array(&bytes).is_ok());
    }
    assert!(
        ok >= 4,
        "the numpy-written pickles in the corpus must still decode"
    );
}
