//! The general-shape kernels (`Kernel::net_*`) against the scalar reference (`net::reference`)
//! on every kernel this CPU runs, every cell, sizes on and off the compile-time fast paths,
//! embedding and one-hot input, 16- and 32-bit ids and batch remainders; the latency
//! (one-sequence) path against the reference for every cell and size, and against stepping
//! (bitwise); `NetScorer`: thread-count invariance, and errors for bad input; and the
//! trainer's product `Kernel::rows_product` against the reference kernel's.

use crate::common;
use crate::common::ci;
use crate::common::runner;

use fusedrnn::kernels::{Kernel, RowsInit};
use fusedrnn::net::{
    Cell, Input, NetScoreError, NetScorer, NetState, NetTables, NetWeights, Spec, TokenId,
    reference,
};
use proptest::prelude::*;

/// Kernel vs reference, probabilities, absolute. Both compute the same f32 model in the same
/// summation order; they differ by the activations (within 1e-6 of f64 each, against the
/// standard library's) and the fused multiply-adds (one rounding less per term), a few ulps of
/// a state per step, which a contracting network damps and an expanding one amplifies. The
/// recurrent weights are capped at `2.5/√H` (see `weights`), Keras' orthogonal initializer's
/// scale and a bit more; the probability is then within this bound.
const PROB_ABS_TOL: f32 = 1e-5;

const CELLS: [Cell; 4] = [
    Cell::SimpleRnn,
    Cell::Lstm,
    Cell::Gru { reset_after: true },
    Cell::Gru { reset_after: false },
];

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Seeded weights of magnitude `scale`, the recurrent kernel capped at `1.5/√H`.
fn weights(spec: Spec, seed: u64, scale: f32) -> NetWeights {
    let mut w = NetWeights::seeded(spec, seed, scale);
    let cap = 1.5 / (spec.units as f32).sqrt();
    if scale > cap {
        let k = cap / scale;
        w.recurrent_kernel.iter_mut().for_each(|x| *x *= k);
    }
    w
}

/// `n` rows of `len` ids below `vocab`, each with a random number of leading pads (0).
fn rows(n: usize, len: usize, vocab: usize, seed: u64) -> Vec<u32> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(n * len);
    for _ in 0..n {
        let pads = rng.below(len + 1);
        for i in 0..len {
            out.push(if i < pads { 0 } else { rng.below(vocab) as u32 });
        }
    }
    out
}

fn spec(cell: Cell, units: usize, vocab: usize, one_hot: bool, seq_len: usize) -> Spec {
    Spec {
        cell,
        units,
        vocab,
        input: if one_hot {
            Input::OneHot
        } else {
            Input::Embedding {
                width: 1 + units % 13,
            }
        },
        seq_len,
    }
}

/// Every kernel's batch, latency and stepping paths on `ids`, against the reference; the three
/// paths of one kernel bitwise equal.
fn check_kernels<T: TokenId + std::fmt::Debug>(
    t: &NetTables,
    ids: &[T],
) -> Result<(), TestCaseError> {
    let s = *t.spec();
    let n = ids.len() / s.seq_len;
    let mut want = vec![0.0f32; n];
    reference::forward(t, ids, &mut want);
    for k in Kernel::available() {
        let pads = k.net_pad_cache(t);
        let mut got = vec![0.0f32; n];
        k.net_forward(t, &pads, ids, &mut got);
        let mut hidden = vec![0.0f32; n * s.units];
        k.net_forward_hidden(t, &pads, ids, &mut hidden);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            prop_assert!(
                (g - w).abs() <= PROB_ABS_TOL,
                "{} {s}: row {i} of {n}: {g} vs reference {w}",
                k.name()
            );
        }
        // The latency (one-sequence) path and stepping: bitwise; against the reference within
        // the tolerance (its activations are the latency forms, the batch's the throughput
        // forms, so the two agree to a few ulps, not bitwise).
        for i in [0, n - 1] {
            let seq = &ids[i * s.seq_len..(i + 1) * s.seq_len];
            let whole = k.net_sequence_state(t, &pads, seq);
            let mut stepped = NetState::zeros(&s);
            for &tok in seq {
                k.net_step(t, &mut stepped, tok);
            }
            prop_assert_eq!(
                &whole,
                &stepped,
                "{} {}: latency path vs stepping",
                k.name(),
                s
            );
            let one = k.net_sequence(t, &pads, seq);
            prop_assert!(
                (one - want[i]).abs() <= PROB_ABS_TOL,
                "{} {s}: latency path, row {i}: {one} vs reference {}",
                k.name(),
                want[i]
            );
        }
    }
    Ok(())
}

