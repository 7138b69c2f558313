//! `fusedrnn train`: the notebook's `model.fit` with EarlyStopping, writing the best checkpoint,
//! the history and the loss curves into one folder.

use std::fs;
use std::path::{Path, PathBuf};

use clap::Args;
use fusedrnn::kernels::Kernel;
use fusedrnn::model::{Arch, Model};
use fusedrnn::net::train::{NetObserver, NetTrainConfig, NetTrainer};
use fusedrnn::net::{Cell, Input, NetWeights, Spec};
use fusedrnn::tokfile::{Split, SplitName, TokFile, TokenIds};
use fusedrnn::train::{EpochRecord, Observer, RunDir, TrainConfig, fit};
use indicatif::{ProgressBar, ProgressStyle};

use crate::CliResult;

/// `fusedrnn train` flags.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Packed token file (from imdb-pack); trains on `train`, validates on `val`.
    #[arg(long)]
    pub data: PathBuf,
    /// Architecture: lstm, rnn (SimpleRNN), rnn-onehot (SimpleRNN on one-hot input), gru (Keras
    /// 3's and PyTorch's GRU, reset_after=True) or gru-v1 (reset_after=False).
    #[arg(long, value_parser = parse_arch)]
    pub arch: ArchArg,
    /// Recurrent units (1..=256). The notebook's shapes (8 units, embedding 16, length 100) run
    /// on their fixed-shape kernels; any other shape on the general ones.
    #[arg(long, default_value_t = 8, value_parser = in_range::<{ fusedrnn::net::MAX_UNITS }>, allow_negative_numbers = true)]
    pub units: usize,
    /// Embedding width (1..=4096; not for rnn-onehot). The sequence length is the data's
    /// (imdb-pack --maxlen).
    #[arg(long, default_value_t = 16, value_parser = in_range::<{ fusedrnn::net::MAX_WIDTH }>, allow_negative_numbers = true)]
    pub embedding: usize,
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
    /// Rows of the embedding / one-hot width (default: the data's num_words; at least that;
    /// at most 65536 for the notebook's shapes, 16,777,216 for the others).
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
/// Largest `--vocab` of any shape (the notebook's own are held to `fusedrnn::model::MAX_VOCAB`).
const MAX_VOCAB: usize = fusedrnn::net::MAX_VOCAB;

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

/// `--arch`: a cell, and for SimpleRNN whether its input is one-hot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchArg {
    pub cell: Cell,
    pub one_hot: bool,
}

fn parse_arch(s: &str) -> Result<ArchArg, String> {
    let (cell, one_hot) = match s {
        "rnn-onehot" => (Cell::SimpleRnn, true),
        _ => (
            Cell::from_name(s).ok_or_else(|| {
                format!("{s:?} is not one of: lstm, rnn, rnn-onehot, gru, gru-v1")
            })?,
            false,
        ),
    };
    Ok(ArchArg { cell, one_hot })
}

/// Draws the per-epoch progress bar, prints Keras' epoch lines and has the run folder written.
struct Cli {
    dir: RunDir,
    epochs: usize,
    bar: Option<ProgressBar>,
}

