//! `keras.datasets.imdb.load_data` itself, returning the reviews as Keras does (ragged lists of
//! ids, not padded), for the Python package's `fusedrnn.datasets.imdb.load_data`.
//!
//! Keras 3's steps, in order (see [`crate::keras`] for the shared rules):
//! 1. one `RandomState(seed)` shuffles the training rows, then the test rows;
//! 2. each review becomes `[start_char] + [w + index_from ...]` (no start char when `None`);
//! 3. with `maxlen` (a true value), only reviews *shorter* than `maxlen` are kept
//!    (`remove_long_seq` keeps `len(x) < maxlen`), labels alongside; an emptied set is an error;
//! 4. `num_words` falsy (`None` or 0) becomes the largest id over the kept reviews of both sets;
//! 5. ids outside `skip_top <= w < num_words` become `oov_char`, or are dropped when it is `None`.

use crate::ImdbArrays;
use crate::keras::load_data_order;

/// `load_data`'s arguments (all but `path`). `Default` is Keras' defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadConfig {
    pub num_words: Option<u64>,
    pub skip_top: u64,
    pub maxlen: Option<u64>,
    pub seed: u32,
    pub start_char: Option<i64>,
    pub oov_char: Option<i64>,
    pub index_from: i64,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            num_words: None,
            skip_top: 0,
            maxlen: None,
            seed: 113,
            start_char: Some(1),
            oov_char: Some(2),
            index_from: 3,
        }
    }
}

/// Reviews as ragged rows of ids: row `i` is `values[offsets[i]..offsets[i + 1]]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reviews {
    pub values: Vec<i64>,
    /// `rows + 1` offsets, starting at 0.
    pub offsets: Vec<usize>,
    pub labels: Vec<u8>,
}

impl Reviews {
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    pub fn row(&self, i: usize) -> &[i64] {
        &self.values[self.offsets[i]..self.offsets[i + 1]]
    }
}