/// Sizes: the fast paths (8, 16, 32, 64, 128) and run-time ones around them.
const UNITS: [usize; 10] = [1, 3, 8, 12, 16, 17, 32, 64, 100, 128];

/// Few cases in debug builds and under an emulator (CI's qemu-aarch64 step runs these with the
/// portable NEON kernel, tens of times slower than natively); the full count in native optimised
/// runs (release, or CI's `ci` profile with `FUSEDRNN_TESTS_OPTIMISED=1`).
fn small() -> bool {
    ci::debug_sized() || runner::emulated()
}

fn cases() -> u32 {
    if small() { 12 } else { 96 }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn every_kernel_matches_the_reference(
        cell in 0..4usize,
        units in 0..UNITS.len(),
        one_hot in any::<bool>(),
        wide_ids in any::<bool>(),
        n in prop::sample::select(vec![1usize, 3, 5, 7, 9, 17, 37]),
        seq_len in 1..300usize,
        scale in prop::sample::select(vec![0.05f32, 0.3, 1.0, 2.0]),
        vocab in 1..700usize,
        seed in any::<u64>(),
    ) {
        let (cell, units) = (CELLS[cell], UNITS[units]);
        // Keep the reference's work (n · len · G·H²) small in debug builds.
        let budget = if small() { 3e6 } else { 6e7 };
        let per_row = (seq_len * cell.gates() * units * units) as f64;
        let n = n.min((budget / per_row).max(1.0) as usize);
        let s = spec(cell, units, vocab, one_hot, seq_len);
        let t = NetTables::fold(&weights(s, seed, scale)).unwrap();
        let ids = rows(n, seq_len, vocab, seed ^ 1);
        if wide_ids {
            check_kernels(&t, &ids)?;
        } else {
            let narrow: Vec<u16> = ids.iter().map(|&x| x as u16).collect();
            check_kernels(&t, &narrow)?;
        }
    }
}

#[test]
fn the_largest_units_match_the_reference() {
    let (len, n) = if small() { (6, 3) } else { (40, 9) };
    for (i, cell) in CELLS.into_iter().enumerate() {
        for scale in [0.05, 1.0] {
            let s = spec(cell, 256, 300, i % 2 == 0, len);
            let t = NetTables::fold(&weights(s, i as u64, scale)).unwrap();
            check_kernels(&t, &rows(n, len, 300, i as u64)).unwrap();
        }
    }
}

/// AVX-512 against AVX2, bit for bit, on the general shapes' batch and its hidden states, every
/// cell, sizes on and off the fast paths and batch remainders, sequences with and without
/// leading pads (AVX2's blocks are 6 sequences, AVX-512's 4, so they start at other steps;
/// each starts from its own batch-stepped padding cache). (The
/// one-sequence path is not among them: it splits its sums by the vector width, 16 units per
/// register against 8, and so rounds differently at 64 units.) On a CPU without AVX-512 this says loudly that it skipped: not a
/// failure even with `CI=true`, since CI machines need not have AVX-512.
#[test]
fn avx512_matches_avx2_bitwise() {
    let Some((avx512, avx2)) = common::avx512_and_avx2("net_kernels::avx512_matches_avx2_bitwise")
    else {
        return;
    };
    let len = if small() { 5 } else { 30 };
    let bits = |xs: &[f32]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (i, cell) in CELLS.into_iter().enumerate() {
        for units in [3, 8, 16, 17, 32, 64] {
            let s = spec(cell, units, 200, units == 17, len);
            let t = NetTables::fold(&weights(s, 40 + i as u64, 0.5)).unwrap();
            let ids = rows(37, len, 200, units as u64);
            let (pa, pb) = (avx512.net_pad_cache(&t), avx2.net_pad_cache(&t));
            for n in [1, 7, 9, 16, 17, 37] {
                let ids = &ids[..n * len];
                let (mut a, mut b) = (vec![f32::NAN; n], vec![0.0; n]);
                avx512.net_forward(&t, &pa, ids, &mut a);
                avx2.net_forward(&t, &pb, ids, &mut b);
                assert_eq!(bits(&a), bits(&b), "{s}: net_forward of {n}");
                let (mut a, mut b) = (vec![f32::NAN; n * units], vec![0.0; n * units]);
                avx512.net_forward_hidden(&t, &pa, ids, &mut a);
                avx2.net_forward_hidden(&t, &pb, ids, &mut b);
                assert_eq!(bits(&a), bits(&b), "{s}: net_forward_hidden of {n}");
            }
        }
    }
}

