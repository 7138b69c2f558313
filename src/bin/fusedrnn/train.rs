//! `fusedrnn train`: the notebook's `model.fit` with EarlyStopping, writing the best checkpoint,
//! the history and the loss curves into one folder.

use std::fs;
use std::path::{Path, PathBuf};

use clap::Args;
use fusedrnn::kernels::Kernel;
use fusedrnn::model::{Arch, Model};
use fusedrnn::tokfile::{SplitName, TokFile};
use fusedrnn::train::{EpochRecord, Observer, RunDir, TrainConfig, fit};
use indicatif::{ProgressBar, ProgressStyle};

use crate::CliResult;

/// `fusedrnn train` flags.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Packed token file (from imdb-pack); trains on `train`, validates on `val`.
    #[arg(long)]
    pub data: PathBuf,
    /// Architecture: lstm, rnn or rnn-onehot.
    #[arg(long, value_parser = parse_arch)]
    pub arch: Arch,
    /// Input dropout rate in [0, 1), as Keras' `LSTM(8, dropout=…)` / `SimpleRNN(8, dropout=…)`.
    #[arg(long, default_value_t = 0.0, value_parser = parse_dropout, allow_negative_numbers = true)]
    pub dropout: f32,
    /// Maximum number of epochs (1..=100000).
    #[arg(long, default_value_t = 10, value_parser = in_range::<MAX_EPOCHS>)]
    pub epochs: usize,
    /// Reviews per batch (1..=65536; one batch of the whole split if larger; the last batch of
    /// an epoch may be smaller).
    #[arg(long, default_value_t = 64, value_parser = in_range::<MAX_BATCH>)]
    pub batch_size: usize,
    /// RMSprop learning rate.
    #[arg(long, default_value_t = 1e-4, value_parser = parse_lr, allow_negative_numbers = true)]
    pub lr: f32,
    /// EarlyStopping patience on val_loss (best weights restored).
    #[arg(long, default_value_t = 3, allow_negative_numbers = true)]
    pub patience: usize,
    /// Seed of the initial weights, the shuffles and the dropout masks.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Threads (default: every core). Results do not depend on it.
    #[arg(long, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Rows of the embedding / one-hot width (default: the data's num_words; at least that,
    /// at most 65536, what a model file holds).
    #[arg(long, value_parser = in_range::<MAX_VOCAB>)]
    pub vocab: Option<usize>,
    /// Output folder (created if missing; its parent must exist): best.safetensors,
    /// history.csv, loss.png. An existing folder must be empty, unless --overwrite.
    #[arg(long)]
    pub out: PathBuf,
    /// Train into an --out folder that already holds files, replacing an earlier run's
    /// best.safetensors, history.csv and loss.png.
    #[arg(long)]
    pub overwrite: bool,
}

/// Largest `--epochs`: far beyond any real run, small enough for the per-epoch history.
const MAX_EPOCHS: usize = 100_000;
/// Largest `--batch-size` (and no larger than the train split).
const MAX_BATCH: usize = 1 << 16;
/// Largest `--vocab`: what a model file can hold (u16 token ids).
const MAX_VOCAB: usize = fusedrnn::model::MAX_VOCAB;

/// A count flag in `1..=MAX`, checked before anything is allocated or created.
fn in_range<const MAX: usize>(s: &str) -> Result<usize, String> {
    match at_least_one(s)? {
        n if n > MAX => Err(format!("{n} is not in 1..={MAX}")),
        n => Ok(n),
    }
}

/// A count flag (epochs, batch size, threads, vocab): a whole number of at least 1.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// `--threads`: 1..=1024, as for predict, eval and bench.
fn parse_threads(s: &str) -> Result<usize, String> {
    match at_least_one(s)? {
        n if n > 1024 => Err(format!("{n} is not in 1..=1024")),
        n => Ok(n),
    }
}

/// `--dropout`: a rate in [0, 1).
fn parse_dropout(s: &str) -> Result<f32, String> {
    let v: f32 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..1.0).contains(&v) {
        Ok(v)
    } else {
        Err("must be in [0, 1)".into())
    }
}

/// `--lr`: a finite number above zero.
fn parse_lr(s: &str) -> Result<f32, String> {
    let v: f32 = s.parse().map_err(|e| format!("{e}"))?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err("must be a finite number > 0".into())
    }
}

fn parse_arch(s: &str) -> Result<Arch, String> {
    Arch::from_name(s).ok_or_else(|| format!("{s:?} is not one of: lstm, rnn, rnn-onehot"))
}

