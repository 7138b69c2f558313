//! Every entry point of the general networks runs on a thread of 2 MiB, the default stack of a
//! spawned thread (a test's, a rayon worker's), with every kernel this CPU has.
//!
//! Its own binary, so that CI builds it alone without optimisation (`cargo test --profile
//! unoptimised --test thread_stack`), as a crate that depends on this one builds it by default. There an
//! unoptimised function's frame holds every local of every body inlined into it, each in its
//! own slot: when the portable bodies of every shape were inlined into the function that
//! matches on the shape, that frame was 2.9 MB (x86-64), and `score_one` on a test's thread
//! aborted with a stack overflow. An optimised build shares those slots (its largest frame
//! is tens of KiB), so in the `ci` profile this test passes whatever the inlining.

use fusedrnn::kernels::Kernel;
use fusedrnn::net::train::{NetTrainConfig, NetTrainer};
use fusedrnn::net::{Cell, Input, NetScorer, NetWeights, Spec};

/// The default stack of a spawned thread (`std::thread`, rayon), unless RUST_MIN_STACK says
/// otherwise.
const STACK: usize = 2 << 20;

/// Runs `f` on a new thread of [`STACK`] bytes and returns its result (a stack overflow aborts
/// the whole process, so a failure here is the test binary dying, named by the test it ran).
fn on_small_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("spawn a thread")
        .join()
        .expect("the thread panicked")
}

fn shapes() -> Vec<Spec> {
    let mut v = Vec::new();
    for cell in [Cell::Lstm, Cell::Gru { reset_after: true }, Cell::SimpleRnn] {
        // A size with compile-time bodies, two without (below and above 16 lanes), and the
        // notebook's one-hot input.
        for (units, input) in [
            (32, Input::Embedding { width: 16 }),
            (12, Input::Embedding { width: 16 }),
            (24, Input::Embedding { width: 16 }),
            (8, Input::OneHot),
        ] {
            v.push(Spec {
                cell,
                units,
                vocab: 50,
                input,
                seq_len: 12,
            });
        }
    }
    v
}

fn ids(spec: &Spec, rows: usize) -> Vec<u32> {
    (0..rows * spec.seq_len)
        .map(|i| (i as u32 * 7 + 3) % spec.vocab as u32)
        .collect()
}

#[test]
fn scoring_runs_on_a_default_thread_stack_with_every_kernel() {
    for kernel in Kernel::available() {
        for spec in shapes() {
            let probs = on_small_thread(move || {
                let w = NetWeights::seeded(spec, 3, 0.2);
                let scorer = NetScorer::from_weights(&w, kernel).expect("a valid network");
                let seqs = ids(&spec, 5);
                let batch = scorer.score_threads(&seqs, 2).expect("scored");
                let mut one_thread = vec![0.0; 5];
                scorer.score(&seqs, &mut one_thread).expect("scored");
                let row = &seqs[spec.seq_len..2 * spec.seq_len];
                let one = scorer.score_one(row).expect("scored");
                let mut session = scorer.session();
                session.feed(row[0]).expect("fed");
                session.feed_all(&row[1..]).expect("fed");
                (batch, one_thread, one, session.prob())
            });
            let (batch, one_thread, one, streamed) = probs;
            let what = format!("{} {spec:?}", kernel.name());
            assert_eq!(batch, one_thread, "{what}: threads changed the bits");
            assert_eq!(one, streamed, "{what}: one sequence against its session");
            assert!(
                (batch[1] - one).abs() < 1e-5,
                "{what}: the batch's row {} against one sequence {one}",
                batch[1]
            );
            assert!(
                batch.iter().all(|p| (0.0..=1.0).contains(p)),
                "{what}: {batch:?}"
            );
        }
    }
}

#[test]
fn training_runs_on_a_default_thread_stack() {
    for spec in shapes() {
        let (fit, eval) = on_small_thread(move || {
            let config = NetTrainConfig {
                epochs: 2,
                batch_size: 4,
                threads: 2,
                ..NetTrainConfig::default()
            };
            let mut trainer = NetTrainer::new(spec, config).expect("a valid network");
            let seqs = ids(&spec, 10);
            let labels: Vec<f32> = (0..10).map(|i| (i % 2) as f32).collect();
            let fit = trainer
                .fit((&seqs, &labels), (&seqs, &labels))
                .expect("trained");
            let eval = trainer.evaluate(&seqs, &labels).expect("evaluated");
            (fit, eval)
        });
        assert!(!fit.history.is_empty(), "{spec:?}: no epoch ran");
        assert!(
            eval.1.count == 10
                && eval.1.loss_sum.is_finite()
                && eval.0.iter().all(|p| p.is_finite()),
            "{spec:?}: {eval:?}"
        );
    }
}
