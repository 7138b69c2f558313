//! Handles and arguments crossing the boundary: the tag that marks a live handle of each kind,
//! the checks every entry point runs on its pointers, and the free.

use std::ffi::{CStr, c_char};
use std::path::Path;

use crate::model::{Model, ModelState};
use crate::session::{Session, SessionState};
use crate::status::{Error, Status};

/// Tag of a live model handle (`"FRNNMODL"`); cleared when it is freed.
pub(crate) const MODEL_TAG: u64 = u64::from_le_bytes(*b"FRNNMODL");

/// Tag of a live session handle (`"FRNNSESS"`); cleared when it is freed.
pub(crate) const SESSION_TAG: u64 = u64::from_le_bytes(*b"FRNNSESS");

/// What every handle's allocation is: the tag at offset 0, then the state of its kind.
///
/// `#[repr(C)]` puts `tag` first whatever `T` is, so the tag of a pointer of either kind is read
/// from its first 8 bytes, which every handle's allocation has. A model passed where a session
/// is expected is refused by its tag without reading past the model's (smaller) allocation.
#[repr(C)]
pub(crate) struct Tagged<T> {
    tag: u64,
    value: T,
}

// The threading rules of the crate docs, checked by the compiler: a model is shared between
// threads, a session moves between them.
const _: () = {
    const fn shared_and_sent<T: Send + Sync>() {}
    shared_and_sent::<Tagged<ModelState>>();
    const fn sent<T: Send>() {}
    sent::<Tagged<SessionState>>();
};

/// An opaque handle type as C sees it (`fusedrnn_model`, `fusedrnn_session`): a pointer to a
/// [`Tagged`] state.
pub(crate) trait Handle {
    /// The tag a live handle of this kind starts with.
    const TAG: u64;
    /// The argument's name (`model`) and the C type (`fusedrnn_model`).
    const NAME: (&'static str, &'static str);
    /// What the handle owns.
    type State;
}

impl Handle for Model {
    const TAG: u64 = MODEL_TAG;
    const NAME: (&'static str, &'static str) = ("model", "fusedrnn_model");
    type State = ModelState;
}

impl Handle for Session {
    const TAG: u64 = SESSION_TAG;
    const NAME: (&'static str, &'static str) = ("session", "fusedrnn_session");
    type State = SessionState;
}

/// A new handle owning `state`, for C to release with the `*_free` of its kind.
pub(crate) fn into_handle<H: Handle>(state: H::State) -> *mut H {
    Box::into_raw(Box::new(Tagged {
        tag: H::TAG,
        value: state,
    }))
    .cast::<H>()
}

/// Why a handle was refused: NULL, or a tag that is not `H`'s (freed, or another kind).
fn refused<H: Handle>(null: bool) -> Error {
    let (arg, ty) = H::NAME;
    let message = if null {
        format!("{arg} is NULL")
    } else {
        format!("not a {ty} (freed, or another kind of handle)")
    };
    Error::new(Status::ERR_INVALID_ARGUMENT, message)
}

/// `handle` as a pointer to its [`Tagged`] state, if it is not NULL and carries `H`'s tag. Only
/// the tag, the first 8 bytes, is read before the kind is known.
///
/// # Safety
/// `handle` is NULL or a handle from this library (of any kind) that has not been freed.
unsafe fn checked<H: Handle>(handle: *const H) -> Result<*mut Tagged<H::State>, Error> {
    if handle.is_null() {
        return Err(refused::<H>(true));
    }
    // SAFETY: every handle of every kind is a `Tagged<_>` allocation, `#[repr(C)]` with a
    // `u64` tag at offset 0 and 8-byte aligned: reading 8 bytes at the start stays inside it
    // whichever kind it is.
    let tag = unsafe { handle.cast::<u64>().read() };
    if tag != H::TAG {
        return Err(refused::<H>(false));
    }
    Ok(handle.cast::<Tagged<H::State>>().cast_mut())
}

/// The state of the handle `handle`, for reading, if it is a live handle of kind `H`.
///
/// # Safety
/// As [`checked`]; no other thread writes the state during `'a`.
pub(crate) unsafe fn state_ref<'a, H: Handle>(handle: *const H) -> Result<&'a H::State, Error> {
    // SAFETY: the caller's contract.
    let p = unsafe { checked(handle) }?;
    // SAFETY: the tag says this is a live `Tagged<H::State>`; no thread writes it during 'a.
    Ok(unsafe { &(*p).value })
}

/// The state of the handle `handle`, for writing, if it is a live handle of kind `H`.
///
/// # Safety
/// As [`checked`]; no other thread uses the handle during `'a`.
pub(crate) unsafe fn state_mut<'a, H: Handle>(handle: *mut H) -> Result<&'a mut H::State, Error> {
    // SAFETY: the caller's contract.
    let p = unsafe { checked(handle.cast_const()) }?;
    // SAFETY: the tag says this is a live `Tagged<H::State>`, used by this thread alone.
    Ok(unsafe { &mut (*p).value })
}

