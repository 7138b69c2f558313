//! `examples/c/score.c`, compiled with gcc (`-std=c11 -Wall -Wextra -Werror`; the target's
//! cross gcc, `CC_<triple>`, when the tests run under an emulator, then run through it) against
//! `include/fusedrnn.h` and linked to the `libfusedrnn_c.so` cargo just built, prints exactly the
//! probabilities the Rust library gives, from arguments and from stdin, and fails cleanly (the
//! status as exit code, fusedrnn's message on stderr) on a missing or malformed file.
//! Skipped, with a notice, where gcc is missing.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;

/// Compiles the example into `dir`; returns the executable.
fn build(dir: &Path) -> PathBuf {
    let exe = dir.join("score");
    let out = Command::new(target_cc())
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-I"])
        .arg(root().join("include"))
        .arg(root().join("examples/c/score.c"))
        .arg("-L")
        .arg(lib_dir())
        .args(["-lfusedrnn_c", "-o"])
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        target_cc(),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

fn run(exe: &Path, model: &Path, index: &Path, texts: &[String], stdin: Option<&str>) -> Output {
    let mut child = target_command(exe)
        .arg(model)
        .arg(index)
        .args(texts)
        .env("LD_LIBRARY_PATH", lib_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

#[test]
fn c_example_prints_the_library_probabilities() {
    if !have(&target_cc(), "the C example") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = build(dir.path());
    let texts = reviews();
    let want = library_probs(&texts);

    let out = run(&exe, &model_path(), &index_path(), &texts, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(parse_probs(&out.stdout), want, "reviews as arguments");

    // One review per line of stdin (CRLF endings are the same reviews).
    let lines: String = texts.iter().map(|t| format!("{t}\r\n")).collect();
    let out = run(&exe, &model_path(), &index_path(), &[], Some(&lines));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(parse_probs(&out.stdout), want, "reviews on stdin");
}

#[test]
fn c_example_reports_errors() {
    if !have(&target_cc(), "the C example") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = build(dir.path());
    let texts = vec!["a film".to_string()];

    // Missing model: FUSEDRNN_ERR_IO (2), the path in the message.
    let missing = dir.path().join("no_such_model.safetensors");
    let out = run(&exe, &missing, &index_path(), &texts, None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: ") && err.contains("no_such_model.safetensors"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    // Not a model: FUSEDRNN_ERR_BAD_MODEL (3).
    let out = run(&exe, &index_path(), &index_path(), &texts, None);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A malformed word index: FUSEDRNN_ERR_BAD_WORD_INDEX (4).
    let bad_index = dir.path().join("index.json");
    std::fs::write(&bad_index, "{\"the\": -1}").unwrap();
    let out = run(&exe, &model_path(), &bad_index, &texts, None);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("index.json"));

    // Invalid UTF-8 on stdin: FUSEDRNN_ERR_BAD_UTF8 (5) after the good lines before it.
    let mut child = target_command(&exe)
        .arg(model_path())
        .arg(index_path())
        .env("LD_LIBRARY_PATH", lib_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"good film\nbad \xff byte\nnever read\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(parse_probs(&out.stdout).len(), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not UTF-8"));
}
