#!/usr/bin/env python3
"""Scores movie reviews with fusedrnn's C API through ctypes (standard library only).

    python3 examples/python/score.py MODEL.safetensors WORD_INDEX.json "review text" ...
    python3 examples/python/score.py MODEL.safetensors WORD_INDEX.json < reviews.txt

Prints one probability per review, one per line. The library is `--lib PATH`, else
$FUSEDRNN_LIB, else target/release/libfusedrnn_c.so of this repository
(`cargo build --release -p fusedrnn-capi`).
"""

import argparse
import ctypes
import os
import sys
from pathlib import Path

FUSEDRNN_OK = 0


class FusedrnnError(Exception):
    """A fusedrnn call failed: `status` is its fusedrnn_status code."""

    def __init__(self, status, message):
        super().__init__(f"{message} (fusedrnn_status {status})")
        self.status = status


class Fusedrnn:
    """The C API's functions, typed for ctypes."""

    def __init__(self, path):
        lib = ctypes.CDLL(str(path))
        c_model_p = ctypes.c_void_p
        lib.fusedrnn_last_error.restype = ctypes.c_char_p
        lib.fusedrnn_last_error.argtypes = []
        lib.fusedrnn_version.restype = ctypes.c_char_p
        lib.fusedrnn_version.argtypes = []
        lib.fusedrnn_model_open.restype = ctypes.c_int
        lib.fusedrnn_model_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(c_model_p)]
        lib.fusedrnn_model_free.restype = None
        lib.fusedrnn_model_free.argtypes = [c_model_p]
        lib.fusedrnn_score_text.restype = ctypes.c_int
        lib.fusedrnn_score_text.argtypes = [c_model_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_float)]
        lib.fusedrnn_score_ids.restype = ctypes.c_int
        lib.fusedrnn_score_ids.argtypes = [c_model_p, ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t, ctypes.POINTER(ctypes.c_float)]
        self.lib = lib

    def check(self, status):
        if status != FUSEDRNN_OK:
            raise FusedrnnError(status, self.lib.fusedrnn_last_error().decode("utf-8", "replace"))


class Model:
    """An open model (weights + word index); `score(text)` is the review's probability."""

    def __init__(self, api, model_path, word_index_path):
        self.api = api
        self.handle = ctypes.c_void_p()
        api.check(api.lib.fusedrnn_model_open(os.fsencode(model_path), os.fsencode(word_index_path), ctypes.byref(self.handle)))
        self._prob = ctypes.c_float()

    def score(self, text):
        data = text.encode("utf-8")
        self.api.check(self.api.lib.fusedrnn_score_text(self.handle, data, len(data), ctypes.byref(self._prob)))
        return self._prob.value

    def score_ids(self, ids):
        arr = (ctypes.c_int32 * len(ids))(*ids)
        self.api.check(self.api.lib.fusedrnn_score_ids(self.handle, arr, len(ids), ctypes.byref(self._prob)))
        return self._prob.value

    def close(self):
        if self.handle:
            self.api.lib.fusedrnn_model_free(self.handle)
            self.handle = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def default_lib():
    if os.environ.get("FUSEDRNN_LIB"):
        return Path(os.environ["FUSEDRNN_LIB"])
    return Path(__file__).resolve().parents[2] / "target" / "release" / "libfusedrnn_c.so"


def main():
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
            lines = (raw.rstrip(b"\r\n").decode("utf-8", "replace") for raw in sys.stdin.buffer)
            texts = args.texts or lines
            for text in texts:
                # %.9g round-trips the float32 exactly.
                print(f"{model.score(text):.9g}", flush=True)
    except FusedrnnError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.status
    return 0


if __name__ == "__main__":
    sys.exit(main())
