//! Token ids from a caller's integer array (any element type, any memory order — the Python
//! binding hands over numpy arrays as they are), checked against a model's vocabulary and
//! converted to the kernels' `u16` rows chunk by chunk as they are scored, so a large input is
//! never copied whole and an id outside the vocabulary is an error naming its row and column,
//! never an out-of-bounds table read.
//!
//! The caller supplies `fill(row, &mut [i64; SEQ_LEN])`, which writes row `row`'s ids widened to
//! `i64`; everything else (the range check, the conversion, the parallel scoring) is here.

use rayon::prelude::*;

use super::{SORT_ROWS, Scorer};
use crate::shape::SEQ_LEN;

/// Rows up to this many are scored one by one on the calling thread with the latency kernel
/// ([`Scorer::score_one`]): handing one review to the thread pool costs more than scoring it.
pub const INLINE_ROWS: usize = 4;

/// An id that is not a row of the model's input table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "token id {value} at row {row}, column {col} is outside the model's vocabulary (0..{vocab})"
)]
pub struct IdError {
    pub row: usize,
    pub col: usize,
    pub value: i64,
    pub vocab: usize,
}

/// Converts one widened row, checking every id against `vocab`.
#[inline]
fn convert(
    row: usize,
    raw: &[i64; SEQ_LEN],
    out: &mut [u16; SEQ_LEN],
    vocab: usize,
) -> Result<(), IdError> {
    for (col, (&v, o)) in raw.iter().zip(out.iter_mut()).enumerate() {
        // `vocab <= 65536`, so a value below it fits u16.
        if v < 0 || v as u64 >= vocab as u64 {
            return Err(IdError {
                row,
                col,
                value: v,
                vocab,
            });
        }
        *o = v as u16;
    }
    Ok(())
}

/// The first bad id in row order (the parallel pass may stop at a later one).
fn first_error<F>(n_rows: usize, vocab: usize, fill: &F) -> Option<IdError>
where
    F: Fn(usize, &mut [i64; SEQ_LEN]),
{
    let mut raw = [0i64; SEQ_LEN];
    let mut row = [0u16; SEQ_LEN];
    (0..n_rows).find_map(|r| {
        fill(r, &mut raw);
        convert(r, &raw, &mut row, vocab).err()
    })
}

/// Probabilities of `n_rows` reviews of `SEQ_LEN` ids each, read through `fill`, on the current
/// rayon pool (or inline for at most [`INLINE_ROWS`] rows). Nothing is written to `probs` past
/// what was scored when an id is refused; the error is the first bad id in row order.
///
/// # Panics
/// If `probs.len() != n_rows`.
pub fn score_rows<F>(
    scorer: &Scorer,
    n_rows: usize,
    fill: F,
    probs: &mut [f32],
) -> Result<(), IdError>
where
    F: Fn(usize, &mut [i64; SEQ_LEN]) + Sync,
{
    assert_eq!(probs.len(), n_rows, "one probability per row");
    let vocab = scorer.vocab();
    if n_rows <= INLINE_ROWS {
        let mut raw = [0i64; SEQ_LEN];
        let mut row = [0u16; SEQ_LEN];
        for (r, p) in probs.iter_mut().enumerate() {
            fill(r, &mut raw);
            convert(r, &raw, &mut row, vocab)?;
            *p = scorer.score_one(&row).expect("ids checked above");
        }
        return Ok(());
    }
    let failed = probs
        .par_chunks_mut(SORT_ROWS)
        .enumerate()
        .try_for_each_init(
            || (vec![[0u16; SEQ_LEN]; SORT_ROWS], [0i64; SEQ_LEN]),
            |(buf, raw), (c, p)| {
                let start = c * SORT_ROWS;
                for (i, slot) in buf[..p.len()].iter_mut().enumerate() {
                    fill(start + i, raw);
                    convert(start + i, raw, slot, vocab)?;
                }
                // In the order of their leading pads, as `Scorer::score` takes its rows.
                scorer.score_sorted(&buf[..p.len()], p);
                Ok(())
            },
        );
    match failed {
        Ok(()) => Ok(()),
        Err(e) => Err(first_error(n_rows, vocab, &fill).unwrap_or(e)),
    }
}

