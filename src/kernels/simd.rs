//! The 8-lane kernel bodies, written once over a tiny instruction-set trait ([`Isa`]) and
//! instantiated twice: with `wide::f32x8` in `portable.rs` and with AVX2+FMA intrinsics in
//! `x86_64_avx2_fma.rs` (inside a `#[target_feature]` function, where everything here inlines).
//!
//! # Two layouts
//!
//! **Throughput** (`*_blocks`): 8 *sequences* in the 8 lanes. The state is `h[u]`, `c[u]`: one
//! vector per hidden unit `u`, lane `l` belonging to sequence `l`. A step gathers the 8 table rows
//! of the 8 tokens and transposes them gate by gate (`Isa::gather_rows`), so `zx[g][u]` is again a
//! vector over sequences. The recurrent product is then 256 broadcast-scalar FMAs per LSTM step:
//!
//! ```text
//!   z[g][u] = zx[g][u] + Σ_j h[j] · splat(U[j][g][u])        (j, u < HIDDEN; g < 4)
//! ```
//!
//! `splat(U[j][g][u])` is stored pre-broadcast in the tables (`recurrent_splat`, 8 KiB, L1
//! resident), so each of the 256 terms is one FMA with a memory operand: no broadcast µop.
//! A step runs in two phases (32 pre-activations, then the cell of 8 units, fused: "The fused
//! cell" below), each a wide set of independent chains (the cell four units at a time, stage by
//! stage: "Zen 5 port account" below), and the batch driver runs two blocks per step loop so one
//! block's dependency tail overlaps the other's FMAs. On AVX-512 (32 registers) the two blocks
//! are software-pipelined half a step apart (`lstm_pair`, `rnn_pair`): one block's recurrent
//! products sit in program order beside the other block's activations, chunk by chunk ("The
//! pipelined pair" below).
//!
//! **Where the time goes on Golden Cove** (issue 16 item 3, an earlier session; AVX-512, 16
//! sequences per zmm, measured on that development machine: 2-core Xeon under KVM, CPUID family
//! 6 model 167, clock 4.09 GHz by
//! `benches/report/clock.c`). On this core every 512-bit FP µop issues on one of two ports (p0,
//! p5; shuffles on p5 only), so the batch step is a count of those µops. Throughputs measured
//! with independent copies beside FMAs: zmm FMA 0.5 cycle; `vunpck*`/`vshufps` 1 (p5);
//! `vinsertf32x4` from memory ~0.5; `vrcp14ps` 1.5 cycles of both ports (~3 µops); `vdivps` zmm
//! one per ~12 cycles of the divider (plus ~2 port µops); `vgatherdps` zmm 8.6 (so the rows are
//! gathered by loads and a transpose, not by it). One LSTM block-step, as compiled:
//!
//! ```text
//!                                               µops on p0/p5     cycles (2 ports)
//!   gather + transpose, 16 rows × 32 floats      ~160              ~80
//!   recurrent sum, 256 FMAs ({1to16} operand)     256              128
//!   40 activations × ~19 (clamp 2, reduction 3,
//!     Horner 6, vscalefps 1, 1 + e 1,
//!     reciprocal 5 = vrcp14ps + Newton 2,
//!     tanh's 1 − 2y 1)                           ~760             ~380
//!   cell update (mul, FMA, mul) × 8                24               12
//!   total                                        ~1200             ~600  = 37.5 per sequence-step
//!   measured (fastest of 400 windows, 1 thread)                     820  = 51.3 per sequence-step
//! ```
//!
//! The activations, not the recurrent product, bound the batch kernels; the step runs at ~73 %
//! of its port bound. The SimpleRNN block-step: gather ~40, 64 FMAs, 8 `tanh` × ~19 ≈ 256 µops,
//! 128 cycles = 8 per sequence-step, measured 11.0 (73 % again).
//!
//! Before the batch activation forms ([`super::activations`], "Batch forms") each activation
//! divided: 40 zmm `vdivps` per LSTM block-step are ~480 cycles of the divider, which looked
//! like the bound, but they mostly overlapped the port work: replacing them by `vrcp14ps` and a
//! Newton step (two more port µops each) and dropping the `k·x` µop took the LSTM from 52.5 to
//! 51.3 cycles per sequence-step (−2 %) and the SimpleRNN from 12.2 to 11.0 (−10 %, where 8
//! divisions sat on a 216-cycle step), side by side in one run (load average 18 on 2 cores).
//! Tried and not kept, same conditions: interleaving the 8 activation chains of a gate step by
//! step in program order (52.6–53.8, no better: the reorder buffer already overlaps them), and
//! advancing a gate's 8 unit sums together over `j` (65, worse). What is left to take is µops:
//! a one-µop clamp (`vrangeps`, AVX-512DQ: −40), `2^f` by `vreduceps` (−40), fewer shuffles
//! in the transpose.
//!
//! **Zen 5 port account** (issue 16 items 3 and 4; AMD EPYC, CPUID family 26 model 2, 2 cores
//! under KVM, clock 3.84 GHz by the add chain of `benches/report/insn_latency.c`, whose
//! throughput table is where these figures come from: each instruction alone into ten registers,
//! and one to one beside an FMA or a `vaddps`). Zen 5 has four 512-bit FP pipes:
//!
//! ```text
//!   FMA pipes (2):   vfmadd*ps (also with a {1to16} operand), vmulps, vfixupimmps   0.5 cycle
//!   ADD pipes (2):   vaddps/vsubps, vmaxps/vminps, vcvtps2dq/vcvtdq2ps, vrndscaleps,
//!                    vgetexpps, vgetmantps, vrangeps, vpsrld imm                     0.5
//!                    vscalefps, vreduceps: two µops there                             1.0
//!   one of each:     vpermps, vpermt2ps, vrcp14ps, vinsertf32x4                       0.5 alone,
//!                      ~0.74 a pair beside an FMA or an add (they take an FMA or an ADD slot)
//!   any of the four: vunpck*ps, vshufps, vpaddd, vpandd, vpternlogd, vblendmps        0.25
//!   vdivps zmm 2.5 (latency 10); latencies: FMA 4, mul 3, add/max 2, vscalefps 3, vpermps 5
//! ```
//!
//! One LSTM block-step (16 sequences), counted in the compiled code: 696 FMA-pipe µops (256
//! recurrent FMAs, 40 activations × 10–11: reduction 2, Horner 6, Newton 2, `tanh`'s `1 − 2y`
//! 1; the cell's 24), 240 ADD-pipe µops (per activation: clamp 2, `n` 1, `1 + e` 1,
//! `vscalefps` 2), 136 on either (40 `vrcp14ps`, 96 inserts of the gather), 64 on any. The FMA
//! pipes bound it: 348 cycles = **21.8 per sequence-step**; the ADD pipes need ≤ 188, all four
//! pipes together 284. The SimpleRNN block-step: 152 FMA-pipe µops (64 + 8 × 11) = 76 cycles
//! = 4.75 per sequence-step.
//!
//! Measured (`examples/batch_throughput`, fastest of 300 windows, old and new binaries
//! alternating in one shell, load average 12–14 on 2 cores): LSTM 42–45 cycles per
//! sequence-step before this account, ~51 % of the bound, the SimpleRNN 7.5–7.9 (~62 %). So on
//! Zen 5 the batch step is not port bound, and moving µops between pipes (a `vreduceps`
//! reduction on the ADD pipes, a one-µop `vrangeps` clamp) cannot pay until it is. Tried, same
//! conditions, cycles per LSTM sequence-step against the old binary's 43.9–44.6 in the same
//! runs:
//!
//! ```text
//!   Estrin polynomials and vdivps (sigmoid_short_chain, tanh_short_chain)    44.0, 44.5
//!   four blocks per step loop instead of two                                 42.3, 41.6
//!   piecewise tanh for g and tanh(c') (8 vpermps each, on the shared pipes)  48.1, 47.5
//!   a gate's activations stage by stage, all 8 units at once                 44.6, 44.5
//!                                           2 units at a time                42.9, 43.3
//!                                           4 units at a time (kept)         40.7, 41.4
//! ```
//!
//! Shorter chains (Estrin) change nothing, so the step is not waiting on chain length; placing
//! four independent activation chains side by side in program order helps (−6 %; avx2-fma
//! 62.4–63.4 → 59.3, −5 %), eight at once lose it again to spills (LLVM keeps 8 × 3 vectors
//! live). Our reading, not measured (no PMU under this hypervisor): the FP µops enter a
//! scheduler of limited size in program order, and one activation's ~20-µop dependent chain
//! fills it with µops that cannot issue, so fewer than the 8 chains two FMA pipes of latency 4
//! need are in flight. The SimpleRNN showed no measurable change from grouping its 8 `tanh`
//! (7.5–7.9 either way) and keeps one call per unit.
//!
//! **The pipelined pair** (issue 16 item 3, this session; same Zen 5 machine, load average
//! 13–16 on the 2 cores). Two blocks half a step apart: a half-step is block A's recurrent
//! products and block B's activations, written in unit chunks of two (`lstm_half`): chunk `k`
//! holds A's 64 product FMAs for units `2k, 2k + 1` (8 chains advanced together over `j`), B's
//! six sigmoids and two `tanh` of those units stage by stage, their cell update, and the
//! `tanh(c')` and `h` of chunk `k − 1` (skewed one chunk, so that chain's inputs are ready
//! when it enters the window); the next half swaps the roles. Every lane sees the operations of
//! `lstm_block_step` in the same order, so the bits are unchanged. The SimpleRNN half advances
//! its 8 product chains together over `j` with the other block's `tanh` of unit `j` after the
//! FMAs of `j` (`rnn_half`). As compiled, LLVM keeps the chunk loop rolled (4 iterations, ~300
//! instructions), the LSTM pair step ~1,250 instructions. Measured
//! (`examples/batch_throughput`, fastest of 300 or 1,000 windows, cycles per sequence-step at
//! 3.76 GHz, the main binary and the new one alternating in one shell):
//!
//! ```text
//!                          main (two steps alternated)   pipelined pair
//!   avx512     LSTM        38.2–39.5                      36.0–38.3     (−3 %)
//!              SimpleRNN    7.5–7.8                        6.4–6.7      (−15 %)
//!   avx2-fma   LSTM        55.5–56.5                      60.2–60.7     (+8 %: not used)
//!              SimpleRNN   13.0–13.2                      10.8–10.9     (−17 %)
//! ```
//!
//! The AVX2 LSTM pair spills (16 registers: a chunk keeps 8 `h` and 8 sums live beside the
//! activations), so 16-register ISAs keep the two alternating steps for the LSTM
//! (`Isa::VECTOR_REGISTERS`); since "On Zen 4" below, for the SimpleRNN too. Tried and
//! not kept: the chunk loop forced rolled through an opaque trip count (LLVM unrolled it
//! anyway: 38.3–38.9, no change), and several chunk sizes compiled into one binary behind a
//! run-time switch (every variant then measured 47–58, the switch's function compiled worse, so
//! chunk sizes 1 and 4 were not measured in isolation). So the LSTM stays at ~60 % of its
//! FMA-pipe bound (21.8): interleaving the blocks in program order took only 3 %, which argues
//! against the scheduler-window reading above as the main loss; what else holds it (the
//! ~1,500 instructions per block-step at ~2.5 per cycle suggest the front end or dispatch;
//! no PMU here to tell) is not settled.
//!
//! **On Zen 4** (AMD EPYC, CPUID family 25 model 17, 2 cores under KVM, 3.67 GHz by
//! `clock.c`; a later session). This core runs a zmm FMA as two 256-bit halves: one per cycle,
//! so the block-step's ~740 FMA-pipe µops (the Zen 5 count above plus the 40 `vrcp14ps`, which
//! run on the FMA pipes here) bound the LSTM at ~46 cycles per sequence-step. Measured
//! (`examples/batch_throughput`, fastest of 600 windows, builds alternating in one shell):
//! `lstm_gather` used to read each lane's token and check its bound once per gate (64 token
//! reads for 16 rows, with the 16 row addresses spilled between gates); looking each row up
//! once per step took the AVX-512 LSTM from 61.7–63.3 to 59.7–59.8 cycles (−3 %), the AVX2
//! one unchanged (66.5–66.9). Tried and not kept: gathering the next half-step's rows into a
//! third buffer one half ahead (59.7–62.1, no change), and, as a probe of what the gather
//! costs, replacing its loads and transposes by eight plain loads (70, slower, with other
//! values in the activations): the step is not waiting on the gather. The same binary measured
//! 70.6–72.8 in the first hour and 61.7 later, with nothing else running in this VM: the host
//! shares the core with something we cannot see, so every comparison here alternates builds.
//! The pair's chunk of 4 units (`PAIR_CHUNK`) measured 57.9–58.0 against 59.7–59.8 for 2 and
//! 59.7 for 1 (four alternations, fastest runs); it stays 2, the size measured best on Zen 5,
//! where 4 was never measured on its own, for a 3 % gain here.
//!
//! The SimpleRNN pair on ISAs with fewer than 32 vector registers (AVX2, and the portable
//! `f32x8`: 16 registers' worth on NEON, 8 on SSE) spent a fifth of its samples on the FMA
//! right after the `tanh`'s division, the profile of a step waiting on its activation chains,
//! not on its ports (~8.5 cycles of FMA-pipe µops against 17 measured). Each unit's `tanh` was
//! then split in four stages skewed over four iterations of the product loop (AVX2 17.1 →
//! 15.5–15.6 cycles per sequence-step, SSE 68.1–68.4 → 58.1–58.2). But the pair spills on
//! these ISAs: its 8 sums, 8 `h` and the other block's chains do not fit in 16 registers (136
//! stack loads and stores per pair-step on AVX2, as compiled). These ISAs now step the two
//! blocks alternately (`rnn_block_step`: the 8 products, then the 8 `tanh` in pairs, stage by
//! stage), as the LSTM does, and the skew is gone. Cycles per SimpleRNN sequence-step, fastest
//! of 400–600 windows (150 for SSE), the two binaries alternating, four runs (2026-12-07, the
//! same Zen 4, 3.69 GHz):
//!
//! ```text
//!                              pair, skewed `tanh`     alternating steps
//!   x86_64-avx2-fma            16.9–17.1               13.5–13.6     (−20 %)
//!   portable (SSE)             63.3–83.4               52.9–70.4     (fastest −17 %)
//! ```
//!
//! (One AVX2 run of each fell into the host's slow mode, 27.9 and 16.4–16.6; the SSE runs are
//! that noisy throughout.) On the test split (`fusedrnn bench`, the parity fixtures,
//! `FUSEDRNN_KERNEL=avx2-fma`, two runs each): 2 threads 3.99–4.04M → 5.12–5.15M reviews/s, 1
//! thread 1.60–2.06M → 2.43–2.57M. Also tried: the alternating step's 8 `tanh` as two groups of
//! four (14.7) or four pairs (15.4), against all eight stage by stage (13.6); the pair's
//! products four units at a time, to keep 4 sums live instead of 8 (32.2–33.0); and the pair
//! without the skew (18.0–25.0). Earlier, the piecewise `tanh` in the pair measured slower
//! than the batch `tanh` (AVX2 18.2–18.3 against 17.1, AVX-512 12.7–12.8 against 11.4), and
//! the skew on AVX-512 12.3–12.5 (+8 %). The AVX2 SimpleRNN pair was faster than the
//! alternating steps on Zen 5 (the table above), before the paired `tanh` and before this
//! account; Zen 5 and Golden Cove run their AVX-512 kernels, where nothing changed, and the
//! AVX2-only cores this kernel is for (Zen 3, Intel's client cores) were not measured.
//!
//! Tried the same day for the AVX2 LSTM (65.3–65.5 cycles per sequence-step), not kept: the
//! pipelined pair in chunks of 1, 2 or 4 units (87.5, 72.9, 69.6–70.3); each group of 4 units'
//! products just before its cell (71.6–72.2; with `o`'s products after `c'`, 66.6–66.8); three
//! or four blocks per step loop instead of two (65.5–65.9; AVX-512 and both SimpleRNNs did not
//! move either); and the `1 + exp` constants read as 8-float memory operands through an opaque
//! pointer, so that no `vbroadcastss` or register copy is spent on them (the AVX2 cell
//! rebroadcasts 53 constants a group of 4 units): the AVX2 LSTM 63.5 (−3 %), but the AVX2
//! SimpleRNN 13.6 → 15.0 and the AVX-512 LSTM 53.0–54.1 → 54.5–55.6.
//!
//! The AVX-512 reciprocal of the batch activations is now the division (`vdivps`, on the
//! divider) instead of `vrcp14ps` and a Newton step (three µops on the FMA pipes, which bound
//! this core): the LSTM 59.7–59.8 → 57.8 cycles per sequence-step, the SimpleRNN 11.4–11.5 →
//! 11.0–11.1 (fastest of 400 windows, three alternations, every run of each build within
//! 0.1 of the others), and the AVX-512 batch kernels give AVX2's bits. The general shapes'
//! batch did not move (`examples/net_fma_share`, two alternations: LSTM(32) 448.1–448.5
//! against 452.6–457.4 cycles per sequence-step, the other rows within their noise). On Zen 5
//! the same swap was measured once, together with Estrin polynomials, at 44.0–44.5 against
//! 43.9–44.6 (above); on Golden Cove the estimate was 2 % faster in an older build.
//!
//! **Latency** (`*_cell_lanes`): one sequence, the 32 LSTM gate pre-activations in 4 vectors
//! (`z[g]`, lane = unit), exactly Keras' column order, so `i, f, g, o` of unit `u` sit in lane `u`
//! of four registers and the cell update needs no shuffle:
//!
//! ```text
//!   z[g] = table[tok][g] + Σ_j splat(h[j]) · U[j][g]          (8 lane-broadcasts × 4 FMAs)
//! ```
//!
//! The LSTM and SimpleRNN sums run as four chains of two terms and two levels of adds, to
//! shorten the FMA dependency chain (the LSTM's on AVX-512 with two gates per zmm where the
//! CPU runs that faster, `Isa::wide_lstm_step`: half the FMAs, the same bits; see "On Zen 5"
//! and "The 8-lane step on Intel" below); every
//! activation of the step kernels is a piecewise polynomial without `exp` or division
//! ([`super::activations`]): the LSTM's sigmoids `1/2 + tanh(x/2)/2` on the `tanh`'s table
//! (on AVX-512 where `Isa::wide_lstm_step`, the `[i | f]` pair on one zmm and `tanh(g)`,
//! `σ(o)` on `[g | o]`: `Isa::lstm_gate_activations`), its `g` and
//! `tanh(c')` and the SimpleRNN's `tanh` the piecewise `tanh`, with `o ·` folded into the last
//! level of `tanh(c')`'s polynomial.
//!
//! # The latency chain, cycle by cycle (issue 16)
//!
//! Measured on the development machine: 2-core Intel Xeon under KVM (CPUID family 6 model 167),
//! AVX2+FMA and AVX-512F/BW/VL, ~3.6–4.0 GHz. Instruction latencies from
//! `benches/report/insn_latency.c` (dependent chains timed against a 1-cycle add chain, best of
//! 200):
//!
//! ```text
//!   vfmadd231ps / vmulps / vmaxps / vminps / vrcpps / vrcp14ps / vscalefps (ymm)   4
//!   vaddps / vsubps ymm                                                             2
//!   vdivps ymm                                                                   11.6
//!   vpermps ymm (the lane splat of h)                                               3
//!   vblendvps ymm                                                                   2
//!   vpaddd ymm into an FP consumer (the exponent add of scale_pow2, with bypass)    2
//!   vfmadd231ps zmm 5, vdivps zmm 19, vpermps zmm 3
//! ```
//!
//! The 2-cycle `vaddps` and 11-cycle `vdivps` match uops.info's Golden Cove (Alder Lake-P /
//! Sapphire Rapids) figures rather than those of the Rocket Lake core that model 167 names (4-cycle
//! `vaddps`): the hypervisor's CPUID is not the host's core, so the account uses the measured
//! numbers. Zen 3 differs mainly in `vmaxps`/`vminps` (1 cycle) and `vaddps` (3).
//!
//! One LSTM step, the links on the critical path (all four gates run side by side; the chain is
//! the slowest of them):
//!
//! ```text
//!                                                   before (clamp,   now (latency
//!                                                   1 − 2/(1+e))     forms)
//!   h → first lane splat (vpermps)                        3               3
//!   recurrent sum: 32 FMAs on 2 ports (16 cycles of
//!     issue) as 2 chains of 4, the last FMA, odd+even    21              21
//!   activation of the slowest gate:
//!     clamp (vmaxps + vminps)                             8               -
//!     range reduction (FMA, sub, FNMA)                   10              10
//!     Estrin degree-6 polynomial (3 levels)              12              12
//!     2^n by exponent add (vpaddd + bypass)               2               2
//!     1 + e  (tanh now: e − 1 and e + 1 side by side)     2               2
//!     vdivps                                             11.6            11.6
//!     tanh's 1 − 2/(…)                                    2               -
//!     saturation blend                                    -               2
//!   cell update c' = f·c + i·g                            8 (mul, FMA)    4 (FMA; f·c early)
//!   tanh(c') as above, numerator o·e − o by FMA         47.6            41.6
//!   h' = o · tanh(c')                                     4               - (in the numerator)
//!   total                                               131.2           107.2 cycles
//! ```
//!
//! One SimpleRNN step: first splat 3, four chains of two FMAs fed one splat per cycle by port 5
//! and two levels of adds (15 more), then one `tanh`: 47.6 before, 39.6 now; total 65.6 → 57.6
//! cycles.
//!
//! **Checked by measurement** (`examples/chain_latency.rs`: fastest of 2,000 windows of 20
//! reviews, so a loaded machine — load average 11–14 on 2 cores here — shows the time with the
//! core to itself; clock 3.99 GHz by `benches/report/clock.c`; x86_64-avx512, whose step bodies
//! are the AVX2 ones; two alternating runs of each build):
//!
//! ```text
//!                            account   measured (cycles per step of a 100-step review)
//!   LSTM     before            131      146, 150
//!            now               107      130, 130
//!   SimpleRNN before            66       72, 72
//!            now                58       65, 65
//! ```
//!
//! The removed links account for what the step lost (LSTM −16 to −20 cycles measured, −24
//! counted; SimpleRNN −7, −8 counted). What the account does not explain, ~20 cycles of the
//! LSTM step and ~7 of the SimpleRNN step, is issue contention rather than latency: the four
//! gate activations run side by side and each has ~11 µops for the two FMA ports (reduction,
//! polynomial, convert and shift), issued oldest first, not critical first, on top of the 32
//! recurrent FMAs; the account's links are each at their latency only when their ports are free.
//! Not the divider: taking the three sigmoid gates off it (`vrcpps` + a Newton step, 12 cycles,
//! leaving `vdivps` to the `tanh` gate alone) measured 130 and 137 cycles, no better, and was
//! not kept; nor the program order of the gates (the `tanh` gate first: 135 and 132 against
//! 130 and 127 in the same run).
//!
//! **The piecewise `tanh` (issue 16, step 2).** Every `tanh` of the step kernels is now the
//! piecewise polynomial of [`super::activations`] ("Piecewise-polynomial tanh"): no `exp`, no
//! division. Its chain, counted: interval index from the exponent bits 5 (and, shift, sub, max,
//! min), then eight `vpermps` for the coefficients, which issue one per cycle on the one
//! shuffle port, so the last arrives 3 + 7 = 10 cycles after the index; then the last
//! coefficient pair's FMA, and two more Estrin levels (12); the sign OR 1: about 28 cycles
//! where the `exp` form took 39.6 (the permute serialisation is the link the first estimate of
//! ~21 left out). The sigmoids keep the `exp` form: three more vectors of eight permutes each
//! would queue 24 more shuffle µops behind `g`'s and put the slowest gate later, not earlier.
//!
//! ```text
//!   LSTM step, counted:  splat 3 + sum 21 + sigmoid i/f 39.6 (g: 28, beside it) + cell FMA 4
//!                        + tanh(c')·o 28 (o in the last Estrin level)          ≈  96 cycles
//!   SimpleRNN step:      splat 3 + sum 15 + tanh 28                             ≈  46 cycles
//! ```
//!
//! Measured side by side (`examples/chain_latency`, x86_64-avx512, fastest of 2,000 windows,
//! two alternating runs of each binary in one shell, load average 15–17 on 2 cores, cycles at
//! the README's 4.09 GHz):
//!
//! ```text
//!                               exp tanh      piecewise tanh
//!   LSTM step                  150.1, 150.0   134.3, 135.4   cycles  (36.7 → 32.9 ns)
//!   LSTM step of a review      140.1, 143.9   118.9, 125.3           (3.43–3.52 → 2.91–3.06 µs)
//!   SimpleRNN step              83.3,  83.3    68.9,  68.9           (20.4 → 16.9 ns)
//!   SimpleRNN step of a review  72.2,  70.3    56.6,  56.7           (1.74 → 1.39 µs)
//! ```
//!
//! The LSTM review step lost ~20 cycles, as counted (two `tanh` of the chain each ~11 shorter);
//! the SimpleRNN review step ~15 (one `tanh`, plus less issue contention). The step figures
//! include the `Op`'s load and store of the state through memory.
//!
//! **Lower bound at the accuracy contract.** With this algorithm (`exp` by range reduction and a
//! degree-6 polynomial, one division) an activation cannot be shorter than reduction 10 +
//! polynomial 12 + exponent 2 + denominator 2 + division 11.6 ≈ 38 cycles: a polynomial of
//! degree 4 to 6 needs three dependent levels (`r²`, then two FMAs) and degree 3 misses the
//! contract by two orders of magnitude, and a Newton-refined `vrcpps` (12) is no shorter than
//! `vdivps` (11.6) here. The
//! LSTM step is then at least 21 + 3 + 38 + 4 + 40 ≈ 106 cycles (27 ns at 3.9 GHz), the
//! SimpleRNN step ≈ 56 cycles (14.5 ns): the 28 ns / 14 ns targets sit at this bound on this
//! CPU for the `exp` form. The piecewise `tanh` (above) moved that bound: with degree 7 (the
//! lowest that meets the contract on 8 octave intervals: a degree-6 fit evaluated in f32 errs
//! by 1.4e-6 on `[2, 4)`) and eight coefficient permutes on one port, it is ≥ 5 + 10 + 12 + 1 = 28
//! cycles; with the sigmoids' 39.6 the LSTM step is ≥ 3 + 21 + 39.6 + 4 + 28 ≈ 96 cycles
//! (23 ns at 4.09 GHz) and the SimpleRNN step ≥ 46 cycles (11 ns). So the 22 ns LSTM target
//! (90 cycles) is out of reach with these links; measured we are at 119–125 cycles per review
//! step and 134 per `Op` step. What would still shorten it, not built (deadline): the sigmoids
//! without `exp` (the same piecewise scheme on two zmm registers holding all 32 gates, with a
//! 16-entry `vpermps` table so that `i, f, o` and `g` share one lookup: 16 permutes per step
//! instead of the 24 that forbid it in the 8-lane layout), which would make the gate link ~28
//! instead of 39.6 (LSTM ≥ ~84 cycles); and the recurrent sum as 16 zmm FMAs (~12 cycles
//! instead of 21). Both change the AVX-512 latency path's bits against AVX2's, which today are
//! equal. (The second is now built, keeping the bits equal: "On Zen 5" below.)
//!
//! # On Zen 5 (issue 16 items 1, 2 and 7)
//!
//! Everything above was measured on the Golden Cove Xeon. This section is the same account on
//! a 2-core AMD EPYC under KVM, CPUID family 26 model 2 (Zen 5, "Turin"), AVX-512
//! F/BW/VL/DQ/VBMI/VNNI/BF16 on a full 512-bit datapath; clock by `benches/report/clock.c`
//! 3.6–3.9 GHz (best chain; ~3.75 typical). Latencies by `benches/report/insn_latency.c`
//! (dependent chains against a 1-cycle add chain, best of 200), throughputs by 8 independent
//! copies:
//!
//! ```text
//!   latency (cycles)                 ymm    zmm      throughput (cycles/insn)
//!   vfmadd231ps                       4      4.1      FMA ymm/zmm 0.5 (2 pipes)
//!   vmulps                            3      3        vaddps zmm 0.5
//!   vaddps / vsubps                   2      2        vpermps ymm/zmm 0.5 (2 pipes)
//!   vmaxps / vminps                   2      2        vpandd zmm 0.25
//!   vdivps                           10     10.1
//!   vrcpps / vrcp14ps                 4 / 5.2  5.1
//!   vscalefps / vgetexpps             3      3 / 3
//!   vpermps (lane splat)              4      5        vpermt2ps zmm 5
//!   vblendvps / vblendmps (mask)      2      2
//!   vbroadcastss xmm → zmm                   2
//!   vshuff32x4 / vextractf32x4               5 / 5
//!   vextractf32x8 / vextractf64x4 → ymm      4 / 4
//!   integer and/or/shift/add/max, epu8 max  2      2  (+1 into an FP consumer)
//!   vcvttps2dq + vcvtdq2ps            6
//! ```
//!
//! Against Golden Cove: FMA 4 (zmm too, where Golden Cove took 5), `vdivps` 10 instead of 11.6,
//! and the simple vector integer operations 2 cycles, not 1, which lengthens the piecewise
//! `tanh`'s index (five of them) by 5; two shuffle pipes, so eight lane splats or coefficient
//! permutes issue in four cycles, not eight.
//!
//! **The chain as it was** (main at d85bc1f; counted with these numbers, `a → b` the cycle
//! each link completes):
//!
//! ```text
//!   LSTM step: splats 4 (last +3.5); 32 ymm FMAs, 2 per cycle → the last done ≥ 4 + 16 + 4,
//!     odd + even 2                                                           26
//!   sigmoid i/f (exp form): reduction 10, Estrin 12, 2^n add 3, 1 + e 2,
//!     vdivps 10, saturation blend 2                                          39  → 65
//!   c' = fma(i, g, f·c) (f·c 3 after f)                                       7  → 72
//!   o·tanh(c') piecewise: index 10 (andnot, shift, sub, max, min), permute 4
//!     (+3.5 for the eighth), Estrin 12, sign OR 2                          31.5 → 103.5
//!   SimpleRNN step: splat 4, FMA 4, FMA 4, add 2, add 2, tanh 31.5             ≈ 48
//! ```
//!
//! Measured 112 and 53 cycles per step of a review (baseline, quiet machine, 3.75 GHz): the
//! account's 103.5 and 48 plus issue contention, as on Golden Cove.
//!
//! **What changed** (step 2):
//!
//! - *The piecewise index in three links.* `x >> 23` is `sign·256 + e`; a byte-wise unsigned
//!   clamp (`vpmaxub`, `vpminub`) puts byte 0 in `[BASE, BASE + 7]`, and the permute reads only
//!   the low 3 bits of a lane, so neither `|x|` nor `e − BASE` is needed: the coefficient tables
//!   are rotated by `BASE` instead (`activations::TANH_PIECEWISE_ROTATED`). Index 6 instead of
//!   10; the same coefficients, the same bits. Every `tanh` of both step kernels: −4 cycles
//!   each.
//! - *The LSTM recurrent sum on zmm* (`Isa::lstm_gate_sums` then, since folded into
//!   `Isa::lstm_gate_activations`; AVX-512 only, and now only where `Isa::wide_lstm_step`):
//!   `[i | f]` and `[g | o]` in two zmm, 16 FMAs (8 cycles of issue, no longer the bound) as
//!   four chains of two and two add levels: the last splat is ready at 8.5 (zmm `vpermps` 5),
//!   the last FMA at 13.5, `i` and `g` (the low halves) at 17.5, `f` and `o` after one
//!   `vextractf64x4` at 21.5.
//!   The step reads `f` last: `c' = fma(f, c, i·g)`. The 8-lane ISAs run the same order of
//!   operations on four ymm (so AVX-512 and AVX2 still agree bitwise), where the 32 FMAs still
//!   bound the sum at ~26–28.
//!
//! ```text
//!   LSTM step (AVX-512): sum 17.5 / 21.5, sigmoid i 39 → 56.5, i·g → 59.5,
//!     f 21.5 + 39 → 60.5, c' = fma(f, c, i·g) → 64.5, o·tanh(c') 27.5          ≈ 92
//!   SimpleRNN step: 16 + tanh 27.5                                            ≈ 43.5
//! ```
//!
//! **Measured** (`examples/chain_latency`, fastest of 2,000 windows, old (d85bc1f) and new
//! binaries alternating in one shell, three runs each, load average 13 on the 2 cores; cycles
//! at 3.9 GHz, `clock.c` best 3.84–3.89 GHz around the runs):
//!
//! ```text
//!   x86_64-avx512              before                    after
//!   LSTM step                 31.4–31.7 ns (123 cyc)    29.9–30.5 ns (117–119)
//!   SimpleRNN step            16.0–16.4 ns (62–64)      15.6–15.7 ns (61)
//!   LSTM review (100 steps)   2856–2957 ns (111–115)    2748–2752 ns (107.2)
//!   SimpleRNN review          1392–1402 ns (54.3–54.7)  1300–1308 ns (50.7–51.0)
//!   x86_64-avx2-fma (two runs each)
//!   LSTM review               3124, 3168 ns             3019, 3065 ns
//!   SimpleRNN review          1352, 1391 ns             1295, 1308 ns
//! ```
//!
//! The SimpleRNN took what the index change counts (−3.5 cycles of −4); the LSTM review step
//! took −4 to −8 of the −11.5 counted: the sum ends earlier, but the three `exp` sigmoids' ~11
//! FMA-port µops each now issue beside the tail of 16 zmm FMAs instead of after 32 ymm ones,
//! and the extract of `f` sits on the path. The AVX2 path (same order of operations, 32 ymm
//! FMAs) gained too (−3 %: the index), so nothing was given up there.
//!
//! **Beside a batch job** (item 7; `chain_latency avx512 3.9 busy`: single reviews and steps
//! timed 10 at a time, 20,000 samples, p50 / p99, then again while a second thread runs
//! `lstm_forward` on 256 reviews in a loop; same load):
//!
//! ```text
//!                       alone p50 / p99        beside a batch predict p50 / p99
//!   LSTM step           34.1 /   58.1 ns        35.0 /   47.1 ns
//!   SimpleRNN step      18.0 /   19.1 ns        19.0 /   28.0 ns
//!   LSTM review         2955 / 4817 ns          2974 / 4958 ns
//!   SimpleRNN review    1402 / 1622 ns          1402 / 1442 ns
//! ```
//!
//! The median moves by 0–5 % with the batch thread on the other core (a step reads one
//! 128-byte table row and 1 KiB of recurrent weights, so little of what the batch thread
//! competes for); the p99s are set by the machine's load (other processes and the
//! hypervisor), which swamps the batch thread's effect here. One run each, on a loaded
//! machine: the quiet figures belong to `fusedrnn bench`.
//!
//! **Lower bound on Zen 5, at the accuracy contract.** The links left are the lane splat (5),
//! the sum (≥ FMA 4 + FMA 4 + two adds 4), the `exp` sigmoid (39: its division alone is 10 +
//! the `1 + e` add 2) and the piecewise `tanh` (index 6 + permute 4 + three Estrin levels 12 +
//! sign 2 = 24 without permute queueing), and one FMA for `c'`: LSTM ≥ 5 + 12 + 39 + 4 + 24 ≈
//! 84 cycles (≈ 22 ns at 3.8 GHz), SimpleRNN ≥ 4 + 12 + 24 = 40 (≈ 10.5 ns). The 22 ns
//! LSTM target sits on this bound; it needs the sigmoids off `exp`: built next.
//!
//! **The sigmoids off `exp`** (issue 16 item 2, a later session; same CPU, AMD EPYC family 26
//! model 2). `σ(x) = 1/2 + tanh(x/2)/2`, evaluated on the piecewise `tanh`'s intervals with its
//! coefficients scaled by powers of two (`activations::sigmoid_piecewise`: `x/2` has the
//! mantissa of `x`, so only the interval base moves by one; the sign and the `1/2` ride in the
//! last two FMAs; no saturation step). Its chain: index 6, permute 5 (zmm), two Estrin levels
//! 8, `s·M0 + 1/2` 4, the last FMA 4: ~27 against the `exp` form's 39. On AVX-512 the `[i | f]`
//! sigmoids run on their zmm as the sum leaves it (one activation's 8 permutes and ~11
//! FMA-pipe µops for two gates; `f` extracted after its activation instead of before), `g` and
//! `o` on ymm; the AVX-512 `Isa` got vector `piecewise_interval` / `lookup8` /
//! `with_sign_of` (the AVX2 instructions on zmm, proptested against the lane-by-lane
//! defaults). The bits stay the AVX2 path's. Counted:
//!
//! ```text
//!   LSTM step (AVX-512): h → splats ~5, sum 12 → [i | f], [g | o] at ~17.5;
//!     σ([i | f]) ~28 (+ permute queueing) → 45.5, f extracted → 49.5; g (tanh) 24 → 41.5,
//!     i·g → 48.5; c' = fma(f, c, i·g) → 53.5; o·tanh(c') ~28 → ≈ 82 cycles
//! ```
//!
//! Measured (`examples/chain_latency avx512`, fastest of 2,000 windows; main's binary (old),
//! the piecewise sigmoid for `i, f, o` on ymm only (A), and the kept version with `[i | f]` on
//! zmm (B), alternating in one shell, two runs each, load average 12–13 on the 2 cores;
//! `clock.c` typical 3.82–3.95 GHz around the runs, cycles at 3.75 GHz as printed):
//!
//! ```text
//!                            old                   A (ymm)              B (kept)
//!   LSTM step                29.7, 29.1 ns         30.1, 29.7           27.5, 27.9
//!   LSTM review (100 steps)  2747, 2658 ns         2710, 2706           2521, 2437
//!     cycles per step        103.0, 99.7           101.6, 101.5         94.5, 91.4
//!   SimpleRNN step           15.4, 14.4 ns         15.0, 15.4           15.4, 15.5
//!   SimpleRNN review         1298, 1284 ns         1264, 1274           1281, 1294
//! ```
//!
//! A alone bought nothing: three ymm sigmoids of 8 permutes each (32 permutes a step with
//! `g`'s, 40 with `tanh(c')`'s, beside the ~11 of the lane splats) and ~11 FMA-pipe µops each
//! compete for the pipes the chain's own µops need, so the ~12 cycles off each sigmoid's chain
//! did not show. B takes one sigmoid's µops away and gains ~8 % on the review step. The step is
//! still ~10 cycles above its count: issue contention, as before. What was left: `g` and `o`
//! on their zmm `[g | o]` too, 8 more permutes and ~11 FMA-pipe µops off the step (built in a
//! later session, next section).
//!
//! # `[g | o]` on one zmm (issue 16 item 2; Golden Cove again, 2026-12-05)
//!
//! Measured on a 2-core Intel Xeon under KVM, CPUID family 6 model 167 (the Golden Cove of the
//! first sections; 3.59 GHz by `benches/report/clock.c` all session, where earlier sessions
//! saw 4.09). `Avx512::tanh_sigmoid_piecewise` evaluates `tanh(g)` and `σ(o)` in one pass over
//! the zmm `[g | o]`: each half clamps its exponent to its own 8 intervals, the sigmoid half's
//! index moves by 7 (one `vpaddd`) so the two sets are disjoint mod 16, and one 16-entry
//! `vpermps` per coefficient reads `tanh`'s or the sigmoid's row
//! (`activations::TANH_SIGMOID_PIECEWISE`). Both end in the sigmoid's FMA,
//! `(s·t⁴)·M1 + (s·M0 + a)` with `a = 1/2` or `−0`; for `tanh` that is `tanh_piecewise`'s
//! value with the sign put on before the last rounding instead of after, the same bits but
//! `tanh(−0) = +0`, which can reach only the sign of a zero `c'` and `h` (`x86_64_avx512.rs`).
//! Every other bit of the LSTM step stays AVX2's; `tests/kernels.rs` compares the two steps
//! state by state on random models.
//!
//! `examples/chain_latency avx512`, fastest of 2,000 windows, cycles at 3.59 GHz, main's
//! binary and this one alternating, three runs each:
//!
//! ```text
//!                           main (zmm [i | f] only)    [g | o] too
//!   LSTM review step         133.0–133.1                127.4–131.2   (3707 → 3550–3653 ns)
//!   LSTM step (Op)           138.0–138.1                136.5–136.6
//!   SimpleRNN review/step    50.8–50.9 / 62.6–62.7      unchanged
//! ```
//!
//! Tried in the same runs and not kept:
//!
//! - *The sign on the last FMA for every `tanh`* (the SimpleRNN's and `o·tanh(c')`, `s = ±m`):
//!   one link shorter on paper; the LSTM review step 131.2 alone and 127.0–128.7 with the
//!   pair (within the pair's own spread), the SimpleRNN step 62.6 → 65.3 (its review
//!   unchanged).
//! - *The AVX2 step on this core* (an Intel-only switch of the one-sequence LSTM): before the
//!   pair it was 4 % faster than the zmm step (128.7–129.9 against 133.1: Golden Cove's zmm FMA
//!   takes 5 cycles to the ymm one's 4, and 512-bit µops close port 1 to vector work); with
//!   the pair the two are within each other's spread (128.7–128.9 against 126.8–131.2), so no
//!   vendor switch.
//!
//! On the batch kernels of this core (`examples/batch_throughput`, fastest of 400 windows,
//! three alternations; kept neither): `vrcp14ps` and a Newton step instead of `vdivps` in the
//! batch activations, LSTM 15.7–16.1 → 15.2–15.5 ns per sequence-step (−3 %; Zen 4 measured the
//! opposite, and the division keeps AVX2's bits); one AVX-512DQ `vrangeps` for the symmetric
//! clamps instead of `vmaxps` + `vminps`, −4 % on both kernels, but it returns the bound for a
//! NaN input (`Avx512::clamp_keep_nan`).
//!
//! **What the Zen sessions cost this core** (same machine and clock; each commit's
//! `examples/chain_latency` and `batch_throughput` built and run side by side, two or three
//! alternations, cycles): the last Golden Cove report (45827e2, 2026-12-02) ran the 100-step
//! LSTM review at 115.9–116.6 cycles a step and the batch LSTM at 50.2–50.7 per
//! sequence-step, where main measured 131.1–131.2 and 56.2–57.8. Bisected:
//!
//! ```text
//!                                              LSTM review step   batch LSTM   batch SimpleRNN
//!   1b0d6c2^ (as 45827e2)                          116.0              50.2          10.8
//!   1b0d6c2  LSTM sum on two zmm, 3-link index     150.0–150.2         —             —
//!   aad65a1  piecewise sigmoids, [i | f] on zmm     132.9–133.0         —             —
//!   2231659  the pipelined pair (batch branch)        —               55.9          12.2
//!   4d0e48b  the batch reciprocal a division          132.3            56.2–56.3     11.9
//!   7ba34a6  [g | o] on zmm                         131.1–131.2       56.2–56.6     11.9
//! ```
//!
//! The pipelined pair is now chosen per CPU (`Isa::pipelined_pairs`, `Avx512::pipelined_pairs`:
//! off on Intel's cores, the same bits either way, tested): batch LSTM 56.2–56.4 → 50.0, the
//! SimpleRNN 11.9 → 11.4 here. The latency step is not fixed: its ymm form (the AVX2 kernel's,
//! 128.7–129.7) is as slow as the zmm one on this core, and what made 1b0d6c2^ faster is the
//! `exp` sigmoids, whose µops go to the FMA ports where the piecewise ones queue 8 permutes
//! each on port 5, Golden Cove's one shuffle port. Taking them back on Intel would give the
//! latency kernels different bits on Intel's and AMD's cores (the piecewise and `exp` forms
//! differ by up to ~3e-7): not decided in this session. (The next session measured that the
//! `exp` sigmoids are not what this core lacks; next section.)
//!
//! # The 8-lane step on Intel (issue 16 item 2; Golden Cove, 2026-12-05, a later session)
//!
//! Same machine and clock (3.59 GHz). What made 1b0d6c2^'s LSTM step fast here is not the `exp`
//! sigmoids but the 8-lane form itself compiled inside the AVX-512 trampoline: AVX-512VL's
//! encodings and 32 registers for the AVX2 code, where the AVX2 kernel compiles the same
//! source to 129 cycles a step, and no 512-bit µop, which on this core closes port 1 to
//! vector work. So the step on zmm is now chosen per CPU
//! (`Isa::wide_lstm_step`, `Avx512::zmm_lstm_step`: on AMD's cores, where it measured faster,
//! off on Intel's; later on Zen 5 and after only, see "Zen 4 takes Intel's forms"), decided
//! once per review, not per step. Off, the step is the AVX2 kernel's
//! code and bits exactly (its `tanh(−0)` too).
//!
//! `examples/chain_latency avx512`, fastest of 2,000 windows, cycles a step at 3.59 GHz, the
//! binaries alternating, three runs each (two for the `exp` variants):
//!
//! ```text
//!                                                   LSTM review step   LSTM step (Op)
//!   main (zmm: sum, [i | f], [g | o])                   130.5–131.2          136.7
//!   kept: the 8-lane step under AVX-512                 121.6–121.9        125.0–125.1
//!   zmm sum, `exp` sigmoids on [i | f] and o (ymm)      138.8–138.9          146.7
//!   the 8-lane step, `exp` sigmoids                     116.1–116.2        128.8–128.9
//!   1b0d6c2^ (8-lane, `exp` sigmoids, old sum order)    115.9–116.5        124.4–125.4
//!   the AVX2 kernel (the 8-lane step, AVX2 encodings)   128.9–129.4        136.5–136.9
//! ```
//!
//! The `exp` sigmoids on zmm are slower than the piecewise ones (138.9 against 131.2), and on
//! the 8-lane step they would take 5 % more off the review, not the step, at the price of
//! different bits on Intel's and AMD's cores: not taken. The SimpleRNN step is unchanged
//! (50.8 a review step; it has always run on the 8-lane form).
//!
//! Tried on the batch kernels in the same session and not kept (`examples/batch_throughput`,
//! fastest of 300 windows, three alternations, cycles per sequence-step): the exponent by a
//! shift (`Isa::EXP_BY_SHIFT`, the same bits) on AVX-512 took the LSTM from 50.0–50.6 to 48.7
//! here, where Zen 4 had measured it slower. Made a per-CPU choice (a runtime flag of the
//! proof, tested in the activations or once in the trampoline), it kept none of that (50.0–51.1
//! either way) and moved the SimpleRNN from 11.4 to 10.5–10.7 whichever value the flag had: a
//! code-layout effect of the extra code, not of the arithmetic, so not something to keep.
//! Three or four blocks per step loop instead of two (alternating): LSTM 50.3–51.2 against
//! 50.0, the SimpleRNN 11.4 either way. On the 8-lane step, `σ(o)` after `c'` in program
//! order: 121.5–121.7 against 121.6–121.9 (LLVM schedules the same). For scale
//! (`benches/report/insn_latency.c` on this core): zmm `vdivps` 10.6 cycles of throughput, 19
//! of latency, so the LSTM block-step's 40 divisions need 423 of its ~800 cycles: not the
//! bound, nor are the two ports (~600).
//!
//! # The step from the caller's state (issue 16 item 2; Golden Cove, 2026-12-06)
//!
//! Same machine, 3.59 GHz. A step `Op` (`Kernel::lstm_step`, `rnn_step`, and so a streaming
//! session) finds `h` where the last step stored it, in the caller's state. It loaded the vector
//! (store-to-load forwarding, on the chain) and then splatted its lanes with eight `vpermps` on
//! the one shuffle port. It now broadcasts each `h[j]` from the stored state ([`InMemory`]):
//! eight `vbroadcastss` loads on AVX2 and AVX-512, each forwarded from the same store, and no
//! shuffle. A review keeps `h` in a register and splats it as before ([`InRegister`]). The same
//! values, so the same bits: `tests/kernels.rs` checks stepping against the review bitwise, and
//! a mutation that broadcasts the wrong lane fails it.
//!
//! `examples/chain_latency`, fastest of 2,000 windows, cycles a step, main's binary and this one
//! alternating, two runs each:
//!
//! ```text
//!                                 before          after
//!   x86_64-avx512   LSTM step      125.0–125.1     121.1–121.3
//!                   SimpleRNN step  62.0–62.1       57.3
//!   x86_64-avx2-fma LSTM step      137.5–137.7     129.5–131.8
//!                   SimpleRNN step  68.5            57.9
//!   reviews (both kernels)         unchanged (within 0.3)
//! ```
//!
//! The AVX-512 `Op` on AMD's cores (`Isa::wide_lstm_step`) loads the vector for its zmm sums
//! as before; its SimpleRNN step takes the broadcasts too (not measured there).
//!
//! Tried in the same session and not kept (same tools; batch figures from
//! `examples/batch_throughput`, cycles per sequence-step):
//!
//! - *The broadcasts inside a review* (`h` stored to the stack each step and broadcast back,
//!   behind `black_box` so LLVM keeps the round trip): LSTM review step 121.6 → 125.3,
//!   SimpleRNN 50.8 → 57.0. In a register, the forward costs more than the shuffles it saves.
//! - *All eight splats ahead of the SimpleRNN's FMAs* in program order, instead of each beside
//!   its FMA: the review step 50.8 → 53.3, reproducibly.
//! - *The batch gather by `vgatherdps`* (one gather per gate-unit from a vector of row
//!   offsets, instead of 128-bit loads, inserts and in-lane transposes): LSTM 50.0 → 61.9,
//!   SimpleRNN 11.4 → 14.2.
//! - *Each block's table rows looked up once before its steps* (an array of 100 × 16 row
//!   references, so a step's gather does no token loads, bounds checks or shifts): LSTM 50.0 →
//!   57.0, SimpleRNN 11.4 → 18.5. The scalar work was already running beside the vector work.
//! - *Each recurrent sum of the batch as two chains of four* (`j < 4` onto `zx`, `j ≥ 4` from a
//!   product, one add; alternating blocks, Intel's path): SimpleRNN 11.4 → 11.1, LSTM 50.0 →
//!   50.9–52.7. The SimpleRNN's 3 % would change its batch bits (the order of its sums) on
//!   every kernel and needs the same order in the pipelined pair that AMD's cores run (not
//!   measurable here): not taken.
//!
//! For scale (same tool; not kept, they compute wrong values), each against main's build in the
//! same runs: the batch gather costs the LSTM 5.8 cycles per sequence-step and the SimpleRNN 1.7
//! (every lane given lane 0's row instead: 44.3 against 50.1, 9.7 against 11.4); the division
//! 5.4–5.6 and 2.0 (a multiply in its place: 44.4–44.6 against 50.0, 9.4 against 11.4).
//!
//! # One permute per lane splat (issue 16 item 2; Golden Cove, 2026-12-06, a later session)
//!
//! Same machine, 3.59 GHz. A review keeps `h` in a register and splats each lane with
//! `Isa::lane_splat` ([`InRegister`]). On the 8-lane ISAs (the AVX2 kernel, and the AVX-512
//! kernel's 8-lane steps) that was a `vpermps` with a constant index, which LLVM rewrote for
//! seven of the eight lanes as two shuffles (`vshufps` then `vpermpd` or `vbroadcastss`,
//! `vextractf32x4` then `vbroadcastss`): ~15 µops on port 5, this core's one shuffle port,
//! where 8 do, and a cycle longer for most lanes. Counted in the compiled loops: the SimpleRNN
//! review step held 23 shuffles in 64 instructions (its `tanh`'s 8 coefficient permutes, the
//! rest splats), the LSTM review step 55 in 249. `Avx2Fma::lane_splat` now reads its index
//! from a static with a volatile load (off the chain: it does not depend on `h`), so LLVM
//! cannot see the constant and keeps one `vpermps` per lane: 16 and 48 shuffles a step. The
//! same values, so the same bits.
//!
//! `examples/chain_latency`, fastest of 2,000 windows, cycles a step, main's binary and this one
//! alternating, two runs each:
//!
//! ```text
//!                                       before          after
//!   x86_64-avx512    SimpleRNN review    50.8            47.1–47.2   (1416 → 1313 ns)
//!                    LSTM review         121.8–122.1     120.1–120.2
//!   x86_64-avx2-fma  SimpleRNN review    54.2–54.3       48.5
//!                    LSTM review         128.9–130.2     127.1–127.2
//!   the step Ops ([`InMemory`], no splat), both kernels: unchanged
//! ```
//!
//! Not measured on AMD's cores, which run this code for the SimpleRNN review (Zen 3 on AVX2,
//! Zen 4 and 5 in the AVX-512 kernel), until Zen 3 ("Splats from halves on Zen 3" below: there
//! `vpermps` takes 8 cycles from `h`, and the AVX2 kernel splats from its halves instead). The AVX-512 kernel's zmm splats (AMD's LSTM step,
//! `Isa::wide_lstm_step`, in `Avx512::gate_sums_zmm`) are still LLVM's shuffle sequences
//! (`vbroadcastss`, `vmovshdup`, `vshufps`, `vshuff64x2`: 15 shuffles for 8 splats), and may
//! be right there: on Zen 5 a zmm `vpermps` has a latency of 5 (the port account above) where
//! these shuffles take one or two cycles and issue on any of four pipes. Only a Zen core can
//! tell; this one does not run the zmm step (forced on here, its review measured 131 cycles a
//! step against the 8-lane step's 120).
//!
//! # The bounds on Golden Cove, counted on this code (issue 16 item 1; 2026-12-06)
//!
//! Issue 16 asks for each figure's share of its lower bound. These are the bounds of this code,
//! the instructions the kernels compile to, on this core. They are not bounds of every
//! algorithm that meets the accuracy contract; the sections above give those. README's
//! inference table divides them by the measured cycles (`BOUNDS` in
//! `benches/report/report.py`, keyed by vendor, family, model and kernel, so no other core gets
//! them).
//!
//! **Latencies**, measured this day by `benches/report/insn_latency.c` (4.08 GHz, cycles): ymm
//! `vfmadd231ps` 5.0, `vmulps` 4.0, `vaddps` 2.0, `vpermps` 3.0 (one a cycle, one shuffle
//! port), the index's `vpsrld`, `vpmaxub` and `vpminub` 1 each, a ymm store and a
//! `vbroadcastss` load forwarded from it 6.2. (Earlier sessions read 4 for the ymm FMA on this
//! machine; the host's CPU is not the same from day to day.)
//!
//! **The latency chains.** Counted link by link with those latencies. No two µops are assumed
//! to compete for a port, except that one activation's 8 coefficient permutes issue one a
//! cycle:
//!
//! ```text
//!   h → splat of h[j]                                              3 + j   (j = 0..7)
//!   sum (per gate; the SimpleRNN's alike):
//!     fma(s0, U0, row) or s·U for j = 1..3                         8–10
//!     fma(s4..7, U4..7, …)                                         13–15
//!     two levels of adds                                           19
//!   piecewise tanh or σ of z, from z:
//!     index k (shift, byte max, byte min)                           3
//!     the 8 coefficients, one permute a cycle                       6–13
//!     Estrin level 1 (its last pair)                                18
//!     level 2 (M1), level 3 (P, or the σ's last FMA)                23, 28
//!     the sign OR (tanh)                                            29
//!   SimpleRNN review step: 19 + 29                                 = 48
//!   LSTM review step: σ(i), σ(f) at 19 + 28 = 47, tanh(g) at 48;
//!     i·g 52; c' = fma(f, c, i·g) 57; o·tanh(c') 57 + 29           = 86
//!   a step `Op`: the state's round trip (6.2) instead of the splat's 3:
//!     SimpleRNN 51, LSTM 89
//! ```
//!
//! The sum's 32 products need 16 cycles of issue on the two FMA ports, so the LSTM's last gate
//! is ready ~4 cycles later than counted. The count leaves that out, and also the three gates'
//! 24 permutes queueing on the one shuffle port.
//!
//! **The batch block-steps.** Counted in the compiled `x86_64-avx512` kernel (objdump of
//! `examples/batch_throughput`, the LSTM with the fused cell of the next section; its step is
//! three loops, run once, 4 and 2 times). Every
//! 512-bit µop runs on port 0 or port 5: `insn_latency.c` times any two of them at 1.08 cycles
//! a pair. One block-step, 16 sequences:
//!
//! ```text
//!                                          LSTM    SimpleRNN
//!   FMA and multiply                        616       136     (256 and 64 recurrent)
//!   add, sub, max, min                      176        32
//!   vscalefps                                40         8
//!   vdivps, 3 µops each (two port 0, one 5)  48        24     (16 and 8 divisions)
//!   unpack and 256-bit insert (port 5)       96        24     (the gather's transposes)
//!   128-bit inserts from memory (ALU µop)    64        16
//!   µops on ports 0 and 5                 1,040       240
//!   bound, cycles per sequence-step        32.5       7.5
//! ```
//!
//! Below these bounds: the divider (16 divisions at ~10.6 cycles is 10.6 per sequence-step;
//! the SimpleRNN's 8 need 5.3), the loads (~550 on three ports, ~12 per sequence-step) and the
//! front end (~1,550 µops at 6 a cycle, ~16). Not counted: 80 zmm register copies in the LSTM
//! block-step and 16 in the SimpleRNN's (`vmovaps` before a destructive FMA), which the renamer
//! may eliminate. Counted as µops, they would make the bounds 35.0 and 8.0. (Before the fused
//! cell the LSTM block-step held 1,096 of these µops, 40 of them divisions: 34.3.)
//!
//! **Measured against them** (4.09 GHz; `examples/chain_latency`, fastest of 2,000 windows,
//! and `examples/batch_throughput`, fastest of 300; three or four runs each):
//!
//! ```text
//!                            bound   measured       share
//!   SimpleRNN review step      48    47.1–48.3      ~100 %
//!   SimpleRNN step (Op)        51    57.3–61.8       83–89 %
//!   LSTM review step           86    119.7–122.8     70–72 %
//!   LSTM step (Op)             89    121.1–130.7     68–73 %
//!   LSTM batch sequence-step   32.5  45.4–46.2       70–72 %   (before the fused cell:
//!                                                              34.3, 51.4–51.9, 66–67 %)
//!   SimpleRNN batch            7.5   11.8–12.3       61–64 %
//! ```
//!
//! The SimpleRNN review is at its chain, so only a shorter `tanh` would make the step faster.
//! (The FMA takes 5 cycles through any of its three operands: a scratch chain through the
//! multiplicand measured 5.00 this session as well. The measured 47.1 is below the count of 48
//! because the cycles assume 4.09 GHz, and `clock.c` read 3.99–4.09 around these runs.) The LSTM
//! review is 34 cycles above its chain, and the chain leaves out two costs (above). The three
//! gates' 24 permutes share the one shuffle port: where they interleave, the slowest gate's
//! last coefficient comes up to 16 cycles after its own eight would. The products' issue adds
//! ~4 more. The batch steps are neither port nor divider bound ("The pipelined pair", "On Zen
//! 4" above). Splitting the splats of a review between `vpermps` (`h[0..4]`, which the first
//! products read) and broadcasts from a stored copy (`h[4..8]`, read one FMA later) was tried
//! in this session, to take 4 of the 48 shuffles a step off port 5. It measured the LSTM review
//! step at 119.3–122.2 against 119.7–122.8, and the SimpleRNN's at 50.5–54.5 against 48.1–48.3,
//! so it was not kept. Forcing the pipelined pair on for the SimpleRNN here measured 12.4–12.7
//! against 11.8 (still off on Intel's cores).
//!
//! # The bounds on Zen 4, counted on this code (issue 16 item 1; 2026-12-06)
//!
//! As "The bounds on Golden Cove" above, for AMD EPYC family 25 model 17 (Zen 4, 2 cores under
//! KVM, 3.69 GHz by `clock.c`) and the `x86_64-avx512` kernel in the forms this core now runs
//! (alternating block pairs, the 8-lane LSTM step: "Zen 4 takes Intel's forms" below).
//!
//! **Latencies** by `benches/report/insn_latency.c` (cycles): ymm `vfmadd231ps` 4.0, `vmulps`
//! 3.0, `vaddps` 3.0, `vmaxps` 2.0, `vpermps` 4.0 (two a cycle: the lane splat and the
//! coefficient permutes), `vdivps` 11.0, the index's integer ops 1 each, a ymm store and a
//! `vbroadcastss` load forwarded from it 10.0. Throughputs (each beside itself, an FMA, an
//! add): a zmm FMA or multiply takes both 256-bit FMA pipes for a cycle, one a cycle; `vaddps`,
//! `vmaxps` and `vscalefps` (two cycles) run on the two ADD pipes beside FMAs; the unpacks and
//! shuffles pair with an FMA in one cycle; `vdivps` zmm one per 6.0 cycles.
//!
//! **The latency chains**, with the links of the Golden Cove count:
//!
//! ```text
//!   h → splat of h[j]                                              4 + ⌊j/2⌋
//!   sum: fma(s0, U0, row) 8, s·U for j = 1..3 7–8,
//!     fma(s4..7, U4..7, …) 11–12, two levels of adds               18
//!   piecewise tanh or σ of z, from z: index 3, the 8 coefficients
//!     two a cycle 7–10, Estrin levels 14, 18, 22, the sign OR 23
//!   SimpleRNN review step: 18 + 23                                 = 41
//!   LSTM review step: σ(i), σ(f) at 18 + 22 = 40, tanh(g) at 41;
//!     i·g 44; c' = fma(f, c, i·g) 48; o·tanh(c') 48 + 23            = 71
//!   a step `Op`: the state's round trip (10) instead of the splat's 4:
//!     SimpleRNN 47, LSTM 77
//! ```
//!
//! As there, the count leaves out the sum's 32 products queueing on two FMA pipes (16 cycles
//! of issue) and the three gates' 24 permutes (12 cycles on two pipes).
//!
//! **The batch block-steps**: the µops of the Golden Cove table, from the same source. The two
//! FMA pipes take one zmm FMA or multiply a cycle, so they bound both kernels: LSTM 616 a
//! block-step (256 recurrent, 360 in the fused cell), SimpleRNN 140 (64 recurrent, 64 in the
//! eight `1 + e^(2x)`, 12 in the four pairs' product and FMAs). The ADD pipes need 256 and 56
//! cycles (the adds, subtractions and clamps, and `vscalefps` at two), the gather's 128 and
//! 32 shuffles pair with FMAs, and the divider 96 and 24 (16 and 4 divisions).
//!
//! ```text
//!                            bound   measured (3.69 GHz)   share
//!   SimpleRNN review step      41    47.1–47.2              87 %
//!   SimpleRNN step (Op)        47    55.4–55.9              84–85 %
//!   LSTM review step           71    108.9–109.1            65 %
//!   LSTM step (Op)             77    120.7–128.5            60–64 %
//!   LSTM batch sequence-step   38.5  53.0–53.3              72–73 %
//!   SimpleRNN batch            8.75  11.4                   77 %
//! ```
//!
//! (`examples/chain_latency avx512 3.69 quiet 8-lane`, fastest of 2,000 windows, and
//! `examples/batch_throughput avx512 3.69 600 alternating`, fastest of 600; three runs each.)
//! The LSTM review is 38 cycles above its count, as on Golden Cove (34); there the three gates'
//! permutes queue on one shuffle port, here on two, so the queueing does not explain the gap
//! by itself.
//!
//! # The review step on Zen 4, gate by gate (issue 16 item 1; 2026-12-06, a later session)
//!
//! Same core and clock. To find the 38 cycles, timing-only builds (not kept) replaced parts of
//! the 8-lane step by one FMA each, the rest unchanged (`examples/chain_latency avx512 3.69
//! quiet`, fastest of 2,000 windows, two runs each, cycles a review step):
//!
//! ```text
//!   the step as it is                                          108.3–108.9
//!   σ(o) replaced                                              109.5–110.4
//!   σ(i) replaced; σ(f); tanh(g)                               97.8–98.3; 97.4–97.6; 98.1–98.4
//!   σ(i) and σ(f)                                              91.4
//!   σ(i), σ(f) and tanh(g)                                     76.3
//!   all four gates                                             68.8–69.1
//!   all four gates and tanh(c') (h = o·c')                     44.5–44.8
//! ```
//!
//! - `tanh(c')` costs 24 cycles over a multiply, about its count (23 − 3): the tail of the
//!   step waits on latency.
//! - `σ(o)` costs nothing: it runs beside `c'` and `tanh(c')`.
//! - Each of the three gates on `c'`'s path costs 10–11 cycles alone and the three 32, where
//!   their chains run side by side and should cost one chain (~22). That phase is bound by
//!   issue, not by latency.
//! - Not by the number of µops as such: 10 fewer integer µops a step (interval 0 by a float
//!   compare that also carries a NaN into the argument, and the sign by one ternary-logic µop)
//!   measured 108.7–109.4; the sigmoid's sign multiply and `s·M0 + 1/2` off the FMA pipes (a
//!   sign OR and an add, the same bits) 109.1–112.8.
//! - The pipes are shared (`benches/report/insn_latency.c`'s ymm table, cycles per
//!   instruction alone, then per pair beside a multiply and beside an add): `vpermps` and
//!   `vpermd` 0.50, 0.69, 0.69, a pipe shared with each of the two pairs of pipes; FMA and
//!   multiply 0.50 and 1.00 beside a multiply; `vaddps`, `vcmpps` and `vpsrld` 1.00 beside an
//!   add; `vblendvps` 1.00 beside a multiply; `vpand` and `vpmaxub` 0.25 alone and 0.51 beside
//!   either. The gates' permutes and FMAs queue for the same pipes; their integer µops do not.
//!
//! So what counts is which ready µops issue first, and the core takes the oldest: program
//! order. `c' = fma(f, c, i·g)` needs `i` and `g` one multiply before `f`. Kept: the
//! recurrent sums in the order `i, g, f, o`, and in a review `tanh(g)` activated before
//! `σ(f)` (`HSplat::TANH_BEFORE_FORGET`). No bit changes. Measured (main's binary and this
//! one alternating, four to eight runs each, cycles; the runs that found the other core busy,
//! 5–35 cycles slower in both binaries, left out):
//!
//! ```text
//!                         x86_64-avx512                x86_64-avx2-fma
//!                         before        after          before        after
//!   LSTM review step      109.0–109.4   103.9–104.8    108.9–109.2   103.7–103.8
//!   LSTM step (Op)        120.7         121.1–121.2    122.4–122.7   122.2–122.9
//! ```
//!
//! The gate order alone took the review to 104.3–104.6 and 105.6–105.9; the sums' order takes
//! AVX2 two cycles more. In the step `Op`, where `h` comes from memory, `tanh(g)` before `σ(f)`
//! measured slower (120.6–120.8 → 123.0–124.6), so the `Op` keeps `σ(f)` first. Tried and not
//! kept: `tanh(g)` first of all (review 106.6–107.3, `Op` 127.1–127.8); `σ(o)` after the cell
//! update in program order (review 105.4–105.6, `Op` 122.9–123.7). Measured on Zen 4 only: the
//! 8-lane step also runs on Golden Cove and on AVX2-only cores, where the order is not
//! measured yet. Against the bound counted above (71), the review step went from 65 % to 68 %.
//!
//! # Several steps in one call (issue 16 item 2; Zen 4, 2026-12-06, a third session)
//!
//! Same core and clock. The step `Op` is 17 cycles slower than a review step (121 against 104),
//! where the round trip of `h` through the state's memory was counted at 6 (a forwarded
//! `vbroadcastss` 10 cycles after the store, `insn_latency.c`, against a register `vpermps`'s
//! 4). Timing-only builds (not kept), `examples/chain_latency avx512 3.69 quiet`, cycles a step,
//! alternating with main's binary (104.1–105.5 review, 121.0–121.4 step), two runs each:
//!
//! ```text
//!   review, h stored and broadcast back each step (the Op's InMemory)     120.5–121.6
//!   review, h stored and loaded back as a vector, then vpermps splats     115.2–116.6
//!   review, 60 nops a step (the Op's call and return, and more)           105.5–105.9
//!   Op, h loaded as a vector, then vpermps splats (either gate order)     123.1–130.0
//!   SimpleRNN Op, the same                                                 61.2–63.0 (54–56)
//! ```
//!
//! The whole gap is the round trip, not the call: a review that takes it costs what the `Op`
//! costs, and 60 more instructions a step cost 1–2 cycles. In the chain's context the forward
//! costs 11–17 cycles over the splats, though a loop of a store, eight broadcasts and a tree of
//! adds (`/tmp` C, not kept) costs 4.6 over the same loop with `vpermps`, and which form of
//! reading `h` back is faster differs between the review and the `Op`; with no PMU here the
//! cause is not settled. The broadcasts stay in the `Op`.
//!
//! What a caller with several tokens at hand can skip is the round trip itself:
//! `Kernel::lstm_steps` / `rnn_steps` ([`lstm_steps`], [`rnn_steps`]) take a slice of tokens,
//! load the state once, run the review's loop ([`lstm_steps_in_registers`], `h` and `c` in
//! registers) and store it once. The same operations per step, so the same bits as one `Op` per
//! token (`tests/kernels.rs`, every kernel and both AVX-512 LSTM step forms, calls of every
//! length). `infer::Session::feed_all`, the notebook's `TextSession::push_tokens`, and so the C
//! API's and Python's `push_ids`, step through them. Cycles a step, 100 tokens a call against one
//! a call, the same binary, two runs:
//!
//! ```text
//!                      x86_64-avx512                    x86_64-avx2-fma
//!                      one a call    100 a call         one a call    100 a call
//!   LSTM               119.2–121.0   106.5 (28.9 ns)     122.5         104.9 (28.4 ns)
//!   SimpleRNN           53.8–54.0    49.0 (13.3 ns)       56.6         48.1 (13.0 ns)
//! ```
//!
//! A text chunk (`TextSession::push_str`) still steps each word as the tokenizer finishes it:
//! buffering a chunk's ids and stepping them together measured 61.3–61.5 ns a word against
//! 62.5–64.3 (a 230-word chunk, fastest of 3,000; not kept), since the tokenizer's work no
//! longer runs beside the steps' chains.
//!
//! # The fused cell (issue 16 item 3; Golden Cove, 2026-12-06)
//!
//! The batch LSTM's cell no longer evaluates its five activations one by one. With `D(x) = 1 +
//! e^(−x)` and `P(x) = 1 + e^(2x)` (`σ = 1/D`, `tanh = (P − 2)/P`):
//!
//! ```text
//!   c' = ((P_g − 2)·D_f + c·(P_g·D_i)) / ((P_g·D_i)·D_f)        h = (P_c − 2) / (P_c·D_o)
//! ```
//!
//! (`activations::lstm_cell_c_batch_n` and `lstm_cell_h_batch_n`, four units at a time, stage by
//! stage, as before). The same five `1 + exp` are computed, but a unit takes two divisions
//! instead of five, and no `1 − 2y`. On this core a zmm `vdivps` is three port µops and ~10.6
//! cycles of the divider. The 40 divisions of a block-step were 120 of its 1,096 port µops and
//! 424 cycles of the divider; they are now 48 µops and 170 cycles.
//!
//! **Range.** The arguments are clamped to ±30 (sigmoids) and ±9 (`tanh`), so the denominators
//! stay below `e^78`, finite whatever the inputs. The clamps move no result by more than 1e-13
//! and 3.1e-8. NaN propagates.
//!
//! **Accuracy.** Measured by `activations::tests::fused_lstm_cell_is_within_the_contract`
//! against f64: 44,217 inputs on a grid through the clamps and the saturation, and 200,000
//! random ones.
//!
//! ```text
//!                               fused cell    the activations one by one
//!   c', error ÷ (1 + |c|)       2.65e-7       1.81e-7
//!   h                           2.32e-7       2.50e-7
//! ```
//!
//! These are the AVX-512 and AVX2 figures (the same bits). The portable kernel measures
//! 2.26e-7 and 2.39e-7. The test holds every kernel to 1e-6, the activations' contract.
//!
//! **Bits.** The values change, so the probabilities move by ~1e-7; the Keras parity tests
//! allow 1e-5. What holds as before, and is tested:
//! - AVX-512 and AVX2 give the same bits;
//! - the pipelined pair (`lstm_half`, the same operations per lane) gives the same bits as the
//!   alternating steps.
//!
//! The training shards keep the activations one by one: their backward pass reads `i, f, g, o`
//! and `tanh(c')`. The general-shape batch LSTM runs the same cell in its two passes
//! (`net_simd.rs`, "The fused LSTM cell").
//!
//! **Measured** (`examples/batch_throughput`, fastest of 300 windows (100 for the portable
//! kernel), main's binary and this one alternating, three runs each, two for the 8-lane
//! kernels, cycles per LSTM sequence-step at 4.09 GHz):
//!
//! ```text
//!                                    before         fused cell
//!   x86_64-avx512                    50.1–51.8      45.1–46.2    (−10 %)
//!   x86_64-avx2-fma                  65.8–66.4      65.2–65.4    (−1 %: a ymm vdivps is 1 µop)
//!   portable (SSE on this build)     216.9–217.0    185.8–189.3  (−13 %)
//! ```
//!
//! On Zen 4 (AMD EPYC family 25 model 17, 3.69 GHz, a later session; fastest of 400 windows,
//! 38489e4's binary and its parent's alternating, three runs each, the pipelined pair that
//! both then ran there): the LSTM 58.6–58.7 → 55.8–55.9 cycles per sequence-step (−5 %). The
//! fused cell has as many FMA-pipe µops as before: 616 FMAs and multiplies a block-step, with
//! 24 fewer divisions.
//!
//! `lstm_gather` now returns the gates instead of filling an array the caller zeroed. Once the
//! cell read that array in groups of units, LLVM kept it in memory and zeroed it with a call to
//! `memset` (and a `vzeroupper`) every block-step. Without the call the step measured
//! 45.4–46.0 against 45.4–46.2.
//!
//! Tried in this session and not kept (activations one by one, cycles per LSTM sequence-step):
//! - the recurrent sums of one gate interleaved in program order with the activations of the
//!   previous one, to spread the divisions over the sums: 54.4–55.7 against 51.4;
//! - groups of 2 or 8 units instead of 4 (`ACT_GROUP`): 54.5–54.6 and 58.0–59.6 against
//!   52.8–52.9.
//!
//! # Two `tanh`, one division (issue 16 item 3; Golden Cove, 2026-12-06, a later session)
//!
//! **The probe.** The divisions were replaced by multiplies, which gives wrong values but
//! shows what the divider costs. Measured with `examples/batch_throughput`, fastest of 300
//! windows, two runs of each build alternating, cycles per sequence-step at 4.09 GHz
//! (`clock.c` read 4.09):
//!
//! ```text
//!                  divisions    multiplies (probe)
//!   SimpleRNN      11.7         9.0–9.1       (−23 %)
//!   LSTM           44.2–44.9    39.1–39.3     (−12 %)
//! ```
//!
//! The SimpleRNN lost far more than the µops it shed. A zmm `vdivps` is three µops, two more
//! than a multiply: 16 of the 240 µops of its block-step, about 7 %. The other ~16 % is the
//! divider itself. The 8 `tanh` of a block come due
//! together, and their 8 divisions take ~85 cycles of the one divider (~10.6 each), while the
//! next step's products wait for the last of them.
//!
//! **Now.** The SimpleRNN batch kernels take their `tanh` in pairs of units
//! (`activations::tanh_batch_pairs_n`, `tanh_from_p_pair`). With `P = 1 + e^(2x)`:
//!
//! ```text
//!   q = 1/(P_a·P_b)      tanh a = 1 − (2·P_b)·q      tanh b = 1 − (2·P_a)·q
//! ```
//!
//! (`2·P_b` is exact and computed beside the division; the FMA rounds once.)
//!
//! - One division a pair: 4 a block-step instead of 8.
//! - The same µops on Intel's cores: one division, a multiply and two adds where there were two
//!   divisions, 6 µops either way. The block-step's 240 µops and its bound of 7.5 cycles per
//!   sequence-step do not change.
//! - The arguments are clamped to ±20 (`TANH_PAIR_LIMIT`), so `P_a·P_b` stays finite.
//!   `tanh(20)` rounds to 1 in f32, so the clamp changes no result.
//! - The error grows where both units are near −1: `P_a·P_b` then lies just above 1, where a
//!   rounding's relative error is largest, and `1/P_a` is rounded twice. Over every f32, each
//!   input its own partner (`activations_exhaustive`, `FUSEDRNN_ACTIVATION_PAIR=6`): within
//!   3.13e-7 of f64 on AVX2 and AVX-512 (at `x ≈ −2.36`; 3.43e-7 on the portable kernel,
//!   without FMA), where one `tanh` at a time is within 1.84e-7. The contract is 1e-6.
//!   `paired_tanh_is_within_the_contract` holds every kernel to it on every 4099th f32 bit
//!   pattern paired with another, a grid through the clamp, and that region densely.
//! - A NaN in one unit now makes its pair's other unit NaN as well. The next step's products
//!   mix every unit anyway.
//!
//! Every path pairs the same units in the same order: the alternating steps, the pipelined
//! pair (`rnn_half` pairs `(j − 1, j)` after the products of `j`), and (until 2026-12-07) the
//! staged `tanh` of the 16-register ISAs' pair. So every ISA and both tunings still give the
//! same bits, and the tests that say so pass.
//!
//! **Measured** (`examples/batch_throughput`, fastest of 300 windows (100 for the portable
//! kernel), main's binary and this one alternating, two or three runs each, cycles per
//! SimpleRNN sequence-step at 4.09 GHz):
//!
//! ```text
//!                                        before       pairs
//!   x86_64-avx512 (alternating, Intel)   11.5–11.8    10.5        (−9 to −11 %)
//!   x86_64-avx512, pipelined pair        12.3         12.0        (AMD's form, run here)
//!   x86_64-avx2-fma                      16.0–18.0    16.2        (in the noise)
//!   portable (SSE on this build)         50.5         52.7–53.7   (+4 to +6 %)
//! ```
//!
//! The portable kernel's SSE build has no FMA, so there a pair costs two µops more than two
//! divisions. It pairs anyway: one code path for every ISA, and the NEON build, which has FMA
//! and a slow divider, was not measured. A first form, `1 − 2·(P_b·q)` (a multiply, then the
//! FMA), measured 10.6–10.7 on AVX-512.
//!
//! Against the bound of 7.5, the AVX-512 SimpleRNN is at 71–72 % (it was 61–64 %). On AMD's
//! cores a pair trades one division for a multiply on the FMA pipes and two adds on the ADD
//! pipes: 156 FMA-pipe µops a block-step instead of 152, and the Zen 5 SimpleRNN ran at ~62 %
//! of that bound. Measured on Zen 4 (AMD EPYC family 25 model 17, 3.69 GHz, a later session;
//! fastest of 400 windows, e99ad57's binary and 3971a73's alternating, three runs each), cycles
//! per sequence-step:
//!
//! ```text
//!                                      one tanh a division   paired tanh
//!   x86_64-avx512, pipelined pair      11.3                  11.9
//!   x86_64-avx512, alternating steps   11.9 (one run 15.1)   11.4
//!   x86_64-avx2-fma                    16.1                  15.9–16.0
//! ```
//!
//! So on Zen 4 the pairing costs the pipelined pair what it gives the alternating steps; the
//! best form there is 0.1 cycle slower than before it (Zen 4 now steps alternately: "Zen 4
//! takes Intel's forms" below).
//!
//! Tried and not kept:
//! - One division for four units (`1/(P_a·P_b·P_c·P_d)`, the clamp at ±10): 10.1–10.4 against
//!   the pairs' 10.4–10.6, but within 3.36e-7 of f64 on the paired test's first inputs (every
//!   4099th pattern and the grid), where the pairs measured 1.92e-7.
//! - The LSTM's `h` divisions in pairs (8 a block-step instead of 16 in all, `σ(o)` clamped to
//!   ±20 so that the product stays finite): 43.7 against 44.1–44.3 cycles per sequence-step,
//!   ~1 %, for two more multiplies a pair (its error was not measured). The `c'` divisions
//!   cannot pair:
//!   their denominators reach `e^78`, so the product of two overflows.
//!
//! # Whole rows in the gather (issue 16 item 3; Golden Cove, 2026-12-06, a third session)
//!
//! `Avx512::gather_rows` builds each zmm of the transpose from two whole rows (one 256-bit load
//! and one 256-bit insert from memory) instead of four 128-bit quarters (a load and three
//! inserts). Each insert from memory is a load and an ALU µop on port 0 or 5. The lanes still
//! need three stages of shuffles where they needed two: the 128-bit quarters of a zmm now hold
//! the two halves of two rows, and a `vshuff32x4` per output puts the quarters of one column
//! side by side. Per gate and block-step, 8 inserts and 24 shuffles instead of 24 and 16: the
//! LSTM block-step's gather goes from 160 to 128 of these µops, the SimpleRNN's from 40 to 32.
//! The same values land in the same lanes, so nothing else changes (`avx512_matches_avx2_bitwise`
//! and the reference tests fail if a quarter goes to the wrong place). The bounds of "The bounds
//! on Golden Cove" become 1,008 port µops and 31.5 cycles per sequence-step for the LSTM, 232 and
//! 7.25 for the SimpleRNN (counted from this change's source, not recounted in the compiled
//! loops; `BOUNDS` in `benches/report/report.py` has them).
//!
//! Measured (`examples/batch_throughput`, fastest of 300 windows, main's binary and this one
//! alternating, three runs each, cycles per sequence-step at 4.09 GHz):
//!
//! ```text
//!                                              before       whole rows
//!   LSTM, alternating steps (Intel's tuning)   45.3–45.5    44.3–44.4   (−2.3 %)
//!   LSTM, pipelined pair (Zen 5's tuning)      52.2–53.0    51.6
//!   SimpleRNN, either                          10.5 / 12.0–12.6   unchanged
//! ```
//!
//! On Zen 4 (AMD EPYC family 25 model 17, 3.69 GHz, a later session; fastest of 600 windows,
//! 862904a's binary and 3c91209's alternating, three runs each) the two forms are nearly even:
//! LSTM 53.4 → 52.8–53.2 alternating and 55.8–57.0 → 55.1–56.3 as the pipelined pair, but
//! SimpleRNN 11.2 → 11.4 and 11.6 → 11.8. Zen 4 splits each 512-bit shuffle in two, and the
//! SimpleRNN, with few FMAs a step, feels the third stage; the gather stays one form for all.
//!
//! # The next window's tokens (issue 16 item 3; Golden Cove, 2026-12-06, a third session)
//!
//! `examples/batch_throughput` scores 128 reviews over and over, so their 25 KB of tokens stay
//! in L1. A whole split does not: the test split's 25,000 rows are 5 MB, read once per pass.
//! With 25,600 random reviews (its new `BATCH` argument) the AVX-512 SimpleRNN took 11.2–12.0
//! cycles per sequence-step where 128 reviews took 10.5: a block's 16 rows are 16 separate
//! streams 200 bytes apart, each crossing into a new cache line every 32 steps, and a
//! SimpleRNN block-step (~170 cycles) is too short to hide a miss. `for_each_block` now
//! prefetches the rows of the next pad-sort window, the four lines of one row per lane with
//! each block it starts (`Isa::prefetch`, `prefetcht0`; a no-op on the portable kernel), so
//! they arrive while this window computes. A hint only: the same values.
//!
//! Measured (fastest of 10 windows of 25,600 reviews, cycles per sequence-step at 4.09 GHz, the
//! binaries alternating, two or three runs each; then `fusedrnn bench` on the real test split
//! with the parity fixtures' SimpleRNN, three runs each):
//!
//! ```text
//!                                      before          prefetch
//!   x86_64-avx512    SimpleRNN         11.2–12.0       10.9–11.0
//!                    LSTM              45.4–47.7       45.5–45.7   (its block-step hides a miss)
//!   x86_64-avx2-fma  SimpleRNN         16.3–17.2       16.6–17.2   (unchanged)
//!                    LSTM              65.1–66.8       65.0–66.6
//!   fusedrnn bench, SimpleRNN, 1 / 2 threads (reviews/s)
//!                                      3.41–3.54M / 7.00–7.05M     3.49–3.62M / 7.20–7.27M
//! ```
//!
//! A first form prefetched the whole next window (256 lines) at once when a window began; it
//! measured the same on AVX-512 and 3 % slower on the AVX2 SimpleRNN (17.4–17.6 against 17.0),
//! likely the burst filling the line-fill buffers.
//!
//! Tried in the same session and not kept: groups of 2 units in the fused cell for the
//! 16-register ISAs (`ACT_GROUP` stays 4 for all), to spill less: the AVX2 LSTM measured 70.5–70.6
//! cycles per sequence-step against 65.0–65.2.
//!
//! On Zen 4 (a later session; fastest of 30 windows of 25,600 reviews at 3.69 GHz, ccaecec's
//! binary and 2dcf34a's successor alternating, three runs each) the prefetch is within the
//! noise: AVX-512 SimpleRNN 11.8–12.2 without, 11.6–12.1 with; LSTM 54.8–55.0 against
//! 54.3–55.7; AVX2 unchanged. Kept: it costs nothing there.
//!
//! # Zen 4 takes Intel's forms (issue 16; AMD EPYC family 25 model 17, 2026-12-06)
//!
//! `Avx512::detect` used to turn on AMD's forms, the pipelined block pairs and the LSTM step on
//! zmm, wherever CPUID's vendor was not Intel, on the strength of Zen 5's measurements. Zen 4
//! runs a zmm µop as two 256-bit halves, and both forms lost there (three runs each,
//! alternating, 3.69 GHz by `clock.c`):
//!
//! ```text
//!                                                    AMD's form      Intel's form
//!   batch LSTM, cycles per sequence-step             54.7–54.9       53.0–53.3   (alternating)
//!   batch SimpleRNN                                  11.7–11.8       11.4
//!   LSTM 100-step review, cycles a step              123.3–123.4     108.9–109.1 (8-lane)
//!   LSTM step, cycles                                131.2–135.0     120.7–128.5
//! ```
//!
//! (`batch_throughput avx512 3.69 600 pairs|alternating`, `chain_latency avx512 3.69 quiet
//! zmm|8-lane`.) So AMD's forms are now on where the vendor is AMD and the family is 26 or more
//! (Zen 5 and later, which run a zmm µop whole), off elsewhere. The bits are the same either
//! way. On the real test split (`fusedrnn bench`, the parity fixtures, three runs each, main's
//! binary and this one alternating): LSTM 2 threads 1.32–1.34M → 1.37–1.38M reviews/s, 1
//! thread 674–676k → 695k, SimpleRNN 2 threads 5.97–6.03M → 6.18–6.23M, the LSTM review p50
//! 3.44 → 3.03–3.17 µs. Zen 5's figures for its forms predate the fused cell and the paired
//! `tanh`; they are not re-measured.
//!
//! Tried on the same Zen 4 and not kept: the LSTM block-step's recurrent products with `j`
//! outside and a gate's 8 unit sums advanced together (8 accumulators and one `h[j]` live,
//! which fits AVX2's 16 registers; the same operations per lane, so the same bits), against 8
//! chains of one unit each in turn. Fastest of 400 windows, three alternations, cycles per
//! sequence-step: AVX2 79.7–80.2 against 65.3–65.5, AVX-512 76.5–83.6 against 53.0–53.3. As
//! on Golden Cove, the chains in turn stay.
//!
//! # Splats from halves on Zen 3 (issue 16 items 1 and 2; AMD EPYC family 25 model 1, 2026-12-07)
//!
//! The first measurements on an AVX2-only Zen 3, the core issue 16's AVX2 targets name (2 cores
//! under KVM, 3.24 GHz by `clock.c`). `benches/report/insn_latency.c` there, cycles: ymm
//! `vfmadd231ps` 4.0, `vmulps` and `vaddps` 3.0, `vmaxps` 1.0, `vdivps` 10.5, the index's
//! integer ops 1 each, a ymm store and a `vbroadcastss` load forwarded from it 10.0, and
//! `vpermps` **8.0 from its data operand** but 3.0 from its index. One `vpermps` issues every
//! 1.34 cycles, 1.50 beside a multiply (it takes an FMA pipe), 1.04 beside an add.
//!
//! So the coefficient lookups of the piecewise activations (`Isa::lookup8`: the index is the
//! chain, the table a constant) cost 3 cycles, but the lane splats of `h` in a review
//! (`Isa::lane_splat`, "One permute per lane splat": `h` is the data operand) cost 8, on every
//! step's chain. Timed the same way (a dependent chain against `clock.c`'s adds; not kept as
//! rows): `vpermilps` or `vshufps` with an immediate 1, `vinsertf128` of a register 1.9,
//! `vperm2f128` 3.2–3.4, `vpermpd` 6.5, `vbroadcastss` from a register 1.8, `vextractf128` 3.4.
//! An in-lane splat of a register that holds one 128-bit half of `h` in both halves is 1 cycle,
//! and the two such registers cost one `vinsertf128` (`[h₀..₄ | h₀..₄]`) and one `vperm2f128`
//! (`[h₄..₈ | h₄..₈]`) a step: `h[0..4]` splatted after ~3 cycles and `h[4..8]` (which the sums
//! read one FMA later) after ~4.4, where `vpermps` took 8: ten shuffles a step instead of eight
//! `vpermps`. The halves are in `asm!` (`x86_64_avx2_fma::lane_halves_asm`): as shuffles, LLVM
//! folds them and the splat after them back into one lane splat and lowers it as it likes.
//!
//! Measured (`examples/chain_latency avx2-fma 3.18 quiet permutes|halves`, one binary, fastest
//! of 2,000 windows, three alternations, ns):
//!
//! ```text
//!                                   vpermps          halves           cycles at 3.24 GHz
//!   SimpleRNN review, 100 steps     1690–1708        1490–1497        54.8–55.3 → 48.3–48.5
//!   SimpleRNN, 100 tokens a call    17.6–17.8        15.5             57.0–57.7 → 50.2
//!   LSTM review, 100 steps          4069–4388        3915–3917        131.8 → 126.8
//!   LSTM, 100 tokens a call         41.0–41.1        39.5–42.4        133 → 128
//!   the step Ops (InMemory)         unchanged: `h` comes from memory, a broadcast each
//! ```
//!
//! `tanh(g)` before `σ(f)` ([`HSplat::TANH_BEFORE_FORGET`]) measured faster with the halves too
//! (LSTM review 124.5 against 126.3 cycles at 3.18 GHz, `σ(f)` first). Same values, so the same
//! bits (`tests/kernels.rs`, `avx2_splats_from_halves_and_permutes_agree_bitwise`). On by
//! default on Zen 3's models only ([`super::Avx2Fma::splats_from_halves`]): on Golden Cove a
//! `vpermps` takes 3 cycles and every shuffle shares its one shuffle port, and Zen 4 and 5 run
//! the 8-lane steps inside the AVX-512 kernel and were not measured with it.
//!
//! Against the counts of "The bounds on Zen 3" below: the SimpleRNN review step at 94 % of its
//! chain (45.4 cycles), where `vpermps` splats made the chain 50.4; the LSTM's at 64 % of 80.8.
//! Its five activations' 40 coefficient lookups a step are 54 cycles of `vpermps` issue, on
//! pipes the sums' 32 products and the polynomials' FMAs need too: the LSTM step is bound by
//! issue, not by its chain.
//!
//! # The bounds on Zen 3, counted on this code (issue 16 item 1; 2026-12-07)
//!
//! As "The bounds on Golden Cove" above, for AMD EPYC family 25 model 1 (Zen 3, 2 cores under
//! KVM, 3.23–3.24 GHz by `clock.c`) and the `x86_64-avx2-fma` kernel with the splats from halves
//! (the section above, which gives the latencies). Zen 3 runs a ymm FMA or multiply on either of
//! two FMA pipes, and adds, `vmaxps`, `vminps` and `vcmpps` on two ADD pipes
//! (`insn_latency.c`'s pair table: each 0.50 cycles alone, 1.00 beside its own kind, 0.51
//! beside the other).
//!
//! **The latency chains**, with the links of the Golden Cove count:
//!
//! ```text
//!   h → splat of h[j]: vinsertf128 or vperm2f128, then vshufps     3 (j < 4), 4.4
//!   sum: fma(s0, U0, row) 7, s·U for j = 1..3 6,
//!     fma(s4..7, U4..7, …) 10–11, two levels of adds                17
//!   piecewise tanh or σ of z, from z: index 3, the 8 coefficients
//!     one every 1.34 cycles 6–15.4, Estrin levels 19.4, 23.4,
//!     27.4 (σ), the sign OR 28.4 (tanh)
//!   SimpleRNN review step: 17 + 28.4                               = 45.4
//!   LSTM review step: σ(i), σ(f) at 44.4, tanh(g) at 45.4;
//!     i·g 48.4; c' 52.4; o·tanh(c') 52.4 + 28.4                    = 80.8
//!   a step `Op`: `h` broadcast from the state's store (10) instead
//!     of the splats, the sum at 24: SimpleRNN 52.4, LSTM 87.8
//! ```
//!
//! `BOUNDS` in `benches/report/report.py` takes them rounded: 45 and 81 cycles a review step
//! (4,500 and 8,100 a review), 52 and 88 a step.
//!
//! **The batch block-steps**, 8 sequences, counted in the compiled loops (`perf annotate` of
//! `fusedrnn predict` with the AVX2 kernel; the LSTM's block-step is the gather once, a loop of
//! 64 recurrent FMAs run 4 times and the fused cell's loop, 4 units a pass, run twice; the
//! SimpleRNN's one loop a block-step):
//!
//! ```text
//!                                          LSTM    SimpleRNN
//!   FMA and multiply                        656       148     (256 and 64 recurrent)
//!   add, sub, max, min                      136        32
//!   integer (the exponent's shifts)          40         8
//!   vdivps                                   16         4
//!   the gather's unpacks                     64        16
//!   128-bit inserts from memory              32         8
//!   bound: the FMA pipes, cycles per
//!     sequence-step (µops / 2 / 8)          41.0       9.25
//! ```
//!
//! AVX2 has 40 more FMA-pipe µops than AVX-512's LSTM block-step (616): its exponent is built by
//! a shift and an FMA where AVX-512 has `vscalefps` on the ADD pipes. The ADD pipes need 68 and
//! 16 cycles a block-step. Not counted: the unpacks and inserts, if they share the FMA pipes as
//! `vpermps` does (up to 45.0 and 10.3), the divider (not measured on this core), and 84 and 14
//! register copies. The report's runs on this core (README, commits `82b66df` and `783ed41`,
//! noisy) measured the LSTM at 71.5–72.1 cycles per sequence-step on one thread (57 % of the
//! bound) and the SimpleRNN at 19.2–19.3 (48 %).
//!
//! # The LSTM step and the batch cell on Zen 3, by parts (issue 16 items 1–3; 2026-12-07, later)
//!
//! Same machine (3.24 GHz by `clock.c`). Builds with parts of the step replaced, each timed by
//! `examples/chain_latency avx2-fma 3.24 quiet halves` (fastest of 2,000 windows, alternated
//! with main's binary; cycles a step of the 100-step review). The replaced builds give wrong
//! values and were not kept:
//!
//! ```text
//!   main                                                                 126.3–126.8
//!   the five activations replaced by clamps (sum, cell, clamps)           43.2
//!   the four gate activations piecewise, tanh(c') replaced by a clamp    109.1–118.3
//!   σ(o) by the exp form (sigmoid_latency: no lookups, one division)     123.2–123.5
//!   also σ(f), or tanh(g), or σ(i) by it; all four gates by it           122.9–124.8 at best
//! ```
//!
//! The four gate activations take ~66 cycles of the step where one's chain is 28. Chains of
//! the piecewise `tanh` timed alone (a throwaway test: `x = tanh(x)`, 1,000 rounds, `rdtsc`
//! scaled to the core clock; one to four independent chains a round), cycles a round:
//!
//! ```text
//!                                          1 chain   2       3       4
//!   lookups by vpermps (as compiled: vpermd)  26.8    32.9    48.4    66.1
//!   by two in-lane vpermilps and a blend      33.4    39.8    59.8    77.0
//!   lookups replaced by adds (no lookup)      25.3    28.3    34.0    44.2
//!   the exp form, sigmoid_latency             42      43      44      52.5
//! ```
//!
//! Four activations run together cost 16.5 cycles each, not 28 / 4: their issue, not their
//! chains, sets the pace. A lookup is a `vpermd` (LLVM's lowering of `vpermps` from a constant
//! table), 1.01 cycles alone and 1.50 beside a multiply (`insn_latency.c`), so the 32 lookups
//! of the four gates alone hold the FMA pipes for ~32–48 cycles; without them the rest of an
//! activation (the index and argument, 10 integer and logic µops; 9 FMAs and multiplies; the
//! sign, 4) still costs 11 cycles each. The exp form issues less (13 cycles each, four
//! together) but its chain is 42. Whatever the mix, the gates took ≥ 52 cycles beside a sum
//! and cell path of 43: with `tanh(c')` the step is ~123 cycles (38 ns) on this core, where
//! the 28 ns target is 90 cycles and the 2.8 µs review 90 a step. Neither is reachable with
//! these activation forms at the accuracy contract; the best reached is main's form
//! (the exp form's 2 % on `σ(o)` is within the noise of the alternations, not kept).
//!
//! **The batch cell by eight.** The LSTM block-step's fused cell (`lstm_block_step`) runs its
//! units in groups of `ACT_GROUP` = 4, stage by stage, measured best on Zen 5 and Golden Cove
//! (AVX-512). On Zen 3 with the AVX2 kernel, all eight at once is faster
//! (`examples/batch_throughput avx2-fma 3.24 300 cells8|cells4`, fastest of 300 windows, one
//! thread, alternated): 63.5–63.6 cycles per sequence-step against 67.9–68.6 (−6.5 %). The
//! same operations on every unit, so the same bits (`tests/kernels.rs`,
//! `avx2_cells_by_eight_and_by_four_agree_bitwise`); on by default on Zen 3's models
//! ([`super::Avx2Fma::cells_by_eight`]). Tried in the same runs and not kept: the recurrent
//! product's accumulators advanced 2 or 4 at a time over `j` (67.2–83.8 and 85.6–98.9), and four
//! blocks per step loop instead of two (67.8–68.2). LLVM's `znver3` model (`llvm-mca` 14) puts
//! ymm FMAs on one pipe for two cycles and `vmaxps` on the FMA pipes, against
//! `insn_latency.c`'s pair table; its estimates were not used.

