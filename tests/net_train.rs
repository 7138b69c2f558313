//! Training any shape (`fusedrnn::net::train`): gradients against central finite differences of
//! the `f64` forward pass, thread-count invariance, the notebook trainer on its own shapes,
//! learning on a small task, and refusals of bad settings and data.

use fusedrnn::net::train::{NetTrainConfig, NetTrainer};
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
/// of `gradients_match_finite_differences`: 1.7e-6 of the tensor's largest entry; 60× margin.
/// A wrong term (a missing factor, a transposed block) is off by ≥ 1e-2.
const GRAD_REL_TOL: f64 = 1e-4;
const GRAD_ABS_TOL: f64 = 1e-7;

fn grad_check(spec: Spec, seed: u64) -> f64 {
    let n = 3;
    let w = NetWeights::seeded(spec, seed, 0.6);
    let ids = lcg_tokens(n * spec.seq_len, spec.vocab, seed + 1);
    let labels = [1.0f32, 0.0, 1.0];
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
            let worst = grad_check(spec, 11 + i as u64);
            println!("{spec}: worst relative gradient error {worst:.2e}");
        }
    }
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
            let losses = f32s(&st, "losses");
            let mut tr = NetTrainer::from_weights(init, NetTrainConfig::default()).unwrap();
            for (step, &keras_loss) in losses.iter().enumerate() {
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
            let got = tr.weights();
            let mut worst = 0f64;
            for (what, a, b) in [
                ("kernel", &got.kernel, &want.kernel),
                (
                    "recurrent_kernel",
                    &got.recurrent_kernel,
                    &want.recurrent_kernel,
                ),
                ("bias", &got.bias, &want.bias),
                ("dense.kernel", &got.dense_kernel, &want.dense_kernel),
            ] {
                worst = worst.max(close(name, what, a, b));
            }
            let bias = [got.dense_bias];
            worst = worst.max(close(name, "dense.bias", &bias, &[want.dense_bias]));
            let rows: Vec<f32> = touched
                .iter()
                .flat_map(|&v| {
                    let v = usize::from(v);
                    got.embedding[v * WIDTH..(v + 1) * WIDTH].iter().copied()
                })
                .collect();
            let want_rows = f32s(&st, "final.embedding_rows");
            worst = worst.max(close(name, "embedding (touched rows)", &rows, &want_rows));
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
}
