//! Every `unsafe` path of the crate on inputs small enough for Miri: the AVX2+FMA kernels
//! (batch, step, one-review and activation entry points), the GEMM behind table folding, the
//! training shard kernel, and the zero-copy views of a token file. Each result is compared
//! with the scalar reference, so the same file is an ordinary test too.
//!
//! Under Miri (which interprets the intrinsics it supports and cannot map files):
//! ```text
//! MIRIFLAGS=-Zmiri-disable-isolation RUSTFLAGS="-C target-feature=+avx2,+fma" \
//!     cargo +nightly miri test --test unsafe_paths
//! ```

use fusedrnn::kernels::Kernel;
use fusedrnn::model::{LstmWeights, Model, RnnInput, RnnWeights};
use fusedrnn::shape::{EMBED, GATES, HIDDEN, SEQ_LEN};
use fusedrnn::tokfile::{PackParams, SplitData, SplitName, TokFile, encode};
use fusedrnn::train::{Quiet, SplitMix64, TrainConfig, fit};

const VOCAB: usize = 40;

/// The kernels to hold against the reference: under Miri (about a million times slower) only
/// the one with `unsafe` code, the fastest.
fn kernels() -> Vec<Kernel> {
    if cfg!(miri) {
        let best = Kernel::best();
        #[cfg(all(
            target_arch = "x86_64",
            target_feature = "avx2",
            target_feature = "fma"
        ))]
        assert_eq!(
            best.name(),
            "x86_64-avx2-fma",
            "Miri must run the intrinsics"
        );
        vec![best]
    } else {
        Kernel::available()
    }
}

fn small(rng: &mut SplitMix64) -> f32 {
    (rng.next_f64() as f32 - 0.5) * 0.6
}

fn lstm_weights(seed: u64) -> LstmWeights {
    let mut r = SplitMix64::new(seed);
    LstmWeights {
        embedding: (0..VOCAB)
            .map(|_| [0; EMBED].map(|_| small(&mut r)))
            .collect(),
        kernel: [[0.0; GATES]; EMBED].map(|row| row.map(|_| small(&mut r))),
        recurrent_kernel: [[0.0; GATES]; HIDDEN].map(|row| row.map(|_| small(&mut r))),
        bias: [0; GATES].map(|_| small(&mut r)),
        dense_kernel: [0; HIDDEN].map(|_| small(&mut r) * 3.0),
        dense_bias: 0.1,
    }
}

fn rnn_weights(seed: u64) -> RnnWeights {
    let mut r = SplitMix64::new(seed);
    RnnWeights {
        input: RnnInput::Embedding {
            embedding: (0..VOCAB)
                .map(|_| [0; EMBED].map(|_| small(&mut r)))
                .collect(),
            kernel: [[0.0; HIDDEN]; EMBED].map(|row| row.map(|_| small(&mut r))),
        },
        recurrent_kernel: [[0.0; HIDDEN]; HIDDEN].map(|row| row.map(|_| small(&mut r))),
        bias: [0; HIDDEN].map(|_| small(&mut r)),
        dense_kernel: [0; HIDDEN].map(|_| small(&mut r) * 3.0),
        dense_bias: -0.1,
    }
}

/// `n` reviews with 0..=SEQ_LEN leading pads.
fn reviews(n: usize, seed: u64) -> Vec<[u16; SEQ_LEN]> {
    let mut r = SplitMix64::new(seed);
    (0..n)
        .map(|i| {
            let pads = (i * 37) % (SEQ_LEN + 1);
            let mut row = [0u16; SEQ_LEN];
            for t in &mut row[pads..] {
                *t = 1 + (r.next_u64() % (VOCAB as u64 - 1)) as u16;
            }
            row
        })
        .collect()
}

fn close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() < 1e-5, "{what}[{i}]: {x} vs {y}");
    }
}