/// A sequence with leading pads gets the same bits from a batch whatever its neighbours: alone,
/// in a block with an unpadded sequence (the block then steps its pads too), or in a block of
/// sequences with more pads than it. Each kernel's batch starts a block from a padding-cache
/// state stepped by the batch's own step, so where a block starts does not show in its bits.
#[test]
fn a_padded_sequence_scores_the_same_whatever_its_neighbours() {
    let len = if small() { 12 } else { 40 };
    let bits = |xs: &[f32]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (i, cell) in CELLS.into_iter().enumerate() {
        for units in [3, 8, 16, 17, 32] {
            let s = spec(cell, units, 200, units == 17, len);
            let t = NetTables::fold(&weights(s, 70 + i as u64, 0.8)).unwrap();
            let mut rng = Rng(units as u64 + 7);
            let mut seq = |pads: usize| -> Vec<u32> {
                (0..len)
                    .map(|j| {
                        if j < pads {
                            0
                        } else {
                            1 + rng.below(199) as u32
                        }
                    })
                    .collect()
            };
            for pads_n in [1, len / 2, len - 3] {
                let padded = seq(pads_n);
                let (full, more, all) = (seq(0), seq(pads_n + 2), seq(len));
                for k in Kernel::available() {
                    let pads = k.net_pad_cache(&t);
                    let score = |rows: &[&[u32]]| {
                        let ids = rows.concat();
                        let mut p = vec![f32::NAN; rows.len()];
                        k.net_forward(&t, &pads, &ids, &mut p);
                        let mut h = vec![f32::NAN; rows.len() * units];
                        k.net_forward_hidden(&t, &pads, &ids, &mut h);
                        (bits(&p), bits(&h))
                    };
                    let unit = |(p, h): (Vec<u32>, Vec<u32>), r: usize| {
                        (p[r], h[r * units..(r + 1) * units].to_vec())
                    };
                    let alone = unit(score(&[&padded]), 0);
                    let neighbours: [&[&[u32]]; 3] = [
                        &[&full, &padded],
                        &[&more, &all, &padded, &more],
                        &[&padded, &padded, &full, &all, &more, &full, &padded],
                    ];
                    for rows in neighbours {
                        let got = score(rows);
                        for r in (0..rows.len()).filter(|&r| rows[r] == padded.as_slice()) {
                            assert_eq!(
                                unit(got.clone(), r),
                                alone,
                                "{} {s}: row {r} of {} differs from the sequence alone ({pads_n} pads)",
                                k.name(),
                                rows.len()
                            );
                        }
                    }
                }
            }
        }
    }
}

/// A batch over several of the batch's pad-sort windows (120 sequences each; the scorer's
/// chunks are one window, so only a direct call crosses windows): every row's probability is
/// bit for bit the row scored alone, and within the tolerance of the reference.
#[test]
fn a_batch_over_several_sort_windows_scores_each_row_as_alone() {
    let len = if small() { 6 } else { 20 };
    for (i, cell) in CELLS.into_iter().enumerate() {
        let s = spec(cell, 17, 300, false, len);
        let t = NetTables::fold(&weights(s, 90 + i as u64, 0.5)).unwrap();
        let ids = rows(245, len, 300, 91 + i as u64);
        let mut want = vec![0.0f32; 245];
        reference::forward(&t, &ids, &mut want);
        for k in Kernel::available() {
            let pads = k.net_pad_cache(&t);
            let mut got = vec![f32::NAN; 245];
            k.net_forward(&t, &pads, &ids, &mut got);
            for (r, row) in ids.chunks(len).enumerate() {
                let mut alone = [f32::NAN];
                k.net_forward(&t, &pads, row, &mut alone);
                assert_eq!(
                    got[r].to_bits(),
                    alone[0].to_bits(),
                    "{} {s}: row {r}",
                    k.name()
                );
                assert!(
                    (got[r] - want[r]).abs() <= PROB_ABS_TOL,
                    "{} {s}: row {r}: {} vs reference {}",
                    k.name(),
                    got[r],
                    want[r]
                );
            }
        }
    }
}

