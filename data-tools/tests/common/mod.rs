//! Helpers shared by data-tools' integration tests (`mod common;`).
#![allow(dead_code)]

// The root crate's copy, so the rule is written once.
#[path = "../../../tests/common/ci.rs"]
mod ci;
#[allow(unused_imports)] // not every test crate that includes `common` skips
pub use ci::{in_ci, skip_or_fail_in_ci};

// Starting `imdb-pack` through the target's runner when the tests run under an emulator.
#[path = "../../../tests/common/runner.rs"]
mod runner;
#[allow(unused_imports)] // not every test crate that includes `common` starts a binary
pub use runner::{target_argv, target_command};
