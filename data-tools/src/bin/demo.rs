//! The notebook, end to end, on whatever data this machine has: `cargo run --release --bin demo`.
//!
//! Finds `imdb.npz` (`$FUSEDRNN_IMDB_NPZ`, then `~/.keras/datasets/imdb.npz` where Keras caches
//! it, then `../shared/data/imdb.npz`), or generates a deterministic synthetic corpus in the
//! same layout and says so; packs it exactly as the notebook preprocesses it; then runs every
//! stage that exists so far, writing everything into one folder with a short report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use fusedrnn::tokfile::TokFile;
use fusedrnn_data_tools::synth::{SynthConfig, generate, npz_bytes};
use fusedrnn_data_tools::{ImdbArrays, PackConfig, pack};

/// Runs the Keras IMDB notebook end to end with fusedrnn.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Output folder for the token file, plots, model and report.
    #[arg(long, default_value = "out/demo")]
    out: PathBuf,
    /// imdb.npz to use instead of searching the usual places.
    #[arg(long)]
    npz: Option<PathBuf>,
    /// Use the synthetic corpus even if a real imdb.npz is found.
    #[arg(long)]
    synthetic: bool,
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Where a real `imdb.npz` may be, in order.
fn candidates() -> Vec<PathBuf> {
    let mut c = Vec::new();
    if let Some(p) = std::env::var_os("FUSEDRNN_IMDB_NPZ") {
        c.push(PathBuf::from(p));
    }
    if let Some(home) = std::env::var_os("HOME") {
        c.push(Path::new(&home).join(".keras/datasets/imdb.npz"));
    }
    c.push(PathBuf::from("../shared/data/imdb.npz"));
    // From the repository root when run elsewhere (cargo passes the manifest dir at build time).
    c.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/imdb.npz"));
    c
}

fn run(args: &Args) -> Result<()> {
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let mut report = String::new();
    writeln!(report, "# fusedrnn demo\n")?;

    // 1. The data.
    let t = Instant::now();
    let found = if args.synthetic {
        None
    } else {
        args.npz
            .clone()
            .or_else(|| candidates().into_iter().find(|p| p.is_file()))
    };
    let (arrays, source) = match found {
        Some(path) => {
            println!("[1/3] data: {}", path.display());
            (ImdbArrays::read(&path)?, format!("`{}`", path.display()))
        }
        None => {
            if args.synthetic {
                println!(
                    "[1/3] data: --synthetic: generating a SYNTHETIC IMDB-like corpus (numbers below are not IMDB's)"
                );
            } else {
                println!(
                    "[1/3] data: no imdb.npz found ($FUSEDRNN_IMDB_NPZ, ~/.keras/datasets/imdb.npz, ../shared/data/imdb.npz);"
                );
                println!(
                    "      generating a SYNTHETIC IMDB-like corpus instead (numbers below are not IMDB's)"
                );
            }
            let (xa, ya, xb, yb) = generate(&SynthConfig::default());
            let path = args.out.join("synthetic_imdb.npz");
            fusedrnn::atomic::write_bytes(&path, &npz_bytes(&xa, &ya, &xb, &yb)?)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            println!("      wrote {}", path.display());
            (
                ImdbArrays::read(&path)?,
                format!(
                    "synthetic corpus `{}` (no real imdb.npz on this machine)",
                    path.display()
                ),
            )
        }
    };
    let read_s = t.elapsed().as_secs_f64();

    // 2. The notebook's preprocessing.
    let t = Instant::now();
    let packed = pack(&arrays, &PackConfig::default())?;
    let tok_path = args.out.join("imdb.tok");
    packed.write(&tok_path)?;
    let pack_s = t.elapsed().as_secs_f64();
    println!(
        "[2/3] packed load_data(num_words=500) + train_test_split(0.2, 42) + pad_sequences(100) into {} (read {read_s:.3} s, pack+write {pack_s:.3} s)",
        // `read` includes generating the corpus when it is synthetic.
        tok_path.display()
    );
    writeln!(
        report,
        "Data: {source}, packed to `{}` in {:.3} s.\n",
        tok_path.display(),
        read_s + pack_s
    )?;
    writeln!(
        report,
        "| split | reviews | positives | mean length | median length |\n|---|---:|---:|---:|---:|"
    )?;
    let tok = TokFile::open(&tok_path)?;
    for split in tok.splits() {
        let s = split.stats();
        println!(
            "      {:<5} {:>6} reviews, {:>5.1}% positive, unpadded length mean {:.2} median {:.1}",
            split.name.as_str(),
            s.count,
            100.0 * s.positives as f64 / s.count.max(1) as f64,
            s.mean_length,
            s.median_length
        );
        writeln!(
            report,
            "| {} | {} | {} | {:.2} | {:.1} |",
            split.name, s.count, s.positives, s.mean_length, s.median_length
        )?;
    }

    // 3. The notebook's length histogram.
    let hist = args.out.join("lengths.png");
    let train = tok.split(fusedrnn::tokfile::SplitName::Train);
    fusedrnn::plot::length_histogram(
        &hist,
        train.lengths,
        50,
        tok.params().seq_len,
        "Review lengths, train split",
    )?;
    println!("[3/3] wrote {}", hist.display());
    writeln!(report, "\nLength histogram: `{}`.", hist.display())?;
    writeln!(
        report,
        "\nTraining, evaluation and benchmarks join this report as they land (see the issues)."
    )?;

    let report_path = args.out.join("report.md");
    fusedrnn::atomic::write_bytes(&report_path, report.as_bytes())
        .map_err(|e| format!("{}: {e}", report_path.display()))?;
    println!("report: {}", report_path.display());
    Ok(())
}