use super::activations::{
    lstm_cell_c_batch_n, lstm_cell_h_batch_n, sigmoid_batch, sigmoid_piecewise, tanh_batch_pairs_n,
    tanh_piecewise, tanh_times_piecewise,
};
use super::isa::{Isa, Isa8};
use super::reference;
use super::tables::{
    GATE_C, GATE_F, GATE_I, GATE_O, GateRow, LstmState, LstmTables, RnnState, RnnTables,
    leading_pads, order_by_pads,
};
use crate::shape::{HIDDEN, SEQ_LEN};

/// The sequences of one block, one per lane.
pub(crate) type BlockSeqs<'a, I> = <I as Isa>::Arr<&'a [u16; SEQ_LEN]>;

// ---------------------------------------------------------------------------------------------
// LSTM
// ---------------------------------------------------------------------------------------------

/// Final `h` of `B` blocks of `LANES` sequences (lane `l` of `h[b][u]` is unit `u` of
/// sequence `seqs[b][l]`).
///
/// All sequences start from the padding-cache state after `m` pads, `m` the fewest leading pads
/// among them: every sequence has at least `m`, so this is exact. Panics if a token is not a
/// row of the table.
///
/// With `B = 2` the two blocks are independent: on an ISA with 32 vector registers they run as
/// the pipelined pair ([`lstm_pair`]: one block's products beside the other's activations in
/// program order); with 16 their steps alternate, so the out-of-order core overlaps one block's
/// dependency tail (activations → `c` → `tanh(c)` → `h`, ~100 cycles) with the other's FMAs.
#[inline(always)]
pub(crate) fn lstm_blocks<I: Isa, const B: usize>(
    isa: I,
    t: &LstmTables,
    seqs: [BlockSeqs<'_, I>; B],
) -> [[I::V; HIDDEN]; B] {
    let start = fewest_pads::<I, B>(&seqs);
    let s0 = t.batch_pad_state(start);
    let mut h: [[I::V; HIDDEN]; B] = [s0.h.map(|x| isa.splat(x)); B];
    let mut c: [[I::V; HIDDEN]; B] = [s0.c.map(|x| isa.splat(x)); B];
    // The pipelined pair on 32 registers (its chunk keeps 8 `h`, 8 sums and the activations'
    // chains live); with 16 (AVX2) it spilled and measured slower than two alternating steps;
    // and where the ISA's proof says so (Intel's AVX-512 cores: `Isa::pipelined_pairs`).
    if B == 2 && I::VECTOR_REGISTERS >= 32 && isa.pipelined_pairs() {
        let (h0, h1) = h.split_at_mut(1);
        let (c0, c1) = c.split_at_mut(1);
        lstm_pair(
            isa,
            t,
            [&seqs[0], &seqs[1]],
            start,
            [&mut h0[0], &mut h1[0]],
            [&mut c0[0], &mut c1[0]],
        );
        return h;
    }
    // The cell's group chosen once for the blocks' steps, not per step.
    if isa.cells_by_eight() {
        lstm_blocks_alternating::<I, B, HIDDEN>(isa, t, &seqs, start, &mut h, &mut c);
    } else {
        lstm_blocks_alternating::<I, B, ACT_GROUP>(isa, t, &seqs, start, &mut h, &mut c);
    }
    h
}

/// The blocks' steps from `start`, each step block by block ([`lstm_block_step`] with the cell
/// `G` units at a time).
#[inline(always)]
fn lstm_blocks_alternating<I: Isa, const B: usize, const G: usize>(
    isa: I,
    t: &LstmTables,
    seqs: &[BlockSeqs<'_, I>; B],
    start: usize,
    h: &mut [[I::V; HIDDEN]; B],
    c: &mut [[I::V; HIDDEN]; B],
) {
    for step in start..SEQ_LEN {
        for b in 0..B {
            lstm_block_step::<I, G>(isa, t, &seqs[b], step, &mut h[b], &mut c[b]);
        }
    }
}

/// The batch's LSTM padding cache ([`LstmTables::batch_pad_state`]): the states after
/// `0..=SEQ_LEN` pads, stepped by [`lstm_block_step`] (lane 0 of a block of pads), the per-lane
/// arithmetic of [`lstm_blocks`] in either form, so a block that starts from it gives the bits
/// of one that steps the pads itself.
#[inline(always)]
pub(crate) fn lstm_batch_pad_states<I: Isa>(isa: I, t: &LstmTables) -> Vec<LstmState> {
    let pads = [0u16; SEQ_LEN];
    let seqs: BlockSeqs<'_, I> = isa.arr(&pads);
    let zero = isa.splat(0.0);
    let (mut h, mut c) = ([zero; HIDDEN], [zero; HIDDEN]);
    let mut states = Vec::with_capacity(SEQ_LEN + 1);
    states.push(LstmState::default());
    for step in 0..SEQ_LEN {
        lstm_block_step::<I, ACT_GROUP>(isa, t, &seqs, step, &mut h, &mut c);
        let mut s = LstmState::default();
        for u in 0..HIDDEN {
            s.h[u] = isa.store(h[u]).as_ref()[0];
            s.c[u] = isa.store(c[u]).as_ref()[0];
        }
        states.push(s);
    }
    states
}

/// The fewest leading pads among the sequences of `seqs`: every sequence has at least that
/// many, so all of them start exactly from the padding cache's state after it.
fn fewest_pads<I: Isa, const B: usize>(seqs: &[BlockSeqs<'_, I>; B]) -> usize {
    seqs.iter()
        .flat_map(|b| b.as_ref())
        .map(|s| leading_pads(s))
        .min()
        .unwrap_or(0)
}

/// The pre-activations' input part `zx[g][u]` of one block's step: its `LANES` table rows,
/// transposed gate by gate.
#[inline(always)]
fn lstm_gather<I: Isa>(
    isa: I,
    t: &LstmTables,
    seqs: &BlockSeqs<'_, I>,
    step: usize,
) -> [[I::V; HIDDEN]; 4] {
    // Each lane's row is looked up once (its token read and bounds-checked once), not once
    // per gate. The gates are returned, not written into a caller's array: a zeroed array
    // there cost a `memset` call a step (and a `vzeroupper`) once the cell read it in groups.
    let table = t.table();
    let mut rows = isa.arr(&table[0]);
    for (row, seq) in rows.as_mut().iter_mut().zip(seqs.as_ref()) {
        *row = &table[seq[step] as usize];
    }
    [
        isa.gather_rows(&gate_parts(isa, &rows, 0)),
        isa.gather_rows(&gate_parts(isa, &rows, 1)),
        isa.gather_rows(&gate_parts(isa, &rows, 2)),
        isa.gather_rows(&gate_parts(isa, &rows, 3)),
    ]
}

/// Gate `g`'s part of each lane's table row.
#[inline(always)]
fn gate_parts<'a, I: Isa>(
    isa: I,
    rows: &I::Arr<&'a GateRow>,
    g: usize,
) -> I::Arr<&'a [f32; HIDDEN]> {
    let mut parts = isa.arr(&rows.as_ref()[0].0[g]);
    for (part, row) in parts.as_mut().iter_mut().zip(rows.as_ref()) {
        *part = &row.0[g];
    }
    parts
}

/// Units per chunk of the pipelined pair step ([`lstm_half`]); measured on Zen 5 (module docs).
const PAIR_CHUNK: usize = 2;

/// Two blocks, software-pipelined half a step apart (issue 16 item 3, the Zen 5 account in the
/// module docs): each half-step is one block's recurrent products interleaved, unit chunk by
/// unit chunk in program order, with the other block's activations and cell update, so the
/// independent work of the two blocks sits side by side inside the reorder window. Every lane
/// gets the operations of [`lstm_block_step`] in the same order: the same bits.
#[inline(always)]
fn lstm_pair<I: Isa>(
    isa: I,
    t: &LstmTables,
    seqs: [&BlockSeqs<'_, I>; 2],
    start: usize,
    h: [&mut [I::V; HIDDEN]; 2],
    c: [&mut [I::V; HIDDEN]; 2],
) {
    if start >= SEQ_LEN {
        return;
    }
    let [h0, h1] = h;
    let [c0, c1] = c;
    // Block 1's pre-activations are not read before its first gather (the first half has no
    // activations).
    let mut z1 = [[isa.splat(0.0); HIDDEN]; 4];
    // Block 0's pre-activations of the first step, alone.
    let mut z0 = lstm_gather(isa, t, seqs[0], start);
    lstm_half::<I, true, false>(isa, t, h0, &mut z0, &z1, h1, c1);
    for step in start..SEQ_LEN {
        // Block 1's products of `step` beside block 0's activations of `step`;
        z1 = lstm_gather(isa, t, seqs[1], step);
        lstm_half::<I, true, true>(isa, t, h1, &mut z1, &z0, h0, c0);
        // block 0's products of `step + 1` beside block 1's activations of `step`.
        if step + 1 < SEQ_LEN {
            z0 = lstm_gather(isa, t, seqs[0], step + 1);
            lstm_half::<I, true, true>(isa, t, h0, &mut z0, &z1, h1, c1);
        } else {
            lstm_half::<I, false, true>(isa, t, h0, &mut z0, &z1, h1, c1);
        }
    }
}

/// Half a pipelined pair step: with `PRODUCTS`, `zp += Σ_j hp[j]·U[j]` (one block's recurrent
/// products, `zp` holding its `zx`); with `ACTIVATIONS`, the other block's step from its
/// pre-activations `za` (`ha`, `ca` updated). Unit chunk `k`'s products sit next to chunk
/// `k`'s gate activations and chunk `k − 1`'s `tanh(c')` in program order.
#[inline(always)]
fn lstm_half<I: Isa, const PRODUCTS: bool, const ACTIVATIONS: bool>(
    isa: I,
    t: &LstmTables,
    hp: &[I::V; HIDDEN],
    zp: &mut [[I::V; HIDDEN]; 4],
    za: &[[I::V; HIDDEN]; 4],
    ha: &mut [I::V; HIDDEN],
    ca: &mut [I::V; HIDDEN],
) {
    let rec_splat = t.recurrent_splat();
    let hp = *hp;
    let zero = isa.splat(0.0);
    // The previous chunk's `o` and `c'`, waiting for their `tanh(c')`.
    let mut pend_o = [zero; PAIR_CHUNK];
    let mut pend_c = [zero; PAIR_CHUNK];
    for u0 in (0..HIDDEN).step_by(PAIR_CHUNK) {
        if PRODUCTS {
            let mut acc = [[zero; PAIR_CHUNK]; 4];
            for (g, ag) in acc.iter_mut().enumerate() {
                ag.copy_from_slice(&zp[g][u0..u0 + PAIR_CHUNK]);
            }
            for j in 0..HIDDEN {
                for k in 0..PAIR_CHUNK {
                    for (g, ag) in acc.iter_mut().enumerate() {
                        ag[k] = isa.mul_add(hp[j], isa.splat_from(&rec_splat[j][g][u0 + k]), ag[k]);
                    }
                }
            }
            for (g, ag) in acc.iter().enumerate() {
                zp[g][u0..u0 + PAIR_CHUNK].copy_from_slice(ag);
            }
        }
        if ACTIVATIONS {
            // The chunk's `c'` (the fused cell of `lstm_block_step`, the same operations).
            if u0 > 0 {
                let hk = lstm_cell_h_batch_n(isa, pend_o, pend_c);
                ha[u0 - PAIR_CHUNK..u0].copy_from_slice(&hk);
            }
            pend_c = cell_c_units(isa, za, ca, u0);
            pend_o = units(&za[GATE_O], u0);
        }
    }
    if ACTIVATIONS {
        let hk = lstm_cell_h_batch_n(isa, pend_o, pend_c);
        ha[HIDDEN - PAIR_CHUNK..].copy_from_slice(&hk);
    }
}

/// One step of one block of `LANES` sequences, the cell `G` units at a time (4, or all 8 where
/// the ISA says so: [`Isa::cells_by_eight`]; the same operations on every unit either way).
#[inline(always)]
fn lstm_block_step<I: Isa, const G: usize>(
    isa: I,
    t: &LstmTables,
    seqs: &BlockSeqs<'_, I>,
    step: usize,
    h: &mut [I::V; HIDDEN],
    c: &mut [I::V; HIDDEN],
) {
    // (Plain loops rather than `std::array::from_fn` throughout: `from_fn` is not
    // `#[inline(always)]`, and an outlined closure loses the caller's target features.)
    let rec_splat = t.recurrent_splat();
    let mut z = lstm_gather(isa, t, seqs, step);
    // Two phases, each a wide set of independent chains, so the out-of-order window (not the
    // ~150-cycle dependency chain of one unit) sets the pace:
    // 1. the 32 pre-activations (32 chains of 8 FMAs),
    for (g, zg) in z.iter_mut().enumerate() {
        for (u, acc) in zg.iter_mut().enumerate() {
            for j in 0..HIDDEN {
                *acc = isa.mul_add(h[j], isa.splat_from(&rec_splat[j][g][u]), *acc);
            }
        }
    }
    // 2. the fused cell (module docs, "The fused cell"), units in groups of `ACT_GROUP`, each
    //    group's chains side by side, stage by stage (module docs: measured on Zen 5): `c'`
    //    from `i, f, g` and `c`, then `h` from `o` and `c'`.
    for u0 in (0..HIDDEN).step_by(G) {
        let cg = cell_c_units::<I, G>(isa, &z, c, u0);
        let hg = lstm_cell_h_batch_n(isa, units(&z[GATE_O], u0), cg);
        h[u0..u0 + G].copy_from_slice(&hg);
    }
}

/// The fused cell's new `c` of units `u0..u0 + N` ([`lstm_cell_c_batch_n`]) from the gates'
/// pre-activations `z`, written back into `c` and returned.
#[inline(always)]
fn cell_c_units<I: Isa, const N: usize>(
    isa: I,
    z: &[[I::V; HIDDEN]; 4],
    c: &mut [I::V; HIDDEN],
    u0: usize,
) -> [I::V; N] {
    let mut cu = units::<_, N>(c, u0);
    let (i, f, g) = (
        units(&z[GATE_I], u0),
        units(&z[GATE_F], u0),
        units(&z[GATE_C], u0),
    );
    lstm_cell_c_batch_n(isa, i, f, g, &mut cu);
    c[u0..u0 + N].copy_from_slice(&cu);
    cu
}

/// `v[u0..u0 + N]` as an array.
#[inline(always)]
fn units<V: Copy, const N: usize>(v: &[V; HIDDEN], u0: usize) -> [V; N] {
    let mut a = [v[0]; N];
    a.copy_from_slice(&v[u0..u0 + N]);
    a
}

/// Units per group of the LSTM batch step's cell: 4 measured best on Zen 5 (1 and 8 slower;
/// module docs) and on Golden Cove (2 and 8 slower).
const ACT_GROUP: usize = 4;

/// `σ(h · dense_kernel + dense_bias)` for `LANES` sequences in lanes.
#[inline(always)]
fn dense_lanes<I: Isa>(isa: I, h: &[I::V; HIDDEN], kernel: &[f32; HIDDEN], bias: f32) -> I::V {
    let mut acc = isa.splat(bias);
    for j in 0..HIDDEN {
        acc = isa.mul_add(h[j], isa.splat(kernel[j]), acc);
    }
    sigmoid_batch(isa, acc)
}

// ---------------------------------------------------------------------------------------------
// Batch driver
// ---------------------------------------------------------------------------------------------

/// A batch's rows as the driver reads them: contiguous `[n, SEQ_LEN]`, or references in an
/// order the caller chose (`Kernel::lstm_forward_refs`; the scorer's rows sorted by leading
/// pads across the whole input).
#[derive(Clone, Copy, Debug)]
pub(crate) enum BatchRows<'a> {
    Rows(&'a [[u16; SEQ_LEN]]),
    Refs(&'a [&'a [u16; SEQ_LEN]]),
}

impl<'a> BatchRows<'a> {
    pub(crate) fn len(self) -> usize {
        match self {
            BatchRows::Rows(r) => r.len(),
            BatchRows::Refs(r) => r.len(),
        }
    }

    /// Row `i`. Panics if `i ≥ len`.
    #[inline(always)]
    pub(crate) fn row(self, i: usize) -> &'a [u16; SEQ_LEN] {
        match self {
            BatchRows::Rows(r) => &r[i],
            BatchRows::Refs(r) => r[i],
        }
    }

    /// The rows `at`. Panics if `at` is not within `0..len`.
    #[inline(always)]
    fn slice(self, at: std::ops::Range<usize>) -> BatchRows<'a> {
        match self {
            BatchRows::Rows(r) => BatchRows::Rows(&r[at]),
            BatchRows::Refs(r) => BatchRows::Refs(&r[at]),
        }
    }
}

