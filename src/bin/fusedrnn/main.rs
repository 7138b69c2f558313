//! The `fusedrnn` command line: one module per subcommand.

mod data;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// fusedrnn: the Keras IMDB sentiment notebook (LSTM / SimpleRNN) on hand-tuned CPU kernels.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Inspect a packed token file (written by imdb-pack).
    #[command(subcommand)]
    Data(data::DataCommand),
}

/// What a subcommand returns: errors become one line on stderr and exit code 1.
type CliResult = Result<(), Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: CliResult = match cli.command {
        Command::Data(cmd) => data::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fusedrnn: error: {e}");
            ExitCode::FAILURE
        }
    }
}
