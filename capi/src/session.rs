//! Sessions: a review arriving in pieces (text chunks, token ids), its probability readable after
//! any of them, for a model of any shape ([`AnyTextSession`]: the notebook's fixed-shape session
//! for its shapes, [`fusedrnn::text::NetTextSession`] over `net::NetSession` for every other).

use std::ffi::c_char;
use std::sync::Arc;

use fusedrnn::text::AnyTextSession;

use crate::handle::{
    FUSEDRNN_MAX_IDS, free_handle, into_handle, slice_arg, state_mut, state_ref, text_arg,
    write_out,
};
use crate::model::{Loaded, Model, check_ids, model_ref};
use crate::status::{Error, Status, guard};

/// A review arriving in pieces (`fusedrnn_session`): text chunks and ids appended in order, its
/// probability readable after any of them. Opaque: C only holds pointers to it (each one a
/// tagged session state, see `handle.rs`).
pub struct Session {
    _opaque: [u8; 0],
}

/// What a session handle owns.
pub(crate) struct SessionState {
    // Declared before `_loaded`, so dropped first: it borrows from what `_loaded` owns.
    pub(crate) text: AnyTextSession<'static>,
    /// Keeps the tokenizer and scorer `text` borrows alive (and where they are: an `Arc`'s
    /// contents never move).
    pub(crate) _loaded: Arc<Loaded>,
}

/// The session `session` points to, if it is a live session handle.
///
/// # Safety
/// `session` is NULL or a handle from this library that has not been freed, and no other thread
/// uses it during the call.
unsafe fn session_mut<'a>(session: *mut Session) -> Result<&'a mut SessionState, Error> {
    // SAFETY: the caller's contract.
    unsafe { state_mut(session) }
}

/// The session `session` points to, if it is a live session handle, for reading.
///
/// # Safety
/// As [`session_mut`], except that other threads may read it too.
unsafe fn session_ref<'a>(session: *const Session) -> Result<&'a SessionState, Error> {
    // SAFETY: the caller's contract.
    unsafe { state_ref(session) }
}

/// A new session over `model` (of any shape `fusedrnn_model_open()` takes), holding the start
/// char only (an empty review). `*out` is to be released with `fusedrnn_session_free()`; the
/// session keeps the model alive until then. It holds the last `fusedrnn_model_seq_len()` ids
/// (two copies: 32 KiB at most).
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
        let text = AnyTextSession::new(&shared.tokenizer, &shared.scorer)
            .map_err(|e| Error::new(Status::ERR_BAD_WORD_INDEX, e.to_string()))?;
        let session = into_handle::<Session>(SessionState {
            text,
            _loaded: loaded,
        });
        // SAFETY: checked non-NULL above; the caller guarantees it is valid for writes.
        unsafe { out.write(session) };
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
/// the `n` ids is appended. The ids of one call step together, in one call into the kernel (for
/// the notebook's shapes with the recurrent state in registers between them), so a call of many
/// ids costs less per id than a call each (the same result).
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
        // SAFETY: the caller guarantees `n` readable ids at `ids`; the length is checked first.
        let ids = unsafe { slice_arg(ids, n, FUSEDRNN_MAX_IDS, ("ids", "n")) }?;
        check_ids(ids, s._loaded.scorer.vocab())?;
        // Checked above: every id is in 0..vocab. Pushed in slices of a stack buffer, so the
        // call allocates nothing.
        let mut wide = [0u32; 256];
        for part in ids.chunks(wide.len()) {
            for (w, &id) in wide.iter_mut().zip(part) {
                *w = id as u32;
            }
            s.text
                .push_tokens(&wide[..part.len()])
                .map_err(|e| Error::new(Status::ERR_INTERNAL, e.to_string()))?;
        }
        Ok(())
    })
}

/// The probability of the review so far, as `fusedrnn_score_text()` would give for its whole text
/// (an unfinished last word counts as a word). Costs one review's scoring (at most
/// `fusedrnn_model_seq_len()` steps, from the padding cache).
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