/// A cell type as the batch driver sees it: `B` blocks of `LANES` sequences → final `h` in
/// lanes; and its scalar reference, for the same operations on the reference kernel.
pub(crate) trait BlockModel {
    fn blocks<I: Isa, const B: usize>(
        &self,
        isa: I,
        seqs: [BlockSeqs<'_, I>; B],
    ) -> [[I::V; HIDDEN]; B];
    fn dense(&self) -> (&[f32; HIDDEN], f32);
    /// [`forward`] on the reference kernel.
    fn reference_forward(&self, seqs: BatchRows<'_>, probs: &mut [f32]);
    /// [`forward_hidden`] on the reference kernel.
    fn reference_forward_hidden(&self, seqs: &[[u16; SEQ_LEN]], hidden: &mut [[f32; HIDDEN]]);
}

impl BlockModel for LstmTables {
    #[inline(always)]
    fn blocks<I: Isa, const B: usize>(
        &self,
        isa: I,
        seqs: [BlockSeqs<'_, I>; B],
    ) -> [[I::V; HIDDEN]; B] {
        lstm_blocks(isa, self, seqs)
    }
    #[inline(always)]
    fn dense(&self) -> (&[f32; HIDDEN], f32) {
        (self.dense_kernel(), self.dense_bias())
    }
    fn reference_forward(&self, seqs: BatchRows<'_>, probs: &mut [f32]) {
        assert_eq!(seqs.len(), probs.len(), "one probability per sequence");
        for (i, p) in probs.iter_mut().enumerate() {
            *p = reference::lstm_prob(self, &reference::lstm_review_state(self, seqs.row(i)));
        }
    }
    fn reference_forward_hidden(&self, seqs: &[[u16; SEQ_LEN]], hidden: &mut [[f32; HIDDEN]]) {
        reference::lstm_forward_hidden(self, seqs, hidden);
    }
}

impl BlockModel for RnnTables {
    #[inline(always)]
    fn blocks<I: Isa, const B: usize>(
        &self,
        isa: I,
        seqs: [BlockSeqs<'_, I>; B],
    ) -> [[I::V; HIDDEN]; B] {
        rnn_blocks(isa, self, seqs)
    }
    #[inline(always)]
    fn dense(&self) -> (&[f32; HIDDEN], f32) {
        (self.dense_kernel(), self.dense_bias())
    }
    fn reference_forward(&self, seqs: BatchRows<'_>, probs: &mut [f32]) {
        assert_eq!(seqs.len(), probs.len(), "one probability per sequence");
        for (i, p) in probs.iter_mut().enumerate() {
            *p = reference::rnn_prob(self, &reference::rnn_review_state(self, seqs.row(i)));
        }
    }
    fn reference_forward_hidden(&self, seqs: &[[u16; SEQ_LEN]], hidden: &mut [[f32; HIDDEN]]) {
        reference::rnn_forward_hidden(self, seqs, hidden);
    }
}

/// Sequences are grouped into blocks of 8 within windows of this many, sorted by their number
/// of leading pads, so that a block's pad skip (its *minimum* pad count) is close to every
/// lane's own. The sort is on the stack: the driver stays allocation-free.
///
/// On the IMDB test split at length 100 this saves little: 3.9 % of its positions are leading
/// pads, and the two blocks of a pair share one start (the fewest pads of 16 or 32 sequences),
/// so blocks from sorted windows of 64 step 99.96 % of the positions (AVX2) and 100.1 %
/// (AVX-512, the repeated tail lanes included); a start per block and windows of 1,024 would
/// step 96.6 % (a numpy count, 2026-12-05). Tried then (AMD EPYC family 25 model 17, Zen 4), not
/// kept: a start per block (the earlier block stepping alone up to the later start) measured
/// 0.3 % slower on the LSTM and 1.5 % (AVX-512) to 4 % (AVX2) slower on the SimpleRNN on rows
/// without pads (`examples/batch_throughput`, two alternations), the most a window of 128
/// could give back on this data; larger windows need the scorer's chunks sorted as a whole.
/// The scorer now does that: [`crate::infer::Scorer::score`] hands the kernel each run of 1,024
/// rows in the order of their pads (`Kernel::lstm_forward_refs`), and the blocks step 97.2 % of
/// the test split's positions (`crate::infer`, "Rows in order of their pads").
const PAD_SORT_WINDOW: usize = 64;

/// Window-local indices of `seqs` (at most [`PAD_SORT_WINDOW`]) ordered by leading pads, ties
/// by index: a stable counting sort on the pad count (`0..=SEQ_LEN`), so no comparisons.
///
/// It was `sort_unstable` on (pads, index) pairs, which took 2.6 % of the samples of a
/// one-thread SimpleRNN pass over the test split (`perf`, Golden Cove, 2026-12-06). The counting
/// sort gives the same order; the SimpleRNN on 2 threads went from 5.64–5.67M to 5.80–5.82M
/// reviews/s (fastest of 4 s of whole-split passes, two alternations), the LSTM within noise.
#[inline(always)]
fn pad_order(seqs: BatchRows<'_>) -> [u8; PAD_SORT_WINDOW] {
    debug_assert!(seqs.len() <= PAD_SORT_WINDOW);
    // `leading_pads ≤ SEQ_LEN = 100` and `k < 64`: both fit in u8.
    let mut pads = [0u8; PAD_SORT_WINDOW];
    for (k, p) in pads.iter_mut().enumerate().take(seqs.len()) {
        *p = leading_pads(seqs.row(k)) as u8;
    }
    let mut order = [0u8; PAD_SORT_WINDOW];
    order_by_pads(&pads[..seqs.len()], |k, slot| order[slot] = k as u8);
    order
}

/// Run `m` over a batch in blocks of `LANES` (pad-sorted windows, two blocks at a time where
/// there are two) and hand each block's final `h` (lanes) to `out` with the batch indices of its
/// lanes; lanes past the end of a window repeat its last sequence (the one with the most leading
/// pads, so the block's pad skip is unchanged) and are reported as `None`.
#[inline(always)]
fn for_each_block<I: Isa, M: BlockModel, E: BlockSink<I>>(
    isa: I,
    m: &M,
    seqs: BatchRows<'_>,
    out: &mut E,
) {
    let lanes = I::LANES;
    for (w, w0) in (0..seqs.len()).step_by(PAD_SORT_WINDOW).enumerate() {
        let window = seqs.slice(w0..seqs.len().min(w0 + PAD_SORT_WINDOW));
        // The next window's token rows, fetched while this one computes, as many with each
        // block as it has lanes (module docs, "The next window's tokens").
        let next = seqs
            .slice(seqs.len().min(w0 + PAD_SORT_WINDOW)..seqs.len().min(w0 + 2 * PAD_SORT_WINDOW));
        let prefetch = |b: usize| {
            for i in lanes * b..next.len().min(lanes * (b + 1)) {
                let row = next.row(i);
                // 200 bytes: four cache lines.
                for k in 0..SEQ_LEN.div_ceil(32) {
                    isa.prefetch(&row[32 * k..]);
                }
            }
        };
        let order = pad_order(window);
        let last = window.len() - 1;
        // Block `b`'s sequences and, per lane, its batch index (`None` past the window's end).
        let block = |b: usize| {
            let mut s = isa.arr(window.row(0));
            let mut idx = isa.arr(None);
            for (l, (sl, il)) in s.as_mut().iter_mut().zip(idx.as_mut()).enumerate() {
                let k = lanes * b + l;
                let i = usize::from(order[k.min(last)]);
                *sl = window.row(i);
                *il = (k <= last).then_some(w * PAD_SORT_WINDOW + i);
            }
            (s, idx)
        };
        let n_blocks = window.len().div_ceil(lanes);
        let mut b = 0;
        while b + 1 < n_blocks {
            let ((sa, ia), (sb, ib)) = (block(b), block(b + 1));
            prefetch(b);
            prefetch(b + 1);
            let [ha, hb] = m.blocks(isa, [sa, sb]);
            out.accept(isa, m.dense(), &ha, &ia);
            out.accept(isa, m.dense(), &hb, &ib);
            b += 2;
        }
        if b < n_blocks {
            let (sa, ia) = block(b);
            prefetch(b);
            let [ha] = m.blocks(isa, [sa]);
            out.accept(isa, m.dense(), &ha, &ia);
        }
    }
}

/// Where [`for_each_block`] puts a block's results (a trait, not a closure, so that it inlines
/// into `#[target_feature]` callers).
trait BlockSink<I: Isa> {
    fn accept(
        &mut self,
        isa: I,
        dense: (&[f32; HIDDEN], f32),
        h: &[I::V; HIDDEN],
        lanes: &I::Arr<Option<usize>>,
    );
}

/// Writes probabilities.
struct Probs<'a>(&'a mut [f32]);

impl<I: Isa> BlockSink<I> for Probs<'_> {
    #[inline(always)]
    fn accept(
        &mut self,
        isa: I,
        dense: (&[f32; HIDDEN], f32),
        h: &[I::V; HIDDEN],
        lanes: &I::Arr<Option<usize>>,
    ) {
        let p = isa.store(dense_lanes(isa, h, dense.0, dense.1));
        for (&pl, &idx) in p.as_ref().iter().zip(lanes.as_ref()) {
            if let Some(i) = idx {
                self.0[i] = pl;
            }
        }
    }
}

/// Writes final hidden states.
struct Hidden<'a>(&'a mut [[f32; HIDDEN]]);

impl<I: Isa> BlockSink<I> for Hidden<'_> {
    #[inline(always)]
    fn accept(
        &mut self,
        isa: I,
        _: (&[f32; HIDDEN], f32),
        h: &[I::V; HIDDEN],
        lanes: &I::Arr<Option<usize>>,
    ) {
        // (A loop, not `map`: a closure would be outlined without the target features.)
        let mut stored = [I::Lanes::default(); HIDDEN];
        for (s, &hu) in stored.iter_mut().zip(h) {
            *s = isa.store(hu);
        }
        for (l, &idx) in lanes.as_ref().iter().enumerate() {
            if let Some(i) = idx {
                for (u, hu) in stored.iter().enumerate() {
                    self.0[i][u] = hu.as_ref()[l];
                }
            }
        }
    }
}

