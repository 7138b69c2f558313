//! The C API called directly (through the rlib, as C would call the cdylib): scores equal the
//! Rust library's, sessions equal whole-text scoring, ids are padded and truncated like
//! `pad_sequences`, every misuse is a status with a message, and one model serves many threads.

mod common;

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use common::*;
use fusedrnn_c::*;

fn cstr(p: &std::path::Path) -> CString {
    CString::new(p.to_str().unwrap()).unwrap()
}

fn last_error() -> String {
    // SAFETY: fusedrnn_last_error returns a NUL-terminated string, never NULL.
    unsafe { CStr::from_ptr(fusedrnn_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// An open model, freed on drop.
struct Open(*mut Model);

impl Open {
    fn new() -> Open {
        Open::path(&model_path())
    }

    /// Opens the weights at `path` with the test word index.
    fn path(path: &std::path::Path) -> Open {
        let mut m = ptr::null_mut();
        let (model, index) = (cstr(path), cstr(&index_path()));
        // SAFETY: NUL-terminated paths, a valid out-pointer.
        let status = unsafe { fusedrnn_model_open(model.as_ptr(), index.as_ptr(), &mut m) };
        assert_eq!(status, Status::OK, "{}: {}", path.display(), last_error());
        Open(m)
    }

    fn text(&self, text: &str) -> Result<f32, (Status, String)> {
        let mut p = f32::NAN;
        // SAFETY: a live model, `text.len()` readable bytes, a valid out-pointer.
        let s = unsafe { fusedrnn_score_text(self.0, text.as_ptr().cast(), text.len(), &mut p) };
        if s == Status::OK {
            Ok(p)
        } else {
            Err((s, last_error()))
        }
    }

    fn ids(&self, ids: &[i32]) -> Result<f32, (Status, String)> {
        let mut p = f32::NAN;
        // SAFETY: a live model, `ids.len()` readable ids, a valid out-pointer.
        let s = unsafe { fusedrnn_score_ids(self.0, ids.as_ptr(), ids.len(), &mut p) };
        if s == Status::OK {
            Ok(p)
        } else {
            Err((s, last_error()))
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        // SAFETY: a live model, freed once.
        unsafe { fusedrnn_model_free(self.0) };
    }
}

// SAFETY: (for the tests' threads) a model is immutable once open; the C API allows sharing it.
unsafe impl Sync for Open {}

#[test]
fn score_text_equals_the_library() {
    let m = Open::new();
    let texts = reviews();
    let want = library_probs(&texts);
    for (text, want) in texts.iter().zip(want) {
        assert_eq!(m.text(text), Ok(want), "{text:?}");
    }
    // SAFETY: a live model.
    unsafe {
        assert_eq!(fusedrnn_model_vocab(m.0), 500);
        assert_eq!(CStr::from_ptr(fusedrnn_model_arch(m.0)), c"lstm");
        assert_eq!(
            CStr::from_ptr(fusedrnn_model_kernel(m.0)).to_str(),
            Ok(fusedrnn::kernels::Kernel::select().unwrap().name())
        );
    }
    // SAFETY: a static string.
    let version = unsafe { CStr::from_ptr(fusedrnn_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn score_ids_pads_and_truncates_at_the_front() {
    let m = Open::new();
    let review: Vec<i32> = (0..130).map(|i| 1 + (i * 37) % 499).collect();
    // Longer than 100: only the last 100 count.
    assert_eq!(m.ids(&review), m.ids(&review[30..]));
    // Shorter: leading pads, written or not, are the same.
    let short = &review[..40];
    let mut padded = vec![0; 60];
    padded.extend_from_slice(short);
    assert_eq!(m.ids(short), m.ids(&padded));
    // The text route and the id route agree.
    assert_eq!(m.text(""), m.ids(&[1]));
    assert!(m.ids(&[]).unwrap() > 0.0);
    // Out of range ids are refused, not mapped to oov.
    let (s, msg) = m.ids(&[1, 500]).unwrap_err();
    assert_eq!(s, Status::ERR_BAD_TOKEN);
    assert!(msg.contains("500") && msg.contains("position 1"), "{msg}");
    assert_eq!(m.ids(&[-1]).unwrap_err().0, Status::ERR_BAD_TOKEN);
    // Every id given is checked, also one that truncation drops: it shows a wrong vocabulary.
    let mut long = vec![9999];
    long.extend(std::iter::repeat_n(5, 100));
    let (s, msg) = m.ids(&long).unwrap_err();
    assert_eq!(s, Status::ERR_BAD_TOKEN);
    assert!(msg.contains("position 0"), "{msg}");
}

/// A session, fed a review in chunks of any size (words split anywhere), gives what
/// `fusedrnn_score_text` gives for the whole text.
#[test]
fn session_equals_whole_text() {
    let m = Open::new();
    let mut s = ptr::null_mut();
    // SAFETY: a live model, a valid out-pointer.
    assert_eq!(unsafe { fusedrnn_session_new(m.0, &mut s) }, Status::OK);
    for text in reviews() {
        let want = m.text(&text).unwrap();
        for chunk in [1, 2, 5, 13, 1000] {
            // SAFETY: a live session, used by this thread alone; chunks of valid UTF-8.
            unsafe {
                assert_eq!(fusedrnn_session_reset(s), Status::OK);
                let mut rest = text.as_str();
                while !rest.is_empty() {
                    let mut cut = chunk.min(rest.len());
                    while !rest.is_char_boundary(cut) {
                        cut += 1;
                    }
                    let (piece, tail) = rest.split_at(cut);
                    let st = fusedrnn_session_push_text(s, piece.as_ptr().cast(), piece.len());
                    assert_eq!(st, Status::OK);
                    rest = tail;
                }
                let mut p = f32::NAN;
                assert_eq!(fusedrnn_session_prob(s, &mut p), Status::OK);
                assert_eq!(p, want, "{text:?} in chunks of {chunk}");
            }
        }
    }
    // Ids after text: the open word ends first. "the mov" + [17] = ids 1, the, mov(oov), 17.
    // SAFETY: as above.
    unsafe {
        fusedrnn_session_reset(s);
        fusedrnn_session_push_text(s, c"the mov".as_ptr(), 7);
        assert_eq!(fusedrnn_session_push_ids(s, [17].as_ptr(), 1), Status::OK);
        let mut p = f32::NAN;
        fusedrnn_session_prob(s, &mut p);
        assert_eq!(p, m.ids(&[1, 4, 2, 17]).unwrap());
        // A bad id appends nothing.
        assert_eq!(
            fusedrnn_session_push_ids(s, [5, 500].as_ptr(), 2),
            Status::ERR_BAD_TOKEN
        );
        let mut q = f32::NAN;
        fusedrnn_session_prob(s, &mut q);
        assert_eq!(p, q);
        // A chunk that splits a UTF-8 character is refused.
        let e = "\u{e9}".as_bytes();
        assert_eq!(
            fusedrnn_session_push_text(s, e.as_ptr().cast(), 1),
            Status::ERR_BAD_UTF8
        );
    }
    // The session keeps the model alive after the model's handle is freed.
    drop(m);
    // SAFETY: the session is live; its model is held by it.
    unsafe {
        let mut p = f32::NAN;
        assert_eq!(fusedrnn_session_prob(s, &mut p), Status::OK);
        assert!(p > 0.0 && p < 1.0);
        fusedrnn_session_free(s);
    }
}

#[test]
fn misuse_is_a_status_and_a_message() {
    let m = Open::new();
    let (model, index) = (cstr(&model_path()), cstr(&index_path()));
    let mut out = ptr::null_mut();
    let mut p = 0.5f32;
    // SAFETY: every pointer is NULL, valid, or (for the lengths) within its buffer.
    unsafe {
        assert_eq!(
            fusedrnn_model_open(ptr::null(), index.as_ptr(), &mut out),
            Status::ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("model_path"));
        assert_eq!(
            fusedrnn_model_open(model.as_ptr(), index.as_ptr(), ptr::null_mut()),
            Status::ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            fusedrnn_model_open(
                c"/nonexistent/m.safetensors".as_ptr(),
                index.as_ptr(),
                &mut out
            ),
            Status::ERR_IO
        );
        assert!(last_error().contains("/nonexistent/m.safetensors"));
        assert!(out.is_null(), "out untouched on error");
        assert_eq!(
            fusedrnn_model_open(model.as_ptr(), c"/nonexistent/i.json".as_ptr(), &mut out),
            Status::ERR_IO
        );
        let non_utf8 = [0xffu8, 0];
        assert_eq!(
            fusedrnn_model_open(non_utf8.as_ptr().cast::<c_char>(), index.as_ptr(), &mut out),
            Status::ERR_INVALID_ARGUMENT
        );

        assert_eq!(
            fusedrnn_score_text(ptr::null(), c"x".as_ptr(), 1, &mut p),
            Status::ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("model is NULL"));
        assert_eq!(
            fusedrnn_score_text(m.0, ptr::null(), 3, &mut p),
            Status::ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            fusedrnn_score_text(m.0, c"x".as_ptr(), 1, ptr::null_mut()),
            Status::ERR_INVALID_ARGUMENT
        );
        assert_eq!(fusedrnn_score_text(m.0, ptr::null(), 0, &mut p), Status::OK);
        let bad = b"ok \xc3";
        assert_eq!(
            fusedrnn_score_text(m.0, bad.as_ptr().cast(), bad.len(), &mut p),
            Status::ERR_BAD_UTF8
        );
        assert!(last_error().contains("offset 3"));
        assert_eq!(
            fusedrnn_score_ids(m.0, ptr::null(), 2, &mut p),
            Status::ERR_INVALID_ARGUMENT
        );
        // A handle of the other kind is refused by its tag.
        let mut s = ptr::null_mut();
        assert_eq!(fusedrnn_session_new(m.0, &mut s), Status::OK);
        assert_eq!(
            fusedrnn_score_text(s.cast::<Model>(), c"x".as_ptr(), 1, &mut p),
            Status::ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("not a fusedrnn_model"));
        assert_eq!(
            fusedrnn_session_reset(ptr::null_mut()),
            Status::ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            fusedrnn_session_prob(s, ptr::null_mut()),
            Status::ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            fusedrnn_session_new(m.0, ptr::null_mut()),
            Status::ERR_INVALID_ARGUMENT
        );
        fusedrnn_session_free(s);
        // NULL frees are no-ops; NULL queries are empty.
        fusedrnn_model_free(ptr::null_mut());
        fusedrnn_session_free(ptr::null_mut());
        assert_eq!(fusedrnn_model_vocab(ptr::null()), 0);
        assert_eq!(CStr::from_ptr(fusedrnn_model_arch(ptr::null())), c"");
    }
    // Messages are per thread: another thread has seen no error.
    let other = std::thread::spawn(last_error).join().unwrap();
    assert_eq!(other, "");
}

/// One model, four threads scoring at once: every answer is the one-thread answer.
#[test]
fn one_model_many_threads() {
    let m = Open::new();
    let texts = reviews();
    let want: Vec<f32> = texts.iter().map(|t| m.text(t).unwrap()).collect();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..200 {
                    for (t, w) in texts.iter().zip(&want) {
                        assert_eq!(m.text(t), Ok(*w));
                    }
                }
            });
        }
    });
}

/// Lengths that cannot be real are refused before anything is read (the pointers here point to a
/// few bytes only: reading `len` of them would fault or read other memory), and every id a call
/// is given is checked, not only the last 100.
#[test]
fn impossible_lengths_and_ids_outside_the_kept_window_are_refused() {
    let m = Open::new();
    let text = b"good";
    let ids = [1i32, 14, 22];
    let mut p = 0.5f32;
    let mut s = ptr::null_mut();
    // SAFETY: the lengths are deliberately wrong; the API promises to refuse them unread.
    unsafe {
        assert_eq!(fusedrnn_session_new(m.0, &mut s), Status::OK);
        for n in [usize::MAX, usize::MAX / 4, FUSEDRNN_MAX_IDS + 1] {
            assert_eq!(
                fusedrnn_score_ids(m.0, ids.as_ptr(), n, &mut p),
                Status::ERR_INVALID_ARGUMENT,
                "n = {n}"
            );
            assert!(last_error().contains("n = "), "{}", last_error());
            assert_eq!(
                fusedrnn_session_push_ids(s, ids.as_ptr(), n),
                Status::ERR_INVALID_ARGUMENT
            );
        }
        for len in [usize::MAX, usize::MAX / 2, FUSEDRNN_MAX_TEXT_BYTES + 1] {
            assert_eq!(
                fusedrnn_score_text(m.0, text.as_ptr().cast(), len, &mut p),
                Status::ERR_INVALID_ARGUMENT,
                "len = {len}"
            );
            assert!(last_error().contains("len = "), "{}", last_error());
            assert_eq!(
                fusedrnn_session_push_text(s, text.as_ptr().cast(), len),
                Status::ERR_INVALID_ARGUMENT
            );
        }
        // A pointer near the top of the address space with a length under the maximum: the
        // range would wrap.
        let high = (usize::MAX - 8) as *const c_char;
        assert_eq!(
            fusedrnn_score_text(m.0, high, 64, &mut p),
            Status::ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("wraps"), "{}", last_error());
        assert_eq!(p, 0.5, "prob untouched");
        fusedrnn_session_free(s);
    }
    // A bad id before the last 100 is refused too, with its position.
    let mut long = vec![4i32; 150];
    long[3] = 100_000;
    assert_eq!(
        m.ids(&long).unwrap_err(),
        (
            Status::ERR_BAD_TOKEN,
            format!("id 100000 at position 3 is not in 0..{}", {
                // SAFETY: a live model.
                unsafe { fusedrnn_model_vocab(m.0) }
            })
        )
    );
    long[3] = -1;
    assert_eq!(m.ids(&long).unwrap_err().0, Status::ERR_BAD_TOKEN);
    long[3] = 4;
    assert!(m.ids(&long).is_ok());
}

/// A word index that is not a file (`/dev/zero` would never end), or too large, is refused at
/// open; so is a model whose vocabulary cannot hold the index's start and oov ids, with a
/// message naming both files.
#[test]
fn word_indexes_and_models_that_cannot_work_are_refused_at_open() {
    let model = cstr(&model_path());
    let mut out = ptr::null_mut();
    // SAFETY: NUL-terminated paths and a valid out-pointer.
    unsafe {
        for index in [c"/dev/zero", c"/tmp"] {
            assert_eq!(
                fusedrnn_model_open(model.as_ptr(), index.as_ptr(), &mut out),
                Status::ERR_BAD_WORD_INDEX
            );
            assert!(last_error().contains("not a file"), "{}", last_error());
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.json");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(fusedrnn::text::MAX_WORD_INDEX_BYTES + 1).unwrap();
    let tiny = dir.path().join("tiny.safetensors");
    tiny_model(&tiny);
    // SAFETY: as above.
    unsafe {
        let huge_c = cstr(&huge);
        assert_eq!(
            fusedrnn_model_open(model.as_ptr(), huge_c.as_ptr(), &mut out),
            Status::ERR_BAD_WORD_INDEX
        );
        assert!(last_error().contains("larger than"), "{}", last_error());
        let (tiny_c, index_c) = (cstr(&tiny), cstr(&index_path()));
        assert_eq!(
            fusedrnn_model_open(tiny_c.as_ptr(), index_c.as_ptr(), &mut out),
            Status::ERR_BAD_WORD_INDEX
        );
        let e = last_error();
        assert!(
            e.contains("tiny.safetensors") && e.contains("word_index.json"),
            "{e}"
        );
    }
    assert!(out.is_null(), "out untouched on error");
}

/// An LSTM over a vocabulary of 2 ids (pad and start): too small for the oov id 2.
fn tiny_model(path: &std::path::Path) {
    use fusedrnn::model::{LstmWeights, Model};
    let w = LstmWeights {
        embedding: vec![[0.01; 16]; 2],
        kernel: [[0.1; 32]; 16],
        recurrent_kernel: [[-0.05; 32]; 8],
        bias: [0.0; 32],
        dense_kernel: [0.5; 8],
        dense_bias: 0.0,
    };
    Model::Lstm(w).save(path).unwrap();
}

/// `fusedrnn_model_open` reads Keras model files as well (through the library's one door,
/// `fusedrnn::model::open`): the Keras 3 `.keras` and `.h5` and the tf.keras 2 `.h5` of one
/// model score exactly as the same weights saved under PyTorch's safetensors names; a file that
/// is not what its name says is `ERR_BAD_MODEL` naming it, a missing one `ERR_IO`.
#[test]
fn keras_model_files_open_and_score_like_their_safetensors() {
    let dir = root().join("tests/fixtures/keras_import");
    let rows: Vec<Vec<i32>> = (0..8)
        .map(|r| (0..(r * 13 + 5)).map(|i| (i * 7 + r) % 100).collect())
        .collect();
    let want: Vec<f32> = {
        let m = Open::path(&dir.join("lstm.torch.safetensors"));
        rows.iter().map(|ids| m.ids(ids).unwrap()).collect()
    };
    for file in ["lstm.keras", "lstm.h5", "lstm.tf2.h5"] {
        let m = Open::path(&dir.join(file));
        // SAFETY: a live model.
        assert_eq!(unsafe { fusedrnn_model_vocab(m.0) }, 100, "{file}");
        let got: Vec<f32> = rows.iter().map(|ids| m.ids(ids).unwrap()).collect();
        assert_eq!(got, want, "{file}");
    }

    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("weights.h5");
    std::fs::write(&fake, b"not an HDF5 file").unwrap();
    for (path, status) in [
        (fake, Status::ERR_BAD_MODEL),
        (tmp.path().join("absent.keras"), Status::ERR_IO),
    ] {
        let mut m = ptr::null_mut();
        let (model, index) = (cstr(&path), cstr(&index_path()));
        // SAFETY: NUL-terminated paths, a valid out-pointer.
        let got = unsafe { fusedrnn_model_open(model.as_ptr(), index.as_ptr(), &mut m) };
        assert_eq!(got, status, "{}", path.display());
        assert!(m.is_null(), "out-parameter written on failure");
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(last_error().contains(name), "{}", last_error());
    }
}

/// `<name>.tokens.npy` (int32 [N, T]) of `tests/fixtures/net/`, as rows, and `<name>.probs.npy`.
fn net_fixture(name: &str) -> (Vec<Vec<i32>>, Vec<f32>) {
    let read = |file: String| {
        let path = root().join("tests/fixtures/net").join(file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let header = std::str::from_utf8(&bytes[10..10 + len])
            .unwrap()
            .to_owned();
        (header, bytes[10 + len..].to_vec())
    };
    let (_, probs) = read(format!("{name}.probs.npy"));
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

#[test]
fn models_of_any_shape_open_and_score_like_keras() {
    for (file, name, arch, seq_len) in [
        ("lstm32.keras", "lstm32", c"lstm", 200),
        ("gru16.h5", "gru16", c"gru", 100),
        ("gru16v1.keras", "gru16v1", c"gru-v1", 100),
    ] {
        let m = Open::path(&root().join("tests/fixtures/net").join(file));
        // SAFETY: a live model; the strings returned are static.
        let (got_arch, got_len) = unsafe {
            (
                CStr::from_ptr(fusedrnn_model_arch(m.0)),
                fusedrnn_model_seq_len(m.0),
            )
        };
        assert_eq!((got_arch, got_len), (arch, seq_len), "{file}");
        let (rows, want) = net_fixture(name);
        for (row, &w) in rows.iter().zip(&want).take(8) {
            let p = m.ids(row).unwrap_or_else(|e| panic!("{file}: {e:?}"));
            assert!((p - w).abs() < 1e-5, "{file}: {p} vs Keras {w}");
            // Unpadded ids are padded at the front to the model's length.
            let first = row.iter().position(|&t| t != 0).unwrap_or(row.len());
            assert_eq!(m.ids(&row[first..]), Ok(p), "{file}");
        }
        let p = m.text("a good film, a great story").unwrap();
        assert!((0.0..=1.0).contains(&p), "{file}: {p}");
        let (status, e) = m.ids(&[1, 5, 100_000]).unwrap_err();
        assert_eq!(status, Status::ERR_BAD_TOKEN, "{file}: {e}");
        assert!(e.contains("100000") && e.contains("position 2"), "{e}");
        // Sessions run every shape (tests/net_session.rs streams these models).
        let mut s = ptr::null_mut();
        // SAFETY: a live model, a valid out-pointer; the session is freed once.
        unsafe {
            assert_eq!(fusedrnn_session_new(m.0, &mut s), Status::OK, "{file}");
            assert!(!s.is_null());
            fusedrnn_session_free(s);
        }
    }
    // The notebook's model keeps its length.
    // SAFETY: a live model.
    assert_eq!(unsafe { fusedrnn_model_seq_len(Open::new().0) }, 100);
    // SAFETY: NULL is not a model.
    assert_eq!(unsafe { fusedrnn_model_seq_len(ptr::null()) }, 0);
}
