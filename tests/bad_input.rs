//! The bad-input matrix of the `fusedrnn` command line: broken token files and weights, and
//! flags out of range, each run through every subcommand that reads it. For every case:
//! a non-zero exit (1 for a bad file, 2 for a bad flag), one `error` line on stderr naming the
//! file and the problem, no "panicked" anywhere, the run stays inside a 2 GiB address space
//! (hostile lengths cannot size an allocation), and no output file is created or changed.
//!
//! The npz / npy / pickle inputs of `imdb-pack` have their own matrix in
//! `data-tools/tests/bad_input.rs`; the library-level checks behind these messages are in
//! `tests/tokfile.rs` and `tests/model.rs`.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::fixture;
use common::tok_layout::{ENTRY_BYTES, SECTIONS, TABLE_AT, entry, fix_header_crc, fix_section_crc};
use fusedrnn::tokfile::{PackParams, SplitData};

/// Address-space limit for every run, in KiB.
const VMEM_KIB: u64 = 2 << 20;

/// The test split's token section: splits train, val, test × tokens, labels, lengths.
const TEST_TOKENS: usize = 6;
const TEST_LABELS: usize = 7;

/// Runs `fusedrnn args` under the address-space limit.
fn run(args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {VMEM_KIB} && exec \"$0\" \"$@\""))
        .args(common::target_argv(env!("CARGO_BIN_EXE_fusedrnn")))
        .args(args)
        .output()
        .expect("run fusedrnn")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every file under `dir`, with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = fs::read(&p).unwrap();
                out.push((p, bytes));
            }
        }
    }
    out.sort();
    out
}

