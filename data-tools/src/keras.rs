//! The notebook's preprocessing, rule by rule, as Keras 3 and scikit-learn implement it.
//!
//! - `keras.datasets.imdb.load_data`: one `RandomState(seed)` shuffles the training rows, then
//!   (continuing) the test rows; each review becomes `[start_char] + [w + index_from ...]`
//!   (no start char when it is `None`); then every id `w` outside `skip_top <= w < num_words`
//!   becomes `oov_char`, or is dropped when that is `None`. The start char goes through the
//!   same filter. With `num_words=None`, Keras uses the largest id of all reviews (train and
//!   test) — and, since the filter is `w < num_words`, that largest id itself becomes OOV.
//! - `train_test_split(x, test_size=f, random_state=s)`: `n_test = ceil(f·n)` (in f64, as
//!   Python computes it), `n_train = n - n_test`; `perm = RandomState(s).permutation(n)`; the
//!   first `n_test` indices are the validation rows and the rest the training rows, in
//!   permutation order.
//! - `pad_sequences(maxlen, padding, truncating, value=0)`: keep the last (`'pre'`) or first
//!   (`'post'`) `maxlen` ids; put them at the end (`'pre'`) or start (`'post'`) of a zero row.

use fusedrnn::tokfile::Side;

use crate::numpy_random::RandomState;
use crate::pickle::RaggedInts;

/// `load_data`'s two shuffles: the row order of the training set and of the test set.
pub fn load_data_order(n_train: usize, n_test: usize, seed: u32) -> (Vec<usize>, Vec<usize>) {
    let mut rng = RandomState::new(seed);
    let train = rng.permutation(n_train);
    let test = rng.permutation(n_test);
    (train, test)
}

/// `load_data`'s id filter, for one setting of its parameters.
#[derive(Clone, Copy, Debug)]
pub struct WordFilter {
    pub start_char: Option<u32>,
    pub index_from: u32,
    pub skip_top: u32,
    /// The effective `num_words` (see [`effective_num_words`]).
    pub num_words: u32,
    pub oov_char: Option<u32>,
}

impl WordFilter {
    /// One id after `load_data`: `Some(id)` kept or replaced by OOV, `None` dropped.
    #[inline]
    fn map(&self, shifted: i64) -> Option<u32> {
        if (i64::from(self.skip_top)..i64::from(self.num_words)).contains(&shifted) {
            // Below `num_words`, itself a u32, so a kept id fits.
            Some(shifted as u32)
        } else {
            self.oov_char
        }
    }

    /// Appends review `raw` (word ranks as stored) to `out` as `load_data` returns it.
    pub fn apply(&self, raw: &[i32], out: &mut Vec<u32>) {
        if let Some(s) = self.start_char {
            out.extend(self.map(i64::from(s)));
        }
        let shift = i64::from(self.index_from);
        out.extend(raw.iter().filter_map(|&w| self.map(i64::from(w) + shift)));
    }
}

/// The `num_words` Keras ends up using: the given one, or for `None` the largest id of any
/// review after the start char and `index_from` are applied. Keras raises on an empty review
/// in that case (`max()` of an empty list), and so do we.
pub fn effective_num_words(
    num_words: Option<u32>,
    start_char: Option<u32>,
    index_from: u32,
    sets: &[&RaggedInts],
) -> Result<i64, String> {
    if let Some(n) = num_words {
        return Ok(i64::from(n));
    }
    let mut max = i64::MIN;
    for set in sets {
        for r in 0..set.rows() {
            let row = set.row(r);
            if row.is_empty() && start_char.is_none() {
                return Err("num_words=None with an empty review: Keras' max() raises here".into());
            }
            if let Some(&m) = row.iter().max() {
                max = max.max(i64::from(m) + i64::from(index_from));
            }
        }
    }
    if let Some(s) = start_char {
        max = max.max(i64::from(s));
    }
    if max == i64::MIN {
        return Err("num_words=None with no words at all".into());
    }
    Ok(max)
}

/// `(n_train, n_test)` as sklearn's `train_test_split(test_size=f)` computes them for `n` rows.
pub fn split_sizes(n: usize, test_size: f64) -> Result<(usize, usize), String> {
    if !(test_size > 0.0 && test_size < 1.0) {
        return Err(format!("test_size {test_size} must be in (0, 1)"));
    }
    let n_test = (test_size * n as f64).ceil() as usize;
    let n_train = n - n_test.min(n);
    if n_train == 0 || n_test == 0 {
        return Err(format!(
            "with n_samples={n}, test_size={test_size}, the resulting {} set would be empty (sklearn raises ValueError)",
            if n_train == 0 { "train" } else { "test" }
        ));
    }
    Ok((n_train, n_test))
}

