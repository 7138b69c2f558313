//! The C ABI of fusedrnn: `libfusedrnn_c.so` (and `.a`), declared in `include/fusedrnn.h`.
//!
//! A C (or Python ctypes, or any FFI) program opens a model once, then scores raw UTF-8 review
//! text or token ids, one review per call, or streams a review in pieces through a session:
//!
//! ```c
//! fusedrnn_model *model;
//! if (fusedrnn_model_open("lstm.safetensors", "imdb_word_index.json", &model) != FUSEDRNN_OK) {
//!     fprintf(stderr, "%s\n", fusedrnn_last_error());
//!     return 1;
//! }
//! float prob;
//! const char *review = "One of the best films I have seen.";
//! if (fusedrnn_score_text(model, review, strlen(review), &prob) == FUSEDRNN_OK)
//!     printf("%.6f\n", prob);
//! fusedrnn_model_free(model);
//! ```
//!
//! # Rules at the boundary
//! - **Status codes.** Every fallible function returns a [`Status`]; `FUSEDRNN_OK` is 0. On an
//!   error, `fusedrnn_last_error()` gives a message naming the problem (the file, the token, …) and
//!   out-parameters are left untouched.
//! - **No panic crosses the boundary.** Each entry point runs its body under
//!   [`std::panic::catch_unwind`]; a panic (a bug) becomes `FUSEDRNN_ERR_INTERNAL` with its message.
//! - **Handles** are opaque pointers from `*_open` / `*_new`, released by the matching `*_free`
//!   (NULL is a no-op there). Every other function refuses NULL with
//!   `FUSEDRNN_ERR_INVALID_ARGUMENT`, and checks a tag in the handle, so a pointer of the wrong
//!   kind or one already freed is usually refused rather than used. That check is a courtesy, not a
//!   guarantee: using a freed handle is undefined behaviour, as in any C library.
//! - **Threads.** A model is immutable once open: any number of threads may score with one model
//!   at the same time. A session is used by one thread at a time (it may move between threads). A
//!   session keeps its model alive: `fusedrnn_model_free` may come before the sessions' frees.
//! - **Allocation.** Scoring (`fusedrnn_score_text`, `fusedrnn_score_ids`) and the session's
//!   pushes and reads allocate nothing; only open, new and the error path do.
//!
//! Safety is the caller's side of the contract each function's `# Safety` states: pointers valid
//! for the lengths given, handles from this library and not yet freed.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use fusedrnn::infer::Scorer;
use fusedrnn::kernels::Kernel;
use fusedrnn::model::Arch;
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::text::{TextSession, Tokenizer, TokenizerConfig};

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
struct Error(Status, String);

