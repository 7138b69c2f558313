"""Batch scoring on Ray Data: Parquet / ``.tok`` in, Parquet ``(id, prob)`` out, resumable.

The job is cut into *shards* (a slice of one input file) planned on the driver from file
metadata only. Each shard's output file name is a pure function of the input file's path and
the shard's index, so a rerun (or the internal retry loop) recomputes exactly the shards whose
output is missing. Every output file is written to a temporary name beside it and renamed into
place, so a file that exists is whole. The shards flow through ``Dataset.map_batches`` on an
actor pool: each actor opens the model once and scores with as many threads as it has CPUs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .. import _native

PathLike = Union[str, "os.PathLike[str]"]

MANIFEST = "_fusedrnn_score.json"
"""The job description kept in the output directory (a rerun must describe the same job)."""

DEFAULT_SHARD_ROWS = 50_048

BLOCK = 64
"""Rows the kernels score together: a row's probability depends on its 64-row block only."""


def _ranges(n: int, step: int) -> List[Tuple[int, int]]:
    """Shard bounds ``[lo, hi)`` over ``n`` rows, ``step`` apart (a multiple of ``BLOCK``).

    A last shard of at most ``_native.INLINE_ROWS`` rows joins the one before it: a call that
    small takes the one-review kernel, whose rounding differs from the batch kernel's.
    """
    bounds = [(lo, min(n, lo + step)) for lo in range(0, n, step)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] <= _native.INLINE_ROWS:
        (lo, _), (_, hi) = bounds[-2], bounds.pop()
        bounds[-1] = (lo, hi)
    return bounds


class ScoreError(RuntimeError):
    """Scoring could not complete: bad input, or shards still missing after every retry."""


@dataclass(frozen=True)
class Shard:
    """One unit of work: rows ``[lo, hi)`` of one input file (in row groups ``groups``)."""

    path: str
    kind: str  # "parquet" or "tok"
    out: str  # output file name (no directory)
    lo: int
    hi: int
    groups: Tuple[int, ...] = ()
    first: int = 0  # file row of the first row of ``groups``

    @property
    def rows(self) -> int:
        """Rows in the shard."""
        return self.hi - self.lo


@dataclass
class ScoreSummary:
    """What a :func:`score` call did."""

    rows: int = 0
    """Rows in the complete output (every input row, once)."""
    rows_scored: int = 0
    """Rows scored by this call (the rest were already in the output directory)."""
    shards: int = 0
    shards_resumed: int = 0
    """Shards whose output already existed (skipped)."""
    attempts: int = 0
    """Ray Data jobs started (1 when nothing failed)."""
    failures_retried: int = 0
    """Jobs that failed (a node or actor lost) and were followed by a resume."""
    seconds: float = 0.0
    rows_per_second: float = 0.0
    errors: List[str] = field(default_factory=list)

    def line(self) -> str:
        """One human-readable summary line."""
        return (
            f"scored {self.rows_scored} rows in {self.seconds:.1f}s "
            f"({self.rows_per_second:,.0f} rows/s); output holds {self.rows} rows in "
            f"{self.shards} files ({self.shards_resumed} resumed); "
            f"{self.failures_retried} failed job(s) retried"
        )


@dataclass(frozen=True)
class Columns:
    """Input column names."""

    id: str = "id"
    ids: str = "ids"
    text: str = "text"


def _out_name(root: Path, path: Path, index: int) -> str:
    rel = path.relative_to(root).as_posix()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", rel)
    return f"{stem}-{index:05d}.parquet"


def _inputs(root: Path) -> List[Path]:
    if not root.is_dir():
        raise ScoreError(f"--input {root}: not a directory")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".parquet", ".tok"))
    if not files:
        raise ScoreError(f"--input {root}: no .parquet or .tok files")
    return files


def _check_parquet_schema(path: Path, schema: Any, cols: Columns) -> str:
    """The payload column's kind (``"ids"`` or ``"text"``), or ``ScoreError`` naming the column."""
    import pyarrow as pa

    names = schema.names
    if cols.id not in names:
        raise ScoreError(f"{path}: no key column {cols.id!r} (columns: {names})")
    idt = schema.field(cols.id).type
    if not (pa.types.is_integer(idt) or pa.types.is_string(idt) or pa.types.is_large_string(idt)):
        raise ScoreError(f"{path}: key column {cols.id!r} is {idt}, expected an integer or string")
    if cols.ids in names:
        t = schema.field(cols.ids).type
        if not (
            (pa.types.is_list(t) or pa.types.is_large_list(t)) and pa.types.is_integer(t.value_type)
        ):
            raise ScoreError(f"{path}: column {cols.ids!r} is {t}, expected list<int32>")
        return "ids"
    if cols.text in names:
        t = schema.field(cols.text).type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            raise ScoreError(f"{path}: column {cols.text!r} is {t}, expected string")
        return "text"
    raise ScoreError(f"{path}: neither an ids column {cols.ids!r} nor a text column {cols.text!r}")


