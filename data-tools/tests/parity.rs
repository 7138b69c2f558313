//! imdb-pack against the real thing: every fixture's expected arrays were produced by Keras
//! 3's `imdb.load_data`, sklearn's `train_test_split` and `keras.utils.pad_sequences`
//! (`data-tools/scripts/gen_pack_fixtures.py`), and our output must equal them exactly.

use std::path::{Path, PathBuf};

use fusedrnn::tokfile::{Side, TokFile, TokenWidth};
use fusedrnn_data_tools::keras::{split_sizes, train_test_split};
use fusedrnn_data_tools::numpy_random::RandomState;
use fusedrnn_data_tools::{ImdbArrays, PackParams, pack};
use serde_json::Value;

mod common;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load_json(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn opt_u32(v: &Value) -> Option<u32> {
    v.as_u64().map(|v| v as u32)
}

/// The fixture's Keras / sklearn arguments as a pack request (`num_words` None is 0, as Keras'
/// `if not num_words` reads it).
fn config(params: &Value) -> PackParams {
    let side = |v: &Value| v.as_str().unwrap().parse::<Side>().unwrap();
    PackParams {
        num_words: opt_u32(&params["num_words"]).unwrap_or(0),
        seq_len: params["maxlen"].as_u64().unwrap() as u32,
        seed: params["seed"].as_u64().unwrap(),
        val_split: params["val_split"].as_f64().unwrap(),
        split_seed: params["split_seed"].as_u64().unwrap(),
        skip_top: params["skip_top"].as_u64().unwrap() as u32,
        start_char: opt_u32(&params["start_char"]),
        oov_char: opt_u32(&params["oov_char"]),
        index_from: params["index_from"].as_u64().unwrap() as u32,
        padding: side(&params["padding"]),
        truncating: side(&params["truncating"]),
    }
}

fn ints<T: TryFrom<u64>>(v: &Value) -> Vec<T>
where
    T::Error: std::fmt::Debug,
{
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| T::try_from(x.as_u64().unwrap()).unwrap())
        .collect()
}