/// Probabilities of a batch; allocation-free. Panics if the lengths differ or a token is
/// out of range.
#[inline(always)]
pub(crate) fn forward<I: Isa, M: BlockModel>(
    isa: I,
    m: &M,
    seqs: BatchRows<'_>,
    probs: &mut [f32],
) {
    assert_eq!(seqs.len(), probs.len(), "one probability per sequence");
    for_each_block(isa, m, seqs, &mut Probs(probs));
}

/// Final hidden states of a batch; allocation-free.
#[inline(always)]
pub(crate) fn forward_hidden<I: Isa, M: BlockModel>(
    isa: I,
    m: &M,
    seqs: &[[u16; SEQ_LEN]],
    hidden: &mut [[f32; HIDDEN]],
) {
    assert_eq!(seqs.len(), hidden.len(), "one hidden state per sequence");
    for_each_block(isa, m, BatchRows::Rows(seqs), &mut Hidden(hidden));
}

/// A vector of the 8-lane form of `W` (the latency kernels' registers).
pub(crate) type V8<W> = <<W as Isa>::X8 as Isa>::V;

/// Where a latency step reads the state `h` it multiplies: `h[J]` in every lane, for each `J`
/// (module docs, "The step from the caller's state").
pub(crate) trait HSplat<I: Isa8>: Copy {
    /// Whether the LSTM step activates `tanh(g)` before `σ(f)` in program order
    /// ([`lstm_gate_activations_lanes`]; module docs, "The review step on Zen 4, gate by
    /// gate"): the order the out-of-order core picks ready µops in, measured per source of
    /// `h`. The same bits either way.
    const TANH_BEFORE_FORGET: bool;
    /// `h` itself, unit `u` in lane `u`.
    fn vector(self, isa: I) -> I::V;
    /// `h[J]` in every lane.
    fn splat<const J: i32>(self, isa: I) -> I::V;
}