def plan(
    input_dir: PathLike,
    cols: Columns = Columns(),
    shard_rows: int = DEFAULT_SHARD_ROWS,
    split: str = "test",
) -> Tuple[List[Shard], bool]:
    """The shards of a job (from metadata only) and whether any input holds raw text."""
    import pyarrow.parquet as pq

    if shard_rows < 1:
        raise ScoreError(f"shard_rows must be >= 1, got {shard_rows}")
    root = Path(input_dir)
    # Shards start at multiples of the kernels' 64-row block, so every row is scored in the same
    # block as when the whole file goes through one `predict`: bit-for-bit the same result.
    step = -(-shard_rows // BLOCK) * BLOCK
    shards: List[Shard] = []
    any_text = False
    for path in _inputs(root):
        if path.suffix == ".tok":
            try:
                n = len(_native.TokFile(str(path)).split(split)[1])
            except (OSError, ValueError) as e:
                raise ScoreError(f"{path}: {e}") from e
            for k, (lo, hi) in enumerate(_ranges(n, step)):
                shards.append(Shard(str(path), "tok", _out_name(root, path, k), lo, hi))
            continue
        try:
            meta = pq.ParquetFile(path)
        except Exception as e:  # pyarrow raises ArrowInvalid/OSError for corrupt files
            raise ScoreError(f"{path}: not a readable Parquet file: {e}") from e
        any_text |= _check_parquet_schema(path, meta.schema_arrow, cols) == "text"
        starts = [0]
        for g in range(meta.num_row_groups):
            starts.append(starts[-1] + meta.metadata.row_group(g).num_rows)
        n = starts[-1]
        for k, (lo, hi) in enumerate(_ranges(n, step)):
            groups = tuple(
                g for g in range(meta.num_row_groups) if starts[g] < hi and starts[g + 1] > lo
            )
            shards.append(
                Shard(
                    str(path),
                    "parquet",
                    _out_name(root, path, k),
                    lo,
                    hi,
                    groups,
                    starts[groups[0]],
                )
            )
    return shards, any_text


def _manifest(input_dir: Path, model: Path, shards: Sequence[Shard], cols: Columns) -> Dict:
    h = hashlib.sha256()
    for s in shards:
        h.update(json.dumps(asdict(s), sort_keys=True).encode())
    return {
        "input": str(input_dir.resolve()),
        "model": str(model.resolve()),
        "columns": asdict(cols),
        "shards": len(shards),
        "plan_sha256": h.hexdigest(),
    }


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class _Scorer:
    """The actor: opens the model (and word index) once, then scores whole shards."""

    def __init__(
        self,
        model: str,
        out_dir: str,
        cols: Dict[str, str],
        word_index: Optional[str],
        split: str,
        threads: int,
        delay: float,
    ) -> None:
        # The kernels' thread pool is sized on first use: as many threads as this actor's CPUs.
        os.environ["RAYON_NUM_THREADS"] = str(max(1, threads))
        self.model = _native.Model.open(model)
        self.out = Path(out_dir)
        self.cols = Columns(**cols)
        self.word_index: Optional[Dict[str, int]] = None
        if word_index is not None:
            with open(word_index, encoding="utf-8") as f:
                self.word_index = json.load(f)
        self.split = split
        self.delay = delay
        # The last token file opened: its shards tend to come one after another, and opening
        # reads and checks the whole file. One at a time, so memory stays one file's.
        self._tok: Tuple[str, Any] = ("", None)

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        rows, errors = [], []
        for spec in batch["shard"]:
            shard = Shard(**json.loads(spec))
            dest = self.out / shard.out
            if dest.exists():  # another attempt wrote it already: whole, by the rename
                rows.append(shard.rows)
                errors.append("")
                continue
            if self.delay:
                time.sleep(self.delay)
            try:
                table = self._score(shard)
            except (ValueError, OSError, KeyError, TypeError) as e:
                rows.append(0)
                errors.append(f"{shard.path} rows {shard.lo}..{shard.hi}: {e}")
                continue
            import pyarrow as pa
            import pyarrow.parquet as pq

            sink = pa.BufferOutputStream()
            pq.write_table(table, sink)
            _write_atomic(dest, sink.getvalue().to_pybytes())
            rows.append(table.num_rows)
            errors.append("")
        return {"rows": np.asarray(rows, dtype=np.int64), "error": np.asarray(errors, dtype=object)}

    def _score(self, shard: Shard) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        if shard.kind == "tok":
            if self._tok[0] != shard.path:
                self._tok = ("", None)  # let the previous file go before reading the next
                self._tok = (shard.path, _native.TokFile(shard.path))
            tokens = self._tok[1].split(self.split)[0][shard.lo : shard.hi]
            probs = self.model.predict(tokens)[:, 0]  # Keras' (n, 1) column
            key = pa.array(np.arange(shard.lo, shard.hi, dtype=np.int64))
            return pa.table({"id": key, "prob": pa.array(probs, pa.float32())})
        c = self.cols
        f = pq.ParquetFile(shard.path)
        names = f.schema_arrow.names
        payload = c.ids if c.ids in names else c.text
        t = f.read_row_groups(list(shard.groups), columns=[c.id, payload])
        t = t.slice(shard.lo - shard.first, shard.rows)
        key = t.column(c.id).combine_chunks()
        if key.null_count:
            raise ValueError(f"key column {c.id!r} has a null at row {_first_null(key) + shard.lo}")
        col = t.column(payload).combine_chunks()
        if col.null_count:
            raise ValueError(f"column {payload!r} has a null at row {_first_null(col) + shard.lo}")
        if payload == c.text:
            if self.word_index is None:
                raise ValueError(f"column {c.text!r} holds raw text: --word-index is required")
            texts = col.to_pylist()
            probs = np.asarray(self.model.predict_text(texts, self.word_index), dtype=np.float32)
        else:
            lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False).astype(np.int64)
            flat = pc.list_flatten(col).to_numpy(zero_copy_only=False).astype(np.int64)
            vocab = self.model.vocab
            if flat.size and (flat.min() < 0 or flat.max() >= vocab):
                bad = int(np.argmax((flat < 0) | (flat >= vocab)))
                row = int(np.searchsorted(np.cumsum(lengths), bad, side="right"))
                raise ValueError(
                    f"column {payload!r} row {row + shard.lo}: id {int(flat[bad])} is out of "
                    f"range for the model's vocabulary of {vocab}"
                )
            offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets[1:])
            x = _native.pad_sequences(flat, offsets, _native.SEQ_LEN, 0, "pre", "pre")
            probs = self.model.predict(x)[:, 0]
        return pa.table({"id": key, "prob": pa.array(probs, pa.float32())})


