#!/usr/bin/env python3
"""fusedrnn beside its peers: PyTorch, ONNX Runtime and Keras 3 (JAX), on the same data and weights.

    benches/peers/run.sh                      # venv, build, pack, then this script
    python peers.py --tok imdb.tok --fusedrnn target/release/fusedrnn [--models a.safetensors b.safetensors]

For each model (a `.safetensors` with our Keras tensor names; the architecture comes from its metadata):

- PyTorch: nn.Embedding + nn.LSTM / nn.RNN(tanh) + nn.Linear + sigmoid, batch_first, our weights copied in
  (weight_ih = Keras kernel transposed, gate order i,f,g,o = Keras' i,f,c,o, the Keras bias in bias_ih and a
  zero bias_hh), under torch.inference_mode(), with torch.set_num_threads(1) and (2): batch-1 latency per
  review, throughput at batch 64, 1024 and the whole split in one batch; one nn.LSTMCell / nn.RNNCell step at
  batch 1 (100 dependent steps per timing, as fusedrnn times its steps).
- ONNX Runtime: that module exported by torch.onnx.export (TorchScript exporter: one ONNX LSTM / RNN node,
  dynamic batch axis), sessions with intra_op_num_threads 1 and 2: batch-1 latency, throughput in batches of
  1024.
- Keras 3 (JAX backend): the notebook's Sequential model with the same weights, model.predict(batch_size=1024)
  throughput on one core (every thread pinned to CPU 0) and on all cores; for the LSTM, model.fit on the
  20,000 training reviews with the 5,000 validation reviews, batch 64, RMSprop(1e-4), binary cross-entropy,
  2 epochs from the file's weights (the first includes XLA compilation; the second is the figure).
- fusedrnn: `fusedrnn bench --json` with --threads 1 and 2, and `fusedrnn predict` for the probabilities.

Every peer's probabilities over the whole test split must agree with fusedrnn's within --tol (1e-5): the
max |difference| is printed and a disagreement fails the run (exit code 1, after the results are written).

Throughputs are the median of timed passes over the whole split after a warm-up pass, as `fusedrnn bench`
reports its own; the best pass is kept in the JSON too. Each measurement stops after --budget seconds
(at least --min-reps passes), so the whole run stays within a few minutes.

Prints one markdown table; writes it with every raw figure to results/latest.json and results/latest.md.
"""

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
# Only the CPU is measured: keep JAX from probing for accelerators.
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
from safetensors import safe_open  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

SPLITS = ("train", "val", "test")
KINDS = ("tokens", "labels", "lengths")
TOK_MAGIC = b"FRNNTOK\0"
TOK_HEADER_BYTES = 128
TOK_ENTRY_BYTES = 32
ARCH_LABEL = {"lstm": "LSTM", "rnn": "SimpleRNN"}
RECURRENT_LAYER = {"lstm": "lstm", "rnn": "simple_rnn"}


