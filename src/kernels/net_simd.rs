//! The vector bodies for any shape ([`crate::net`]): SimpleRNN, LSTM and GRU (both forms) of 1 to
//! 256 units, written once over [`Isa`].
//!
//! # Layout: units in lanes, sequences as GEMM rows
//!
//! A step of a block of `R` sequences is a small matrix product followed by the cell:
//!
//! ```text
//! Z[R, G·H] = input[tok_r] + H[R, H] · U[H, G·H]            (register-tiled, see `tile`)
//! h', c'    = cell(Z)                                        (units in lanes, per row)
//! ```
//!
//! `Z` lives in a scratch row per sequence whose gate blocks are padded to whole vectors
//! (`p = ⌈H / LANES⌉ · LANES` floats per gate), so every load and store of `Z` is a whole
//! vector. The recurrent weights are read from [`NetTables::recurrent_lanes`], whose gate
//! blocks are padded with zero columns to a multiple of 16, so every load of a row of `U` is a
//! whole vector too; only the input rows (`G·H` floats, unpadded) and the state (`H` floats) are
//! read and written through partial (masked) loads and stores in the last vector of a gate when
//! `H` is not a multiple of the lane count.
//!
//! The product is register-tiled: a tile is `R` rows × `C` column vectors of accumulators; for
//! each `j < H` it loads `C` vectors of row `j` of `U` and broadcasts `h[r][j]` once per row,
//! then does `R·C` independent FMAs. Each accumulator starts at its row's folded input (for a
//! reset-after GRU's candidate block, at the recurrent bias `b_rh`, the input being added after
//! the reset gate) and sums `j` in order, so **a row's arithmetic does not depend on `R`, `C`
//! or the other rows**: a sequence's bits in a batch do not depend on the batch around it, and
//! the scorer's results do not depend on the thread count. A block starts after its fewest
//! leading pads from the padding cache's batch table, which this same pass stepped
//! ([`NetPadCache::batch_state`]), so neither does where a block starts.
//!
//! The one-sequence path ([`Steps`], the latency path; the padding cache's one-sequence table
//! is built with it) is a matrix-vector product, as wide a tile as the registers hold, and the
//! latency forms of the activations (see "The one-sequence path" below): stepping, the
//! whole-sequence call and a session agree bit for bit; against the same sequence in a batch
//! (throughput activations) they differ by a few ulps, both within the reference's tolerance.
//!
//! A GRU with `reset_after = false` needs `r` before the candidate's product: the step runs the
//! `z, r` columns, computes `r ⊙ h` into a scratch row, then runs the candidate columns with
//! `r ⊙ h` as the broadcast source.
//!
//! The units are a const parameter `HC` for 8, 16, 32, 64 and 128 (the loops over units,
//! vectors and tiles then have constant trip counts) and 0 for the run-time path that serves
//! every other size from 1 to 256 ([`by_shape`]). The batch uses the throughput (Horner) forms
//! of [`super::activations`], the one-sequence path the latency forms.
//!
//! # Cycle account (AMD EPYC family 26 model 2, Zen 5, AVX-512, 2026-12-02)
//!
//! Peak: two 512-bit FMA pipes, 32 MACs per cycle. A sequence-step of `G` gates and `H` units
//! needs `G·H²` recurrent MACs; the shares below are of that peak (`examples/net_fma_share`,
//! one thread, 4 × 4 tile, 512 sequences of 200 tokens; by time and clock: `perf stat` has no
//! hardware counters in this VM). Per block-step of 4 sequences, LSTM(32) (8 column vectors,
//! two tiles):
//!
//! ```text
//! product   2 tiles × 32 j × (16 FMAs, 4 U loads, 4 broadcasts)
//!           1024 FMAs = 512 cycles (FMA pipes); 512 loads, 2 per cycle = 256, under them
//! cell      40 activations (3 σ + 2 tanh per unit vector): ~8.5 FMA-pipe µops each (Horner 6,
//!           reduction 2–3) = ~340 µops = ~170 cycles; plus 40 vdivps on the divider
//! bound     ~690 FMA-pipe cycles: at most ~74 % of peak with these activation forms
//! measured  ~1180 cycles (295 per sequence-step, 44.5 %; main d85bc1f, quiet machine)
//! ```
//!
//! So ~490 cycles per block-step are neither the product's nor the activations' µops: the
//! block-step is a chain product → cell → next product (the next step's first tile broadcasts
//! `h[r][0]` of every row, written by the cell), and within it the FMA pipes idle while the
//! cell's divider-bound, latency-bound chains drain, and the divider idles during the product.
//! LSTM(64) (16 vectors, four tiles): `U` is 64 × 256 floats = 64 KiB, over the 48 KiB L1, and
//! each 16 KiB column panel is used by one tile of 4 rows per step, so all of `U` streams from
//! L2 every block-step (64 KiB per 2048 FMA cycles, 32 B/cycle): 901 cycles per sequence-step,
//! 58.5 %; GRU(64) 627, 63.2 %; SimpleRNN(64) 190, 68.7 % (same baseline run).
//!
//! Tried on this machine (2026-12-02, machine loaded to 9–14 by parallel builds; fastest of
//! 2 + 3 alternating runs of main's build and one experiment build whose variants an
//! environment switch picked; not kept). The experiment build was itself ~5 % slower than
//! main's at 32 units (LSTM(32) 315–321 against 297–300 cycles per sequence-step) and 1.8–4×
//! slower on GRU(64) (1136–2576 against 627–632, unexplained), so each variant is set against
//! its own build's unchanged path:
//!
//! - batch forms of the activations (`sigmoid_batch`/`tanh_batch`, `vrcp14ps` + Newton
//!   instead of the divider): LSTM(32) 336 against 315–321, LSTM(64) 1014 against 974,
//!   GRU(32) 237–241 against 228–229 — slower (on Golden Cove: no gain);
//! - two blocks of 4 sequences stepped alternately (each block's cell independent of the
//!   other's product, for the out-of-order core to overlap): LSTM(32) 309–317 against
//!   315–321, LSTM(64) 983 against 974, GRU(32) 230 against 228–229 — no gain at this
//!   granularity (one block-step is ~2000 µops, over four times the reorder buffer: the
//!   overlap would have to be written into the instruction order, one block's cell between
//!   the other's tiles); SimpleRNN(16) 27.5–28.7 against 34.6–34.9 (−20 %), but GRU(8)
//!   126 against 89;
//! - the piecewise tanh (no `exp`, no division) in the one-sequence path for `g`, `tanh(c')`
//!   and the GRU/SimpleRNN candidate: 2.5× *slower* (LSTM(32) review 51.6 against 20.6 µs;
//!   GRU(32) 29.1 against 12.5). Cause, read from the source: the AVX-512 `Isa` has no
//!   vector forms of `piecewise_interval`, `lookup8` and `with_sign_of` (the AVX2 one has),
//!   so with 16 lanes they run the trait's scalar defaults, lane by lane through memory.
//!
//! - (2026-12-02, later session, load 14–16; one alternating pair of runs of main's build and
//!   the experiment's, fastest of two windows of 0.25 s per point; not kept) the two blocks
//!   software-pipelined in program order: 16-lane batch in pairs of 4-row blocks, `b`'s
//!   product of step `s` with `a`'s cell of step `s` written into it (one cell unit, a row's
//!   vector, after every `⌊js / (units + 1)⌋` values of `j`, through a trait method called
//!   from the tile's `j` loop), then `a`'s product of step `s + 1` with `b`'s cell of step
//!   `s`. Cycles per sequence-step, main against experiment: LSTM(32) 305 → 347, LSTM(64)
//!   1264 → 1871, GRU(32) 222 → 240, GRU(64) 624 → 1594, GRU-v1(32) 190 → 182, GRU-v1(64)
//!   611 → 672, SimpleRNN(16) 35 → 27, SimpleRNN(64) 190 → 176: slower where it mattered
//!   (one noisy pair of runs; the tests were not run on it). Not yet read from the assembly:
//!   whether the 16 accumulators stay in registers across the interleaved cell (spills would
//!   explain it). A first build passed the cell as a closure and ran ~100× slower: a
//!   closure's body is not compiled with the trampoline's target features, so its `Isa`
//!   operations did not inline.
//!
//! The 64-unit rows moved by up to 2.3× between runs of the same binary under that load (other
//! processes evicting L2); only the second run's are quoted (main's build matched the quiet
//! baseline there: LSTM(64) 919). What the account points to next: the tile order at 64
//! units (each `U` panel used by two blocks before the next panel, so it is read from L1
//! twice), and the two blocks' product and cell interleaved in code.
//!
//! - (2026-12-03, Intel Xeon family 6 model 167 under KVM, AVX-512; fastest of 4–6 alternating
//!   runs; not kept) one block's cell interleaved with its own product: the product's columns
//!   in unit-vector-major order (the `G` gates of unit vector 0, then of vector 1, ...), so
//!   that after each tile the cells of the unit vectors it completed run while the next tile's
//!   FMAs do, the cells writing a second `h` buffer. Cycles per sequence-step: LSTM(32) 397 →
//!   393, LSTM(64) 1387 → 1723 (each tile now reads four 64-byte lines 256 bytes apart in a row
//!   of `U` instead of 256 contiguous bytes). Swapping the two `h` buffers after each step
//!   (`mem::swap` of the slices) made LLVM keep every accumulator in a stack slot as well as a
//!   register, one store per FMA (found in the disassembly: 16 FMAs and 16 stores per `j`);
//!   copying the buffer back instead did not. Here the step is not bound by the overlap: this
//!   core runs every 512-bit vector µop on the same two ports as the FMAs and its `vdivps zmm`
//!   takes 10 cycles (`benches/report/insn_latency.c`), so 40 divisions alone are 400 of a
//!   ~1600-cycle block-step; whether Zen 5 gains is not measured. The same interleave in the
//!   one-sequence path (a tile per unit vector, two chains per column, its cell right after)
//!   was slower at 32 units: LSTM(32) review 31.3 → 37.5 µs, GRU(32) 22.3 → 33.1 (each tile
//!   broadcasts `h` again, and the steps' loads of `U` bound them); only GRU(64) gained
//!   (95.7 → 87.1), LSTM(64) lost (155 → 204).
//!
//! # Product against cell on Zen 4 (AMD EPYC family 25 model 17, 2026-12-04)
//!
//! Zen 4 runs a 512-bit FMA as two 256-bit halves: one `zmm` FMA per cycle, 16 MACs, the same
//! peak as AVX2 (`benches/report/insn_latency.c` there: FMA latency 4, `vaddps` 3, `vdivps`
//! 11; a loop of 4 `U` loads, 4 `vbroadcastss` and 16 FMAs, the tile's inner loop, runs at
//! 16.3 cycles, the FMA pipe's rate, and so does the same loop with `{1to16}` operands).
//! Split by building the product without the cell and the cell without the product
//! (`examples/net_fma_share`, one thread, fastest of 0.4–0.5 s windows, two runs alternating
//! the three builds; cycles per sequence-step at 3.69 GHz, AVX-512 kernel):
//!
//! ```text
//!                     whole step   product alone   cell alone   FMA bound of the product
//! batch  LSTM(16)     175–177       91              93            68
//!        LSTM(32)     514–528      349–360         177–180       264
//!        LSTM(64)     1587–1916    1258–1296       350–352       1040 (U from L2: 64 KiB > 32 KiB L1)
//!        GRU(32)      350–355      243–244         119–168       198
//!        AVX2 LSTM(32) 601–603     359–361         269–271       264
//! one    LSTM(16)     218–223      107–108          83           64 (two chains a column: 32)
//! review LSTM(32)     491–601      360–362         163           256 (the FMA pipe; chains 128)
//!        LSTM(64)     2567–2912    2355–2362       322           1024 (U from L2)
//! ```
//!
//! The two parts add up: neither hides the other, on the batch as on one review. In a
//! `perf record` of the LSTM(32) batch, 41 % of the samples sit in the tile's 16-FMA loop
//! (≈ 1,060 of a ≈ 2,580-cycle block-step of 4 rows, for 1,024 FMAs: that loop runs at the
//! pipe's rate); the product's other ~25 % over its bound is the tiles' setup and drain
//! (start values from the input rows through the stack, the `Z` stores, the next step's
//! prefetches), and the cell runs at ~2/3 of its own FMA-pipe bound (~117 cycles: 40
//! activations × ~11 FMA-pipe µops + 32 for `c` and `h`, per block-step of 4). The input rows
//! are not what costs: ids drawn from 7 tokens instead of 5,000 (a 2.5 MiB table, over this
//! core's 1 MiB L2) took LSTM(32) from 522 to 511, prefetching 3 or 6 steps ahead instead of
//! one changed nothing.
//!
//! The tiles' start values then looked each row's input row up once per tile (it was once
//! per row and column vector, with its bounds checks and offsets) and each column's offsets
//! once. Same machine, quiet (load 0.02), the two builds alternated three times, cycles per
//! sequence-step (whole step), bits unchanged:
//!
//! ```text
//!          AVX-512 batch                   AVX2 batch            AVX-512 one review
//! LSTM(16)  176–178 → 164–168 (−6 %)       233–235 → 219–221     219 → 219
//! LSTM(32)  513–515 → 453–454 (−12 %)      599–602 → 573–574     492 → 449 (−9 %)
//! LSTM(64)  1567–1573 → 1414–1435 (−9 %)   1742–1790 → 1685–1687 2609–2617 → 2518–2529
//! GRU(16)   123 → 117 (−5 %)               179–180 → 172–173     180–189 → 180
//! GRU(32)   350–356 → 330–331 (−6 %)       430–431 → 422–427     334–335 → 334
//! GRU(64)   1147–1155 → 1042–1050 (−9 %)   1269–1274 → 1247–1253 1917–1928 → 1859–1877
//! ```
//!
//! That is 58 % of this core's FMA peak at LSTM(32) (4,224 MACs ÷ 16 per cycle ÷ 453) and
//! 74 % at LSTM(64), over issue 14's 55 % and 70 %; on Zen 5 (32 MACs per cycle) not measured.
//!
//! For one review this is a floor, not a tuning gap: every column of step `t + 1` sums all
//! of `h_t` (`j` in order), so its product cannot start before the last unit's cell of step
//! `t` ends, and the cell cannot start before the product ends (each unit's gates need their
//! whole sums). A step is at least the product (its 256 FMAs at one per cycle here; on Zen 5,
//! two pipes, the 32-FMA chains, 128 cycles) plus the cell's chain (σ of the gates, `c'`,
//! `tanh(c')`, `h`: 163 cycles alone here). Zen 4: ≥ 419 cycles against 449 measured. Zen 5:
//! ≥ 128 + the cell (~130–160 there) ≈ 260–290 cycles against the 286 README's 15.2 µs
//! review makes at 3.77 GHz, so LSTM(32)'s one review is at this bound there, and issue 14's
//! aim of 6× ONNX Runtime's 76.1 µs (12.7 µs, 238 cycles) is below it: it needs a shorter
//! cell chain (the activations' latency), not a faster product.
//!
//! That floor holds for sums that run `j` in order. Tried on Zen 4 (a later session; not
//! kept): LSTM(32)'s step with the product split at `h`'s unit-vector boundary, so that a cell
//! could overlap products: every column summed over `h`'s first 16 units (the ones the last
//! step's cell wrote first), then, per unit vector, its four columns over the last 16 units
//! and right after them its cell (two chains per column, the accumulators in registers, no
//! loop left in the step). 476–477 against 450 cycles per step (`net_fma_share` latency row,
//! alternating builds): slower. Its µop bound is ~380 (the FMA pipe's 256 product FMAs and
//! ~120 of the cell's). Our reading, not measured (no PMU here): the overlap it needs runs
//! against program order, the cell's dependent µops sitting ahead of the next products and
//! filling the scheduler those would issue from; interleaving the cell's stages with product
//! FMAs by hand is what is left to try.
//!
//! Also tried there and not kept: the piecewise `σ` and `m·tanh` (no `exp`, no division; the
//! notebook latency kernel's, now with vector forms on AVX-512) in the one-sequence cell, every
//! cell. Cycles per step against the `exp` forms, two alternations: LSTM(32) 533–593 against
//! 450, LSTM(64) 2622–2893 against 2525–2532, GRU(32) 351 against 334–335, SimpleRNN(16) 105
//! against 114–116, SimpleRNN(64) 391–461 against 364: the eight permutes of each activation
//! cost more on this core's shuffle pipes than the shorter chain saves, except on the
//! smallest SimpleRNN.
//!
//! # One sequence where `U` outgrows L1: snake order (Zen 4, 2026-12-05)
//!
//! A one-sequence step reads all of `U` once, and where `U` is larger than L1 (LSTM(64):
//! 64 KiB; GRU(64): 48 KiB; a 32 KiB L1 on Zen 3 and Zen 4, 48 KiB on Zen 5) every step
//! read it in the same order, so each line had been evicted by the time it was read again:
//! the product alone took 2,355 cycles a step against its FMA bound of 1,024, about 28 bytes
//! from L2 per cycle (section above). Two changes, where `U` is over 32 KiB only:
//!
//! - **Snake order** ([`Tiles`], [`seq_product`]): the tiles (column panels) run
//!   forward on one step and in reverse on the next, so a step starts with the panels the last
//!   one read last, still in L1. A column's sum is the same whatever the tiles' order, so no
//!   bit changes; the parity is a thread-local, carried across calls, so a session stepping
//!   one token per call alternates too. 16 lanes take tiles of 8 vectors there (one tile of 16
//!   would leave nothing to reorder).
//! - **An odd row stride** ([`NetTables::lanes_row_stride`]): LSTM(64)'s 1 KiB rows put a
//!   panel's lines in a quarter of the L1's 64 sets, where the panel does not fit although L1
//!   would hold it; one line of zeros after each row spreads every panel over all sets.
//!
//! Measured (`examples/net_fma_share` latency rows, fastest of 0.4 s windows, builds
//! alternated in one shell, 2–3 runs each, AMD EPYC family 25 model 17, cycles per step at
//! 3.69 GHz; bits unchanged):
//!
//! ```text
//!                      before        snake + odd stride    snake alone (stride 1 KiB)
//!   AVX2    LSTM(64)   2782–2813     2446–2464 (−12 %)     2838–2899
//!           GRU(64)    2016–2036     1750–1818 (−12 %)     1758–1764
//!   AVX-512 LSTM(64)   2515–2525     2303–2332 (−8 %)      —
//!           GRU(64)    1846–1851     1735–1821 (−2..−6 %)  1877–1889
//! ```
//!
//! So the stride is what lets LSTM(64) keep its panels, and both are needed on AVX-512; at 32
//! units and below (`U` in L1) the rows measured within ±1 % and the code is the old one (the
//! tile list's run-time offsets measured slower there: AVX2 GRU(32) +30 %). The batch (4 or 6
//! rows sharing each load of `U`, so L2 is not its bound) gained nothing from the snake order
//! (LSTM(64) 1415 → 1432, AVX2 reset-before GRU(64) 1120 → 1492) and keeps one order.
//!
//! Also tried on that Zen 4 the same day, for the AVX2 one-sequence path, whose cell alone
//! (the product skipped) costs 273 cycles a step at LSTM(32) against AVX-512's 162 (product
//! alone 368 against 341), and not kept: the batch's staged cell (`cell_staged`, `R = 1`)
//! for LSTM and reset-after GRU of 4 vectors a gate or more: LSTM(32) 632 → 589 cycles per
//! step, LSTM(64) −3 %, but GRU(32) 470 → 611 in one build and 461 in another with the same
//! code for it: that row moves by 30 % with the layout of unrelated code (the tile list above
//! did the same to it), so a gain of a few per cent there cannot be told from placement; one
//! tile of 12 vectors and a two-chain tile of 4 instead of two tiles of 8 at LSTM(32): +5 %;
//! `Z` moved by 1, 2 or 3 KiB in the scratch (4K aliasing against the stack or the state):
//! no change.
//!
//! # The staged cell (replaced by the two-pass cell, below)
//!
//! Until 2026-12-05 the batch ran this cell on 16 lanes (LSTM of 9 units or more, reset-after
//! GRU of 16 or 17 and more) and for AVX2's reset-after GRU at the compile-time sizes; the
//! two-pass cell ("The cell in two passes") measured faster than it on every shape of Zen 4
//! and replaced it. Its record:
//!
//! Split on the Intel Xeon above (2026-12-03, one thread, 16 lanes), by running the product
//! without the cell and the cell without the product: the two add up to the whole step
//! (LSTM(32): 339 + 258 against 619 cycles per sequence-step in one run), so neither hides
//! the other. The product alone runs at about half the two FMA pipes' peak; the cell alone
//! is 2–3 times its µop count, because it hands the core one activation at a time: a chain
//! of ~20 dependent µops that ends in a `vdivps`, which holds this core's divider 10.9 cycles
//! (`benches/report/insn_latency.c`), 40 of them per block-step at LSTM(32).
//!
//! `cell_staged` runs the block's activations eight vectors at a time, stage by stage
//! (`sigmoid_batch_n`, `tanh_batch_n`: eight independent chains side by side in program
//! order; their reciprocal is the division, see `activations.rs`): one σ pass over every
//! gate vector of the block (the LSTM's `g` as `1 − 2σ(−2x)`, the same bits as the tanh
//! batch form), then `c'` (or the GRU candidate's input), then one tanh pass, the
//! intermediates parked in their spent slots of `Z`. A sequence's bits moved by a few ulps
//! against the vector-by-vector cell when AVX-512's reciprocal was `vrcp14ps` (largest
//! probability difference seen 6e-8; now every kernel divides), and they do not depend on
//! the rows around it.
//!
//! Measured in one process that alternates the two cells call by call (1,000 calls of 32
//! sequences × 200 tokens, fastest call of each; three runs): LSTM(16) −4 to −9 %, LSTM(32)
//! −4 % in two runs and +3 % in one, LSTM(64) −4 %, GRU(16) −13 %, GRU(32) −2 to −5 %,
//! GRU(64) −3 to −5 %. Elsewhere the same method measured it slower, and those shapes keep
//! the vector-by-vector cell: SimpleRNN +3 to +13 %, reset-before GRU +5 to +10 %, the
//! run-time sizes 8 and 17 +4 to +24 % (the round trip of each vector through `Z` lengthens
//! a short step), and AVX2 LSTM +5 to +9 % (there `recip` divides, so the bits are the
//! vector-by-vector cell's). AVX2's reset-after GRU was mixed over four runs (fastest call:
//! GRU(32) −5 to −20 %, GRU(16) −12 to +1 %, GRU(64) −3 to 0 %; median calls −3 to +5 %) and
//! keeps the old cell too. Not measured on Zen 5.
//!
//! On Zen 4 (AMD EPYC family 25 model 17, 2026-12-05), with one trampoline per shape (below),
//! AVX2's reset-after GRU takes the staged cell at 16, 32 and 64 units, four chains at a time
//! (their `x`, `n` and `r` fit the 16 `ymm` registers): GRU(16) 169 → 153 cycles per
//! sequence-step (−9 %), GRU(32) 439 → 427 (−3 %; 437 → 412 in another pair of builds),
//! GRU(64) 1279 → 1225 (−4 %), the same bits. A row alone (`R = 1`, a batch's short tail)
//! keeps the vector-by-vector cell (staged: +4 to +6 % on one row of GRU(16) and GRU(32)), and
//! so do the run-time sizes (17: +3 %, 100: +2 %; 40 to 80 gained 5 % in one build and were
//! not measured again). AVX2's LSTM stays vector-by-vector: four chains at a time measured +1
//! to +7 % there (LSTM(17) +13 %), eight +2 to +20 %.
//!
//! The run-time sizes were measured again after the state rows became whole vectors
//! ([`Rows`]; same machine, 2026-12-04, one process alternating the two cells call by call,
//! 96 sequences × 200 tokens, fastest of 40 calls, two runs), and now gain: LSTM(9, 12, 17,
//! 20, 24) −6 to −8 %, LSTM(40, 48, 80, 100) −0.3 to −2.5 %, GRU(17, 20, 24, 40) −5 %,
//! GRU(48, 80, 100) −2 to −4 %; one vector per gate (GRU(9), GRU(12)) stays mixed (−3 to
//! +6 %) and keeps the old cell, and 8 units or fewer run on 8 lanes (`Kernel::for_net`).
//!
//! Also measured then, same method: the folded input rows cost LSTM(64) 15 %, LSTM(32)
//! 6–7 %, GRU(64) 8 % (random ids against ids from a set of 7, same arithmetic); fetching
//! them two or three steps ahead instead of one changed nothing (±1 %), not fetching them
//! ahead at all was mixed (LSTM(16) −10 %, LSTM(32) and GRU(32) +4.5 %).
//!
//! # The vector-by-vector cell, skewed by one vector (Zen 4, 2026-12-05)
//!
//! Where a step keeps the vector-by-vector cell (AVX2's and the portable kernel's LSTM; the
//! reset-after GRU at the run-time sizes and for a row alone), each unit vector's chain is two
//! activations deep: its gates, then `tanh(c')` (the GRU: `r`, then the candidate's `tanh`).
//! A `perf record` (cpu-clock) of AVX2's LSTM(32) batch on this Zen 4 put 47 % of the samples
//! in the tile's 12-FMA loop (≈ 259 cycles per sequence-step against its FMA bound of 256: the
//! loop runs at the pipes' rate), ≈ 37 % in the cell (≈ 205 cycles for 20 activations), and
//! the single hottest instruction (9 % of the samples) right after `tanh(c')`'s division: the
//! cell waited on each vector's second activation. A C loop of independent iterations, each a
//! chain of 8 dependent FMAs, ran at 16 cycles an iteration on this core (two in flight, where
//! 8 would saturate the pipes): the out-of-order window holds about two such chains.
//!
//! The skewed cells (the batch's until the two-pass cells below replaced them; the
//! one-sequence path's still) write each vector's second activation and its
//! `h` after the next vector's gates in program order (software pipelining by one vector), so
//! the `tanh` the core issues has had its input for a whole vector's work. The same operations
//! on every lane, so the same bits (the staged-cell tests compare against these cells). Cycles
//! per sequence-step (`examples/net_fma_share`, one thread, fastest of two alternations):
//!
//! ```text
//!                    LSTM(8)  LSTM(16)  LSTM(17)  LSTM(32)  LSTM(64)   LSTM(100)
//!   AVX2     before  113–115  214–215   380       556–560   1646–1654  3924–3994
//!            after   105      193       346       528–537   1600       3811–3914
//!   portable before  285      590–592   1165–1174 1649–1668 4995–5000  13737–13950
//!            after   275–284  572–582   1133–1134 1591–1592 4909–4939  13146–13230
//!
//!                    GRU(8)   GRU(17)   GRU(100)  (reset-after, run-time sizes)
//!   AVX2     before  97–98    307–311   3051–3060
//!            after   96       295–301   2944–2993
//! ```
//!
//! AVX2's LSTM(32) is 50 % of the FMA peak with it (4,224 MACs ÷ 16 per cycle ÷ 528), against
//! issue 14's 55 %. The GRU's compile-time sizes (the staged cell on both ISAs) and AVX-512's
//! LSTM (staged) do not run this code.
//!
//! The one-sequence path ([`seq_step`]) writes its LSTM and reset-after GRU cells the same
//! way. One review (`net_fma_share` latency rows, cycles per step, two alternations): AVX2
//! LSTM(16) 238–245 → 216, LSTM(32) 617–618 → 584, LSTM(64) 2422–2431 → 2342–2358, GRU(32)
//! 462–463 → 438–439, GRU(64) 1745–1748 → 1688–1694, but GRU(16) 159 → 162 (+2 %, two
//! vectors a gate); AVX-512 within ±1 % (LSTM(32) 445–446 → 445–449), the portable kernel's
//! GRU(16) +2 % and the rest within ±1 %. The bits were checked once beyond the tests: a
//! program hashed every final state of a batch of 29 sequences and of each sequence alone, 4
//! cells × 10 sizes from 3 to 100 × 2 weight scales × every kernel, before and after: equal.
//!
//! # The cell in two passes (Zen 4, 2026-12-05)
//!
//! The batch's LSTM and reset-after GRU cells ([`lstm_cell_two_pass`], [`gru_cell_two_pass`];
//! every ISA, every size, a row alone too) now run in two passes over the block: the first
//! computes, for every row and unit vector, the activations whose results feed the next link
//! (the LSTM's `i`, `f`, `g` and `c'`; the GRU's `r` and the candidate's input, parked in its
//! spent slot of `Z`), the second the rest (the LSTM's `o`, `tanh(c')` and `h`; the GRU's `z`,
//! candidate `tanh` and `h`). Within a pass no activation waits on another, so the core always
//! has whole chains ready; in the skewed cell (above) each vector's `tanh(c')` still came a
//! vector after its own gates, and the staged cell sent every vector through `Z` once more
//! (why it is slower here was not taken apart). The same operations on every lane, so the same
//! bits (the tests hold both cells to a cell written vector by vector).
//!
//! Found with a C model of AVX2's LSTM(32) cell (6 rows × 4 unit vectors, the kernels'
//! activation code, fastest of 30 windows, cycles per block-step of 120 activations): skewed
//! 1,181–1,201, two passes with `o` in the first 1,013–1,020, `o` in the second 994–997, every
//! activation independent (no `c'`, a floor) 944–955, plain vector by vector 1,390–1,397.
//! The same model showed why the cell cannot hide under the product on this core: with one
//! activation written between every two `j` of a 6 × 2 tile (or its four stages spread over
//! four), the two took 2,930–3,360 cycles against 2,465–2,510 one after the other. Each
//! `vdivps ymm` costs about one cycle of both FMA pipes here (10 independent FMA chains: 5.0
//! cycles an iteration, with one division 6.0–6.1, with two 7.1), so the FMA pipes bound the
//! product and the cell alike and there is no idle pipe for the other to fill.
//!
//! Measured (`examples/net_fma_share`, one thread, fastest of two alternations of the builds,
//! cycles per sequence-step at 3.69 GHz; the share of the 16-MAC FMA peak in brackets):
//!
//! ```text
//!                   before                 after                 before            after
//!   AVX2   LSTM(8)    105               97 (−7 %)     GRU(8)    118 (or 96)       89
//!          LSTM(16)   193              181 (−6 %)     GRU(16)   147              126 (−14 %)
//!          LSTM(17)   346              338 (−2 %)     GRU(17)   322 (or 290)     272
//!          LSTM(32)   527 (50.1 %)     497 (53.1 %)   GRU(32)   404 (49.0 %)     359 (55.1 %)
//!          LSTM(64)  1607 (64.7 %)    1531 (67.9 %)   GRU(64)  1242 (62.8 %)    1125 (69.3 %)
//!          LSTM(100) 3752             3739            GRU(100) 2955             2889 (−2 %)
//!   AVX-512 LSTM(16)  165              150 (−9 %)     GRU(16)   116              103 (−11 %)
//!          LSTM(17)   355              319 (−10 %)    GRU(17)   295              270 (−8 %)
//!          LSTM(32)   446 (59.2 %)     421 (62.7 %)   GRU(32)   319 (62.0 %)     303 (65.2 %)
//!          LSTM(64)  1442 (72.1 %)    1365 (76.2 %)   GRU(64)  1030 (75.7 %)     996 (78.3 %)
//!          LSTM(100) 3885             3602 (−7 %)     GRU(100) 2868             2769 (−3 %)
//!   portable LSTM    −1 to −4 %                       GRU      −15 % (8) to +0.1 % (64)
//! ```
//!
//! On 8 lanes at 32 and 64 units the second pass's gate (the LSTM's `o`, the GRU's `z`) runs in
//! the first pass instead, parked in its slot of `Z` (`out_gate_first`). Same method, two
//! alternations against the cells above: AVX2 LSTM(32) 498–499 → 494–498, LSTM(64) 1545–1563
//! → 1517–1520 (68.6 %), GRU(32) 359–360 → 355–357 (55.7 %), GRU(64) 1131–1162 → 1107–1111
//! (70.4 %), −1 to −2 % (a first build of it: −1.3 to −2.6 %); the portable kernel's 32 and 64
//! within ±0.3 %. At 8, 16, 17 and 100 units, and on 16 lanes, it measured 0 to +9 %.
//!
//! (AVX-512's LSTM(8) and GRU(8) run the AVX2 body, `Kernel::for_net`.) The SimpleRNN, the
//! reset-before GRU and the one-sequence path do not run this code and moved within ±1 %.
//! GRU(8) and GRU(17) on 8 lanes measured either of two speeds: from one process to the next
//! with the same binary before (the figures in brackets), and after, 88 or 110 cycles for
//! GRU(8) in builds whose code for it is the same (one differed only in the one-sequence
//! LSTM's cell); AVX-512's LSTM(100) moved by 7 % the same way: something in their placement,
//! not the cell. So a change of 1 or 2 % at one size is only believed where both alternations
//! and a second build agree.
//!
//! Also tried and not kept: the one-sequence LSTM in two passes as well (latency forms):
//! LSTM(16) −2 to −6 %, LSTM(32) ±0.5 %, LSTM(64) +0.5 to +2 %. In the C model, dividing once
//! per link instead of once per activation (`c' = (c·d_i·d_g + (d_g − 2)·d_f)/(d_f·d_i·d_g)`
//! with `d = 1 + e^…`, and `h = (d_c − 2)/(d_o·d_c)`) took the cell from 994–1,001 to 935–939
//! cycles, −6 %; not built, as it changes the bits and the error (the clamps would have to
//! keep the products finite).
//!
//! # The fused LSTM cell (Golden Cove, 2026-12-06)
//!
//! The two-pass LSTM cell now runs the notebook kernel's fused cell
//! (`activations::lstm_cell_c_batch_n`, `lstm_cell_h_from_d_batch_n`; `simd.rs`, "The fused
//! cell"): the first pass computes `c'` from the three gates' `1 + exp` with one division, the
//! second `h` from `D_o = 1 + e^(−o)` and `c'` with one more. That is two divisions a unit
//! instead of five. With `out_gate_first` the first pass parks `D_o` in `o`'s spent slot of
//! `Z`. The values move by ~1e-7; the tests still hold the two-pass cell to a cell written
//! vector by vector, bit for bit. The single-review path (`sigmoid_latency`,
//! `tanh_times_latency`) and training keep the activations one by one.
//!
//! Measured on the Intel Xeon (CPUID family 6 model 167) with `examples/net_fma_share 1
//! lstm`, main's binary and the new one alternating, two runs each. Cycles per sequence-step,
//! one thread, 512 sequences of 200 tokens:
//!
//! ```text
//!   units                   8          16         17         32         64           100
//!   avx512    before     89.5–90.3  117.2–119  271–272    313–314    1127–1191    3067–3089
//!             fused      87.5–89.2  103.3–104  253–254    289–294    1050–1088    2913–3031
//!   avx2-fma  before     89.2–89.9  174–176    322–323    492–495    1675–1695    4298–4452
//!             fused      85.8–87.7  172.5–173  315        482.5      1661–1669    4293–4410
//! ```
//!
//! AVX-512 gains 2 % at 8 units and 6–12 % from 16 to 64 (a zmm `vdivps` is three port µops
//! and ~10.6 cycles of this core's divider). AVX2 gains 1–3 %. The portable kernel (SSE) moves
//! by −3 % at 16 units and within ±2 % elsewhere. Not measured on AMD's cores.
//!
//! # One trampoline per shape (Zen 4, 2026-12-05)
//!
//! [`by_shape`] picks the shape's const parameters before the dispatch door, not inside it:
//! each operation at each shape (`net_ops::AtShape`) is a trampoline of its own, so the body
//! of one shape is compiled as one function. Before, every shape of an operation was inlined
//! into one trampoline per ISA (the batch's: 256–282 KiB of machine code), and a shape's speed
//! moved with code elsewhere in that function: AVX2's reset-after GRU(32) batch ran 418 or
//! 476 cycles per sequence-step with the same code for it, depending on whether the LSTM's
//! arm took the staged cell. Measured (`examples/net_fma_share`, one thread, AMD EPYC family
//! 25 model 17, fastest of two alternations of the builds, cycles per sequence-step; the bits
//! do not change):
//!
//! ```text
//!                          one function   one per shape
//!   AVX2    LSTM(8)          134             117    (−13 %)
//!           LSTM(17)         447             402    (−10 %)
//!           GRU(16)          185             169    (−9 %)
//!           GRU-v1(17)       294             246    (−16 %)
//!           GRU-v1(100)      3954            2765   (−30 %)
//!           LSTM(32)         565             572    (+1 %)
//!           GRU-v1(8)        78              81     (+4 %)
//!   AVX-512 LSTM(8)          134             117    (−13 %)
//!           LSTM(17)         450             356    (−21 %)
//!           LSTM(100)        4162            3897   (−6 %)
//!           GRU-v1(17, 100)                  −15 %, −11 %
//!           GRU-v1(8, 16)                    +4 %, +3 %
//!   the other rows (16 to 100 units, every cell, both ISAs)   −7 to +1 %
//! ```
//!
//! One review (the latency rows) moved by −5 to +2 %. Code placement still moves some rows
//! by a few per cent from one build to the next (a function's address changes with the code
//! before it: AVX2 GRU(32) measured 412 and 427 in two builds of the same source), but no
//! longer with the code of the other shapes' bodies.
//!
//! # Cache-line alignment
//!
//! `U` ([`NetTables::recurrent_lanes`]), the input table and the scratch (`Z` first in it) start a
//! 64-byte line (`LineFloats` in `kernels/lines.rs`, `net_ops::with_scratch`), so every
//! whole-vector load and store of them touches one line. Before, they were `Vec<f32>`s, on whatever
//! 16-byte boundary malloc gave them (a large one mapped on its own: 16 bytes past a line), and
//! where one was off a line, every 16-lane vector load of `U` and of an input row split across two
//! lines. Measured on an Intel Xeon (family 6 model 207, 2 cores, KVM; 2026-12-03) in one process
//! alternating call by call tables and scratch on a line boundary and the same ones 16, 32 or 48
//! bytes past it, fastest of 100–150 calls of 96 sequences × 200 tokens, one thread; bits
//! identical. 16 lanes: LSTM(16) −9..−13 %, LSTM(32) −4..−16 %, LSTM(64) −25..−28 %, GRU(16)
//! −5..−11 %, GRU(32) −5..−6 %, GRU(64) −23..−25 %, SimpleRNN(16, 32, 64) −5 %. 8 lanes (AVX2 on
//! the same machine, 16 bytes off): −2..−5 %. At 64 units `U` (64 KiB) streams from L2 every
//! block-step, where a split load fetches a fifth line for every four.