/// Frees a handle made by [`into_handle`]; NULL is a no-op. The tag is cleared first, so a later
/// call with the stale pointer is likely (not certain) to be refused.
///
/// # Safety
/// `handle` is NULL or a live handle from this library, not used after this call.
pub(crate) unsafe fn free_handle<H: Handle>(handle: *mut H) -> Result<(), Error> {
    if handle.is_null() {
        return Ok(());
    }
    // SAFETY: the caller's contract.
    let p = unsafe { checked(handle.cast_const()) }?;
    // SAFETY: a live `Tagged<H::State>` leaked by `into_handle`, freed once, here.
    unsafe {
        (*p).tag = 0;
        drop(Box::from_raw(p));
    }
    Ok(())
}

/// A path argument as a `&Path`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
pub(crate) unsafe fn path_arg<'a>(path: *const c_char, what: &str) -> Result<&'a Path, Error> {
    if path.is_null() {
        return Err(Error::new(
            Status::ERR_INVALID_ARGUMENT,
            format!("{what} is NULL"),
        ));
    }
    // SAFETY: non-NULL, and the caller guarantees it is NUL-terminated.
    let c = unsafe { CStr::from_ptr(path) };
    let s = c.to_str().map_err(|_| {
        Error::new(
            Status::ERR_INVALID_ARGUMENT,
            format!("{what} is not UTF-8: {}", c.to_string_lossy()),
        )
    })?;
    Ok(Path::new(s))
}

/// Writes `value` through the out-pointer `out`, or refuses a NULL one.
///
/// # Safety
/// `out` is NULL or valid for writing a `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T, what: &str) -> Result<(), Error> {
    if out.is_null() {
        return Err(Error::new(
            Status::ERR_INVALID_ARGUMENT,
            format!("{what} is NULL"),
        ));
    }
    // SAFETY: non-NULL, and the caller guarantees it is valid for writes.
    unsafe { out.write(value) };
    Ok(())
}

/// Most bytes of text one call takes (256 MiB; a review is a few KB). A larger `len` cannot be
/// a real buffer's length and is refused before any pointer arithmetic.
pub const FUSEDRNN_MAX_TEXT_BYTES: usize = 1 << 28;

/// Most token ids one call takes (2^28).
pub const FUSEDRNN_MAX_IDS: usize = 1 << 28;

/// The `n` values at `ptr` as a slice: `n` at most `max` and the range `ptr..ptr + n` not
/// wrapping around the address space, both checked before the slice is made; NULL is refused
/// unless `n` is 0. `what` names the pointer and the length in messages.
///
/// # Safety
/// `ptr` is valid for reading `n` values, or `n` is 0.
pub(crate) unsafe fn slice_arg<'a, T>(
    ptr: *const T,
    n: usize,
    max: usize,
    what: (&str, &str),
) -> Result<&'a [T], Error> {
    let (arg, len) = what;
    if n == 0 {
        return Ok(&[]);
    }
    if n > max {
        return Err(Error::new(
            Status::ERR_INVALID_ARGUMENT,
            format!("{len} = {n} is more than the {max} one call takes"),
        ));
    }
    if ptr.is_null() {
        return Err(Error::new(
            Status::ERR_INVALID_ARGUMENT,
            format!("{arg} is NULL"),
        ));
    }
    let wraps = (ptr as usize)
        .checked_add(n * std::mem::size_of::<T>())
        .is_none_or(|end| end > isize::MAX as usize);
    if wraps || !ptr.is_aligned() {
        return Err(Error::new(
            Status::ERR_INVALID_ARGUMENT,
            format!("{arg} + {len} is not a buffer (it wraps around memory, or is misaligned)"),
        ));
    }
    // SAFETY: non-NULL, aligned, `n * size_of::<T>()` bytes that do not wrap and stay below
    // isize::MAX (checked above), and the caller guarantees they are readable for the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr, n) })
}

/// The `len` bytes at `utf8` as a `&str`.
///
/// # Safety
/// `utf8` is valid for reading `len` bytes, or `len` is 0.
pub(crate) unsafe fn text_arg<'a>(utf8: *const c_char, len: usize) -> Result<&'a str, Error> {
    // SAFETY: the caller's contract.
    let bytes = unsafe {
        slice_arg(
            utf8.cast::<u8>(),
            len,
            FUSEDRNN_MAX_TEXT_BYTES,
            ("text", "len"),
        )
    }?;
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            Status::ERR_BAD_UTF8,
            format!(
                "text is not UTF-8: invalid byte at offset {}",
                e.valid_up_to()
            ),
        )
    })
}
