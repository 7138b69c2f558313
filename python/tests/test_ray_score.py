"""fusedrnn.ray.score on a local 3-node Ray cluster: equal to predict, resume, faults, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest
from conftest import built, need_ray, ray_pids

import fusedrnn
from fusedrnn import layers

need_ray(module_level=True)
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

VOCAB = 500


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    fusedrnn.set_random_seed(15)
    m = fusedrnn.Sequential(
        [layers.Embedding(VOCAB, 16), layers.LSTM(8), layers.Dense(1, activation="sigmoid")]
    )
    m.build()
    path = tmp_path_factory.mktemp("model") / "lstm.safetensors"
    m.save(path)
    return path


def reviews(n: int, seed: int) -> List[np.ndarray]:
    """``n`` load_data-style reviews: lengths 0..180 (some longer than maxlen), ids 1..VOCAB-1."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 181, size=n)
    flat = rng.integers(1, VOCAB, size=int(lengths.sum()), dtype=np.int32)
    return np.split(flat, np.cumsum(lengths)[:-1])


def write_parquet(
    d: Path, n: int, files: int, seed: int = 0, row_group: int = 10_000, start: int = 0
) -> Dict[int, np.ndarray]:
    """``files`` Parquet files of ``n`` rows in all (id int64, ids list<int32>); {id: ids}."""
    d.mkdir(parents=True, exist_ok=True)
    rows = reviews(n, seed)
    ids = np.arange(start, start + n, dtype=np.int64)
    # Keys in a scrambled order: the output must keep each key with its own row.
    np.random.default_rng(seed + 1).shuffle(ids)
    out = {}
    for k, part in enumerate(np.array_split(np.arange(n), files)):
        lst = pa.array([rows[i] for i in part], type=pa.list_(pa.int32()))
        t = pa.table({"id": pa.array(ids[part]), "ids": lst})
        pq.write_table(t, d / f"part{k}.parquet", row_group_size=row_group)
        out.update({int(ids[i]): rows[i] for i in part})
    return out


def expected(model: Path, d: Path) -> Dict[int, np.float32]:
    """Single-process predict of each input file whole, in file order (as `fusedrnn predict`)."""
    m = fusedrnn.load_model(model)
    out: Dict[int, np.float32] = {}
    for f in sorted(d.glob("*.parquet")):
        t = pq.read_table(f)
        x = fusedrnn.pad_sequences(t.column("ids").to_pylist(), maxlen=100)
        out.update(zip(t.column("id").to_pylist(), m.predict(x)[:, 0]))
    return out


def read_output(d: Path) -> pa.Table:
    files = sorted(p for p in d.glob("*.parquet"))
    assert files, f"no output in {d}"
    return pa.concat_tables([pq.read_table(p) for p in files])


def assert_complete(out: Path, want: Dict[int, np.float32]) -> None:
    t = read_output(out)
    assert t.schema.field("prob").type == pa.float32()
    ids = t.column("id").to_numpy()
    assert len(ids) == len(want), "rows missing or doubled"
    assert len(np.unique(ids)) == len(ids), "a key appears twice"
    assert set(ids.tolist()) == set(want), "keys differ from the input's"
    got = t.column("prob").to_numpy()
    exp = np.array([want[int(i)] for i in ids], dtype=np.float32)
    # Bit for bit: compare the float32 bit patterns.
    np.testing.assert_array_equal(got.view(np.uint32), exp.view(np.uint32))
    assert not list(out.glob(".*tmp-*")), "temporary files left behind"


def scorer_pids() -> List[int]:
    """Processes of the scoring actors (Ray titles them after the map_batches UDF)."""
    return ray_pids("ray::", "_Scorer")


def test_score_200k_across_3_nodes_equals_predict_bit_for_bit(
    ray_cluster, model_path: Path, tmp_path: Path
) -> None:
    from fusedrnn.ray import score

    data = write_parquet(tmp_path / "in", 200_000, files=3)
    want = expected(model_path, tmp_path / "in")
    assert set(want) == set(data)
    out = tmp_path / "out"
    s = score(tmp_path / "in", model_path, out, shard_rows=20_000)
    assert s.rows == s.rows_scored == 200_000 and s.shards_resumed == 0
    assert_complete(out, want)
    # Deterministic names: a rerun finds every shard done and computes nothing.
    names = sorted(p.name for p in out.glob("*.parquet"))
    s2 = score(tmp_path / "in", model_path, out, shard_rows=20_000)
    assert s2.rows_scored == 0 and s2.shards_resumed == s2.shards == len(names)
    assert sorted(p.name for p in out.glob("*.parquet")) == names
    # Resume: delete two outputs, rerun, only those two are recomputed; same result.
    for p in (out / names[0], out / names[-1]):
        p.unlink()
    s3 = score(tmp_path / "in", model_path, out, shard_rows=20_000)
    assert s3.shards_resumed == len(names) - 2 and 0 < s3.rows_scored < 200_000
    assert_complete(out, want)


