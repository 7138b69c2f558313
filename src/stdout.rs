//! Printing results for the command-line tools: a reader that goes away (`fusedrnn ... | head`)
//! ends the program quietly instead of panicking, which is what `println!` does on a closed pipe.

use std::fmt;
use std::io::{self, Write};

/// Writes one line to stdout. On a closed pipe the process exits with status 0 (the reader has
/// what it wanted); on any other write error it reports it and exits with status 1.
pub fn write_line(args: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// `println!` for the tools' results, without the panic on a closed pipe (see [`write_line`]).
#[macro_export]
macro_rules! outln {
    () => { $crate::stdout::write_line(format_args!("")) };
    ($($arg:tt)*) => { $crate::stdout::write_line(format_args!($($arg)*)) };
}