// Index loops over tiles read like the sums they compute.
#![allow(clippy::needless_range_loop)]

use super::activations::{
    lstm_cell_c_batch_n, lstm_cell_d_batch_n, lstm_cell_h_from_d_batch_n, sigmoid, sigmoid_latency,
    tanh, tanh_times_latency,
};
use super::isa::Isa;
use crate::net::{Cell, NetPadCache, NetTables, leading_pads, reference};
use crate::tokfile::TokenIds;

/// The cell as a const parameter.
pub(crate) const RNN: u8 = 0;
pub(crate) const LSTM: u8 = 1;
/// GRU, `reset_after = true`.
pub(crate) const GRU_RA: u8 = 2;
/// GRU, `reset_after = false`.
pub(crate) const GRU_RB: u8 = 3;

/// Most sequences in a batch block (the `R` of every ISA's tiles).
const MAX_ROWS: usize = 6;

/// Floats of scratch the bodies need for `units` units on any ISA: `R` rows of `h`, `c` and
/// `r ⊙ h` (`p ≤ pad(H)` each, see [`Rows`]) and of `Z` (`G·p ≤ 4·pad(H)`). The caller
/// provides it (the bodies never allocate, and keep nothing large on the stack: a build without
/// optimisation gives every inlined local a slot of its own, so a body's arrays would add up
/// there; see `tests/thread_stack.rs`).
pub(crate) fn scratch_floats(units: usize) -> usize {
    let pad = units.div_ceil(NetTables::LANE_PAD) * NetTables::LANE_PAD;
    MAX_ROWS * 7 * pad
}

