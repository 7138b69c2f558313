/*
 * Latency, in core cycles, of each instruction on the latency kernels' dependent chain (issue 16
 * item 1), measured on the CPU it runs on: a chain of dependent copies of one instruction, timed
 * beside a chain of dependent one-cycle integer adds (the clock, as in clock.c), so the ratio is
 * cycles whatever the clock is. The account built from these numbers is in the module docs of
 * src/kernels/simd.rs.
 *
 *   gcc -O2 -mavx512f -o /tmp/insn_latency benches/report/insn_latency.c && /tmp/insn_latency
 *   /tmp/insn_latency --peak    # one line: f32 multiply-adds per cycle of ymm and zmm FMAs
 *
 * After the latencies, two throughput tables: each instruction alone and in pairs with a
 * multiply or an add, on ymm (every CPU) and on zmm (AVX-512F/BW/VL only).
 *
 * (`-mavx512f` lets the zmm table name zmm16..zmm23 and k1 in its clobbers; main checks the CPU
 * before running any AVX-512 row.)
 *
 * Needs AVX2+FMA; the AVX-512 rows run only where AVX-512F/VL is present. Each row prints the
 * best (lowest) of 200 timed chains of 10,000 dependent instructions, against the best of the
 * add chains timed in between, so a busy machine slows both alike (the best chain is the one
 * that had the core to itself).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { CHAINS = 200, REPS = 100 /* blocks of 100 instructions */ };

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

#define X10(s) s s s s s s s s s s
#define X100(s) X10(X10(s))

/* One timed chain of REPS*100 copies of the instruction `INSN` on register operands (the loop
 * in the same asm block, so the registers carry the chain from block to block); the best
 * nanoseconds per instruction over CHAINS chains. */
#define CHAIN_FN(name, INSN, PRE)                                                                  \
    static double name(void) {                                                                     \
        double best = 1e30;                                                                        \
        for (int c = 0; c < CHAINS; c++) {                                                         \
            double t0 = now_ns();                                                                  \
            __asm__ volatile(PRE "mov %0, %%ecx\n\t"                                           \
                             "1:\n\t" X100(INSN "\n\t") "dec %%ecx\n\tjnz 1b\n\t"                  \
                             : : "i"(REPS) : "ecx", "cc", "xmm0", "xmm1", "xmm2", "xmm3");         \
            double ns = (now_ns() - t0) / (REPS * 100.0);                                          \
            if (ns < best)                                                                         \
                best = ns;                                                                         \
        }                                                                                          \
        return best;                                                                               \
    }

/* ymm1 = 1.0f everywhere, ymm2 = 0 (so the chains stay finite and normal); ymm3 = lane index 0
 * for the permute. */
#define SETUP                                                                                      \
    "vpcmpeqd %%ymm1, %%ymm1, %%ymm1\n\tvpsrld $25, %%ymm1, %%ymm1\n\tvpslld $23, %%ymm1, %%ymm1\n\t" \
    "vxorps %%ymm2, %%ymm2, %%ymm2\n\tvxorps %%ymm3, %%ymm3, %%ymm3\n\tvmovaps %%ymm1, %%ymm0\n\t"

static double add_chain(void) {
    double best = 1e30;
    uint64_t x = 0, one = 1;
    for (int c = 0; c < CHAINS; c++) {
        double t0 = now_ns();
        for (int i = 0; i < REPS; i++)
            __asm__ volatile(X100("add %1, %0\n\t") : "+r"(x) : "r"(one));
        double ns = (now_ns() - t0) / (REPS * 100.0);
        if (ns < best)
            best = ns;
    }
    return best;
}