/// `h` in a register, as a review carries it from step to step: a lane splat each (one
/// `vpermps` on the 8-lane x86 ISAs: module docs, "One permute per lane splat").
#[derive(Clone, Copy)]
pub(crate) struct InRegister<V>(pub V);

impl<I: Isa8> HSplat<I> for InRegister<I::V> {
    const TANH_BEFORE_FORGET: bool = true;
    #[inline(always)]
    fn vector(self, _: I) -> I::V {
        self.0
    }
    #[inline(always)]
    fn splat<const J: i32>(self, isa: I) -> I::V {
        isa.lane_splat::<J>(self.0)
    }
}

/// `h` in a register, splatted from its two halves ([`Isa::lane_halves`], [`Isa::half_splat`]):
/// the form of the CPUs whose lane permute is slow from its data operand (module docs, "Splats
/// from halves on Zen 3").
#[derive(Clone, Copy)]
pub(crate) struct InHalves<V> {
    h: V,
    halves: [V; 2],
}

impl<V: Copy> InHalves<V> {
    /// `h` and its halves (one step's two shuffles).
    #[inline(always)]
    pub(crate) fn new<I: Isa8<V = V>>(isa: I, h: V) -> Self {
        Self {
            h,
            halves: isa.lane_halves(h),
        }
    }
}

