//! The notebook, end to end, on whatever data this machine has: `cargo run --release --bin demo`.
//!
//! Finds `imdb.npz` (`$FUSEDRNN_IMDB_NPZ`, then `~/.keras/datasets/imdb.npz` where Keras caches
//! it, then `../shared/data/imdb.npz`), or generates a deterministic synthetic corpus in the
//! same layout and says so; packs it exactly as the notebook preprocesses it; then runs every
//! stage that exists so far, writing everything into one folder with a short report.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use std::time::Duration;

use fusedrnn::infer::bench::measure;
use fusedrnn::infer::{Scorer, evaluate};
use fusedrnn::kernels::Kernel;
use fusedrnn::model::Model;
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::tokfile::{SplitName, TokFile};
use fusedrnn::train::{EpochRecord, Observer, RunDir, TrainConfig, fit};
use fusedrnn_data_tools::locate::find_imdb_npz;
use fusedrnn_data_tools::synth::{SynthConfig, generate, npz_bytes};
use fusedrnn_data_tools::{ImdbArrays, PackParams, pack};

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
    let args = Args::parse();
    if let Err(e) = fusedrnn::cli::clean_up_on_interrupt("demo") {
        eprintln!("demo: error: {e}");
        return ExitCode::FAILURE;
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<()> {
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let mut report = String::new();
    writeln!(report, "# fusedrnn demo\n")?;
    let t = Instant::now();
    let (arrays, source) = read_data(args)?;
    let read_s = t.elapsed().as_secs_f64();
    let tok = preprocess(args, &arrays, &source, read_s, &mut report)?;
    length_histogram(args, &tok, &mut report)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let kernel = Kernel::select()?;
    let best = train(args, &tok, kernel, threads, &mut report)?;
    let scorer = Scorer::new(&best, kernel);
    evaluate_test(&scorer, &tok, threads, &mut report)?;
    speed(&scorer, &tok, threads, &mut report)?;

    let report_path = args.out.join("report.md");
    fusedrnn::atomic::write_bytes(&report_path, report.as_bytes())
        .map_err(|e| format!("{}: {e}", report_path.display()))?;
    fusedrnn::outln!("report: {}", report_path.display());
    Ok(())
}

/// Stage 1, the data: a real `imdb.npz` if one is found (and not `--synthetic`), else a synthetic
/// corpus written beside the outputs. Returns the arrays and how the report names their source.
fn read_data(args: &Args) -> Result<(ImdbArrays, String)> {
    let found = if args.synthetic {
        None
    } else {
        args.npz.clone().or_else(find_imdb_npz)
    };
    Ok(match found {
        Some(path) => {
            fusedrnn::outln!("[1/6] data: {}", path.display());
            (ImdbArrays::read(&path)?, format!("`{}`", path.display()))
        }
        None => {
            if args.synthetic {
                fusedrnn::outln!(
                    "[1/6] data: --synthetic: generating a SYNTHETIC IMDB-like corpus (numbers below are not IMDB's)"
                );
            } else {
                fusedrnn::outln!(
                    "[1/6] data: no imdb.npz found ($FUSEDRNN_IMDB_NPZ, ~/.keras/datasets/imdb.npz, ../shared/data/imdb.npz);"
                );
                fusedrnn::outln!(
                    "      generating a SYNTHETIC IMDB-like corpus instead (numbers below are not IMDB's)"
                );
            }
            let (xa, ya, xb, yb) = generate(&SynthConfig::default());
            let path = args.out.join("synthetic_imdb.npz");
            fusedrnn::atomic::write_bytes(&path, &npz_bytes(&xa, &ya, &xb, &yb)?)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            fusedrnn::outln!("      wrote {}", path.display());
            (
                ImdbArrays::read(&path)?,
                format!(
                    "synthetic corpus `{}` (no real imdb.npz on this machine)",
                    path.display()
                ),
            )
        }
    })
}

/// Stage 2, the notebook's preprocessing: `load_data(num_words=500)`, `train_test_split(0.2, 42)`,
/// `pad_sequences(100)` into `imdb.tok`, with a table of the splits. `read_s` is the time step 1
/// took.
fn preprocess(
    args: &Args,
    arrays: &ImdbArrays,
    source: &str,
    read_s: f64,
    report: &mut String,
) -> Result<TokFile> {
    let t = Instant::now();
    let packed = pack(arrays, &PackParams::NOTEBOOK)?;
    let tok_path = args.out.join("imdb.tok");
    packed.write(&tok_path)?;
    let pack_s = t.elapsed().as_secs_f64();
    fusedrnn::outln!(
        "[2/6] packed load_data(num_words=500) + train_test_split(0.2, 42) + pad_sequences(100) into {} (read {read_s:.3} s, pack+write {pack_s:.3} s)",
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
        fusedrnn::outln!(
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

    Ok(tok)
}

/// Stage 3, the notebook's length histogram of the training split.
fn length_histogram(args: &Args, tok: &TokFile, report: &mut String) -> Result<()> {
    let hist = args.out.join("lengths.png");
    let train = tok.split(SplitName::Train);
    fusedrnn::plot::length_histogram(
        &hist,
        train.lengths,
        50,
        tok.params().seq_len,
        "Review lengths, train split",
    )?;
    fusedrnn::outln!("[3/6] wrote {}", hist.display());
    writeln!(report, "\nLength histogram: `{}`.", hist.display())?;

    Ok(())
}

/// Stage 4, the notebook's `model.fit`: Embedding(500,16) + LSTM(8) + Dense(1), RMSprop(1e-4), batch
/// 64, 10 epochs, EarlyStopping(patience=3, restore_best_weights), best checkpoint. Returns the
/// best model.
fn train(
    args: &Args,
    tok: &TokFile,
    kernel: Kernel,
    threads: usize,
    report: &mut String,
) -> Result<Model> {
    let cfg = TrainConfig {
        threads,
        ..TrainConfig::default()
    };
    fusedrnn::outln!(
        "[4/6] training {} ({} kernel, {threads} threads): 10 epochs, batch 64, RMSprop(1e-4), patience 3",
        cfg.arch,
        kernel.name()
    );
    let (train, val) = (tok.split(SplitName::Train), tok.split(SplitName::Val));
    let mut dir = Printing(RunDir::new(&args.out), cfg.epochs);
    let t = Instant::now();
    let outcome = fit(&train, &val, tok.num_words(), &cfg, kernel, &mut dir)?;
    let train_s = t.elapsed().as_secs_f64();
    let loss_png = dir.0.write_loss_plot(cfg.arch)?;
    let best = &outcome.history[outcome.best_epoch - 1];
    fusedrnn::outln!(
        "      best epoch {} (val_loss {:.4}, val_accuracy {:.4}) -> {}; loss curves -> {}",
        outcome.best_epoch,
        best.val_loss,
        best.val_accuracy,
        dir.0.best_path().display(),
        loss_png.display()
    );
    writeln!(report, "\n## Training (LSTM, the notebook's settings)\n")?;
    writeln!(
        report,
        "{} epochs in {train_s:.2} s ({} kernel, {threads} threads); best epoch {}: val_loss {:.4}, val_accuracy {:.4}.",
        outcome.history.len(),
        kernel.name(),
        outcome.best_epoch,
        best.val_loss,
        best.val_accuracy
    )?;
    writeln!(
        report,
        "Model `{}`, history `{}`, curves `{}`.",
        dir.0.best_path().display(),
        args.out.join("history.csv").display(),
        loss_png.display()
    )?;

    Ok(outcome.best)
}

/// Stage 5: `model.evaluate` on the test split.
fn evaluate_test(
    scorer: &Scorer,
    tok: &TokFile,
    threads: usize,
    report: &mut String,
) -> Result<()> {
    let test = tok.split(SplitName::Test);
    let probs = scorer.score_split(&test, tok.num_words(), threads)?;
    let e = evaluate(&probs, test.labels);
    fusedrnn::outln!(
        "[5/6] test: {} reviews - loss: {:.4} - accuracy: {:.4}",
        e.count,
        e.loss,
        e.accuracy
    );
    writeln!(
        report,
        "\nTest split: {} reviews, loss {:.4}, accuracy {:.4}.",
        e.count, e.loss, e.accuracy
    )?;

    Ok(())
}

/// Stage 6: Speed of the trained model on this machine, on one thread and on all of them.
fn speed(scorer: &Scorer, tok: &TokFile, threads: usize, report: &mut String) -> Result<()> {
    let test = tok.split(SplitName::Test);
    let seqs = test
        .rows_fixed::<SEQ_LEN>()
        .ok_or("the token file's rows are not 100 tokens")?;
    writeln!(
        report,
        "\n## Speed on this machine\n\n| threads | reviews/s | step p50 ns | step p99 ns | review p50 µs | review p99 µs |\n|---:|---:|---:|---:|---:|---:|"
    )?;
    for t in if threads > 1 {
        vec![1, threads]
    } else {
        vec![1]
    } {
        let r = measure(scorer, seqs, t, Duration::from_secs(1))?;
        fusedrnn::outln!(
            "[6/6] {t} thread(s): {:.0} reviews/s; one step p50 {:.1} ns; one review p50 {:.2} µs",
            r.reviews_per_s,
            r.step_latency_ns.p50,
            r.review_latency_us.p50
        );
        writeln!(
            report,
            "| {t} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} |",
            r.reviews_per_s,
            r.step_latency_ns.p50,
            r.step_latency_ns.p99,
            r.review_latency_us.p50,
            r.review_latency_us.p99
        )?;
    }

    Ok(())
}

/// Prints Keras' epoch line, then has the run folder written.
struct Printing(RunDir, usize);

impl Observer for Printing {
    fn epoch_done(
        &mut self,
        record: &EpochRecord,
        improved: Option<&Model>,
    ) -> std::result::Result<(), String> {
        fusedrnn::outln!("      {}", record.keras_line(self.1));
        self.0.record(record, improved)
    }
}
