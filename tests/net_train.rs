//! Training any shape (`fusedrnn::net::train`): gradients against central finite differences of
//! the `f64` forward pass, thread-count invariance, the notebook trainer on its own shapes,
//! learning on a small task, and refusals of bad settings and data.

use fusedrnn::net::train::{NetTrainConfig, NetTrainError, NetTrainer, keras_init};
use fusedrnn::net::{Cell, Input, NetWeights, Spec, reference};

const CELLS: [Cell; 4] = [
    Cell::SimpleRnn,
    Cell::Lstm,
    Cell::Gru { reset_after: true },
    Cell::Gru { reset_after: false },
];

fn lcg_tokens(n: usize, vocab: usize, seed: u64) -> Vec<u32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) % vocab as u64) as u32
        })
        .collect()
}

/// Mean clipped BCE in f64 from the `f64` reference forward pass.
fn loss_f64(w: &NetWeights, ids: &[u32], labels: &[f32]) -> f64 {
    let t = w.spec.seq_len;
    let eps = 1e-7f64;
    ids.chunks_exact(t)
        .zip(labels)
        .map(|(seq, &y)| {
            let p = reference::forward_f64(w, seq).clamp(eps, 1.0 - eps);
            let y = f64::from(y);
            -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        })
        .sum::<f64>()
        / labels.len() as f64
}

fn tensor_mut(w: &mut NetWeights, k: usize) -> &mut Vec<f32> {
    match k {
        0 => &mut w.embedding,
        1 => &mut w.kernel,
        2 => &mut w.recurrent_kernel,
        3 => &mut w.bias,
        _ => &mut w.dense_kernel,
    }
}

const NAMES: [&str; 6] = [
    "embedding",
    "kernel",
    "recurrent_kernel",
    "bias",
    "dense.kernel",
    "dense.bias",
];

/// Finite-difference step: large enough that f32 rounding of the perturbed weight is a small
/// part of the step (the step actually taken, `w⁺ − w⁻` in f64, is what divides), small enough
/// that the central difference's truncation error (∝ step²) is below 1e-7 of the gradient.
const FD_STEP: f32 = 1e-3;
/// The analytic gradient is f32 (activations within 1e-6 of exact, sums of a few hundred f32
/// terms); the finite difference is f64 from the f64 forward pass. Per tensor,
/// `|analytic − fd| ≤ GRAD_REL_TOL · max|fd| + GRAD_ABS_TOL`. Measured worst over the 12 shapes
/// of `gradients_match_finite_differences`: 7.0e-6 of the tensor's largest entry (GRU(3), the
/// same with the trainer's shared pads turned off); 14× margin.
/// A wrong term (a missing factor, a transposed block) is off by ≥ 1e-2.
const GRAD_REL_TOL: f64 = 1e-4;
const GRAD_ABS_TOL: f64 = 1e-7;