/// Floats of scratch the one-sequence path ([`Steps`]) needs for `units` units on any ISA: `Z`
/// (`G·p ≤ 4·pad(H)`), `r ⊙ h` (`p`), and `h` and `c` padded to whole vectors (`p` each).
pub(crate) fn steps_scratch_floats(units: usize) -> usize {
    7 * units.div_ceil(NetTables::LANE_PAD) * NetTables::LANE_PAD
}

/// `u32` ids of scratch the bodies need for sequences of `seq_len`: a batch block's
/// sequences widened from `u16` (`R · seq_len`), then a window's order ([`PAD_SORT_WINDOW`]).
/// The stepping path widens in chunks of whatever it is given (at least one id).
pub(crate) fn scratch_ids(seq_len: usize) -> usize {
    MAX_ROWS * seq_len + PAD_SORT_WINDOW
}

/// The batch takes its blocks from windows of this many sequences sorted by leading pads, so
/// that a block's start (its sequences' *fewest* pads) is close to each one's own. On the IMDB
/// test split at length 200 (41 pads on average), blocks of 4 consecutive reviews step 97 % of
/// the positions, blocks from sorted windows of 64, 128 or 256 reviews 81 %, 80.5 % and 80 %
/// (every review its own start: 79 %). A sequence's bits do not depend on its block (see
/// [`Batch`]), so the order does not show in the results. A multiple of both block sizes (4
/// and 6), as are the scorer's chunks ([`crate::net::score::CHUNK_ROWS`]).
///
/// Measured (AMD EPYC family 25 model 17, Zen 4, 2 threads, 2026-12-05;
/// `examples/net_padded_throughput`: the IMDB test split, `num_words` 5000, length 200;
/// Embedding(5000, 64), fastest of 5 passes, two alternations): LSTM(32) 82.0–82.1k →
/// 99.2–99.8k reviews/s on AVX-512, 62.9–63.2k → 78.8–79.5k on AVX2; GRU(32) 110.0–110.2k →
/// 135.5–135.9k and 82.0–83.9k → 100.8–101.1k; the same bits. (In an earlier run, windows of
/// 120 measured 1–2 % faster than 128 on AVX2.)
pub(crate) const PAD_SORT_WINDOW: usize = 120;

