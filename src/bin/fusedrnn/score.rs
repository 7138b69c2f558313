//! `fusedrnn summary | predict | eval`: a model applied to a token file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use fusedrnn::infer::{Scorer, evaluate};
use fusedrnn::kernels::Kernel;
use fusedrnn::model::Model;
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
    pub seconds: f64,
}

/// Loads the model and the split, checks they fit together and scores the split.
pub fn score(input: &Input) -> Result<Scored, Box<dyn std::error::Error>> {
    let model = Model::load(&input.model)?;
    let kernel = Kernel::select()?;
    let scorer = Scorer::new(&model, kernel);
    let tok = TokFile::open(&input.data)?;
    let split = tok.split(input.split);
    let t = Instant::now();
    let probs = scorer
        .score_split(&split, tok.num_words(), input.threads())
        .map_err(|e| {
            format!(
                "{} with {}: {e}",
                input.model.display(),
                input.data.display()
            )
        })?;
    let seconds = t.elapsed().as_secs_f64();
    Ok(Scored {
        scorer,
        tok,
        probs,
        seconds,
    })
}

pub fn summary(model: &Path) -> CliResult {
    let m = Model::load(model)?;
    fusedrnn::outln!("{}", m.summary().trim_end());
    Ok(())
}

pub fn predict(input: &Input, out: &Path) -> CliResult {
    let Scored {
        scorer,
        probs,
        seconds,
        ..
    } = score(input)?;
    fusedrnn::infer::npy::save_f32(out, &probs).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!(
        "wrote {} probabilities to {} ({} kernel, {} threads, {:.0} reviews/s)",
        probs.len(),
        out.display(),
        scorer.kernel().name(),
        input.threads(),
        probs.len() as f64 / seconds.max(1e-9)
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
