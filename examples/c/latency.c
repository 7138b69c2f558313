/*
 * Latency of one review through the fusedrnn C API: text in, probability out, one call at a time
 * on one thread, timed per call with clock_gettime(CLOCK_MONOTONIC).
 *
 *   latency MODEL.safetensors WORD_INDEX.json REVIEW.txt [CALLS]
 *
 * REVIEW.txt holds one review (a trailing newline is dropped; the README's figure uses
 * benches/peers/review_230.txt). Prints p50 / p99 / mean in microseconds of fusedrnn_score_text
 * on that text, and of fusedrnn_score_ids on 100 ids (the model alone, no tokenizing).
 *
 *   cargo build --release -p fusedrnn-capi
 *   gcc -std=c11 -O2 -Wall -Wextra -Iinclude examples/c/latency.c -Ltarget/release -lfusedrnn_c -o latency
 *   LD_LIBRARY_PATH=target/release ./latency M.safetensors imdb_word_index.json benches/peers/review_230.txt
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fusedrnn.h"

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts the samples and prints their p50, p99 and mean in microseconds. */
static void report(const char *what, double *ns, size_t n, float prob) {
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ns[i];
    qsort(ns, n, sizeof ns[0], by_value);
    printf("%-22s p50 %7.3f us  p99 %7.3f us  mean %7.3f us  (%zu calls, prob %.6f)\n", what,
           ns[n / 2] / 1e3, ns[(size_t)((double)n * 0.99)] / 1e3, sum / (double)n / 1e3, n,
           (double)prob);
}

static int fail(void) {
    fprintf(stderr, "error: %s\n", fusedrnn_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL WORD_INDEX REVIEW.txt [CALLS]\n", argv[0]);
        return 64;
    }
    size_t calls = argc > 4 ? (size_t)strtoul(argv[4], NULL, 10) : 200000;
    if (calls < 100)
        calls = 100;
    FILE *f = fopen(argv[3], "rb");
    if (!f) {
        perror(argv[3]);
        return 1;
    }
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof text, f);
    fclose(f);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;

    fusedrnn_model *model;
    if (fusedrnn_model_open(argv[1], argv[2], &model) != FUSEDRNN_OK)
        return fail();
    size_t words = 0;
    for (size_t i = 0; i < len; i++)
        words += text[i] == ' ';
    printf("%s model, %s kernel, review of %zu bytes (%zu spaces)\n", fusedrnn_model_arch(model),
           fusedrnn_model_kernel(model), len, words);

    double *ns = malloc(calls * sizeof *ns);
    if (!ns)
        return 1;
    float prob = 0;
    /* Warm-up: caches, branch predictors, CPU frequency. */
    for (size_t i = 0; i < calls / 10; i++)
        if (fusedrnn_score_text(model, text, len, &prob) != FUSEDRNN_OK)
            return fail();
    for (size_t i = 0; i < calls; i++) {
        double t0 = now_ns();
        fusedrnn_score_text(model, text, len, &prob);
        ns[i] = now_ns() - t0;
    }
    report("score_text", ns, calls, prob);

    int32_t ids[100];
    for (int i = 0; i < 100; i++)
        ids[i] = 1 + (i * 37) % 400;
    for (size_t i = 0; i < calls; i++) {
        double t0 = now_ns();
        if (fusedrnn_score_ids(model, ids, 100, &prob) != FUSEDRNN_OK)
            return fail();
        ns[i] = now_ns() - t0;
    }
    report("score_ids (100 ids)", ns, calls, prob);

    double t0 = now_ns();
    for (int i = 0; i < 1000; i++) {
        double a = now_ns();
        (void)a;
    }
    printf("clock_gettime overhead about %.0f ns per sample\n", (now_ns() - t0) / 1000);
    free(ns);
    fusedrnn_model_free(model);
    return 0;
}
