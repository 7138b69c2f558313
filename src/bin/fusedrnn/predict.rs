//! `fusedrnn predict`: a split of a token file to a `.npy` of probabilities, or raw review text
//! to one probability per line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{ArgGroup, Args};
use fusedrnn::infer::{Scorer, with_threads};
use fusedrnn::kernels::Kernel;
use fusedrnn::text::{Tokenizer, TokenizerConfig};
use fusedrnn::tokfile::SplitName;
use serde_json::json;

use crate::CliResult;
use crate::input::{Input, prepare, rows};

/// `fusedrnn predict`: either a whole split of a token file to a `.npy` (`--data`, `--out`), or raw
/// review text to one probability per line (`--word-index` with `--text` or `--stdin`).
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("source").required(true).args(["data", "text", "stdin"])))]
#[command(group(ArgGroup::new("raw").args(["text", "stdin"])))]
pub struct PredictArgs {
    /// Model weights (.safetensors, Keras or PyTorch tensor names; or a Keras .h5 / .keras).
    #[arg(long)]
    pub model: PathBuf,
    /// Packed token file (from imdb-pack): score a whole split into --out.
    #[arg(long, requires = "out")]
    pub data: Option<PathBuf>,
    /// Output .npy for --data (written atomically).
    #[arg(long, requires = "data", conflicts_with = "raw")]
    pub out: Option<PathBuf>,
    /// Which split of --data to use.
    #[arg(
        long,
        default_value = "test",
        requires = "data",
        conflicts_with = "raw"
    )]
    pub split: SplitName,
    /// Threads for --data (default: every core).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024), requires = "data", conflicts_with = "raw")]
    pub threads: Option<u32>,
    /// Word index (imdb_word_index.json, word → rank) for --text / --stdin. Words whose id
    /// (rank + 3) is not below the model's vocabulary become the oov id 2, as in
    /// `load_data(num_words=vocab)`.
    #[arg(long, requires = "raw")]
    pub word_index: Option<PathBuf>,
    /// One review's raw text: prints its probability.
    #[arg(long, requires = "word_index")]
    pub text: Option<String>,
    /// Read one review per line from stdin; print one probability per line, flushed per line.
    #[arg(long, requires = "word_index")]
    pub stdin: bool,
    /// With --text / --stdin: print `{"prob": p, "label": 0|1}` lines (label = p > 0.5).
    #[arg(long, requires = "raw")]
    pub json: bool,
}

pub fn run(args: &PredictArgs) -> CliResult {
    match (&args.data, &args.out, &args.word_index) {
        (Some(data), Some(out), None) => {
            let input = Input {
                model: args.model.clone(),
                data: data.clone(),
                split: args.split,
                threads: args.threads,
            };
            predict_split(&input, out)
        }
        (None, None, Some(word_index)) => predict_text(args, word_index),
        // clap's groups and `requires` rule the other combinations out.
        _ => Err("give either --data and --out, or --word-index with --text or --stdin".into()),
    }
}

/// Raw text → tokenizer → `pad_sequences` (`Tokenizer::padded`) → the model's latency path
/// (`Scorer::score_one`).
fn predict_text(args: &PredictArgs, word_index: &Path) -> CliResult {
    let model = crate::import::load_model(&args.model)?;
    let scorer = Scorer::new(&model, Kernel::select()?);
    let config = TokenizerConfig {
        num_words: Some(u32::try_from(scorer.vocab())?),
        ..TokenizerConfig::default()
    };
    let tokenizer = Tokenizer::from_file(word_index, config)?;
    let score = |text: &str| -> CliResult {
        // Only the last SEQ_LEN words are tokenized: they are all pad_sequences keeps.
        let prob = scorer.score_one(&tokenizer.padded(text))?;
        if args.json {
            fusedrnn::outln!("{}", json!({"prob": prob, "label": u8::from(prob > 0.5)}));
        } else {
            fusedrnn::outln!("{prob}");
        }
        Ok(())
    };
    if let Some(text) = &args.text {
        return score(text);
    }
    // Stdout is line-buffered, so each probability leaves as soon as its line is scored.
    let mut stdin = std::io::stdin().lock();
    let mut line = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    loop {
        line.clear();
        let n = std::io::BufRead::read_until(&mut stdin, b'\n', &mut line)
            .map_err(|e| format!("reading stdin: {e}"))?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        // Invalid UTF-8 becomes U+FFFD, a separator, rather than ending the stream.
        score(&String::from_utf8_lossy(body)).map_err(|e| format!("stdin line {line_no}: {e}"))?;
    }
}

/// Reviews scored and written per step of `predict`: the output is streamed, so memory stays at
/// one chunk (1 MiB of probabilities) however large the token file is.
const PREDICT_CHUNK: usize = 1 << 18;

fn predict_split(input: &Input, out: &Path) -> CliResult {
    let (scorer, tok) = prepare(input)?;
    let seqs = rows(&tok, input);
    let kernel = scorer.kernel();
    let threads = input.threads();
    let t = Instant::now();
    let write = |w: &mut std::io::BufWriter<std::fs::File>| -> std::io::Result<()> {
        w.write_all(&fusedrnn::infer::npy::f32_header(seqs.len()))?;
        let mut probs = vec![0.0f32; PREDICT_CHUNK.min(seqs.len())];
        for chunk in seqs.chunks(PREDICT_CHUNK) {
            let p = &mut probs[..chunk.len()];
            scorer.score(chunk, p);
            // Little-endian as the header says: token files only open on little-endian hosts.
            w.write_all(bytemuck::cast_slice(p))?;
        }
        Ok(())
    };
    // On the pool of `threads`: each chunk is scored in parallel, then written.
    with_threads(threads, || fusedrnn::atomic::write_with(out, write))?
        .map_err(|e| format!("{}: {e}", out.display()))?;
    let seconds = t.elapsed().as_secs_f64();
    eprintln!(
        "wrote {} probabilities to {} ({} kernel, {threads} threads, {:.0} reviews/s)",
        seqs.len(),
        out.display(),
        kernel.name(),
        seqs.len() as f64 / seconds.max(1e-9)
    );
    Ok(())
}
