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
