//! Token-id arrays from numpy, of any integer dtype and memory order, handed to the library's
//! checked converter ([`fusedrnn::infer::ids`]) one row at a time: never copied whole. A
//! C-contiguous array is read through a flat slice, anything else through its strides.

use numpy::{Element, PyArray2, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::value_error;
use fusedrnn::shape::SEQ_LEN;

/// A row filler: writes row `r`'s ids, widened, into the buffer.
pub type Fill<'a> = &'a (dyn Fn(usize, &mut [i64; SEQ_LEN]) + Sync);

/// An integer element, widened to `i64` (`u64` above `i64::MAX` saturates, which is outside any
/// vocabulary all the same).
pub trait Widen: Element + Copy + Sync {
    fn widen(self) -> i64;
}

macro_rules! widen_lossless {
    ($($t:ty),*) => {$(
        impl Widen for $t {
            #[inline]
            fn widen(self) -> i64 {
                i64::from(self)
            }
        }
    )*};
}
widen_lossless!(i8, i16, i32, i64, u8, u16, u32);

impl Widen for u64 {
    #[inline]
    fn widen(self) -> i64 {
        i64::try_from(self).unwrap_or(i64::MAX)
    }
}

/// Calls `f(rows, fill)` over a 2-D integer array without the GIL. `what` names the argument
/// in errors.
pub fn with_rows<R: Send>(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    what: &str,
    f: impl FnOnce(usize, Fill<'_>) -> R + Send,
) -> PyResult<R> {
    macro_rules! try_dtype {
        ($($t:ty),*) => {$(
            if let Ok(a) = x.cast::<PyArray2<$t>>() {
                return typed::<$t, R>(py, a, what, f);
            }
        )*};
    }
    try_dtype!(i32, i64, u16, u8, i8, i16, u32, u64);
    Err(value_error(format!(
        "{what}: expected a 2-D numpy array of integer token ids in native byte order, got {}",
        describe(x)
    )))
}

fn describe(x: &Bound<'_, PyAny>) -> String {
    let shape = x
        .getattr("shape")
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "?".into());
    let dtype = x
        .getattr("dtype")
        .map(|s| s.to_string())
        .unwrap_or_else(|_| x.get_type().to_string());
    format!("shape {shape}, dtype {dtype}")
}

fn typed<T: Widen, R: Send>(
    py: Python<'_>,
    a: &Bound<'_, PyArray2<T>>,
    what: &str,
    f: impl FnOnce(usize, Fill<'_>) -> R + Send,
) -> PyResult<R> {
    let shape = a.shape();
    let (rows, cols) = (shape[0], shape[1]);
    if cols != SEQ_LEN {
        return Err(value_error(format!(
            "{what}: rows of {cols} token ids; the kernels run sequences of {SEQ_LEN} (pad_sequences(maxlen={SEQ_LEN}))"
        )));
    }
    // A shared borrow: rust-numpy's tracking refuses other Rust writers while it is held, not
    // Python code. Like numpy's own GIL-free loops, a Python thread that writes to the array
    // during the call races with this read (don't); each row is copied out first and the copy
    // is what the library checks and scores, so such a write can change results, never make an
    // index go out of bounds.
    let ro = a.try_readonly().map_err(value_error)?;
    // `as_slice` also accepts Fortran order, whose flat order is not row-major: C order only.
    if let (true, Ok(flat)) = (a.is_c_contiguous(), ro.as_slice()) {
        let fill = |r: usize, out: &mut [i64; SEQ_LEN]| {
            for (o, &v) in out.iter_mut().zip(&flat[r * SEQ_LEN..(r + 1) * SEQ_LEN]) {
                *o = v.widen();
            }
        };
        return Ok(py.detach(|| f(rows, &fill)));
    }
    let view = ro.as_array();
    let fill = |r: usize, out: &mut [i64; SEQ_LEN]| {
        for (o, &v) in out.iter_mut().zip(view.row(r)) {
            *o = v.widen();
        }
    };
    Ok(py.detach(|| f(rows, &fill)))
}
