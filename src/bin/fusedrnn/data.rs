//! `fusedrnn data info|hist`: what is in a token file.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use fusedrnn::tokfile::{SplitName, TokFile};
use serde_json::json;

use crate::CliResult;

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Per split: count, positives, content hashes, mean and median unpadded length.
    Info {
        /// The token file.
        file: PathBuf,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The review-length histogram (unpadded lengths), as a PNG.
    Hist {
        /// The token file.
        file: PathBuf,
        /// Output PNG (written atomically).
        #[arg(long)]
        out: PathBuf,
        /// Which split's reviews.
        #[arg(long, default_value = "train")]
        split: SplitName,
        /// Number of bins.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        bins: u32,
    },
}

pub fn run(cmd: DataCommand) -> CliResult {
    match cmd {
        DataCommand::Info { file, json } => info(&file, json),
        DataCommand::Hist {
            file,
            out,
            split,
            bins,
        } => hist(&file, &out, split, bins as usize),
    }
}

fn info(file: &Path, as_json: bool) -> CliResult {
    let tok = TokFile::open(file)?;
    let p = *tok.params();
    let stats: Vec<_> = tok.splits().map(|s| (s.name, s.stats())).collect();
    if as_json {
        let splits: serde_json::Map<String, serde_json::Value> = stats
            .iter()
            .map(|(name, s)| {
                let v = json!({
                    "count": s.count,
                    "seq_len": p.seq_len,
                    "num_words": p.num_words,
                    "positives": s.positives,
                    "tokens_sha256": s.tokens_sha256,
                    "labels_sha256": s.labels_sha256,
                    "mean_length": s.mean_length,
                    "median_length": s.median_length,
                });
                (name.to_string(), v)
            })
            .collect();
        let out = json!({
            "file": file.display().to_string(),
            "num_words": p.num_words,
            "seq_len": p.seq_len,
            "version": tok.version(),
            "token_dtype": tok.token_width().as_str(),
            "params": {
                "seed": p.seed,
                "val_split": p.val_split,
                "split_seed": p.split_seed,
                "skip_top": p.skip_top,
                "start_char": p.start_char,
                "oov_char": p.oov_char,
                "index_from": p.index_from,
                "padding": p.padding.as_str(),
                "truncating": p.truncating.as_str(),
            },
            "splits": splits,
        });
        fusedrnn::outln!("{out}");
        return Ok(());
    }
    fusedrnn::outln!(
        "{}: seq_len {}, num_words {}, {} token ids (format version {})",
        file.display(),
        p.seq_len,
        p.num_words,
        tok.token_width().as_str(),
        tok.version()
    );
    fusedrnn::outln!(
        "  packed with load_data(seed={}, skip_top={}, start_char={:?}, oov_char={:?}, index_from={}), \
         val_split {} (seed {}), padding '{}', truncating '{}'",
        p.seed,
        p.skip_top,
        p.start_char,
        p.oov_char,
        p.index_from,
        p.val_split,
        p.split_seed,
        p.padding.as_str(),
        p.truncating.as_str()
    );
    fusedrnn::outln!(
        "{:<6} {:>8} {:>9} {:>10} {:>8}  {:<16} {:<16}",
        "split",
        "count",
        "positives",
        "mean len",
        "median",
        "tokens_sha256",
        "labels_sha256"
    );
    for (name, s) in &stats {
        fusedrnn::outln!(
            "{:<6} {:>8} {:>9} {:>10.5} {:>8.1}  {:<16} {:<16}",
            name.as_str(),
            s.count,
            s.positives,
            s.mean_length,
            s.median_length,
            &s.tokens_sha256[..16],
            &s.labels_sha256[..16]
        );
    }
    Ok(())
}

fn hist(file: &Path, out: &Path, split: SplitName, bins: usize) -> CliResult {
    fusedrnn::cli::paths::check_out_file(out, &[("FILE", file)])?;
    let tok = TokFile::open(file)?;
    let s = tok.split(split);
    if s.is_empty() {
        return Err(format!(
            "{}: split {split} is empty: nothing to plot",
            file.display()
        )
        .into());
    }
    let title = format!("Review lengths, {split} split ({} reviews)", s.len());
    fusedrnn::plot::length_histogram(out, s.lengths, bins, tok.params().seq_len, &title)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
