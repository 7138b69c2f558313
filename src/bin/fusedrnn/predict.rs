//! `fusedrnn predict`: a split of a token file to a `.npy` of probabilities, or raw review text
//! to one probability per line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{ArgGroup, Args};
use fusedrnn::infer::with_threads;
use fusedrnn::kernels::Kernel;
use fusedrnn::net::{AnyScorer, open_any};
use fusedrnn::text::{Tokenizer, TokenizerConfig};
use fusedrnn::tokfile::SplitName;
use serde_json::json;

use fusedrnn::display;

use crate::CliResult;
use crate::input::{Input, prepare};

/// `fusedrnn predict`: either a whole split of a token file to a `.npy` (`--data`, `--out`), or raw
/// review text to one probability per line (`--word-index` with `--text` or `--stdin`).
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("source").required(true).args(["data", "text", "stdin"])))]
#[command(group(ArgGroup::new("raw").args(["text", "stdin"])))]
pub struct PredictArgs {
    /// Model weights of any supported shape (.safetensors, Keras or PyTorch tensor names; or a
    /// Keras .h5 / .keras). A file that does not record its input length takes --data's.
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

/// Longest line `predict --stdin` scores (1 MiB, some 200,000 words; a review is a few KB).
/// Memory per line stays at this; a longer line is refused with an error naming its number, and
/// the lines after it are served.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Raw text → tokenizer → `pad_sequences` to the model's length → the model's latency path
/// (`Scorer::score_text`, the same bits as `Tokenizer::padded` then `Scorer::score_one`, for the
/// notebook's shapes,
/// `AnyScorer::score_unpadded` for the others).
fn predict_text(args: &PredictArgs, word_index: &Path) -> CliResult {
    let model = open_any(&args.model, None)?;
    let scorer = AnyScorer::new(&model, Kernel::select()?)
        .map_err(|e| format!("{}: {e}", display::path(&args.model)))?;
    let config = TokenizerConfig {
        num_words: Some(u32::try_from(scorer.vocab())?),
        ..TokenizerConfig::default()
    };
    let tokenizer = Tokenizer::from_file(word_index, config)?;
    // Checked here, not at the first review: the start and oov ids must exist in the model.
    if tokenizer.max_id() as usize >= scorer.vocab() {
        return Err(format!(
            "--model {} has a vocabulary of {} ids, but the tokenizer of --word-index {} emits ids \
             up to {} (start {}, oov {}): not a model for this index",
            display::path(&args.model),
            scorer.vocab(),
            display::path(word_index),
            tokenizer.max_id(),
            config.start_char,
            config.oov_char
        )
        .into());
    }
    let mut wide = Vec::new();
    let mut score = |text: &str| -> CliResult {
        let prob = match &scorer {
            // Only the last SEQ_LEN words are tokenized: they are all pad_sequences keeps.
            AnyScorer::Notebook(s) => s.score_text(&tokenizer, text)?,
            AnyScorer::Net(_) => {
                tokenizer.tokenize_wide_into(text, &mut wide);
                scorer.score_unpadded(&wide)?
            }
        };
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
    let mut lines = BoundedLines::new(MAX_LINE_BYTES);
    let mut refused = 0u64;
    while let Some(line) = lines
        .next(&mut stdin)
        .map_err(|e| format!("reading stdin: {e}"))?
    {
        match line {
            Line::Whole(no, body) => {
                let body = body.strip_suffix(b"\r").unwrap_or(body);
                // Invalid UTF-8 becomes U+FFFD, a separator, rather than ending the stream.
                score(&String::from_utf8_lossy(body))
                    .map_err(|e| format!("stdin line {no}: {e}"))?;
            }
            Line::TooLong(no) => {
                // One line out per line in, so that answers stay matched to their lines.
                refused += 1;
                eprintln!(
                    "fusedrnn: error: stdin line {no}: longer than {MAX_LINE_BYTES} bytes: not scored"
                );
                if args.json {
                    fusedrnn::outln!("{}", json!({"prob": null, "error": "line too long"}));
                } else {
                    fusedrnn::outln!("nan");
                }
            }
        }
    }
    if refused > 0 {
        return Err(format!(
            "{refused} stdin line(s) longer than {MAX_LINE_BYTES} bytes were not scored"
        )
        .into());
    }
    Ok(())
}

/// A line from [`BoundedLines`]: its 1-based number and bytes (without the `\n`), or only its
/// number when it was longer than the limit.
enum Line<'a> {
    Whole(u64, &'a [u8]),
    TooLong(u64),
}

/// Splits a byte stream into lines holding at most `max` bytes of any line in memory: the rest
/// of a longer line is read and dropped up to its newline.
struct BoundedLines {
    buf: Vec<u8>,
    max: usize,
    line_no: u64,
}

impl BoundedLines {
    fn new(max: usize) -> BoundedLines {
        BoundedLines {
            buf: Vec::with_capacity(4096.min(max)),
            max,
            line_no: 0,
        }
    }

    fn next(&mut self, input: &mut impl std::io::BufRead) -> std::io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (part, used, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], i + 1, true),
                None => (chunk, chunk.len(), false),
            };
            if !too_long {
                if self.buf.len() + part.len() > self.max {
                    too_long = true;
                    self.buf.clear();
                    self.buf.shrink_to(4096.min(self.max));
                } else {
                    self.buf.extend_from_slice(part);
                }
            }
            input.consume(used);
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line_no += 1;
        Ok(Some(if too_long {
            Line::TooLong(self.line_no)
        } else {
            Line::Whole(self.line_no, &self.buf)
        }))
    }
}

