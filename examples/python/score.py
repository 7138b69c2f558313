#!/usr/bin/env python3
"""Scores movie reviews with fusedrnn's C API through ctypes (standard library only).

    python3 examples/python/score.py MODEL.safetensors WORD_INDEX.json "review text" ...
    python3 examples/python/score.py MODEL.safetensors WORD_INDEX.json < reviews.txt

Prints one probability per review, one per line. The library is `--lib PATH`, else
$FUSEDRNN_LIB, else target/release/libfusedrnn_c.so of this repository
(`cargo build --release -p fusedrnn-capi`). Bytes that are not UTF-8, in arguments or on stdin,
become U+FFFD (a word separator), as `fusedrnn predict --stdin` does; a reader that goes away
(`| head`) ends the program quietly.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Self

FUSEDRNN_OK = 0


class FusedrnnError(Exception):
    """A fusedrnn call failed: `status` is its fusedrnn_status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{message} (fusedrnn_status {status})")
        self.status = status


class Fusedrnn:
    """The C API's functions, typed for ctypes."""

    def __init__(self, path: Path) -> None:
        lib = ctypes.CDLL(str(path))
        c_model_p = ctypes.c_void_p
        lib.fusedrnn_last_error.restype = ctypes.c_char_p
        lib.fusedrnn_last_error.argtypes = []
        lib.fusedrnn_version.restype = ctypes.c_char_p
        lib.fusedrnn_version.argtypes = []
        lib.fusedrnn_model_open.restype = ctypes.c_int
        lib.fusedrnn_model_open.argtypes = [
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.POINTER(c_model_p),
        ]
        lib.fusedrnn_model_free.restype = None
        lib.fusedrnn_model_free.argtypes = [c_model_p]
        lib.fusedrnn_score_text.restype = ctypes.c_int
        lib.fusedrnn_score_text.argtypes = [
            c_model_p,
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.POINTER(ctypes.c_float),
        ]
        lib.fusedrnn_score_ids.restype = ctypes.c_int
        lib.fusedrnn_score_ids.argtypes = [
            c_model_p,
            ctypes.POINTER(ctypes.c_int32),
            ctypes.c_size_t,
            ctypes.POINTER(ctypes.c_float),
        ]
        self.lib = lib

    def check(self, status: int) -> None:
        """Raises `FusedrnnError` with the library's message unless `status` is FUSEDRNN_OK."""
        if status != FUSEDRNN_OK:
            raise FusedrnnError(
                status, self.lib.fusedrnn_last_error().decode("utf-8", "replace")
            )


class Model:
    """An open model (weights + word index); `score(text)` is the review's probability."""

    def __init__(self, api: Fusedrnn, model_path: str, word_index_path: str) -> None:
        self.api = api
        self.handle = ctypes.c_void_p()
        api.check(
            api.lib.fusedrnn_model_open(
                os.fsencode(model_path),
                os.fsencode(word_index_path),
                ctypes.byref(self.handle),
            )
        )
        self._prob = ctypes.c_float()

    def score(self, text: str) -> float:
        """The probability that the review `text` is positive."""
        data = text.encode("utf-8")
        self.api.check(
            self.api.lib.fusedrnn_score_text(
                self.handle, data, len(data), ctypes.byref(self._prob)
            )
        )
        return self._prob.value

    def score_ids(self, ids: list[int]) -> float:
        """The probability for a review given as token ids (start char 1 first)."""
        arr = (ctypes.c_int32 * len(ids))(*ids)
        self.api.check(
            self.api.lib.fusedrnn_score_ids(
                self.handle, arr, len(ids), ctypes.byref(self._prob)
            )
        )
        return self._prob.value

    def close(self) -> None:
        """Releases the model (idempotent)."""
        if self.handle:
            self.api.lib.fusedrnn_model_free(self.handle)
            self.handle = ctypes.c_void_p()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_lib() -> Path:
    """$FUSEDRNN_LIB, else this repository's target/release/libfusedrnn_c.so."""
    if os.environ.get("FUSEDRNN_LIB"):
        return Path(os.environ["FUSEDRNN_LIB"])
    return (
        Path(__file__).resolve().parents[2] / "target" / "release" / "libfusedrnn_c.so"
    )


def from_argument(arg: str) -> str:
    """An argument as text: bytes that are not UTF-8 (which Python keeps as lone surrogates,
    unencodable) become U+FFFD, instead of a UnicodeEncodeError traceback."""
    return os.fsencode(arg).decode("utf-8", "replace")


def main() -> int:
    """Runs the command line; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("word_index")
    ap.add_argument("texts", nargs="*", help="reviews (default: one per line of stdin)")
    ap.add_argument("--lib", type=Path, default=None, help="path to libfusedrnn_c.so")
    args = ap.parse_args()
    api = Fusedrnn(args.lib or default_lib())
    try:
        with Model(api, args.model, args.word_index) as model:
            # Bytes, not text mode: UTF-8 whatever the locale, and a lone "\r" is not a line end.
            lines = (
                raw.rstrip(b"\r\n").decode("utf-8", "replace")
                for raw in sys.stdin.buffer
            )
            texts: Iterable[str] = [from_argument(t) for t in args.texts] or lines
            for text in texts:
                # %.9g round-trips the float32 exactly.
                print(f"{model.score(text):.9g}", flush=True)
    except FusedrnnError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.status
    except BrokenPipeError:
        # The reader went away: it has what it wanted. Point stdout at /dev/null so that the
        # interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
