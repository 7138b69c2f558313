//! Handles and arguments crossing the boundary: the tag that marks a live handle of each kind,
//! the checks every entry point runs on its pointers, and the free.

use std::ffi::{CStr, c_char};
use std::path::Path;

use crate::model::Model;
use crate::session::Session;
use crate::status::{Error, Status};

/// Tag at the start of a live model handle (`"FRNNMODL"`); cleared when it is freed.
pub(crate) const MODEL_TAG: u64 = u64::from_le_bytes(*b"FRNNMODL");

/// Tag at the start of a live session handle (`"FRNNSESS"`); cleared when it is freed.
pub(crate) const SESSION_TAG: u64 = u64::from_le_bytes(*b"FRNNSESS");

// The threading rules of the crate docs, checked by the compiler: a model is shared between threads, a
// session moves between them.
const _: () = {
    const fn shared_and_sent<T: Send + Sync>() {}
    shared_and_sent::<Model>();
    const fn sent<T: Send>() {}
    sent::<Session>();
};

/// An opaque handle type: the tag a live one starts with, and its name in messages.
pub(crate) trait Handle {
    const TAG: u64;
    /// The argument's name (`model`) and the C type (`fusedrnn_model`).
    const NAME: (&'static str, &'static str);
    fn tag(&self) -> u64;
    fn clear_tag(&mut self);
}

impl Handle for Model {
    const TAG: u64 = MODEL_TAG;
    const NAME: (&'static str, &'static str) = ("model", "fusedrnn_model");
    fn tag(&self) -> u64 {
        self.tag
    }
    fn clear_tag(&mut self) {
        self.tag = 0;
    }
}

impl Handle for Session {
    const TAG: u64 = SESSION_TAG;
    const NAME: (&'static str, &'static str) = ("session", "fusedrnn_session");
    fn tag(&self) -> u64 {
        self.tag
    }
    fn clear_tag(&mut self) {
        self.tag = 0;
    }
}

/// Whether a handle looks live: `T`'s tag.
pub(crate) fn is_live<T: Handle>(h: &T) -> bool {
    h.tag() == T::TAG
}

/// Why a handle was refused: NULL, or a tag that is not `T`'s (freed, or another kind).
pub(crate) fn refused<T: Handle>(null: bool) -> Error {
    let (arg, ty) = T::NAME;
    let message = if null {
        format!("{arg} is NULL")
    } else {
        format!("not a {ty} (freed, or another kind of handle)")
    };
    Error::new(Status::ERR_INVALID_ARGUMENT, message)
}

/// Frees a handle made by `Box::into_raw`; NULL is a no-op. The tag is cleared first, so a
/// later call with the stale pointer is likely (not certain) to be refused.
///
/// # Safety
/// `handle` is NULL or a live handle of type `T`, not used after this call.
pub(crate) unsafe fn free_handle<T: Handle>(handle: *mut T) -> Result<(), Error> {
    if handle.is_null() {
        return Ok(());
    }
    // SAFETY: the caller passes a live handle (its tag is checked before anything else).
    let h = unsafe { &mut *handle };
    if !is_live(h) {
        return Err(refused::<T>(false));
    }
    h.clear_tag();
    // SAFETY: a live handle is a `Box<T>` leaked by its constructor, and is freed once.
    drop(unsafe { Box::from_raw(handle) });
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

/// The `len` bytes at `utf8` as a `&str`.
///
/// # Safety
/// `utf8` is valid for reading `len` bytes, or `len` is 0.
pub(crate) unsafe fn text_arg<'a>(utf8: *const c_char, len: usize) -> Result<&'a str, Error> {
    if len == 0 {
        return Ok("");
    }
    if utf8.is_null() {
        return Err(Error::new(Status::ERR_INVALID_ARGUMENT, "text is NULL"));
    }
    // SAFETY: non-NULL, and the caller guarantees `len` readable bytes that outlive the call.
    let bytes = unsafe { std::slice::from_raw_parts(utf8.cast::<u8>(), len) };
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
