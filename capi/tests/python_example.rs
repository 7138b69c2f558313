//! `examples/python/score.py` (ctypes, standard library only) loads the `libfusedrnn_c.so` cargo
//! just built and prints the Rust library's probabilities within 1e-6, from arguments and from
//! stdin; a missing model is its fusedrnn status as exit code. Skipped, with a notice, where
//! python3 is missing.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;

fn run(model: &std::path::Path, texts: &[String], stdin: &str) -> Output {
    let mut child = Command::new("python3")
        .arg(root().join("examples/python/score.py"))
        .arg(model)
        .arg(index_path())
        .args(texts)
        .env("FUSEDRNN_LIB", lib_dir().join("libfusedrnn_c.so"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.as_bytes()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// Under an emulator (the tests built for another architecture, `.ci/run`'s aarch64 step) the
/// host's python3 cannot load the target's `libfusedrnn_c.so`: skip loudly, fail with `CI=true`
/// (`.ci/run` leaves these tests out of that step by name, saying why).
fn host_can_load_the_library() -> bool {
    if emulated() {
        skip_or_fail_in_ci(
            "the host's python3 cannot load a libfusedrnn_c.so built for the emulated target",
        );
        return false;
    }
    true
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: one line per review");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-6, "{what}: {g} vs {w}");
    }
}

#[test]
fn python_example_prints_the_library_probabilities() {
    if !host_can_load_the_library() || !have("python3", "the Python example") {
        return;
    }
    let texts = reviews();
    let want = library_probs(&texts);

    let out = run(&model_path(), &texts, "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_close(&parse_probs(&out.stdout), &want, "arguments");

    let lines: String = texts.iter().map(|t| format!("{t}\r\n")).collect();
    let out = run(&model_path(), &[], &lines);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_close(&parse_probs(&out.stdout), &want, "stdin");

    let out = run(&root().join("no_such_model.safetensors"), &[], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no_such_model.safetensors"), "{err}");
}

/// Issue 13, item 9: an argument that is not UTF-8 is scored (its bad bytes are separators, as
/// on stdin) rather than ending in a traceback, and a reader that goes away early ends the
/// program quietly with status 0.
#[test]
fn python_example_takes_non_utf8_arguments_and_a_closed_pipe() {
    if !host_can_load_the_library() || !have("python3", "the Python example") {
        return;
    }
    use std::os::unix::ffi::OsStrExt;
    let arg = std::ffi::OsStr::from_bytes(b"good \xff film");
    let out = Command::new("python3")
        .arg(root().join("examples/python/score.py"))
        .arg(model_path())
        .arg(index_path())
        .arg(arg)
        .env("FUSEDRNN_LIB", lib_dir().join("libfusedrnn_c.so"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let want = library_probs(&["good \u{fffd} film".to_string()]);
    assert_close(&parse_probs(&out.stdout), &want, "non-UTF-8 argument");

    // A reader that takes one line and leaves, while many reviews are still coming.
    let script = format!(
        "yes 'a fine film' | head -n 200000 | python3 {} {} {} | head -n 1",
        root().join("examples/python/score.py").display(),
        model_path().display(),
        index_path().display()
    );
    let out = Command::new("bash")
        .args([
            "-c",
            &format!("set -o pipefail; {script}; echo \"status ${{PIPESTATUS[2]}}\" >&2"),
        ])
        .env("FUSEDRNN_LIB", lib_dir().join("libfusedrnn_c.so"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("Traceback"), "{err}");
    assert!(err.contains("status 0"), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}