/// The gradient of `n` sequences against finite differences; the worst relative error.
fn grad_check(spec: Spec, seed: u64, n: usize) -> f64 {
    let w = NetWeights::seeded(spec, seed, 0.6);
    let t = spec.seq_len;
    let mut ids = lcg_tokens(n * t, spec.vocab, seed + 1);
    // Leading pads as pad_sequences makes them, so the trainer's shared pads are checked too:
    // none (or what the draw gives), one, half the length, and a sequence of pads only.
    for (row, pads) in ids
        .chunks_exact_mut(t)
        .zip([0, 1, t / 2, t].into_iter().cycle())
    {
        row[..pads].fill(0);
        if let Some(first) = row.get_mut(pads) {
            *first = (*first).max(1);
        }
    }
    let labels: Vec<f32> = (0..n).map(|i| ((i + 1) % 2) as f32).collect();
    let mut tr = NetTrainer::from_weights(w.clone(), NetTrainConfig::default()).unwrap();
    tr.compute_gradient(&ids, &labels, None).unwrap();
    let g = tr.gradient().clone();
    let mut worst = 0f64;
    for (k, name) in NAMES.iter().enumerate() {
        let count = if k == 5 {
            1
        } else {
            tensor_mut(&mut w.clone(), k).len()
        };
        let (mut fd, mut an) = (Vec::new(), Vec::new());
        for i in 0..count {
            let eval = |delta: f32| {
                let mut p = w.clone();
                let v = if k == 5 {
                    p.dense_bias += delta;
                    p.dense_bias
                } else {
                    let t = tensor_mut(&mut p, k);
                    t[i] += delta;
                    t[i]
                };
                (loss_f64(&p, &ids, &labels), f64::from(v))
            };
            let (lp, wp) = eval(FD_STEP);
            let (lm, wm) = eval(-FD_STEP);
            fd.push((lp - lm) / (wp - wm));
            an.push(f64::from(if k == 5 {
                g.dense_bias
            } else {
                tensor_mut(&mut g.clone(), k)[i]
            }));
        }
        let scale = fd.iter().fold(0f64, |m, x| m.max(x.abs()));
        let err = fd
            .iter()
            .zip(&an)
            .fold(0f64, |m, (f, a)| m.max((f - a).abs()));
        assert!(
            err <= GRAD_REL_TOL * scale + GRAD_ABS_TOL,
            "{spec}: {name} gradient off by {err:.3e} (scale {scale:.3e})"
        );
        if scale > 0.0 {
            worst = worst.max(err / scale);
        }
    }
    worst
}

fn tiny(cell: Cell, input: Input, units: usize, seq_len: usize) -> Spec {
    Spec {
        cell,
        units,
        vocab: 7,
        input,
        seq_len,
    }
}

#[test]
fn gradients_match_finite_differences() {
    for (i, cell) in CELLS.into_iter().enumerate() {
        for (units, input, seq_len) in [
            (3, Input::Embedding { width: 2 }, 6),
            (5, Input::Embedding { width: 4 }, 3),
            (4, Input::OneHot, 5),
        ] {
            let spec = tiny(cell, input, units, seq_len);
            let worst = grad_check(spec, 11 + i as u64, 4);
            println!("{spec}: worst relative gradient error {worst:.2e}");
        }
    }
    // A batch of several shards, each sharing its rows' pads.
    let spec = tiny(Cell::Lstm, Input::Embedding { width: 2 }, 3, 6);
    let worst = grad_check(spec, 5, 2 * fusedrnn::net::train::SHARD_ROWS + 7);
    println!(
        "{spec}, {} rows: worst relative gradient error {worst:.2e}",
        2 * 32 + 7
    );
}

/// Keras parity on 5 `train_on_batch` steps (fixtures and generator in
/// `tests/fixtures/net_train/`): Embedding(5000, 64), length 200, batch 64, RMSprop(1e-4), no
/// dropout, from Keras' initial weights (the embedding a closed form both sides compute).
mod keras_parity {
    use super::*;
    use safetensors::{Dtype, SafeTensors};
    use std::path::PathBuf;