/// Draws the per-epoch progress bar, prints Keras' epoch lines and has the run folder written.
struct Cli {
    dir: RunDir,
    epochs: usize,
    bar: Option<ProgressBar>,
}

impl Observer for Cli {
    fn batch_done(&mut self, epoch: usize, done: usize, total: usize) {
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("Epoch {msg} [{bar:30}] {pos}/{len} {elapsed_precise}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(format!("{epoch}/{}", self.epochs));
            bar
        });
        bar.set_position(done as u64);
    }

    fn epoch_done(&mut self, record: &EpochRecord, improved: Option<&Model>) -> Result<(), String> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        fusedrnn::outln!("{}", record.keras_line(self.epochs));
        self.dir.record(record, improved)
    }
}

pub fn run(args: &TrainArgs) -> CliResult {
    let tok = TokFile::open(&args.data)?;
    let (train, val) = (tok.split(SplitName::Train), tok.split(SplitName::Val));
    let mut cfg = TrainConfig {
        arch: args.arch,
        vocab: args.vocab.unwrap_or(tok.num_words()),
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        dropout: args.dropout,
        patience: args.patience,
        seed: args.seed,
        threads: args.threads.unwrap_or_else(crate::default_threads),
    };
    cfg.check(&train, &val, tok.num_words())
        .map_err(|e| format!("{:?}: {e}", args.data))?;
    if cfg.batch_size > train.len() {
        // Keras' fit does the same: one batch holding the whole split. Clamping keeps the
        // batch buffers sized by the data, not by the flag.
        eprintln!(
            "note: --batch-size {} is larger than the train split ({} reviews): one batch per epoch",
            cfg.batch_size,
            train.len()
        );
        cfg.batch_size = train.len();
    }
    let kernel = Kernel::select()?;
    prepare_out_dir(&args.out, args.overwrite)?;
    eprintln!(
        "training {} on {} reviews, validating on {} ({} kernel, {} threads)",
        cfg.arch,
        train.len(),
        val.len(),
        kernel.name(),
        cfg.threads
    );
    let mut cli = Cli {
        dir: RunDir::new(&args.out),
        epochs: cfg.epochs,
        bar: None,
    };
    let outcome = fit(&train, &val, tok.num_words(), &cfg, kernel, &mut cli)?;
    cli.dir.write_loss_plot(cfg.arch)?;
    if outcome.stopped_early {
        eprintln!(
            "early stopping after epoch {}",
            outcome.history.last().map_or(0, |r| r.epoch)
        );
    }
    let best = &outcome.history[outcome.best_epoch - 1];
    eprintln!(
        "best epoch {}: val_loss {:.4}, val_accuracy {:.4} -> {}",
        outcome.best_epoch,
        best.val_loss,
        best.val_accuracy,
        args.out.join("best.safetensors").display()
    );
    Ok(())
}

/// What a run writes into its folder.
const RUN_FILES: [&str; 3] = ["best.safetensors", "history.csv", "loss.png"];

/// Creates `dir` (not its parents), or accepts an existing empty folder; a folder holding files
/// is refused unless `overwrite`, and then the earlier run's files are removed first, so that an
/// interrupted new run never leaves them beside its own.
fn prepare_out_dir(dir: &Path, overwrite: bool) -> Result<(), String> {
    let meta = match fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return fs::create_dir(dir).map_err(|e| {
                let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
                match parent {
                    Some(p) if !p.is_dir() => {
                        format!("cannot create --out {dir:?}: its parent {p:?} is not a folder")
                    }
                    _ => format!("cannot create --out {dir:?}: {e}"),
                }
            });
        }
        Err(e) => return Err(format!("cannot use --out {dir:?}: {e}")),
    };
    if !meta.is_dir() {
        return Err(format!("--out {dir:?} is a file, not a folder"));
    }
    let mut entries: Vec<String> = fs::read_dir(dir)
        .map_err(|e| format!("cannot read --out {dir:?}: {e}"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    if !overwrite {
        entries.sort();
        let shown = entries
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        return Err(format!(
            "--out {dir:?} already holds files ({shown}{}): give a new or empty folder, or \
             --overwrite to replace that run",
            if entries.len() > 3 { ", ..." } else { "" }
        ));
    }
    for name in RUN_FILES {
        match fs::remove_file(dir.join(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot remove {:?}: {e}", dir.join(name))),
        }
    }
    Ok(())
}
