//! The data path of the notebook, from `fusedrnn-data-tools`: `imdb.load_data`, `pad_sequences`,
//! `train_test_split`'s row choice, and the synthetic corpus.

use std::path::PathBuf;

use fusedrnn::tokfile::Side;
use fusedrnn_data_tools::ImdbArrays;
use fusedrnn_data_tools::keras::{SizeArg, pad_row_with, sklearn_split};
use fusedrnn_data_tools::load::{LoadConfig, Reviews, load_data};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::exceptions::PyMemoryError;
use pyo3::prelude::*;

use crate::errors::{data_error, os_error, value_error};

type Set<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<usize>>,
    Bound<'py, PyArray1<u8>>,
);

fn set(py: Python<'_>, r: Reviews) -> Set<'_> {
    (
        r.values.into_pyarray(py),
        r.offsets.into_pyarray(py),
        r.labels.into_pyarray(py),
    )
}

/// `keras.datasets.imdb.load_data` on the npz at `path`: for train and test,
/// `(ids int64, offsets, labels uint8)` with row `i` = `ids[offsets[i]:offsets[i + 1]]`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (path, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from))]
pub fn load_imdb(
    py: Python<'_>,
    path: PathBuf,
    num_words: Option<u64>,
    skip_top: u64,
    maxlen: Option<u64>,
    seed: u32,
    start_char: Option<i64>,
    oov_char: Option<i64>,
    index_from: i64,
) -> PyResult<(Set<'_>, Set<'_>)> {
    let cfg = LoadConfig {
        num_words,
        skip_top,
        maxlen,
        seed,
        start_char,
        oov_char,
        index_from,
    };
    let (train, test) = py.detach(|| {
        let arrays = ImdbArrays::read(&path).map_err(data_error)?;
        load_data(&arrays, &cfg).map_err(|e| value_error(format!("{}: {e}", path.display())))
    })?;
    Ok((set(py, train), set(py, test)))
}

/// `pad_sequences` on ragged int64 rows: `[n, maxlen]` int64.
#[pyfunction]
pub fn pad_sequences<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, i64>,
    offsets: PyReadonlyArray1<'py, i64>,
    maxlen: usize,
    value: i64,
    padding: &str,
    truncating: &str,
) -> PyResult<Bound<'py, PyArray2<i64>>> {
    let side = |s: &str, what: &str| match s {
        "pre" => Ok(Side::Pre),
        "post" => Ok(Side::Post),
        _ => Err(value_error(format!("{what} type \"{s}\" not understood"))),
    };
    let (padding, truncating) = (side(padding, "Padding")?, side(truncating, "Truncating")?);
    let values = values.as_slice().map_err(value_error)?;
    // A copy (one int per row), checked below and then used while the GIL is released: another
    // Python thread may write to the caller's array meanwhile, and bounds checked on the caller's
    // buffer would not hold for what is read later.
    let offsets = offsets.as_slice().map_err(value_error)?.to_vec();
    let n = offsets.len().saturating_sub(1);
    let bad = || value_error("offsets must start at 0, never decrease, and end at len(values)");
    if offsets.first().is_some_and(|&o| o != 0)
        || offsets.windows(2).any(|w| w[1] < w[0])
        || offsets
            .last()
            .is_some_and(|&o| o as u64 != values.len() as u64)
    {
        return Err(bad());
    }
    // A hostile maxlen must not abort the process on allocation: reserve fallibly, and report
    // what numpy would (MemoryError).
    let too_large = || PyMemoryError::new_err(format!("{n} rows × maxlen {maxlen}: too large"));
    let cells = n.checked_mul(maxlen).ok_or_else(too_large)?;
    if cells > isize::MAX as usize / 8 {
        return Err(too_large());
    }
    let mut buf: Vec<i64> = Vec::new();
    buf.try_reserve_exact(cells).map_err(|_| too_large())?;
    let out = py.detach(|| {
        buf.resize(cells, value);
        let mut out = Array2::from_shape_vec((n, maxlen), buf).expect("n × maxlen cells");
        for (i, mut row) in out.rows_mut().into_iter().enumerate() {
            let seq = &values[offsets[i] as usize..offsets[i + 1] as usize];
            if seq.is_empty() {
                continue;
            }
            let row = row.as_slice_mut().expect("a fresh array is C-contiguous");
            pad_row_with(seq, row, value, padding, truncating);
        }
        out
    });
    Ok(out.into_pyarray(py))
}

/// sklearn's `train_test_split` row choice: `(train indices, test indices)`. Each size is
/// given as a count or a fraction (never both).
/// `(train indices, test indices)`.
type Indices<'py> = (Bound<'py, PyArray1<usize>>, Bound<'py, PyArray1<usize>>);

#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (n, test_count, test_fraction, train_count, train_fraction, shuffle, seed))]
pub fn split_indices<'py>(
    py: Python<'py>,
    n: usize,
    test_count: Option<i64>,
    test_fraction: Option<f64>,
    train_count: Option<i64>,
    train_fraction: Option<f64>,
    shuffle: bool,
    seed: u32,
) -> PyResult<Indices<'py>> {
    let arg = |c: Option<i64>, f: Option<f64>| match (c, f) {
        (Some(c), _) => Some(SizeArg::Count(c)),
        (None, Some(f)) => Some(SizeArg::Fraction(f)),
        _ => None,
    };
    let (train, test) = py
        .detach(|| {
            sklearn_split(
                n,
                arg(test_count, test_fraction),
                arg(train_count, train_fraction),
                shuffle,
                seed,
            )
        })
        .map_err(value_error)?;
    Ok((train.into_pyarray(py), test.into_pyarray(py)))
}

/// Writes the deterministic synthetic corpus (Keras' `imdb.npz` layout, IMDB-like lengths, a
/// learnable sentiment signal) that the demo uses when there is no real data.
#[pyfunction]
#[pyo3(signature = (path, train = 25_000, test = 25_000, seed = 20_111))]
pub fn write_synthetic_imdb(
    py: Python<'_>,
    path: PathBuf,
    train: usize,
    test: usize,
    seed: u32,
) -> PyResult<()> {
    use fusedrnn_data_tools::synth::{SynthConfig, generate, npz_bytes};
    py.detach(|| {
        let cfg = SynthConfig {
            train,
            test,
            seed,
            ..SynthConfig::default()
        };
        let (a, b, c, d) = generate(&cfg);
        let bytes = npz_bytes(&a, &b, &c, &d)?;
        fusedrnn::atomic::write_bytes(&path, &bytes)
    })
    .map_err(os_error)
}
