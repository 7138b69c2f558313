//! Models: open one (weights and word index), ask what it is, score a whole review with it.

use std::ffi::{CStr, c_char};
use std::sync::Arc;

use fusedrnn::infer::Scorer;
use fusedrnn::kernels::Kernel;
use fusedrnn::model::Arch;
use fusedrnn::shape::SEQ_LEN;
use fusedrnn::text::{Tokenizer, TokenizerConfig};

use crate::handle::{MODEL_TAG, free_handle, is_live, path_arg, refused, text_arg, write_out};
use crate::status::{Error, Status, guard};

/// What a model handle owns, shared with its sessions.
pub(crate) struct Loaded {
    pub(crate) scorer: Scorer,
    pub(crate) tokenizer: Tokenizer,
}

/// An open model: weights folded for this CPU's kernel, and the tokenizer of its word index.
/// Opaque to C (`fusedrnn_model`).
pub struct Model {
    pub(crate) tag: u64,
    pub(crate) loaded: Arc<Loaded>,
}

/// The model `model` points to, if it looks like a live one.
///
/// # Safety
/// `model` is NULL or a pointer from `fusedrnn_model_open()` that has not been freed.
pub(crate) unsafe fn model_ref<'a>(model: *const Model) -> Result<&'a Model, Error> {
    // SAFETY: the caller passes NULL or a live handle; `as_ref` maps NULL to None.
    match unsafe { model.as_ref() } {
        Some(m) if is_live(m) => Ok(m),
        m => Err(refused::<Model>(m.is_none())),
    }
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