/// Runs a case that must be refused and checks everything the module docs promise.
/// `named` must appear in the message (a file path or a flag), and so must each of `needles`.
/// `watch` is the folder the outputs would go to: nothing in it may change.
#[track_caller]
fn refused(case: &str, args: &[&str], code: i32, named: &str, needles: &[&str], watch: &Path) {
    let before = snapshot(watch);
    let o = run(args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let ctx = format!("case {case:?}: fusedrnn {args:?}\nstdout: {stdout}\nstderr: {stderr}");
    assert_eq!(o.status.code(), Some(code), "{ctx}");
    assert!(
        !stderr.contains("panicked") && !stdout.contains("panicked"),
        "{ctx}"
    );
    assert!(!stderr.contains("memory allocation"), "{ctx}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(lines.len(), 1, "one error line; {ctx}");
    if std::env::var_os("SHOW_MESSAGES").is_some() {
        eprintln!("{case:>32} | {} | {}", args[0], lines[0]);
    }
    assert!(lines[0].contains(named), "names {named:?}; {ctx}");
    for n in needles {
        assert!(lines[0].contains(n), "says {n:?}; {ctx}");
    }
    assert_eq!(snapshot(watch), before, "outputs untouched; {ctx}");
}

/// A good token file: `rows` reviews per split over 500 words, 100 tokens each, with
/// all-padding rows (length 0) and rows longer than 100 words (truncated) among them.
fn tok_bytes(rows: [usize; 3]) -> Vec<u8> {
    let data: Vec<(Vec<u16>, Vec<u8>, Vec<u32>)> = rows
        .iter()
        .enumerate()
        .map(|(split, &n)| {
            let mut tokens = Vec::with_capacity(n * 100);
            let mut labels = Vec::with_capacity(n);
            let mut lengths = Vec::with_capacity(n);
            for r in 0..n {
                let len: u32 = match r % 5 {
                    0 => 0,
                    1 => 100,
                    2 => 2_000_000,
                    _ => (r * 7 + split) as u32 % 100,
                };
                let kept = len.min(100) as usize;
                tokens.extend(std::iter::repeat_n(0u16, 100 - kept));
                tokens.extend((0..kept).map(|i| 1 + ((r * 31 + i * 17) % 499) as u16));
                labels.push((r % 2) as u8);
                lengths.push(len);
            }
            (tokens, labels, lengths)
        })
        .collect();
    let split = |i: usize| SplitData {
        tokens: &data[i].0,
        labels: &data[i].1,
        lengths: &data[i].2,
    };
    let mut out = Vec::new();
    fusedrnn::tokfile::encode(
        &mut out,
        &PackParams::NOTEBOOK,
        [split(0), split(1), split(2)],
    )
    .unwrap();
    out
}

/// The broken token files: (case, bytes, what the message must say).
fn broken_tok_files() -> Vec<(String, Vec<u8>, &'static str)> {
    let good = tok_bytes([40, 10, 30]);
    let mut cases: Vec<(String, Vec<u8>, &'static str)> = Vec::new();
    // Truncation at every section boundary, inside the header and table, and a few bytes short.
    let mut cuts = vec![0, 7, 64, TABLE_AT - 1, TABLE_AT, TABLE_AT + 5 * ENTRY_BYTES];
    for i in 0..SECTIONS {
        let (offset, len) = entry(&good, i);
        cuts.extend([offset, offset + len / 2, offset + len]);
    }
    cuts.extend([good.len() - 3, good.len() - 1]);
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts.into_iter().filter(|&c| c < good.len()) {
        cases.push((format!("truncated at {cut}"), good[..cut].to_vec(), ""));
    }
    cases.push((
        "3 bytes too many".into(),
        [&good[..], b"\0\0\0"].concat(),
        "",
    ));
    // Single bit flips in the header and the table, checksums left as they are.
    for (at, what) in [
        (0, "magic"),
        (8, "version"),
        (20, "num_words"),
        (24, "seq_len"),
        (72, "file_bytes"),
        (TABLE_AT + 4, "rows of the first section"),
        (TABLE_AT + 8, "offset of the first section"),
        (
            TABLE_AT + TEST_TOKENS * ENTRY_BYTES + 16,
            "length of a section",
        ),
    ] {
        let mut b = good.clone();
        b[at] ^= 0x04;
        cases.push((format!("bit flip in {what}"), b, ""));
    }
    // Counts and lengths near u32 / u64 overflow, with consistent checksums so that the
    // range checks, not the checksum, must catch them.
    for (field_at, value, what) in [
        (4, u64::from(u32::MAX), "rows = u32::MAX"),
        (4, u64::from(u32::MAX - 29), "rows = u32::MAX - 29"),
        (16, u64::MAX - 63, "length near u64::MAX"),
        (8, u64::MAX - 63, "offset near u64::MAX"),
    ] {
        let mut b = good.clone();
        let at = TABLE_AT + TEST_TOKENS * ENTRY_BYTES + field_at;
        if field_at == 4 {
            b[at..at + 4].copy_from_slice(&(value as u32).to_le_bytes());
        } else {
            b[at..at + 8].copy_from_slice(&value.to_le_bytes());
        }
        fix_header_crc(&mut b);
        cases.push((what.into(), b, ""));
    }
    {
        let mut b = good.clone();
        b[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        fix_header_crc(&mut b);
        cases.push(("num_words = u32::MAX".into(), b, "num_words"));
    }
    {
        let mut b = good.clone();
        b[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        fix_header_crc(&mut b);
        cases.push(("seq_len = u32::MAX".into(), b, "seq_len"));
    }
    // A token id ≥ num_words and a label of 2, behind valid checksums.
    {
        let mut b = good.clone();
        let (offset, _) = entry(&b, TEST_TOKENS);
        b[offset + 198..offset + 200].copy_from_slice(&500u16.to_le_bytes());
        fix_section_crc(&mut b, TEST_TOKENS);
        cases.push(("token id 500 of 500 words".into(), b, "500"));
    }
    {
        let mut b = good.clone();
        let (offset, _) = entry(&b, TEST_LABELS);
        b[offset + 3] = 2;
        fix_section_crc(&mut b, TEST_LABELS);
        cases.push(("label 2".into(), b, "label"));
    }
    cases.push(("not a token file".into(), b"hello\n".to_vec(), ""));
    cases.push(("empty file".into(), Vec::new(), ""));
    cases
}

#[test]
fn broken_token_files_are_refused_by_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    // A good run's outputs stand in the output folder; a refused run must keep them.
    fs::write(out.join("p.npy"), b"a good earlier result").unwrap();
    let run_dir = out.join("run");
    fs::create_dir(&run_dir).unwrap();
    fs::write(run_dir.join("best.safetensors"), b"good checkpoint").unwrap();
    fs::write(run_dir.join("history.csv"), b"good history").unwrap();
    let model = fixture("lstm.safetensors");
    let cases = broken_tok_files();
    assert!(cases.len() > 40, "{}", cases.len());
    for (case, bytes, needle) in &cases {
        let tok = dir.path().join("bad.tok");
        fs::write(&tok, bytes).unwrap();
        let needles: Vec<&str> = [*needle].into_iter().filter(|n| !n.is_empty()).collect();
        let (m, t, p) = (s(&model), s(&tok), out.join("p.npy"));
        for args in [
            vec!["data", "info", t],
            vec!["data", "hist", t, "--out", s(&out.join("h.png"))],
            vec!["eval", "--model", m, "--data", t],
            vec!["predict", "--model", m, "--data", t, "--out", s(&p)],
            vec!["bench", "--model", m, "--data", t],
            vec!["train", "--data", t, "--arch", "lstm", "--epochs", "1"],
        ] {
            let mut args = args;
            if args[0] == "train" {
                args.extend(["--out", s(&run_dir)]);
            }
            refused(case, &args, 1, t, &needles, &out);
        }
    }
}

/// The tensors of a safetensors file: name → (dtype, shape, data offsets).
fn tensor_table(bytes: &[u8]) -> (usize, serde_json::Map<String, serde_json::Value>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (8 + n, header.as_object().unwrap().clone())
}

/// Rewrites the JSON header (keeping the data) and fixes the length prefix.
fn with_header(
    bytes: &[u8],
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> Vec<u8> {
    let (data_at, mut header) = tensor_table(bytes);
    edit(&mut header);
    let mut json = serde_json::to_vec(&header).unwrap();
    while json.len() % 8 != 0 {
        json.push(b' ');
    }
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend(json);
    out.extend(&bytes[data_at..]);
    out
}

/// The file without tensor `name`: its entry and its bytes removed, the others' offsets moved.
fn without(bytes: &[u8], name: &str) -> Vec<u8> {
    let (data_at, mut header) = tensor_table(bytes);
    header.remove(name);
    let mut entries: Vec<(String, u64, u64)> = header
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(k, v)| {
            let o = &v["data_offsets"];
            (k.clone(), o[0].as_u64().unwrap(), o[1].as_u64().unwrap())
        })
        .collect();
    entries.sort_by_key(|e| e.1);
    let mut data = Vec::new();
    for (k, start, end) in entries {
        let at = data.len() as u64;
        data.extend(&bytes[data_at + start as usize..data_at + end as usize]);
        header[&k]["data_offsets"] = serde_json::json!([at, data.len()]);
    }
    let fixed = with_header(&bytes[..data_at], |h| *h = header);
    [fixed, data].concat()
}

/// Overwrites element `index` of tensor `name` with `value`.
fn set_value(bytes: &[u8], name: &str, index: usize, value: f32) -> Vec<u8> {
    let (data_at, header) = tensor_table(bytes);
    let start = header[name]["data_offsets"][0].as_u64().unwrap() as usize;
    let mut out = bytes.to_vec();
    let at = data_at + start + 4 * index;
    out[at..at + 4].copy_from_slice(&value.to_le_bytes());
    out
}

fn broken_models() -> Vec<(String, Vec<u8>, &'static str)> {
    let good = fs::read(fixture("lstm.safetensors")).unwrap();
    let (data_at, _) = tensor_table(&good);
    let mut cases: Vec<(String, Vec<u8>, &'static str)> = Vec::new();
    for cut in [
        0,
        4,
        8,
        9,
        data_at / 2,
        data_at,
        data_at + 4000,
        good.len() - 3,
    ] {
        cases.push((format!("truncated at {cut}"), good[..cut].to_vec(), ""));
    }
    for (len, what) in [
        (u64::MAX, "header length u64::MAX"),
        (u64::MAX - 7, "header length u64::MAX - 7"),
        (u64::from(u32::MAX), "header length u32::MAX"),
        (good.len() as u64, "header length past the end"),
    ] {
        let mut b = good.clone();
        b[..8].copy_from_slice(&len.to_le_bytes());
        cases.push((what.into(), b, ""));
    }
    for at in [8, 9, 20, data_at - 2] {
        let mut b = good.clone();
        b[at] ^= 0x10;
        cases.push((format!("bit flip in the header at {at}"), b, ""));
    }
    cases.push((
        "NaN weight".into(),
        set_value(&good, "lstm.kernel", 17, f32::NAN),
        "lstm.kernel",
    ));
    cases.push((
        "+Inf bias".into(),
        set_value(&good, "dense.bias", 0, f32::INFINITY),
        "dense.bias",
    ));
    cases.push((
        "-Inf embedding".into(),
        set_value(&good, "embedding.embeddings", 7999, f32::NEG_INFINITY),
        "embedding.embeddings",
    ));
    cases.push((
        "wrong shape".into(),
        with_header(&good, |h| {
            h["dense.kernel"]["shape"] = serde_json::json!([1, 8])
        }),
        "dense.kernel",
    ));
    cases.push((
        "wrong dtype".into(),
        with_header(&good, |h| {
            h["dense.kernel"]["dtype"] = serde_json::json!("F16")
        }),
        "dense.kernel",
    ));
    cases.push((
        "data offsets past the end".into(),
        with_header(&good, |h| {
            h["dense.bias"]["data_offsets"] = serde_json::json!([u64::MAX - 3, u64::MAX])
        }),
        "",
    ));
    cases.push((
        "a missing tensor".into(),
        without(&good, "lstm.bias"),
        "lstm.bias",
    ));
    cases.push(("an empty file".into(), Vec::new(), ""));
    cases
}

#[test]
fn broken_weights_are_refused_by_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("good.tok");
    fs::write(&tok, tok_bytes([40, 10, 30])).unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("p.npy"), b"a good earlier result").unwrap();
    let words = dir.path().join("words.json");
    fs::write(&words, br#"{"the": 1, "and": 2, "a": 3}"#).unwrap();
    for (case, bytes, needle) in broken_models() {
        let model = dir.path().join("bad.safetensors");
        fs::write(&model, &bytes).unwrap();
        let needles: Vec<&str> = [needle].into_iter().filter(|n| !n.is_empty()).collect();
        let (m, t, w) = (s(&model), s(&tok), s(&words));
        let p = out.join("p.npy");
        for args in [
            vec!["summary", "--model", m],
            vec!["eval", "--model", m, "--data", t],
            vec!["predict", "--model", m, "--data", t, "--out", s(&p)],
            vec![
                "predict",
                "--model",
                m,
                "--word-index",
                w,
                "--text",
                "the film",
            ],
            vec!["bench", "--model", m, "--data", t],
        ] {
            refused(&case, &args, 1, m, &needles, &out);
        }
    }
}

#[test]
fn empty_splits_are_refused_where_there_is_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let model = fixture("rnn.safetensors");
    let m = s(&model);
    for (rows, empty) in [
        ([0, 10, 30], "train"),
        ([40, 0, 30], "val"),
        ([40, 10, 0], "test"),
    ] {
        let tok = dir.path().join(format!("no-{empty}.tok"));
        fs::write(&tok, tok_bytes(rows)).unwrap();
        let t = s(&tok);
        let case = format!("empty {empty} split");
        let run_dir = out.join("run");
        if empty == "test" {
            refused(
                &case,
                &["eval", "--model", m, "--data", t],
                1,
                t,
                &["empty"],
                &out,
            );
            refused(
                &case,
                &["bench", "--model", m, "--data", t],
                1,
                t,
                &["empty"],
                &out,
            );
            let hist = out.join("h.png");
            let args = ["data", "hist", t, "--split", "test", "--out", s(&hist)];
            refused(&case, &args, 1, t, &["empty"], &out);
        } else {
            let args = ["train", "--data", t, "--arch", "rnn", "--out", s(&run_dir)];
            refused(&case, &args, 1, t, &[empty, "empty"], &out);
        }
    }
}

#[test]
fn zero_length_and_over_long_reviews_are_scored() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("edge.tok");
    fs::write(&tok, tok_bytes([40, 10, 30])).unwrap();
    let model = fixture("lstm.safetensors");
    let p = dir.path().join("p.npy");
    let o = run(&[
        "predict",
        "--model",
        s(&model),
        "--data",
        s(&tok),
        "--out",
        s(&p),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = fs::read(&p).unwrap();
    let probs: Vec<f32> = bytes[128..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(probs.len(), 30);
    assert!(probs.iter().all(|p| p.is_finite() && *p > 0.0 && *p < 1.0));
    // Every all-padding row (length 0) scores the same: the state after 100 pads.
    let zero: Vec<f32> = probs.iter().step_by(5).copied().collect();
    assert!(zero.windows(2).all(|w| w[0] == w[1]), "{zero:?}");
    let o = run(&["data", "info", s(&tok), "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["splits"]["test"]["count"], 30);
}

#[test]
fn bad_flags_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("good.tok");
    fs::write(&tok, tok_bytes([40, 10, 30])).unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("p.npy"), b"a good earlier result").unwrap();
    let model = fixture("lstm.safetensors");
    let (m, t) = (s(&model), s(&tok));
    let p = out.join("p.npy");
    let run_dir = out.join("run");
    let train = |flag: &'static str, value: &'static str| -> Vec<String> {
        [
            "train",
            "--data",
            t,
            "--arch",
            "lstm",
            "--out",
            s(&run_dir),
            flag,
            value,
        ]
        .map(String::from)
        .to_vec()
    };
    let mut cases: Vec<(Vec<String>, &str)> = vec![
        (train("--epochs", "0"), "--epochs"),
        (train("--batch-size", "0"), "--batch-size"),
        (train("--threads", "0"), "--threads"),
        (train("--threads", "100000"), "--threads"),
        (train("--vocab", "0"), "--vocab"),
        (train("--lr", "0"), "--lr"),
        (train("--lr", "NaN"), "--lr"),
        (train("--lr", "inf"), "--lr"),
        (train("--dropout", "1"), "--dropout"),
        (train("--dropout", "-0.5"), "--dropout"),
        (train("--dropout", "nan"), "--dropout"),
        (train("--patience", "-1"), "--patience"),
        (train("--seed", "18446744073709551616"), "--seed"),
        (train("--epochs", "ten"), "--epochs"),
        (train("--arch", "gru"), "--arch"),
    ];
    for sub in ["eval", "bench"] {
        for (flag, value) in [
            ("--threads", "0"),
            ("--threads", "1025"),
            ("--split", "dev"),
        ] {
            cases.push((
                [sub, "--model", m, "--data", t, flag, value]
                    .map(String::from)
                    .to_vec(),
                flag,
            ));
        }
    }
    for (flag, value) in [("--threads", "0"), ("--split", "all"), ("--bogus", "1")] {
        let args = [
            "predict",
            "--model",
            m,
            "--data",
            t,
            "--out",
            s(&p),
            flag,
            value,
        ];
        cases.push((args.map(String::from).to_vec(), flag));
    }
    cases.push((vec!["frobnicate".into()], "frobnicate"));
    for (args, flag) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused("bad flag", &args, 2, flag, &[], &out);
    }
    assert!(!run_dir.exists());
}

#[test]
fn missing_and_unwritable_outputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("good.tok");
    fs::write(&tok, tok_bytes([40, 10, 30])).unwrap();
    let model = fixture("rnn.safetensors");
    let (m, t) = (s(&model), s(&tok));
    let file = dir.path().join("a-file");
    fs::write(&file, b"not a folder").unwrap();
    let watch = dir.path();
    // Root may write anywhere it has a file system: a path under a regular file, a folder that
    // does not exist and /proc refuse everyone.
    for target in [
        file.join("p.npy"),
        dir.path().join("missing").join("p.npy"),
        PathBuf::from("/proc/fusedrnn-test.npy"),
        dir.path().to_path_buf(),
    ] {
        let p = s(&target);
        let args = ["predict", "--model", m, "--data", t, "--out", p];
        refused("unwritable .npy", &args, 1, p, &[], watch);
        let args = ["data", "hist", t, "--out", p];
        refused("unwritable .png", &args, 1, p, &[], watch);
    }
    for run_dir in [
        file.join("run"),
        dir.path().join("missing").join("run"),
        PathBuf::from("/proc/fusedrnn-test-run"),
        file.clone(),
    ] {
        let r = s(&run_dir);
        let args = [
            "train", "--data", t, "--arch", "rnn", "--epochs", "1", "--out", r,
        ];
        refused("unwritable run folder", &args, 1, r, &[], watch);
    }
    let missing = dir.path().join("nothing-here.tok");
    let args = ["eval", "--model", m, "--data", s(&missing)];
    refused(
        "missing input",
        &args,
        1,
        s(&missing),
        &["No such file"],
        watch,
    );
    let missing = dir.path().join("nothing-here.safetensors");
    let args = ["eval", "--model", s(&missing), "--data", t];
    refused(
        "missing model",
        &args,
        1,
        s(&missing),
        &["No such file"],
        watch,
    );
}

/// Issue 13, item 1: flags that would size an allocation are refused by range (exit 2) before
/// anything is allocated or created; the run folder is never made.
#[test]
fn huge_train_flags_are_refused_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("good.tok");
    fs::write(&tok, tok_bytes([40, 10, 30])).unwrap();
    let run_dir = dir.path().join("run");
    for (flag, value) in [
        ("--epochs", "18446744073709551615"),
        ("--epochs", "1000000000"),
        ("--batch-size", "18446744073709551615"),
        ("--batch-size", "1000000000"),
        ("--vocab", "100000000"),
        ("--vocab", "18446744073709551616"),
    ] {
        let args = [
            "train",
            "--data",
            s(&tok),
            "--arch",
            "lstm",
            "--out",
            s(&run_dir),
            flag,
            value,
        ];
        refused("huge flag", &args, 2, flag, &[], dir.path());
        assert!(!run_dir.exists(), "{flag} {value} created the run folder");
    }
}

/// Issue 13, item 7: an output that is one of the inputs (however spelled: another path, a
/// symlink, a hard link) is refused, and the input is untouched.
#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("x.tok");
    fs::write(&tok, tok_bytes([40, 10, 30])).unwrap();
    let model = dir.path().join("m.safetensors");
    fs::copy(fixture("lstm.safetensors"), &model).unwrap();
    let keras = dir.path().join("k.h5");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keras_import/lstm.h5"),
        &keras,
    )
    .unwrap();
    let link = dir.path().join("link.tok");
    std::os::unix::fs::symlink(&tok, &link).unwrap();
    let hard = dir.path().join("hard.tok");
    fs::hard_link(&tok, &hard).unwrap();
    let other_spelling = dir.path().join(".").join("x.tok");
    let (t, m, k) = (s(&tok), s(&model), s(&keras));
    let cases: Vec<Vec<&str>> = vec![
        vec!["predict", "--model", m, "--data", t, "--out", t],
        vec!["predict", "--model", m, "--data", t, "--out", s(&link)],
        vec!["predict", "--model", m, "--data", t, "--out", s(&hard)],
        vec![
            "predict",
            "--model",
            m,
            "--data",
            t,
            "--out",
            s(&other_spelling),
        ],
        vec!["predict", "--model", m, "--data", t, "--out", m],
        vec!["data", "hist", t, "--out", t],
        vec!["data", "hist", t, "--out", s(&hard)],
        vec!["import", k, "--out", k],
        vec!["export", m, "--to", "torch", "--out", m],
    ];
    for args in &cases {
        refused(
            "out is an input",
            args,
            1,
            "--out",
            &["same file as", "refusing to replace an input"],
            dir.path(),
        );
    }
}

