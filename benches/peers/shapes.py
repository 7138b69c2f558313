"""PyTorch and ONNX Runtime on issue 14's larger shapes, for README's ``shapes`` block.

LSTM(32) and GRU(32) on Embedding(5000, 64), length 200, Dense(1, sigmoid) — the shapes of
``benches/net.rs`` (criterion group ``net``), which measures fusedrnn on the same shapes:

- PyTorch: ``nn.LSTM`` / ``nn.GRU`` (batch_first) under ``torch.inference_mode()``, with
  ``torch.set_num_threads(1)`` and ``(2)``: reviews/s at batch 1024 and one-review latency (batch 1,
  p50/p99 of per-call times).
- ONNX Runtime: the same module exported by ``torch.onnx.export`` (the TorchScript exporter,
  ``dynamo=False``: it works offline and maps the layer to one ONNX LSTM / GRU node), intra-op
  threads 1 and 2, the same two measurements.

Weights: with ``--fusedrnn-dump DIR`` (``cargo run --release --example net_dump -- DIR``), the very
weights ``benches/net.rs`` times (``NetWeights::seeded(spec, 1, 0.1)``, Keras layout, loaded into
PyTorch's gate order), and PyTorch's probabilities are checked against fusedrnn's on the dump's rows
(within 1e-5) before timing; without it, uniform in ±0.1 from torch's seed (same scale, unchecked).
ONNX Runtime's probabilities are checked against PyTorch's (within 1e-5) before timing. The token
rows are pseudo-random ids without pads (every step computed), the ids of ``benches/net.rs``.

Usage::

    benches/peers/.venv/bin/python benches/peers/shapes.py --out shapes.json [--budget S]

Writes one JSON object: ``{"versions": {...}, "shapes": {"lstm32": {"pytorch": {...},
"onnxruntime": {...}}, "gru32": {...}}}``, where each peer has ``threads`` → ``{"reviews_per_s",
"batch1_latency_us": {"p50", "p99"}}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

VOCAB = 5000
WIDTH = 64
SEQ_LEN = 200
BATCH = 1024
SHAPES = (("lstm", 32), ("gru", 32))
AGREE = 1e-5


def log(msg: str) -> None:
    """Progress on stderr."""
    print(f"[shapes] {msg}", file=sys.stderr, flush=True)


def token_rows(n: int) -> np.ndarray:
    """``n`` rows of ``SEQ_LEN`` ids in 1..4999, the pattern of ``benches/net.rs``."""
    i = np.arange(n * SEQ_LEN, dtype=np.uint64)
    ids = 1 + (i * np.uint64(2_654_435_761) % np.uint64(2**32)) % np.uint64(4999)
    return ids.astype(np.int64).reshape(n, SEQ_LEN)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def latency_us(
    call: Callable[[np.ndarray], Any], rows: np.ndarray, budget_s: float
) -> dict[str, float]:
    """p50/p99 in µs of ``call`` on one row at a time (10 warm-up calls; at most ``budget_s``)."""
    for r in rows[:10]:
        call(r[None, :])
    times: list[float] = []
    start = time.perf_counter()
    for r in rows:
        t = time.perf_counter_ns()
        call(r[None, :])
        times.append((time.perf_counter_ns() - t) / 1e3)
        if time.perf_counter() - start > budget_s and len(times) >= 20:
            break
    return {
        "p50": percentile(times, 50),
        "p99": percentile(times, 99),
        "calls": float(len(times)),
    }


def throughput(
    call: Callable[[np.ndarray], Any], batch: np.ndarray, budget_s: float
) -> float:
    """Reviews/s of ``call`` on the whole batch: the best of the passes within ``budget_s`` (at least 2)."""
    call(batch)
    best, start, passes = float("inf"), time.perf_counter(), 0
    while passes < 2 or time.perf_counter() - start < budget_s:
        t = time.perf_counter()
        call(batch)
        best = min(best, time.perf_counter() - t)
        passes += 1
    return len(batch) / best


def build_module(cell: str, units: int, seed: int) -> Any:
    """Embedding → LSTM/GRU (last hidden state) → Dense(1, sigmoid), uniform ±0.1 weights."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, WIDTH)
            rnn_cls = nn.LSTM if cell == "lstm" else nn.GRU
            self.rnn = rnn_cls(WIDTH, units, batch_first=True)
            self.fc = nn.Linear(units, 1)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            out, _ = self.rnn(self.embedding(tokens))
            return torch.sigmoid(self.fc(out[:, -1, :]))

    torch.manual_seed(seed)
    net = Net().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-0.1, 0.1)
    return net