/// `order[..n]`: the indices `0..n` of the sequences `w0..w0 + n` of `seqs`, ordered by their
/// leading pads (ties by index), each as `pads << 16 | index`. `n ≤ PAD_SORT_WINDOW` and
/// `seq_len ≤ 65,535` (the spec's bound is 4,096).
fn pad_order(seqs: TokenIds<'_>, len: usize, w0: usize, order: &mut [u32]) {
    const { assert!(crate::net::MAX_SEQ_LEN < 1 << 16 && PAD_SORT_WINDOW <= 1 << 16) };
    for (k, o) in order.iter_mut().enumerate() {
        let s = seqs.slice((w0 + k) * len..(w0 + k + 1) * len);
        let pads = match s {
            TokenIds::U16(s) => leading_pads(s),
            TokenIds::U32(s) => leading_pads(s),
        };
        *o = (pads as u32) << 16 | k as u32;
    }
    order.sort_unstable();
}

/// The ids `at` of `seqs` as `u32`: borrowed if they are `u32`, else widened into `buf`.
#[inline(always)]
fn as_u32<'a>(seqs: TokenIds<'a>, at: std::ops::Range<usize>, buf: &'a mut [u32]) -> &'a [u32] {
    match seqs {
        TokenIds::U32(s) => &s[at],
        TokenIds::U16(s) => {
            let buf = &mut buf[..at.len()];
            for (d, &v) in buf.iter_mut().zip(&s[at]) {
                *d = u32::from(v);
            }
            buf
        }
    }
}

#[inline(always)]
const fn gates(cell: u8) -> usize {
    match cell {
        RNN => 1,
        LSTM => 4,
        _ => 3,
    }
}

/// A shape's geometry on one ISA.
#[derive(Clone, Copy, Debug)]
struct Geo {
    /// Units.
    h: usize,
    /// Vectors per gate block.
    nv: usize,
    /// `nv · LANES`: the gate stride of a `Z` row (and the row stride of `r ⊙ h`).
    p: usize,
    /// `G · p`: the row stride of `Z`.
    zs: usize,
    /// The gate stride of a row of `U` ([`NetTables::padded_units`]).
    pu: usize,
    /// The row stride of `U` ([`NetTables::lanes_row_stride`]: `G · pu`, or one line more).
    us: usize,
}

#[inline(always)]
fn geo<I: Isa, const HC: usize, const CELL: u8>(units: usize) -> Geo {
    let h = if HC != 0 { HC } else { units };
    let nv = h.div_ceil(I::LANES);
    let p = nv * I::LANES;
    let pu = h.div_ceil(NetTables::LANE_PAD) * NetTables::LANE_PAD;
    Geo {
        h,
        nv,
        p,
        zs: gates(CELL) * p,
        pu,
        us: NetTables::lanes_row_stride(h, gates(CELL)),
    }
}

impl Geo {
    /// Whether `U` is larger than a 32 KiB L1 (the smallest of the cores we target), so that
    /// it streams from L2 every step unless its tiles run in snake order ([`Tiles`]).
    #[inline(always)]
    fn u_over_l1(&self) -> bool {
        self.h * self.us * size_of::<f32>() > 32 << 10
    }
}