/// Issue 13, item 9: an --out or --data that names a folder says so, in the user's terms.
#[test]
fn folders_given_as_files_are_named_as_folders() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("x.tok");
    fs::write(&tok, tok_bytes([40, 10, 30])).unwrap();
    let model = fixture("lstm.safetensors");
    let (t, m) = (s(&tok), s(&model));
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    let slash = format!("{}/", s(&sub.join("p.npy")));
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["predict", "--model", m, "--data", t, "--out", &slash],
            "--out",
            "ends with '/'",
        ),
        (
            vec!["predict", "--model", m, "--data", t, "--out", "."],
            "--out",
            "is a folder",
        ),
        (
            vec!["predict", "--model", m, "--data", t, "--out", s(&sub)],
            "--out",
            "is a folder",
        ),
        (
            vec!["predict", "--model", m, "--data", t, "--out", "/dev/null"],
            "--out",
            "not a regular file",
        ),
        (
            vec!["data", "hist", t, "--out", "."],
            "--out",
            "is a folder",
        ),
        (
            vec!["eval", "--model", m, "--data", "."],
            ".",
            "a folder, not a token file",
        ),
        (
            vec!["data", "info", s(&sub)],
            s(&sub),
            "a folder, not a token file",
        ),
        (
            vec!["eval", "--model", m, "--data", "/dev/zero"],
            "/dev/zero",
            "a device, not a token file",
        ),
    ];
    for (args, named, says) in &cases {
        refused("folder as file", args, 1, named, &[says], dir.path());
    }
}

