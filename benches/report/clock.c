/*
 * The core clock as this process sees it: a chain of dependent register-to-register adds, one
 * cycle each on every x86-64 and AArch64 core of the last decade, timed with CLOCK_MONOTONIC.
 * (Not add-immediate: some cores fold chains of those at rename, measured here at 22 "GHz".)
 *
 *   gcc -O2 -o clock benches/report/clock.c && ./clock [MEASUREMENTS]
 *
 * A measurement is 400 short timed chains of 100,000 adds (about 25 µs each at 4 GHz); it prints
 * one line, "best_ghz B typical_ghz T": B is the fastest chain's adds per nanosecond, the clock
 * while this process had the core to itself; T is the median chain's, lower when other
 * processes or the hypervisor take the core away mid-chain. benches/report/report.py takes the
 * median and range of each over the measurements. The loop counter runs beside the chain on
 * other ports, so it adds no cycles to it.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__)
#define ADD1 "add %1, %0\n\t"
#elif defined(__aarch64__)
#define ADD1 "add %0, %0, %1\n\t"
#else
#error "clock.c knows the one-cycle add of x86-64 and AArch64 only"
#endif
#define ADD10 ADD1 ADD1 ADD1 ADD1 ADD1 ADD1 ADD1 ADD1 ADD1 ADD1
#define ADD100 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10

enum { CHAINS = 400, BLOCKS = 1000 /* of 100 adds */ };

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One timed chain of BLOCKS * 100 dependent adds of `one`; returns adds per nanosecond. */
static double chain_ghz(uint64_t one) {
    uint64_t x = 0;
    double t0 = now_ns();
    for (int i = 0; i < BLOCKS; i++)
        __asm__ volatile(ADD100 : "+r"(x) : "r"(one));
    double ns = now_ns() - t0;
    return ns > 0 ? (double)x / ns : 0;
}

int main(int argc, char **argv) {
    int measurements = argc > 1 ? atoi(argv[1]) : 9;
    if (measurements < 1 || measurements > 1000) {
        fprintf(stderr, "clock: MEASUREMENTS must be 1..1000, got %s\n", argv[1]);
        return 2;
    }
    /* From argc, so the compiler cannot fold the chain into one multiply. */
    const uint64_t one = (uint64_t)(argc > 0);
    static double ghz[CHAINS];
    for (int i = 0; i < CHAINS; i++) /* warm-up: let the core reach its clock */
        (void)chain_ghz(one);
    for (int m = 0; m < measurements; m++) {
        for (int i = 0; i < CHAINS; i++)
            ghz[i] = chain_ghz(one);
        qsort(ghz, CHAINS, sizeof ghz[0], by_value);
        printf("best_ghz %.4f typical_ghz %.4f\n", ghz[CHAINS - 1], ghz[CHAINS / 2]);
    }
    return 0;
}