def _first_null(a: Any) -> int:
    return int(np.argmax(a.is_null().to_numpy(zero_copy_only=False)))


def _missing(out: Path, shards: Sequence[Shard]) -> List[Shard]:
    return [s for s in shards if not (out / s.out).exists()]


def score(
    input_dir: PathLike,
    model: PathLike,
    output_dir: PathLike,
    *,
    word_index: Optional[PathLike] = None,
    id_column: str = "id",
    ids_column: str = "ids",
    text_column: str = "text",
    split: str = "test",
    address: Optional[str] = None,
    actors: Optional[int] = None,
    cpus_per_actor: int = 1,
    shard_rows: int = DEFAULT_SHARD_ROWS,
    max_attempts: int = 5,
    progress: bool = True,
    _delay_per_shard: float = 0.0,
) -> ScoreSummary:
    """Score every row of the Parquet / ``.tok`` files under ``input_dir`` on a Ray cluster.

    Writes ``output_dir/<input>-<NNNNN>.parquet`` files with columns ``id`` and ``prob``
    (float32, the value :meth:`fusedrnn.Sequential.predict` and ``fusedrnn predict`` give). Only
    shards whose output file is missing are computed, so rerunning a failed or interrupted job
    finishes it; a failed Ray job (a node or actor lost) is resumed the same way up to
    ``max_attempts`` times.

    Args:
        input_dir: directory searched recursively for ``.parquet`` and ``.tok`` files.
        model: model file (``.safetensors``, ``.h5``, ``.keras``), readable on every node.
        output_dir: where the Parquet outputs go (created; shared by every node).
        word_index: ``imdb_word_index.json`` (required when a Parquet file has a text column).
        id_column: Parquet key column (integer or string), copied to the output's ``id``.
        ids_column: Parquet ``list<int32>`` column of ``load_data``-style ids (padded here).
        text_column: Parquet string column of raw reviews (used when there is no ids column).
        split: the split of ``.tok`` files to score (their ``id`` is the row index).
        address: Ray cluster address (``None``: the running/connected one, or a local one).
        actors: actor pool size (default: the cluster's CPUs ÷ ``cpus_per_actor``).
        cpus_per_actor: CPUs (and kernel threads) per actor.
        shard_rows: rows per shard and output file (rounded up to a multiple of 64).
        max_attempts: Ray Data jobs to try before giving up with shards still missing.
        progress: print progress and the summary to stderr.
        _delay_per_shard: testing only: seconds each shard sleeps (to fail a job mid-way).

    Returns:
        A :class:`ScoreSummary`.

    Raises:
        ScoreError: bad input (naming the file, column and row), or shards still missing.
    """
    import ray

    t0 = time.monotonic()
    cols = Columns(id_column, ids_column, text_column)
    in_dir, out_dir, model_path = Path(input_dir), Path(output_dir), Path(model)
    try:
        m = _native.Model.open(str(model_path))
    except (OSError, ValueError) as e:
        raise ScoreError(f"--model {model_path}: {e}") from e
    del m
    wi = None
    if word_index is not None:
        wi = Path(word_index)
        if not wi.is_file():
            raise ScoreError(f"--word-index {wi}: no such file")
    if cpus_per_actor < 1:
        raise ScoreError(f"cpus_per_actor must be >= 1, got {cpus_per_actor}")
    shards, any_text = plan(in_dir, cols, shard_rows, split)
    if any_text and wi is None:
        raise ScoreError(f"--input {in_dir}: text column {text_column!r} needs --word-index")
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = _manifest(in_dir, model_path, shards, cols)
    mpath = out_dir / MANIFEST
    if mpath.exists():
        try:
            old = json.loads(mpath.read_text())
        except ValueError as e:
            raise ScoreError(f"{mpath}: unreadable ({e}); use a fresh --output") from e
        if old != manifest:
            raise ScoreError(
                f"{mpath}: --output holds another job's results (different input, model, columns "
                f"or shard size); use a fresh --output directory"
            )
    else:
        _write_atomic(mpath, json.dumps(manifest, indent=1).encode())

    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    summary = ScoreSummary(shards=len(shards))
    todo = _missing(out_dir, shards)
    summary.shards_resumed = len(shards) - len(todo)
    say = (lambda s: print(s, file=sys.stderr, flush=True)) if progress else (lambda s: None)
    if summary.shards_resumed:
        say(f"fusedrnn.ray.score: resuming: {summary.shards_resumed}/{len(shards)} shards done")
    total_rows = sum(s.rows for s in shards)
    done_rows = total_rows - sum(s.rows for s in todo)
    resumed_rows = done_rows
    while todo:
        if summary.attempts >= max_attempts:
            raise ScoreError(
                f"{len(todo)} of {len(shards)} shards still missing after {max_attempts} "
                f"attempts; rerun the same command to resume"
            )
        summary.attempts += 1
        try:
            done_rows = _run(
                todo, model_path, out_dir, cols, wi, split, actors, cpus_per_actor,
                _delay_per_shard, summary, say, done_rows, total_rows, t0,
            )  # fmt: skip
        except ScoreError:
            raise
        except Exception as e:  # a lost node or actor surfaces as one of many Ray errors
            summary.failures_retried += 1
            say(f"fusedrnn.ray.score: job failed ({type(e).__name__}: {_short(e)}); resuming")
        if summary.errors:
            raise ScoreError("bad input:\n  " + "\n  ".join(summary.errors))
        todo = _missing(out_dir, shards)
        done_rows = total_rows - sum(s.rows for s in todo)
    summary.rows = total_rows
    summary.rows_scored = total_rows - resumed_rows
    summary.seconds = time.monotonic() - t0
    summary.rows_per_second = summary.rows_scored / summary.seconds if summary.seconds else 0.0
    say("fusedrnn.ray.score: " + summary.line())
    return summary