/// A shape within every limit whose training needs more memory than the process may map
/// (one-hot SimpleRNN(16) over 2^24 words: 2^28 input-kernel floats, six copies of them, 6 GiB
/// against the 2 GiB address-space limit these runs have) is refused with an error before
/// anything is allocated or created, not aborted on a failed allocation.
#[test]
fn training_that_cannot_get_its_memory_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("x.tok");
    fs::write(&tok, tok_bytes([40, 10, 30])).unwrap();
    let run_dir = dir.path().join("run");
    let args = [
        "train",
        "--data",
        s(&tok),
        "--arch",
        "rnn-onehot",
        "--units",
        "16",
        "--vocab",
        "16777216",
        "--epochs",
        "1",
        "--out",
        s(&run_dir),
    ];
    refused(
        "training memory",
        &args,
        1,
        "268435745 parameters",
        &["needs about 6.0 GiB"],
        dir.path(),
    );
    assert!(!run_dir.exists());
}

/// A named pipe given as a model, a token file or a word index is refused at once, naming it,
/// instead of waiting in `open` for a writer that never comes. (Run under `timeout`: a
/// regression fails the test rather than hanging it.)
#[cfg(unix)]
#[test]
fn named_pipes_are_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("x.tok");
    fs::write(&tok, tok_bytes([40, 10, 30])).unwrap();
    let model = fixture("lstm.safetensors");
    let (t, m) = (s(&tok), s(&model));
    let out = dir.path().join("p.npy");
    // The pipes in a folder of their own: reading one to compare would block.
    let pipes = tempfile::tempdir().unwrap();
    let pipe = |name: &str| {
        let p = pipes.path().join(name);
        let made = Command::new("mkfifo").arg(&p).status();
        assert!(made.unwrap().success(), "mkfifo {}", p.display());
        p.to_str().unwrap().to_owned()
    };
    let (st, h5, kr, data, index) = (
        pipe("m.safetensors"),
        pipe("m.h5"),
        pipe("m.keras"),
        pipe("d.tok"),
        pipe("index.json"),
    );
    let text = ["--text", "a fine film"];
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["predict", "--model", &st, "--data", t, "--out", s(&out)],
            &st,
            "a pipe",
        ),
        (vec!["summary", "--model", &st], &st, "a pipe"),
        (vec!["summary", "--model", &h5], &h5, "not a regular file"),
        (
            vec!["eval", "--model", &kr, "--data", t],
            &kr,
            "not a regular file",
        ),
        (vec!["eval", "--model", m, "--data", &data], &data, "a pipe"),
        (vec!["data", "info", &data], &data, "a pipe"),
        (
            [
                &["predict", "--model", m, "--word-index", &index][..],
                &text,
            ]
            .concat(),
            &index,
            "a pipe",
        ),
    ];
    for (args, named, says) in &cases {
        let o = Command::new("timeout")
            .arg("60")
            .args(common::target_argv(env!("CARGO_BIN_EXE_fusedrnn")))
            .args(args)
            .output()
            .expect("run fusedrnn");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?} (124: it waited): {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(named) && err.contains(says), "{args:?}: {err}");
    }
    assert!(!out.exists(), "nothing is written");
}

