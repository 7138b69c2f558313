//! RMSprop exactly as Keras 3 updates (`keras.optimizers.RMSprop`, no momentum, not centered):
//!
//! ```text
//! v ← ρ·v + (1 − ρ)·g²
//! w ← w − lr·g / sqrt(v + ε)          ε inside the square root; v starts at zero
//! ```
//!
//! Keras evaluates this in f32 in exactly that order (`rho * v + (1 - rho) * square(g)`,
//! `lr * g / sqrt(v + eps)`); so do we. Every parameter is updated every step, zero gradient
//! included (the embedding's gradient is dense in Keras' JAX backend, so its `v` decays too).

/// Keras' defaults.
pub const RHO: f32 = 0.9;
pub const EPSILON: f32 = 1e-7;
/// The notebook's (and Keras') default learning rate.
pub const DEFAULT_LR: f32 = 1e-4;

/// RMSprop state: one velocity per parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct RmsProp {
    pub lr: f32,
    pub rho: f32,
    pub epsilon: f32,
    pub velocity: Vec<f32>,
}

impl RmsProp {
    /// Keras' defaults (`rho = 0.9`, `epsilon = 1e-7`) with learning rate `lr`, for `n` parameters.
    pub fn new(n: usize, lr: f32) -> RmsProp {
        RmsProp {
            lr,
            rho: RHO,
            epsilon: EPSILON,
            velocity: vec![0.0; n],
        }
    }

    /// One update of `weights` with `grad`. Panics if the lengths differ.
    pub fn step(&mut self, weights: &mut [f32], grad: &[f32]) {
        assert_eq!(weights.len(), grad.len(), "one gradient per weight");
        assert_eq!(
            weights.len(),
            self.velocity.len(),
            "one velocity per weight"
        );
        let (rho, one_minus_rho, lr, eps) = (self.rho, 1.0 - self.rho, self.lr, self.epsilon);
        for ((w, v), &g) in weights.iter_mut().zip(&mut self.velocity).zip(grad) {
            *v = rho * *v + one_minus_rho * (g * g);
            *w -= lr * g / (*v + eps).sqrt();
        }
    }
}