/// Ids above 65,535 (a 32-bit vocabulary) through every kernel.
#[test]
fn large_vocabularies_take_32_bit_ids() {
    for cell in CELLS {
        let s = spec(cell, 16, 70_000, false, 12);
        let t = NetTables::fold(&weights(s, 3, 0.5)).unwrap();
        let mut ids = rows(5, 12, 70_000, 9);
        ids[7] = 69_999;
        check_kernels(&t, &ids).unwrap();
    }
}

/// `Kernel::net_steps` over a run far longer than the ids it widens at a time (`6 · seq_len`
/// here 18), with 16- and 32-bit ids: bit for bit one `net_step` per token. At 64 and 100
/// units `U` outgrows L1 for some cells and the steps alternate the order of their tiles
/// (snake order, a parity carried across calls): the run starts on the other parity than the
/// token-by-token steps did, and still gives their bits.
#[test]
fn stepping_a_long_run_equals_stepping_token_by_token() {
    for (cell, units) in CELLS.into_iter().flat_map(|c| [(c, 16), (c, 64), (c, 100)]) {
        let s = spec(cell, units, 300, false, 3);
        let t = NetTables::fold(&weights(s, 11, 0.5)).unwrap();
        let ids32 = rows(1, 50, 300, 12);
        let ids16: Vec<u16> = ids32.iter().map(|&v| v as u16).collect();
        for k in Kernel::available() {
            let mut one_by_one = NetState::zeros(&s);
            for &tok in &ids32 {
                k.net_step(&t, &mut one_by_one, tok);
            }
            // An odd number of steps: the run below starts on the other parity.
            k.net_step(&t, &mut NetState::zeros(&s), 1u32);
            let (mut run32, mut run16) = (NetState::zeros(&s), NetState::zeros(&s));
            k.net_steps(&t, &mut run32, &ids32);
            k.net_steps(&t, &mut run16, &ids16);
            assert_eq!(
                run32,
                one_by_one,
                "{} {s}: u32 run vs token by token",
                k.name()
            );
            assert_eq!(
                run16,
                one_by_one,
                "{} {s}: u16 run vs token by token",
                k.name()
            );
        }
    }
}

/// The one-sequence (latency) path of every kernel, every cell and every size class (the fast
/// paths 8, 16, 32, 64, 128; below, between and above them; the largest, 256) against the
/// reference: final states and probabilities, from zeros and from the padding cache.
#[test]
fn the_one_sequence_path_matches_the_reference_for_every_cell_and_size() {
    for (ci, cell) in CELLS.into_iter().enumerate() {
        for units in [1, 3, 8, 16, 17, 32, 64, 100, 128, 256] {
            let len = if units > 64 { 5 } else { 16 };
            for (si, scale) in [0.05f32, 1.0].into_iter().enumerate() {
                let seed = (ci * 100 + units * 2 + si) as u64;
                let s = spec(cell, units, 300, si == 1, len);
                let t = NetTables::fold(&weights(s, seed, scale)).unwrap();
                let ids = rows(2, len, 300, seed);
                for k in Kernel::available() {
                    let pads = k.net_pad_cache(&t);
                    for seq in ids.chunks_exact(len) {
                        let want = reference::sequence_state(&t, seq);
                        let got = k.net_sequence_state(&t, &pads, seq);
                        let worst = want
                            .h
                            .iter()
                            .chain(&want.c)
                            .zip(got.h.iter().chain(&got.c))
                            .map(|(w, g)| (w - g).abs())
                            .fold(0.0f32, f32::max);
                        assert!(
                            worst <= PROB_ABS_TOL,
                            "{} {s} scale {scale}: state off by {worst}",
                            k.name()
                        );
                        let (p, w) = (k.net_sequence(&t, &pads, seq), reference::prob(&t, &want.h));
                        assert!(
                            (p - w).abs() <= PROB_ABS_TOL,
                            "{} {s}: {p} vs reference {w}",
                            k.name()
                        );
                    }
                }
            }
        }
    }
}