    /// The contract: per tensor, `max|ours − keras| ≤ 1e-4 · max|keras| + 1e-7` after 5
    /// steps (the floor for biases that start at zero; 1e-7 is 0.03% of one RMSprop step).
    const WEIGHT_REL_TOL: f64 = 1e-4;
    const WEIGHT_ABS_FLOOR: f64 = 1e-7;
    /// Batch losses as Keras reports them (f32 mean of clipped BCE).
    const LOSS_ABS_TOL: f64 = 1e-5;
    /// The embedding's update after 5 steps (`final − init`), relative to its largest entry:
    /// the 1e-4 applied to the update itself. Measured worst 9.0e-6 (SimpleRNN(64)).
    const EMBEDDING_UPDATE_TOL: f64 = 1e-4;
    const WIDTH: usize = 64;
    const VOCAB: usize = 5000;
    const SEQ_LEN: usize = 200;
    const BATCH: usize = 64;

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/net_train")
    }

    fn read(name: &str) -> Vec<u8> {
        let path = dir().join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn f32s(st: &SafeTensors<'_>, name: &str) -> Vec<f32> {
        let t = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.dtype(), Dtype::F32, "{name}");
        t.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }

    fn u16s(st: &SafeTensors<'_>, name: &str) -> Vec<u16> {
        let t = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.dtype(), Dtype::U16, "{name}");
        t.data()
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect()
    }

    /// The generator's closed-form initial embedding.
    fn embedding_table() -> Vec<f32> {
        (0..(VOCAB * WIDTH) as u64)
            .map(|i| {
                let k = ((i * 2_654_435_761) % (1 << 32)) >> 16;
                ((k as i64 - 32768) as f64 / f64::from(1 << 20)) as f32
            })
            .collect()
    }

    fn weights(st: &SafeTensors<'_>, prefix: &str, spec: Spec, embedding: Vec<f32>) -> NetWeights {
        NetWeights {
            spec,
            embedding,
            kernel: f32s(st, &format!("{prefix}.kernel")),
            recurrent_kernel: f32s(st, &format!("{prefix}.recurrent_kernel")),
            bias: f32s(st, &format!("{prefix}.bias")),
            dense_kernel: f32s(st, &format!("{prefix}.dense_kernel")),
            dense_bias: f32s(st, &format!("{prefix}.dense_bias"))[0],
        }
    }

    fn close(name: &str, what: &str, ours: &[f32], keras: &[f32]) -> f64 {
        assert_eq!(ours.len(), keras.len(), "{name} {what}: length");
        let num = ours
            .iter()
            .zip(keras)
            .map(|(a, b)| f64::from((a - b).abs()))
            .fold(0.0, f64::max);
        let den = keras.iter().map(|y| f64::from(y.abs())).fold(0.0, f64::max);
        assert!(
            num <= WEIGHT_REL_TOL * den + WEIGHT_ABS_FLOOR,
            "{name}: {what} after 5 steps off by {num:.3e} (largest |keras| {den:.3e})"
        );
        num / den.max(f64::MIN_POSITIVE)
    }

    /// Five `train_batch` steps from `init` on the fixture's batches, each batch's loss within
    /// `LOSS_ABS_TOL` of what Keras reported; the trained weights.
    fn train_five_steps(
        name: &str,
        init: NetWeights,
        st: &SafeTensors<'_>,
        ids: &[u32],
        labels: &[f32],
    ) -> NetWeights {
        let mut tr = NetTrainer::from_weights(init, NetTrainConfig::default()).unwrap();
        for (step, &keras_loss) in f32s(st, "losses").iter().enumerate() {
            let r = step * BATCH..(step + 1) * BATCH;
            let s = tr
                .train_batch(&ids[r.start * SEQ_LEN..r.end * SEQ_LEN], &labels[r], None)
                .unwrap();
            let loss = s.loss_sum / BATCH as f64;
            assert!(
                (loss - f64::from(keras_loss)).abs() <= LOSS_ABS_TOL,
                "{name} batch {step}: loss {loss} vs Keras {keras_loss}"
            );
        }
        tr.weights().clone()
    }

    /// Every recurrent and head tensor of `got` against Keras' (`close` asserts each); the
    /// worst relative error.
    fn worst_weight_error(name: &str, got: &NetWeights, want: &NetWeights) -> f64 {
        [
            ("kernel", &got.kernel, &want.kernel),
            (
                "recurrent_kernel",
                &got.recurrent_kernel,
                &want.recurrent_kernel,
            ),
            ("bias", &got.bias, &want.bias),
            ("dense.kernel", &got.dense_kernel, &want.dense_kernel),
        ]
        .into_iter()
        .map(|(what, a, b)| close(name, what, a, b))
        .fold(
            close(name, "dense.bias", &[got.dense_bias], &[want.dense_bias]),
            f64::max,
        )
    }

    #[test]
    fn five_rmsprop_steps_match_keras() {
        let data = read("data.safetensors");
        let data = SafeTensors::deserialize(&data).expect("data.safetensors");
        let ids = u16s(&data, "ids");
        let labels = f32s(&data, "labels");
        let touched = u16s(&data, "touched");
        assert_eq!(ids.len(), 5 * BATCH * SEQ_LEN);
        let table = embedding_table();
        for (name, cell, units) in [
            ("lstm32", Cell::Lstm, 32),
            ("gru16", Cell::Gru { reset_after: true }, 16),
            ("gru16v1", Cell::Gru { reset_after: false }, 16),
            ("rnn64", Cell::SimpleRnn, 64),
        ] {
            let spec = Spec {
                cell,
                units,
                vocab: VOCAB,
                input: Input::Embedding { width: WIDTH },
                seq_len: SEQ_LEN,
            };
            let bytes = read(&format!("{name}.safetensors"));
            let st = SafeTensors::deserialize(&bytes).expect("fixture");
            let init = weights(&st, "init", spec, table.clone());
            let want = weights(&st, "final", spec, Vec::new());
            let ids: Vec<u32> = ids.iter().map(|&v| u32::from(v)).collect();
            let got = train_five_steps(name, init, &st, &ids, &labels);
            let mut worst = worst_weight_error(name, &got, &want);
            let rows: Vec<f32> = touched
                .iter()
                .flat_map(|&v| {
                    let v = usize::from(v);
                    got.embedding[v * WIDTH..(v + 1) * WIDTH].iter().copied()
                })
                .collect();
            let want_rows = f32s(&st, "final.embedding_rows");
            worst = worst.max(close(name, "embedding (touched rows)", &rows, &want_rows));
            // The embedding moves by ~1% of its values in 5 steps, so judge its update too:
            // `max|Δours − Δkeras| ≤ EMBEDDING_UPDATE_TOL · max|Δkeras|`.
            let init_rows = touched.iter().flat_map(|&v| {
                let v = usize::from(v);
                table[v * WIDTH..(v + 1) * WIDTH].iter().copied()
            });
            let (mut num, mut den) = (0f64, 0f64);
            for ((a, b), e) in rows.iter().zip(&want_rows).zip(init_rows) {
                num = num.max(f64::from(((a - e) - (b - e)).abs()));
                den = den.max(f64::from((b - e).abs()));
            }
            println!("{name}: embedding update relative error {:.2e}", num / den);
            assert!(
                num <= EMBEDDING_UPDATE_TOL * den,
                "{name}: embedding update off by {num:.3e} (largest {den:.3e})"
            );
            // Untouched rows have a zero gradient: RMSprop leaves them as they were.
            for v in (0..VOCAB).filter(|v| touched.binary_search(&(*v as u16)).is_err()) {
                assert_eq!(
                    got.embedding[v * WIDTH..(v + 1) * WIDTH],
                    table[v * WIDTH..(v + 1) * WIDTH],
                    "{name}: untouched row {v}"
                );
            }
            println!("{name}: worst relative weight error {worst:.2e}");
        }
    }

    /// One-hot input (the generator's fifth model): the same rows with every id `v > 0` mapped
    /// to `v mod 499 + 1`, one-hot vectors of width 500 → GRU(16) → Dense. The input kernel is
    /// the lookup table, so the rows no id selects must come out unchanged.
    #[test]
    fn five_rmsprop_steps_match_keras_with_one_hot_input() {
        const ONEHOT_VOCAB: usize = 500;
        let data = read("data.safetensors");
        let data = SafeTensors::deserialize(&data).expect("data.safetensors");
        let ids: Vec<u32> = u16s(&data, "ids")
            .into_iter()
            .map(|v| match u32::from(v) {
                0 => 0,
                v => v % (ONEHOT_VOCAB as u32 - 1) + 1,
            })
            .collect();
        let labels = f32s(&data, "labels");
        let spec = Spec {
            cell: Cell::Gru { reset_after: true },
            units: 16,
            vocab: ONEHOT_VOCAB,
            input: Input::OneHot,
            seq_len: SEQ_LEN,
        };
        let bytes = read("onehot_gru16.safetensors");
        let st = SafeTensors::deserialize(&bytes).expect("fixture");
        let init = weights(&st, "init", spec, Vec::new());
        let want = weights(&st, "final", spec, Vec::new());
        let got = train_five_steps("onehot_gru16", init.clone(), &st, &ids, &labels);
        let worst = worst_weight_error("onehot_gru16", &got, &want);
        let gh = 3 * 16;
        let used: std::collections::BTreeSet<usize> = ids[..5 * BATCH * SEQ_LEN]
            .iter()
            .map(|&v| v as usize)
            .collect();
        assert!(used.len() < ONEHOT_VOCAB, "some kernel rows must be unused");
        for v in (0..ONEHOT_VOCAB).filter(|v| !used.contains(v)) {
            assert_eq!(
                got.kernel[v * gh..(v + 1) * gh],
                init.kernel[v * gh..(v + 1) * gh],
                "one-hot: unused kernel row {v} moved"
            );
        }
        println!("onehot_gru16: worst relative weight error {worst:.2e}");
    }
}

