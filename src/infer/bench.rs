//! What `fusedrnn bench` measures: whole-split throughput, single-step latency and whole-review
//! latency, each the way a user of that path would see it.
//!
//! - Throughput: the split scored as `fusedrnn predict` scores it (rayon chunks on a pool of
//!   `threads`), repeated for about a second after a warm-up; the median repetition counts.
//! - Step latency: a streaming [`Session`] fed the split's tokens one at a time. A step takes
//!   tens of nanoseconds, below what a clock read resolves (this machine's TSC ticks in 10 ns
//!   steps, `clock_gettime` costs about 20 ns), so each review's 100 dependent steps are timed
//!   together and divided by 100; the percentiles are over those per-review step times. Steps
//!   depend on each other through the state, so the CPU cannot overlap them. The same reviews
//!   again, each fed in one call ([`Session::feed_all`]): the step of a caller with several
//!   tokens at hand.
//! - Review latency: one padded 100-token review through the latency kernel (gates in lanes,
//!   leading pads from the cache), timed with the monotonic clock.
//!
//! [`measure_net`] measures a network of any shape the same way.

use std::hint::black_box;
use std::time::{Duration, Instant};

use super::{InferError, Scorer, Session, with_threads};
use crate::net::{NetScoreError, NetScorer, TokenId};
use crate::shape::SEQ_LEN;

/// Steps timed for the step-latency percentiles (the issue asks for at least 100,000).
pub const LATENCY_STEPS: usize = 200_000;

/// Everything `fusedrnn bench` reports.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    pub threads: usize,
    pub reviews: usize,
    pub reviews_per_s: f64,
    pub ns_per_sequence_step: f64,
    pub step_latency_ns: Percentiles,
    /// Per step, each review's tokens fed in one call; `None` from [`measure_net`], whose
    /// sessions take one token a call.
    pub steps_together_ns: Option<Percentiles>,
    pub review_latency_us: Percentiles,
    pub steps_timed: usize,
    pub reviews_timed: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
}

fn percentiles(mut v: Vec<f64>) -> Percentiles {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Percentiles {
        p50: at(0.5),
        p99: at(0.99),
    }
}