/// `(x_train, y_train), (x_test, y_test)` as `load_data` returns them, each as one [`Reviews`].
pub fn load_data(arrays: &ImdbArrays, cfg: &LoadConfig) -> Result<(Reviews, Reviews), String> {
    let (train_order, test_order) =
        load_data_order(arrays.x_train.rows(), arrays.x_test.rows(), cfg.seed);
    let maxlen = cfg.maxlen.filter(|&m| m > 0);
    let build = |x: &crate::pickle::RaggedInts, y: &[u8], order: &[usize]| {
        let mut out = Reviews {
            offsets: vec![0],
            ..Reviews::default()
        };
        for &r in order {
            let raw = x.row(r);
            let len = raw.len() + usize::from(cfg.start_char.is_some());
            if maxlen.is_some_and(|m| len as u64 >= m) {
                continue;
            }
            out.values.extend(cfg.start_char);
            out.values
                .extend(raw.iter().map(|&w| i64::from(w) + cfg.index_from));
            out.offsets.push(out.values.len());
            out.labels.push(y[r]);
        }
        out
    };
    let mut train = build(&arrays.x_train, &arrays.y_train, &train_order);
    let mut test = build(&arrays.x_test, &arrays.y_test, &test_order);
    if let Some(m) = maxlen
        && (train.rows() == 0 || test.rows() == 0)
    {
        return Err(format!(
            "after filtering for sequences shorter than maxlen={m}, no sequence was kept; increase maxlen"
        ));
    }
    let num_words = match cfg.num_words.filter(|&n| n > 0) {
        Some(n) => i128::from(n),
        None => {
            let mut max = None::<i64>;
            for set in [&train, &test] {
                for i in 0..set.rows() {
                    let row_max = set.row(i).iter().copied().max().ok_or_else(|| {
                        "num_words=None with an empty review: Keras' max() raises here".to_owned()
                    })?;
                    max = Some(max.map_or(row_max, |m| m.max(row_max)));
                }
            }
            i128::from(max.ok_or("num_words=None with no reviews at all")?)
        }
    };
    let keep = |w: i64| (i128::from(cfg.skip_top)..num_words).contains(&i128::from(w));
    for set in [&mut train, &mut test] {
        match cfg.oov_char {
            Some(oov) => set
                .values
                .iter_mut()
                .filter(|w| !keep(**w))
                .for_each(|w| *w = oov),
            None => {
                let mut values = Vec::with_capacity(set.values.len());
                let mut offsets = Vec::with_capacity(set.offsets.len());
                offsets.push(0);
                for i in 0..set.rows() {
                    values.extend(set.row(i).iter().copied().filter(|&w| keep(w)));
                    offsets.push(values.len());
                }
                set.values = values;
                set.offsets = offsets;
            }
        }
    }
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::RaggedInts;
    use crate::{PackParams, pack};
    use fusedrnn::tokfile::Side;

    fn arrays() -> ImdbArrays {
        let x_train = RaggedInts::from_rows(&[
            vec![5, 600, 7],
            vec![1, 2, 3, 4, 5, 6],
            vec![9],
            vec![10, 11],
            vec![498, 499, 500, 501],
        ]);
        let x_test = RaggedInts::from_rows(&[vec![3, 3], vec![700], vec![8, 9, 10]]);
        ImdbArrays {
            x_train,
            y_train: vec![1, 0, 1, 0, 1],
            x_test,
            y_test: vec![0, 1, 1],
        }
    }

    #[test]
    fn padded_reviews_equal_what_imdb_pack_packs() {
        let a = arrays();
        let cfg = LoadConfig {
            num_words: Some(500),
            ..LoadConfig::default()
        };
        let (train, test) = load_data(&a, &cfg).unwrap();
        let packed = pack(
            &a,
            &PackParams {
                seq_len: 4,
                val_split: 0.0,
                ..PackParams::NOTEBOOK
            },
        )
        .unwrap();
        for (got, split) in [(&train, &packed.splits[0]), (&test, &packed.splits[2])] {
            assert_eq!(got.labels, split.labels);
            for i in 0..got.rows() {
                let ids: Vec<u32> = got.row(i).iter().map(|&w| w as u32).collect();
                let mut row = [0u32; 4];
                crate::keras::pad_row(&ids, &mut row, Side::Pre, Side::Pre);
                assert_eq!(row, split.tokens[i * 4..(i + 1) * 4], "row {i}");
                assert_eq!(got.row(i).len() as u32, split.lengths[i]);
            }
        }
    }

    #[test]
    fn maxlen_keeps_only_shorter_reviews_and_num_words_none_uses_the_max() {
        let a = arrays();
        let cfg = LoadConfig {
            maxlen: Some(3),
            ..LoadConfig::default()
        };
        let (train, test) = load_data(&a, &cfg).unwrap();
        // With the start char, only the 1-word reviews ([1, w + 3]) are shorter than 3.
        assert!((0..train.rows()).all(|i| train.row(i).len() < 3));
        assert_eq!(train.rows(), 1);
        assert_eq!(test.rows(), 1);
        // num_words=None: the largest kept id (700 + 3) itself becomes OOV.
        assert_eq!(test.row(0), [1, 2]);
        assert_eq!(train.row(0), [1, 12]);
        let e = load_data(
            &a,
            &LoadConfig {
                maxlen: Some(2),
                ..cfg
            },
        )
        .unwrap_err();
        assert!(e.contains("maxlen=2"), "{e}");
    }

    #[test]
    fn oov_none_drops_and_skip_top_applies_to_the_start_char() {
        let a = arrays();
        let cfg = LoadConfig {
            num_words: Some(10),
            skip_top: 2,
            oov_char: None,
            ..LoadConfig::default()
        };
        let (train, _) = load_data(&a, &cfg).unwrap();
        for i in 0..train.rows() {
            assert!(train.row(i).iter().all(|&w| (2..10).contains(&w)));
        }
        assert_eq!(train.values.len(), *train.offsets.last().unwrap());
    }
}
