//! `fusedrnn eval`: Keras' loss and accuracy of a model on a split.

use fusedrnn::infer::evaluate;
use serde_json::json;

use crate::CliResult;
use crate::input::{Input, Scored, score};

pub fn run(input: &Input, as_json: bool) -> CliResult {
    let Scored {
        scorer, tok, probs, ..
    } = score(input)?;
    if probs.is_empty() {
        return Err(format!(
            "{}: split {} is empty: nothing to evaluate",
            input.data.display(),
            input.split
        )
        .into());
    }
    let e = evaluate(&probs, tok.split(input.split).labels);
    if as_json {
        let v = json!({
            "split": input.split.as_str(),
            "count": e.count,
            "loss": e.loss,
            "accuracy": e.accuracy,
            "arch": scorer.arch_name(),
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