/// On the notebook's shapes this trainer starts from the notebook trainer's exact initial
/// weights (same generators and streams) and computes the same gradient, dropout masks
/// included, up to f32 summation order.
#[test]
fn notebook_shapes_agree_with_the_fixed_shape_trainer() {
    use fusedrnn::kernels::Kernel;
    use fusedrnn::model::Arch;
    use fusedrnn::shape::SEQ_LEN;
    use fusedrnn::train::{Layout, Params, Trainer, dropout_key, init_params};
    for (arch, cell, input) in [
        (Arch::Lstm, Cell::Lstm, Input::Embedding { width: 16 }),
        (Arch::Rnn, Cell::SimpleRnn, Input::Embedding { width: 16 }),
        (Arch::RnnOneHot, Cell::SimpleRnn, Input::OneHot),
    ] {
        let spec = Spec {
            cell,
            units: 8,
            vocab: 500,
            input,
            seq_len: SEQ_LEN,
        };
        let seed = 9;
        let params: Params = init_params(Layout::new(arch, 500), seed);
        let ours = keras_init(spec, seed).unwrap();
        let theirs = NetWeights::from_notebook(&params.to_model());
        assert_eq!(ours, theirs, "{spec}: initial weights");
        let n = 40;
        let ids = lcg_tokens(n * SEQ_LEN, 500, 3);
        let rows: Vec<[u16; SEQ_LEN]> = ids
            .chunks_exact(SEQ_LEN)
            .map(|r| std::array::from_fn(|i| r[i] as u16))
            .collect();
        let labels_u8: Vec<u8> = (0..n).map(|i| (i % 3 == 0) as u8).collect();
        let labels: Vec<f32> = labels_u8.iter().map(|&y| f32::from(y)).collect();
        let keys: Vec<u64> = (0..n).map(|r| dropout_key(seed, 1, r)).collect();
        let cfg = NetTrainConfig {
            dropout: 0.3,
            ..NetTrainConfig::default()
        };
        let mut net = NetTrainer::from_weights(ours, cfg).unwrap();
        let mut fixed = Trainer::new(params, 1e-4, 0.3, Kernel::Reference);
        let a = net.compute_gradient(&ids, &labels, Some(&keys)).unwrap();
        let b = fixed.compute_gradient(&rows, &labels_u8, Some(&keys));
        assert!((a.loss_sum - b.loss_sum).abs() < 1e-4, "{spec}: loss");
        assert_eq!(a.correct, b.correct, "{spec}: accuracy");
        let flat = fixed.gradient();
        let g = net.gradient();
        let mut at = 0;
        for (name, ours, _) in g.tensors() {
            let theirs = &flat[at..at + ours.len()];
            at += ours.len();
            let scale = theirs.iter().fold(0f32, |m, x| m.max(x.abs()));
            let err = ours
                .iter()
                .zip(theirs)
                .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
            println!(
                "{spec}: {name} gradient relative error {:.2e}",
                err / scale.max(1e-30)
            );
            // f32 sums of up to 4,000 terms in another order: measured ≤ 3.8e-6 relative.
            assert!(
                err <= 1e-4 * scale + 1e-9,
                "{spec}: {name} gradient {err:.3e} (scale {scale:.3e})"
            );
        }
        assert!(
            (g.dense_bias - flat[at]).abs() <= 1e-6,
            "{spec}: dense.bias"
        );
    }
}

