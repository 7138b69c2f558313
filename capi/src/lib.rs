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
//!   `FUSEDRNN_ERR_INVALID_ARGUMENT`, and checks the tag in the first 8 bytes of the handle, which
//!   every kind of handle has at that place: a handle of the wrong kind is refused without reading
//!   past its allocation, and one already freed is usually refused rather than used. That last
//!   check is a courtesy, not a guarantee: using a freed handle is undefined behaviour, as in any
//!   C library.
//! - **Lengths.** A text of more than `FUSEDRNN_MAX_TEXT_BYTES` (256 MiB) or more than
//!   `FUSEDRNN_MAX_IDS` (2^28) ids, or a pointer and length that would wrap around memory, is
//!   refused (`FUSEDRNN_ERR_INVALID_ARGUMENT`) before anything is read. Every id a call is given
//!   is checked, not only the 100 the model sees.
//! - **Threads.** A model is immutable once open: any number of threads may score with one model
//!   at the same time. A session is used by one thread at a time (it may move between threads). A
//!   session keeps its model alive: `fusedrnn_model_free` may come before the sessions' frees.
//! - **Allocation.** For the notebook's shapes, scoring (`fusedrnn_score_text`,
//!   `fusedrnn_score_ids`) and the session's pushes and reads allocate nothing; only open, new
//!   and the error path do. For other shapes the session's buffers are allocated once, at
//!   `fusedrnn_session_new`, and its pushes and resets allocate nothing; a read (and
//!   whole-review scoring) allocates the state it scores (two small vectors) and, for
//!   whole-review scoring, the padded row.
//!
//! Safety is the caller's side of the contract each function's `# Safety` states: pointers valid
//! for the lengths given, handles from this library and not yet freed.

// `status` first, so that cbindgen declares the API in the header in reading order.
mod status;

mod handle;
mod model;
mod session;

pub use handle::{FUSEDRNN_MAX_IDS, FUSEDRNN_MAX_TEXT_BYTES};
pub use model::{
    Model, fusedrnn_model_arch, fusedrnn_model_free, fusedrnn_model_kernel, fusedrnn_model_open,
    fusedrnn_model_seq_len, fusedrnn_model_vocab, fusedrnn_score_ids, fusedrnn_score_text,
};
pub use session::{
    Session, fusedrnn_session_free, fusedrnn_session_new, fusedrnn_session_prob,
    fusedrnn_session_push_ids, fusedrnn_session_push_text, fusedrnn_session_reset,
};
pub use status::{Status, fusedrnn_last_error, fusedrnn_version};