#[test]
fn fast_kernels_agree_with_the_reference_on_every_entry_point() {
    // One full block of 8 lanes and a partial one.
    let seqs = reviews(if cfg!(miri) { 9 } else { 11 }, 3);
    let lstm = Kernel::Reference.fold_lstm(&lstm_weights(1));
    let rnn = Kernel::Reference.fold_rnn(&rnn_weights(2));
    let mut want_l = vec![0.0; seqs.len()];
    let mut want_r = vec![0.0; seqs.len()];
    Kernel::Reference.lstm_forward(&lstm, &seqs, &mut want_l);
    Kernel::Reference.rnn_forward(&rnn, &seqs, &mut want_r);
    for k in kernels() {
        let name = k.name();
        // Folding through the kernel's own step (the pad-state cache) and the GEMM.
        let lt = k.fold_lstm(&lstm_weights(1));
        let rt = k.fold_rnn(&rnn_weights(2));
        let mut got = vec![0.0; seqs.len()];
        k.lstm_forward(&lt, &seqs, &mut got);
        close(&got, &want_l, &format!("{name} lstm_forward"));
        k.rnn_forward(&rt, &seqs, &mut got);
        close(&got, &want_r, &format!("{name} rnn_forward"));
        let one: Vec<f32> = seqs.iter().map(|s| k.lstm_review(&lt, s)).collect();
        close(&one, &want_l, &format!("{name} lstm_review"));
        let one: Vec<f32> = seqs.iter().map(|s| k.rnn_review(&rt, s)).collect();
        close(&one, &want_r, &format!("{name} rnn_review"));
        let mut hidden = vec![[0.0; HIDDEN]; seqs.len()];
        k.lstm_forward_hidden(&lt, &seqs, &mut hidden);
        for (h, s) in hidden.iter().zip(&seqs) {
            close(
                h,
                &Kernel::Reference.lstm_review_hidden(&lstm, s),
                "lstm hidden",
            );
        }
        k.rnn_forward_hidden(&rt, &seqs, &mut hidden);
        for (h, s) in hidden.iter().zip(&seqs) {
            close(
                h,
                &Kernel::Reference.rnn_review_hidden(&rnn, s),
                "rnn hidden",
            );
        }
    }
}

#[test]
fn one_training_epoch_is_the_same_on_every_kernel() {
    let rows = if cfg!(miri) { 9 } else { 24 };
    let seqs = reviews(rows, 9);
    let tokens: Vec<u16> = seqs.iter().flatten().copied().collect();
    let labels: Vec<u8> = (0..rows).map(|i| (i % 2) as u8).collect();
    let lengths = vec![SEQ_LEN as u32; rows];
    let params = PackParams {
        num_words: VOCAB as u32,
        ..PackParams::NOTEBOOK
    };
    let data = SplitData {
        tokens: &tokens,
        labels: &labels,
        lengths: &lengths,
    };
    let mut bytes = Vec::new();
    encode(&mut bytes, &params, [data, data, SplitData::default()]).unwrap();
    // The zero-copy typed views (bytemuck casts of the validated sections).
    let tok = TokFile::from_bytes(&bytes).unwrap();
    let (train, val) = (tok.split(SplitName::Train), tok.split(SplitName::Val));
    assert_eq!(train.tokens, fusedrnn::tokfile::TokenIds::U16(&tokens[..]));
    let cfg = TrainConfig {
        vocab: VOCAB,
        epochs: 1,
        batch_size: 8,
        threads: 1,
        ..TrainConfig::default()
    };
    let reference = fit(&train, &val, VOCAB, &cfg, Kernel::Reference, &mut Quiet).unwrap();
    for k in kernels() {
        let got = fit(&train, &val, VOCAB, &cfg, k, &mut Quiet).unwrap();
        let (a, b) = (&got.history[0], &reference.history[0]);
        assert!(
            (a.loss - b.loss).abs() < 1e-5,
            "{}: {a:?} vs {b:?}",
            k.name()
        );
        assert!(
            (a.val_loss - b.val_loss).abs() < 1e-5,
            "{}: {a:?} vs {b:?}",
            k.name()
        );
        let (Model::Lstm(x), Model::Lstm(y)) = (&got.best, &reference.best) else {
            panic!("not an LSTM");
        };
        close(
            x.kernel.as_flattened(),
            y.kernel.as_flattened(),
            "trained kernel",
        );
    }
}