def run_in_thread(fn, *args, **kw):
    box: dict = {}

    def go() -> None:
        try:
            box["result"] = fn(*args, **kw)
        except BaseException as e:  # handed to the test thread
            box["error"] = e

    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t, box


def wait_for_outputs(out: Path, n: int, t: threading.Thread, timeout: float = 180) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and t.is_alive():
        if len(list(out.glob("*.parquet"))) >= n:
            return
        time.sleep(0.1)
    pytest.fail(f"the job did not reach {n} output files in {timeout}s")


def finish(t: threading.Thread, box: dict, timeout: float = 600):
    t.join(timeout)
    assert not t.is_alive(), f"score did not finish in {timeout}s"
    if "error" in box:
        raise box["error"]
    return box["result"]


def start_slow_job(model_path: Path, tmp_path: Path) -> Tuple[Any, Dict, Path, Dict]:
    """A 24,000-row job of 1,000-row shards, slowed per shard, running in a thread; returns once
    3 shards are written, so a fault injected then lands mid-job. Also gives the expected rows."""
    from fusedrnn.ray import score

    data = write_parquet(tmp_path / "in", 24_000, files=2, row_group=1000)
    want = expected(model_path, tmp_path / "in")
    assert set(want) == set(data)
    out = tmp_path / "out"
    t, box = run_in_thread(
        score, tmp_path / "in", model_path, out, shard_rows=1000, _delay_per_shard=0.7,
        progress=False,
    )  # fmt: skip
    wait_for_outputs(out, 3, t)
    return t, box, out, want


def test_worker_node_removed_mid_job_still_gives_complete_output(
    ray_cluster, model_path: Path, tmp_path: Path
) -> None:
    t, box, out, want = start_slow_job(model_path, tmp_path)
    victim = ray_cluster.worker_nodes and list(ray_cluster.worker_nodes)[-1]
    assert victim, "the cluster has no worker node to remove"
    ray_cluster.remove_node(victim)
    try:
        s = finish(t, box)
    finally:
        ray_cluster.add_node(
            num_cpus=1, object_store_memory=200 * 1024 * 1024, node_ip_address="127.0.0.1"
        )
        ray_cluster.wait_for_nodes(timeout=120)
    assert s.rows == 24_000
    assert_complete(out, want)


def test_actor_sigkilled_mid_job_still_gives_complete_output(
    ray_cluster, model_path: Path, tmp_path: Path
) -> None:
    t, box, out, want = start_slow_job(model_path, tmp_path)
    pids = scorer_pids()
    assert pids, "no scoring actor process found to kill"
    os.kill(pids[0], signal.SIGKILL)
    s = finish(t, box)
    assert s.rows == 24_000
    assert_complete(out, want)


def test_text_and_tok_inputs(
    ray_cluster, model_path: Path, tmp_path: Path, shared_word_index: Path
) -> None:
    from fusedrnn.ray import score

    texts = ["a wonderful film, the best", "awful, boring and far too long", "", "ok " * 300]
    d = tmp_path / "text"
    d.mkdir()
    pq.write_table(pa.table({"key": ["a", "b", "c", "d"], "review": texts}), d / "t.parquet")
    out = tmp_path / "out-text"
    score(
        d, model_path, out, word_index=shared_word_index, id_column="key", text_column="review",
        progress=False,
    )  # fmt: skip
    t = read_output(out)
    want = fusedrnn.load_model(model_path).predict_text(texts, shared_word_index)[:, 0]
    assert t.column("id").to_pylist() == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(t.column("prob").to_numpy().view(np.uint32), want.view(np.uint32))

    # A .tok file (packed by imdb-pack): ids are row indices of the split; equal to predict.
    exe = built("imdb-pack")
    npz = tmp_path / "synth.npz"
    fusedrnn.datasets.imdb.write_synthetic_npz(str(npz), train=300, test=250)
    tokd = tmp_path / "tok"
    tokd.mkdir()
    subprocess.run(
        [str(exe), "--npz", str(npz), "--out", str(tokd / "imdb.tok")],
        check=True,
        capture_output=True,
    )
    out = tmp_path / "out-tok"
    score(tokd, model_path, out, shard_rows=100, progress=False)
    t = read_output(out)
    order = np.argsort(t.column("id").to_numpy())
    tokens = fusedrnn.TokFile(tokd / "imdb.tok").test.tokens
    want = fusedrnn.load_model(model_path).predict(tokens)[:, 0]
    assert t.column("id").to_numpy()[order].tolist() == list(range(250))
    np.testing.assert_array_equal(
        t.column("prob").to_numpy()[order].view(np.uint32), want.view(np.uint32)
    )


# ---- bad input: clear errors before (or without) touching the cluster ------------------------


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fusedrnn.ray", *args], capture_output=True, text=True, timeout=300
    )


