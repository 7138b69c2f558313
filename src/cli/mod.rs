//! What the command-line tools (`fusedrnn`, and data-tools' `imdb-pack` and `demo`) share at run
//! time, behind the `cli` feature: the interrupt handler, printing results to stdout, and the
//! checks on `--out` paths ([`paths`]). These
//! are the binaries' decisions (exit codes, quitting on a closed pipe), kept here once so the
//! three programs behave alike; the library proper never ends the process, it returns errors.

pub mod paths;

use std::fmt;
use std::io::{self, Write};

/// Installs a handler for SIGINT, SIGTERM and SIGHUP that removes the temporary files of every
/// write in progress ([`crate::atomic::remove_temporaries`]), prints `NAME: interrupted` on
/// stderr and exits with status 130. Call it once, at the start of `main`.
pub fn clean_up_on_interrupt(program: &'static str) -> Result<(), String> {
    ctrlc::set_handler(move || {
        crate::atomic::remove_temporaries();
        eprintln!("{program}: interrupted");
        std::process::exit(130);
    })
    .map_err(|e| format!("cannot install the interrupt handler: {e}"))
}

/// Writes one line to stdout.
pub fn write_line(args: fmt::Arguments<'_>) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_fmt(args).and_then(|()| out.write_all(b"\n"))
}

/// Writes one line to stdout; a reader that went away (`fusedrnn ... | head`) ends the program
/// quietly with status 0 (it has what it wanted) instead of the panic `println!` gives; any
/// other write error is reported and ends it with status 1.
pub fn print_line(args: fmt::Arguments<'_>) {
    if let Err(e) = write_line(args) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// `println!` for the tools' results, without the panic on a closed pipe (see [`print_line`]).
#[macro_export]
macro_rules! outln {
    () => { $crate::cli::print_line(format_args!("")) };
    ($($arg:tt)*) => { $crate::cli::print_line(format_args!($($arg)*)) };
}
