//! The `fusedrnn` command line: one module per subcommand.

mod bench;
mod data;
mod eval;
mod export;
mod import;
mod input;
mod predict;
mod summary;
mod train;

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
    /// A Keras-style table of a model's layers and parameter counts.
    Summary {
        /// Model weights (.safetensors, or a Keras .h5 / .keras).
        #[arg(long)]
        model: std::path::PathBuf,
    },
    /// Convert a model of any supported shape (Keras .h5 / .keras, a PyTorch state dict, or
    /// fusedrnn's own) to fusedrnn's .safetensors.
    Import(import::ImportArgs),
    /// Write a model's weights under PyTorch's state_dict names (or our Keras names).
    Export(export::ExportArgs),
    /// Probabilities of every review of a split, as a float32 .npy in file order; or of raw
    /// review text (--word-index with --text or --stdin), one per line.
    Predict(predict::PredictArgs),
    /// Throughput (reviews/s) and latency (one step, one review) of a model on this machine.
    Bench {
        #[command(flatten)]
        input: input::Input,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Loss and accuracy of a model on a split (Keras' binary cross-entropy and accuracy).
    Eval {
        #[command(flatten)]
        input: input::Input,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Train a model as the notebook does (RMSprop, BCE, EarlyStopping on val_loss).
    Train(train::TrainArgs),
}

/// What a subcommand returns: errors become one line on stderr and exit code 1.
type CliResult = Result<(), Box<dyn std::error::Error>>;

/// Every core this process may use.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = fusedrnn::cli::clean_up_on_interrupt("fusedrnn") {
        eprintln!("fusedrnn: error: {e}");
        return ExitCode::FAILURE;
    }
    let result: CliResult = match cli.command {
        Command::Data(cmd) => data::run(cmd),
        Command::Summary { model } => summary::run(&model),
        Command::Import(args) => import::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Predict(args) => predict::run(&args),
        Command::Eval { input, json } => eval::run(&input, json),
        Command::Bench { input, json } => bench::run(&input, json),
        Command::Train(args) => train::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fusedrnn: error: {}", one_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// `message` on one line: control characters (a newline in a file name, say) are shown escaped,
/// so one error is one line and cannot forge another.
fn one_line(message: &str) -> String {
    message
        .chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