/// Packs `npz` with the case's parameters, writes and reopens the token file, and compares
/// every split with Keras' arrays.
fn check_case(npz: &str, expected: &Value) {
    let cfg = config(&expected["params"]);
    let arrays = ImdbArrays::read(&fixtures().join(npz)).unwrap();
    let packed = pack(&arrays, &cfg).unwrap();
    assert_eq!(
        u64::from(packed.params.num_words),
        expected["effective_num_words"].as_u64().unwrap(),
        "{npz}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.tok");
    packed.write(&path).unwrap();
    let tok = TokFile::open(&path).unwrap();
    assert_eq!(tok.params(), &packed.params);
    // u16 ids (version 1) exactly when Keras' vocabulary fits them.
    let want_width = if packed.params.num_words <= 65536 {
        TokenWidth::U16
    } else {
        TokenWidth::U32
    };
    assert_eq!(tok.token_width(), want_width, "{npz}");
    for split in tok.splits() {
        let want = &expected["splits"][split.name.as_str()];
        let want_tokens: Vec<u32> = want["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(ints::<u32>)
            .collect();
        assert_eq!(
            split.len(),
            want["labels"].as_array().unwrap().len(),
            "{npz} {}",
            split.name
        );
        assert_eq!(split.tokens.width(), want_width);
        assert_eq!(
            split.tokens.iter().collect::<Vec<u32>>(),
            want_tokens,
            "{npz} {} tokens",
            split.name
        );
        assert_eq!(
            split.labels,
            &ints::<u8>(&want["labels"])[..],
            "{npz} {} labels",
            split.name
        );
        assert_eq!(
            split.lengths,
            &ints::<u32>(&want["lengths"])[..],
            "{npz} {} lengths",
            split.name
        );
    }
}

#[test]
fn every_flag_set_matches_keras_and_sklearn() {
    let manifest = load_json("fixtures.json");
    let cases = manifest["cases"].as_object().unwrap();
    assert!(cases.len() >= 7);
    let mut wide = 0;
    for (name, file) in cases {
        let expected = load_json(file.as_str().unwrap());
        eprintln!("case {name}");
        // Vocabularies beyond u16 (Keras keeps ids up to 100003 with num_words=None here) are
        // packed with u32 ids, as Keras gives them.
        wide += usize::from(expected["effective_num_words"].as_u64().unwrap() > 65536);
        check_case(expected["npz"].as_str().unwrap(), &expected);
    }
    assert!(wide >= 1, "no case beyond u16 ids");
    // num_words=None where the largest id fits.
    let many = &manifest["extra_sets"]["many_short"];
    let expected = load_json(many["cases"]["all_words"].as_str().unwrap());
    assert!(expected["params"]["num_words"].is_null());
    check_case(expected["npz"].as_str().unwrap(), &expected);
}

#[test]
fn every_container_variant_gives_the_same_arrays() {
    // Pickle protocols 2-5, stored and deflated members, npy versions 1-3, int32/uint8
    // labels, numpy's own savez and the pure-Python pickler: all must decode identically.
    let manifest = load_json("fixtures.json");
    let expected = load_json("expected_defaults.json");
    let reference = ImdbArrays::read(&fixtures().join(expected["npz"].as_str().unwrap())).unwrap();
    for variant in manifest["variants"].as_array().unwrap() {
        let variant = variant.as_str().unwrap();
        let arrays = ImdbArrays::read(&fixtures().join(variant)).unwrap();
        assert_eq!(arrays, reference, "{variant}");
        check_case(variant, &expected);
    }
    let many = &manifest["extra_sets"]["many_short"];
    let expected = load_json(many["cases"]["defaults"].as_str().unwrap());
    for variant in many["variants"].as_array().unwrap() {
        check_case(variant.as_str().unwrap(), &expected);
    }
}

/// Version-1 files written before version 2 existed (the fuzz seeds, committed by an earlier
/// `imdb-pack` through `fuzz/seed_corpus.py`) still open, as u16 files, and packing the same
/// input with the same flags today writes them byte for byte: small vocabularies are unchanged.
#[test]
fn old_version_1_files_open_and_are_still_written_byte_for_byte() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/tok");
    let arrays = ImdbArrays::read(&fixtures().join("many_short_p3_stored.npz")).unwrap();
    for (name, seq_len, val_split, padding) in [
        ("many_short_ml8.tok", 8, 0.2, Side::Pre),
        ("many_short_nosplit_post.tok", 5, 0.0, Side::Post),
    ] {
        let old = std::fs::read(corpus.join(name)).unwrap();
        assert_eq!(
            &old[8..12],
            &1u32.to_le_bytes(),
            "{name}: version 1 on disk"
        );
        let tok = TokFile::from_bytes(&old).unwrap();
        assert_eq!((tok.version(), tok.token_width()), (1, TokenWidth::U16));
        assert!(tok.splits().all(|s| s.tokens.as_u16().is_some()));
        let packed = pack(
            &arrays,
            &PackParams {
                seq_len,
                val_split,
                padding,
                ..PackParams::NOTEBOOK
            },
        )
        .unwrap();
        let [a, b, c] = &packed.splits;
        let mut now = Vec::new();
        fusedrnn::tokfile::encode(
            &mut now,
            &packed.params,
            [a.as_data(), b.as_data(), c.as_data()],
        )
        .unwrap();
        assert!(
            now == old,
            "{name}: today's imdb-pack writes different bytes"
        );
    }
}

#[test]
fn mt19937_matches_numpy() {
    let golden = load_json("mt19937.json");
    for case in golden["raw_uint32"].as_array().unwrap() {
        let mut rs = RandomState::new(case["seed"].as_u64().unwrap() as u32);
        let got: Vec<u64> = (0..10).map(|_| u64::from(rs.next_u32())).collect();
        assert_eq!(
            got,
            ints::<u64>(&case["randint_u32_first10"]),
            "seed {}",
            case["seed"]
        );
    }
}

