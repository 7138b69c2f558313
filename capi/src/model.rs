//! Models: open one (weights and word index), ask what it is, score a whole review with it.

use std::ffi::{CStr, c_char};
use std::sync::Arc;

use fusedrnn::kernels::Kernel;
use fusedrnn::net::{AnyScorer, open_any};
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::text::{Tokenizer, TokenizerConfig};

use crate::handle::{
    FUSEDRNN_MAX_IDS, free_handle, into_handle, path_arg, slice_arg, state_ref, text_arg, write_out,
};
use crate::status::{Error, Status, guard};

/// What a model handle owns, shared with its sessions.
pub(crate) struct Loaded {
    /// The notebook's fixed-shape scorer for its shapes, the general one for any other.
    pub(crate) scorer: AnyScorer,
    pub(crate) tokenizer: Tokenizer,
}

/// An open model (`fusedrnn_model`): weights folded for this CPU's kernel, and the tokenizer of
/// its word index. Opaque: C only holds pointers to it (each one a tagged model state, see
/// `handle.rs`).
pub struct Model {
    _opaque: [u8; 0],
}

/// What a model handle owns.
pub(crate) struct ModelState {
    pub(crate) loaded: Arc<Loaded>,
}

/// The model `model` points to, if it is a live model handle.
///
/// # Safety
/// `model` is NULL or a handle from this library that has not been freed.
pub(crate) unsafe fn model_ref<'a>(model: *const Model) -> Result<&'a ModelState, Error> {
    // SAFETY: the caller's contract; a model is never written after it is opened.
    unsafe { state_ref(model) }
}

/// Opens a model: weights from `model_path` (`.safetensors` with Keras or PyTorch tensor names,
/// fusedrnn's general format, or a Keras `.h5` / `.keras` model file, converted in memory) of
/// any shape fusedrnn runs — Embedding or one-hot input, one SimpleRNN, LSTM or GRU layer of
/// 1..256 units, Dense(1, sigmoid), the input length the file records (a file that records
/// none, such as a PyTorch state dict, is `FUSEDRNN_ERR_BAD_MODEL`: save it with its length
/// first, e.g. `fusedrnn import`) — and the word index from `word_index_path`
/// (`imdb_word_index.json`, word → rank). Words become ids as
/// `keras.datasets.imdb.load_data(num_words = the model's vocabulary)` makes them: rank + 3, start
/// char 1, out-of-vocabulary 2.
///
/// On success `*out` is the new model, to be released with `fusedrnn_model_free()`. The kernel is
/// the fastest this CPU runs, unless the environment variable `FUSEDRNN_KERNEL`
/// (`reference` | `portable` | `avx2-fma` | `avx512`) asks for another.
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
        let model = open_any(model_path, None).map_err(|e| {
            let status = if e.is_io() {
                Status::ERR_IO
            } else {
                Status::ERR_BAD_MODEL
            };
            Error::new(status, e.to_string())
        })?;
        let kernel = Kernel::select().map_err(|e| Error::new(Status::ERR_KERNEL, e.to_string()))?;
        let scorer = AnyScorer::new(&model, kernel).map_err(|e| {
            Error::new(
                Status::ERR_BAD_MODEL,
                format!("{}: {e}", fusedrnn::display::path(model_path)),
            )
        })?;
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
        if tokenizer.max_id() as usize >= scorer.vocab() {
            return Err(Error::new(
                Status::ERR_BAD_WORD_INDEX,
                format!(
                    "word index {}: its tokenizer emits ids up to {} (start {}, oov {}), but the \
                     vocabulary of model {} is {}: not a model for this index",
                    fusedrnn::display::path(index_path),
                    tokenizer.max_id(),
                    config.start_char,
                    config.oov_char,
                    fusedrnn::display::path(model_path),
                    scorer.vocab()
                ),
            ));
        }
        let model = into_handle::<Model>(ModelState {
            loaded: Arc::new(Loaded { scorer, tokenizer }),
        });
        // SAFETY: checked non-NULL above; the caller guarantees it is valid for writes.
        unsafe { out.write(model) };
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

/// The model's architecture (a static string): the notebook's `"lstm"`, `"rnn"` or
/// `"rnn-onehot"`, or for any other shape its cell, `"lstm"`, `"rnn"`, `"gru"` (reset_after=True)
/// or `"gru-v1"` (reset_after=False); `""` if `model` is not a model.
///
/// # Safety
/// `model` is NULL or a live model handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_model_arch(model: *const Model) -> *const c_char {
    let mut name: &'static CStr = c"";
    let _ = guard(|| {
        // SAFETY: the caller passes NULL or a live handle.
        name = match unsafe { model_ref(model) }?.loaded.scorer.arch_name() {
            "lstm" => c"lstm",
            "rnn" => c"rnn",
            "rnn-onehot" => c"rnn-onehot",
            "gru" => c"gru",
            "gru-v1" => c"gru-v1",
            other => unreachable!("an architecture name without its C string: {other}"),
        };
        Ok(())
    });
    name.as_ptr()
}

