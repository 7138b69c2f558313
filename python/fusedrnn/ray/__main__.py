"""``python -m fusedrnn.ray score|serve``: the command-line entry points.

Exit status: 0 on success, 1 on bad input or a job that could not complete (the message names
the file, column or row), 2 for bad flags (argparse).
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def _positive(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _port(s: str) -> int:
    v = _positive(s)
    if v > 65535:
        raise argparse.ArgumentTypeError(f"port {v} is above 65535")
    return v


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m fusedrnn.ray", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("score", help="batch scoring on Ray Data (resumable)")
    s.add_argument("--input", required=True, help="directory of .parquet / .tok files")
    s.add_argument("--model", required=True, help="model file (.safetensors, .h5, .keras)")
    s.add_argument("--output", required=True, help="output directory (Parquet: id, prob)")
    s.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS or local)")
    s.add_argument("--word-index", help="imdb_word_index.json (for a text column)")
    s.add_argument("--id-column", default="id", help="key column (default: id)")
    s.add_argument("--ids-column", default="ids", help="list<int32> id column (default: ids)")
    s.add_argument("--text-column", default="text", help="raw text column (default: text)")
    s.add_argument("--split", default="test", help="split of .tok inputs (default: test)")
    s.add_argument("--actors", type=_positive, help="actor pool size (default: CPUs)")
    s.add_argument("--cpus-per-actor", type=_positive, default=1)
    s.add_argument("--shard-rows", type=_positive, default=50_000, help="rows per output file")
    s.add_argument("--max-attempts", type=_positive, default=5)

    v = sub.add_parser("serve", help="online scoring on Ray Serve (blocks until interrupted)")
    v.add_argument("--model", required=True)
    v.add_argument("--word-index", required=True)
    v.add_argument("--port", type=_port, default=8000)
    v.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS or local)")
    v.add_argument("--replicas", type=_positive, default=1)
    v.add_argument("--max-batch-size", type=_positive, default=64)
    v.add_argument("--batch-wait-ms", type=float, default=2.0)
    v.add_argument("--max-body-bytes", type=_positive, default=1 << 20)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.cmd == "score":
        from ._score import ScoreError, score

        try:
            score(
                args.input,
                args.model,
                args.output,
                word_index=args.word_index,
                id_column=args.id_column,
                ids_column=args.ids_column,
                text_column=args.text_column,
                split=args.split,
                address=args.address,
                actors=args.actors,
                cpus_per_actor=args.cpus_per_actor,
                shard_rows=args.shard_rows,
                max_attempts=args.max_attempts,
            )
        except ScoreError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        return 0
    from ._serve import ServeError, serve_forever

    try:
        serve_forever(
            args.model,
            args.word_index,
            port=args.port,
            address=args.address,
            replicas=args.replicas,
            max_batch_size=args.max_batch_size,
            batch_wait_ms=args.batch_wait_ms,
            max_body_bytes=args.max_body_bytes,
        )
    except ServeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
