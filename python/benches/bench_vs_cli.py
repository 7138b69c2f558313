"""Python binding vs the CLI / C API, side by side in one run (not a timed test).

    python python/benches/bench_vs_cli.py --bin target/release [--npz ../shared/data/imdb.npz]

1. ``model.predict`` over the 25,000 × 100 test split vs ``fusedrnn bench``'s reviews/s (same
   thread count: every core).
2. ``model.predict`` on one 1 × 100 review (median µs per call) vs the C API's
   ``fusedrnn_score_ids`` called in a C loop (``fusedrnn bench``'s one-review latency p50 is
   the same Rust call, ``Scorer::score_one``).
3. One LSTM ``fit`` epoch vs ``fusedrnn train``'s epoch (``history.csv`` seconds).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np

import fusedrnn
from fusedrnn import Sequential, layers, optimizers


def run(cmd: list[str]) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release")
    ap.add_argument("--npz", default="../shared/data/imdb.npz")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--latency", help="examples/c/latency.c built (see its header)")
    ap.add_argument("--word-index", default="../shared/data/imdb_word_index.json")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    tok = os.path.join(tmp, "imdb.tok")
    run([os.path.join(args.bin, "imdb-pack"), "--npz", args.npz, "--out", tok])
    f = fusedrnn.TokFile(tok)
    x_test = np.ascontiguousarray(f.test.tokens, dtype=np.int32)

    # A trained-shape model (weights do not change the speed).
    m = Sequential(
        [layers.Embedding(500, 16), layers.LSTM(8), layers.Dense(1, activation="sigmoid")]
    )
    m.compile(optimizer=optimizers.RMSprop(1e-4), loss="binary_crossentropy", metrics=["accuracy"])
    model_path = os.path.join(tmp, "m.safetensors")
    m.save(model_path)

    # 1. throughput
    cli = json.loads(
        run(
            [
                os.path.join(args.bin, "fusedrnn"),
                "bench",
                "--model",
                model_path,
                "--data",
                tok,
                "--json",
            ]
        )
    )
    best = float("inf")
    for _ in range(args.repeat):
        t = time.perf_counter()
        m.predict(x_test)
        best = min(best, time.perf_counter() - t)
    py_rps = len(x_test) / best
    print(
        f"throughput: python {py_rps:,.0f} reviews/s, fusedrnn bench {cli['reviews_per_s']:,.0f}"
        f" ({100 * py_rps / cli['reviews_per_s']:.1f} %), threads {cli['threads']},"
        f" kernel {cli['kernel']}"
    )

    # 2. one review: the C latency example's ids (100 real tokens, no padding)
    one = np.array([[1 + (i * 37) % 400 for i in range(100)]], dtype=np.int32)
    for _ in range(1000):
        m.predict(one)
    samples = []
    for _ in range(20):
        n = 2000
        t = time.perf_counter()
        for _ in range(n):
            m.predict(one)
        samples.append((time.perf_counter() - t) / n * 1e6)
    native = m._model()
    raw = []
    for _ in range(20):
        n = 2000
        t = time.perf_counter()
        for _ in range(n):
            native.predict(one)
        raw.append((time.perf_counter() - t) / n * 1e6)
    if args.latency:  # examples/c/latency.c, built against libfusedrnn_c
        review = os.path.join(tmp, "review.txt")
        with open(review, "w") as fh:
            fh.write("a fine film")
        out = run([args.latency, model_path, args.word_index, review, "200000"])
        line = next(ln for ln in out.splitlines() if "score_ids" in ln)
        p50 = float(line.split("p50")[1].split()[0])
        source = "C API fusedrnn_score_ids p50 (same ids)"
    else:
        p50 = cli["review_latency_us"]["p50"]
        source = "fusedrnn bench one-review p50 (other reviews)"
    print(
        f"one review: Sequential.predict {statistics.median(samples):.2f} µs,"
        f" _native.Model.predict {statistics.median(raw):.2f} µs, {source} {p50:.2f} µs:"
        f" overhead {statistics.median(samples) - p50:.2f} µs"
        f" ({statistics.median(raw) - p50:.2f} µs without the Keras-shaped wrapper)"
    )

    # 3. one training epoch
    out = os.path.join(tmp, "train")
    run(
        [
            os.path.join(args.bin, "fusedrnn"),
            "train",
            "--data",
            tok,
            "--arch",
            "lstm",
            "--epochs",
            "2",
            "--out",
            out,
        ]
    )
    with open(os.path.join(out, "history.csv")) as fh:
        cli_epoch = min(float(r["seconds"]) for r in csv.DictReader(fh))
    xtr = np.ascontiguousarray(f.train.tokens, dtype=np.int32)
    xv = np.ascontiguousarray(f.val.tokens, dtype=np.int32)
    times = []

    class Clock(fusedrnn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter())

    t0 = time.perf_counter()
    m.fit(
        xtr,
        f.train.labels,
        batch_size=64,
        epochs=2,
        validation_data=(xv, f.val.labels),
        verbose=0,
        callbacks=[Clock()],
    )
    py_epoch = min(times[0] - t0, times[1] - times[0])
    print(
        f"fit epoch: python {py_epoch:.3f} s, fusedrnn train {cli_epoch:.3f} s"
        f" ({100 * (py_epoch / cli_epoch - 1):+.1f} %)"
    )


if __name__ == "__main__":
    main()