CHAIN_FN(fma_ps, "vfmadd231ps %%ymm1, %%ymm2, %%ymm0", SETUP)
CHAIN_FN(add_ps, "vaddps %%ymm2, %%ymm0, %%ymm0", SETUP)
CHAIN_FN(mul_ps, "vmulps %%ymm1, %%ymm0, %%ymm0", SETUP)
CHAIN_FN(max_ps, "vmaxps %%ymm2, %%ymm0, %%ymm0", SETUP)
CHAIN_FN(div_ps, "vdivps %%ymm1, %%ymm0, %%ymm0", SETUP)
CHAIN_FN(rcp_ps, "vrcpps %%ymm0, %%ymm0", SETUP)
CHAIN_FN(perm_ps, "vpermps %%ymm0, %%ymm3, %%ymm0", SETUP)
CHAIN_FN(blendv_ps, "vblendvps %%ymm2, %%ymm1, %%ymm0, %%ymm0", SETUP)
CHAIN_FN(paddd, "vpaddd %%ymm2, %%ymm0, %%ymm0", SETUP)
/* Integer add feeding a float add: the round trip through the integer domain that `scale_pow2`
 * puts on the chain (vpaddd on the exponent field, then the FP consumer), minus one vaddps. */
CHAIN_FN(paddd_addps, "vpaddd %%ymm2, %%ymm0, %%ymm0\n\tvaddps %%ymm2, %%ymm0, %%ymm0", SETUP)
CHAIN_FN(cvtt_cvt, "vcvttps2dq %%ymm0, %%ymm0\n\tvcvtdq2ps %%ymm0, %%ymm0", SETUP)
CHAIN_FN(and_ps, "vandps %%ymm1, %%ymm0, %%ymm0", SETUP)
CHAIN_FN(rcp14_ps, "vrcp14ps %%ymm0, %%ymm0", SETUP)
CHAIN_FN(scalef_ps, "vscalefps %%ymm2, %%ymm0, %%ymm0", SETUP)
CHAIN_FN(fma_zmm, "vfmadd231ps %%zmm1, %%zmm2, %%zmm0", SETUP)
CHAIN_FN(div_zmm, "vdivps %%zmm1, %%zmm0, %%zmm0", SETUP)
CHAIN_FN(perm_zmm, "vpermps %%zmm0, %%zmm3, %%zmm0", SETUP)
/* The AVX-512 rows of issue 16's Zen 5 account (zmm unless named). */
CHAIN_FN(add_zmm, "vaddps %%zmm2, %%zmm0, %%zmm0", SETUP)
CHAIN_FN(mul_zmm, "vmulps %%zmm1, %%zmm0, %%zmm0", SETUP)
CHAIN_FN(max_zmm, "vmaxps %%zmm2, %%zmm0, %%zmm0", SETUP)
CHAIN_FN(permt2_zmm, "vpermt2ps %%zmm2, %%zmm3, %%zmm0", SETUP)
CHAIN_FN(rcp14_zmm, "vrcp14ps %%zmm0, %%zmm0", SETUP)
CHAIN_FN(scalef_zmm, "vscalefps %%zmm2, %%zmm0, %%zmm0", SETUP)
CHAIN_FN(getexp_zmm, "vgetexpps %%zmm0, %%zmm0", SETUP)
CHAIN_FN(blendm_zmm, "vblendmps %%zmm0, %%zmm2, %%zmm0%{%%k1%}", SETUP "kxnorw %%k1, %%k1, %%k1\n\t")
CHAIN_FN(bcast_zmm, "vbroadcastss %%xmm0, %%zmm0", SETUP)
CHAIN_FN(shuff_zmm, "vshuff32x4 $0x4e, %%zmm0, %%zmm0, %%zmm0", SETUP)
CHAIN_FN(extract_zmm, "vextractf32x4 $1, %%zmm0, %%xmm0", SETUP)
CHAIN_FN(extract8_zmm, "vextractf32x8 $1, %%zmm0, %%ymm0", SETUP)
CHAIN_FN(extract64x4_zmm, "vextractf64x4 $1, %%zmm0, %%ymm0", SETUP)
CHAIN_FN(pmaxub_ymm, "vpmaxub %%ymm2, %%ymm0, %%ymm0", SETUP)
CHAIN_FN(psrld_ymm, "vpsrld $1, %%ymm0, %%ymm0", SETUP)
CHAIN_FN(pand_zmm, "vpandd %%zmm1, %%zmm0, %%zmm0", SETUP)
CHAIN_FN(psrld_zmm, "vpsrld $1, %%zmm0, %%zmm0", SETUP)
CHAIN_FN(pmaxsd_zmm, "vpmaxsd %%zmm2, %%zmm0, %%zmm0", SETUP)
CHAIN_FN(por_zmm, "vpord %%zmm2, %%zmm0, %%zmm0", SETUP)
/* Round trip integer op -> FP consumer in zmm (minus one vaddps zmm). */
CHAIN_FN(pand_addps_zmm, "vpandd %%zmm1, %%zmm0, %%zmm0\n\tvaddps %%zmm2, %%zmm0, %%zmm0", SETUP)

