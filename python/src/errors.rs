//! The library's errors as Python exceptions, messages unchanged.

use fusedrnn::kernels::Kernel;
use pyo3::PyErr;
use pyo3::exceptions::{PyOSError, PyValueError};

/// `ValueError(message)`.
pub fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// `OSError(message)`.
pub fn os_error(e: impl std::fmt::Display) -> PyErr {
    PyOSError::new_err(e.to_string())
}

/// The kernel for this CPU, or the one `FUSEDRNN_KERNEL` asks for (an impossible request is a
/// `ValueError`).
pub fn kernel() -> Result<Kernel, PyErr> {
    Kernel::select().map_err(value_error)
}

/// A data-tools error: files that cannot be read are `OSError`, bad content `ValueError`.
pub fn data_error(e: fusedrnn_data_tools::Error) -> PyErr {
    match e {
        fusedrnn_data_tools::Error::Io { .. } => os_error(e),
        _ => value_error(e),
    }
}