impl Error {
    fn new(status: Status, message: impl Into<String>) -> Error {
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
fn guard(body: impl FnOnce() -> Result<(), Error>) -> Status {
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

// ---------------------------------------------------------------------------------------------
// Models

/// Tag at the start of a live model handle (`"FRNNMODL"`); cleared when it is freed.
const MODEL_TAG: u64 = u64::from_le_bytes(*b"FRNNMODL");
/// Tag at the start of a live session handle (`"FRNNSESS"`); cleared when it is freed.
const SESSION_TAG: u64 = u64::from_le_bytes(*b"FRNNSESS");

/// What a model handle owns, shared with its sessions.
struct Loaded {
    scorer: Scorer,
    tokenizer: Tokenizer,
}

/// An open model: weights folded for this CPU's kernel, and the tokenizer of its word index.
/// Opaque to C (`fusedrnn_model`).
pub struct Model {
    tag: u64,
    loaded: Arc<Loaded>,
}

// The threading rules above, checked by the compiler: a model is shared between threads, a
// session moves between them.
const _: () = {
    const fn shared_and_sent<T: Send + Sync>() {}
    shared_and_sent::<Model>();
    const fn sent<T: Send>() {}
    sent::<Session>();
};

/// An opaque handle type: the tag a live one starts with, and its name in messages.
trait Handle {
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
fn is_live<T: Handle>(h: &T) -> bool {
    h.tag() == T::TAG
}

/// Why a handle was refused: NULL, or a tag that is not `T`'s (freed, or another kind).
fn refused<T: Handle>(null: bool) -> Error {
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
unsafe fn free_handle<T: Handle>(handle: *mut T) -> Result<(), Error> {
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

/// The model `model` points to, if it looks like a live one.
///
/// # Safety
/// `model` is NULL or a pointer from `fusedrnn_model_open()` that has not been freed.
unsafe fn model_ref<'a>(model: *const Model) -> Result<&'a Model, Error> {
    // SAFETY: the caller passes NULL or a live handle; `as_ref` maps NULL to None.
    match unsafe { model.as_ref() } {
        Some(m) if is_live(m) => Ok(m),
        m => Err(refused::<Model>(m.is_none())),
    }
}

/// A path argument as a `&Path`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
unsafe fn path_arg<'a>(path: *const c_char, what: &str) -> Result<&'a Path, Error> {
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
unsafe fn write_out<T>(out: *mut T, value: T, what: &str) -> Result<(), Error> {
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

/// Opens a model: weights from `model_path` (`.safetensors`, Keras or PyTorch tensor names; LSTM,
/// SimpleRNN or one-hot SimpleRNN) and the word index from `word_index_path`
/// (`imdb_word_index.json`, word → rank). Words become ids as
/// `keras.datasets.imdb.load_data(num_words = the model's vocabulary)` makes them: rank + 3, start
/// char 1, out-of-vocabulary 2.
///
/// On success `*out` is the new model, to be released with `fusedrnn_model_free()`. The kernel is
/// the fastest this CPU runs, unless the environment variable `FUSEDRNN_KERNEL`
/// (`reference` | `portable` | `avx2-fma`) asks for another.
///
/// # Safety
/// Both paths are NUL-terminated strings; `out` is valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_model_open(
    model_path: *const c_char,
    word_index_path: *const c_char,
    out: *mut *mut Model,
) -> Status {
    guard(|| {
        if out.is_null() {
            return Err(Error::new(Status::ERR_INVALID_ARGUMENT, "out is NULL"));
        }
        // SAFETY: the caller passes NUL-terminated strings (NULL is refused inside).
        let model_path = unsafe { path_arg(model_path, "model_path") }?;
        // SAFETY: as above.
        let index_path = unsafe { path_arg(word_index_path, "word_index_path") }?;
        let model = fusedrnn::model::Model::load(model_path).map_err(|e| {
            let status = match e {
                fusedrnn::model::ModelError::Io { .. } => Status::ERR_IO,
                _ => Status::ERR_BAD_MODEL,
            };
            Error::new(status, e.to_string())
        })?;
        let kernel = Kernel::select().map_err(|e| Error::new(Status::ERR_KERNEL, e.to_string()))?;
        let scorer = Scorer::new(&model, kernel);
        let num_words = u32::try_from(scorer.vocab()).map_err(|_| {
            Error::new(
                Status::ERR_BAD_MODEL,
                "the model's vocabulary does not fit u32",
            )
        })?;
        let config = TokenizerConfig {
            num_words: Some(num_words),
            ..TokenizerConfig::default()
        };
        let tokenizer = Tokenizer::from_file(index_path, config).map_err(|e| {
            let status = match e {
                fusedrnn::text::TextError::Io { .. } => Status::ERR_IO,
                _ => Status::ERR_BAD_WORD_INDEX,
            };
            Error::new(status, e.to_string())
        })?;
        if tokenizer.max_id() as usize >= scorer.vocab() || tokenizer.max_id() > u16::MAX.into() {
            return Err(Error::new(
                Status::ERR_BAD_WORD_INDEX,
                format!(
                    "{}: the tokenizer emits ids up to {}, the model's vocabulary is {}",
                    index_path.display(),
                    tokenizer.max_id(),
                    scorer.vocab()
                ),
            ));
        }
        let model = Box::new(Model {
            tag: MODEL_TAG,
            loaded: Arc::new(Loaded { scorer, tokenizer }),
        });
        // SAFETY: checked non-NULL above; the caller guarantees it is valid for writes.
        unsafe { out.write(Box::into_raw(model)) };
        Ok(())
    })
}

/// Releases a model from `fusedrnn_model_open()`. NULL is a no-op. Sessions made from it stay
/// usable (they hold the model until their own free).
///
/// # Safety
/// `model` is NULL or a live model handle; it must not be used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_model_free(model: *mut Model) {
    // SAFETY: the caller passes NULL or a live handle from `fusedrnn_model_open`.
    let _ = guard(|| unsafe { free_handle(model) });
}

/// The model's vocabulary (rows of its input table; every token id must be below it), or 0 if
/// `model` is not a model.
///
/// # Safety
/// `model` is NULL or a live model handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_model_vocab(model: *const Model) -> usize {
    let mut vocab = 0;
    let _ = guard(|| {
        // SAFETY: the caller passes NULL or a live handle.
        vocab = unsafe { model_ref(model) }?.loaded.scorer.vocab();
        Ok(())
    });
    vocab
}

/// The model's architecture: `"lstm"`, `"rnn"` or `"rnn-onehot"` (a static string), or `""` if
/// `model` is not a model.
///
/// # Safety
/// `model` is NULL or a live model handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_model_arch(model: *const Model) -> *const c_char {
    let mut name: &'static CStr = c"";
    let _ = guard(|| {
        // SAFETY: the caller passes NULL or a live handle.
        name = match unsafe { model_ref(model) }?.loaded.scorer.arch() {
            Arch::Lstm => c"lstm",
            Arch::Rnn => c"rnn",
            Arch::RnnOneHot => c"rnn-onehot",
        };
        Ok(())
    });
    name.as_ptr()
}

/// The kernel that runs the model on this CPU, e.g. `"x86_64-avx2-fma"` (a static string), or
/// `""` if `model` is not a model.
///
/// # Safety
/// `model` is NULL or a live model handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_model_kernel(model: *const Model) -> *const c_char {
    let mut name: &'static CStr = c"";
    let _ = guard(|| {
        // SAFETY: the caller passes NULL or a live handle.
        name = match unsafe { model_ref(model) }?.loaded.scorer.kernel() {
            Kernel::Reference => c"reference",
            Kernel::Portable => c"portable-wide",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(_) => c"x86_64-avx2-fma",
        };
        Ok(())
    });
    name.as_ptr()
}

/// The `len` bytes at `utf8` as a `&str`.
///
/// # Safety
/// `utf8` is valid for reading `len` bytes, or `len` is 0.
unsafe fn text_arg<'a>(utf8: *const c_char, len: usize) -> Result<&'a str, Error> {
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

/// Probability (the model's sigmoid output) that the review `utf8[0..len]` is positive, as the
/// notebook computes it: words → ids, `pad_sequences(maxlen=100)` (pads and truncates at the
/// front), the model. The text need not be NUL-terminated (`len` bytes are read; `utf8` may be
/// NULL when `len` is 0). Invalid UTF-8 is `FUSEDRNN_ERR_BAD_UTF8`.
///
/// Allocates nothing; any number of threads may score with one model at once.
///
/// # Safety
/// `model` is a live model handle; `utf8` is valid for reading `len` bytes; `prob` is valid for
/// writing a float.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_score_text(
    model: *const Model,
    utf8: *const c_char,
    len: usize,
    prob: *mut f32,
) -> Status {
    guard(|| {
        // SAFETY: the caller passes a live handle.
        let loaded = &unsafe { model_ref(model) }?.loaded;
        // SAFETY: the caller guarantees `len` readable bytes at `utf8`.
        let text = unsafe { text_arg(utf8, len) }?;
        let row = loaded.tokenizer.padded(text);
        let p = loaded
            .scorer
            .score_one(&row)
            .map_err(|e| Error::new(Status::ERR_INTERNAL, e.to_string()))?;
        // SAFETY: the caller guarantees `prob` is NULL or valid for writes.
        unsafe { write_out(prob, p, "prob") }
    })
}

/// Probability for a review given as token ids (`n` of them at `ids`), as the model sees them
/// after `pad_sequences(maxlen=100)`: more than 100 keeps the last 100, fewer are preceded by pad
/// (0) ids. Include the start char (1) first, as `load_data` does. An id that is negative or not
/// below `fusedrnn_model_vocab()` is `FUSEDRNN_ERR_BAD_TOKEN` (not mapped to the oov id: that
/// would hide a mismatched vocabulary).
///
/// # Safety
/// `model` is a live model handle; `ids` is valid for reading `n` ids (may be NULL when `n` is
/// 0); `prob` is valid for writing a float.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_score_ids(
    model: *const Model,
    ids: *const i32,
    n: usize,
    prob: *mut f32,
) -> Status {
    guard(|| {
        // SAFETY: the caller passes a live handle.
        let scorer = &unsafe { model_ref(model) }?.loaded.scorer;
        let ids: &[i32] = if n == 0 {
            &[]
        } else if ids.is_null() {
            return Err(Error::new(Status::ERR_INVALID_ARGUMENT, "ids is NULL"));
        } else {
            // SAFETY: non-NULL, and the caller guarantees `n` readable ids.
            unsafe { std::slice::from_raw_parts(ids, n) }
        };
        let kept = &ids[n.saturating_sub(SEQ_LEN)..];
        let mut row = [0u16; SEQ_LEN];
        let first = SEQ_LEN - kept.len();
        for (j, (slot, &id)) in row[first..].iter_mut().zip(kept).enumerate() {
            *slot = u16::try_from(id)
                .ok()
                .filter(|&t| usize::from(t) < scorer.vocab())
                .ok_or_else(|| {
                    Error::new(
                        Status::ERR_BAD_TOKEN,
                        format!(
                            "id {id} at position {} is not in 0..{}",
                            n - kept.len() + j,
                            scorer.vocab()
                        ),
                    )
                })?;
        }
        let p = scorer
            .score_one(&row)
            .map_err(|e| Error::new(Status::ERR_INTERNAL, e.to_string()))?;
        // SAFETY: the caller guarantees `prob` is NULL or valid for writes.
        unsafe { write_out(prob, p, "prob") }
    })
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// A review arriving in pieces (`fusedrnn_session`): text chunks and ids appended in order, its
/// probability readable after any of them. Opaque to C.
pub struct Session {
    tag: u64,
    // Declared before `_loaded`, so dropped first: it borrows from what `_loaded` owns.
    text: TextSession<'static>,
    /// Keeps the tokenizer and scorer `text` borrows alive (and where they are: an `Arc`'s
    /// contents never move).
    _loaded: Arc<Loaded>,
}

/// The session `session` points to, if it looks like a live one.
///
/// # Safety
/// `session` is NULL or a pointer from `fusedrnn_session_new()` that has not been freed, and no
/// other thread uses it during the call.
unsafe fn session_mut<'a>(session: *mut Session) -> Result<&'a mut Session, Error> {
    // SAFETY: the caller passes NULL or a live handle used by this thread alone.
    match unsafe { session.as_mut() } {
        Some(s) if is_live(s) => Ok(s),
        s => Err(refused::<Session>(s.is_none())),
    }
}

/// The session `session` points to, if it looks like a live one, for reading.
///
/// # Safety
/// As [`session_mut`], except that other threads may read it too.
unsafe fn session_ref<'a>(session: *const Session) -> Result<&'a Session, Error> {
    // SAFETY: the caller passes NULL or a live handle that no thread writes during the call.
    match unsafe { session.as_ref() } {
        Some(s) if is_live(s) => Ok(s),
        s => Err(refused::<Session>(s.is_none())),
    }
}

/// A new session over `model`, holding the start char only (an empty review). `*out` is to be
/// released with `fusedrnn_session_free()`; the session keeps the model alive until then.
///
/// # Safety
/// `model` is a live model handle; `out` is valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_session_new(
    model: *const Model,
    out: *mut *mut Session,
) -> Status {
    guard(|| {
        if out.is_null() {
            return Err(Error::new(Status::ERR_INVALID_ARGUMENT, "out is NULL"));
        }
        // SAFETY: the caller passes a live handle.
        let loaded = Arc::clone(&unsafe { model_ref(model) }?.loaded);
        // SAFETY: the reference points into the `Arc` allocation that the session stores beside
        // the `TextSession` and drops after it (field order), so it outlives every use; the
        // `Loaded` is never mutated or moved while shared.
        let shared: &'static Loaded = unsafe { &*Arc::as_ptr(&loaded) };
        let text = TextSession::new(&shared.tokenizer, &shared.scorer)
            .map_err(|e| Error::new(Status::ERR_BAD_WORD_INDEX, e.to_string()))?;
        let session = Box::new(Session {
            tag: SESSION_TAG,
            text,
            _loaded: loaded,
        });
        // SAFETY: checked non-NULL above; the caller guarantees it is valid for writes.
        unsafe { out.write(Box::into_raw(session)) };
        Ok(())
    })
}

/// Releases a session. NULL is a no-op.
///
/// # Safety
/// `session` is NULL or a live session handle; it must not be used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_session_free(session: *mut Session) {
    // SAFETY: the caller passes NULL or a live handle from `fusedrnn_session_new`.
    let _ = guard(|| unsafe { free_handle(session) });
}

/// Back to an empty review (the start char only).
///
/// # Safety
/// `session` is a live session handle used by no other thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_session_reset(session: *mut Session) -> Status {
    guard(|| {
        // SAFETY: the caller passes a live handle, used by this thread alone.
        unsafe { session_mut(session) }?.text.reset();
        Ok(())
    })
}