def test_bad_input_is_a_clear_error_naming_the_file(model_path: Path, tmp_path: Path) -> None:
    need_ray()
    from fusedrnn.ray import ScoreError, score

    d = tmp_path / "in"
    d.mkdir()
    with pytest.raises(ScoreError, match="no .parquet or .tok files"):
        score(d, model_path, tmp_path / "o")
    (d / "x.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ScoreError, match="x.parquet: not a readable Parquet file"):
        score(d, model_path, tmp_path / "o")
    pq.write_table(pa.table({"id": [1], "ids": [[1.5]]}), d / "x.parquet")
    with pytest.raises(ScoreError, match=r"x.parquet: column 'ids' is list<.*double.*expected"):
        score(d, model_path, tmp_path / "o")
    pq.write_table(pa.table({"key": [1], "ids": [[1]]}), d / "x.parquet")
    with pytest.raises(ScoreError, match="x.parquet: no key column 'id'"):
        score(d, model_path, tmp_path / "o")
    pq.write_table(pa.table({"id": [1], "text": ["good"]}), d / "x.parquet")
    with pytest.raises(ScoreError, match="needs --word-index"):
        score(d, model_path, tmp_path / "o")
    with pytest.raises(ScoreError, match="--model .*missing.safetensors"):
        score(d, tmp_path / "missing.safetensors", tmp_path / "o")
    # The command: exit 2 for a bad flag, 1 with the message for bad input; nothing written.
    r = cli("score", "--input", str(d), "--model", str(model_path), "--output", str(tmp_path / "c"),
            "--shard-rows", "zero")  # fmt: skip
    assert r.returncode == 2 and "--shard-rows" in r.stderr
    r = cli("score", "--input", str(d), "--model", str(model_path), "--output", str(tmp_path / "c"))
    assert r.returncode == 1 and "needs --word-index" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "c").exists()


def test_out_of_range_ids_and_nulls_are_errors_naming_the_row(
    ray_cluster, model_path: Path, tmp_path: Path
) -> None:
    from fusedrnn.ray import ScoreError, score

    d = tmp_path / "in"
    d.mkdir()
    pq.write_table(pa.table({"id": [7, 8, 9], "ids": [[1, 2], [3, VOCAB], [4]]}), d / "a.parquet")
    with pytest.raises(ScoreError, match=r"a.parquet.*row 1: id 500 is out of range"):
        score(d, model_path, tmp_path / "o1", progress=False)
    pq.write_table(pa.table({"id": [7, 8], "ids": [[1, 2], None]}), d / "a.parquet")
    with pytest.raises(ScoreError, match=r"a.parquet.*'ids' has a null at row 1"):
        score(d, model_path, tmp_path / "o2", progress=False)
    # Another job's output directory is refused, not mixed.
    pq.write_table(pa.table({"id": [7, 8], "ids": [[1, 2], [3]]}), d / "a.parquet")
    score(d, model_path, tmp_path / "o3", progress=False)
    other = tmp_path / "other.safetensors"
    other.write_bytes(model_path.read_bytes())
    with pytest.raises(ScoreError, match="another job's results"):
        score(d, other, tmp_path / "o3", progress=False)
    assert json.loads((tmp_path / "o3" / "_fusedrnn_score.json").read_text())["shards"] == 1


def test_command_scores_against_the_cluster_address(
    ray_cluster, model_path: Path, tmp_path: Path
) -> None:
    data = write_parquet(tmp_path / "in", 3_000, files=2, row_group=500)
    want = expected(model_path, tmp_path / "in")
    assert set(want) == set(data)
    out = tmp_path / "out"
    args = ["score", "--input", str(tmp_path / "in"), "--model", str(model_path)]
    r = cli(*args, "--output", str(out), "--address", ray_cluster.address, "--shard-rows", "700")
    assert r.returncode == 0, r.stderr
    assert "scored 3000 rows" in r.stderr and "0 failed job(s) retried" in r.stderr
    assert_complete(out, want)
    assert len(list(out.glob("*.parquet"))) == 6  # 704-row shards: 3 per 1,500-row file


def test_shard_bounds_cover_every_row_once_and_never_leave_a_tiny_tail() -> None:
    """A last shard of <= INLINE_ROWS rows would take the one-review kernel (another rounding
    than `predict` over the whole file): it joins the shard before it."""
    from fusedrnn._native import INLINE_ROWS
    from fusedrnn.ray._score import BLOCK, _ranges

    tails = [BLOCK + INLINE_ROWS, BLOCK + INLINE_ROWS + 1]
    for n in [0, 1, BLOCK, BLOCK + 1, *tails, 50_049, 200_000]:
        for step in [BLOCK, 2 * BLOCK, 50_048]:
            bounds = _ranges(n, step)
            rows = [r for lo, hi in bounds for r in range(lo, hi)]
            assert rows == list(range(n)), (n, step)
            assert all(lo % BLOCK == 0 for lo, _ in bounds), (n, step, bounds)
            if len(bounds) > 1:
                assert all(hi - lo > INLINE_ROWS for lo, hi in bounds), (n, step, bounds)
    assert _ranges(50_049, 50_048) == [(0, 50_049)]