thread_local! {
    /// Whether this thread's next one-sequence step runs its tiles in reverse ([`Tiles`]).
    static SNAKE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A product's tiles, `(first column vector, width)` in the order they were pushed, handed out
/// forward or in reverse.
///
/// **Snake order.** Every step reads all of `U`, one column panel per tile. Where `U` is
/// larger than L1, a step in one order leaves the panels it read last in L1 and evicts those
/// it read first; the next step reading the same order then misses on every line, L2
/// bandwidth bounding the step (LSTM(64): 64 KiB a step). Alternating the order every step
/// starts each step with the panels the last one left in L1. A column's sum is the same
/// whatever order the tiles run in, so the bits do not change.
struct Tiles {
    at: [(usize, usize); Tiles::MAX],
    n: usize,
    next: usize,
}

impl Tiles {
    /// The most tiles of a one-sequence product: 128 column vectors (LSTM(256), 8 lanes) in
    /// 16 tiles of 8; a product whose width is not a multiple of 8 adds at most two narrower
    /// ones (7 = 6 + 1).
    const MAX: usize = 24;

    #[inline(always)]
    fn new(from: usize) -> Tiles {
        Tiles {
            at: [(0, 0); Tiles::MAX],
            n: 0,
            next: from,
        }
    }

    /// Column vectors from the next tile's first to `to`.
    #[inline(always)]
    fn left(&self, to: usize) -> usize {
        to - self.next
    }

    #[inline(always)]
    fn push(&mut self, width: usize) {
        self.at[self.n] = (self.next, width);
        self.n += 1;
        self.next += width;
    }

    /// Tile `i` of `n`, counted from the last if `rev`.
    #[inline(always)]
    fn get(&self, i: usize, rev: bool) -> (usize, usize) {
        self.at[if rev { self.n - 1 - i } else { i }]
    }
}

/// `n ≤ LANES` floats of `xs` (a whole-vector load when `n = LANES`).
#[inline(always)]
pub(super) fn ld<I: Isa>(isa: I, xs: &[f32], n: usize) -> I::V {
    if n == I::LANES {
        isa.load_slice(xs)
    } else {
        isa.load_partial(&xs[..n])
    }
}

/// The first `n ≤ LANES` lanes of `v` into `xs`.
#[inline(always)]
pub(super) fn st<I: Isa>(isa: I, v: I::V, xs: &mut [f32], n: usize) {
    if n == I::LANES {
        isa.store_slice(v, xs);
    } else {
        isa.store_partial(v, &mut xs[..n]);
    }
}

/// Column vector `k` (vector `k mod nv` of gate `k / nv`): its offset in a row of `U`, and
/// its accumulator's start for token `tok`, the folded input (for a reset-after GRU's
/// candidate block, the recurrent bias `b_rh`, the input being added after the reset gate).
#[inline(always)]
fn column<I: Isa, const CELL: u8>(
    isa: I,
    t: &NetTables,
    geo: Geo,
    k: usize,
    tok: usize,
) -> (usize, I::V) {
    let l = I::LANES;
    let (g, v) = (k / geo.nv, k % geo.nv);
    let from: &[f32] = if CELL == GRU_RA && g == 2 {
        &t.rec_bias()[v * l..]
    } else {
        &t.input_row(tok)[g * geo.h + v * l..]
    };
    (g * geo.pu + v * l, ld(isa, from, l.min(geo.h - v * l)))
}

/// A tile's columns as one panel of `U`'s rows where they lie side by side: the first
/// column's offset in a row, the floats the panel spans, and each column's offset in it; else
/// `(0, 0, uoff)`, the offsets in the whole row.
///
/// **Why.** At the sizes not fixed at compile time a column's offset in `U` is a run-time
/// value, and a loop reading `C` columns at `C` such offsets kept `C` pointers (two rows a
/// pass in [`seq_tile`]: `2C`) stepping through `U`, more than the registers hold: a
/// one-sequence GRU(24) step (AVX-512, 6 columns) ran ~60 instructions of pointer moves and
/// spills beside its 12 FMAs. A panel is one slice of each row, its columns at constant
/// offsets in it.
///
/// With 16 lanes a gate block of `U` is `p` floats wide ([`NetTables::LANE_PAD`] is 16), so
/// every tile is a panel. With 8 lanes a tile is one where `⌈H/8⌉` is even or the tile does
/// not cross a gate block, not otherwise (a vector of padding after each gate block); a
/// run-time choice between two loops there tripled the `ci` build of the library (156 → 465 s
/// on Zen 4), and AVX2's one review did not move with it (GRU(24), LSTM(24)), so 8 lanes keep
/// the offsets.
#[inline(always)]
fn panel<I: Isa, const C: usize>(uoff: &[usize; C]) -> (usize, usize, [usize; C]) {
    let l = I::LANES;
    if l != NetTables::LANE_PAD {
        return (0, 0, *uoff);
    }
    let mut offs = [0; C];
    for (c, o) in offs.iter_mut().enumerate() {
        debug_assert_eq!(uoff[c], uoff[0] + c * l, "not side by side");
        *o = c * l;
    }
    (uoff[0], C * l, offs)
}

/// One register tile: `Z[r][k0 + c] = init + Σ_j src[r][j] · U[j][k0 + c]` for `R` rows and
/// `C` column vectors (vector `k` is vector `k mod nv` of gate `k / nv`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile<I: Isa, const CELL: u8, const R: usize, const C: usize>(
    isa: I,
    t: &NetTables,
    geo: Geo,
    toks: &[usize; R],
    src: &[f32],
    ss: usize,
    k0: usize,
    z: &mut [f32],
) {
    let l = I::LANES;
    let zero = isa.splat(0.0);
    // Each row's input row looked up once, each column's offsets once (not once per row and
    // column vector): LSTM(32) −12 % on Zen 4 (module docs).
    let mut inrow = [&src[..0]; R];
    for r in 0..R {
        inrow[r] = t.input_row(toks[r]);
    }
    let mut uoff = [0usize; C];
    let mut ioff = [0usize; C];
    let mut width = [0usize; C];
    let mut from_bias = [false; C];
    for c in 0..C {
        let (g, v) = ((k0 + c) / geo.nv, (k0 + c) % geo.nv);
        uoff[c] = g * geo.pu + v * l;
        ioff[c] = g * geo.h + v * l;
        width[c] = l.min(geo.h - v * l);
        from_bias[c] = CELL == GRU_RA && g == 2;
    }
    let mut acc = [[zero; C]; R];
    for r in 0..R {
        for c in 0..C {
            acc[r][c] = if from_bias[c] {
                ld(isa, &t.rec_bias()[ioff[c] - 2 * geo.h..], width[c])
            } else {
                ld(isa, &inrow[r][ioff[c]..], width[c])
            };
        }
    }
    let mut rows = [src; R];
    for r in 0..R {
        rows[r] = &src[r * ss..r * ss + geo.h];
    }
    let u = &t.recurrent_lanes()[..geo.h * geo.us];
    let (at, span, offs) = panel::<I, C>(&uoff);
    for (j, urow) in u.chunks_exact(geo.us).enumerate() {
        let urow = if span > 0 { &urow[at..at + span] } else { urow };
        let mut uv = [zero; C];
        for c in 0..C {
            uv[c] = isa.load_slice(&urow[offs[c]..]);
        }
        for r in 0..R {
            let b = isa.splat(rows[r][j]);
            for c in 0..C {
                acc[r][c] = isa.mul_add(b, uv[c], acc[r][c]);
            }
        }
    }
    for r in 0..R {
        for c in 0..C {
            isa.store_slice(acc[r][c], &mut z[r * geo.zs + (k0 + c) * l..]);
        }
    }
}

/// One sequence's tile of `C` column vectors with two accumulator chains per column (even
/// and odd `j`, added at the end), for the products bound by their chains' latency (`H`
/// dependent FMAs each; see [`seq_product`]): halving the chains shortens the step.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn seq_tile<I: Isa, const CELL: u8, const C: usize>(
    isa: I,
    t: &NetTables,
    geo: Geo,
    tok: usize,
    src: &[f32],
    k0: usize,
    z: &mut [f32],
) {
    let l = I::LANES;
    let zero = isa.splat(0.0);
    let mut even = [zero; C];
    let mut odd = [zero; C];
    let mut uoff = [0usize; C];
    for c in 0..C {
        (uoff[c], even[c]) = column::<I, CELL>(isa, t, geo, k0 + c, tok);
    }
    let hs = &src[..geo.h];
    let u = &t.recurrent_lanes()[..geo.h * geo.us];
    let (at, span, offs) = panel::<I, C>(&uoff);
    let mut pairs = u.chunks_exact(2 * geo.us);
    for (j2, urows) in (&mut pairs).enumerate() {
        let (u0, u1) = urows.split_at(geo.us);
        let (u0, u1) = if span > 0 {
            (&u0[at..at + span], &u1[at..at + span])
        } else {
            (u0, u1)
        };
        let b0 = isa.splat(hs[2 * j2]);
        let b1 = isa.splat(hs[2 * j2 + 1]);
        for c in 0..C {
            even[c] = isa.mul_add(b0, isa.load_slice(&u0[offs[c]..]), even[c]);
            odd[c] = isa.mul_add(b1, isa.load_slice(&u1[offs[c]..]), odd[c]);
        }
    }
    let last = pairs.remainder();
    if !last.is_empty() {
        let last = if span > 0 { &last[at..at + span] } else { last };
        let b = isa.splat(hs[geo.h - 1]);
        for c in 0..C {
            even[c] = isa.mul_add(b, isa.load_slice(&last[offs[c]..]), even[c]);
        }
    }
    for c in 0..C {
        isa.store_slice(isa.add(even[c], odd[c]), &mut z[(k0 + c) * l..]);
    }
}

/// Column vectors `from..to` of `Z` for `R` rows, in tiles of `C` vectors (the rest in a tile
/// of 2, then one by one).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn product<I: Isa, const CELL: u8, const R: usize, const C: usize>(
    isa: I,
    t: &NetTables,
    geo: Geo,
    toks: &[usize; R],
    src: &[f32],
    ss: usize,
    from: usize,
    to: usize,
    z: &mut [f32],
) {
    let mut k = from;
    while k + C <= to {
        tile::<I, CELL, R, C>(isa, t, geo, toks, src, ss, k, z);
        k += C;
    }
    if C > 2 && k + 2 <= to {
        tile::<I, CELL, R, 2>(isa, t, geo, toks, src, ss, k, z);
        k += 2;
    }
    while k < to {
        tile::<I, CELL, R, 1>(isa, t, geo, toks, src, ss, k, z);
        k += 1;
    }
}

/// The state of `R` sequences and the step's scratch.
///
/// In the batch a row of the state is `p` floats, whole vectors, its lanes past `H` zero (and
/// kept zero by the cell: their `Z` lanes are 0, since their input lanes are loaded as 0 and
/// their columns of `U` are 0), so the cell writes the state with whole-vector stores. A
/// masked store of the last vector of a row, where `H` is not a multiple of the lanes, is not
/// forwarded to the next step's loads of `h[j]` (measured on an Intel Xeon, family 6 model
/// 207, 8 lanes, per sequence-step: LSTM(9) 84 → 74 ns, LSTM(1) 45 → 34). The one-sequence
/// path ([`Steps`], `R = 1`) pads the same way where the last vector is partial and a call has
/// more than one step: `h` and `c` copied into rows of `p` floats once per call and back
/// after. A call of one step keeps the caller's state of `H` floats, its last vector through
/// masked loads and stores: the copies cost it more than they save. (An earlier form padded
/// every call at every size and measured slower: SimpleRNN(40) one review 15.6 → 22.6 µs, 8
/// lanes, and a token a call LSTM(20) 148 → 170 ns.) Measured (AMD EPYC Zen 4, family 25
/// model 17, 2026-12-07, AVX-512, Embedding(500, 16), 100 tokens, fastest of 2,000, the
/// builds alternating, the same bits), ns a step with all tokens in one call: SimpleRNN(10)
/// 30.3 → 26.4, LSTM(12) 61.0 → 57.0, LSTM(20) 124.7 → 120.6; a token a call 44.2 → 45.6–46.1,
/// 85 → 85–87, 148 → 147–149; one review (Embedding(5000, 64), length 200) LSTM(12) 11.9 →
/// 11.2–11.3 µs, LSTM(24) and the GRUs at 20 and 24 units within ±3 %.
pub(crate) struct Rows<'a> {
    /// `[R, p]` in the batch, `[H]` in the one-sequence path.
    pub h: &'a mut [f32],
    /// As `h`, for an LSTM; unused otherwise.
    pub c: &'a mut [f32],
    /// `[R, G·p]`.
    pub z: &'a mut [f32],
    /// `[R, p]`: `r ⊙ h` of a reset-before GRU, unused otherwise.
    pub rh: &'a mut [f32],
}

/// `row` (`p` floats) from a state of `H` floats, its lanes past `H` zero (see [`Rows`]).
#[inline(always)]
fn load_state(row: &mut [f32], state: &[f32]) {
    let (head, tail) = row.split_at_mut(state.len());
    head.copy_from_slice(state);
    tail.fill(0.0);
}

/// One step of `R` sequences with tokens `toks` (see the module docs); `out_gate_first` as in
/// [`lstm_cell_two_pass`]. Panics if a token is not a row of the input table.
#[inline(always)]
fn block_step<I: Isa, const CELL: u8, const R: usize, const C: usize>(
    isa: I,
    t: &NetTables,
    geo: Geo,
    toks: &[usize; R],
    s: &mut Rows<'_>,
    out_gate_first: bool,
) {
    let (l, nv, p, zs) = (I::LANES, geo.nv, geo.p, geo.zs);
    let first = if CELL == GRU_RB {
        2 * nv
    } else {
        gates(CELL) * nv
    };
    product::<I, CELL, R, C>(isa, t, geo, toks, s.h, p, 0, first, s.z);
    if CELL == GRU_RB {
        for r in 0..R {
            let z = &s.z[r * zs..(r + 1) * zs];
            let hr = &s.h[r * p..(r + 1) * p];
            let rh = &mut s.rh[r * p..(r + 1) * p];
            for v in 0..nv {
                let lo = v * l;
                let reset = sigmoid(isa, isa.load_slice(&z[p + lo..]));
                let rv = isa.mul(reset, isa.load_slice(&hr[lo..]));
                isa.store_slice(rv, &mut rh[lo..]);
            }
        }
        product::<I, CELL, R, C>(isa, t, geo, toks, s.rh, p, 2 * nv, 3 * nv, s.z);
    }
    if CELL == LSTM {
        return lstm_cell_two_pass::<I, R>(isa, geo, s, out_gate_first);
    }
    if CELL == GRU_RA {
        return gru_cell_two_pass::<I, R>(isa, t, geo, toks, s, out_gate_first);
    }
    for r in 0..R {
        let z = &s.z[r * zs..(r + 1) * zs];
        let hr = &mut s.h[r * p..(r + 1) * p];
        for v in 0..nv {
            let lo = v * l;
            match CELL {
                RNN => isa.store_slice(tanh(isa, isa.load_slice(&z[lo..])), &mut hr[lo..]),
                _ => {
                    // A reset-before GRU (the `r ⊙ h` product is done): the gate and the
                    // candidate side by side, one activation deep.
                    let zz = sigmoid(isa, isa.load_slice(&z[lo..]));
                    let cand = tanh(isa, isa.load_slice(&z[2 * p + lo..]));
                    let old = isa.load_slice(&hr[lo..]);
                    let new = gru_update(isa, zz, old, cand);
                    isa.store_slice(new, &mut hr[lo..]);
                }
            }
        }
    }
}