fn small_task(spec: Spec, n: usize, seed: u64) -> (Vec<u32>, Vec<f32>) {
    // Label 1 when token 1 occurs more often than token 2: a counting task every cell can learn.
    let ids = lcg_tokens(n * spec.seq_len, spec.vocab, seed);
    let labels = ids
        .chunks_exact(spec.seq_len)
        .map(|s| {
            let ones = s.iter().filter(|&&t| t == 1).count();
            let twos = s.iter().filter(|&&t| t == 2).count();
            f32::from(u8::from(ones > twos || (ones == twos && s[0] % 2 == 0)))
        })
        .collect();
    (ids, labels)
}

/// Evaluation (fit's validation) gives the probabilities the scorer gives, bit for bit, and
/// their loss; where the folded table would pass 64 MiB (2^24 floats) it runs on the training
/// shards, within a few ulps of them.
#[test]
fn evaluation_gives_the_scorers_probabilities() {
    use fusedrnn::net::score::NetScorer;
    for (i, cell) in CELLS.into_iter().enumerate() {
        // 2^17 rows × 3·44 or 4·44 gate columns: over 2^24 floats.
        for (vocab, units, n) in [(50, 12, 300), (50, 12, 3), (1 << 17, 44, 20)] {
            let spec = Spec {
                cell,
                units,
                vocab,
                input: Input::Embedding { width: 6 },
                seq_len: 20,
            };
            let (ids, labels) = small_task(spec, n, 40 + i as u64);
            let ids = with_pads(ids, 20);
            let w = NetWeights::seeded(spec, 9 + i as u64, 0.7);
            let mut tr = NetTrainer::from_weights(w.clone(), NetTrainConfig::default()).unwrap();
            let (probs, stats) = tr.evaluate(&ids, &labels).unwrap();
            let scorer = NetScorer::from_weights(&w, tr.kernel()).unwrap();
            let want = scorer.score_threads(&ids, 2).unwrap();
            if vocab * spec.gate_width() <= 1 << 24 {
                let bits = |p: &[f32]| p.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&probs), bits(&want), "{spec}");
            } else {
                for (a, b) in probs.iter().zip(&want) {
                    assert!((a - b).abs() <= 1e-6, "{spec}: {a} against {b}");
                }
            }
            let loss: f64 = probs
                .iter()
                .zip(&labels)
                .map(|(&p, &y)| f64::from(fusedrnn::net::train::bce(p, y)))
                .sum();
            assert_eq!(stats.loss_sum, loss, "{spec}");
            assert_eq!(stats.count, n, "{spec}");
        }
    }
}