impl<I: Isa8> HSplat<I> for InHalves<I::V> {
    const TANH_BEFORE_FORGET: bool = true;
    #[inline(always)]
    fn vector(self, _: I) -> I::V {
        self.h
    }
    #[inline(always)]
    fn splat<const J: i32>(self, isa: I) -> I::V {
        isa.half_splat::<J>(self.halves)
    }
}

/// `h` in memory, where a step `Op` finds the caller's state: a broadcast each, on AVX2 and
/// AVX-512 a `vbroadcastss` load (no shuffle; it reads the last step's store as the vector load
/// would).
#[derive(Clone, Copy)]
pub(crate) struct InMemory<'a>(pub &'a [f32; HIDDEN]);

impl<I: Isa8> HSplat<I> for InMemory<'_> {
    const TANH_BEFORE_FORGET: bool = false;
    #[inline(always)]
    fn vector(self, isa: I) -> I::V {
        isa.load(self.0)
    }
    #[inline(always)]
    fn splat<const J: i32>(self, isa: I) -> I::V {
        isa.splat(self.0[J as usize])
    }
}

/// `a·u + b·v`, the product `a·u` rounded first (one chain of the recurrent sums).
#[inline(always)]
fn two_terms<I: Isa>(isa: I, a: I::V, u: I::V, b: I::V, v: I::V) -> I::V {
    isa.mul_add(b, v, isa.mul(a, u))
}