/// The LSTM cell of `R` rows after the product, in two passes over the block, fused as the
/// notebook kernel's (module docs, "The fused LSTM cell"): first each unit vector's
/// `c' = f·c + i·g` from its three gates, then each vector's `h = o·tanh(c')`. Every chain of
/// a pass is independent of the others in that pass, so the out-of-order core always has
/// whole chains ready to issue, where a cell written vector by vector (even skewed by one
/// vector) left it waiting on each vector's `tanh(c')` (module docs, "The cell in two
/// passes"). With `out_gate_first`, `o`'s `1 + e^(−o)` runs in the first pass instead, parked
/// in its spent slot of `Z` (faster on 8 lanes at 32 and 64 units, slower elsewhere, as
/// measured before the fusion). The same operations on every lane as a vector-by-vector cell,
/// so the same bits.
#[inline(always)]
fn lstm_cell_two_pass<I: Isa, const R: usize>(
    isa: I,
    geo: Geo,
    s: &mut Rows<'_>,
    out_gate_first: bool,
) {
    let (l, nv, p, zs) = (I::LANES, geo.nv, geo.p, geo.zs);
    for r in 0..R {
        let z = &mut s.z[r * zs..(r + 1) * zs];
        for v in 0..nv {
            let (lo, at) = (v * l, r * p + v * l);
            if out_gate_first {
                let d = lstm_cell_d_batch_n(isa, [isa.load_slice(&z[3 * p + lo..])]);
                isa.store_slice(d[0], &mut z[3 * p + lo..]);
            }
            let (i, f, g) = (
                [isa.load_slice(&z[lo..])],
                [isa.load_slice(&z[p + lo..])],
                [isa.load_slice(&z[2 * p + lo..])],
            );
            let mut c = [isa.load_slice(&s.c[at..])];
            lstm_cell_c_batch_n(isa, i, f, g, &mut c);
            isa.store_slice(c[0], &mut s.c[at..]);
        }
    }
    for r in 0..R {
        let z = &s.z[r * zs..(r + 1) * zs];
        for v in 0..nv {
            let (lo, at) = (v * l, r * p + v * l);
            let o = [isa.load_slice(&z[3 * p + lo..])];
            let d = if out_gate_first {
                o
            } else {
                lstm_cell_d_batch_n(isa, o)
            };
            let h = lstm_cell_h_from_d_batch_n(isa, d, [isa.load_slice(&s.c[at..])]);
            isa.store_slice(h[0], &mut s.h[at..]);
        }
    }
}

/// The reset-after GRU cell of `R` rows after the product, in two passes over the block as
/// [`lstm_cell_two_pass`]: first each unit vector's `r` and the candidate's input
/// `r·(U_h·h + b_rh) + x_h` (parked in its spent slot of `Z`), then each vector's `z`, the
/// candidate's `tanh` and the new `h`; with `out_gate_first`, `z` in the first pass.
#[inline(always)]
fn gru_cell_two_pass<I: Isa, const R: usize>(
    isa: I,
    t: &NetTables,
    geo: Geo,
    toks: &[usize; R],
    s: &mut Rows<'_>,
    out_gate_first: bool,
) {
    let (l, h, nv, p, zs) = (I::LANES, geo.h, geo.nv, geo.p, geo.zs);
    for r in 0..R {
        let z = &mut s.z[r * zs..(r + 1) * zs];
        let x = &t.input_row(toks[r])[2 * h..3 * h];
        for v in 0..nv {
            let (lo, n) = (v * l, l.min(h - v * l));
            if out_gate_first {
                let zz = sigmoid(isa, isa.load_slice(&z[lo..]));
                isa.store_slice(zz, &mut z[lo..]);
            }
            let reset = sigmoid(isa, isa.load_slice(&z[p + lo..]));
            let recurrent = isa.load_slice(&z[2 * p + lo..]);
            let pre = isa.mul_add(reset, recurrent, ld(isa, &x[lo..], n));
            isa.store_slice(pre, &mut z[2 * p + lo..]);
        }
    }
    for r in 0..R {
        let z = &s.z[r * zs..(r + 1) * zs];
        for v in 0..nv {
            let (lo, at) = (v * l, r * p + v * l);
            let zz = isa.load_slice(&z[lo..]);
            let zz = if out_gate_first { zz } else { sigmoid(isa, zz) };
            let cand = tanh(isa, isa.load_slice(&z[2 * p + lo..]));
            let new = gru_update(isa, zz, isa.load_slice(&s.h[at..]), cand);
            isa.store_slice(new, &mut s.h[at..]);
        }
    }
}

/// A GRU's new state `z ⊙ h + (1 − z) ⊙ candidate`, in the one order of operations every cell
/// form uses (so they agree bit for bit).
#[inline(always)]
fn gru_update<I: Isa>(isa: I, z: I::V, old: I::V, cand: I::V) -> I::V {
    isa.mul_add(z, old, isa.mul(isa.sub(isa.splat(1.0), z), cand))
}

/// What a batch pass writes.
pub(crate) enum NetOut<'a> {
    /// `[n]` probabilities.
    Probs(&'a mut [f32]),
    /// `[n, H]` final hidden states.
    Hidden(&'a mut [f32]),
    /// `[seq_len + 1, H + C]`: the state (`h`, then `c` for an LSTM) of the first sequence
    /// after each of its steps, the zero state first: the batch's padding cache
    /// ([`NetPadCache::batch_state`]), stepped through a sequence of pads.
    States(&'a mut [f32]),
}

/// A body generic over the shape's const parameters (run by `net_ops::AtShape`).
pub(crate) trait ShapeBody {
    type Output;
    fn run<I: Isa, const HC: usize, const CELL: u8>(self, isa: I) -> Self::Output;
}

/// What [`by_shape`] calls with the const parameters of a shape.
pub(crate) trait ShapeVisit {
    type Output;
    fn at<const HC: usize, const CELL: u8>(self) -> Self::Output;
    /// As [`Self::at`] for a shape of at most 8 units, which every kernel runs on 8 lanes
    /// (AVX-512 on AVX2: `Kernel::for_net`), so that no 16-lane body is compiled for it.
    fn at_8_lanes<const HC: usize, const CELL: u8>(self) -> Self::Output;
}

/// Calls `v` with the const parameters of `t`'s shape: the cell, and the units for 8, 16, 32,
/// 64 and 128 (0, the run-time path, for every other size; 8 on 8 lanes only). It runs before
/// the dispatch door, not inside it, so each shape's body gets a trampoline of its own
/// (`net_ops::AtShape`).
///
/// Each const size is one more body per cell and ISA: ~15 s more of the library's `ci`
/// build (101–104 s without 8, 116–124 with it), so only the sizes users most often pick.
/// What 8 and 128 gained over the run-time path (AMD EPYC Zen 4, family 25 model 17,
/// 2026-12-07, AVX-512 kernel, the two builds alternating; throwaway examples, not kept):
///
/// ```text
///   Embedding(500, 16), a session fed 100 tokens, fastest of 2,000, ns a step
///                                a token a call        100 in one call
///   LSTM(8)                      64.3–64.4 → 40.1–41.0   38.6–38.9 → 37.0
///   SimpleRNN(8)                 38.7–39.1 → 20.7–21.2   21.9 → 19.7
///
///   Embedding(5000, 64), length 200: 96 sequences (fastest of 30), ns a sequence-step;
///   one review (fastest of 300), µs
///                                batch                   review
///   LSTM(8)                      25.9–26.0 → 21.5–21.9   7.69–7.78 → 7.37–7.39
///   GRU(8)                       24.3–27.7 → 16.1–16.2   7.43 → 6.75–6.76
///   SimpleRNN(8)                 8.6–12.4 → 6.8          4.46 → 3.95–3.98
///   LSTM(128)                    1844–2160 → 1756–1966   562–605 → 539–583
///   GRU(128)                     1418–1486 → 1259–1297   438–517 → 396–399
///   SimpleRNN(128)               377–381 → 358–360       133–135 → 124–126
/// ```
///
/// With AVX2 forced at 128 units (where `HC ≥ 32` also runs the two-pass cell's output gate
/// first): batch LSTM 1574–1634 → 1502–1509, GRU 1145–1146 → 1037–1044, SimpleRNN 355–357 →
/// 336–337; review LSTM 592–593 → 535–536, GRU 431–433 → 397–401, SimpleRNN 121–135 → 121.
/// (At 128 units AVX2 ran these batches faster than AVX-512 in those runs. Not so on a quieter
/// host later that day, the same core, one binary with the kernel forced in turn, fastest of 10
/// batches or 100 reviews, two rounds: batch AVX-512 against AVX2, ns a sequence-step, LSTM(32)
/// 113 against 132, LSTM(64) 366 against 408, LSTM(128) 1357–1378 against 1462, LSTM(256)
/// 5513–5846 against 6029–6114, GRU(128) 993–1062 against 1032–1041, SimpleRNN(128) 325–329
/// against 335; one review, µs, AVX-512 faster or equal but for SimpleRNN(32), 8.34–8.37
/// against 7.46–7.67. So `Kernel::for_net` keeps 16 lanes above 8 units.)
///
/// At 8 units the run-time path spent ~90 cycles a call before its first step, deriving the
/// shape's strides and keeping them on the stack (a `perf` profile of the session); with the
/// size constant they fold into the code. LSTM(12), still on the run-time path, was
/// unchanged (batch 41.6–42.9 ns, review 12.0 µs in both builds).
#[inline(always)]
pub(crate) fn by_shape<V: ShapeVisit>(cell: Cell, units: usize, v: V) -> V::Output {
    #[inline(always)]
    fn at_units<V: ShapeVisit, const CELL: u8>(h: usize, v: V) -> V::Output {
        match h {
            8 => v.at_8_lanes::<8, CELL>(),
            16 => v.at::<16, CELL>(),
            32 => v.at::<32, CELL>(),
            64 => v.at::<64, CELL>(),
            128 => v.at::<128, CELL>(),
            _ => v.at::<0, CELL>(),
        }
    }
    match cell {
        Cell::SimpleRnn => at_units::<V, RNN>(units, v),
        Cell::Lstm => at_units::<V, LSTM>(units, v),
        Cell::Gru { reset_after: true } => at_units::<V, GRU_RA>(units, v),
        Cell::Gru { reset_after: false } => at_units::<V, GRU_RB>(units, v),
    }
}

/// The batch pass: `seqs [n, seq_len]` in blocks of `R` sequences taken from windows sorted by
/// leading pads ([`PAD_SORT_WINDOW`]), each block starting from the padding-cache state after
/// the fewest leading pads among its sequences
/// ([`NetPadCache::batch_state`], stepped by this same pass, so a sequence's bits do not
/// depend on where its block starts), or from zeros at step 0 without a cache.
///
/// The ids are a run-time [`TokenIds`], not a type parameter, which would compile every
/// ISA × cell × size body once per id width (the crate's largest compile, twice): a block of
/// `u16` ids is widened into `ids` first (`R · seq_len` copies beside `R · seq_len · G·H²`
/// FMAs), and the one body runs on `u32` ids.
pub(crate) struct Batch<'a> {
    pub t: &'a NetTables,
    /// `None`: every block starts from zeros at step 0 (how the cache itself is built).
    pub pads: Option<&'a NetPadCache>,
    pub seqs: TokenIds<'a>,
    pub out: NetOut<'a>,
    /// At least [`scratch_floats`] floats.
    pub scratch: &'a mut [f32],
    /// At least [`scratch_ids`] ids.
    pub ids: &'a mut [u32],
}

impl ShapeBody for Batch<'_> {
    type Output = ();
    #[inline(always)]
    fn run<I: Isa, const HC: usize, const CELL: u8>(self, isa: I) {
        // Tiles: 4 rows × 4 vectors (16 accumulators of 32 registers) with 16 lanes; 6 × 2
        // (12 of 16) with 8. (`MAX_ROWS` is the largest `R` here.) Measured on this machine
        // (loaded): 6 × 4 with 16 lanes was slower for LSTM(32) and GRU(64).
        if I::LANES == 16 {
            batch::<I, HC, CELL, 4, 4>(isa, self);
        } else {
            batch::<I, HC, CELL, MAX_ROWS, 2>(isa, self);
        }
    }
}

/// A few rows of a batch, each in a block of its own (`R = 1`, tiles of [`ALONE_C`] vectors):
/// the tail of a batch whose last block would have at most half its rows live
/// ([`alone_tail`]). The same bits as in a block: a row's arithmetic does not depend on its
/// block or where the block starts.
///
/// A job of its own, so it has its own trampoline: the same body inlined into [`Batch`]'s made
/// that one slower (AVX2 LSTM(32) batch +6 %, GRU(16) +20 % on Zen 4).
pub(crate) struct Alone<'a>(pub Batch<'a>);

impl ShapeBody for Alone<'_> {
    type Output = ();
    #[inline(always)]
    fn run<I: Isa, const HC: usize, const CELL: u8>(self, isa: I) {
        batch::<I, HC, CELL, 1, ALONE_C>(isa, self.0);
    }
}