def log(msg):
    print(f"[peers {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------------------
# The packed token file, read with numpy (layout: src/tokfile/mod.rs)


def read_tok(path):
    """Reads and validates a `.tok` file: header, CRCs, section table, payloads. Returns the header fields and
    per split {"tokens": u16[rows, seq_len], "labels": u8[rows], "lengths": u32[rows]}."""
    raw = Path(path).read_bytes()

    def bad(why):
        raise SystemExit(f"{path}: not a valid token file: {why}")

    if len(raw) < TOK_HEADER_BYTES or raw[:8] != TOK_MAGIC:
        bad("bad magic")
    version, header_bytes, section_count, num_words, seq_len = struct.unpack_from("<5I", raw, 8)
    if version != 1 or header_bytes != TOK_HEADER_BYTES or section_count != 9:
        bad(f"version {version}, header {header_bytes} bytes, {section_count} sections (want 1, 128, 9)")
    skip_top, index_from, start_char, oov_char = struct.unpack_from("<4I", raw, 28)
    padding, truncating = raw[44], raw[45]
    seed, split_seed = struct.unpack_from("<QQ", raw, 48)
    (val_split,) = struct.unpack_from("<d", raw, 64)
    (file_bytes,) = struct.unpack_from("<Q", raw, 72)
    (header_crc,) = struct.unpack_from("<I", raw, 124)
    table_end = TOK_HEADER_BYTES + section_count * TOK_ENTRY_BYTES
    if file_bytes != len(raw) or len(raw) < table_end:
        bad(f"file_bytes {file_bytes}, file is {len(raw)} bytes")
    if zlib.crc32(raw[:124] + raw[TOK_HEADER_BYTES:table_end]) != header_crc:
        bad("header checksum mismatch")
    none = 0xFFFF_FFFF
    out = {
        "num_words": num_words, "seq_len": seq_len, "skip_top": skip_top, "index_from": index_from,
        "start_char": None if start_char == none else start_char,
        "oov_char": None if oov_char == none else oov_char,
        "padding": ("pre", "post")[padding], "truncating": ("pre", "post")[truncating],
        "seed": seed, "split_seed": split_seed, "val_split": val_split, "splits": {},
    }
    for i in range(section_count):
        split, kind, rows, offset, len_bytes, crc = struct.unpack_from(
            "<HHIQQI", raw, TOK_HEADER_BYTES + i * TOK_ENTRY_BYTES)
        if (split, kind) != (i // 3, i % 3):
            bad(f"section {i} is ({split}, {kind}), out of order")
        dtype, shape = [(np.uint16, (rows, seq_len)), (np.uint8, (rows,)), (np.uint32, (rows,))][kind]
        want = int(np.prod(shape)) * np.dtype(dtype).itemsize
        if offset % 64 or len_bytes != want or offset + len_bytes > len(raw):
            bad(f"section {i}: offset {offset}, {len_bytes} bytes (want {want}, 64-byte aligned, in the file)")
        payload = raw[offset:offset + len_bytes]
        if zlib.crc32(payload) != crc:
            bad(f"section {i} ({SPLITS[split]} {KINDS[kind]}): checksum mismatch")
        arr = np.frombuffer(payload, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)
        out["splits"].setdefault(SPLITS[split], {})[KINDS[kind]] = arr.astype(dtype)
    for name, s in out["splits"].items():
        if s["tokens"].size and int(s["tokens"].max()) >= num_words:
            bad(f"{name}: a token id is >= num_words {num_words}")
    return out


# ----------------------------------------------------------------------------------------------------------
# Weights


def read_weights(path):
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata() or {}
        w = {k: f.get_tensor(k).astype(np.float32) for k in f.keys()}
    arch = meta.get("arch")
    if arch not in ARCH_LABEL:
        raise SystemExit(f"{path}: metadata arch {arch!r}: this benchmark compares 'lstm' and 'rnn' models")
    rec = RECURRENT_LAYER[arch]
    need = ["embedding.embeddings", f"{rec}.kernel", f"{rec}.recurrent_kernel", f"{rec}.bias",
            "dense.kernel", "dense.bias"]
    missing = [n for n in need if n not in w]
    if missing:
        raise SystemExit(f"{path}: missing tensors {missing} (Keras names expected)")
    vocab, embed = w["embedding.embeddings"].shape
    hidden = w[f"{rec}.recurrent_kernel"].shape[0]
    return {"arch": arch, "w": w, "meta": meta, "vocab": vocab, "embed": embed, "hidden": hidden,
            "seq_len": int(meta.get("seq_len", 100))}


# ----------------------------------------------------------------------------------------------------------
# Timing helpers


def pct(values, q):
    v = sorted(values)
    return v[round((len(v) - 1) * q)]


def summary_us(ns_list):
    us = [x / 1e3 for x in ns_list]
    return {"p50": pct(us, 0.5), "p99": pct(us, 0.99), "mean": statistics.fmean(us), "n": len(us)}


def time_each(fn, inputs, warmup, budget_s):
    """Calls fn(x) for each input (after `warmup` untimed calls); per-call nanoseconds; stops at budget_s."""
    for x in inputs[:warmup]:
        fn(x)
    out, start = [], time.perf_counter()
    for x in inputs:
        t = time.perf_counter_ns()
        fn(x)
        out.append(time.perf_counter_ns() - t)
        if time.perf_counter() - start > budget_s:
            break
    return out


def time_passes(run_pass, n_reviews, budget_s, min_reps, max_reps=50):
    """One warm-up pass, then timed passes until budget_s (at least min_reps, or just one when the warm-up
    alone took longer than budget_s: a slow peer on a busy machine). reviews/s: median and best."""
    t = time.perf_counter()
    run_pass()
    if time.perf_counter() - t > budget_s:
        min_reps = 1
    times, start = [], time.perf_counter()
    while len(times) < min_reps or (time.perf_counter() - start < budget_s and len(times) < max_reps):
        t = time.perf_counter()
        run_pass()
        times.append(time.perf_counter() - t)
    times.sort()
    return {"reviews_per_s": n_reviews / times[len(times) // 2], "best_reviews_per_s": n_reviews / times[0],
            "passes": len(times), "pass_seconds": times}


def pin_threads(cpus):
    """Sets the CPU affinity of every thread of this process (threads created later inherit it)."""
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass


def rel(path):
    """`path` relative to the repository when it is inside it (for the committed results)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def max_abs_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


# ----------------------------------------------------------------------------------------------------------
# PyTorch and ONNX Runtime


def torch_modules(model):
    import torch
    from torch import nn

    arch, w, rec = model["arch"], model["w"], RECURRENT_LAYER[model["arch"]]
    vocab, embed, hidden = model["vocab"], model["embed"], model["hidden"]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, embed)
            if arch == "lstm":
                self.lstm = nn.LSTM(embed, hidden, batch_first=True)
            else:
                self.rnn = nn.RNN(embed, hidden, nonlinearity="tanh", batch_first=True)
            self.fc = nn.Linear(hidden, 1)

        def forward(self, tokens):
            x = self.embedding(tokens)
            if arch == "lstm":
                _, (h, _) = self.lstm(x)
            else:
                _, h = self.rnn(x)
            return torch.sigmoid(self.fc(h[-1]))[:, 0]

    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    bias = w[f"{rec}.bias"]
    recurrent = {"weight_ih_l0": t(w[f"{rec}.kernel"].T), "weight_hh_l0": t(w[f"{rec}.recurrent_kernel"].T),
                 "bias_ih_l0": t(bias), "bias_hh_l0": t(np.zeros_like(bias))}
    layer = "lstm" if arch == "lstm" else "rnn"
    state = {"embedding.weight": t(w["embedding.embeddings"]), "fc.weight": t(w["dense.kernel"].T),
             "fc.bias": t(w["dense.bias"])}
    state.update({f"{layer}.{k}": v for k, v in recurrent.items()})
    net = Net()
    net.load_state_dict(state, strict=True)
    net.eval()

    cell = nn.LSTMCell(embed, hidden) if arch == "lstm" else nn.RNNCell(embed, hidden, nonlinearity="tanh")
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in recurrent.items()}, strict=True)
    cell.eval()
    return net, cell


def bench_torch(model, tokens, args):
    import torch

    net, cell = torch_modules(model)
    n, hidden = len(tokens), model["hidden"]
    x_all = torch.from_numpy(tokens.astype(np.int64))
    lat_inputs = [x_all[i:i + 1] for i in range(min(args.latency_reviews, n))]
    res = {"threads": {}}
    probs = None
    with torch.inference_mode():
        # The embedded inputs of the step benchmark: real reviews, 100 dependent steps per timing.
        emb = net.embedding(x_all[:args.step_reviews])  # [R, 100, E]
        for threads in args.threads:
            torch.set_num_threads(threads)
            r = {}
            r["batch1_latency_us"] = summary_us(time_each(net, lat_inputs, 100, args.budget))

            def steps(review):
                h = torch.zeros(1, hidden)
                if model["arch"] == "lstm":
                    state = (h, torch.zeros(1, hidden))
                    for t in range(review.shape[0]):
                        state = cell(review[t:t + 1], state)
                else:
                    for t in range(review.shape[0]):
                        h = cell(review[t:t + 1], h)

            per_review = time_each(steps, list(emb), 10, args.budget)
            r["step_latency_ns"] = {k: (v * 1e3 / emb.shape[1] if k != "n" else v * emb.shape[1])
                                    for k, v in summary_us(per_review).items()}
            for batch in args.batches + [n]:
                chunks = [x_all[i:i + batch] for i in range(0, n, batch)]
                out = []

                def run():
                    out.clear()
                    for c in chunks:
                        out.append(net(c))

                key = "whole_split" if batch == n else f"batch{batch}"
                r[key] = time_passes(run, n, args.budget, args.min_reps)
                r[key]["batch"] = batch
                if batch == n and threads == max(args.threads):
                    probs = torch.cat(out).numpy().astype(np.float32)
            res["threads"][threads] = r
            log(f"torch {model['arch']} {threads}t: batch1 p50 {r['batch1_latency_us']['p50']:.1f} us, "
                f"step p50 {r['step_latency_ns']['p50']:.0f} ns, "
                + ", ".join(f"{k} {r[k]['reviews_per_s']:,.0f}/s" for k in r if "reviews_per_s" in r[k]))
    return res, probs


def export_onnx(model, path):
    import torch
    import onnx

    net, _ = torch_modules(model)
    example = torch.zeros(2, model["seq_len"], dtype=torch.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The TorchScript exporter maps nn.LSTM / nn.RNN to one ONNX LSTM / RNN node (the dynamo exporter
        # needs onnxscript and is not what most deployed models went through).
        torch.onnx.export(net, (example,), str(path), input_names=["tokens"], output_names=["prob"],
                          opset_version=17, dynamo=False,
                          dynamic_axes={"tokens": {0: "batch"}, "prob": {0: "batch"}})
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    ops = [node.op_type for node in graph.graph.node]
    want = "LSTM" if model["arch"] == "lstm" else "RNN"
    if want not in ops:
        raise SystemExit(f"ONNX export of {model['arch']} has no {want} node: {ops}")
    return {"opset": 17, "ops": ops, "file": str(path)}


def bench_onnx(model, tokens, args, workdir):
    import onnxruntime as ort

    path = Path(workdir) / f"{model['arch']}.onnx"
    res = {"export": export_onnx(model, path), "threads": {}}
    n = len(tokens)
    x_all = tokens.astype(np.int64)
    lat_inputs = [x_all[i:i + 1] for i in range(min(args.latency_reviews, n))]
    probs = None
    for threads in args.threads:
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        run1 = lambda x: sess.run(None, {"tokens": x})  # noqa: E731
        r = {"batch1_latency_us": summary_us(time_each(run1, lat_inputs, 100, args.budget))}
        batch = args.onnx_batch
        chunks = [x_all[i:i + batch] for i in range(0, n, batch)]
        out = []

        def run():
            out.clear()
            for c in chunks:
                out.append(sess.run(None, {"tokens": c})[0])

        r[f"batch{batch}"] = time_passes(run, n, args.budget, args.min_reps)
        r[f"batch{batch}"]["batch"] = batch
        if threads == max(args.threads):
            probs = np.concatenate(out).astype(np.float32)
        res["threads"][threads] = r
        log(f"onnxruntime {model['arch']} {threads}t: batch1 p50 {r['batch1_latency_us']['p50']:.1f} us, "
            f"batch{batch} {r[f'batch{batch}']['reviews_per_s']:,.0f}/s")
    return res, probs


# ----------------------------------------------------------------------------------------------------------
# Keras 3


def keras_model(model):
    import keras
    from keras import layers

    arch, rec = model["arch"], RECURRENT_LAYER[model["arch"]]
    recurrent = (layers.LSTM(model["hidden"], name=rec) if arch == "lstm"
                 else layers.SimpleRNN(model["hidden"], name=rec))
    m = keras.Sequential([
        keras.Input((model["seq_len"],), dtype="int32"),
        layers.Embedding(model["vocab"], model["embed"], name="embedding"),
        recurrent,
        layers.Dense(1, activation="sigmoid", name="dense"),
    ])
    for layer in m.layers:
        layer.set_weights([model["w"][f"{layer.name}.{v.name}"] for v in layer.weights])
    return m


def bench_keras(model, tokens, args, all_cpus):
    n = len(tokens)
    x = tokens.astype(np.int32)
    m = keras_model(model)
    res = {"threads": {}, "note": "1 thread = every thread of the process pinned to one CPU; "
                                  "2 threads = XLA's default pool on both CPUs"}
    probs = None
    for threads in args.threads:
        pin_threads(set(sorted(all_cpus)[:threads]))
        out = []

        def run():
            out.clear()
            out.append(m.predict(x, batch_size=args.keras_batch, verbose=0))

        try:
            r = time_passes(run, n, args.budget, args.min_reps)
        finally:
            pin_threads(all_cpus)
        r["batch"] = args.keras_batch
        res["threads"][threads] = {f"batch{args.keras_batch}": r}
        if threads == max(args.threads):
            probs = out[0][:, 0].astype(np.float32)
        log(f"keras {model['arch']} {threads}t: predict batch{args.keras_batch} {r['reviews_per_s']:,.0f}/s")
    return res, probs


def keras_train(model, tok, args):
    import keras

    m = keras_model(model)
    m.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-4), loss="binary_crossentropy",
              metrics=["accuracy"])
    tr, va = tok["splits"]["train"], tok["splits"]["val"]
    seconds = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # after the validation pass
            seconds.append(time.perf_counter() - self.t)

    hist = m.fit(tr["tokens"].astype(np.int32), tr["labels"].astype(np.float32), epochs=args.train_epochs,
                 batch_size=64, validation_data=(va["tokens"].astype(np.int32), va["labels"].astype(np.float32)),
                 shuffle=True, verbose=0, callbacks=[Timer()])
    res = {"epochs": args.train_epochs, "seconds": seconds, "history": {k: [float(v) for v in vs]
                                                                         for k, vs in hist.history.items()},
           "train": len(tr["labels"]), "val": len(va["labels"]), "batch_size": 64,
           "optimizer": "RMSprop(1e-4)", "threads": "XLA default (both CPUs)"}
    log(f"keras fit {model['arch']}: epoch seconds {[round(s, 2) for s in seconds]}")
    return res


# ----------------------------------------------------------------------------------------------------------
# fusedrnn


def run_cmd(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stderr}")
    return p.stdout


def bench_fusedrnn(exe, model_path, tok_path, args, workdir, arch):
    res = {"threads": {}}
    for threads in args.threads:
        out = run_cmd([exe, "bench", "--model", model_path, "--data", tok_path, "--threads", str(threads),
                       "--json"])
        res["threads"][threads] = json.loads(out)
        b = res["threads"][threads]
        log(f"fusedrnn {arch} {threads}t ({b['kernel']}): {b['reviews_per_s']:,.0f}/s, step p50 "
            f"{b['step_latency_ns']['p50']:.1f} ns, review p50 {b['review_latency_us']['p50']:.2f} us")
    npy = Path(workdir) / f"{arch}.fusedrnn.npy"
    run_cmd([exe, "predict", "--model", model_path, "--data", tok_path, "--threads", str(max(args.threads)),
             "--out", npy])
    probs = np.load(npy).astype(np.float32).reshape(-1)
    return res, probs


def fusedrnn_train(exe, tok_path, args, workdir):
    """Times `fusedrnn train` when this build has it (the training issue); None otherwise."""
    helptext = run_cmd([exe, "--help"])
    if not any(line.strip().startswith("train ") for line in helptext.splitlines()):
        return None
    out = Path(workdir) / "train-lstm"
    threads = max(args.threads)
    run_cmd([exe, "train", "--data", tok_path, "--arch", "lstm", "--epochs", str(args.train_epochs),
             "--batch-size", "64", "--lr", "1e-4", "--threads", str(threads), "--out", out, "--overwrite"])
    rows = (out / "history.csv").read_text().strip().splitlines()
    head = rows[0].split(",")
    hist = [dict(zip(head, r.split(","))) for r in rows[1:]]
    return {"seconds": [float(h["seconds"]) for h in hist], "history": hist, "threads": threads,
            "note": "fusedrnn's own initial weights (--seed), not the file's"}


# ----------------------------------------------------------------------------------------------------------
# Report


def fmt(v, kind):
    if v is None:
        return "—"
    if kind == "rate":
        return f"{v:,.0f}"
    if kind == "us":
        return f"{v:,.1f}" if v >= 10 else f"{v:.2f}"
    if kind == "ns":
        return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"
    if kind == "s":
        return f"{v:.2f}"
    return str(v)


def table_rows(results, threads_list):
    """(figure, {peer: (value, note)}, fusedrnn value, kind); kind 'rate' = higher is better."""
    rows = []
    t1, t2 = min(threads_list), max(threads_list)
    for arch, r in results["models"].items():
        A = ARCH_LABEL[arch]
        for t in threads_list:
            peers = {}
            tr = r["pytorch"]["threads"][t]
            best = max((v for v in tr.values() if isinstance(v, dict) and "reviews_per_s" in v),
                       key=lambda v: v["reviews_per_s"])
            peers["PyTorch"] = (best["reviews_per_s"], f"b{best['batch']}" if best["batch"] < r["reviews"]
                                else "whole split")
            ob = r["onnxruntime"]["threads"][t]
            ob = next(v for v in ob.values() if isinstance(v, dict) and "reviews_per_s" in v)
            peers["ONNX Runtime"] = (ob["reviews_per_s"], f"b{ob['batch']}")
            if "keras" in r:
                kb = next(iter(r["keras"]["threads"][t].values()))
                peers["Keras"] = (kb["reviews_per_s"], f"b{kb['batch']}")
            rows.append((f"{A} reviews/s, {t} thread{'s' if t > 1 else ''}", peers,
                         r["fusedrnn"]["threads"][t]["reviews_per_s"], "rate"))
        for q in ("p50", "p99"):
            rows.append((f"{A} one review (100 steps) {q} µs, batch 1, {t1} thread",
                         {"PyTorch": (r["pytorch"]["threads"][t1]["batch1_latency_us"][q], ""),
                          "ONNX Runtime": (r["onnxruntime"]["threads"][t1]["batch1_latency_us"][q], "")},
                         r["fusedrnn"]["threads"][t1]["review_latency_us"][q], "us"))
        cell = "LSTMCell" if arch == "lstm" else "RNNCell"
        rows.append((f"{A} one step p50 ns, batch 1 (PyTorch: nn.{cell})",
                     {"PyTorch": (r["pytorch"]["threads"][t1]["step_latency_ns"]["p50"], "")},
                     r["fusedrnn"]["threads"][t1]["step_latency_ns"]["p50"], "ns"))
    tr = results.get("training", {})
    if "keras" in tr:
        k = tr["keras"]["seconds"]
        f = tr.get("fusedrnn")
        note = f"epoch 1: {k[0]:.1f} s" if len(k) > 1 else ""
        rows.append(("Keras-notebook LSTM training epoch (20k+5k), s", {"Keras": (k[-1], note)},
                     f["seconds"][-1] if f else None, "s"))
    _ = t2
    return rows


def markdown_table(rows):
    cols = ["PyTorch", "ONNX Runtime", "Keras"]
    lines = ["| figure | PyTorch | ONNX Runtime | Keras | fusedrnn | fusedrnn ÷ best peer |",
             "|---|---:|---:|---:|---:|---:|"]
    for figure, peers, ours, kind in rows:
        cells = []
        for c in cols:
            if c in peers and peers[c][0] is not None:
                v, note = peers[c]
                cells.append(fmt(v, kind) + (f" ({note})" if note else ""))
            else:
                cells.append("—")
        vals = [p[0] for p in peers.values() if p[0] is not None]
        if ours is None or not vals:
            ratio = "—"
        elif kind == "rate":
            ratio = f"{ours / max(vals):,.1f}×"
        else:  # a time: the best peer's time over ours, so > 1 means fusedrnn is faster
            ratio = f"{min(vals) / ours:,.1f}×"
        lines.append(f"| {figure} | " + " | ".join(cells) + f" | {fmt(ours, kind)} | {ratio} |")
    return "\n".join(lines)


def detail_table(results):
    lines = ["| model | peer | threads | batch 1 p50 / p99 µs | batch 64 | batch 1024 | whole split |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for arch, r in results["models"].items():
        for peer in ("pytorch", "onnxruntime", "keras", "fusedrnn"):
            if peer not in r:
                continue
            for t, v in r[peer]["threads"].items():
                if peer == "fusedrnn":
                    lat = v["review_latency_us"]
                    cells = [f"{lat['p50']:.2f} / {lat['p99']:.2f}", "", "", f"{v['reviews_per_s']:,.0f}"]
                else:
                    lat = v.get("batch1_latency_us")
                    get = lambda k: f"{v[k]['reviews_per_s']:,.0f}" if k in v else ""  # noqa: E731
                    cells = [f"{lat['p50']:.1f} / {lat['p99']:.1f}" if lat else "", get("batch64"),
                             get("batch1024"), get("whole_split")]
                lines.append(f"| {ARCH_LABEL[arch]} | {peer} | {t} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cpu_model():
    """`model name (family F, model M)` of the first CPU in /proc/cpuinfo."""
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if not line.strip():
                break
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or "unknown"
    if "cpu family" in fields:
        name += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    return name


def versions():
    import torch
    import onnx
    import onnxruntime
    import keras
    import jax
    import jaxlib

    return {"python": platform.python_version(), "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__, "keras": keras.__version__,
            "keras_backend": keras.backend.backend(), "jax": jax.__version__, "jaxlib": jaxlib.__version__,
            "numpy": np.__version__, "safetensors": safetensors.__version__}


def pin_mismatches():
    """Packages whose installed version differs from requirements.txt's pin (e.g. with run.sh --python)."""
    from importlib import metadata

    out = {}
    for line in (HERE / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" not in line:
            continue
        name, want = (x.strip() for x in line.split("==", 1))
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have is None or have.split("+", 1)[0] != want:
            out[name] = {"pinned": want, "installed": have}
    return out


def torch_info():
    import torch

    return {"cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "mkldnn_available": torch.backends.mkldnn.is_available(),
            "mkl_available": torch.backends.mkl.is_available(),
            "interop_threads": torch.get_num_interop_threads(),
            "parallel_info": torch.__config__.parallel_info().strip().splitlines()}


def git_commit():
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                              text=True).stdout.strip() or None
    except OSError:
        return None


# ----------------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tok", required=True, help="packed token file (imdb-pack); the test split is scored")
    ap.add_argument("--models", nargs="+", default=[str(ROOT / "tests/fixtures/parity/lstm.safetensors"),
                                                    str(ROOT / "tests/fixtures/parity/rnn.safetensors")])
    ap.add_argument("--fusedrnn", default=str(ROOT / "target/release/fusedrnn"))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 1024], help="PyTorch batch sizes "
                    "(the whole split in one batch is always added)")
    ap.add_argument("--onnx-batch", type=int, default=1024)
    ap.add_argument("--keras-batch", type=int, default=1024)
    ap.add_argument("--latency-reviews", type=int, default=2000, help="reviews timed one by one at batch 1")
    ap.add_argument("--step-reviews", type=int, default=300, help="reviews (x100 steps) for the cell step")
    ap.add_argument("--budget", type=float, default=3.0, help="seconds per measurement (after warm-up)")
    ap.add_argument("--min-reps", type=int, default=3, help="timed passes per throughput, at least")
    ap.add_argument("--train-epochs", type=int, default=2)
    ap.add_argument("--no-keras", action="store_true", help="skip Keras (predict and training)")
    ap.add_argument("--no-train", action="store_true", help="skip the training epochs")
    ap.add_argument("--tol", type=float, default=1e-5)
    ap.add_argument("--results", default=str(HERE / "results"))
    ap.add_argument("--workdir", default=None, help="for ONNX files and predictions (default: a temp dir)")
    args = ap.parse_args()

    import torch  # noqa: F401  (import before starting the clock; versions below)

    all_cpus = os.sched_getaffinity(0)
    started = time.perf_counter()
    load_start = os.getloadavg()
    tok = read_tok(args.tok)
    test = tok["splits"]["test"]
    tokens = np.ascontiguousarray(test["tokens"])
    n = len(tokens)
    if n == 0:
        raise SystemExit(f"{args.tok}: the test split is empty")
    log(f"{args.tok}: test split {n} reviews x {tok['seq_len']} tokens, num_words {tok['num_words']}; "
        f"load average {load_start[0]:.2f}")
    if results_pins := pin_mismatches():
        log(f"warning: installed versions differ from requirements.txt: {results_pins}")
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="fusedrnn-peers-"))
    workdir.mkdir(parents=True, exist_ok=True)

    results = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(), "affinity": sorted(all_cpus),
                    "platform": platform.platform(), "load_average_start": load_start},
        "versions": versions(), "pin_mismatches": pin_mismatches(), "torch": torch_info(),
        "fusedrnn_commit": git_commit(),
        "data": {"tok": rel(args.tok), "split": "test", "reviews": n, "seq_len": tok["seq_len"],
                 "num_words": tok["num_words"]},
        "settings": {k: v for k, v in vars(args).items() if k not in ("results", "workdir")},
        "models": {}, "agreement": {}, "training": {},
    }
    failures = []
    for path in args.models:
        model = read_weights(path)
        arch = model["arch"]
        if model["seq_len"] != tok["seq_len"] or model["vocab"] < tok["num_words"]:
            raise SystemExit(f"{path}: seq_len {model['seq_len']}, vocab {model['vocab']} do not fit "
                             f"{args.tok} (seq_len {tok['seq_len']}, num_words {tok['num_words']})")
        log(f"{path}: {arch}, vocab {model['vocab']}, embed {model['embed']}, hidden {model['hidden']}")
        r = {"weights": rel(path), "reviews": n, "load_average_before": os.getloadavg()}
        r["fusedrnn"], ours = bench_fusedrnn(args.fusedrnn, path, args.tok, args, workdir, arch)
        peer_probs = {}
        r["pytorch"], peer_probs["pytorch"] = bench_torch(model, tokens, args)
        r["onnxruntime"], peer_probs["onnxruntime"] = bench_onnx(model, tokens, args, workdir)
        if not args.no_keras:
            r["keras"], peer_probs["keras"] = bench_keras(model, tokens, args, all_cpus)
        agree = {}
        for peer, p in peer_probs.items():
            if p is None or p.shape != ours.shape:
                failures.append(f"{arch}: {peer} gave {None if p is None else p.shape} probabilities, "
                                f"fusedrnn {ours.shape}")
                continue
            d = max_abs_diff(p, ours)
            agree[peer] = {"max_abs_diff": d, "ok": d <= args.tol, "count": int(p.size)}
            log(f"agreement {arch}: max |{peer} - fusedrnn| = {d:.3e} over {p.size} reviews "
                f"({'ok' if d <= args.tol else 'FAIL'})")
            if d > args.tol:
                failures.append(f"{arch}: max |{peer} - fusedrnn| = {d:.3e} > {args.tol:g}")
        results["agreement"][arch] = agree
        results["models"][arch] = r
        if arch == "lstm" and not args.no_keras and not args.no_train:
            results["training"]["keras"] = keras_train(model, tok, args)
            results["training"]["fusedrnn"] = fusedrnn_train(args.fusedrnn, args.tok, args, workdir)

    results["machine"]["load_average_end"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - started
    rows = table_rows(results, args.threads)
    table = markdown_table(rows)
    results["table_markdown"] = table
    results["failures"] = failures

    m = results["machine"]
    v = results["versions"]
    ti = results["torch"]
    kernel = next(iter(next(iter(results["models"].values()))["fusedrnn"]["threads"].values()))["kernel"]
    agreement = "; ".join(f"{ARCH_LABEL[a]}: " + ", ".join(f"{p} {d['max_abs_diff']:.1e}" for p, d in ag.items())
                          for a, ag in results["agreement"].items())
    md = [
        f"# fusedrnn beside its peers — {results['date']}",
        "",
        f"Machine: {m['cpu']}, {m['cpus']} CPUs; load average {m['load_average_start'][0]:.2f} at the start, "
        f"{m['load_average_end'][0]:.2f} at the end. Data: {rel(args.tok)}, test split, {n:,} reviews × "
        f"{tok['seq_len']} tokens.",
        f"Versions: torch {v['torch']} (CPU capability {ti['cpu_capability']}, mkldnn "
        f"{ti['mkldnn_available']}), onnxruntime {v['onnxruntime']}, onnx {v['onnx']}, keras {v['keras']} "
        f"({v['keras_backend']}), jax {v['jax']}, numpy {v['numpy']}, python {v['python']}; fusedrnn "
        f"{(results['fusedrnn_commit'] or '?')[:12]} (kernel {kernel}).",
        f"Threads: {', '.join(map(str, args.threads))}. Max |peer − fusedrnn| over the split: {agreement} "
        f"(tolerance {args.tol:g}).",
        "",
    ]
    busiest = max(m["load_average_start"][0], m["load_average_end"][0])
    if busiest > 0.5 * (m["cpus"] or 1):
        md += [f"**Noisy run:** the load average reached {busiest:.1f} on {m['cpus']} CPUs, so other work "
               "shared the cores; 2-thread and batch-1 figures of the peers suffer most. Rerun on a quiet "
               "machine before quoting.", ""]
    md += [
        table,
        "",
        "Throughputs are the median pass over the whole split (the peer's best batch size in brackets); "
        "latencies are percentiles of single timed calls. Keras' 1-thread figures pin every thread to one CPU.",
        "",
        "## Every figure",
        "",
        detail_table(results),
        "",
    ]
    if failures:
        md += ["## Disagreements", ""] + [f"- {f}" for f in failures] + [""]
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (out / "latest.md").write_text("\n".join(md))
    print(table)
    print(f"\n{m['cpu']}; load {m['load_average_start'][0]:.2f} -> {m['load_average_end'][0]:.2f}; "
          f"{results['seconds']:.0f} s; agreement: {agreement}")
    log(f"wrote {out / 'latest.json'} and {out / 'latest.md'}")
    if failures:
        print("\nPROBABILITIES DISAGREE:\n  " + "\n  ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