/// The LSTM gate pre-activations of one step, units in lanes: `z[g] = row[g] + Σ_j splat(h[j])
/// · rec[j][g]`, per gate as four independent chains of two terms and two levels of adds,
/// `((row + h0·U0 + h4·U4) + (h1·U1 + h5·U5)) + ((h2·U2 + h6·U6) + (h3·U3 + h7·U7))`: an FMA
/// chain of two (not four) links, and the adds, two cycles each on Zen 5, off the FMA ports
/// (module docs). The gates in the order `i, g, f, o`, the order `c'` needs them in (module
/// docs, "The review step on Zen 4, gate by gate"). The 8-lane step runs this; AVX-512's zmm
/// step (`Isa::wide_lstm_step`) computes the same sums, lane by lane in the same order, with
/// two gates per zmm.
#[inline(always)]
pub(crate) fn lstm_gate_sums_lanes<I: Isa8, H: HSplat<I>>(
    isa: I,
    row: &[[f32; HIDDEN]; 4],
    rec: &[[[f32; HIDDEN]; 4]; HIDDEN],
    h: H,
) -> [I::V; 4] {
    let s = [
        h.splat::<0>(isa),
        h.splat::<1>(isa),
        h.splat::<2>(isa),
        h.splat::<3>(isa),
        h.splat::<4>(isa),
        h.splat::<5>(isa),
        h.splat::<6>(isa),
        h.splat::<7>(isa),
    ];
    let mut z = [isa.splat(0.0); 4];
    for g in [GATE_I, GATE_C, GATE_F, GATE_O] {
        let zg = &mut z[g];
        // (A macro, not a closure: a closure is outlined without the target features.)
        macro_rules! u {
            ($j:literal) => {
                isa.load(&rec[$j][g])
            };
        }
        let a0 = isa.mul_add(s[4], u!(4), isa.mul_add(s[0], u!(0), isa.load(&row[g])));
        let a1 = two_terms(isa, s[1], u!(1), s[5], u!(5));
        let a2 = two_terms(isa, s[2], u!(2), s[6], u!(6));
        let a3 = two_terms(isa, s[3], u!(3), s[7], u!(7));
        *zg = isa.add(isa.add(a0, a1), isa.add(a2, a3));
    }
    z
}

