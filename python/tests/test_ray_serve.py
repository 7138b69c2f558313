"""fusedrnn.ray.serve on a local 3-node Ray cluster: bursts, bad requests' 4xx, a replica killed."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pytest
from conftest import SHARED, need, need_ray, ray_pids

import fusedrnn
from fusedrnn import layers

need_ray(module_level=True)

VOCAB = 500
TEXTS = [
    "a wonderful film, the best acting of the year",
    "awful, boring and far too long",
    "",
    "not bad " * 80,
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, body: bytes, timeout: float = 60, **headers: str) -> Tuple[int, Dict[str, Any]]:
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, {"raw": raw.decode(errors="replace")}


def get(url: str, timeout: float = 30) -> Tuple[int, Dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, {}


@pytest.fixture(scope="module")
def service(ray_cluster, tmp_path_factory: pytest.TempPathFactory):
    from ray import serve as rserve

    from fusedrnn.ray import serve

    wi = need(SHARED / "imdb_word_index.json")
    fusedrnn.set_random_seed(7)
    m = fusedrnn.Sequential(
        [layers.Embedding(VOCAB, 16), layers.LSTM(8), layers.Dense(1, activation="sigmoid")]
    )
    m.build()
    path = tmp_path_factory.mktemp("serve") / "lstm.safetensors"
    m.save(path)
    url = serve(
        path, wi, port=free_port(), replicas=2, max_batch_size=16, max_body_bytes=64 * 1024,
        max_items=256,
    )  # fmt: skip
    end = time.monotonic() + 120
    while get_ok(url) is None and time.monotonic() < end:
        time.sleep(0.5)
    try:
        yield url, fusedrnn.load_model(path), wi
    finally:
        rserve.shutdown()


def get_ok(url: str) -> Optional[Dict[str, Any]]:
    try:
        code, doc = get(url + "/healthz", timeout=5)
    except OSError:
        return None
    return doc if code == 200 else None


def ids_rows(n: int, seed: int) -> List[List[int]]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, VOCAB, size=int(k)).tolist() for k in rng.integers(0, 150, size=n)]


def want_ids(model: Any, rows: List[List[int]]) -> np.ndarray:
    return model.predict(fusedrnn.pad_sequences(rows, maxlen=100))[:, 0]


def test_health_and_a_burst_of_concurrent_requests(service) -> None:
    url, model, wi = service
    assert get_ok(url)["status"] == "ok"
    want_text = model.predict_text(TEXTS, wi)[:, 0]
    bodies = []
    for i in range(96):
        if i % 3 == 0:
            bodies.append(("texts", TEXTS, want_text))
        else:
            rows = ids_rows(1 + i % 64, i)
            bodies.append(("ids", rows, want_ids(model, rows)))

    def one(b):
        key, items, want = b
        code, doc = post(url + "/predict", json.dumps({key: items}).encode())
        return key, code, doc, want

    with ThreadPoolExecutor(32) as pool:
        for key, code, doc, want in pool.map(one, bodies):
            assert code == 200, doc
            got = np.asarray(doc["probs"], dtype=np.float32)
            if key == "ids":  # the kernels on a batch: bit for bit
                np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
            else:  # texts go through a streaming session: within 1e-6 of predict_text
                np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)


BAD = [
    (b"{not json", 400, "malformed JSON"),
    (b"[1, 2]", 400, "expected a JSON object"),
    (b'{"texts": "one review"}', 400, "'texts' must be a list"),
    (b'{"texts": []}', 400, "'texts' is empty"),
    (b'{"ids": []}', 400, "'ids' is empty"),
    (b'{"texts": ["ok", 3]}', 400, "texts[1] must be a string"),
    (b'{"ids": [[1, 2], "x"]}', 400, "ids[1] must be a list"),
    (b'{"ids": [[1, 2.5]]}', 400, "ids[0][1] must be an integer"),
    (b'{"ids": [[1, true]]}', 400, "ids[0][1] must be an integer"),
    (b'{"ids": [[1, 500]]}', 422, "ids[0][1] = 500 is out of range"),
    (b'{"ids": [[-1]]}', 422, "ids[0][0] = -1 is out of range"),
    (b'{"ids": [[1]], "texts": ["a"]}', 400, "exactly one of"),
    (b'{"review": "a"}', 400, "unknown field"),
    (b"{}", 400, "exactly one of"),
    (b"\xff\xfe", 400, "malformed JSON"),
    (json.dumps({"ids": [[1]] * 300}).encode(), 413, "the limit is 256"),
    (json.dumps({"texts": ["a" * 70_000]}).encode(), 413, "over the 65536-byte limit"),
]


@pytest.mark.parametrize("body,status,message", BAD)
def test_bad_requests_get_their_4xx_with_a_message(service, body, status, message) -> None:
    url, _, _ = service
    code, doc = post(url + "/predict", body)
    assert code == status, doc
    assert message in doc["error"]


def test_wrong_routes_and_methods_are_4xx_and_replicas_survive(service) -> None:
    url, model, _ = service
    code, doc = get(url + "/predict")
    assert code == 405
    code, _ = get(url + "/nowhere")
    assert code == 404
    code, doc = post(url + "/healthz", b"{}")
    assert code == 405
    rows = ids_rows(3, 1)
    code, doc = post(url + "/predict", json.dumps({"ids": rows}).encode())
    assert code == 200
    np.testing.assert_array_equal(np.float32(doc["probs"]), want_ids(model, rows))


def replica_pids() -> List[int]:
    return ray_pids("ray::ServeReplica", "FusedrnnPredictor")


def test_replica_killed_under_load_loses_no_retried_request(service) -> None:
    url, model, _ = service
    pids = replica_pids()
    assert len(pids) == 2, f"expected 2 replica processes, found {pids}"
    payloads = [ids_rows(8, 1000 + i) for i in range(300)]

    def with_retries(rows: List[List[int]]) -> List[float]:
        body = json.dumps({"ids": rows}).encode()
        for attempt in range(30):
            try:
                code, doc = post(url + "/predict", body, timeout=30)
            except OSError:
                code, doc = 0, {}
            if code == 200:
                return doc["probs"]
            assert code == 0 or code >= 500, (code, doc)  # never a 4xx for a good request
            time.sleep(min(2.0, 0.1 * (attempt + 1)))
        raise AssertionError("request not answered after 30 attempts")

    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(with_retries, rows) for rows in payloads]
        time.sleep(0.5)
        os.kill(pids[0], signal.SIGKILL)
        got = [f.result(timeout=600) for f in futures]
    for rows, probs in zip(payloads, got):
        np.testing.assert_array_equal(np.float32(probs), want_ids(model, rows))
    # The killed replica is replaced.
    end = time.monotonic() + 120
    while time.monotonic() < end and len(set(replica_pids()) - {pids[0]}) < 2:
        time.sleep(0.5)
    assert len(set(replica_pids()) - {pids[0]}) == 2
