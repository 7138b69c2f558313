//! What `eval`, `predict --data` and `bench` share: the `--model` / `--data` / `--split` /
//! `--threads` flags, and the model and split they name, opened and checked against each other.

use std::borrow::Cow;
use std::path::PathBuf;

use clap::Args;
use fusedrnn::infer::with_threads;
use fusedrnn::kernels::Kernel;
use fusedrnn::net::{AnyScorer, open_any};
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::tokfile::{SplitName, TokFile};

/// Where the model and the data come from.
#[derive(Args, Debug)]
pub struct Input {
    /// Model weights of any supported shape (.safetensors, Keras or PyTorch tensor names; or a
    /// Keras .h5 / .keras). A file that does not record its input length takes the data's.
    #[arg(long)]
    pub model: PathBuf,
    /// Packed token file (from imdb-pack).
    #[arg(long)]
    pub data: PathBuf,
    /// Which split to use.
    #[arg(long, default_value = "test")]
    pub split: SplitName,
    /// Threads (default: every core).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
}

impl Input {
    pub fn threads(&self) -> usize {
        self.threads
            .map_or_else(crate::default_threads, |t| t as usize)
    }
}

/// A split scored by a model.
pub struct Scored {
    pub scorer: AnyScorer,
    pub tok: TokFile,
    pub probs: Vec<f32>,
}

/// Loads the model (any shape: the notebook's run on the fixed-shape kernels) with the kernel
/// for this CPU, opens the token file, and checks that the chosen split can be scored by the
/// model (row length, vocabulary).
pub fn prepare(input: &Input) -> Result<(AnyScorer, TokFile), Box<dyn std::error::Error>> {
    let tok = TokFile::open(&input.data)?;
    // Before the model: a file that records no length takes the data's, and the model's
    // error would then blame the model file for it.
    if tok.seq_len() > fusedrnn::net::MAX_SEQ_LEN {
        return Err(format!(
            "{}: rows of {} ids are longer than any model fusedrnn runs (at most {})",
            input.data.display(),
            tok.seq_len(),
            fusedrnn::net::MAX_SEQ_LEN
        )
        .into());
    }
    let model = open_any(&input.model, Some(tok.seq_len()))?;
    let scorer = AnyScorer::new(&model, Kernel::select()?)
        .map_err(|e| format!("{}: {e}", input.model.display()))?;
    scorer
        .check(&tok.split(input.split), tok.num_words())
        .map_err(|e| {
            format!(
                "{} with {}: {e}",
                input.model.display(),
                input.data.display()
            )
        })?;
    Ok((scorer, tok))
}

/// The rows of a split [`prepare`] checked for a notebook-shaped model, as its kernels take
/// them: borrowed from a `u16` file; narrowed into one owned copy from a `u32` file (for
/// `bench`, which times the kernels on ready rows; scoring narrows by blocks instead, see
/// [`score`]).
pub fn rows<'a>(tok: &'a TokFile, input: &Input) -> Cow<'a, [[u16; SEQ_LEN]]> {
    tok.split(input.split)
        .to_u16_rows::<SEQ_LEN>()
        .expect("checked: SEQ_LEN tokens per row, every id below the model's vocabulary")
}

/// Loads the model and the split, checks they fit together and scores the split
/// ([`AnyScorer::score_ids`]).
pub fn score(input: &Input) -> Result<Scored, Box<dyn std::error::Error>> {
    let (scorer, tok) = prepare(input)?;
    let split = tok.split(input.split);
    let mut probs = vec![0.0; split.len()];
    with_threads(input.threads(), || {
        scorer.score_ids(input.split.as_str(), split.tokens, &mut probs)
    })??;
    Ok(Scored { scorer, tok, probs })
}