/// The tile width of a row alone ([`Alone`]): as many accumulator chains as the one-sequence
/// path's tiles of 8 vectors, so the `H` dependent FMAs of a chain do not bound it.
const ALONE_C: usize = 8;

/// How many of `n` rows a batch on `lanes` lanes runs alone ([`Alone`]): the last block's
/// rows when they are at most half a block (4 rows with 16 lanes, 6 with 8), else none.
///
/// Measured (AMD EPYC family 25 model 17, Zen 4, 2026-12-05; Embedding(5000, 64), length 200,
/// `Kernel::net_forward`, fastest of 30 calls), µs for `n` rows in one block against each alone:
///
/// ```text
///                        n = 1          2             3             block of 4 / 6
///   AVX-512 LSTM(32)     96 → 27.7      96 → 55       96 → 83       96
///           GRU(32)      70 → 30        70 → 60       70 → 89       70
///           LSTM(64)     302 → 139      304 → 278     305 → 420     307
///   AVX2    LSTM(32)     179 → 35       179 → 70      181 → 105     182 (4: 140, 5: 175)
///           GRU(32)      141 → 30       141 → 59      141 → 89      142 (4: 119, 5: 149)
///           LSTM(64)     533 → 147      533 → 295     533 → 445     535 (4: 595)
/// ```
///
/// Alone wins up to half a block on both, and loses past it for the larger shapes.
pub(crate) fn alone_tail(n: usize, lanes: usize) -> usize {
    let rows = if lanes == 16 { 4 } else { MAX_ROWS };
    let tail = n % rows;
    if 2 * tail <= rows { tail } else { 0 }
}

#[inline(always)]
fn batch<I: Isa, const HC: usize, const CELL: u8, const R: usize, const C: usize>(
    isa: I,
    job: Batch<'_>,
) {
    let Batch {
        t,
        pads,
        seqs,
        mut out,
        scratch,
        ids,
    } = job;
    let geo = geo::<I, HC, CELL>(t.spec().units);
    let (h, len) = (geo.h, t.spec().seq_len);
    let n = seqs.len() / len;
    // Where the two-pass cell's second gate measured faster in its first pass (module docs,
    // "The cell in two passes").
    let out_gate_first = I::LANES == 8 && HC >= 32;
    // `Z` first: the scratch starts a cache line (`net_ops::with_scratch`) and a row of `Z` is
    // whole vectors, so no load or store of `Z` splits across two lines.
    let (zs, rest) = scratch.split_at_mut(R * geo.zs);
    let (rh, rest) = rest.split_at_mut(R * geo.p);
    let (hs, rest) = rest.split_at_mut(R * geo.p);
    let mut rows = Rows {
        h: hs,
        c: &mut rest[..R * geo.p],
        z: zs,
        rh,
    };
    let (ids, order) = ids.split_at_mut(MAX_ROWS * len);
    // Windows of sequences ordered by leading pads (in order without a cache: every block
    // starts at step 0 then), blocks of `R` in that order.
    for w0 in (0..n).step_by(PAD_SORT_WINDOW) {
        let order = &mut order[..PAD_SORT_WINDOW.min(n - w0)];
        if pads.is_some() {
            pad_order(seqs, len, w0, order);
        } else {
            order
                .iter_mut()
                .enumerate()
                .for_each(|(k, o)| *o = k as u32);
        }
        for block in order.chunks(R) {
            let live = block.len();
            // Row `r`'s sequence; a short last block repeats its last one (the most pads:
            // computed, not written).
            let index = |r: usize| w0 + (block[r.min(live - 1)] & 0xffff) as usize;
            let mut seq: [&[u32]; R] = [&[]; R];
            for (r, buf) in ids.chunks_exact_mut(len).take(R).enumerate() {
                let i = index(r);
                seq[r] = as_u32(seqs, i * len..(i + 1) * len, buf);
            }
            // The block's fewest pads: its first key's (0 without a cache).
            let start = (block[0] >> 16) as usize;
            let (h0, c0) = match pads {
                Some(pads) => pads.batch_state(start),
                // An empty state loads as zeros.
                None => (&[][..], &[][..]),
            };
            for r in 0..R {
                load_state(&mut rows.h[r * geo.p..(r + 1) * geo.p], h0);
                if CELL == LSTM {
                    load_state(&mut rows.c[r * geo.p..(r + 1) * geo.p], c0);
                }
            }
            let mut toks = [0usize; R];
            for step in start..len {
                for r in 0..R {
                    toks[r] = seq[r][step] as usize;
                }
                // The next step's input rows (random rows of a table that outgrows L2): fetched
                // while this step computes.
                if step + 1 < len {
                    for r in 0..R {
                        let row = t.input_row(seq[r][step + 1] as usize);
                        for line in row.chunks(16) {
                            isa.prefetch(line);
                        }
                    }
                }
                block_step::<I, CELL, R, C>(isa, t, geo, &toks, &mut rows, out_gate_first);
                if let NetOut::States(o) = &mut out {
                    let w = if CELL == LSTM { 2 * h } else { h };
                    let (ho, co) = o[(step + 1) * w..(step + 2) * w].split_at_mut(h);
                    ho.copy_from_slice(&rows.h[..h]);
                    co.copy_from_slice(&rows.c[..co.len()]);
                }
            }
            for r in 0..live {
                let (hr, i) = (&rows.h[r * geo.p..r * geo.p + h], index(r));
                match &mut out {
                    NetOut::Probs(p) => p[i] = reference::prob(t, hr),
                    NetOut::Hidden(o) => o[i * h..(i + 1) * h].copy_from_slice(hr),
                    NetOut::States(_) => {}
                }
            }
        }
    }
}

/// Steps one sequence's state (`h`, and `c` for an LSTM) through `tokens`: the latency path
/// ([`seq_step`]).
///
/// The ids are a run-time [`TokenIds`], as in [`Batch`]: `u16` ids are widened into `ids` a
/// chunk at a time.
pub(crate) struct Steps<'a> {
    pub t: &'a NetTables,
    pub h: &'a mut [f32],
    pub c: &'a mut [f32],
    pub tokens: TokenIds<'a>,
    /// At least [`scratch_floats`] floats.
    pub scratch: &'a mut [f32],
    /// At least one id ([`scratch_ids`] in practice).
    pub ids: &'a mut [u32],
}

impl ShapeBody for Steps<'_> {
    type Output = ();
    #[inline(always)]
    fn run<I: Isa, const HC: usize, const CELL: u8>(self, isa: I) {
        let geo = geo::<I, HC, CELL>(self.t.spec().units);
        let (z, rest) = self.scratch.split_at_mut(geo.zs);
        let (rh, rest) = rest.split_at_mut(geo.p);
        let (ph, rest) = rest.split_at_mut(geo.p);
        let pc = &mut rest[..if CELL == LSTM { geo.p } else { 0 }];
        let (n, chunk) = (self.tokens.len(), self.ids.len());
        assert!(chunk > 0, "no room for ids");
        // Padded rows (see [`Rows`]) where the state's last vector is partial and the call has
        // more than one step: copied in and out once, each step between stores whole vectors
        // that the next step's loads of `h[j]` are forwarded from. A single step keeps the
        // caller's state (the copies would cost it more than they save).
        let padded = n > 1 && geo.h != geo.p;
        let width = if padded { geo.p } else { geo.h };
        if padded {
            load_state(ph, self.h);
            load_state(pc, self.c);
        }
        let mut rows = if padded {
            Rows {
                h: &mut *ph,
                c: &mut *pc,
                z,
                rh,
            }
        } else {
            Rows {
                h: &mut *self.h,
                c: &mut *self.c,
                z,
                rh,
            }
        };
        // Snake order (see [`Tiles`]) where `U` outgrows L1, its parity carried across calls
        // so that a session stepping one token per call alternates too. The order does not
        // change a bit, so neither does where the parity comes from.
        let snake = geo.u_over_l1();
        let mut rev = snake && SNAKE.get();
        for c0 in (0..n).step_by(chunk) {
            let c1 = n.min(c0 + chunk);
            let tokens = as_u32(self.tokens, c0..c1, &mut *self.ids);
            // The first id after this chunk, for the last step's prefetch.
            let after = (c1 < n).then(|| self.tokens.get(c1));
            for (i, &tok) in tokens.iter().enumerate() {
                // The next token's input row (a random row of a table that may outgrow L2),
                // fetched while this step computes.
                if let Some(next) = tokens.get(i + 1).copied().or(after) {
                    for line in self.t.input_row(next as usize).chunks(16) {
                        isa.prefetch(line);
                    }
                }
                seq_step::<I, CELL>(isa, self.t, geo, tok as usize, &mut rows, width, rev);
                rev = snake && !rev;
            }
        }
        if padded {
            self.h.copy_from_slice(&ph[..geo.h]);
            self.c.copy_from_slice(&pc[..self.c.len()]);
        }
        if snake {
            SNAKE.set(rev);
        }
    }
}

// The one-sequence path (latency): a matrix-vector product with the units × gates in lanes.
//
// One sequence has no rows to share a load of `U` between, so the product is one row of
// accumulators as wide as the registers allow: every gate vector of the step in one tile where
// it fits (16 vectors of 16 lanes, 8 of 8), so `U` is streamed once per step from L1 and the
// `G·⌈H/LANES⌉` accumulator chains run side by side (LSTM(32) on AVX-512: 8 chains of 32
// FMAs). Where a step has at most 6 column vectors (16 lanes: SimpleRNN up to 96 units,
// LSTM(16), GRU(16), GRU(32); 8 lanes: SimpleRNN up to 48, GRU(16)) each column sums its even
// and odd `j` in two chains and adds them at the end ([`seq_tile`]), since there the chains'
// latency, not the loads, bounds the step; elsewhere a row's sum is the batch's (input row
// first, then `j` in order). The activations are the latency forms (`sigmoid_latency`,
// `tanh_times_latency`: short polynomial chain, no clamp on the chain, no division after
// `m · tanh`), so a sequence's bits here differ from its bits in a batch by a few ulps; the
// padding cache's one-sequence table is built with this path, so stepping, the whole-sequence
// call and a session agree bit for bit.

/// Column vectors `from..to` of one sequence's `Z`.
///
/// A product of at most 6 column vectors is bound by its chains' latency (`H` dependent FMAs
/// of 4 cycles each, against `≤ 6` loads of `U` per `j`, 3 cycles on two load ports): it runs
/// as one [`seq_tile`], two chains per column. A wider one is bound by the loads of `U` (one
/// per FMA: 16 KiB a step at LSTM(32)), which shorter chains would not reduce: it runs in
/// tiles of 16 (16 lanes) or 8 (8 lanes) vectors, the rest in one tile of the exact width for
/// the shapes of the fast paths (12, 8, 6, 4), else greedily (no 1-wide tiles with a long
/// chain where a wider one fits). Where `U` outgrows L1, in snake order (`rev`; [`Tiles`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn seq_product<I: Isa, const CELL: u8>(
    isa: I,
    t: &NetTables,
    geo: Geo,
    tok: usize,
    src: &[f32],
    from: usize,
    to: usize,
    z: &mut [f32],
    rev: bool,
) {
    match to - from {
        0 => return,
        1 => return seq_tile::<I, CELL, 1>(isa, t, geo, tok, src, from, z),
        2 => return seq_tile::<I, CELL, 2>(isa, t, geo, tok, src, from, z),
        3 => return seq_tile::<I, CELL, 3>(isa, t, geo, tok, src, from, z),
        4 => return seq_tile::<I, CELL, 4>(isa, t, geo, tok, src, from, z),
        5 => return seq_tile::<I, CELL, 5>(isa, t, geo, tok, src, from, z),
        6 => return seq_tile::<I, CELL, 6>(isa, t, geo, tok, src, from, z),
        _ => {}
    }
    let toks = [tok];
    let ss = geo.h;
    if geo.u_over_l1() {
        // Where `U` is larger than L1: tiles of at most 8 vectors (16 lanes too, so that there
        // are panels to reorder), run in reverse if `rev` (snake order, see [`Tiles`]). Only
        // there: the tiles' first vectors come from a list, not constants, and at the sizes
        // whose `U` fits L1 that measured slower (AVX2 one review, Zen 4: GRU(32) +30 %,
        // LSTM(32) +8 %).
        let mut plan = Tiles::new(from);
        while plan.left(to) >= 8 {
            plan.push(8);
        }
        // Less than 8 left: each of these at most once.
        for w in [6, 4, 2, 1] {
            if plan.left(to) >= w {
                plan.push(w);
            }
        }
        for i in 0..plan.n {
            let (k, w) = plan.get(i, rev);
            match w {
                8 => tile::<I, CELL, 1, 8>(isa, t, geo, &toks, src, ss, k, z),
                6 => tile::<I, CELL, 1, 6>(isa, t, geo, &toks, src, ss, k, z),
                4 => tile::<I, CELL, 1, 4>(isa, t, geo, &toks, src, ss, k, z),
                2 => tile::<I, CELL, 1, 2>(isa, t, geo, &toks, src, ss, k, z),
                _ => tile::<I, CELL, 1, 1>(isa, t, geo, &toks, src, ss, k, z),
            }
        }
        return;
    }
    let mut k = from;
    if I::LANES == 16 {
        while to - k >= 16 {
            tile::<I, CELL, 1, 16>(isa, t, geo, &toks, src, ss, k, z);
            k += 16;
        }
        if to - k >= 12 {
            tile::<I, CELL, 1, 12>(isa, t, geo, &toks, src, ss, k, z);
            k += 12;
        }
    }
    while to - k >= 8 {
        tile::<I, CELL, 1, 8>(isa, t, geo, &toks, src, ss, k, z);
        k += 8;
    }
    if to - k >= 6 {
        tile::<I, CELL, 1, 6>(isa, t, geo, &toks, src, ss, k, z);
        k += 6;
    }
    if to - k >= 4 {
        tile::<I, CELL, 1, 4>(isa, t, geo, &toks, src, ss, k, z);
        k += 4;
    }
    if to - k >= 2 {
        tile::<I, CELL, 1, 2>(isa, t, geo, &toks, src, ss, k, z);
        k += 2;
    }
    if to > k {
        tile::<I, CELL, 1, 1>(isa, t, geo, &toks, src, ss, k, z);
    }
}