/// `[σ(z_i), σ(z_f), tanh(z_g), σ(z_o)]` of the gate pre-activations, units in lanes: the
/// piecewise forms (the default of `Isa::lstm_gate_activations`). `i` first and `o` last in
/// program order; `tanh(g)` before `σ(f)` where `tanh_before_forget` ([`HSplat`]). The order
/// changes no bit, only which ready µops the core issues first.
#[inline(always)]
pub(crate) fn lstm_gate_activations_lanes<I: Isa8>(
    isa: I,
    z: [I::V; 4],
    tanh_before_forget: bool,
) -> [I::V; 4] {
    let i = sigmoid_piecewise(isa, z[GATE_I]);
    let (f, g) = if tanh_before_forget {
        let g = tanh_piecewise(isa, z[GATE_C]);
        (sigmoid_piecewise(isa, z[GATE_F]), g)
    } else {
        let f = sigmoid_piecewise(isa, z[GATE_F]);
        (f, tanh_piecewise(isa, z[GATE_C]))
    };
    [i, f, g, sigmoid_piecewise(isa, z[GATE_O])]
}

/// One LSTM step of one sequence with the gates in lanes: unit `u` of `c` in lane `u`, of `h` in
/// lane or element `u` (wherever it is: [`HSplat`]). `wide` is the kernel's ISA: its 8-lane form
/// runs the step, and with `WIDE` its own [`Isa::lstm_gate_activations`] the gates (AVX-512: two
/// per zmm; see `Isa::wide_lstm_step`).
#[inline(always)]
pub(crate) fn lstm_cell_lanes<W: Isa, const WIDE: bool, H: HSplat<W::X8>>(
    wide: W,
    t: &LstmTables,
    h: H,
    c: V8<W>,
    token: u16,
) -> (V8<W>, V8<W>) {
    let isa = wide.x8();
    let (row, rec) = (&t.table()[token as usize].0, t.recurrent());
    let [i, f, g, o] = if WIDE {
        wide.lstm_gate_activations(row, rec, h.vector(isa))
    } else {
        let z = lstm_gate_sums_lanes(isa, row, rec, h);
        lstm_gate_activations_lanes(isa, z, H::TANH_BEFORE_FORGET)
    };
    // `i·g` first, `f` last: on AVX-512 with `WIDE`, `f` and `o` come out of the recurrent sum
    // one extract later than `i` and `g` (the high halves of their zmm).
    let c = isa.mul_add(f, c, isa.mul(i, g));
    (tanh_times_piecewise(isa, o, c), c)
}

/// One review, latency-style: start from the padding cache after `pads` leading pads, then step
/// the state in registers through the ids `id(pads)`, …, `id(SEQ_LEN - 1)`
/// ([`lstm_steps_in_registers`]).
#[inline(always)]
pub(crate) fn lstm_review_hidden<W: Isa>(
    wide: W,
    t: &LstmTables,
    pads: usize,
    id: impl FnMut(usize) -> u16,
) -> [f32; HIDDEN] {
    let isa = wide.x8();
    let s0 = t.pad_state(pads);
    let (h, c) = (isa.load(&s0.h), isa.load(&s0.c));
    // The choice of vectors and splats once per review, not per step.
    let (h, _) = lstm_steps_chosen(wide, t, (h, c), pads..SEQ_LEN, id);
    isa.store(h)
}

/// LSTM steps from `state` with `tokens` in order, the state in registers between them
/// ([`lstm_steps_in_registers`]): what as many step `Op`s give, bit for bit, without the round
/// trip of `h` through the state's memory before each step (module docs, "Several steps in one
/// call").
#[inline(always)]
pub(crate) fn lstm_steps<W: Isa>(wide: W, t: &LstmTables, state: &mut LstmState, tokens: &[u16]) {
    let isa = wide.x8();
    let (h, c) = (isa.load(&state.h), isa.load(&state.c));
    let (h, c) = lstm_steps_chosen(wide, t, (h, c), 0..tokens.len(), |k| tokens[k]);
    state.h = isa.store(h);
    state.c = isa.store(c);
}

/// [`lstm_steps_in_registers`] in the form this CPU runs, chosen once for all the steps: two
/// gates per zmm (`Isa::wide_lstm_step`), else the 8-lane step with `h` splatted from its
/// halves (`Isa::splats_from_halves`) or lane by lane.
#[inline(always)]
fn lstm_steps_chosen<W: Isa>(
    wide: W,
    t: &LstmTables,
    state: (V8<W>, V8<W>),
    ks: std::ops::Range<usize>,
    id: impl FnMut(usize) -> u16,
) -> (V8<W>, V8<W>) {
    if wide.wide_lstm_step() {
        lstm_steps_in_registers::<W, true, false>(wide, t, state, ks, id)
    } else if wide.x8().splats_from_halves() {
        lstm_steps_in_registers::<W, false, true>(wide, t, state, ks, id)
    } else {
        lstm_steps_in_registers::<W, false, false>(wide, t, state, ks, id)
    }
}

/// `(h, c)` stepped with the ids `id(k)`, `k` in `ks`, by [`lstm_cell_lanes`]`::<W, WIDE>`, the
/// state in registers, `h` splatted from its halves where `HALVES` ([`InHalves`]).
///
/// Each id is asked for one step before the step that reads it, so when an id takes work (the
/// text path looks each word up in the word table, a chain of loads and multiplies) that work
/// runs beside the step before, which waits on its own chain, instead of in front of its own.
#[inline(always)]
fn lstm_steps_in_registers<W: Isa, const WIDE: bool, const HALVES: bool>(
    wide: W,
    t: &LstmTables,
    (mut h, mut c): (V8<W>, V8<W>),
    ks: std::ops::Range<usize>,
    mut id: impl FnMut(usize) -> u16,
) -> (V8<W>, V8<W>) {
    if ks.is_empty() {
        return (h, c);
    }
    let isa = wide.x8();
    // (A macro, not a closure: a closure is outlined without the target features.)
    macro_rules! cell {
        ($tok:expr) => {
            if HALVES {
                lstm_cell_lanes::<W, WIDE, _>(wide, t, InHalves::new(isa, h), c, $tok)
            } else {
                lstm_cell_lanes::<W, WIDE, _>(wide, t, InRegister(h), c, $tok)
            }
        };
    }
    let mut next = id(ks.start);
    for k in ks.start + 1..ks.end {
        let tok = next;
        next = id(k);
        (h, c) = cell!(tok);
    }
    cell!(next)
}

// ---------------------------------------------------------------------------------------------
// SimpleRNN
// ---------------------------------------------------------------------------------------------

/// Final `h` of `B` blocks of `LANES` sequences in lanes (see [`lstm_blocks`]):
/// `h'[u] = tanh(zx[u] + Σ_j h[j]·U[j][u])`.
#[inline(always)]
pub(crate) fn rnn_blocks<I: Isa, const B: usize>(
    isa: I,
    t: &RnnTables,
    seqs: [BlockSeqs<'_, I>; B],
) -> [[I::V; HIDDEN]; B] {
    let start = fewest_pads::<I, B>(&seqs);
    let s0 = t.batch_pad_state(start);
    let mut h: [[I::V; HIDDEN]; B] = [s0.h.map(|x| isa.splat(x)); B];
    // The pipelined pair where its 16 live vectors fit beside the `tanh` chains without spills
    // (32 registers) and the ISA's proof says so; with 16 it spilled and measured slower than
    // two alternating steps (module docs, "On Zen 4").
    if B == 2 && I::VECTOR_REGISTERS >= 32 && isa.pipelined_pairs() {
        let (h0, h1) = h.split_at_mut(1);
        rnn_pair(
            isa,
            t,
            [&seqs[0], &seqs[1]],
            start,
            [&mut h0[0], &mut h1[0]],
        );
        return h;
    }
    for step in start..SEQ_LEN {
        for (hb, sb) in h.iter_mut().zip(&seqs) {
            rnn_block_step(isa, t, sb, step, hb);
        }
    }
    h
}

/// One step of one SimpleRNN block of `LANES` sequences (the arithmetic of [`rnn_pair`] too).
#[inline(always)]
fn rnn_block_step<I: Isa>(
    isa: I,
    t: &RnnTables,
    seqs: &BlockSeqs<'_, I>,
    step: usize,
    h: &mut [I::V; HIDDEN],
) {
    let rec_splat = t.recurrent_splat();
    let mut z = rnn_gather(isa, t, seqs, step);
    // All 8 pre-activations first, then all 8 tanh: independent chains, a division a pair.
    for (u, acc) in z.iter_mut().enumerate() {
        for j in 0..HIDDEN {
            *acc = isa.mul_add(h[j], isa.splat_from(&rec_splat[j][u]), *acc);
        }
    }
    tanh_batch_pairs_n(isa, &mut z);
    *h = z;
}

/// The batch's SimpleRNN padding cache ([`RnnTables::batch_pad_state`]), as
/// [`lstm_batch_pad_states`].
#[inline(always)]
pub(crate) fn rnn_batch_pad_states<I: Isa>(isa: I, t: &RnnTables) -> Vec<RnnState> {
    let pads = [0u16; SEQ_LEN];
    let seqs: BlockSeqs<'_, I> = isa.arr(&pads);
    let mut h = [isa.splat(0.0); HIDDEN];
    let mut states = Vec::with_capacity(SEQ_LEN + 1);
    states.push(RnnState::default());
    for step in 0..SEQ_LEN {
        rnn_block_step(isa, t, &seqs, step, &mut h);
        let mut s = RnnState::default();
        for (x, &v) in s.h.iter_mut().zip(&h) {
            *x = isa.store(v).as_ref()[0];
        }
        states.push(s);
    }
    states
}

/// `zx[u]` of one SimpleRNN block's step: its `LANES` table rows, transposed.
#[inline(always)]
fn rnn_gather<I: Isa>(
    isa: I,
    t: &RnnTables,
    seqs: &BlockSeqs<'_, I>,
    step: usize,
) -> [I::V; HIDDEN] {
    let table = t.table();
    let mut rows = isa.arr(&table[0].0);
    for (row, seq) in rows.as_mut().iter_mut().zip(seqs.as_ref()) {
        *row = &table[seq[step] as usize].0;
    }
    isa.gather_rows(&rows)
}

/// Two SimpleRNN blocks half a step apart (see [`lstm_pair`]): one block's recurrent products,
/// advanced over `j` for all 8 units at once, with the other block's `tanh` of unit `j` between
/// the FMAs of `j` and `j + 1`. Each lane's operations are [`rnn_blocks`]' (the same bits).
#[inline(always)]
fn rnn_pair<I: Isa>(
    isa: I,
    t: &RnnTables,
    seqs: [&BlockSeqs<'_, I>; 2],
    start: usize,
    h: [&mut [I::V; HIDDEN]; 2],
) {
    if start >= SEQ_LEN {
        return;
    }
    let [h0, h1] = h;
    let mut z0 = rnn_gather(isa, t, seqs[0], start);
    let mut unused = [isa.splat(0.0); HIDDEN];
    rnn_half::<I, false>(isa, t, h0, &mut z0, &unused.clone(), &mut unused);
    for step in start..SEQ_LEN {
        let mut z1 = rnn_gather(isa, t, seqs[1], step);
        rnn_half::<I, true>(isa, t, h1, &mut z1, &z0, h0);
        if step + 1 < SEQ_LEN {
            z0 = rnn_gather(isa, t, seqs[0], step + 1);
            rnn_half::<I, true>(isa, t, h0, &mut z0, &z1, h1);
        } else {
            tanh_batch_pairs_n(isa, &mut z1);
            *h1 = z1;
        }
    }
}

/// Half a pipelined SimpleRNN pair step: `zp += Σ_j hp[j]·U[j]` (8 chains advanced together),
/// and with `ACTIVATIONS` `ha[j] = tanh(za[j])`, in pairs `(j − 1, j)` as
/// [`tanh_batch_pairs_n`] takes them, after the FMAs of `j`.
#[inline(always)]
fn rnn_half<I: Isa, const ACTIVATIONS: bool>(
    isa: I,
    t: &RnnTables,
    hp: &[I::V; HIDDEN],
    zp: &mut [I::V; HIDDEN],
    za: &[I::V; HIDDEN],
    ha: &mut [I::V; HIDDEN],
) {
    let rec_splat = t.recurrent_splat();
    let hp = *hp;
    let mut acc = *zp;
    for j in 0..HIDDEN {
        for (u, a) in acc.iter_mut().enumerate() {
            *a = isa.mul_add(hp[j], isa.splat_from(&rec_splat[j][u]), *a);
        }
        if ACTIVATIONS && j % 2 == 1 {
            let mut pair = [za[j - 1], za[j]];
            tanh_batch_pairs_n(isa, &mut pair);
            [ha[j - 1], ha[j]] = pair;
        }
    }
    *zp = acc;
}

/// One SimpleRNN step of one sequence, units in lanes, `h` wherever it is ([`HSplat`]). `U` is 8
/// vectors: they stay in registers across the steps of [`rnn_review_hidden`].
#[inline(always)]
pub(crate) fn rnn_cell_lanes<I: Isa8, H: HSplat<I>>(
    isa: I,
    t: &RnnTables,
    u: &[I::V; HIDDEN],
    h: H,
    token: u16,
) -> I::V {
    // Four chains of two: the dependency chain is one FMA, one FMA (or multiply) and two adds.
    let a0 = isa.mul_add(
        h.splat::<0>(isa),
        u[0],
        isa.load(&t.table()[token as usize].0),
    );
    let a1 = isa.mul(h.splat::<1>(isa), u[1]);
    let a2 = isa.mul(h.splat::<2>(isa), u[2]);
    let a3 = isa.mul(h.splat::<3>(isa), u[3]);
    let a0 = isa.mul_add(h.splat::<4>(isa), u[4], a0);
    let a1 = isa.mul_add(h.splat::<5>(isa), u[5], a1);
    let a2 = isa.mul_add(h.splat::<6>(isa), u[6], a2);
    let a3 = isa.mul_add(h.splat::<7>(isa), u[7], a3);
    tanh_piecewise(isa, isa.add(isa.add(a0, a1), isa.add(a2, a3)))
}

/// The recurrent kernel as 8 row vectors.
#[inline(always)]
pub(crate) fn rnn_recurrent_lanes<I: Isa8>(isa: I, t: &RnnTables) -> [I::V; HIDDEN] {
    let mut u = [isa.splat(0.0); HIDDEN];
    for (uj, row) in u.iter_mut().zip(t.recurrent()) {
        *uj = isa.load(row);
    }
    u
}

/// One review, latency-style (padding cache, then the state in registers:
/// [`rnn_steps_in_registers`]).
#[inline(always)]
pub(crate) fn rnn_review_hidden<I: Isa8>(
    isa: I,
    t: &RnnTables,
    pads: usize,
    id: impl FnMut(usize) -> u16,
) -> [f32; HIDDEN] {
    let h = isa.load(&t.pad_state(pads).h);
    isa.store(rnn_steps_in_registers(isa, t, h, pads..SEQ_LEN, id))
}

/// SimpleRNN steps from `state` with `tokens` in order, the state in registers between them: as
/// many step `Op`s give, bit for bit (see [`lstm_steps`]).
#[inline(always)]
pub(crate) fn rnn_steps<I: Isa8>(isa: I, t: &RnnTables, state: &mut RnnState, tokens: &[u16]) {
    let h = isa.load(&state.h);
    state.h = isa.store(rnn_steps_in_registers(isa, t, h, 0..tokens.len(), |k| {
        tokens[k]
    }));
}

/// `h` stepped with the ids `id(k)`, `k` in `ks`, the state in registers; each id asked for one
/// step ahead (as in [`lstm_steps_in_registers`]).
#[inline(always)]
fn rnn_steps_in_registers<I: Isa8>(
    isa: I,
    t: &RnnTables,
    mut h: I::V,
    ks: std::ops::Range<usize>,
    mut id: impl FnMut(usize) -> u16,
) -> I::V {
    if ks.is_empty() {
        return h;
    }
    let u = rnn_recurrent_lanes(isa, t);
    // The splats' form once for all the steps, as `lstm_steps_chosen`.
    // `$h` is `h` where each step reads it.
    macro_rules! steps {
        ($h:expr) => {{
            let mut next = id(ks.start);
            for k in ks.start + 1..ks.end {
                let tok = next;
                next = id(k);
                h = rnn_cell_lanes(isa, t, &u, $h, tok);
            }
            rnn_cell_lanes(isa, t, &u, $h, next)
        }};
    }
    if isa.splats_from_halves() {
        steps!(InHalves::new(isa, h))
    } else {
        steps!(InRegister(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The counting sort is the comparison sort it replaced: window indices by (leading
        /// pads, index), every index once.
        #[test]
        fn pad_order_sorts_by_pads_then_index(pads in proptest::collection::vec(
            prop_oneof![Just(0usize), Just(SEQ_LEN), 0..=SEQ_LEN], 1..=PAD_SORT_WINDOW)) {
            let seqs: Vec<[u16; SEQ_LEN]> = pads
                .iter()
                .map(|&p| std::array::from_fn(|t| u16::from(t >= p)))
                .collect();
            let mut want: Vec<(usize, usize)> = pads.iter().copied().zip(0..).collect();
            want.sort();
            let got = pad_order(BatchRows::Rows(&seqs));
            let got: Vec<usize> = got[..seqs.len()].iter().map(|&k| usize::from(k)).collect();
            let want: Vec<usize> = want.into_iter().map(|(_, k)| k).collect();
            prop_assert_eq!(got, want);
        }
    }
}
