//! `fusedrnn._native`: the thin PyO3 layer under the `fusedrnn` Python package.
//!
//! Every function here converts and checks its arguments, calls the `fusedrnn` library (or
//! `fusedrnn-data-tools` for the data path), releases the GIL around anything longer than a few
//! microseconds, and maps the library's errors to Python's types with the library's message:
//! `ValueError` for bad values and shapes, `OSError` for files, `KeyboardInterrupt` for Ctrl-C
//! during `fit`. Nothing is computed here: no kernel, parser or tokenizer is written twice. The
//! Keras-shaped API (`Sequential`, layers, callbacks) is pure Python in `fusedrnn/`.
//!
//! Thread safety: `Model` and `TokFile` are immutable once built (`frozen` pyclasses), so any
//! number of Python threads may use one at once; predict and fit run without the GIL.

use pyo3::prelude::*;

mod data;
mod errors;
mod ids;
mod model;
mod net;
mod tokfile;
mod train;

/// The Python module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::Model>()?;
    m.add_class::<model::Session>()?;
    m.add_class::<net::Net>()?;
    m.add_function(wrap_pyfunction!(net::net_fit, m)?)?;
    m.add_class::<tokfile::TokFile>()?;
    m.add_function(wrap_pyfunction!(data::load_imdb, m)?)?;
    m.add_function(wrap_pyfunction!(data::pad_sequences, m)?)?;
    m.add_function(wrap_pyfunction!(data::split_indices, m)?)?;
    m.add_function(wrap_pyfunction!(data::write_synthetic_imdb, m)?)?;
    m.add_function(wrap_pyfunction!(train::fit, m)?)?;
    m.add_function(wrap_pyfunction!(kernel_name, m)?)?;
    m.add_function(wrap_pyfunction!(kernel_tuning, m)?)?;
    m.add("SEQ_LEN", fusedrnn::shape::SEQ_LEN)?;
    // Calls of at most this many rows take the one-review latency kernel (a different rounding
    // from the batch kernel's): `fusedrnn.ray` keeps shards larger, so they score as `predict`.
    m.add("INLINE_ROWS", fusedrnn::infer::ids::INLINE_ROWS)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

/// The kernel this process scores with (`FUSEDRNN_KERNEL` may pin one).
#[pyfunction]
fn kernel_name() -> PyResult<&'static str> {
    Ok(errors::kernel()?.name())
}

/// The per-CPU choices of that kernel that give the same bits but not the same speed
/// (`Kernel::tuning`; empty for a kernel with one form): what a benchmark should record.
#[pyfunction]
fn kernel_tuning() -> PyResult<&'static str> {
    Ok(errors::kernel()?.tuning())
}