/// One step of one sequence with token `tok`, latency activations (see above), its state rows
/// `width` floats (`H`, or `p` where [`Steps`] pads them). Panics if `tok` is not a row of the
/// input table.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn seq_step<I: Isa, const CELL: u8>(
    isa: I,
    t: &NetTables,
    geo: Geo,
    tok: usize,
    s: &mut Rows<'_>,
    width: usize,
    rev: bool,
) {
    let (l, h, nv, p) = (I::LANES, geo.h, geo.nv, geo.p);
    let first = if CELL == GRU_RB {
        2 * nv
    } else {
        gates(CELL) * nv
    };
    seq_product::<I, CELL>(isa, t, geo, tok, s.h, 0, first, s.z, rev);
    if CELL == GRU_RB {
        for v in 0..nv {
            let (lo, ns) = (v * l, l.min(width - v * l));
            let reset = sigmoid_latency(isa, isa.load_slice(&s.z[p + lo..]));
            let rv = isa.mul(reset, ld(isa, &s.h[lo..], ns));
            isa.store_slice(rv, &mut s.rh[lo..]);
        }
        seq_product::<I, CELL>(isa, t, geo, tok, s.rh, 2 * nv, 3 * nv, s.z, rev);
    }
    let one = isa.splat(1.0);
    let z = &s.z[..geo.zs];
    // The LSTM and the reset-after GRU skewed by one unit vector (module docs, "The
    // vector-by-vector cell, skewed by one vector"): a vector's second activation and `h`
    // after the next vector's gates. The same bits.
    if CELL == LSTM {
        let mut pending: Option<(I::V, I::V, usize, usize)> = None;
        for v in 0..nv {
            let (lo, n) = (v * l, l.min(width - v * l));
            let i = sigmoid_latency(isa, isa.load_slice(&z[lo..]));
            let f = sigmoid_latency(isa, isa.load_slice(&z[p + lo..]));
            let g = tanh_times_latency(isa, one, isa.load_slice(&z[2 * p + lo..]));
            let o = sigmoid_latency(isa, isa.load_slice(&z[3 * p + lo..]));
            let c = isa.mul_add(f, ld(isa, &s.c[lo..], n), isa.mul(i, g));
            st(isa, c, &mut s.c[lo..], n);
            if let Some((o, c, lo, n)) = pending {
                st(isa, tanh_times_latency(isa, o, c), &mut s.h[lo..], n);
            }
            pending = Some((o, c, lo, n));
        }
        if let Some((o, c, lo, n)) = pending {
            st(isa, tanh_times_latency(isa, o, c), &mut s.h[lo..], n);
        }
        return;
    }
    if CELL == GRU_RA {
        let x = &t.input_row(tok)[2 * h..3 * h];
        let mut pending: Option<(I::V, I::V, usize, usize)> = None;
        for v in 0..nv {
            // `n` lanes of the input row, `ns` of the state.
            let (lo, n, ns) = (v * l, l.min(h - v * l), l.min(width - v * l));
            let zz = sigmoid_latency(isa, isa.load_slice(&z[lo..]));
            let reset = sigmoid_latency(isa, isa.load_slice(&z[p + lo..]));
            let pre = isa.mul_add(
                reset,
                isa.load_slice(&z[2 * p + lo..]),
                ld(isa, &x[lo..], n),
            );
            if let Some((zz, pre, lo, n)) = pending {
                let cand = tanh_times_latency(isa, one, pre);
                let new = gru_update(isa, zz, ld(isa, &s.h[lo..], n), cand);
                st(isa, new, &mut s.h[lo..], n);
            }
            pending = Some((zz, pre, lo, ns));
        }
        if let Some((zz, pre, lo, n)) = pending {
            let cand = tanh_times_latency(isa, one, pre);
            let new = gru_update(isa, zz, ld(isa, &s.h[lo..], n), cand);
            st(isa, new, &mut s.h[lo..], n);
        }
        return;
    }
    for v in 0..nv {
        let (lo, n) = (v * l, l.min(width - v * l));
        match CELL {
            RNN => {
                let hv = tanh_times_latency(isa, one, isa.load_slice(&z[lo..]));
                st(isa, hv, &mut s.h[lo..], n);
            }
            _ => {
                // A reset-before GRU: the gate and the candidate side by side.
                let zz = sigmoid_latency(isa, isa.load_slice(&z[lo..]));
                let cand = tanh_times_latency(isa, one, isa.load_slice(&z[2 * p + lo..]));
                let old = ld(isa, &s.h[lo..], n);
                let new = gru_update(isa, zz, old, cand);
                st(isa, new, &mut s.h[lo..], n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The two-pass cells against a cell written vector by vector in the order of its
    //! arithmetic, on the portable ISA: the same bits, so every index, the reuse of `Z`'s spent
    //! slots and the padded lanes are checked on any machine. (`tests/net_kernels.rs` holds
    //! the AVX-512 batch to AVX2's bits where the CPU has both.)
    use super::super::activations::lstm_cell_h_batch_n;
    use super::super::portable::Portable;
    use super::*;
    use crate::net::{Input, NetWeights, Spec};

    /// `steps` block-steps of `R` rows from the same start, cell by cell; returns `h` and `c`
    /// (`[R, H]`), having checked that the rows' lanes past `H` stayed zero.
    fn run<const CELL: u8, const R: usize>(
        t: &NetTables,
        start: &[f32],
        toks: &[[usize; R]],
        two_pass: Option<bool>,
    ) -> (Vec<f32>, Vec<f32>) {
        let units = t.spec().units;
        let geo = geo::<Portable, 0, CELL>(units);
        let (mut h, mut c) = (vec![f32::NAN; R * geo.p], vec![f32::NAN; R * geo.p]);
        for r in 0..R {
            let row = |k: usize| &start[(k * R + r) * units..(k * R + r + 1) * units];
            load_state(&mut h[r * geo.p..(r + 1) * geo.p], row(0));
            load_state(&mut c[r * geo.p..(r + 1) * geo.p], row(1));
        }
        let mut z = vec![0.0; R * geo.zs];
        let mut rh = vec![0.0; R * geo.p];
        for step in toks {
            let mut rows = Rows {
                h: &mut h,
                c: &mut c,
                z: &mut z,
                rh: &mut rh,
            };
            if let Some(gate_first) = two_pass {
                block_step::<Portable, CELL, R, 2>(Portable, t, geo, step, &mut rows, gate_first);
            } else {
                vector_by_vector_step::<CELL, R>(t, geo, step, &mut rows);
            }
        }
        let unpad = |v: &[f32]| -> Vec<f32> {
            for (r, row) in v.chunks_exact(geo.p).enumerate() {
                let bits: Vec<u32> = row[units..].iter().map(|x| x.to_bits()).collect();
                assert!(
                    bits.iter().all(|&b| b == 0),
                    "row {r}: lanes past H {bits:?}"
                );
            }
            v.chunks_exact(geo.p)
                .flat_map(|row| &row[..units])
                .copied()
                .collect()
        };
        let c = if CELL == LSTM { unpad(&c) } else { Vec::new() };
        (unpad(&h), c)
    }

    /// One step with the cell written vector by vector: each unit vector's activations, state
    /// and `h` in the order of the arithmetic.
    fn vector_by_vector_step<const CELL: u8, const R: usize>(
        t: &NetTables,
        geo: Geo,
        toks: &[usize; R],
        s: &mut Rows<'_>,
    ) {
        let isa = Portable;
        let (l, h, nv, p, zs) = (Portable::LANES, geo.h, geo.nv, geo.p, geo.zs);
        product::<Portable, CELL, R, 2>(isa, t, geo, toks, s.h, p, 0, gates(CELL) * nv, s.z);
        for r in 0..R {
            let z = &s.z[r * zs..(r + 1) * zs];
            let x = &t.input_row(toks[r])[2 * h..3 * h];
            for v in 0..nv {
                let (lo, n, at) = (v * l, l.min(h - v * l), r * p + v * l);
                let zv = |g: usize| isa.load_slice(&z[g * p + lo..]);
                let new = if CELL == LSTM {
                    let mut c = [isa.load_slice(&s.c[at..])];
                    lstm_cell_c_batch_n(isa, [zv(0)], [zv(1)], [zv(2)], &mut c);
                    isa.store_slice(c[0], &mut s.c[at..]);
                    lstm_cell_h_batch_n(isa, [zv(3)], c)[0]
                } else {
                    let (zz, reset) = (sigmoid(isa, zv(0)), sigmoid(isa, zv(1)));
                    let pre = isa.mul_add(reset, zv(2), ld(isa, &x[lo..], n));
                    gru_update(isa, zz, isa.load_slice(&s.h[at..]), tanh(isa, pre))
                };
                isa.store_slice(new, &mut s.h[at..]);
            }
        }
    }

    fn check<const CELL: u8>(cell: Cell) {
        const R: usize = 6;
        for units in [1, 8, 16, 17, 32, 33, 64] {
            let spec = Spec {
                cell,
                units,
                vocab: 40,
                input: Input::Embedding { width: 5 },
                seq_len: 12,
            };
            // Large weights: saturated and mid-range gates both.
            let t = NetTables::fold(&NetWeights::seeded(spec, units as u64, 1.5)).unwrap();
            let mut x = units as u64;
            let mut next = move || {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (x >> 33) as usize
            };
            let start: Vec<f32> = (0..2 * R * units)
                .map(|_| (next() % 2001) as f32 / 1000.0 - 1.0)
                .collect();
            let toks: Vec<[usize; R]> = (0..12).map(|_| [(); R].map(|()| next() % 40)).collect();
            let old = run::<CELL, R>(&t, &start, &toks, None);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            for gate_first in [false, true] {
                let new = run::<CELL, R>(&t, &start, &toks, Some(gate_first));
                let name = cell.name();
                let with = format!("units {units}, out gate first: {gate_first}");
                assert_eq!(bits(&new.0), bits(&old.0), "{name} {with}: h");
                if CELL == LSTM {
                    assert_eq!(bits(&new.1), bits(&old.1), "{name} {with}: c");
                }
            }
            assert!(
                old.0.iter().any(|&v| v != 0.0),
                "{} units {units}: h moved",
                cell.name()
            );
        }
    }

    #[test]
    fn the_two_pass_lstm_cell_has_the_vector_by_vector_cells_bits() {
        check::<LSTM>(Cell::Lstm);
    }

    #[test]
    fn the_two_pass_gru_cell_has_the_vector_by_vector_cells_bits() {
        check::<GRU_RA>(Cell::Gru { reset_after: true });
    }
}