#[test]
fn shuffles_match_numpy_permutations() {
    let golden = load_json("mt19937.json");
    for case in golden["permutations"].as_array().unwrap() {
        let seed = case["seed"].as_u64().unwrap() as u32;
        let n = case["n"].as_u64().unwrap() as usize;
        let got = RandomState::new(seed).permutation(n);
        assert_eq!(
            got,
            ints::<usize>(&case["permutation"]),
            "seed {seed} n {n}"
        );
    }
    for case in golden["sequential_shuffles"].as_array().unwrap() {
        let mut rs = RandomState::new(case["seed"].as_u64().unwrap() as u32);
        let perms: Vec<Vec<usize>> = ints::<usize>(&case["sizes"])
            .into_iter()
            .map(|n| rs.permutation(n))
            .collect();
        if let Some(want) = case.get("permutations") {
            let want: Vec<Vec<usize>> =
                want.as_array().unwrap().iter().map(ints::<usize>).collect();
            assert_eq!(perms, want);
        } else {
            for (i, p) in perms.iter().enumerate() {
                assert_eq!(p[..20], ints::<usize>(&case["permutations_first20"][i])[..]);
                assert_eq!(
                    p[p.len() - 20..],
                    ints::<usize>(&case["permutations_last20"][i])[..]
                );
            }
        }
    }
}

#[test]
fn train_test_split_matches_sklearn() {
    let golden = load_json("mt19937.json");
    for case in golden["train_test_split_sizes"].as_array().unwrap() {
        let n = case["n"].as_u64().unwrap() as usize;
        let test_size = case["test_size"].as_f64().unwrap();
        if case.get("error").is_some_and(|e| !e.is_null()) {
            assert!(split_sizes(n, test_size).is_err(), "n {n}");
            continue;
        }
        let (n_train, n_test) = split_sizes(n, test_size).unwrap();
        assert_eq!(
            (n_train as u64, n_test as u64),
            (
                case["n_train"].as_u64().unwrap(),
                case["n_test"].as_u64().unwrap()
            )
        );
        if let Some(train) = case.get("train_indices") {
            let seed = case["random_state"].as_u64().unwrap() as u32;
            let (got_train, got_test) = train_test_split(n, test_size, seed).unwrap();
            assert_eq!(got_train, ints::<usize>(train));
            assert_eq!(got_test, ints::<usize>(&case["test_indices"]));
        }
    }
}

/// The shared IMDB data, when this checkout has it beside it: `imdb-pack` with the defaults
/// must give the sha256s real Keras + sklearn gave for that very file.
#[test]
fn shared_imdb_matches_keras_when_present() {
    let expected = load_json("shared_imdb_expected.json");
    let path = std::env::var_os("FUSEDRNN_IMDB_NPZ")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/imdb.npz")
        });
    let Ok(bytes) = std::fs::read(&path) else {
        common::skip_or_fail_in_ci(&format!(
            "no {} (the shared data set is not beside this checkout)",
            path.display()
        ));
        return;
    };
    let sha = sha256_hex(&bytes);
    if sha != expected["npz_sha256"].as_str().unwrap() {
        common::skip_or_fail_in_ci(&format!(
            "{} is not the file the expectations were recorded for",
            path.display()
        ));
        return;
    }
    let arrays = ImdbArrays::from_bytes(&bytes).unwrap();
    let packed = pack(&arrays, &PackParams::NOTEBOOK).unwrap();
    let [a, b, c] = &packed.splits;
    let mut file = Vec::new();
    fusedrnn::tokfile::encode(
        &mut file,
        &packed.params,
        [a.as_data(), b.as_data(), c.as_data()],
    )
    .unwrap();
    let tok = TokFile::from_bytes(&file).unwrap();
    for split in tok.splits() {
        let want = &expected["splits"][split.name.as_str()];
        let got = split.stats();
        assert_eq!(
            got.count as u64,
            want["count"].as_u64().unwrap(),
            "{}",
            split.name
        );
        assert_eq!(
            got.positives as u64,
            want["positives"].as_u64().unwrap(),
            "{}",
            split.name
        );
        assert_eq!(
            got.tokens_sha256,
            want["tokens_sha256"].as_str().unwrap(),
            "{}",
            split.name
        );
        assert_eq!(
            got.labels_sha256,
            want["labels_sha256"].as_str().unwrap(),
            "{}",
            split.name
        );
        let lengths: Vec<u8> = split.lengths.iter().flat_map(|l| l.to_le_bytes()).collect();
        assert_eq!(
            sha256_hex(&lengths),
            want["lengths_sha256"].as_str().unwrap(),
            "{}",
            split.name
        );
        assert_eq!(
            got.mean_length,
            want["mean_length"].as_f64().unwrap(),
            "{}",
            split.name
        );
        assert_eq!(
            got.median_length,
            want["median_length"].as_f64().unwrap(),
            "{}",
            split.name
        );
    }
}

