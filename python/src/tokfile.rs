//! `TokFile`: a packed token file, read into memory once and validated on open by the library;
//! its splits are handed out as read-only numpy views of that memory (no copy).

use std::path::PathBuf;

use fusedrnn::tokfile::{SplitName, TokFile as Inner, TokFileError, TokenIds};
use numpy::ndarray::{ArrayView1, ArrayView2};
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{os_error, value_error};

/// `(tokens, labels, lengths)` of one split; tokens are `uint16` or `uint32` as stored.
type SplitArrays<'py> = (
    Bound<'py, PyAny>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<u32>>,
);

/// A `.tok` file written by `imdb-pack` (or `fusedrnn.datasets.imdb`'s packer).
#[pyclass(module = "fusedrnn._native", frozen)]
pub struct TokFile {
    inner: Inner,
}

#[pymethods]
impl TokFile {
    /// Reads and validates `path` (checksums, bounds, every token id).
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<TokFile> {
        let inner = py.detach(|| Inner::open(&path)).map_err(|e| match e {
            TokFileError::Io { .. } => os_error(e),
            _ => value_error(e),
        })?;
        Ok(TokFile { inner })
    }

    /// `num_words` the file was packed with: every id is below it.
    #[getter]
    fn num_words(&self) -> usize {
        self.inner.num_words()
    }

    /// The format version: 1 (`uint16` ids) or 2 (`uint32` ids, `num_words` above 65,536).
    #[getter]
    fn version(&self) -> u32 {
        self.inner.version()
    }

    /// Tokens per row (`maxlen`).
    #[getter]
    fn seq_len(&self) -> usize {
        self.inner.seq_len()
    }

    /// All `imdb-pack` parameters, as a dict.
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = self.inner.params();
        let d = PyDict::new(py);
        d.set_item("num_words", p.num_words)?;
        d.set_item("maxlen", p.seq_len)?;
        d.set_item("seed", p.seed)?;
        d.set_item("val_split", p.val_split)?;
        d.set_item("split_seed", p.split_seed)?;
        d.set_item("skip_top", p.skip_top)?;
        d.set_item("start_char", p.start_char)?;
        d.set_item("oov_char", p.oov_char)?;
        d.set_item("index_from", p.index_from)?;
        d.set_item("padding", format!("{:?}", p.padding).to_lowercase())?;
        d.set_item("truncating", format!("{:?}", p.truncating).to_lowercase())?;
        Ok(d)
    }

    /// `(tokens [n, seq_len] uint16 or uint32, labels [n] uint8, lengths [n] uint32)` of split
    /// `name` (`"train"`, `"val"`, `"test"`): read-only views of the file's bytes, which they keep
    /// alive. Tokens are `uint32` in a version-2 file (`num_words` above 65,536).
    fn split<'py>(slf: Bound<'py, Self>, name: &str) -> PyResult<SplitArrays<'py>> {
        let which = SplitName::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| {
                value_error(format!(
                    "split {name:?}: expected \"train\", \"val\" or \"test\""
                ))
            })?;
        let split = slf.get().inner.split(which);
        let shape = (split.len(), split.seq_len);
        let owner = slf.clone().into_any();
        // The slices point into the buffer owned by this frozen `TokFile`, which is never
        // mutated or moved; each array holds a reference to it (`owner`), so the memory outlives
        // the arrays. They are made read-only below, so numpy never writes into it.
        let t = match split.tokens {
            TokenIds::U16(ids) => {
                let view = ArrayView2::from_shape(shape, ids).map_err(value_error)?;
                // SAFETY: `view` borrows this `TokFile`'s buffer, kept alive by `owner` (above).
                unsafe { PyArray2::borrow_from_array(&view, owner.clone()) }.into_any()
            }
            TokenIds::U32(ids) => {
                let view = ArrayView2::from_shape(shape, ids).map_err(value_error)?;
                // SAFETY: `view` borrows this `TokFile`'s buffer, kept alive by `owner` (above).
                unsafe { PyArray2::borrow_from_array(&view, owner.clone()) }.into_any()
            }
        };
        // SAFETY: labels and lengths borrow the same buffer, kept alive by `owner` (above).
        let (l, n) = unsafe {
            (
                PyArray1::borrow_from_array(&ArrayView1::from(split.labels), owner.clone()),
                PyArray1::borrow_from_array(&ArrayView1::from(split.lengths), owner),
            )
        };
        for a in [t.as_any(), l.as_any(), n.as_any()] {
            let kwargs = PyDict::new(slf.py());
            kwargs.set_item("write", false)?;
            a.call_method("setflags", (), Some(&kwargs))?;
        }
        Ok((t, l, n))
    }
}