/// Leading pads on the rows of `ids`: row `i` gets `i mod (seq_len + 1)` of them.
fn with_pads(mut ids: Vec<u32>, seq_len: usize) -> Vec<u32> {
    for (i, row) in ids.chunks_exact_mut(seq_len).enumerate() {
        row[..i % (seq_len + 1)].fill(0);
    }
    ids
}

/// The same seed gives the same bits for 1, 2 and 3 threads: weights, history, best epoch
/// (batches that split into several shards with a partial last one; with dropout, and without
/// on pre-padded rows, where the shards share their pads).
#[test]
fn threads_do_not_change_a_bit() {
    let spec = Spec {
        cell: Cell::Gru { reset_after: true },
        units: 5,
        vocab: 30,
        input: Input::Embedding { width: 4 },
        seq_len: 9,
    };
    let (ids, labels) = small_task(spec, 150, 5);
    let (vids, vlabels) = small_task(spec, 37, 6);
    let (ids, vids) = (with_pads(ids, 9), with_pads(vids, 9));
    for dropout in [0.3, 0.0] {
        let run = |threads| {
            let cfg = NetTrainConfig {
                epochs: 2,
                batch_size: 70,
                lr: 1e-2,
                dropout,
                threads,
                ..NetTrainConfig::default()
            };
            let mut tr = NetTrainer::new(spec, cfg).unwrap();
            let fit = tr.fit((&ids, &labels), (&vids, &vlabels)).unwrap();
            let hist: Vec<_> = fit
                .history
                .iter()
                .map(|r| (r.loss, r.accuracy, r.val_loss, r.val_accuracy))
                .collect();
            (fit.best, fit.last, hist)
        };
        let one = run(1);
        assert_eq!(run(2), one, "2 threads, dropout {dropout}");
        assert_eq!(run(3), one, "3 threads, dropout {dropout}");
    }
}