/// `--num-words none`, `0` and `88587` on the shared data: ids beyond u16 (Keras' None keeps
/// 81,120 - 1 on this file), packed as version-2 files whose u32 ids hash to what real Keras
/// gave (`wide_vocab` in the expectations, tokens as `'<u4'`).
#[test]
fn shared_imdb_wide_vocabularies_match_keras_when_present() {
    let expected = load_json("shared_imdb_expected.json");
    let path = std::env::var_os("FUSEDRNN_IMDB_NPZ")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/imdb.npz")
        });
    let Ok(bytes) = std::fs::read(&path) else {
        common::skip_or_fail_in_ci(&format!(
            "no {} (the shared data set is not beside this checkout)",
            path.display()
        ));
        return;
    };
    if sha256_hex(&bytes) != expected["npz_sha256"].as_str().unwrap() {
        common::skip_or_fail_in_ci(&format!(
            "{} is not the file the expectations were recorded for",
            path.display()
        ));
        return;
    }
    let arrays = ImdbArrays::from_bytes(&bytes).unwrap();
    let cases = expected["wide_vocab"].as_object().unwrap();
    assert_eq!(cases.len(), 3);
    for (label, want) in cases {
        let request = PackParams {
            num_words: opt_u32(&want["params"]["num_words"]).unwrap_or(0),
            ..PackParams::NOTEBOOK
        };
        let packed = pack(&arrays, &request).unwrap();
        assert_eq!(
            u64::from(packed.params.num_words),
            want["effective_num_words"].as_u64().unwrap(),
            "{label}"
        );
        let [a, b, c] = &packed.splits;
        let mut file = Vec::new();
        fusedrnn::tokfile::encode(
            &mut file,
            &packed.params,
            [a.as_data(), b.as_data(), c.as_data()],
        )
        .unwrap();
        let tok = TokFile::from_bytes(&file).unwrap();
        assert_eq!(tok.version(), 2, "{label}");
        let max = tok.splits().flat_map(|s| s.tokens.iter()).max().unwrap();
        assert_eq!(u64::from(max), want["max_id"].as_u64().unwrap(), "{label}");
        for split in tok.splits() {
            let w = &want["splits"][split.name.as_str()];
            let got = split.stats();
            assert_eq!(got.count as u64, w["count"].as_u64().unwrap());
            assert_eq!(
                got.tokens_sha256,
                w["tokens_sha256"].as_str().unwrap(),
                "{label} {}",
                split.name
            );
            assert_eq!(got.labels_sha256, w["labels_sha256"].as_str().unwrap());
            let lengths: Vec<u8> = split.lengths.iter().flat_map(|l| l.to_le_bytes()).collect();
            assert_eq!(sha256_hex(&lengths), w["lengths_sha256"].as_str().unwrap());
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
