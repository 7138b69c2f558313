//! Skipping in the project's tests: loudly outside CI, never inside it. One file, included by
//! the root crate's `tests/common` and by data-tools' (`#[path]`), so both behave alike.

/// Whether this run is CI's (`CI=true`), where every test must really run.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// For a test whose data or tool is missing here: outside CI, says so loudly on stderr (the test
/// then returns); inside CI (`CI=true`), fails the test with `reason`, so a missing file can
/// never turn into a silent pass there.
#[track_caller]
pub fn skip_or_fail_in_ci(reason: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned();
    assert!(
        !in_ci(),
        "{test} cannot run: {reason} (CI=true: a skip is a failure)"
    );
    eprintln!("\n=== SKIPPED {test}: {reason} (would fail with CI=true) ===\n");
}

/// Whether the tests are sized for an unoptimised build: debug assertions on, and
/// `FUSEDRNN_TESTS_OPTIMISED=1` not set. CI runs the whole suite in its `ci` profile (release's
/// optimisation with debug assertions and overflow checks kept, `Cargo.toml`) and sets the
/// variable there, so the tests a debug build shrinks or skips run at full size.
pub fn debug_sized() -> bool {
    cfg!(debug_assertions) && !std::env::var("FUSEDRNN_TESTS_OPTIMISED").is_ok_and(|v| v == "1")
}