/// Issue 13, item 9: a path holding a newline (or any control character) is shown escaped: the
/// message stays one line and cannot forge an `error:` line of its own.
#[test]
fn a_path_with_a_newline_cannot_forge_an_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let evil = dir.path().join("a\nfusedrnn: error: forged.tok");
    fs::write(&evil, b"not a token file").unwrap();
    let model = fixture("lstm.safetensors");
    for args in [
        vec!["eval", "--model", s(&model), "--data", s(&evil)],
        vec!["data", "info", s(&evil)],
    ] {
        let o = run(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(r"a\nfusedrnn: error: forged.tok"),
            "{stderr}"
        );
    }
}

/// Issue 13, item 4: a word index that never ends (`/dev/zero`), is a folder, or is larger than
/// the cap is refused at once, inside the address-space limit.
#[test]
fn word_indexes_that_are_not_files_or_too_large_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("lstm.safetensors");
    let huge = dir.path().join("huge.json");
    fs::File::create(&huge)
        .unwrap()
        .set_len(fusedrnn::text::MAX_WORD_INDEX_BYTES + 1)
        .unwrap();
    for (index, says) in [
        ("/dev/zero", "a device, not a file"),
        (s(dir.path()), "a folder, not a file"),
        (s(&huge), "larger than"),
    ] {
        let args = [
            "predict",
            "--model",
            s(&model),
            "--word-index",
            index,
            "--text",
            "a fine film",
        ];
        refused("word index", &args, 1, index, &[says], dir.path());
    }
}