def _short(e: BaseException) -> str:
    s = str(e).strip().splitlines()
    return s[0][:200] if s else ""


def _run(
    todo: Sequence[Shard],
    model: Path,
    out: Path,
    cols: Columns,
    wi: Optional[Path],
    split: str,
    actors: Optional[int],
    cpus_per_actor: int,
    delay: float,
    summary: ScoreSummary,
    say: Any,
    done_rows: int,
    total_rows: int,
    t0: float,
) -> int:
    import ray
    import ray.data

    if actors is None:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        actors = max(1, cpus // cpus_per_actor)
    actors = max(1, min(actors, len(todo)))
    items = [{"shard": json.dumps(asdict(s))} for s in todo]
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    scored = ds.map_batches(
        _Scorer,
        fn_constructor_kwargs={
            "model": str(model.resolve()),
            "out_dir": str(out.resolve()),
            "cols": asdict(cols),
            "word_index": str(wi.resolve()) if wi else None,
            "split": split,
            "threads": cpus_per_actor,
            "delay": delay,
        },
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=cpus_per_actor,
        max_restarts=-1,
        max_task_retries=-1,
    )
    last = 0.0
    for row in scored.iter_rows():
        if row["error"]:
            summary.errors.append(str(row["error"]))
            continue
        n = int(row["rows"])
        summary.rows_scored += n
        done_rows += n
        now = time.monotonic()
        if now - last >= 1.0:
            last = now
            rate = summary.rows_scored / max(now - t0, 1e-9)
            say(f"fusedrnn.ray.score: {done_rows}/{total_rows} rows ({rate:,.0f} rows/s)")
    return done_rows