def load_dump(net: Any, cell: str, units: int, dump: dict[str, Any]) -> None:
    """Copies ``examples/net_dump.rs``' Keras tensors into ``net`` (PyTorch's layout and gate order)."""
    import torch

    if (dump["cell"], dump["units"], dump["vocab"], dump["width"]) != (
        cell,
        units,
        VOCAB,
        WIDTH,
    ):
        raise SystemExit(
            f"the dump is {dump['cell']}({dump['units']}), not {cell}({units}) on this embedding"
        )
    t = {
        k: np.asarray(v["values"], dtype=np.float32).reshape(v["shape"])
        for k, v in dump["tensors"].items()
    }
    h = units
    # Keras' gate blocks (LSTM i, f, c, o; GRU z, r, h) → PyTorch's (LSTM i, f, g, o; GRU r, z, n).
    order = [0, 1, 2, 3] if cell == "lstm" else [1, 0, 2]

    def gates(m: np.ndarray) -> np.ndarray:
        return np.concatenate([m[..., g * h : (g + 1) * h] for g in order], axis=-1)

    bias = t["bias"].reshape(-1, len(order) * h)
    b_ih = gates(bias[0])
    b_hh = gates(bias[1]) if len(bias) == 2 else np.zeros_like(b_ih)
    with torch.no_grad():
        net.embedding.weight.copy_(torch.from_numpy(t["embedding"]))
        net.rnn.weight_ih_l0.copy_(torch.from_numpy(gates(t["kernel"]).T.copy()))
        net.rnn.weight_hh_l0.copy_(
            torch.from_numpy(gates(t["recurrent_kernel"]).T.copy())
        )
        net.rnn.bias_ih_l0.copy_(torch.from_numpy(b_ih))
        net.rnn.bias_hh_l0.copy_(torch.from_numpy(b_hh))
        net.fc.weight.copy_(torch.from_numpy(t["dense.kernel"].T.copy()))
        net.fc.bias.copy_(torch.from_numpy(t["dense.bias"]))


def check_against_fusedrnn(net: Any, dump: dict[str, Any]) -> float:
    """Max |PyTorch − fusedrnn| over the dump's rows; exits when above ``AGREE``."""
    import torch

    ids = np.asarray(dump["ids"], dtype=np.int64).reshape(-1, dump["seq_len"])
    if not np.array_equal(ids, token_rows(len(ids))):
        raise SystemExit("the dump's ids are not the rows this script times")
    with torch.inference_mode():
        ours = net(torch.from_numpy(ids)).numpy().reshape(-1)
    diff = float(np.max(np.abs(ours - np.asarray(dump["probs"], dtype=np.float32))))
    if diff > AGREE:
        raise SystemExit(
            f"pytorch disagrees with fusedrnn ({dump['kernel']}) by {diff:.2e} (> {AGREE})"
        )
    log(
        f"pytorch vs fusedrnn ({dump['kernel']}) on {len(ids)} rows: max |diff| {diff:.1e}"
    )
    return diff


def bench_pytorch(
    net: Any, batch: np.ndarray, threads: Sequence[int], budget_s: float
) -> dict[str, Any]:
    """PyTorch's reviews/s at ``BATCH`` and one-review latency per thread count."""
    import torch

    x = torch.from_numpy(batch)

    def call(rows: np.ndarray) -> Any:
        with torch.inference_mode():
            return net(torch.from_numpy(rows) if rows is not batch else x)

    res: dict[str, Any] = {}
    for t in threads:
        torch.set_num_threads(t)
        res[str(t)] = {
            "reviews_per_s": throughput(call, batch, budget_s),
            "batch1_latency_us": latency_us(call, batch, budget_s),
        }
        r = res[str(t)]
        log(
            f"pytorch {t}t: {r['reviews_per_s']:,.0f}/s, b1 p50 {r['batch1_latency_us']['p50']:.0f} us"
        )
    return res