/// `n_rows` rows read through `fill`, checked against `vocab` and converted (for training, which
/// needs the whole set in memory anyway).
pub fn collect_rows<F>(n_rows: usize, vocab: usize, fill: F) -> Result<Vec<[u16; SEQ_LEN]>, IdError>
where
    F: Fn(usize, &mut [i64; SEQ_LEN]),
{
    let mut raw = [0i64; SEQ_LEN];
    let mut out = vec![[0u16; SEQ_LEN]; n_rows];
    for (r, slot) in out.iter_mut().enumerate() {
        fill(r, &mut raw);
        convert(r, &raw, slot, vocab)?;
    }
    Ok(out)
}

/// A label that is not 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("label {value} at index {index} is not 0 or 1")]
pub struct LabelError {
    pub index: usize,
    pub value: f64,
}

/// Binary labels from numbers that must each be exactly 0 or 1.
pub fn labels01(values: impl IntoIterator<Item = f64>) -> Result<Vec<u8>, LabelError> {
    values
        .into_iter()
        .enumerate()
        .map(|(index, value)| match value {
            0.0 => Ok(0),
            1.0 => Ok(1),
            _ => Err(LabelError { index, value }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Kernel;
    use crate::model::Arch;
    use crate::train::{Layout, init_params};

    fn rows(n: usize, vocab: usize) -> Vec<[u16; SEQ_LEN]> {
        (0..n)
            .map(|r| std::array::from_fn(|c| ((r * 31 + c * 7) % vocab) as u16))
            .collect()
    }

    #[test]
    fn scores_equal_the_scorer_for_inline_and_parallel_sizes() {
        for arch in [Arch::Lstm, Arch::Rnn, Arch::RnnOneHot] {
            let model = init_params(Layout::new(arch, 60), 5).to_model();
            let scorer = Scorer::new(&model, Kernel::best());
            for n in [0, 1, INLINE_ROWS, INLINE_ROWS + 1, 300] {
                let data = rows(n, 60);
                let mut want = vec![0f32; n];
                scorer.score(&data, &mut want);
                let mut got = vec![f32::NAN; n];
                score_rows(
                    &scorer,
                    n,
                    |r, out| {
                        for (o, &v) in out.iter_mut().zip(&data[r]) {
                            *o = i64::from(v);
                        }
                    },
                    &mut got,
                )
                .unwrap();
                for (g, w) in got.iter().zip(&want) {
                    // The latency kernel and the lane kernel round differently.
                    assert!((g - w).abs() < 1e-5, "{arch} n={n}: {g} vs {w}");
                }
            }
        }
    }

    #[test]
    fn first_bad_id_is_named_by_row_and_column() {
        let model = init_params(Layout::new(Arch::Lstm, 60), 5).to_model();
        let scorer = Scorer::new(&model, Kernel::best());
        for (n, bad_row, value) in [(1, 0, 60), (3, 2, -1), (1000, 700, 1 << 40)] {
            let fill = |r: usize, out: &mut [i64; SEQ_LEN]| {
                out.fill(1);
                if r == bad_row || r == n - 1 {
                    out[17] = value;
                }
            };
            let e = score_rows(&scorer, n, fill, &mut vec![0.0; n]).unwrap_err();
            assert_eq!(
                e,
                IdError {
                    row: bad_row,
                    col: 17,
                    value,
                    vocab: 60
                }
            );
            assert_eq!(collect_rows(n, 60, fill).unwrap_err(), e);
        }
    }

    #[test]
    fn labels_must_be_zero_or_one() {
        assert_eq!(labels01([0.0, 1.0, 1.0]).unwrap(), [0, 1, 1]);
        let e = labels01([0.0, 0.5]).unwrap_err();
        assert_eq!((e.index, e.value), (1, 0.5));
        assert!(labels01([f64::NAN]).is_err());
    }
}