/// Reviews scored and written per step of `predict`: the output is streamed, so its memory stays
/// at one chunk (1 MiB of probabilities) however large the token file is (the token file itself
/// is held in memory: see `TokFile::open`).
const PREDICT_CHUNK: usize = 1 << 18;

fn predict_split(input: &Input, out: &Path) -> CliResult {
    fusedrnn::cli::paths::check_out_file(
        out,
        &[("--data", &input.data), ("--model", &input.model)],
    )?;
    let (scorer, tok) = prepare(input)?;
    let split = tok.split(input.split);
    let n = split.len();
    let len = scorer.seq_len();
    let kernel = scorer.kernel();
    let threads = input.threads();
    let t = Instant::now();
    let write = |w: &mut std::io::BufWriter<std::fs::File>| -> std::io::Result<()> {
        w.write_all(&fusedrnn::infer::npy::f32_header(n))?;
        let mut probs = vec![0.0f32; PREDICT_CHUNK.min(n)];
        for start in (0..n).step_by(PREDICT_CHUNK) {
            let end = (start + PREDICT_CHUNK).min(n);
            let p = &mut probs[..end - start];
            // `prepare` checked every id, so this cannot fail; if it did, the write is abandoned.
            scorer
                .score_ids(
                    input.split.as_str(),
                    split.tokens.slice(start * len..end * len),
                    p,
                )
                .map_err(std::io::Error::other)?;
            // Little-endian as the header says: token files only open on little-endian hosts.
            w.write_all(bytemuck::cast_slice(p))?;
        }
        Ok(())
    };
    // On the pool of `threads`: each chunk is scored in parallel, then written.
    with_threads(threads, || fusedrnn::atomic::write_with(out, write))?
        .map_err(|e| format!("{}: {e}", display::path(out)))?;
    let seconds = t.elapsed().as_secs_f64();
    eprintln!(
        "wrote {} probabilities to {} ({} kernel, {threads} threads, {:.0} reviews/s)",
        n,
        out.display(),
        kernel.name(),
        n as f64 / seconds.max(1e-9)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize) -> Vec<Result<Vec<u8>, u64>> {
        let mut lines = BoundedLines::new(max);
        let mut r = std::io::BufReader::with_capacity(3, input);
        let mut out = Vec::new();
        while let Some(l) = lines.next(&mut r).unwrap() {
            out.push(match l {
                Line::Whole(_, b) => Ok(b.to_vec()),
                Line::TooLong(n) => Err(n),
            });
        }
        out
    }

    #[test]
    fn lines_over_the_limit_are_refused_and_the_next_ones_served() {
        let got = collect(b"ab\nabcdefgh\n\nabcde\nxyz", 5);
        assert_eq!(
            got,
            vec![
                Ok(b"ab".to_vec()),
                Err(2),
                Ok(Vec::new()),
                Ok(b"abcde".to_vec()),
                Ok(b"xyz".to_vec())
            ]
        );
        assert_eq!(collect(b"", 5), Vec::<Result<Vec<u8>, u64>>::new());
        assert_eq!(collect(b"abcdefgh", 5), vec![Err(1)]);
    }
}