impl Observer for Cli {
    fn batch_done(&mut self, epoch: usize, done: usize, total: usize) {
        progress(&mut self.bar, self.epochs, epoch, done, total);
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
    if args.arch.one_hot && args.embedding != 16 {
        return Err(
            "--embedding does not apply to --arch rnn-onehot (its input is one-hot)".into(),
        );
    }
    let spec = Spec {
        cell: args.arch.cell,
        units: args.units,
        vocab: args.vocab.unwrap_or(tok.num_words()),
        input: if args.arch.one_hot {
            Input::OneHot
        } else {
            Input::Embedding {
                width: args.embedding,
            }
        },
        seq_len: tok.seq_len(),
    };
    spec.validate().map_err(|e| {
        // Name where the refused value came from: the token file's length and (without
        // `--vocab`) its `num_words` are the data's, not a flag's.
        if e.field == "seq_len" || (e.field == "vocab" && args.vocab.is_none()) {
            format!("{}: {e}", args.data.display())
        } else {
            format!("--arch/--units/--embedding/--vocab: {e}")
        }
    })?;
    if !spec.is_notebook_shape() {
        return run_net(args, &tok, spec);
    }
    let arch = match (spec.cell, args.arch.one_hot) {
        (Cell::Lstm, _) => Arch::Lstm,
        (_, true) => Arch::RnnOneHot,
        _ => Arch::Rnn,
    };
    let mut cfg = TrainConfig {
        arch,
        vocab: spec.vocab,
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
    cfg.batch_size = clamp_batch(cfg.batch_size, train.len());
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
    finish(
        &outcome.history,
        outcome.best_epoch,
        outcome.stopped_early,
        &args.out,
    );
    Ok(())
}

/// A shape other than the notebook's: [`NetTrainer`] (general kernels, any cell and size),
/// with the same flags, progress, epoch lines and run folder as the notebook's path.
fn run_net(args: &TrainArgs, tok: &TokFile, spec: Spec) -> CliResult {
    let (train, val) = (tok.split(SplitName::Train), tok.split(SplitName::Val));
    if spec.vocab < tok.num_words() {
        return Err(format!(
            "--vocab {} is below the data's num_words {}: every id must have an embedding row",
            spec.vocab,
            tok.num_words()
        )
        .into());
    }
    let mut config = NetTrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        dropout: args.dropout,
        patience: args.patience,
        seed: args.seed,
        threads: args.threads.unwrap_or_else(crate::default_threads),
        ..NetTrainConfig::default()
    };
    if train.is_empty() || val.is_empty() {
        return Err(format!(
            "{:?}: the train and val splits must not be empty",
            args.data
        )
        .into());
    }
    config.batch_size = clamp_batch(config.batch_size, train.len());
    let kernel = Kernel::select()?;
    let mut trainer = NetTrainer::new(spec, config)?.with_kernel(kernel);
    prepare_out_dir(&args.out, args.overwrite)?;
    eprintln!(
        "training {spec} on {} reviews, validating on {} ({} kernel, {} threads)",
        train.len(),
        val.len(),
        kernel.name(),
        config.threads
    );
    let mut cli = NetCli {
        dir: RunDir::new(&args.out),
        epochs: config.epochs,
        bar: None,
    };
    let labels = |s: &Split<'_>| s.labels.iter().map(|&y| f32::from(y)).collect::<Vec<f32>>();
    let (train_y, val_y) = (labels(&train), labels(&val));
    let outcome = match (train.tokens, val.tokens) {
        (TokenIds::U16(t), TokenIds::U16(v)) => {
            trainer.fit_with((t, &train_y), (v, &val_y), &mut cli)?
        }
        (TokenIds::U32(t), TokenIds::U32(v)) => {
            trainer.fit_with((t, &train_y), (v, &val_y), &mut cli)?
        }
        _ => return Err(format!("{:?}: splits of different id widths", args.data).into()),
    };
    cli.dir.write_loss_plot_named(spec.cell.name())?;
    finish(
        &outcome.history,
        outcome.best_epoch,
        outcome.stopped_early,
        &args.out,
    );
    Ok(())
}

/// `--batch-size` no larger than the train split. Keras' fit does the same: one batch holding
/// the whole split. Clamping keeps the batch buffers sized by the data, not by the flag.
fn clamp_batch(batch: usize, train: usize) -> usize {
    if batch > train {
        eprintln!(
            "note: --batch-size {batch} is larger than the train split ({train} reviews): one batch per epoch"
        );
        return train;
    }
    batch
}

/// What both trainers say at the end: early stopping, and the best epoch's checkpoint.
fn finish(history: &[EpochRecord], best_epoch: usize, stopped_early: bool, out: &Path) {
    if stopped_early {
        eprintln!(
            "early stopping after epoch {}",
            history.last().map_or(0, |r| r.epoch)
        );
    }
    let best = &history[best_epoch - 1];
    eprintln!(
        "best epoch {best_epoch}: val_loss {:.4}, val_accuracy {:.4} -> {}",
        best.val_loss,
        best.val_accuracy,
        out.join("best.safetensors").display()
    );
}

/// [`Cli`] for the general trainer.
struct NetCli {
    dir: RunDir,
    epochs: usize,
    bar: Option<ProgressBar>,
}

impl NetObserver for NetCli {
    fn batch_done(&mut self, epoch: usize, done: usize, total: usize) {
        progress(&mut self.bar, self.epochs, epoch, done, total);
    }

    fn epoch_done(
        &mut self,
        record: &EpochRecord,
        improved: Option<&NetWeights>,
    ) -> Result<(), String> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        fusedrnn::outln!("{}", record.keras_line(self.epochs));
        self.dir.record_net(record, improved)
    }
}

/// The per-epoch progress bar both observers draw.
fn progress(bar: &mut Option<ProgressBar>, epochs: usize, epoch: usize, done: usize, total: usize) {
    let bar = bar.get_or_insert_with(|| {
        let bar = ProgressBar::new(total as u64);
        if let Ok(style) =
            ProgressStyle::with_template("Epoch {msg} [{bar:30}] {pos}/{len} {elapsed_precise}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(format!("{epoch}/{epochs}"));
        bar
    });
    bar.set_position(done as u64);
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
