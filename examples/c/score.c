/*
 * Scores movie reviews with the fusedrnn C API: one probability per review, one per line.
 *
 *   score MODEL.safetensors WORD_INDEX.json "review text" ...   reviews as arguments
 *   score MODEL.safetensors WORD_INDEX.json < reviews.txt        one review per line of stdin
 *
 * Build (from the repository root):
 *   cargo build --release -p fusedrnn-capi
 *   gcc -std=c11 -Wall -Wextra -Iinclude examples/c/score.c -Ltarget/release -lfusedrnn_c -o score
 *   LD_LIBRARY_PATH=target/release ./score lstm.safetensors imdb_word_index.json "A fine film."
 *
 * On an error it prints fusedrnn's message to stderr and exits with the fusedrnn_status code.
 */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusedrnn.h"

/* Scores one review and prints its probability; returns the status. */
static fusedrnn_status score(const fusedrnn_model *model, const char *text, size_t len) {
    float prob;
    fusedrnn_status status = fusedrnn_score_text(model, text, len, &prob);
    if (status != FUSEDRNN_OK) {
        fprintf(stderr, "error: %s\n", fusedrnn_last_error());
        return status;
    }
    /* %.9g round-trips a float exactly. */
    printf("%.9g\n", prob);
    return FUSEDRNN_OK;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.safetensors WORD_INDEX.json [TEXT...]\n", argv[0]);
        return 64;
    }
    fusedrnn_model *model = NULL;
    fusedrnn_status status = fusedrnn_model_open(argv[1], argv[2], &model);
    if (status != FUSEDRNN_OK) {
        fprintf(stderr, "error: %s\n", fusedrnn_last_error());
        return (int)status;
    }
    if (argc > 3) {
        for (int i = 3; i < argc && status == FUSEDRNN_OK; i++)
            status = score(model, argv[i], strlen(argv[i]));
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while (status == FUSEDRNN_OK && (n = getline(&line, &cap, stdin)) != -1) {
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                n--;
            status = score(model, line, (size_t)n);
            fflush(stdout);
        }
        free(line);
    }
    fusedrnn_model_free(model);
    return (int)status;
}
