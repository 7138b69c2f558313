//! Shared by the C ABI's integration tests: fixture paths, the Rust library's probabilities to
//! compare with, and where cargo put `libfusedrnn_c.so`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use fusedrnn::infer::Scorer;
use fusedrnn::kernels::Kernel;
use fusedrnn::model::Model;
use fusedrnn::text::{Tokenizer, TokenizerConfig, to_padded};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn model_path() -> PathBuf {
    root().join("tests/fixtures/parity/lstm.safetensors")
}

pub fn index_path() -> PathBuf {
    root().join("tests/fixtures/text/word_index.json")
}

/// Reviews that exercise the tokenizer's rules (capitals, `<br />`, contractions, non-ASCII,
/// empty) and the truncation (a review over 100 words).
pub fn reviews() -> Vec<String> {
    let long = "The story was good and the actors were great, but it is a bad film. ".repeat(12);
    vec![
        "This movie was GREAT, I loved it!".into(),
        "A bad film.<br /><br />I didn't like the story at all; it's not good.".into(),
        String::new(),
        "Caf\u{e9} \u{1f600} 'the' really, really bad ... 10/10".into(),
        long,
    ]
}

/// What the Rust library gives for `text` (tokenize, `pad_sequences`, the latency path), with
/// the model's vocabulary as `num_words`, as the C API promises.
pub fn library_probs(texts: &[String]) -> Vec<f32> {
    let scorer = Scorer::new(
        &Model::load(model_path()).unwrap(),
        Kernel::select().unwrap(),
    );
    let config = TokenizerConfig {
        num_words: Some(scorer.vocab() as u32),
        ..TokenizerConfig::default()
    };
    let tokenizer = Tokenizer::from_file(&index_path(), config).unwrap();
    let mut ids = Vec::new();
    texts
        .iter()
        .map(|text| {
            tokenizer.tokenize_into(text, &mut ids);
            scorer.score_one(&to_padded(&ids)).unwrap()
        })
        .collect()
}

/// The directory holding `libfusedrnn_c.so`: `target/<profile>/`, the parent of the `deps/`
/// folder this test executable runs from. Cargo builds this package's library, every crate type
/// of it (the cdylib too), before its integration tests.
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let profile_dir = deps.parent().unwrap();
    for dir in [profile_dir, deps] {
        if dir.join("libfusedrnn_c.so").is_file() {
            return dir.to_path_buf();
        }
    }
    panic!(
        "libfusedrnn_c.so is neither in {} nor in {}",
        profile_dir.display(),
        deps.display()
    );
}

// The workspace's one rule for skipping: loudly outside CI, a failure inside it.
#[path = "../../../tests/common/ci.rs"]
mod ci;
#[allow(unused_imports)] // not every test crate that includes `common` skips
pub use ci::skip_or_fail_in_ci;

// Starting what was built for the target (the C example) through the target's runner, compiled
// by the target's C compiler, when the tests run under an emulator.
#[path = "../../../tests/common/runner.rs"]
mod runner;
#[allow(unused_imports)] // only the example tests start programs
pub use runner::{emulated, target_cc, target_command};

/// Whether `program --version` runs. When it does not, the caller's test skips loudly outside
/// CI and fails inside it (`CI=true`), so CI can never pass without compiling the C example.
#[track_caller]
pub fn have(program: &str, for_what: &str) -> bool {
    let ok = std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        ci::skip_or_fail_in_ci(&format!("{program} not found, needed for {for_what}"));
    }
    ok
}

/// Parses one probability per line.
pub fn parse_probs(stdout: &[u8]) -> Vec<f32> {
    std::str::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(|l| {
            l.trim()
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {l:?}"))
        })
        .collect()
}