/// `train_test_split`'s row choice: `(train indices, validation indices)`, in permutation order.
pub fn train_test_split(
    n: usize,
    test_size: f64,
    seed: u32,
) -> Result<(Vec<usize>, Vec<usize>), String> {
    let (_, n_test) = split_sizes(n, test_size)?;
    let mut perm = RandomState::new(seed).permutation(n);
    let train = perm.split_off(n_test);
    Ok((train, perm))
}

/// `pad_sequences` for one row: writes `seq` into `out` (`maxlen` long), padded with 0.
pub fn pad_row<T: Copy + Default>(seq: &[T], out: &mut [T], padding: Side, truncating: Side) {
    pad_row_with(seq, out, T::default(), padding, truncating);
}

/// `pad_sequences(..., value=value)` for one row of any element type.
pub fn pad_row_with<T: Copy>(seq: &[T], out: &mut [T], value: T, padding: Side, truncating: Side) {
    let maxlen = out.len();
    let kept = if seq.len() <= maxlen {
        seq
    } else {
        match truncating {
            Side::Pre => &seq[seq.len() - maxlen..],
            Side::Post => &seq[..maxlen],
        }
    };
    out.fill(value);
    match padding {
        Side::Pre => out[maxlen - kept.len()..].copy_from_slice(kept),
        Side::Post => out[..kept.len()].copy_from_slice(kept),
    }
}

/// A `test_size` / `train_size` argument of sklearn's `train_test_split`: a float is a fraction
/// of the rows, an int a count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SizeArg {
    Fraction(f64),
    Count(i64),
}

/// `(n_train, n_test)` as sklearn's `_validate_shuffle_split` computes them (test default 0.25),
/// with its error messages' content.
pub fn sklearn_split_sizes(
    n: usize,
    test_size: Option<SizeArg>,
    train_size: Option<SizeArg>,
) -> Result<(usize, usize), String> {
    let test_size = match (test_size, train_size) {
        (None, None) => Some(SizeArg::Fraction(0.25)),
        (t, _) => t,
    };
    for (arg, name) in [(test_size, "test_size"), (train_size, "train_size")] {
        match arg {
            Some(SizeArg::Count(k)) if k <= 0 || k as u128 >= n as u128 => {
                return Err(format!(
                    "{name}={k} should be either positive and smaller than the number of samples {n} or a float in the (0, 1) range"
                ));
            }
            Some(SizeArg::Fraction(f)) if !(f > 0.0 && f < 1.0) => {
                return Err(format!(
                    "{name}={f} should be either positive and smaller than the number of samples {n} or a float in the (0, 1) range"
                ));
            }
            _ => {}
        }
    }
    if let (Some(SizeArg::Fraction(a)), Some(SizeArg::Fraction(b))) = (train_size, test_size)
        && a + b > 1.0
    {
        return Err(format!(
            "The sum of test_size and train_size = {}, should be in the (0, 1) range. Reduce test_size and/or train_size.",
            a + b
        ));
    }
    let count = |arg: SizeArg, round: fn(f64) -> f64| match arg {
        SizeArg::Fraction(f) => round(f * n as f64),
        SizeArg::Count(k) => k as f64,
    };
    let mut n_test = test_size.map(|a| count(a, f64::ceil));
    let mut n_train = train_size.map(|a| count(a, f64::floor));
    match (n_train, n_test) {
        (None, Some(t)) => n_train = Some(n as f64 - t),
        (Some(t), None) => n_test = Some(n as f64 - t),
        _ => {}
    }
    let (n_train, n_test) = (n_train.unwrap_or(0.0), n_test.unwrap_or(0.0));
    if n_train + n_test > n as f64 {
        return Err(format!(
            "The sum of train_size and test_size = {}, should be smaller than the number of samples {n}. Reduce test_size and/or train_size.",
            n_train + n_test
        ));
    }
    let (n_train, n_test) = (n_train as usize, n_test as usize);
    if n_train == 0 {
        return Err(format!(
            "With n_samples={n}, test_size={test_size:?} and train_size={train_size:?}, the resulting train set will be empty. Adjust any of the aforementioned parameters."
        ));
    }
    Ok((n_train, n_test))
}