/* The state's round trip through memory that a step `Op` puts on its chain (it stores `h` to the
 * caller's state; the next step broadcasts each `h[j]` back from it): a ymm store and a 4-byte
 * broadcast load of one of its lanes, forwarded from the store, as one link. */
static double store_bcast(void) {
    static float buf[8] __attribute__((aligned(32)));
    double best = 1e30;
    for (int c = 0; c < CHAINS; c++) {
        double t0 = now_ns();
        __asm__ volatile(SETUP "mov %1, %%ecx\n\t"
                         "1:\n\t" X100("vmovups %%ymm0, (%0)\n\tvbroadcastss 12(%0), %%ymm0\n\t")
                         "dec %%ecx\n\tjnz 1b\n\t"
                         : : "r"(buf), "i"(REPS) : "ecx", "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3");
        double ns = (now_ns() - t0) / (REPS * 100.0);
        if (ns < best)
            best = ns;
    }
    return best;
}

/* Throughput: 8 independent copies per line (reciprocal throughput = time / instruction). */
#define TPUT_FN(name, OP, SRC, PRE)                                                                \
    static double name(void) {                                                                     \
        double best = 1e30;                                                                        \
        for (int c = 0; c < CHAINS; c++) {                                                         \
            double t0 = now_ns();                                                                  \
            __asm__ volatile(PRE "mov %0, %%ecx\n\t"                                               \
                             "1:\n\t" X10(OP " " SRC "4\n\t" OP " " SRC "5\n\t"        \
                                 OP " " SRC "6\n\t" OP " " SRC "7\n\t"                    \
                                 OP " " SRC "8\n\t" OP " " SRC "9\n\t"                    \
                                 OP " " SRC "10\n\t" OP " " SRC "11\n\t")               \
                             "dec %%ecx\n\tjnz 1b\n\t"                                            \
                             : : "i"(REPS * 10) : "ecx", "cc", "xmm0", "xmm1", "xmm2", "xmm3",     \
                               "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11");  \
            double ns = (now_ns() - t0) / (REPS * 10 * 80.0);                                      \
            if (ns < best)                                                                         \
                best = ns;                                                                         \
        }                                                                                          \
        return best;                                                                               \
    }
TPUT_FN(t_perm_ymm, "vpermps", "%%ymm1, %%ymm3, %%ymm", SETUP)
TPUT_FN(t_perm_zmm, "vpermps", "%%zmm1, %%zmm3, %%zmm", SETUP)
TPUT_FN(t_fma_zmm, "vfmadd231ps", "%%zmm1, %%zmm2, %%zmm", SETUP)
TPUT_FN(t_fma_ymm, "vfmadd231ps", "%%ymm1, %%ymm2, %%ymm", SETUP)
TPUT_FN(t_add_zmm, "vaddps", "%%zmm1, %%zmm2, %%zmm", SETUP)
TPUT_FN(t_pand_zmm, "vpandd", "%%zmm1, %%zmm2, %%zmm", SETUP)