/// Tokens per sequence the model runs (`pad_sequences(maxlen=...)`; 100 for the notebook's
/// models), or 0 if `model` is not a model.
///
/// # Safety
/// `model` is NULL or a live model handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fusedrnn_model_seq_len(model: *const Model) -> usize {
    let mut len = 0;
    let _ = guard(|| {
        // SAFETY: the caller passes NULL or a live handle.
        len = unsafe { model_ref(model) }?.loaded.scorer.seq_len();
        Ok(())
    });
    len
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
            Kernel::Portable if cfg!(target_arch = "aarch64") => c"portable-neon",
            Kernel::Portable => c"portable-wide",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(_) => c"x86_64-avx2-fma",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512(_) => c"x86_64-avx512",
        };
        Ok(())
    });
    name.as_ptr()
}

/// Probability (the model's sigmoid output) that the review `utf8[0..len]` is positive, as the
/// notebook computes it: words → ids, `pad_sequences(maxlen=fusedrnn_model_seq_len())` (pads and
/// truncates at the front), the model. The text need not be NUL-terminated (`len` bytes are read;
/// `utf8` may be NULL when `len` is 0). Invalid UTF-8 is `FUSEDRNN_ERR_BAD_UTF8`; `len` above
/// `FUSEDRNN_MAX_TEXT_BYTES` is `FUSEDRNN_ERR_INVALID_ARGUMENT`.
///
/// Allocates nothing for the notebook's shapes (the ids and the padded row of other shapes are
/// allocated per call); any number of threads may score with one model at once.
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
        let p = match &loaded.scorer {
            AnyScorer::Notebook(s) => s.score_text(&loaded.tokenizer, text),
            AnyScorer::Net(_) => {
                let mut ids = Vec::new();
                loaded.tokenizer.tokenize_wide_into(text, &mut ids);
                return score_unpadded(&loaded.scorer, &ids, prob);
            }
        }
        .map_err(|e| Error::new(Status::ERR_INTERNAL, e.to_string()))?;
        // SAFETY: the caller guarantees `prob` is NULL or valid for writes.
        unsafe { write_out(prob, p, "prob") }
    })
}

/// Probability for a review given as token ids (`n` of them at `ids`), as the model sees them
/// after `pad_sequences(maxlen=L)`, `L` = `fusedrnn_model_seq_len()` (100 for the notebook's
/// models): more than `L` keeps the last `L`, fewer are preceded by pad (0) ids. Include the start char (1) first, as `load_data` does. An id that is negative or not
/// below `fusedrnn_model_vocab()` is `FUSEDRNN_ERR_BAD_TOKEN` (not mapped to the oov id: that
/// would hide a mismatched vocabulary); every one of the `n` ids is checked, also those the
/// truncation drops. `n` above `FUSEDRNN_MAX_IDS` is `FUSEDRNN_ERR_INVALID_ARGUMENT`.
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
        // SAFETY: the caller guarantees `n` readable ids at `ids`; the length is checked first.
        let ids = unsafe { slice_arg(ids, n, FUSEDRNN_MAX_IDS, ("ids", "n")) }?;
        // Every id, not only the 100 that pad_sequences keeps: a bad one anywhere is a caller's
        // mismatched vocabulary.
        check_ids(ids, scorer.vocab())?;
        let scorer = match scorer {
            AnyScorer::Notebook(s) => s,
            AnyScorer::Net(_) => {
                // Checked above: every id is in 0..vocab.
                let wide: Vec<u32> = ids.iter().map(|&id| id as u32).collect();
                return score_unpadded(scorer, &wide, prob);
            }
        };
        let kept = &ids[n.saturating_sub(SEQ_LEN)..];
        let mut row = [0u16; SEQ_LEN];
        let first = SEQ_LEN - kept.len();
        for (slot, &id) in row[first..].iter_mut().zip(kept) {
            // Checked above: every id is in 0..vocab, and vocab <= 65536.
            *slot = id as u16;
        }
        let p = scorer
            .score_one(&row)
            .map_err(|e| Error::new(Status::ERR_INTERNAL, e.to_string()))?;
        // SAFETY: the caller guarantees `prob` is NULL or valid for writes.
        unsafe { write_out(prob, p, "prob") }
    })
}

/// A model outside the notebook's shapes: `pad_sequences` to its length and its latency path.
fn score_unpadded(scorer: &AnyScorer, ids: &[u32], prob: *mut f32) -> Result<(), Error> {
    let p = scorer
        .score_unpadded(ids)
        .map_err(|e| Error::new(Status::ERR_INTERNAL, e.to_string()))?;
    // SAFETY: the caller of the entry point guarantees `prob` is NULL or valid for writes.
    unsafe { write_out(prob, p, "prob") }
}

/// Refuses the first id that is negative or not below `vocab` (`FUSEDRNN_ERR_BAD_TOKEN`, with its
/// position). For the notebook's models `vocab` is at most 65,536, so every id that passes fits
/// `u16`.
pub(crate) fn check_ids(ids: &[i32], vocab: usize) -> Result<(), Error> {
    match ids
        .iter()
        .position(|&id| usize::try_from(id).map_or(true, |t| t >= vocab))
    {
        None => Ok(()),
        Some(at) => Err(Error::new(
            Status::ERR_BAD_TOKEN,
            format!("id {} at position {at} is not in 0..{vocab}", ids[at]),
        )),
    }
}