/// Measures `scorer` on `seqs` (rows of `SEQ_LEN` tokens, already checked against the model).
pub fn measure(
    scorer: &Scorer,
    seqs: &[[u16; SEQ_LEN]],
    threads: usize,
    budget: Duration,
) -> Result<BenchReport, InferError> {
    assert!(!seqs.is_empty(), "nothing to measure");
    // Throughput.
    let mut probs = vec![0.0f32; seqs.len()];
    let mut times = with_threads(threads, || {
        scorer.score(seqs, &mut probs); // warm-up: pages, caches, thread wake-up
        let mut times = Vec::new();
        let start = Instant::now();
        while times.len() < 5 || (start.elapsed() < budget && times.len() < 1000) {
            let t = Instant::now();
            scorer.score(black_box(seqs), &mut probs);
            times.push(t.elapsed().as_secs_f64());
        }
        times
    })?;
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let reviews_per_s = seqs.len() as f64 / median;

    // Step latency: each review's tokens through a fresh session, 100 steps per timing, one
    // `feed` a token and then one `feed_all` a review.
    let one_by_one = session_steps(scorer, seqs, |session, row| {
        row.iter()
            .try_for_each(|&token| session.feed(black_box(token)))
    })?;
    let together = session_steps(scorer, seqs, |session, row| {
        session.feed_all(black_box(row))
    })?;

    // Review latency.
    let n = seqs.len().min(25_000);
    let mut reviews = Vec::with_capacity(n);
    for (i, row) in seqs.iter().cycle().take(n + 100).enumerate() {
        let t = Instant::now();
        black_box(scorer.score_one(black_box(row))?);
        if i >= 100 {
            reviews.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    let steps_timed = one_by_one.len() * SEQ_LEN;
    let reviews_timed = reviews.len();
    Ok(BenchReport {
        threads,
        reviews: seqs.len(),
        reviews_per_s,
        ns_per_sequence_step: 1e9 / (reviews_per_s * SEQ_LEN as f64),
        step_latency_ns: percentiles(one_by_one),
        steps_together_ns: Some(percentiles(together)),
        review_latency_us: percentiles(reviews),
        steps_timed,
        reviews_timed,
    })
}

/// ns per step of `LATENCY_STEPS / SEQ_LEN` reviews (after 10 untimed), each `feed` to a fresh
/// session and timed as a whole.
fn session_steps(
    scorer: &Scorer,
    seqs: &[[u16; SEQ_LEN]],
    mut feed: impl FnMut(&mut Session<'_>, &[u16; SEQ_LEN]) -> Result<(), InferError>,
) -> Result<Vec<f64>, InferError> {
    let mut session = scorer.session();
    let groups = LATENCY_STEPS / SEQ_LEN;
    let mut steps = Vec::with_capacity(groups);
    for (i, row) in seqs.iter().cycle().take(groups + 10).enumerate() {
        session.reset();
        let t = Instant::now();
        feed(&mut session, row)?;
        let ns = t.elapsed().as_nanos() as f64 / SEQ_LEN as f64;
        black_box(session.prob());
        if i >= 10 {
            steps.push(ns);
        }
    }
    Ok(steps)
}

/// [`measure`] for a network of any shape ([`NetScorer`]): `seqs` is `[n, seq_len]` flat
/// (checked here), the step latency is each sequence's `seq_len` dependent steps timed together
/// and divided by `seq_len`, the review latency one sequence through [`NetScorer::score_one`].
pub fn measure_net<T: TokenId>(
    scorer: &NetScorer,
    seqs: &[T],
    threads: usize,
    budget: Duration,
) -> Result<BenchReport, NetScoreError> {
    let rows = scorer.check("input", seqs)?;
    assert!(rows > 0, "nothing to measure");
    let len = scorer.spec().seq_len;
    // Throughput.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .ok();
    let run = || -> Result<Vec<f64>, NetScoreError> {
        let mut probs = vec![0.0f32; rows];
        scorer.score(seqs, &mut probs)?; // warm-up: pages, caches, thread wake-up
        let mut times = Vec::new();
        let start = Instant::now();
        while times.len() < 5 || (start.elapsed() < budget && times.len() < 1000) {
            let t = Instant::now();
            scorer.score(black_box(seqs), &mut probs)?;
            times.push(t.elapsed().as_secs_f64());
        }
        Ok(times)
    };
    let mut times = match &pool {
        Some(p) => p.install(run)?,
        None => run()?,
    };
    times.sort_by(f64::total_cmp);
    let reviews_per_s = rows as f64 / times[times.len() / 2];

    // Step latency: each sequence's tokens through a fresh session.
    let groups = (LATENCY_STEPS / len).max(1);
    let mut session = scorer.session();
    let mut steps = Vec::with_capacity(groups);
    for (i, row) in seqs.chunks_exact(len).cycle().take(groups + 10).enumerate() {
        session.reset();
        let t = Instant::now();
        for &token in row {
            session.feed(black_box(token))?;
        }
        let ns = t.elapsed().as_nanos() as f64 / len as f64;
        black_box(session.prob());
        if i >= 10 {
            steps.push(ns);
        }
    }

    // Review latency.
    let n = rows.min(25_000);
    let mut reviews = Vec::with_capacity(n);
    for (i, row) in seqs.chunks_exact(len).cycle().take(n + 100).enumerate() {
        let t = Instant::now();
        black_box(scorer.score_one(black_box(row))?);
        if i >= 100 {
            reviews.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    Ok(BenchReport {
        threads,
        reviews: rows,
        reviews_per_s,
        ns_per_sequence_step: 1e9 / (reviews_per_s * len as f64),
        step_latency_ns: percentiles(steps),
        steps_together_ns: None,
        steps_timed: groups * len,
        review_latency_us: percentiles(reviews),
        reviews_timed: n,
    })
}
