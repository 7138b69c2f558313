"""Online scoring on Ray Serve: ``POST /predict`` with dynamic batching, ``GET /healthz``.

Requests are validated in full before they reach the batch, so a bad request is a 4xx naming the
problem and never fails the batch it would have joined (or the replica). ``@serve.batch``
gathers concurrent requests (up to ``max_batch_size`` requests, waiting at most
``batch_wait_ms``) into one call of the kernels.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from .. import _native

PathLike = Union[str, "os.PathLike[str]"]

APP_NAME = "fusedrnn"


class ServeError(RuntimeError):
    """The deployment could not start (bad model, word index or option)."""


class BadRequest(ValueError):
    """A request the service refuses: ``status`` (4xx) and a message naming the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_request(body: bytes, vocab: int, max_items: int) -> Tuple[str, Any]:
    """``("texts", [str])`` or ``("ids", int64 [n, 100] padded)`` from a request body.

    Raises:
        BadRequest: malformed JSON, wrong types, empty lists, ids out of range, too many items.
    """
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest(400, f"malformed JSON: {e}") from None
    if not isinstance(doc, dict):
        raise BadRequest(400, f"expected a JSON object, got {type(doc).__name__}")
    keys = [k for k in ("texts", "ids") if k in doc]
    extra = sorted(set(doc) - {"texts", "ids"})
    if extra:
        raise BadRequest(400, f"unknown field(s) {extra}: send either 'texts' or 'ids'")
    if len(keys) != 1:
        raise BadRequest(400, "send exactly one of 'texts' (list of strings) or 'ids'")
    key = keys[0]
    items = doc[key]
    if not isinstance(items, list):
        raise BadRequest(400, f"'{key}' must be a list, got {type(items).__name__}")
    if not items:
        raise BadRequest(400, f"'{key}' is empty: send at least one review")
    if len(items) > max_items:
        raise BadRequest(413, f"'{key}' has {len(items)} reviews; the limit is {max_items}")
    if key == "texts":
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise BadRequest(400, f"texts[{i}] must be a string, got {type(t).__name__}")
        return key, items
    lengths = []
    flat: List[int] = []
    for i, row in enumerate(items):
        if not isinstance(row, list):
            raise BadRequest(400, f"ids[{i}] must be a list of integers, got {type(row).__name__}")
        for j, v in enumerate(row):
            if type(v) is not int:
                raise BadRequest(400, f"ids[{i}][{j}] must be an integer, got {type(v).__name__}")
            if not 0 <= v < vocab:
                raise BadRequest(
                    422, f"ids[{i}][{j}] = {v} is out of range: the vocabulary is 0..{vocab - 1}"
                )
        lengths.append(len(row))
        flat.extend(row)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    x = _native.pad_sequences(
        np.asarray(flat, dtype=np.int64), offsets, _native.SEQ_LEN, 0, "pre", "pre"
    )
    return key, x


def _json_response(status: int, doc: Dict[str, Any]) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse(doc, status_code=status)


