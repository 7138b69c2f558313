//! Status codes, the thread-local error message behind `fusedrnn_last_error()`, and [`guard`],
//! which turns every entry point's error or panic into a status.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What a call did: `FUSEDRNN_OK` (0), or why it failed (`fusedrnn_last_error()` has the details).
///
/// (In Rust the variants lack the `FUSEDRNN_` prefix that the header gives them.)
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum Status {
    /// Success.
    OK = 0,
    /// A NULL pointer where one is required, a handle of the wrong kind, or a path that is not
    /// UTF-8.
    ERR_INVALID_ARGUMENT = 1,
    /// A file could not be read (missing, unreadable).
    ERR_IO = 2,
    /// The weights file is not a model fusedrnn can run (format, names, shapes, values).
    ERR_BAD_MODEL = 3,
    /// The word index is not a JSON object of word → rank, or it does not fit the model.
    ERR_BAD_WORD_INDEX = 4,
    /// The text is not valid UTF-8.
    ERR_BAD_UTF8 = 5,
    /// A token id is negative or not below the model's vocabulary.
    ERR_BAD_TOKEN = 6,
    /// `FUSEDRNN_KERNEL` asks for a kernel this CPU cannot run, or names none.
    ERR_KERNEL = 7,
    /// A bug in fusedrnn (a Rust panic, caught at the boundary); the message says where.
    ERR_INTERNAL = 8,
}

// ---------------------------------------------------------------------------------------------
// Errors: a thread-local message per failed call

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// An error on its way out: the status and the message `fusedrnn_last_error()` will give.
pub(crate) struct Error(pub(crate) Status, pub(crate) String);

impl Error {
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Error {
        Error(status, message.into())
    }
}

/// Records `message` for `fusedrnn_last_error()` on this thread.
fn set_last_error(message: &str) {
    // An interior NUL would end the C string early: show it instead.
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// Runs an entry point's body: its error, or a panic inside it, becomes a status and a message.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Error>) -> Status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => Status::OK,
        Ok(Err(Error(status, message))) => {
            set_last_error(&message);
            status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            set_last_error(&format!(
                "internal error in fusedrnn (please report): {what}"
            ));
            Status::ERR_INTERNAL
        }
    }
}

/// The message of the most recent failed call on this thread; `""` if none has failed.
///
/// The pointer is valid until the next call into fusedrnn on this thread fails; copy the text to
/// keep it. Never NULL; the caller must not free it.
#[unsafe(no_mangle)]
pub extern "C" fn fusedrnn_last_error() -> *const c_char {
    // Reading a thread-local cannot panic except while the thread is being torn down; then the
    // empty static string is the answer.
    catch_unwind(|| LAST_ERROR.with(|e| e.borrow().as_ptr())).unwrap_or(c"".as_ptr())
}

/// The library's version, e.g. `"0.1.0"` (a static string; do not free).
#[unsafe(no_mangle)]
pub extern "C" fn fusedrnn_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => panic!("the version has no NUL"),
        };
    VERSION.as_ptr()
}