fn scorer(cell: Cell, units: usize, seq_len: usize) -> NetScorer {
    let s = spec(cell, units, 500, false, seq_len);
    NetScorer::from_weights(&weights(s, 11, 0.5), Kernel::select().unwrap()).unwrap()
}

#[test]
fn scores_do_not_depend_on_the_thread_count() {
    let n = if small() { 300 } else { 1000 };
    for cell in CELLS {
        let sc = scorer(cell, 17, 30);
        let ids = rows(n, 30, 500, 5);
        let one = sc.score_threads(&ids, 1).unwrap();
        for threads in [2, 3] {
            let many = sc.score_threads(&ids, threads).unwrap();
            assert!(
                one.iter()
                    .zip(&many)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{cell}: 1 vs {threads} threads"
            );
        }
        for i in [0, 131, n - 1] {
            let row = &ids[i * 30..(i + 1) * 30];
            // One sequence (the latency path, its own activations): within the tolerance of
            // the batch, and bitwise the same as a session, fed from zeros or the cache.
            let single = sc.score_one(row).unwrap();
            assert!(
                (single - one[i]).abs() <= 2.0 * PROB_ABS_TOL,
                "{cell}: score_one {single} vs batch {}",
                one[i]
            );
            let mut session = sc.session();
            for &tok in row {
                session.feed(tok).unwrap();
            }
            assert_eq!(
                session.prob().to_bits(),
                single.to_bits(),
                "{cell}: session"
            );
            let pads = fusedrnn::net::leading_pads(row);
            session.reset_padded(pads);
            for &tok in &row[pads..] {
                session.feed(tok).unwrap();
            }
            assert_eq!(
                session.prob().to_bits(),
                single.to_bits(),
                "{cell}: padded session"
            );
            assert_eq!(session.steps(), 30);
            // Many tokens a call, in pieces of every length: the same bits as one a call.
            for piece in [1, 2, 7, 30] {
                session.reset();
                for part in row.chunks(piece) {
                    session.feed_all(part).unwrap();
                }
                assert_eq!(
                    session.prob().to_bits(),
                    single.to_bits(),
                    "{cell}: feed_all in pieces of {piece}"
                );
                assert_eq!(session.steps(), 30);
            }
        }
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let sc = scorer(Cell::Lstm, 8, 10);
    let mut ids = rows(4, 10, 500, 1);
    let mut probs = vec![0.0; 4];
    // A length that is not whole rows.
    assert_eq!(
        sc.score(&ids[..35], &mut probs[..3]),
        Err(NetScoreError::Rows {
            ids: 35,
            seq_len: 10
        })
    );
    assert!(matches!(
        sc.score_one(&ids[..9]),
        Err(NetScoreError::Rows { .. })
    ));
    // Room for the wrong number of probabilities.
    assert_eq!(
        sc.score(&ids, &mut probs[..3]),
        Err(NetScoreError::Probs { rows: 4, probs: 3 })
    );
    assert_eq!(sc.score_threads(&ids, 0), Err(NetScoreError::Threads(0)));
    // An id at the vocabulary, named by row and position.
    ids[23] = 500;
    let err = sc.score(&ids, &mut probs).unwrap_err();
    assert!(
        matches!(&err, NetScoreError::Token(t) if t.row == 2 && t.col == 3 && t.token == 500 && t.vocab == 500),
        "{err:?}"
    );
    assert!(err.to_string().contains("token id 500"), "{err}");
    assert!(sc.score_threads(&ids, 2).is_err());
    assert!(sc.score_one(&ids[20..30]).is_err());
    let wide: Vec<u16> = vec![65_535; 10];
    assert!(sc.score_one(&wide).is_err());
    // A stream: the bad id is refused and the state is untouched.
    let mut session = sc.session();
    session.feed(3u32).unwrap();
    let before = session.state().clone();
    assert!(session.feed(u32::MAX).is_err());
    assert_eq!(session.state(), &before);
    assert_eq!(session.steps(), 1);
    // Many at once: the first bad id is named by its place in the stream, and no step is taken.
    let err = session.feed_all(&[4u32, 7, 500, 9]).unwrap_err();
    assert!(
        matches!(&err, NetScoreError::Token(t) if t.col == 3 && t.token == 500),
        "{err:?}"
    );
    assert_eq!(session.state(), &before);
    assert_eq!(session.steps(), 1);
    session.feed_all::<u32>(&[]).unwrap();
    assert_eq!(session.state(), &before);
}

/// `n` values in `[-scale, scale)`.
fn uniform(n: usize, scale: f32, rng: &mut Rng) -> Vec<f32> {
    (0..n)
        .map(|_| ((rng.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// `Kernel::rows_product` of every kernel against the reference kernel's (plain multiply
    /// and add): within the rounding of the fused multiply-adds, `(k + 1)` ulps of the sum of
    /// the terms' magnitudes; each row's bits do not depend on the rows around it (the
    /// trainer's thread-count invariance leans on it); and `rows_product_tn` of the stored
    /// transpose gives the same bits.
    #[test]
    fn rows_product_matches_the_reference(
        m in 1..40usize,
        k in 0..300usize,
        n in 1..150usize,
        init in 0..4usize,
        scale in prop::sample::select(vec![1e-3f32, 1.0, 30.0]),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed);
        let a = uniform(m * k, scale, &mut rng);
        let b = uniform(k * n, 1.0, &mut rng);
        let start = uniform(m * n, scale, &mut rng);
        let bias = uniform(n, scale, &mut rng);
        let run = |kern: Kernel, rows: std::ops::Range<usize>| {
            let (a, start) = (&a[rows.start * k..rows.end * k], &start[rows.start * n..rows.end * n]);
            let mut c = start.to_vec();
            let init = match init {
                0 => RowsInit::Zero,
                1 => RowsInit::Out,
                2 => RowsInit::From(start),
                _ => RowsInit::Row(&bias),
            };
            kern.rows_product(rows.len(), k, n, a, &b, init, &mut c);
            c
        };
        let want = run(Kernel::Reference, 0..m);
        for kern in Kernel::available() {
            let got = run(kern, 0..m);
            for i in 0..m {
                for col in 0..n {
                    let first = match init {
                        0 => 0.0,
                        3 => bias[col],
                        _ => start[i * n + col],
                    };
                    let mass: f32 = first.abs()
                        + (0..k).map(|j| (a[i * k + j] * b[j * n + col]).abs()).sum::<f32>();
                    let (g, w) = (got[i * n + col], want[i * n + col]);
                    prop_assert!(
                        (g - w).abs() <= (k + 1) as f32 * f32::EPSILON * mass,
                        "{} [{m}, {k}]·[{k}, {n}], init {init}: C[{i}][{col}] = {g}, reference {w}",
                        kern.name()
                    );
                }
            }
            let last = run(kern, m - 1..m);
            prop_assert_eq!(&last[..], &got[(m - 1) * n..], "{}: the last row alone", kern.name());
            // `A` stored transposed: the same terms in the same order, so the same bits.
            let mut a_t = vec![0.0; k * m];
            for i in 0..m {
                for j in 0..k {
                    a_t[j * m + i] = a[i * k + j];
                }
            }
            let mut c_t = start.clone();
            let init_t = match init {
                0 => RowsInit::Zero,
                1 => RowsInit::Out,
                2 => RowsInit::From(&start),
                _ => RowsInit::Row(&bias),
            };
            kern.rows_product_tn(m, k, n, &a_t, &b, init_t, &mut c_t);
            prop_assert_eq!(&c_t, &got, "{}: rows_product_tn of Aᵀ", kern.name());
        }
    }
}

/// Wrong operand lengths are refused by a panic naming the operand, on every kernel.
#[test]
fn rows_product_checks_its_operands() {
    for kern in Kernel::available() {
        let bad = std::panic::catch_unwind(|| {
            let mut c = vec![0.0; 6];
            kern.rows_product(2, 4, 3, &[0.0; 7], &[0.0; 12], RowsInit::Zero, &mut c);
        });
        let msg = bad.expect_err("A of 7 floats for [2, 4]");
        let msg = msg
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        assert!(msg.contains("A must be [m, k]"), "{}: {msg}", kern.name());
        let bad = std::panic::catch_unwind(|| {
            let mut c = vec![0.0; 6];
            kern.rows_product(
                2,
                4,
                3,
                &[0.0; 8],
                &[0.0; 12],
                RowsInit::Row(&[0.0; 2]),
                &mut c,
            );
        });
        assert!(
            bad.is_err(),
            "{}: a bias row of 2 floats for n = 3",
            kern.name()
        );
    }
}