/// Appends the text `utf8[0..len]` to the review. A chunk may end inside a word (`"mov"` then
/// `"ie"` is `movie`) but not inside a UTF-8 character (`FUSEDRNN_ERR_BAD_UTF8`, and nothing is
/// appended).
///
/// # Safety
/// `session` is a live session handle used by no other thread during the call; `utf8` is valid
/// for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_session_push_text(
    session: *mut Session,
    utf8: *const c_char,
    len: usize,
) -> Status {
    guard(|| {
        // SAFETY: the caller passes a live handle, used by this thread alone.
        let s = unsafe { session_mut(session) }?;
        // SAFETY: the caller guarantees `len` readable bytes at `utf8`.
        let text = unsafe { text_arg(utf8, len) }?;
        s.text.push_str(text);
        Ok(())
    })
}

/// Appends `n` token ids to the review. A word still open from pushed text ends first (as if a
/// space came). The session already starts with the start char: don't push another. An id that
/// is negative or not below `fusedrnn_model_vocab()` is `FUSEDRNN_ERR_BAD_TOKEN`, and then none of
/// the `n` ids is appended.
///
/// # Safety
/// `session` is a live session handle used by no other thread during the call; `ids` is valid for
/// reading `n` ids (may be NULL when `n` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_session_push_ids(
    session: *mut Session,
    ids: *const i32,
    n: usize,
) -> Status {
    guard(|| {
        // SAFETY: the caller passes a live handle, used by this thread alone.
        let s = unsafe { session_mut(session) }?;
        if n == 0 {
            return Ok(());
        }
        if ids.is_null() {
            return Err(Error::new(Status::ERR_INVALID_ARGUMENT, "ids is NULL"));
        }
        // SAFETY: non-NULL, and the caller guarantees `n` readable ids.
        let ids = unsafe { std::slice::from_raw_parts(ids, n) };
        let vocab = s._loaded.scorer.vocab();
        if let Some((at, &id)) = ids
            .iter()
            .enumerate()
            .find(|&(_, &id)| u16::try_from(id).map_or(true, |t| usize::from(t) >= vocab))
        {
            return Err(Error::new(
                Status::ERR_BAD_TOKEN,
                format!("id {id} at position {at} is not in 0..{vocab}"),
            ));
        }
        for &id in ids {
            // Checked above: every id fits u16 and is below the vocabulary.
            s.text
                .push_token(id as u16)
                .map_err(|e| Error::new(Status::ERR_INTERNAL, e.to_string()))?;
        }
        Ok(())
    })
}

/// The probability of the review so far, as `fusedrnn_score_text()` would give for its whole text
/// (an unfinished last word counts as a word). Costs one review's scoring (at most 100 steps).
///
/// # Safety
/// `session` is a live session handle that no other thread pushes to or resets during the call;
/// `prob` is valid for writing a float.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_session_prob(session: *const Session, prob: *mut f32) -> Status {
    guard(|| {
        // SAFETY: the caller passes a live handle that no thread writes during the call.
        let p = unsafe { session_ref(session) }?.text.prob();
        // SAFETY: the caller guarantees `prob` is NULL or valid for writes.
        unsafe { write_out(prob, p, "prob") }
    })
}
