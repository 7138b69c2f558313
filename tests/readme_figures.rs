//! README's figures cannot drift: every table between `<!-- figures:NAME begin source=FILE -->`
//! markers must be exactly what `benches/report/report.py` renders from the committed results file
//! it names (`report.py check`), and the renderer's own tests (`benches/report/test_report.py`:
//! spread, parsers, rendering from a fixture results file, markers, quick-mode refusal) must pass.
//!
//! Both need `python3` (3.9+, standard library only): without it they skip loudly, and fail when
//! `CI=true` (`tests/common/ci.rs`).

use crate::common;

use std::path::Path;
use std::process::Command;

/// Runs `python3 ARGS` in the repository root; `None` (after the skip rule) when there is no python3.
fn python3(args: &[&str]) -> Option<std::process::Output> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match Command::new("python3")
        .args(args)
        .current_dir(root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
    {
        Ok(out) => Some(out),
        Err(e) => {
            common::skip_or_fail_in_ci(&format!("python3 cannot be run here ({e})"));
            None
        }
    }
}

fn assert_ok(what: &str, out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn readme_tables_are_what_their_results_file_renders() {
    if let Some(out) = python3(&["benches/report/report.py", "check"]) {
        assert_ok("benches/report/report.py check", &out);
    }
}

#[test]
fn report_script_tests_pass() {
    if let Some(out) = python3(&[
        "-m",
        "unittest",
        "discover",
        "-s",
        "benches/report",
        "-p",
        "test_*.py",
    ]) {
        assert_ok("python3 -m unittest (benches/report/test_report.py)", &out);
        // unittest reports on stderr; an empty discovery would also "succeed".
        let err = String::from_utf8_lossy(&out.stderr);
        let ran = err
            .lines()
            .find_map(|l| {
                l.strip_prefix("Ran ")?
                    .split(' ')
                    .next()?
                    .parse::<u32>()
                    .ok()
            })
            .unwrap_or(0);
        assert!(
            ran >= 20,
            "expected the report's ~25 tests to run, ran {ran}:\n{err}"
        );
    }
}
