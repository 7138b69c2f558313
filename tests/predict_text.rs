//! `fusedrnn predict --word-index ... --text | --stdin [--json]` end to end: the binary's
//! probabilities equal the library's (tokenizer → `to_padded` → `Scorer::score_one`), one line per
//! review, each line flushed before the next review is read.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fusedrnn::infer::Scorer;
use fusedrnn::kernels::Kernel;
use fusedrnn::model::Model;
use fusedrnn::text::{Tokenizer, TokenizerConfig, to_padded};

// The binary is started through the target's runner when the tests run under an emulator.
use crate::common::runner;
use runner::{target_argv, target_command};

fn path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

const MODEL: &str = "tests/fixtures/parity/lstm.safetensors";
const INDEX: &str = "tests/fixtures/text/word_index.json";

const REVIEWS: [&str; 4] = [
    "This movie was GREAT, I loved it!",
    "A bad film.<br /><br />I didn't like the story at all; it's not good.",
    "",
    "Caf\u{e9} \u{1f600} 'the' really, really bad ... 10/10",
];

/// What the library gives for `text` (the model's vocabulary is the tokenizer's num_words).
fn library_probs() -> Vec<f32> {
    let scorer = Scorer::new(
        &Model::load(path(MODEL)).unwrap(),
        Kernel::select().unwrap(),
    );
    let config = TokenizerConfig {
        num_words: Some(scorer.vocab() as u32),
        ..TokenizerConfig::default()
    };
    let tokenizer = Tokenizer::from_file(&path(INDEX), config).unwrap();
    let mut ids = Vec::new();
    REVIEWS
        .iter()
        .map(|text| {
            tokenizer.tokenize_into(text, &mut ids);
            scorer.score_one(&to_padded(&ids)).unwrap()
        })
        .collect()
}

fn predict(extra: &[&str]) -> Command {
    let mut cmd = target_command(env!("CARGO_BIN_EXE_fusedrnn"));
    cmd.arg("predict")
        .arg("--model")
        .arg(path(MODEL))
        .arg("--word-index")
        .arg(path(INDEX))
        .args(extra);
    cmd
}

#[test]
fn text_prints_the_library_probability() {
    let want = library_probs();
    for (text, want) in REVIEWS.iter().zip(want) {
        let out = predict(&["--text", text]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: f32 = String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(got, want, "{text:?}");
        assert!(got > 0.0 && got < 1.0);
    }
}

/// Each review's line comes back before the next review is written: the stdin loop can sit in a
/// pipeline.
#[test]
fn stdin_answers_line_by_line() {
    let want = library_probs();
    let mut child = predict(&["--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for (text, want) in REVIEWS.iter().zip(&want) {
        // A CRLF line ending is the same review.
        writeln!(stdin, "{text}\r").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let got: f32 = line.trim().parse().unwrap();
        assert_eq!(got, *want, "{text:?}");
        assert!(got > 0.0 && got < 1.0);
    }
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "");
    assert!(child.wait().unwrap().success());
}

#[test]
fn json_lines_parse_and_agree() {
    let want = library_probs();
    let mut child = predict(&["--stdin", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input: String = REVIEWS.iter().map(|r| format!("{r}\n")).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), REVIEWS.len());
    for (line, want) in lines.iter().zip(want) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let prob = v["prob"].as_f64().unwrap() as f32;
        assert_eq!(prob, want);
        assert_eq!(v["label"].as_u64().unwrap(), u64::from(want > 0.5));
    }
}

#[test]
fn bad_combinations_are_refused() {
    for args in [
        &["--text", "x", "--stdin"][..],
        &["--text", "x", "--data", "d.tok", "--out", "o.npy"],
        &["--out", "o.npy", "--text", "x"],
    ] {
        let out = predict(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    }
    // --text without a word index.
    let out = target_command(env!("CARGO_BIN_EXE_fusedrnn"))
        .args(["predict", "--model", MODEL, "--text", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--word-index"));
    // A missing word index is named.
    let out = target_command(env!("CARGO_BIN_EXE_fusedrnn"))
        .arg("predict")
        .arg("--model")
        .arg(path(MODEL))
        .args(["--word-index", "no_such_index.json", "--text", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_index.json"));
}

/// Issue 13, item 2: a line longer than the 1 MiB limit is answered with `nan` and an error
/// naming its line number, the lines after it are still served, and memory stays bounded: a
/// 400 MB line goes through under a 384 MiB address-space limit (holding it, as before, took
/// more than the line).
#[test]
fn an_over_long_stdin_line_is_refused_and_the_next_ones_served() {
    let want = library_probs();
    let bin = env!("CARGO_BIN_EXE_fusedrnn");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 393216 && exec \"$0\" \"$@\"")
        .args(target_argv(bin))
        .args(["predict", "--model"])
        .arg(path(MODEL))
        .arg("--word-index")
        .arg(path(INDEX))
        .arg("--stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        stdin.write_all(REVIEWS[0].as_bytes())?;
        stdin.write_all(b"\n")?;
        let chunk = b"good bad ".repeat(1 << 16);
        let mut written = 0;
        while written < 400_000_000 {
            stdin.write_all(&chunk)?;
            written += chunk.len();
        }
        stdin.write_all(b"\n")?;
        stdin.write_all(REVIEWS[1].as_bytes())?;
        stdin.write_all(b"\n")
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(lines[0].parse::<f32>().unwrap(), want[0]);
    assert_eq!(lines[1], "nan");
    assert_eq!(lines[2].parse::<f32>().unwrap(), want[1]);
    assert!(stderr.contains("stdin line 2: longer than"), "{stderr}");
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("memory"),
        "{stderr}"
    );
}