/// sklearn's `train_test_split` row choice for `n` rows: `(train indices, test indices)`.
/// With `shuffle`, `RandomState(seed).permutation(n)`: the first `n_test` are the test rows, the
/// next `n_train` the training rows; without, the first `n_train` rows then the next `n_test`.
pub fn sklearn_split(
    n: usize,
    test_size: Option<SizeArg>,
    train_size: Option<SizeArg>,
    shuffle: bool,
    seed: u32,
) -> Result<(Vec<usize>, Vec<usize>), String> {
    let (n_train, n_test) = sklearn_split_sizes(n, test_size, train_size)?;
    if !shuffle {
        return Ok((
            (0..n_train).collect(),
            (n_train..n_train + n_test).collect(),
        ));
    }
    let perm = RandomState::new(seed).permutation(n);
    Ok((
        perm[n_test..n_test + n_train].to_vec(),
        perm[..n_test].to_vec(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sklearn_sizes_follow_validate_shuffle_split() {
        use SizeArg::*;
        assert_eq!(
            sklearn_split_sizes(25000, Some(Fraction(0.2)), None),
            Ok((20000, 5000))
        );
        assert_eq!(sklearn_split_sizes(10, None, None), Ok((7, 3)));
        assert_eq!(sklearn_split_sizes(10, Some(Count(3)), None), Ok((7, 3)));
        assert_eq!(
            sklearn_split_sizes(10, None, Some(Fraction(0.55))),
            Ok((5, 5))
        );
        assert_eq!(
            sklearn_split_sizes(10, Some(Count(2)), Some(Count(5))),
            Ok((5, 2))
        );
        assert!(sklearn_split_sizes(10, Some(Count(10)), None).is_err());
        assert!(sklearn_split_sizes(10, Some(Fraction(1.0)), None).is_err());
        assert!(sklearn_split_sizes(10, Some(Fraction(0.6)), Some(Fraction(0.6))).is_err());
        assert!(sklearn_split_sizes(10, Some(Count(6)), Some(Count(6))).is_err());
        assert!(sklearn_split_sizes(1, Some(Fraction(0.5)), None).is_err());
    }

    #[test]
    fn sklearn_split_matches_the_notebook_split() {
        let (train, val) = train_test_split(1000, 0.2, 42).unwrap();
        let got = sklearn_split(1000, Some(SizeArg::Fraction(0.2)), None, true, 42).unwrap();
        assert_eq!(got, (train, val));
        let (a, b) = sklearn_split(5, Some(SizeArg::Count(2)), None, false, 0).unwrap();
        assert_eq!((a, b), (vec![0, 1, 2], vec![3, 4]));
    }

    #[test]
    fn pad_row_with_uses_the_value() {
        let mut out = [0i64; 5];
        pad_row_with(&[7i64, 8], &mut out, -1, Side::Pre, Side::Pre);
        assert_eq!(out, [-1, -1, -1, 7, 8]);
    }

    #[test]
    fn pad_row_matches_keras_rules() {
        let seq = [5u16, 6, 7, 8];
        let mut out = [9u16; 3];
        pad_row(&seq, &mut out, Side::Pre, Side::Pre);
        assert_eq!(out, [6, 7, 8]);
        pad_row(&seq, &mut out, Side::Pre, Side::Post);
        assert_eq!(out, [5, 6, 7]);
        let mut wide = [9u16; 6];
        pad_row(&seq, &mut wide, Side::Pre, Side::Pre);
        assert_eq!(wide, [0, 0, 5, 6, 7, 8]);
        pad_row(&seq, &mut wide, Side::Post, Side::Pre);
        assert_eq!(wide, [5, 6, 7, 8, 0, 0]);
        pad_row(&[], &mut wide, Side::Post, Side::Pre);
        assert_eq!(wide, [0; 6]);
    }

    #[test]
    fn filter_applies_start_char_shift_skip_top_and_oov() {
        let f = WordFilter {
            start_char: Some(1),
            index_from: 3,
            skip_top: 0,
            num_words: 10,
            oov_char: Some(2),
        };
        let mut out = Vec::new();
        f.apply(&[1, 6, 7, 100, -5], &mut out);
        assert_eq!(out, [1, 4, 9, 2, 2, 2]);
        // skip_top also catches the start char; no OOV char drops words.
        let f = WordFilter {
            start_char: Some(1),
            index_from: 3,
            skip_top: 5,
            num_words: 10,
            oov_char: None,
        };
        out.clear();
        f.apply(&[1, 2, 6], &mut out);
        assert_eq!(out, [5, 9]);
    }

    #[test]
    fn split_sizes_refuse_empty_sides() {
        assert_eq!(split_sizes(25000, 0.2), Ok((20000, 5000)));
        assert_eq!(split_sizes(7, 0.2), Ok((5, 2)));
        assert!(split_sizes(1, 0.2).is_err());
        assert!(split_sizes(10, 0.0).is_err());
    }
}