/// Every cell, with dropout 0.3, learns the counting task: the validation loss falls well below
/// its value at the initial weights (≈ ln 2). Could fail: a wrong sign or a dropped gradient term
/// leaves it flat or makes it rise.
#[test]
fn every_cell_learns_a_small_task() {
    for cell in CELLS {
        for input in [Input::Embedding { width: 6 }, Input::OneHot] {
            let spec = Spec {
                cell,
                units: 8,
                vocab: 12,
                input,
                seq_len: 10,
            };
            let (ids, labels) = small_task(spec, 512, 1);
            let (vids, vlabels) = small_task(spec, 256, 2);
            let cfg = NetTrainConfig {
                epochs: 12,
                batch_size: 32,
                lr: 1e-2,
                dropout: 0.3,
                patience: 12,
                threads: 2,
                ..NetTrainConfig::default()
            };
            let mut tr = NetTrainer::new(spec, cfg).unwrap();
            let (_, before) = tr.evaluate(&vids, &vlabels).unwrap();
            let before = before.loss_sum / before.count as f64;
            let fit = tr.fit((&ids, &labels), (&vids, &vlabels)).unwrap();
            let best = fit.history[fit.best_epoch - 1];
            println!(
                "{spec}: val_loss {before:.4} -> {:.4}, val_accuracy {:.3}",
                best.val_loss, best.val_accuracy
            );
            assert!(
                best.val_loss < 0.75 * before && best.val_accuracy > 0.75,
                "{spec} did not learn: val_loss {before:.4} -> {:.4}, accuracy {:.3}",
                best.val_loss,
                best.val_accuracy
            );
            // restore_best_weights: the trainer holds the best epoch's weights.
            assert_eq!(tr.weights(), &fit.best);
        }
    }
}

