"""fusedrnn.ray side by side in one run (not a timed test): scoring rows/s on 1, 2, 3 local
nodes vs single-process predict, and Serve req/s + latency at 1 and 64 reviews per request.

    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 python python/benches/bench_ray.py [--rows 1000000]

Every node is a ``ray.cluster_utils.Cluster`` node with 1 CPU on this machine (127.0.0.1). The
baseline is ``predict`` in this process on one thread (``RAYON_NUM_THREADS=1``, set before the
kernels start), from the same Parquet files (read + pad + predict), and the kernel alone.
Efficiency = cluster rows/s ÷ (k × single-thread rows/s); on a 2-core machine 3 one-CPU
nodes oversubscribe the cores, so the 3-node figure measures overhead and contention.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ["RAYON_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

import fusedrnn  # noqa: E402
from fusedrnn import layers  # noqa: E402


def write_inputs(d: Path, rows: int, files: int) -> None:
    rng = np.random.default_rng(0)
    d.mkdir(parents=True)
    for k, n in enumerate(np.diff(np.linspace(0, rows, files + 1).astype(int))):
        lengths = rng.integers(0, 181, size=n)
        flat = rng.integers(1, 500, size=int(lengths.sum()), dtype=np.int32)
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        ids = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))
        t = pa.table({"id": pa.array(np.arange(n, dtype=np.int64) + k * rows), "ids": ids})
        pq.write_table(t, d / f"part{k}.parquet", row_group_size=50_000)


def baseline(d: Path, model: Path) -> tuple[float, float]:
    m = fusedrnn.load_model(model)
    t0 = time.perf_counter()
    n = 0
    xs = []
    for f in sorted(d.glob("*.parquet")):
        col = pq.read_table(f, columns=["ids"]).column("ids").combine_chunks()
        lengths = np.diff(col.offsets.to_numpy()).astype(np.int64)
        flat = col.values.to_numpy().astype(np.int64)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        x = fusedrnn._native.pad_sequences(flat, offsets, 100, 0, "pre", "pre")
        xs.append(x)
        m.predict(x)
        n += len(x)
    e2e = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for x in xs:
        m.predict(x)
    kernel = n / (time.perf_counter() - t0)
    return e2e, kernel


def bench_serve(url: str, per_request: int, clients: int, seconds: float) -> dict:
    rng = np.random.default_rng(1)
    body = json.dumps(
        {"ids": [rng.integers(1, 500, size=80).tolist() for _ in range(per_request)]}
    ).encode()
    lat: list[float] = []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client() -> None:
        local = []
        while time.monotonic() < stop:
            t = time.perf_counter()
            req = urllib.request.Request(url + "/predict", data=body, method="POST")
            with urllib.request.urlopen(req, timeout=60) as r:
                r.read()
            local.append(time.perf_counter() - t)
        with lock:
            lat.extend(local)

    ts = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    return {
        "reviews_per_request": per_request,
        "clients": clients,
        "req_per_s": len(lat) / wall,
        "reviews_per_s": len(lat) * per_request / wall,
        "p50_ms": 1000 * statistics.median(lat),
        "p99_ms": 1000 * lat[int(0.99 * (len(lat) - 1))],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--word-index", default="../shared/data/imdb_word_index.json")
    ap.add_argument("--serve-seconds", type=float, default=15.0)
    ap.add_argument("--clients", type=int, default=16)
    args = ap.parse_args()

    import ray
    from ray import serve as rserve
    from ray.cluster_utils import Cluster

    from fusedrnn.ray import score, serve

    tmp = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    fusedrnn.set_random_seed(0)
    m = fusedrnn.Sequential(
        [layers.Embedding(500, 16), layers.LSTM(8), layers.Dense(1, activation="sigmoid")]
    )
    m.build()
    model = tmp / "lstm.safetensors"
    m.save(model)
    write_inputs(tmp / "in", args.rows, args.files)
    e2e, kernel = baseline(tmp / "in", model)
    print(f"os.cpu_count()={os.cpu_count()} loadavg={os.getloadavg()}")
    print(f"single process, 1 thread: read+pad+predict {e2e:,.0f} rows/s; predict {kernel:,.0f}")

    node = {"num_cpus": 1, "object_store_memory": 300 * 1024 * 1024}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        for k in (1, 2, 3):
            while len(ray.nodes()) < k or sum(n["Alive"] for n in ray.nodes()) < k:
                cluster.add_node(**node)
                cluster.wait_for_nodes()
            out = tmp / f"out{k}"
            s = score(tmp / "in", model, out, progress=False)  # warm: actors start, then score
            shutil.rmtree(out)
            s = score(tmp / "in", model, out, progress=False)
            print(
                f"score on {k} node(s): {s.rows_per_second:,.0f} rows/s "
                f"(efficiency vs {k} x 1-thread read+pad+predict: "
                f"{s.rows_per_second / (k * e2e):.2f}; vs {k} x kernel-only: "
                f"{s.rows_per_second / (k * kernel):.2f}); loadavg={os.getloadavg()}"
            )
        for replicas in (1, 2):
            url = serve(model, args.word_index, port=8765, replicas=replicas, max_batch_size=64)
            for per in (1, 64):
                r = bench_serve(url, per, args.clients, args.serve_seconds)
                print(f"serve replicas={replicas}: {json.dumps(r)}")
            rserve.shutdown()
    finally:
        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
