//! Sessions on models of any shape (issue 14): the real Keras fixtures of `tests/fixtures/net/`
//! (LSTM(32) on Embedding(5000, 64) length 200, GRU(16) of both forms, one-hot SimpleRNN(64)
//! length 50) streamed through `fusedrnn_session_*` give what whole-review scoring gives (bit for
//! bit; the brief's bound is 1e-6) and Keras' own probabilities (within 1e-5), whatever the
//! chunking; every misuse is a status with a message and changes nothing.

mod common;

use std::ffi::{CStr, CString};
use std::ptr;

use common::*;
use fusedrnn_c::*;

/// Keras' probabilities within 1e-5 (issue 14; the library's measured worst case is 8.9e-7).
const KERAS_TOL: f32 = 1e-5;

/// The Keras fixtures: file, `.npy` stem, and the length the file records.
const MODELS: [(&str, &str, usize); 4] = [
    ("lstm32.keras", "lstm32", 200),
    ("gru16.h5", "gru16", 100),
    ("gru16v1.keras", "gru16v1", 100),
    ("rnn64.h5", "rnn64", 50),
];

fn last_error() -> String {
    // SAFETY: fusedrnn_last_error returns a NUL-terminated string, never NULL.
    unsafe { CStr::from_ptr(fusedrnn_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn net(file: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/net").join(file)
}

/// `<name>.tokens.npy` (int32 [N, T]) as rows, and `<name>.probs.npy` (float32 [N]).
fn fixture(name: &str) -> (Vec<Vec<i32>>, Vec<f32>) {
    let read = |file: String| {
        let path = net(&file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let header = std::str::from_utf8(&bytes[10..10 + len])
            .unwrap()
            .to_owned();
        (header, bytes[10 + len..].to_vec())
    };
    let (header, probs) = read(format!("{name}.probs.npy"));
    assert!(header.contains("'<f4'"), "{header}");
    let probs: Vec<f32> = probs
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let (header, ids) = read(format!("{name}.tokens.npy"));
    assert!(header.contains("'<i4'"), "{header}");
    let ids: Vec<i32> = ids
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let len = ids.len() / probs.len();
    (ids.chunks(len).map(<[i32]>::to_vec).collect(), probs)
}

/// An open model and one session on it, freed on drop (session first).
struct Both {
    model: *mut Model,
    session: *mut Session,
}

impl Both {
    fn open(path: &std::path::Path) -> Both {
        let (m, i) = (
            CString::new(path.to_str().unwrap()).unwrap(),
            CString::new(index_path().to_str().unwrap()).unwrap(),
        );
        let mut model = ptr::null_mut();
        let mut session = ptr::null_mut();
        // SAFETY: NUL-terminated paths, valid out-pointers, a live model.
        unsafe {
            let st = fusedrnn_model_open(m.as_ptr(), i.as_ptr(), &mut model);
            assert_eq!(st, Status::OK, "{}: {}", path.display(), last_error());
            let st = fusedrnn_session_new(model, &mut session);
            assert_eq!(st, Status::OK, "{}: {}", path.display(), last_error());
        }
        Both { model, session }
    }

    fn reset(&self) {
        // SAFETY: a live session, used by this thread alone.
        assert_eq!(unsafe { fusedrnn_session_reset(self.session) }, Status::OK);
    }

    fn push_ids(&self, ids: &[i32]) -> Status {
        // SAFETY: a live session; `ids.len()` readable ids.
        unsafe { fusedrnn_session_push_ids(self.session, ids.as_ptr(), ids.len()) }
    }

    fn push_text(&self, text: &str) -> Status {
        // SAFETY: a live session; `text.len()` readable bytes.
        unsafe { fusedrnn_session_push_text(self.session, text.as_ptr().cast(), text.len()) }
    }

    fn prob(&self) -> f32 {
        let mut p = f32::NAN;
        // SAFETY: a live session, a valid out-pointer.
        let st = unsafe { fusedrnn_session_prob(self.session, &mut p) };
        assert_eq!(st, Status::OK, "{}", last_error());
        p
    }

    fn score_ids(&self, ids: &[i32]) -> f32 {
        let mut p = f32::NAN;
        // SAFETY: a live model; `ids.len()` readable ids; a valid out-pointer.
        let st = unsafe { fusedrnn_score_ids(self.model, ids.as_ptr(), ids.len(), &mut p) };
        assert_eq!(st, Status::OK, "{}", last_error());
        p
    }

    fn score_text(&self, text: &str) -> f32 {
        let mut p = f32::NAN;
        // SAFETY: a live model; `text.len()` readable bytes; a valid out-pointer.
        let st =
            unsafe { fusedrnn_score_text(self.model, text.as_ptr().cast(), text.len(), &mut p) };
        assert_eq!(st, Status::OK, "{}", last_error());
        p
    }

    fn seq_len(&self) -> usize {
        // SAFETY: a live model.
        unsafe { fusedrnn_model_seq_len(self.model) }
    }

    fn vocab(&self) -> usize {
        // SAFETY: a live model.
        unsafe { fusedrnn_model_vocab(self.model) }
    }
}

impl Drop for Both {
    fn drop(&mut self) {
        // SAFETY: live handles, each freed once.
        unsafe {
            fusedrnn_session_free(self.session);
            fusedrnn_model_free(self.model);
        }
    }
}

/// A fixture row pushed after the start char (all of its `seq_len` ids, pads included) leaves
/// exactly that row in the window: the session's probability is Keras' for the row. Pushed one
/// id at a time (stepping), every intermediate probability is whole-review scoring's of the ids
/// so far.
#[test]
fn stepping_a_review_equals_scoring_it_and_keras() {
    for (file, name, seq_len) in MODELS {
        let b = Both::open(&net(file));
        assert_eq!(b.seq_len(), seq_len, "{file}");
        let (rows, keras) = fixture(name);
        let mut worst = 0f32;
        for (r, (row, &want)) in rows.iter().zip(&keras).enumerate().take(6) {
            assert_eq!(row.len(), seq_len);
            // Whole row at once.
            b.reset();
            assert_eq!(b.push_ids(row), Status::OK, "{file}: {}", last_error());
            let p = b.prob();
            assert!(
                (p - want).abs() < KERAS_TOL,
                "{file} row {r}: {p} vs {want}"
            );
            worst = worst.max((p - want).abs());
            assert_eq!(p, b.score_ids(row), "{file} row {r}");
            // One id at a time, reading after each: each read is the review so far, scored whole.
            b.reset();
            let mut so_far = vec![1i32];
            for (k, &id) in row.iter().enumerate() {
                assert_eq!(b.push_ids(&[id]), Status::OK);
                so_far.push(id);
                if k % 37 == 0 || k + 1 == row.len() {
                    let (p, q) = (b.prob(), b.score_ids(&so_far));
                    assert!(
                        (p - q).abs() <= 1e-6,
                        "{file} row {r} after {k}: {p} vs {q}"
                    );
                }
            }
            assert_eq!(b.prob(), p, "{file} row {r}: stepped vs whole");
        }
        eprintln!("{file}: worst |session - Keras| over 6 rows {worst:.2e}");
    }
}

/// Text in chunks of any size (words split anywhere) gives `fusedrnn_score_text` of the whole
/// text, for reviews shorter and longer than the model's length.
#[test]
fn text_in_chunks_equals_the_whole_text() {
    let long = "The story was good and the actors were great, but it is a bad film. ".repeat(30);
    let mut texts = reviews();
    texts.push(long);
    for (file, _, _) in MODELS {
        let b = Both::open(&net(file));
        for text in &texts {
            let want = b.score_text(text);
            for chunk in [1, 3, 7, 64, 100_000] {
                b.reset();
                let mut rest = text.as_str();
                while !rest.is_empty() {
                    let mut cut = chunk.min(rest.len());
                    while !rest.is_char_boundary(cut) {
                        cut += 1;
                    }
                    let (piece, tail) = rest.split_at(cut);
                    assert_eq!(b.push_text(piece), Status::OK);
                    rest = tail;
                }
                assert_eq!(b.prob(), want, "{file}: {text:.30?} in chunks of {chunk}");
            }
        }
        // Ids after text: the open word ends first ("the mov" = start, the (4), mov (oov 2)).
        b.reset();
        assert_eq!(b.push_text("the mov"), Status::OK);
        assert_eq!(b.push_ids(&[17]), Status::OK);
        assert_eq!(b.prob(), b.score_ids(&[1, 4, 2, 17]), "{file}");
    }
}

/// Bad ids, lengths, pointers and handles: a status, a message naming the problem, and the
/// session unchanged.
#[test]
fn misuse_of_a_general_session_changes_nothing() {
    let b = Both::open(&net("lstm32.keras"));
    let vocab = b.vocab();
    assert_eq!(vocab, 5000);
    assert_eq!(b.push_text("a fine film"), Status::OK);
    let before = b.prob();
    let v = i32::try_from(vocab).unwrap();
    for (ids, at) in [
        (vec![5, v], 1),
        (vec![-1], 0),
        (vec![3, 4, i32::MAX], 2),
        (vec![i32::MIN, 4], 0),
    ] {
        assert_eq!(b.push_ids(&ids), Status::ERR_BAD_TOKEN, "{ids:?}");
        let e = last_error();
        assert!(
            e.contains(&format!("position {at}")) && e.contains(&format!("0..{vocab}")),
            "{e}"
        );
        assert_eq!(b.prob(), before, "{ids:?} appended something");
    }
    let ids = [1i32, 4];
    let mut p = 0.25f32;
    // SAFETY: the lengths and pointers are deliberately wrong; the API refuses them unread.
    unsafe {
        for n in [usize::MAX, FUSEDRNN_MAX_IDS + 1] {
            let st = fusedrnn_session_push_ids(b.session, ids.as_ptr(), n);
            assert_eq!(st, Status::ERR_INVALID_ARGUMENT, "n = {n}");
        }
        let st = fusedrnn_session_push_ids(b.session, ptr::null(), 3);
        assert_eq!(st, Status::ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("ids is NULL"), "{}", last_error());
        assert_eq!(
            fusedrnn_session_push_ids(b.session, ptr::null(), 0),
            Status::OK,
            "nothing to push"
        );
        let st = fusedrnn_session_push_text(b.session, ptr::null(), usize::MAX);
        assert_eq!(st, Status::ERR_INVALID_ARGUMENT);
        let e = "\u{e9}".as_bytes();
        let st = fusedrnn_session_push_text(b.session, e.as_ptr().cast(), 1);
        assert_eq!(st, Status::ERR_BAD_UTF8);
        // NULL and wrong-kind handles.
        assert_eq!(
            fusedrnn_session_prob(b.session, ptr::null_mut()),
            Status::ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            fusedrnn_session_prob(ptr::null(), &mut p),
            Status::ERR_INVALID_ARGUMENT
        );
        let model_as_session = b.model.cast::<Session>();
        assert_eq!(
            fusedrnn_session_prob(model_as_session, &mut p),
            Status::ERR_INVALID_ARGUMENT
        );
        assert!(
            last_error().contains("not a fusedrnn_session"),
            "{}",
            last_error()
        );
        assert_eq!(
            fusedrnn_session_push_ids(model_as_session, ids.as_ptr(), 2),
            Status::ERR_INVALID_ARGUMENT
        );
        assert_eq!(p, 0.25, "prob untouched on errors");
    }
    assert_eq!(b.prob(), before, "misuse appended something");
}

/// A general session keeps its model alive after the model's handle is freed, and several
/// sessions on one model are independent.
#[test]
fn general_sessions_outlive_their_model_handle_and_are_independent() {
    let b = Both::open(&net("gru16.h5"));
    let mut other = ptr::null_mut();
    // SAFETY: a live model, a valid out-pointer.
    let status = unsafe { fusedrnn_session_new(b.model, &mut other) };
    assert_eq!(status, Status::OK);
    assert_eq!(b.push_text("a wonderful, moving film"), Status::OK);
    let want = b.score_text("a wonderful, moving film");
    let empty = b.score_text("");
    // SAFETY: the handles are live; `other` is freed once, after its model's handle.
    unsafe {
        fusedrnn_model_free(b.model);
        let b = std::mem::ManuallyDrop::new(b);
        assert_eq!(b.prob(), want);
        let mut p = f32::NAN;
        assert_eq!(fusedrnn_session_prob(other, &mut p), Status::OK);
        assert_eq!(p, empty, "the other session holds the empty review");
        fusedrnn_session_free(b.session);
        fusedrnn_session_free(other);
    }
}
