//! The hot calls allocate nothing: `fusedrnn_score_text`, `fusedrnn_score_ids` and a session's
//! pushes and reads, counted by a global allocator that tallies this thread's allocations.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::CString;
use std::ptr;

use common::*;
use fusedrnn_c::*;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; counting has no effect on it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(p, layout) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(p, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocations() -> usize {
    ALLOCS.with(Cell::get)
}

#[test]
fn scoring_allocates_nothing() {
    let (model_c, index_c) = (
        CString::new(model_path().to_str().unwrap()).unwrap(),
        CString::new(index_path().to_str().unwrap()).unwrap(),
    );
    let texts = reviews();
    let ids: Vec<i32> = (0..150).map(|i| 1 + i % 499).collect();
    let mut model = ptr::null_mut();
    let mut session = ptr::null_mut();
    let mut p = 0f32;
    // SAFETY: NUL-terminated paths, valid out-pointers, live handles, buffers of the given lengths.
    unsafe {
        let at_start = allocations();
        assert_eq!(
            fusedrnn_model_open(model_c.as_ptr(), index_c.as_ptr(), &mut model),
            Status::OK
        );
        assert_eq!(fusedrnn_session_new(model, &mut session), Status::OK);
        assert!(
            allocations() > at_start,
            "the counter sees open's allocations"
        );
        let before = allocations();
        for _ in 0..10 {
            for t in &texts {
                assert_eq!(
                    fusedrnn_score_text(model, t.as_ptr().cast(), t.len(), &mut p),
                    Status::OK
                );
                assert_eq!(fusedrnn_session_reset(session), Status::OK);
                let st = fusedrnn_session_push_text(session, t.as_ptr().cast(), t.len());
                assert_eq!(st, Status::OK);
                assert_eq!(
                    fusedrnn_session_push_ids(session, ids.as_ptr(), 3),
                    Status::OK
                );
                assert_eq!(fusedrnn_session_prob(session, &mut p), Status::OK);
            }
            assert_eq!(
                fusedrnn_score_ids(model, ids.as_ptr(), ids.len(), &mut p),
                Status::OK
            );
        }
        assert_eq!(allocations() - before, 0, "allocations on the hot path");
        fusedrnn_session_free(session);
        fusedrnn_model_free(model);
    }
}

/// Other shapes (`tests/fixtures/net/lstm32.keras`, LSTM(32), length 200): a session's buffers
/// are allocated once, at `fusedrnn_session_new`; pushing ids or text and resetting allocate
/// nothing with the vector kernels (the reference kernel grows a scratch per step). A read
/// re-scores the padded row through `NetScorer::score_one`, which returns a new state: 2
/// allocations per read measured on x86_64-avx512 (3 with the reference kernel), bounded here
/// by [`PER_READ`].
/// Most allocations per read of a general session's probability.
const PER_READ: usize = 3;

/// Whether the test runs with the scalar reference kernel (`FUSEDRNN_KERNEL=reference`).
fn reference_kernel() -> bool {
    std::env::var("FUSEDRNN_KERNEL").is_ok_and(|k| k == "reference")
}

#[test]
fn general_sessions_allocate_nothing_per_step_and_little_per_read() {
    let (model_c, index_c) = (
        CString::new(
            root()
                .join("tests/fixtures/net/lstm32.keras")
                .to_str()
                .unwrap(),
        )
        .unwrap(),
        CString::new(index_path().to_str().unwrap()).unwrap(),
    );
    let ids: Vec<i32> = (0..1000).map(|i| 1 + i % 4999).collect();
    let text = "A fine film, and a moving one. ".repeat(40);
    let mut model = ptr::null_mut();
    let mut session = ptr::null_mut();
    let mut p = 0f32;
    // SAFETY: NUL-terminated paths, valid out-pointers, live handles, buffers of the given lengths.
    unsafe {
        assert_eq!(
            fusedrnn_model_open(model_c.as_ptr(), index_c.as_ptr(), &mut model),
            Status::OK
        );
        assert_eq!(fusedrnn_session_new(model, &mut session), Status::OK);
        // Warm the kernels' per-thread scratch.
        assert_eq!(
            fusedrnn_session_push_ids(session, ids.as_ptr(), 1),
            Status::OK
        );
        assert_eq!(fusedrnn_session_prob(session, &mut p), Status::OK);
        let before = allocations();
        assert_eq!(
            fusedrnn_session_push_ids(session, ids.as_ptr(), ids.len()),
            Status::OK
        );
        let pushes = allocations() - before;
        let before = allocations();
        for _ in 0..10 {
            assert_eq!(fusedrnn_session_prob(session, &mut p), Status::OK);
        }
        let reads = allocations() - before;
        let before = allocations();
        assert_eq!(fusedrnn_session_reset(session), Status::OK);
        let st = fusedrnn_session_push_text(session, text.as_ptr().cast(), text.len());
        assert_eq!(st, Status::OK);
        let words = allocations() - before;
        eprintln!(
            "general session: {pushes} allocations for 1000 ids, {reads} for 10 reads, {words} \
             for a reset and 280 words"
        );
        // The reference kernel: one scratch per step (1,000 ids; 40 × 7 words and the start
        // char). Every vector kernel: none.
        let per_step = usize::from(reference_kernel());
        assert!(
            pushes <= per_step * ids.len(),
            "{pushes} allocations for 1000 ids"
        );
        assert!(reads <= PER_READ * 10, "{reads} allocations for 10 reads");
        assert!(
            words <= per_step * (40 * 7 + 1),
            "{words} allocations for a reset and the text"
        );
        fusedrnn_session_free(session);
        fusedrnn_model_free(model);
    }
}
