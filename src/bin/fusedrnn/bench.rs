//! `fusedrnn bench`: throughput and latency of a model on a split, on this machine.

use std::time::Duration;

use fusedrnn::infer::bench::measure;
use fusedrnn::shape::SEQ_LEN;
use serde_json::json;

use crate::CliResult;
use crate::input::Input;

pub fn run(input: &Input, as_json: bool) -> CliResult {
    let (scorer, tok) = crate::input::prepare(input)?;
    let seqs = crate::input::rows(&tok, input);
    let kernel = scorer.kernel();
    let arch = scorer.arch();
    if seqs.is_empty() {
        return Err(format!(
            "{}: split {} is empty: nothing to measure",
            input.data.display(),
            input.split
        )
        .into());
    }
    let threads = input.threads();
    if !as_json {
        eprintln!(
            "measuring {} ({}) on {} {} reviews, {threads} threads ...",
            arch,
            kernel.name(),
            seqs.len(),
            input.split
        );
    }
    let r = measure(&scorer, &seqs, threads, Duration::from_secs(1))?;
    if as_json {
        let v = json!({
            "arch": arch.name(),
            "kernel": kernel.name(),
            "threads": r.threads,
            "split": input.split.as_str(),
            "reviews": r.reviews,
            "reviews_per_s": r.reviews_per_s,
            "ns_per_sequence_step": r.ns_per_sequence_step,
            "step_latency_ns": {"p50": r.step_latency_ns.p50, "p99": r.step_latency_ns.p99},
            "review_latency_us": {"p50": r.review_latency_us.p50, "p99": r.review_latency_us.p99},
            "steps_timed": r.steps_timed,
            "reviews_timed": r.reviews_timed,
        });
        fusedrnn::outln!("{v}");
    } else {
        fusedrnn::outln!(
            "{} on {} ({} reviews), kernel {}, {} threads",
            arch,
            input.split,
            r.reviews,
            kernel.name(),
            r.threads
        );
        fusedrnn::outln!(
            "  throughput      {:>12.0} reviews/s   ({:.2} ns per sequence-step)",
            r.reviews_per_s,
            r.ns_per_sequence_step
        );
        fusedrnn::outln!(
            "  step latency    p50 {:>7.1} ns   p99 {:>7.1} ns   ({} steps)",
            r.step_latency_ns.p50,
            r.step_latency_ns.p99,
            r.steps_timed
        );
        fusedrnn::outln!(
            "  review latency  p50 {:>7.2} µs   p99 {:>7.2} µs   ({} reviews of {SEQ_LEN} tokens)",
            r.review_latency_us.p50,
            r.review_latency_us.p99,
            r.reviews_timed
        );
    }
    Ok(())
}
