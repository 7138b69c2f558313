//! Training parity with real Keras 3: from the same initial weights, on the same 5 batches of 64
//! (no shuffle, no dropout), our weights after every RMSprop step stay within 1e-4 relative of
//! Keras' per tensor, with a 1e-7 absolute floor for the biases that start at zero (fixtures and
//! generator in `tests/fixtures/train_parity/`).

use std::path::{Path, PathBuf};

use fusedrnn::kernels::Kernel;
use fusedrnn::model::Model;
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::train::{Params, Trainer};

const ARCHS: [&str; 3] = ["lstm", "rnn", "rnn-onehot"];
const BATCH: usize = 64;
const STEPS: usize = 5;
/// The contract: per tensor `max|ours − keras| ≤ 1e-4 · max|keras| + WEIGHT_ABS_FLOOR` after each
/// step. Measured worst of `max|ours − keras| / max|keras|`: ≤ 4.5e-7 (LSTM), ≤ 6e-7 (one-hot),
/// 4.7e-5 / 9.5e-5 (SimpleRNN, reference / AVX2 kernel). The SimpleRNN figure is
/// `simple_rnn.bias`: it starts at zero, so after a step its largest entry is one RMSprop
/// update (3e-4), and the error is 3e-8 absolute: f32 rounding (summed in a different order on
/// each side) of a gradient that is a sum of 6,400 terms of both signs.
const WEIGHT_REL_TOL: f64 = 1e-4;
/// 1e-7 absolute: 0.03% of one RMSprop step (`lr·sqrt(10)` = 3.2e-4 for a large gradient),
/// so tensors that start at zero are not judged relative to their own tiny scale alone.
const WEIGHT_ABS_FLOOR: f64 = 1e-7;
/// Batch losses as Keras reports them (f32 mean of clipped BCE).
const LOSS_ABS_TOL: f64 = 1e-5;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/train_parity")
}

/// Payload of a version 1.0 C-order `.npy` whose header contains `descr`.
fn npy_payload(name: &str, descr: &str) -> Vec<u8> {
    let bytes = std::fs::read(dir().join(name)).expect("read npy");
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00", "{name}: npy 1.0");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).expect("ascii");
    assert!(header.contains(descr), "{name}: {header}");
    assert!(
        header.contains("'fortran_order': False"),
        "{name}: {header}"
    );
    bytes[10 + header_len..].to_vec()
}

fn data() -> (Vec<[u16; SEQ_LEN]>, Vec<u8>) {
    let t = npy_payload("tokens.npy", "'<u2'");
    let seqs = t
        .chunks_exact(2 * SEQ_LEN)
        .map(|r| std::array::from_fn(|i| u16::from_le_bytes([r[2 * i], r[2 * i + 1]])))
        .collect();
    (seqs, npy_payload("labels.npy", "'|u1'"))
}

fn keras_losses(arch: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(dir().join("train_parity.json")).expect("json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("parse");
    v["archs"][arch]["batch_loss"]
        .as_array()
        .expect("batch_loss")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn load(arch: &str, step: usize) -> Params {
    let m = Model::load(dir().join(format!("{arch}.step{step}.safetensors"))).expect("load");
    Params::from_model(&m)
}

#[test]
fn rmsprop_steps_match_keras() {
    let (seqs, labels) = data();
    assert_eq!(seqs.len(), BATCH * STEPS);
    assert_eq!(keras_losses("lstm").len(), STEPS);
    for kernel in Kernel::available() {
        for arch in ARCHS {
            let losses = keras_losses(arch);
            let mut tr = Trainer::new(load(arch, 0), 1e-4, 0.0, kernel);
            let mut worst = 0f64;
            for (step, &keras_loss) in losses.iter().enumerate() {
                let r = step * BATCH..(step + 1) * BATCH;
                let s = tr.train_batch(&seqs[r.clone()], &labels[r], None);
                let loss = s.loss_sum / BATCH as f64;
                assert!(
                    (loss - keras_loss).abs() <= LOSS_ABS_TOL,
                    "{arch} batch {step}: loss {loss} vs Keras {keras_loss}"
                );
                let want = load(arch, step + 1);
                for (name, range) in want.layout.tensors() {
                    let (a, b) = (&tr.params.values[range.clone()], &want.values[range]);
                    let num = a
                        .iter()
                        .zip(b)
                        .map(|(x, y)| f64::from((x - y).abs()))
                        .fold(0.0, f64::max);
                    let den = b.iter().map(|y| f64::from(y.abs())).fold(0.0, f64::max);
                    let e = num / den.max(f64::MIN_POSITIVE);
                    worst = worst.max(e);
                    assert!(
                        num <= WEIGHT_REL_TOL * den + WEIGHT_ABS_FLOOR,
                        "{} {arch} after batch {}: {name} relative error {e:.2e}",
                        kernel.name(),
                        step + 1
                    );
                }
            }
            println!(
                "{} {arch}: worst relative weight error {worst:.2e}",
                kernel.name()
            );
        }
    }
}