#[test]
fn bad_settings_and_data_are_refused() {
    let spec = Spec {
        cell: Cell::Lstm,
        units: 3,
        vocab: 10,
        input: Input::Embedding { width: 2 },
        seq_len: 4,
    };
    let ok = NetTrainConfig::default();
    let bad = [
        (NetTrainConfig { epochs: 0, ..ok }, "epochs"),
        (
            NetTrainConfig {
                batch_size: 0,
                ..ok
            },
            "batch_size",
        ),
        (NetTrainConfig { threads: 0, ..ok }, "threads"),
        (NetTrainConfig { lr: 0.0, ..ok }, "lr"),
        (NetTrainConfig { lr: f32::NAN, ..ok }, "lr"),
        (NetTrainConfig { rho: 1.0, ..ok }, "rho"),
        (NetTrainConfig { epsilon: 0.0, ..ok }, "epsilon"),
        (NetTrainConfig { dropout: 1.0, ..ok }, "dropout"),
        (
            NetTrainConfig {
                dropout: -0.1,
                ..ok
            },
            "dropout",
        ),
    ];
    for (cfg, field) in bad {
        let e = NetTrainer::new(spec, cfg).unwrap_err();
        assert!(e.to_string().contains(field), "{field}: {e}");
    }
    let e = NetTrainer::new(Spec { units: 0, ..spec }, ok).unwrap_err();
    assert!(matches!(e, NetTrainError::Spec(_)), "{e}");
    let mut w = keras_init(spec, 1).unwrap();
    w.recurrent_kernel[2] = f32::NAN;
    let e = NetTrainer::from_weights(w, ok).unwrap_err();
    assert!(e.to_string().contains("recurrent_kernel"), "{e}");

    let mut tr = NetTrainer::new(spec, ok).unwrap();
    let ids = vec![1u16; 2 * 4];
    let labels = [0.0f32, 1.0];
    assert!(tr.train_batch(&ids, &labels, None).is_ok());
    let mut far = ids.clone();
    far[6] = 10;
    let e = tr.train_batch(&far, &labels, None).unwrap_err();
    assert_eq!(
        e,
        NetTrainError::TokenOutOfRange {
            split: "batch",
            row: 1,
            pos: 2,
            id: 10,
            vocab: 10
        }
    );
    let e = tr.train_batch(&ids[..7], &labels, None).unwrap_err();
    assert!(matches!(e, NetTrainError::Shape { .. }), "{e}");
    let e = tr.train_batch(&ids, &[0.0, 2.0], None).unwrap_err();
    assert!(e.to_string().contains("label 1 is 2"), "{e}");
    let e = tr.train_batch(&ids, &[0.0, f32::NAN], None).unwrap_err();
    assert!(matches!(e, NetTrainError::Label { .. }), "{e}");
    let e = tr.train_batch::<u16>(&[], &[], None).unwrap_err();
    assert_eq!(e, NetTrainError::EmptySplit("batch"));
    let e = tr.train_batch(&ids, &labels, Some(&[1])).unwrap_err();
    assert_eq!(e, NetTrainError::Keys(1, 2));
    let e = tr.fit((&ids, &labels), (&far, &labels)).unwrap_err();
    assert!(e.to_string().starts_with("val: sequence 1"), "{e}");
    // A refused batch leaves the weights as they were.
    let before = tr.weights().clone();
    let _ = tr.train_batch(&far, &labels, None);
    assert_eq!(tr.weights(), &before);
}

/// Long sequences of wide layers get fewer rows per shard: no spec within the limits makes a
/// shard's caches exceed its budget by more than one sequence.
#[test]
fn shard_caches_stay_bounded() {
    use fusedrnn::net::train::{SHARD_FLOATS, SHARD_ROWS, shard_rows};
    use fusedrnn::net::{MAX_SEQ_LEN, MAX_UNITS};
    let small = tiny(Cell::Lstm, Input::Embedding { width: 4 }, 4, 10);
    assert_eq!(shard_rows(&small), SHARD_ROWS);
    for (cell, input) in [
        (Cell::Lstm, Input::Embedding { width: 4096 }),
        (Cell::Gru { reset_after: true }, Input::OneHot),
    ] {
        let spec = Spec {
            cell,
            units: MAX_UNITS,
            vocab: 200_000,
            input,
            seq_len: MAX_SEQ_LEN,
        };
        let rows = shard_rows(&spec);
        let width = match input {
            Input::Embedding { width } => width,
            Input::OneHot => 0,
        };
        let per_row = spec.seq_len * (6 * spec.gate_width() + 2 * width + 4 * spec.units)
            + spec.input_width();
        assert!(
            rows >= 1 && (rows == 1 || rows * per_row <= SHARD_FLOATS),
            "{spec}: {rows}"
        );
        assert!(rows < SHARD_ROWS, "{spec}: {rows}");
    }
}
