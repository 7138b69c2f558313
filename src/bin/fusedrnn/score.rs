//! `fusedrnn summary | predict | eval`: a model applied to a token file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use std::io::Write;

use fusedrnn::infer::{Scorer, evaluate, with_threads};
use fusedrnn::kernels::Kernel;
use fusedrnn::model::Model;
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::tokfile::{SplitName, TokFile};
use serde_json::json;

use crate::CliResult;

/// Where the model and the data come from.
#[derive(Args, Debug)]
pub struct Input {
    /// Model weights (.safetensors, Keras or PyTorch tensor names).
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
    pub scorer: Scorer,
    pub tok: TokFile,
    pub probs: Vec<f32>,
}

/// Loads the model and the split, checks they fit together and scores the split.
pub fn score(input: &Input) -> Result<Scored, Box<dyn std::error::Error>> {
    let model = Model::load(&input.model)?;
    let kernel = Kernel::select()?;
    let scorer = Scorer::new(&model, kernel);
    let tok = TokFile::open(&input.data)?;
    let split = tok.split(input.split);
    let probs = scorer
        .score_split(&split, tok.num_words(), input.threads())
        .map_err(|e| {
            format!(
                "{} with {}: {e}",
                input.model.display(),
                input.data.display()
            )
        })?;
    Ok(Scored { scorer, tok, probs })
}

pub fn summary(model: &Path) -> CliResult {
    let m = Model::load(model)?;
    fusedrnn::outln!("{}", m.summary().trim_end());
    Ok(())
}

/// Reviews scored and written per step of `predict`: the output is streamed, so memory stays at
/// one chunk (1 MiB of probabilities) however large the token file is.
const PREDICT_CHUNK: usize = 1 << 18;

pub fn predict(input: &Input, out: &Path) -> CliResult {
    let model = Model::load(&input.model)?;
    let kernel = Kernel::select()?;
    let scorer = Scorer::new(&model, kernel);
    let tok = TokFile::open(&input.data)?;
    let split = tok.split(input.split);
    let context = |e: fusedrnn::infer::InferError| {
        format!(
            "{} with {}: {e}",
            input.model.display(),
            input.data.display()
        )
    };
    scorer.check(&split, tok.num_words()).map_err(context)?;
    let seqs = split
        .rows_fixed::<SEQ_LEN>()
        .expect("checked: SEQ_LEN tokens per row");
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
    with_threads(threads, || fusedrnn::atomic::write_with(out, write))
        .map_err(context)?
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

pub fn eval(input: &Input, as_json: bool) -> CliResult {
    let Scored {
        scorer, tok, probs, ..
    } = score(input)?;
    let e = evaluate(&probs, tok.split(input.split).labels);
    if as_json {
        let v = json!({
            "split": input.split.as_str(),
            "count": e.count,
            "loss": e.loss,
            "accuracy": e.accuracy,
            "arch": scorer.arch().name(),
            "kernel": scorer.kernel().name(),
        });
        fusedrnn::outln!("{v}");
    } else {
        fusedrnn::outln!(
            "{} split: {} reviews - loss: {:.4} - accuracy: {:.4}",
            input.split,
            e.count,
            e.loss,
            e.accuracy
        );
    }
    Ok(())
}
