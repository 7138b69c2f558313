//! Seeded randomness (our own small generators: Keras' RNG cannot be matched, only its
//! distributions) and Keras 3's default initializers.
//!
//! | tensor                | Keras default                        | here                            |
//! |-----------------------|--------------------------------------|---------------------------------|
//! | `embedding`           | `uniform(-0.05, 0.05)`               | the same                        |
//! | RNN `kernel`          | `glorot_uniform`                     | `U(±sqrt(6 / (fan_in + fan_out)))` |
//! | RNN `recurrent_kernel`| `orthogonal(gain=1)`                 | Gram–Schmidt of a normal matrix |
//! | RNN `bias`            | `zeros`, LSTM `unit_forget_bias=True`| zeros, forget block = 1         |
//! | `dense.kernel`        | `glorot_uniform` (`[HIDDEN, 1]`)     | the same                        |
//! | `dense.bias`          | `zeros`                              | the same                        |
//!
//! Keras' orthogonal initializer takes the Q of a QR decomposition of a normal matrix (sign-fixed
//! by R's diagonal): a uniformly distributed orthogonal matrix. Gram–Schmidt on the rows of a
//! normal matrix gives the same distribution (QR *is* Gram–Schmidt), with orthonormal rows of
//! `[HIDDEN, G]` as Keras gets for a wide kernel (it transposes the tall Q).

use super::params::{Layout, Params};
use crate::model::Arch;
use crate::shape::HIDDEN;

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit counter through a strong finaliser. Small,
/// fast, and good enough for initialisation, shuffling and dropout masks.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

/// The SplitMix64 finaliser: a bijective 64-bit mix.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of several words, for counter-based streams (`hash(&[seed, epoch, row])`).
#[inline]
pub fn hash_words(words: &[u64]) -> u64 {
    words.iter().fold(0x6A09_E667_F3BC_C909, |h, &w| {
        mix64(h ^ mix64(w.wrapping_add(0x9E37_79B9_7F4A_7C15)))
    })
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (`n > 0`), by a 128-bit multiply (bias below 2^-40 for our `n`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // (0, 1]
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Uniform in `[lo, hi)`, as f32.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f32 {
        (lo + (hi - lo) * self.next_f64()) as f32
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}

/// `glorot_uniform` for a `[fan_in, fan_out]` kernel.
pub fn glorot_uniform(rng: &mut SplitMix64, out: &mut [f32], fan_in: usize, fan_out: usize) {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    out.iter_mut().for_each(|w| *w = rng.uniform(-limit, limit));
}

/// A `[rows, cols]` matrix (`rows ≤ cols`) with orthonormal rows, from a normal matrix by
/// modified Gram–Schmidt in f64.
pub fn orthogonal(rng: &mut SplitMix64, rows: usize, cols: usize) -> Vec<f32> {
    assert!(rows <= cols, "orthonormal rows need rows ≤ cols");
    let mut m: Vec<Vec<f64>> = (0..rows)
        .map(|_| (0..cols).map(|_| rng.normal()).collect())
        .collect();
    for r in 0..rows {
        let (done, rest) = m.split_at_mut(r);
        let row = &mut rest[0];
        for q in done.iter() {
            let d: f64 = q.iter().zip(row.iter()).map(|(a, b)| a * b).sum();
            row.iter_mut().zip(q).for_each(|(x, qv)| *x -= d * qv);
        }
        let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt();
        row.iter_mut().for_each(|x| *x /= norm);
    }
    m.into_iter().flatten().map(|x| x as f32).collect()
}

/// Fresh parameters as Keras 3 initialises the notebook's models, from `seed`. Each tensor has
/// its own stream (`hash(seed, tensor)`), so one tensor's draw never shifts another's.
pub fn init_params(layout: Layout, seed: u64) -> Params {
    let mut p = Params::zeros(layout);
    let stream = |k: u64| SplitMix64::new(hash_words(&[seed, k]));
    let g = layout.gates();
    if layout.has_embedding() {
        let mut rng = stream(1);
        p.values[layout.embedding()]
            .iter_mut()
            .for_each(|w| *w = rng.uniform(-0.05, 0.05));
    }
    glorot_uniform(
        &mut stream(2),
        &mut p.values[layout.kernel()],
        layout.in_dim(),
        g,
    );
    let rec = orthogonal(&mut stream(3), HIDDEN, g);
    p.values[layout.recurrent()].copy_from_slice(&rec);
    if layout.arch == Arch::Lstm {
        // unit_forget_bias: the forget gate's block (i, f, c, o order) starts at 1.
        let b = layout.bias().start;
        p.values[b + HIDDEN..b + 2 * HIDDEN].fill(1.0);
    }
    glorot_uniform(
        &mut stream(4),
        &mut p.values[layout.dense_kernel()],
        HIDDEN,
        1,
    );
    p
}