def export_onnx(net: Any, path: Path) -> list[str]:
    """``net`` as ONNX (TorchScript exporter, opset 17, dynamic batch); returns its node types."""
    import onnx
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (torch.zeros(2, SEQ_LEN, dtype=torch.int64),),
            str(path),
            input_names=["tokens"],
            output_names=["prob"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={"tokens": {0: "batch"}, "prob": {0: "batch"}},
        )
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    return [n.op_type for n in graph.graph.node]


def bench_onnx(
    path: Path,
    batch: np.ndarray,
    want: np.ndarray,
    threads: Sequence[int],
    budget_s: float,
) -> dict[str, Any]:
    """ONNX Runtime's reviews/s and one-review latency per intra-op thread count (probabilities checked first)."""
    import onnxruntime as ort

    res: dict[str, Any] = {}
    for t in threads:
        so = ort.SessionOptions()
        so.intra_op_num_threads = t
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

        def call(rows: np.ndarray, sess: Any = sess) -> Any:
            return sess.run(None, {"tokens": rows})[0]

        diff = float(np.max(np.abs(call(batch[:64]).reshape(-1) - want[:64])))
        if diff > AGREE:
            raise SystemExit(
                f"onnxruntime disagrees with pytorch by {diff:.2e} (> {AGREE}) on {path.name}"
            )
        res[str(t)] = {
            "reviews_per_s": throughput(call, batch, budget_s),
            "batch1_latency_us": latency_us(call, batch, budget_s),
            "max_abs_diff_vs_pytorch": diff,
        }
        r = res[str(t)]
        log(
            f"onnxruntime {t}t: {r['reviews_per_s']:,.0f}/s, b1 p50 {r['batch1_latency_us']['p50']:.0f} us"
        )
    return res


def versions() -> dict[str, str]:
    """The libraries' versions and torch's CPU path."""
    import onnxruntime
    import torch

    return {
        "torch": torch.__version__,
        "torch_cpu_capability": str(torch.backends.cpu.get_cpu_capability()),
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Measures every shape and writes the JSON file."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path, help="the JSON file to write")
    ap.add_argument(
        "--budget", type=float, default=2.0, help="seconds per measurement (default 2)"
    )
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--fusedrnn-dump",
        type=Path,
        help="examples/net_dump.rs' folder: time fusedrnn's own weights, checked against its probabilities",
    )
    args = ap.parse_args(argv)
    import torch

    batch = token_rows(BATCH)
    out: dict[str, Any] = {
        "versions": versions(),
        "batch": BATCH,
        "seq_len": SEQ_LEN,
        "shapes": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for cell, units in SHAPES:
            name = f"{cell}{units}"
            log(f"{name} on Embedding({VOCAB}, {WIDTH}), length {SEQ_LEN}")
            net = build_module(cell, units, args.seed)
            agree: dict[str, Any] = {"checked": False}
            if args.fusedrnn_dump:
                dump = json.loads((args.fusedrnn_dump / f"{name}.json").read_text())
                load_dump(net, cell, units, dump)
                agree = {
                    "checked": True,
                    "rows": len(dump["probs"]),
                    "kernel": dump["kernel"],
                    "max_abs_diff": check_against_fusedrnn(net, dump),
                }
            with torch.inference_mode():
                want = net(torch.from_numpy(batch)).numpy().reshape(-1)
            path = Path(tmp) / f"{name}.onnx"
            ops = export_onnx(net, path)
            if cell.upper() not in ops:
                raise SystemExit(
                    f"ONNX export of {name} has no {cell.upper()} node: {ops}"
                )
            out["shapes"][name] = {
                "pytorch": bench_pytorch(net, batch, args.threads, args.budget),
                "onnxruntime": bench_onnx(path, batch, want, args.threads, args.budget),
                "onnx_ops": ops,
                "fusedrnn_agreement": agree,
            }
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
