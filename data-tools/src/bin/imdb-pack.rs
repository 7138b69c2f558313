//! `imdb-pack`: Keras' `imdb.npz` → fusedrnn's packed token file (`.tok`), with exactly the
//! notebook's preprocessing. See `imdb-pack --help`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use fusedrnn::tokfile::Side;
use fusedrnn_data_tools::{ImdbArrays, PackParams, Packed, pack};

/// Packs Keras' imdb.npz into a fusedrnn token file, applying
/// `imdb.load_data`, `train_test_split` and `pad_sequences` exactly as Keras and sklearn do.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Keras' imdb.npz (keys x_train, y_train, x_test, y_test).
    #[arg(long)]
    npz: PathBuf,
    /// Output token file; written atomically (temporary file, then rename).
    #[arg(long)]
    out: PathBuf,
    /// load_data(num_words): keep the N most frequent words, others become the OOV char; "none" keeps all.
    #[arg(long, default_value = "500")]
    num_words: OrNone,
    /// pad_sequences(maxlen): tokens per review.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1 << 20))]
    maxlen: u32,
    /// load_data(seed): the RandomState that shuffles train, then test.
    #[arg(long, default_value_t = 113)]
    seed: u32,
    /// train_test_split(test_size): the fraction of training reviews kept for validation; 0 = no split.
    #[arg(long, default_value_t = 0.2)]
    val_split: f64,
    /// train_test_split(random_state).
    #[arg(long, default_value_t = 42)]
    split_seed: u32,
    /// load_data(skip_top): the most frequent ids below this become the OOV char.
    #[arg(long, default_value_t = 0)]
    skip_top: u32,
    /// load_data(start_char): prefixed to every review; "none" for no start char.
    #[arg(long, default_value = "1")]
    start_char: OrNone,
    /// load_data(oov_char): replaces cut words; "none" drops them instead.
    #[arg(long, default_value = "2")]
    oov_char: OrNone,
    /// load_data(index_from): added to every stored word rank.
    #[arg(long, default_value_t = 3)]
    index_from: u32,
    /// pad_sequences(padding): pad at the front (pre) or back (post).
    #[arg(long, default_value = "pre")]
    padding: Side,
    /// pad_sequences(truncating): drop the front (pre) or back (post) of long reviews.
    #[arg(long, default_value = "pre")]
    truncating: Side,
    /// Print nothing on success.
    #[arg(long, short)]
    quiet: bool,
}

/// An integer flag that also takes "none" (Python's `None`).
#[derive(Clone, Copy, Debug)]
struct OrNone(Option<u32>);

impl std::str::FromStr for OrNone {
    type Err = String;
    fn from_str(s: &str) -> Result<OrNone, String> {
        if s.eq_ignore_ascii_case("none") {
            Ok(OrNone(None))
        } else {
            s.parse()
                .map(|v| OrNone(Some(v)))
                .map_err(|_| format!("expected a non-negative integer or \"none\", got {s:?}"))
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = fusedrnn::cli::clean_up_on_interrupt("imdb-pack") {
        eprintln!("imdb-pack: error: {e}");
        return ExitCode::FAILURE;
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("imdb-pack: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), fusedrnn_data_tools::Error> {
    if !(args.val_split.is_finite() && (0.0..1.0).contains(&args.val_split)) {
        return Err(fusedrnn_data_tools::Error::Config(format!(
            "--val-split {} must be in [0, 1)",
            args.val_split
        )));
    }
    // Before anything is read: an --out that is the --npz itself (however spelled or linked), a
    // folder or a device would lose the input or be replaced by the rename.
    fusedrnn::cli::paths::check_out_file(&args.out, &[("--npz", &args.npz)])
        .map_err(fusedrnn_data_tools::Error::Config)?;
    let request = PackParams {
        // Keras' `num_words=None`, which `pack` reads from 0 as `load_data`'s `if not num_words`.
        num_words: args.num_words.0.unwrap_or(0),
        seq_len: args.maxlen,
        seed: args.seed.into(),
        val_split: args.val_split,
        split_seed: args.split_seed.into(),
        skip_top: args.skip_top,
        start_char: args.start_char.0,
        oov_char: args.oov_char.0,
        index_from: args.index_from,
        padding: args.padding,
        truncating: args.truncating,
    };
    let t0 = Instant::now();
    let arrays = ImdbArrays::read(&args.npz)?;
    let t_read = t0.elapsed();
    let packed = pack(&arrays, &request)?;
    let t_pack = t0.elapsed() - t_read;
    let bytes = packed.write(&args.out)?;
    let total = t0.elapsed();
    if !args.quiet {
        print_summary(
            args,
            &packed,
            bytes,
            [
                t_read.as_secs_f64(),
                t_pack.as_secs_f64(),
                total.as_secs_f64(),
            ],
        );
    }
    Ok(())
}

fn opt(v: Option<u32>) -> String {
    v.map_or("None".into(), |v| v.to_string())
}

fn print_summary(args: &Args, packed: &Packed, bytes: u64, [read, pack, total]: [f64; 3]) {
    let p = &packed.params;
    fusedrnn::outln!(
        "imdb-pack: {} -> {} ({:.1} MB) in {total:.3} s (read {read:.3} s, pack {pack:.3} s, write {:.3} s)",
        args.npz.display(),
        args.out.display(),
        bytes as f64 / 1e6,
        total - read - pack
    );
    fusedrnn::outln!(
        "  load_data(num_words={}{}, skip_top={}, seed={}, start_char={}, oov_char={}, index_from={})",
        opt(args.num_words.0),
        if args.num_words.0.is_none() {
            format!(" -> {}", p.num_words)
        } else {
            String::new()
        },
        p.skip_top,
        p.seed,
        opt(p.start_char),
        opt(p.oov_char),
        p.index_from
    );
    if p.val_split > 0.0 {
        fusedrnn::outln!(
            "  train_test_split(test_size={}, random_state={})",
            p.val_split,
            p.split_seed
        );
    } else {
        fusedrnn::outln!("  no validation split");
    }
    fusedrnn::outln!(
        "  pad_sequences(maxlen={}, padding='{}', truncating='{}')",
        p.seq_len,
        p.padding.as_str(),
        p.truncating.as_str()
    );
    fusedrnn::outln!();
    fusedrnn::outln!(
        "  {:<6} {:>8} {:>9} {:>9} {:>8} {:>10} {:>7}",
        "split",
        "reviews",
        "positive",
        "mean len",
        "median",
        "truncated",
        "oov"
    );
    for (name, s) in ["train", "val", "test"].iter().zip(&packed.splits) {
        let n = s.rows();
        let positives = s.labels.iter().filter(|&&l| l == 1).count();
        let mean = s.lengths.iter().map(|&l| f64::from(l)).sum::<f64>() / n.max(1) as f64;
        let truncated = s.lengths.iter().filter(|&&l| l > p.seq_len).count();
        let oov = p
            .oov_char
            .map_or(0, |o| s.tokens.iter().filter(|&&t| t == o).count());
        let nonpad = s.tokens.iter().filter(|&&t| t != 0).count();
        fusedrnn::outln!(
            "  {:<6} {:>8} {:>8.1}% {:>9.2} {:>8.1} {:>9.1}% {:>6.1}%",
            name,
            n,
            pct(positives, n),
            mean,
            median(&s.lengths),
            pct(truncated, n),
            pct(oov, nonpad),
        );
    }
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

fn median(v: &[u32]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        f64::from(s[m])
    } else {
        (f64::from(s[m - 1]) + f64::from(s[m])) / 2.0
    }
}
