//! `fusedrnn bench`: throughput and latency of a model on a split, on this machine.

use std::time::Duration;

use fusedrnn::infer::bench::{measure, measure_net};
use fusedrnn::net::AnyScorer;
use fusedrnn::tokfile::TokenIds;
use serde_json::json;

use crate::CliResult;
use crate::input::Input;

pub fn run(input: &Input, as_json: bool) -> CliResult {
    let (scorer, tok) = crate::input::prepare(input)?;
    let split = tok.split(input.split);
    let kernel = scorer.kernel();
    let arch = scorer.arch_name();
    let len = scorer.seq_len();
    if split.is_empty() {
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
            scorer.describe(),
            kernel.name(),
            split.len(),
            input.split
        );
    }
    let budget = Duration::from_secs(1);
    let r = match &scorer {
        AnyScorer::Notebook(s) => measure(s, &crate::input::rows(&tok, input), threads, budget)?,
        AnyScorer::Net(s) => match split.tokens {
            TokenIds::U16(t) => measure_net(s, t, threads, budget)?,
            TokenIds::U32(t) => measure_net(s, t, threads, budget)?,
        },
    };
    if as_json {
        let mut v = json!({
            "arch": arch,
            "model": scorer.describe(),
            "seq_len": len,
            "kernel": kernel.name(),
            "kernel_tuning": kernel.tuning(),
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
        if let Some(p) = r.steps_together_ns {
            v["steps_together_ns"] = json!({"p50": p.p50, "p99": p.p99});
        }
        fusedrnn::outln!("{v}");
    } else {
        let tuning = match kernel.tuning() {
            "" => String::new(),
            t => format!(" ({t})"),
        };
        fusedrnn::outln!(
            "{} on {} ({} reviews), kernel {}{tuning}, {} threads",
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
        if let Some(p) = r.steps_together_ns {
            fusedrnn::outln!(
                "  steps together  p50 {:>7.1} ns   p99 {:>7.1} ns   (each review in one call)",
                p.p50,
                p.p99
            );
        }
        fusedrnn::outln!(
            "  review latency  p50 {:>7.2} µs   p99 {:>7.2} µs   ({} reviews of {len} tokens)",
            r.review_latency_us.p50,
            r.review_latency_us.p99,
            r.reviews_timed
        );
    }
    Ok(())
}
