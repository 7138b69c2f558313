//! Starting a program built for the target, as cargo starts the test itself. When the tests are
//! built for another architecture (`.ci/run`'s aarch64 step: built on x86-64, run under
//! `qemu-aarch64`), cargo starts each test binary through `CARGO_TARGET_<TRIPLE>_RUNNER`; the
//! project binaries a test starts (`fusedrnn`, `imdb-pack`, the compiled C example) are built for
//! the same target, so they must go through the same runner. Every test that starts one does it
//! through this file, included by `#[path]` by the root crate's `tests/common`, `data-tools`'
//! and `capi`'s tests. Host tools (`sh`, `kill`, `python3`) are started directly.
#![allow(dead_code)] // each test crate uses a part

use std::ffi::OsStr;
use std::process::Command;

/// The target these tests were compiled for, as cargo's variable names spell it
/// (`AARCH64_UNKNOWN_LINUX_GNU`): the triple's parts from the compiler's own `cfg`s.
fn target_var_triple() -> String {
    let vendor = if cfg!(target_vendor = "apple") {
        "apple"
    } else if cfg!(target_vendor = "pc") {
        "pc"
    } else {
        "unknown"
    };
    let env = if cfg!(target_env = "gnu") {
        "_gnu"
    } else if cfg!(target_env = "musl") {
        "_musl"
    } else {
        ""
    };
    let os = if cfg!(target_os = "macos") {
        "darwin"
    } else {
        std::env::consts::OS
    };
    format!("{}_{vendor}_{os}{env}", std::env::consts::ARCH).to_uppercase()
}

/// The runner cargo was given for this target in `CARGO_TARGET_<TRIPLE>_RUNNER` (e.g.
/// `qemu-aarch64 -L /usr/aarch64-linux-gnu`), split on whitespace as cargo splits it; empty when
/// the tests run natively. (A runner set only in `.cargo/config.toml` is not seen here: set the
/// variable.)
pub fn runner() -> Vec<String> {
    std::env::var(format!("CARGO_TARGET_{}_RUNNER", target_var_triple()))
        .map(|r| r.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// A `Command` that runs `program`, a binary built for the target, through the runner if there
/// is one: `Command::new(program)` natively, `Command::new("qemu-aarch64")` with `-L …` and
/// `program` as its first arguments under emulation. Arguments, environment and pipes are set
/// on it as usual (the runner passes them on to the program).
pub fn target_command(program: impl AsRef<OsStr>) -> Command {
    let mut runner = runner().into_iter();
    match runner.next() {
        None => Command::new(program),
        Some(emulator) => {
            let mut cmd = Command::new(emulator);
            cmd.args(runner).arg(program);
            cmd
        }
    }
}

/// The runner as words for a `sh -c` script that ends in `exec "$0" "$@"`: put them (with
/// [`Command::args`]) before the program, so `$0` is the runner and the program its argument.
/// Returns the program alone when there is no runner.
pub fn target_argv(program: impl AsRef<OsStr>) -> Vec<std::ffi::OsString> {
    let mut argv: Vec<std::ffi::OsString> = runner().into_iter().map(Into::into).collect();
    argv.push(program.as_ref().to_owned());
    argv
}

/// The C compiler for the target: `CC_<triple>` (the `cc` crate's convention, e.g.
/// `CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc`), else `gcc`.
pub fn target_cc() -> String {
    std::env::var(format!("CC_{}", target_var_triple().to_lowercase()))
        .unwrap_or_else(|_| "gcc".to_owned())
}

/// Whether the tests run through a runner (an emulator): then a host program cannot load a
/// library built for the target (e.g. host Python and `libfusedrnn_c.so`).
pub fn emulated() -> bool {
    !runner().is_empty()
}