/// Issue 13, item 9: a model whose vocabulary cannot hold the word index's start and oov ids is
/// refused when both are opened, naming both files, before any review is read.
#[test]
fn a_model_too_small_for_the_index_is_refused_at_open() {
    use fusedrnn::model::{LstmWeights, Model};
    let dir = tempfile::tempdir().unwrap();
    let tiny = dir.path().join("tiny.safetensors");
    Model::Lstm(LstmWeights {
        embedding: vec![[0.01; 16]; 2],
        kernel: [[0.1; 32]; 16],
        recurrent_kernel: [[-0.05; 32]; 8],
        bias: [0.0; 32],
        dense_kernel: [0.5; 8],
        dense_bias: 0.0,
    })
    .save(&tiny)
    .unwrap();
    let index = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text/word_index.json");
    let args = [
        "predict",
        "--model",
        s(&tiny),
        "--word-index",
        s(&index),
        "--text",
        "a fine film",
    ];
    refused(
        "tiny vocabulary",
        &args,
        1,
        s(&tiny),
        &[s(&index), "not a model for this index"],
        dir.path(),
    );
}

/// Issue 13, item 10: `train --out` into a folder that holds files is refused (naming it and
/// --overwrite), and nothing in it changes.
#[test]
fn train_into_a_used_folder_needs_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let tok = dir.path().join("good.tok");
    fs::write(&tok, tok_bytes([40, 10, 30])).unwrap();
    let run_dir = dir.path().join("run");
    fs::create_dir(&run_dir).unwrap();
    fs::write(run_dir.join("best.safetensors"), b"an earlier run's best").unwrap();
    fs::write(run_dir.join("loss.png"), b"an earlier run's plot").unwrap();
    let args = [
        "train",
        "--data",
        s(&tok),
        "--arch",
        "rnn",
        "--epochs",
        "1",
        "--out",
        s(&run_dir),
    ];
    refused(
        "used run folder",
        &args,
        1,
        s(&run_dir),
        &["already holds files", "--overwrite"],
        &run_dir,
    );
}