/* Throughput (issue 16 item 3, the batch kernels' port account): REPS blocks of 100 copies of
 * an instruction into ten registers that no copy reads (zmm4..zmm13; FMAs accumulate there, ten
 * chains, enough to fill two pipes of latency 4 or 5), alone and interleaved one to one with an
 * FMA or an add into ten other registers (zmm14..zmm23): if the pair costs max(x, 0.5) cycles
 * the instruction runs beside that pipe pair, if it costs the sum it shares it. Cycles per
 * instruction (or pair), best of CHAINS. */
#define RA(M) M("4") M("5") M("6") M("7") M("8") M("9") M("10") M("11") M("12") M("13")
#define RB(M) M("14") M("15") M("16") M("17") M("18") M("19") M("20") M("21") M("22") M("23")
#define ZCLOB "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",   \
    "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19",    \
    "xmm20", "xmm21", "xmm22", "xmm23", "k1"
/* zmm1 = 1.0f, zmm2 = 0, zmm3 = 0 (permute index), zmm4..zmm23 = 1.0f. */
#define ZSETUP                                                                                     \
    "vpternlogd $0xff, %%zmm1, %%zmm1, %%zmm1\n\tvpsrld $25, %%zmm1, %%zmm1\n\t"                 \
    "vpslld $23, %%zmm1, %%zmm1\n\tvpxord %%zmm2, %%zmm2, %%zmm2\n\tvpxord %%zmm3, %%zmm3, %%zmm3\n\t" \
    RA(ZINIT) RB(ZINIT)
#define ZINIT(r) "vmovaps %%zmm1, %%zmm" r "\n\t"
/* One timed loop of BODY after SETUPX, clobbering CLOBX: the best nanoseconds per 100th of a
 * block over CHAINS loops (both throughput tables). */
#define PAIR_FN(name, SETUPX, CLOBX, BODY)                                                         \
    static double name(void) {                                                                     \
        double best = 1e30;                                                                        \
        for (int c = 0; c < CHAINS; c++) {                                                         \
            double t0 = now_ns();                                                                  \
            __asm__ volatile(SETUPX "mov %0, %%ecx\n\t"                                          \
                             "1:\n\t" BODY "dec %%ecx\n\tjnz 1b\n\t"                               \
                             : : "i"(REPS) : "ecx", "cc", CLOBX);                                  \
            double ns = (now_ns() - t0) / (REPS * 100.0);                                          \
            if (ns < best)                                                                         \
                best = ns;                                                                         \
        }                                                                                          \
        return best;                                                                               \
    }
