//! Loss and accuracy as Keras reports them for `Dense(1, sigmoid)` + binary cross-entropy.

/// Keras' `backend.epsilon()`: probabilities are clipped to `[ε, 1 − ε]` before the log.
pub const EPSILON: f32 = 1e-7;

/// `model.evaluate` for one split.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub count: usize,
    /// Mean binary cross-entropy.
    pub loss: f64,
    /// Share of reviews with `(p > 0.5) == label`.
    pub accuracy: f64,
}

/// Binary cross-entropy of one prediction, computed as Keras does in f32:
/// `p = clip(p, ε, 1 − ε)`, `−(y·ln p + (1 − y)·ln(1 − p))`.
#[inline]
pub fn bce(p: f32, label: u8) -> f32 {
    let p = p.clamp(EPSILON, 1.0 - EPSILON);
    let y = f32::from(label);
    -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
}

/// Loss and accuracy of `probs` against 0/1 `labels` (the per-review losses are averaged in
/// f64, so the mean does not depend on the order or the thread count).
pub fn evaluate(probs: &[f32], labels: &[u8]) -> Evaluation {
    assert_eq!(probs.len(), labels.len(), "one label per probability");
    let count = probs.len();
    let loss_sum: f64 = probs
        .iter()
        .zip(labels)
        .map(|(&p, &y)| f64::from(bce(p, y)))
        .sum();
    let correct = probs
        .iter()
        .zip(labels)
        .filter(|&(&p, &y)| (p > 0.5) == (y == 1))
        .count();
    let n = count.max(1) as f64;
    Evaluation {
        count,
        loss: loss_sum / n,
        accuracy: correct as f64 / n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bce_clips_like_keras() {
        // −ln(1e-7) = 16.118…: a confidently wrong prediction costs that much, not infinity.
        assert!((bce(0.0, 1) - 16.118_095).abs() < 1e-3);
        // At the top, 1 − ε rounds to 1 − 2⁻²³ in f32 (as in Keras), so the cost is
        // −ln(2⁻²³) = 15.942…
        assert!((bce(1.0, 0) - 15.942_385).abs() < 1e-4);
        assert!((bce(0.5, 1) - std::f32::consts::LN_2).abs() < 1e-7);
        let e = evaluate(&[0.9, 0.2, 0.5, 0.7], &[1, 0, 1, 0]);
        // 0.5 is not > 0.5, so it counts as a negative prediction.
        assert_eq!((e.count, e.accuracy), (4, 0.5));
    }
}
