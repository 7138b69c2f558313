//! A handle of the wrong kind is refused without reading outside its allocation: every
//! allocation of this test process ends right against a `PROT_NONE` page, so a read one byte past
//! the end of a model handle (where a session's tag used to be looked for) is a segfault, not a
//! silently wrong answer. The checks then also hold by result (`FUSEDRNN_ERR_INVALID_ARGUMENT`).
//!
//! Linux / unix only (mmap, mprotect). Run alone in its own test binary: the allocator is global.

#![cfg(unix)]

mod common;

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::CString;
use std::ptr;

use common::*;
use fusedrnn_c::*;

const PAGE: usize = 4096;

/// Places every allocation so that it ends exactly where a `PROT_NONE` guard page starts.
struct GuardPage;

impl GuardPage {
    /// (start of the mapping, bytes mapped, offset of the allocation in it) for `layout`.
    fn plan(layout: Layout) -> (usize, usize) {
        let size = layout.size().max(1).next_multiple_of(layout.align());
        let data = size.next_multiple_of(PAGE);
        (data + PAGE, data - size)
    }
}

// SAFETY: every allocation is a fresh private mapping, valid and writable for `layout.size()`
// bytes at an address aligned to `layout.align()` (at most a page: the offset is a multiple of
// the rounded size's alignment inside a page-aligned mapping); dealloc unmaps exactly what alloc
// mapped, recomputed from the same layout.
unsafe impl GlobalAlloc for GuardPage {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > PAGE {
            return ptr::null_mut();
        }
        let (len, offset) = Self::plan(layout);
        // SAFETY: an anonymous private mapping of `len` bytes; no existing memory is touched.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return ptr::null_mut();
        }
        // SAFETY: the last page of the mapping just made.
        let guarded = unsafe {
            libc::mprotect(
                base.cast::<u8>().add(len - PAGE).cast(),
                PAGE,
                libc::PROT_NONE,
            )
        };
        if guarded != 0 {
            // SAFETY: the mapping just made, unused.
            unsafe { libc::munmap(base, len) };
            return ptr::null_mut();
        }
        // SAFETY: `offset + size <= len - PAGE`, inside the mapping.
        unsafe { base.cast::<u8>().add(offset) }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        let (len, offset) = Self::plan(layout);
        // SAFETY: `p` came from `alloc` with this layout: the mapping starts `offset` before it.
        unsafe { libc::munmap(p.sub(offset).cast(), len) };
    }
}

#[global_allocator]
static GUARD: GuardPage = GuardPage;

#[test]
fn the_guard_page_allocator_catches_an_overread() {
    // The premise of the test below: a read one byte past a small allocation faults. Checked in
    // a child process, so the fault does not end this one.
    // SAFETY: fork in a single-threaded moment of the test (the child only reads and exits).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let b = Box::new(7u64);
        let p: *const u8 = (&*b as *const u64).cast();
        // SAFETY: deliberately not: reads the first byte past the allocation (the guard page).
        let byte = unsafe { p.add(8).read_volatile() };
        // SAFETY: leaves the child without running the parent's test harness.
        unsafe { libc::_exit(i32::from(byte)) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSEGV,
        "a read past the allocation did not fault (status {status:#x})"
    );
}

#[test]
fn a_model_handle_passed_to_session_functions_is_refused_without_an_overread() {
    let (model_c, index_c) = (
        CString::new(model_path().to_str().unwrap()).unwrap(),
        CString::new(index_path().to_str().unwrap()).unwrap(),
    );
    let mut model = ptr::null_mut();
    let mut p = 0.5f32;
    // SAFETY: valid strings and out-pointers; the model handle is deliberately passed where a
    // session is expected, which the API promises to refuse.
    unsafe {
        assert_eq!(
            fusedrnn_model_open(model_c.as_ptr(), index_c.as_ptr(), &mut model),
            Status::OK
        );
        let as_session = model.cast::<Session>();
        assert_eq!(
            fusedrnn_session_prob(as_session, &mut p),
            Status::ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            fusedrnn_session_push_text(as_session, c"good".as_ptr(), 4),
            Status::ERR_INVALID_ARGUMENT
        );
        let ids = [1i32, 14, 22];
        assert_eq!(
            fusedrnn_session_push_ids(as_session, ids.as_ptr(), ids.len()),
            Status::ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            fusedrnn_session_reset(as_session),
            Status::ERR_INVALID_ARGUMENT
        );
        fusedrnn_session_free(as_session);
        assert_eq!(p, 0.5, "prob untouched");

        // And the other way round: a session where a model is expected.
        let mut session = ptr::null_mut();
        assert_eq!(fusedrnn_session_new(model, &mut session), Status::OK);
        let as_model = session.cast::<Model>();
        assert_eq!(
            fusedrnn_score_text(as_model, c"good".as_ptr(), 4, &mut p),
            Status::ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            fusedrnn_score_ids(as_model, ids.as_ptr(), ids.len(), &mut p),
            Status::ERR_INVALID_ARGUMENT
        );
        assert_eq!(fusedrnn_model_vocab(as_model), 0);
        fusedrnn_model_free(as_model);

        // The handles still work after the refusals.
        assert_eq!(
            fusedrnn_session_push_text(session, c"good".as_ptr(), 4),
            Status::OK
        );
        assert_eq!(fusedrnn_session_prob(session, &mut p), Status::OK);
        assert!(p > 0.0 && p < 1.0);
        fusedrnn_session_free(session);
        fusedrnn_model_free(model);
    }
}