#define PORT_FN(name, BODY) PAIR_FN(name, ZSETUP, ZCLOB, BODY)
#define T_FMA(r) "vfmadd231ps %%zmm1, %%zmm2, %%zmm" r "\n\t"
#define T_ADD(r) "vaddps %%zmm2, %%zmm" r ", %%zmm" r "\n\t"
/* One instruction X (macro X_##n(r)) alone, beside an FMA, beside an add. */
#define TPUT3(n)                                                                                   \
    PORT_FN(t_##n, X10(RA(X_##n)))                                                                 \
    PORT_FN(tf_##n, X10(RA(X_##n) RB(T_FMA)) )                                                     \
    PORT_FN(ta_##n, X10(RA(X_##n) RB(T_ADD)))
#define X_fma(r) T_FMA(r)
#define X_add(r) T_ADD(r)
#define X_mul(r) "vmulps %%zmm1, %%zmm2, %%zmm" r "\n\t"
#define X_max(r) "vmaxps %%zmm1, %%zmm2, %%zmm" r "\n\t"
#define X_perm(r) "vpermps %%zmm1, %%zmm3, %%zmm" r "\n\t"
#define X_perm2(r) "vpermt2ps %%zmm1, %%zmm3, %%zmm" r "\n\t"
#define X_rcp14(r) "vrcp14ps %%zmm1, %%zmm" r "\n\t"
#define X_scalef(r) "vscalefps %%zmm2, %%zmm1, %%zmm" r "\n\t"
#define X_cvt(r) "vcvtps2dq %%zmm1, %%zmm" r "\n\t"
#define X_cvtdq(r) "vcvtdq2ps %%zmm1, %%zmm" r "\n\t"
#define X_rndscale(r) "vrndscaleps $0, %%zmm1, %%zmm" r "\n\t"
#define X_getexp(r) "vgetexpps %%zmm1, %%zmm" r "\n\t"
#define X_getmant(r) "vgetmantps $0, %%zmm1, %%zmm" r "\n\t"
#define X_range(r) "vrangeps $2, %%zmm1, %%zmm2, %%zmm" r "\n\t"
#define X_reduce(r) "vreduceps $0, %%zmm1, %%zmm" r "\n\t"
#define X_unpck(r) "vunpcklps %%zmm1, %%zmm2, %%zmm" r "\n\t"
#define X_shuf(r) "vshufps $0x44, %%zmm1, %%zmm2, %%zmm" r "\n\t"
#define X_insert(r) "vinsertf32x4 $1, %%xmm1, %%zmm2, %%zmm" r "\n\t"
#define X_paddd(r) "vpaddd %%zmm1, %%zmm2, %%zmm" r "\n\t"
#define X_pand(r) "vpandd %%zmm1, %%zmm2, %%zmm" r "\n\t"
#define X_psrld(r) "vpsrld $3, %%zmm1, %%zmm" r "\n\t"
#define X_tern(r) "vpternlogd $0x96, %%zmm1, %%zmm2, %%zmm" r "\n\t"
#define X_fixup(r) "vfixupimmps $0, %%zmm1, %%zmm2, %%zmm" r "\n\t"
#define X_div(r) "vdivps %%zmm1, %%zmm2, %%zmm" r "\n\t"
#define X_cmp(r) "vcmpps $1, %%zmm1, %%zmm2, %%k1\n\t"
#define X_blendm(r) "vblendmps %%zmm1, %%zmm2, %%zmm" r "%{%%k1%}\n\t"
#define X_fmabc(r) "vfmadd231ps (%%rsp)%{1to16%}, %%zmm2, %%zmm" r "\n\t"
TPUT3(fma)
TPUT3(add)
TPUT3(mul)
TPUT3(max)
TPUT3(perm)
TPUT3(perm2)
TPUT3(rcp14)
TPUT3(scalef)
TPUT3(cvt)
TPUT3(cvtdq)
TPUT3(rndscale)
TPUT3(getexp)
TPUT3(getmant)
TPUT3(range)
TPUT3(reduce)
TPUT3(unpck)
TPUT3(shuf)
TPUT3(insert)
TPUT3(paddd)
TPUT3(pand)
TPUT3(psrld)
TPUT3(tern)
TPUT3(fixup)
TPUT3(div)
TPUT3(blendm)
TPUT3(fmabc)

/* The same pairs on ymm (issue 16 item 1, the latency kernels' 8-lane step; AVX2 and FMA only, so
 * the registers stop at ymm15): the instruction into ymm4..ymm13 (FMAs accumulate there, ten
 * chains), its companion a multiply (the FMA pipes) or an add written to ymm14 and ymm15, which no
 * instruction reads, so the companions carry no chain. */
#define YRA(M) M("4") M("5") M("6") M("7") M("8") M("9") M("10") M("11") M("12") M("13")
#define YRB(M) M("14") M("15") M("14") M("15") M("14") M("15") M("14") M("15") M("14") M("15")
#define YCLOB "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",   \
    "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"
/* ymm1 = 1.0f, ymm2 = 0, ymm3 = 0 (permute index), ymm4..ymm15 = 1.0f. */
#define YSETUP SETUP YRA(YINIT) "vmovaps %%ymm1, %%ymm14\n\tvmovaps %%ymm1, %%ymm15\n\t"
#define YINIT(r) "vmovaps %%ymm1, %%ymm" r "\n\t"
#define YPORT_FN(name, BODY) PAIR_FN(name, YSETUP, YCLOB, BODY)
#define YT_MUL(r) "vmulps %%ymm1, %%ymm2, %%ymm" r "\n\t"
#define YT_ADD(r) "vaddps %%ymm2, %%ymm1, %%ymm" r "\n\t"
#define YTPUT3(n)                                                                                  \
    YPORT_FN(yt_##n, X10(YRA(Y_##n)))                                                              \
    YPORT_FN(ytm_##n, X10(YRA(Y_##n) YRB(YT_MUL)))                                                 \
    YPORT_FN(yta_##n, X10(YRA(Y_##n) YRB(YT_ADD)))
#define Y_fma(r) "vfmadd231ps %%ymm1, %%ymm2, %%ymm" r "\n\t"
#define Y_mul(r) YT_MUL(r)
#define Y_add(r) YT_ADD(r)
#define Y_max(r) "vmaxps %%ymm1, %%ymm2, %%ymm" r "\n\t"
#define Y_perm(r) "vpermps %%ymm1, %%ymm3, %%ymm" r "\n\t"
#define Y_permd(r) "vpermd %%ymm1, %%ymm3, %%ymm" r "\n\t"
#define Y_pand(r) "vpand %%ymm1, %%ymm2, %%ymm" r "\n\t"
#define Y_psrld(r) "vpsrld $3, %%ymm1, %%ymm" r "\n\t"
#define Y_pmaxub(r) "vpmaxub %%ymm1, %%ymm2, %%ymm" r "\n\t"
#define Y_cmp(r) "vcmpps $1, %%ymm1, %%ymm2, %%ymm" r "\n\t"
#define Y_blendv(r) "vblendvps %%ymm3, %%ymm1, %%ymm2, %%ymm" r "\n\t"
YTPUT3(fma)
YTPUT3(mul)
YTPUT3(add)
YTPUT3(max)
YTPUT3(perm)
YTPUT3(permd)
YTPUT3(pand)
YTPUT3(psrld)
YTPUT3(pmaxub)
YTPUT3(cmp)
YTPUT3(blendv)

/* A row of a throughput table: the instruction alone, beside an FMA-pipe instruction, beside an
 * add. */
struct pair_row {
    const char *name;
    double (*f[3])(void);
    int needs_dq;
};

/* Prints `rows` in cycles (against the add chain, remeasured before each figure). */
static void pair_table(const char *title, const struct pair_row *rows, unsigned n, double add_ns,
                       int dq) {
    printf("\n%s\n", title);
    for (unsigned r = 0; r < n; r++) {
        if (rows[r].needs_dq && !dq) {
            printf("%-32s skipped (no AVX-512DQ)\n", rows[r].name);
            continue;
        }
        double c[3];
        for (int k = 0; k < 3; k++) {
            double a = add_chain();
            if (a < add_ns)
                add_ns = a;
            c[k] = rows[r].f[k]() / add_ns;
        }
        printf("%-32s %5.2f | %5.2f | %5.2f\n", rows[r].name, c[0], c[1], c[2]);
    }
}

static void ymm_throughput_table(double add_ns) {
    static const struct pair_row rows[] = {
#define ROW(n, label) {label, {yt_##n, ytm_##n, yta_##n}, 0},
        ROW(fma, "vfmadd231ps ymm") ROW(mul, "vmulps ymm") ROW(add, "vaddps ymm")
        ROW(max, "vmaxps ymm") ROW(perm, "vpermps ymm") ROW(permd, "vpermd ymm")
        ROW(pand, "vpand ymm") ROW(psrld, "vpsrld ymm, imm") ROW(pmaxub, "vpmaxub ymm")
        ROW(cmp, "vcmpps ymm") ROW(blendv, "vblendvps ymm")
#undef ROW
    };
    pair_table("throughput, ymm, cycles per instruction: alone | + 1 vmulps | + 1 vaddps (pair)",
               rows, sizeof rows / sizeof rows[0], add_ns, 0);
}

static void throughput_table(double add_ns, int dq) {
    static const struct pair_row rows[] = {
#define ROW(n, label, dq) {label, {t_##n, tf_##n, ta_##n}, dq},
        ROW(fma, "vfmadd231ps zmm", 0) ROW(fmabc, "vfmadd231ps zmm, m32{1to16}", 0)
        ROW(add, "vaddps zmm", 0) ROW(mul, "vmulps zmm", 0) ROW(max, "vmaxps zmm", 0)
        ROW(perm, "vpermps zmm", 0) ROW(perm2, "vpermt2ps zmm", 0) ROW(rcp14, "vrcp14ps zmm", 0)
        ROW(scalef, "vscalefps zmm", 0) ROW(cvt, "vcvtps2dq zmm", 0) ROW(cvtdq, "vcvtdq2ps zmm", 0)
        ROW(rndscale, "vrndscaleps zmm", 0) ROW(getexp, "vgetexpps zmm", 0)
        ROW(getmant, "vgetmantps zmm", 0) ROW(range, "vrangeps zmm (DQ)", 1)
        ROW(reduce, "vreduceps zmm (DQ)", 1) ROW(unpck, "vunpcklps zmm", 0)
        ROW(shuf, "vshufps zmm", 0) ROW(insert, "vinsertf32x4 zmm, xmm", 0)
        ROW(paddd, "vpaddd zmm", 0) ROW(pand, "vpandd zmm", 0) ROW(psrld, "vpsrld zmm, imm", 0)
        ROW(tern, "vpternlogd zmm", 0) ROW(fixup, "vfixupimmps zmm", 0) ROW(div, "vdivps zmm", 0)
        ROW(blendm, "vblendmps zmm {k}", 0)
#undef ROW
    };
    pair_table("throughput, zmm, cycles per instruction: alone | + 1 FMA | + 1 vaddps (pair)", rows,
               sizeof rows / sizeof rows[0], add_ns, dq);
}

/* `--peak`: the FMA peak benches/report/report.py divides by (issue 14's FMA share), measured rather
 * than assumed from the vector width: Zen 4 runs a zmm FMA as two 256-bit halves (16 multiply-adds
 * per cycle, as ymm), Zen 5 whole (32). Prints "ymm_macs_per_cycle Y zmm_macs_per_cycle Z", with
 * Z = 0 where AVX-512F/VL is absent; each the best of 5 throughput runs against the add chain. */
static int peak(int avx512) {
    double add_ns = add_chain(), ymm = 1e30, zmm = 1e30;
    for (int k = 0; k < 5; k++) {
        double a = add_chain();
        if (a < add_ns)
            add_ns = a;
        double y = t_fma_ymm();
        if (y < ymm)
            ymm = y;
        if (avx512) {
            double z = t_fma_zmm();
            if (z < zmm)
                zmm = z;
        }
    }
    printf("ymm_macs_per_cycle %.2f zmm_macs_per_cycle %.2f\n", 8.0 * add_ns / ymm,
           avx512 ? 16.0 * add_ns / zmm : 0.0);
    return 0;
}

int main(int argc, char **argv) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        fprintf(stderr, "insn_latency: needs AVX2 and FMA\n");
        return 2;
    }
    const int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    if (argc == 2 && strcmp(argv[1], "--peak") == 0)
        return peak(avx512);
    if (argc > 1) {
        fprintf(stderr, "insn_latency: the only option is --peak, got %s\n", argv[1]);
        return 2;
    }
    struct {
        const char *name;
        double (*f)(void);
        double minus; /* cycles of companion instructions in the same chain */
        int needs512;
    } rows[] = {
        {"vfmadd231ps ymm", fma_ps, 0, 0},
        {"vaddps ymm", add_ps, 0, 0},
        {"vmulps ymm", mul_ps, 0, 0},
        {"vmaxps ymm (vminps alike)", max_ps, 0, 0},
        {"vdivps ymm", div_ps, 0, 0},
        {"vrcpps ymm", rcp_ps, 0, 0},
        {"vpermps ymm (lane splat)", perm_ps, 0, 0},
        {"vblendvps ymm", blendv_ps, 0, 0},
        {"vandps ymm", and_ps, 0, 0},
        {"vpaddd ymm", paddd, 0, 0},
        {"vpaddd ymm -> vaddps (minus vaddps)", paddd_addps, -1, 0},
        {"vcvttps2dq + vcvtdq2ps ymm", cvtt_cvt, 0, 0},
        {"vrcp14ps ymm", rcp14_ps, 0, 1},
        {"vscalefps ymm", scalef_ps, 0, 1},
        {"vfmadd231ps zmm", fma_zmm, 0, 1},
        {"vdivps zmm", div_zmm, 0, 1},
        {"vpermps zmm", perm_zmm, 0, 1},
        {"vaddps zmm", add_zmm, 0, 1},
        {"vmulps zmm", mul_zmm, 0, 1},
        {"vmaxps zmm", max_zmm, 0, 1},
        {"vpermt2ps zmm", permt2_zmm, 0, 1},
        {"vrcp14ps zmm", rcp14_zmm, 0, 1},
        {"vscalefps zmm", scalef_zmm, 0, 1},
        {"vgetexpps zmm", getexp_zmm, 0, 1},
        {"vblendmps zmm (mask)", blendm_zmm, 0, 1},
        {"vbroadcastss xmm -> zmm", bcast_zmm, 0, 1},
        {"vshuff32x4 zmm", shuff_zmm, 0, 1},
        {"vextractf32x4 zmm -> xmm", extract_zmm, 0, 1},
        {"vextractf32x8 zmm -> ymm", extract8_zmm, 0, 1},
        {"vextractf64x4 zmm -> ymm", extract64x4_zmm, 0, 1},
        {"vpmaxub ymm (vpminub alike)", pmaxub_ymm, 0, 0},
        {"vpsrld ymm", psrld_ymm, 0, 0},
        {"vpandd zmm", pand_zmm, 0, 1},
        {"vpsrld zmm", psrld_zmm, 0, 1},
        {"vpmaxsd zmm", pmaxsd_zmm, 0, 1},
        {"vpord zmm", por_zmm, 0, 1},
        {"vpandd zmm -> vaddps zmm (minus vaddps)", pand_addps_zmm, -2, 1},
        {"store ymm -> vbroadcastss (forwarded)", store_bcast, 0, 0},
        {"throughput (cycles/insn): vpermps ymm", t_perm_ymm, 0, 0},
        {"throughput: vpermps zmm", t_perm_zmm, 0, 1},
        {"throughput: vfmadd231ps ymm", t_fma_ymm, 0, 0},
        {"throughput: vfmadd231ps zmm", t_fma_zmm, 0, 1},
        {"throughput: vaddps zmm", t_add_zmm, 0, 1},
        {"throughput: vpandd zmm", t_pand_zmm, 0, 1},
    };
    double add_ns = add_chain();
    printf("clock %.3f GHz (best dependent-add chain)\n", 1.0 / add_ns);
    for (unsigned r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        if (rows[r].needs512 && !avx512) {
            printf("%-40s skipped (no AVX-512F/VL)\n", rows[r].name);
            continue;
        }
        double ns = rows[r].f();
        double a = add_chain();
        if (a < add_ns)
            add_ns = a;
        double cycles = ns / add_ns;
        if (rows[r].minus == -1)
            cycles -= add_ps() / add_ns;
        if (rows[r].minus == -2)
            cycles -= add_zmm() / add_ns;
        printf("%-40s %5.2f cycles\n", rows[r].name, cycles);
    }
    ymm_throughput_table(add_ns);
    if (avx512 && __builtin_cpu_supports("avx512bw"))
        throughput_table(add_ns, __builtin_cpu_supports("avx512dq"));
    return 0;
}