class Predictor:
    """The Serve deployment's class (wrapped by :func:`serve.deployment` in :func:`build_app`)."""

    def __init__(
        self,
        model: str,
        word_index: str,
        max_batch_size: int,
        batch_wait_ms: float,
        max_body_bytes: int,
        max_items: int,
        threads: int,
    ) -> None:
        os.environ["RAYON_NUM_THREADS"] = str(max(1, threads))
        self.model = _native.Model.open(model)
        with open(word_index, encoding="utf-8") as f:
            self.session = self.model.session(json.load(f))
        self.vocab = self.model.vocab
        self.max_body = max_body_bytes
        self.max_items = max_items
        self.pid = os.getpid()
        self._batch.set_max_batch_size(max_batch_size)
        self._batch.set_batch_wait_timeout_s(batch_wait_ms / 1000.0)

    def _text_probs(self, texts: List[str]) -> List[float]:
        out = []
        for t in texts:
            self.session.reset()
            self.session.push_text(t)
            out.append(self.session.prob())
        return out

    def _score(self, requests: List[Tuple[str, Any]]) -> List[List[float]]:
        # One kernel call per request of ids: a row's probability depends on the 64-row block it
        # is scored in, so each request gets exactly what `predict` gives its rows alone.
        return [
            self.model.predict(x)[:, 0].tolist() if k == "ids" else self._text_probs(x)
            for k, x in requests
        ]

    async def _batch(self, requests: List[Tuple[str, Any]]) -> List[List[float]]:
        # Off the event loop: `predict` releases the GIL while it scores, and the text path
        # returns to Python between reviews, so the replica keeps reading requests and answering
        # /healthz while a large batch is scored. Batches run one at a time (Serve's default
        # max_concurrent_batches=1), so the one session is never used by two threads at once.
        return await asyncio.to_thread(self._score, requests)

    async def _read_body(self, request: Any) -> bytes:
        cl = request.headers.get("content-length")
        if cl is not None:
            try:
                n = int(cl)
            except ValueError:
                raise BadRequest(400, f"bad Content-Length {cl!r}") from None
            if n > self.max_body:
                raise BadRequest(413, f"body of {n} bytes is over the {self.max_body}-byte limit")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise BadRequest(413, f"body is over the {self.max_body}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)

    async def __call__(self, request: Any) -> Any:
        path = request.url.path.rstrip("/") or "/"
        try:
            if path.endswith("/healthz"):
                if request.method != "GET":
                    raise BadRequest(405, f"{request.method} /healthz: use GET")
                return _json_response(200, {"status": "ok", "pid": self.pid})
            if not path.endswith("/predict"):
                raise BadRequest(404, f"no route {path}: use POST /predict or GET /healthz")
            if request.method != "POST":
                raise BadRequest(405, f"{request.method} /predict: use POST")
            body = await self._read_body(request)
            key, x = parse_request(body, self.vocab, self.max_items)
        except BadRequest as e:
            return _json_response(e.status, {"error": str(e)})
        probs = await self._batch((key, x))
        return _json_response(200, {"probs": probs})


def build_app(
    model: PathLike,
    word_index: PathLike,
    *,
    replicas: int = 1,
    max_batch_size: int = 64,
    batch_wait_ms: float = 2.0,
    max_body_bytes: int = 1 << 20,
    max_items: int = 4096,
    cpus_per_replica: float = 1.0,
    max_ongoing_requests: int = 256,
) -> Any:
    """The Serve application (a bound deployment), validated here on the driver.

    Raises:
        ServeError: a bad model file, word index or option.
    """
    from ray import serve

    for name, v in (("replicas", replicas), ("max_batch_size", max_batch_size)):
        if not (isinstance(v, int) and v >= 1):
            raise ServeError(f"{name} must be a positive integer, got {v!r}")
    if not (math.isfinite(batch_wait_ms) and batch_wait_ms >= 0):
        raise ServeError(f"batch_wait_ms must be >= 0, got {batch_wait_ms!r}")
    try:
        m = _native.Model.open(os.fspath(model))
    except (OSError, ValueError) as e:
        raise ServeError(f"--model {model}: {e}") from e
    try:
        with open(word_index, encoding="utf-8") as f:
            m.session(json.load(f))
    except (OSError, ValueError) as e:
        raise ServeError(f"--word-index {word_index}: {e}") from e
    cls = type(
        "FusedrnnPredictor",
        (Predictor,),
        {"_batch": serve.batch(max_batch_size=max_batch_size)(Predictor._batch)},
    )
    dep = serve.deployment(
        cls,
        name="FusedrnnPredictor",
        num_replicas=replicas,
        max_ongoing_requests=max_ongoing_requests,
        ray_actor_options={"num_cpus": cpus_per_replica},
    )
    return dep.bind(
        os.path.abspath(os.fspath(model)),
        os.path.abspath(os.fspath(word_index)),
        max_batch_size,
        batch_wait_ms,
        max_body_bytes,
        max_items,
        max(1, int(cpus_per_replica)),
    )


def serve(
    model: PathLike,
    word_index: PathLike,
    *,
    port: int = 8000,
    address: Optional[str] = None,
    replicas: int = 1,
    max_batch_size: int = 64,
    batch_wait_ms: float = 2.0,
    max_body_bytes: int = 1 << 20,
    max_items: int = 4096,
    cpus_per_replica: float = 1.0,
) -> str:
    """Deploy the model on Ray Serve (HTTP on 127.0.0.1:``port``) and return the base URL.

    ``POST /predict`` with ``{"texts": [...]}`` or ``{"ids": [[...], ...]}`` answers
    ``{"probs": [...]}`` (the values ``predict_text`` / ``predict`` give); ``GET /healthz``
    answers ``{"status": "ok"}``. Bad requests get a 4xx and ``{"error": message}``.
    ``max_batch_size`` counts requests gathered into one kernel call.

    Args:
        model: model file, readable on every node.
        word_index: ``imdb_word_index.json``, readable on every node.
        port: HTTP port (bound on 127.0.0.1 only).
        address: Ray cluster address (``None``: the connected one, ``RAY_ADDRESS`` or local).
        replicas: number of replicas.
        max_batch_size: most requests in one batch.
        batch_wait_ms: longest wait for a batch to fill.
        max_body_bytes: larger request bodies get 413.
        max_items: more reviews in one request get 413.
        cpus_per_replica: CPUs (and kernel threads) per replica.

    Returns:
        The base URL, e.g. ``http://127.0.0.1:8000``.
    """
    import ray
    from ray import serve as rserve

    app = build_app(
        model,
        word_index,
        replicas=replicas,
        max_batch_size=max_batch_size,
        batch_wait_ms=batch_wait_ms,
        max_body_bytes=max_body_bytes,
        max_items=max_items,
        cpus_per_replica=cpus_per_replica,
    )
    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False)
    # One HTTP proxy, on the head node: on 127.0.0.1 only (nodes sharing a machine would clash).
    rserve.start(proxy_location="HeadOnly", http_options={"host": "127.0.0.1", "port": port})
    rserve.run(app, name=APP_NAME, route_prefix="/")
    return f"http://127.0.0.1:{port}"


def serve_forever(model: PathLike, word_index: PathLike, **kwargs: Any) -> None:
    """:func:`serve`, then block until Ctrl-C or SIGTERM, then delete the application."""
    import signal

    from ray import serve as rserve

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # Also when started with SIGINT ignored (a background job of a script) or stopped by `kill`.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    url = serve(model, word_index, **kwargs)
    print(f"fusedrnn.ray.serve: POST {url}/predict, GET {url}/healthz (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        rserve.delete(APP_NAME)
