"""predict_text, predict on one review and the session equal the C API's results (ctypes)."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SHARED, built, need

import fusedrnn

MODEL = ROOT / "tests" / "fixtures" / "parity" / "lstm.safetensors"
TEXTS = [
    "One of the best films I have seen.<br />Go!",
    "Dull, dull, dull. Awful acting and a plot that makes no sense at all.",
    "",
    "it's a 10/10 - the director's finest",
]


def capi() -> ctypes.CDLL:
    """libfusedrnn_c from this repository's build (``scripts/test-all``'s ``cargo test``)."""
    lib = ctypes.CDLL(str(built("libfusedrnn_c.so")))
    p = ctypes.c_void_p
    f32 = ctypes.POINTER(ctypes.c_float)
    i32 = ctypes.POINTER(ctypes.c_int32)
    lib.fusedrnn_model_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(p)]
    lib.fusedrnn_model_free.argtypes = [p]
    lib.fusedrnn_score_text.argtypes = [p, ctypes.c_char_p, ctypes.c_size_t, f32]
    lib.fusedrnn_score_ids.argtypes = [p, i32, ctypes.c_size_t, f32]
    lib.fusedrnn_session_new.argtypes = [p, ctypes.POINTER(p)]
    lib.fusedrnn_session_free.argtypes = [p]
    lib.fusedrnn_session_push_text.argtypes = [p, ctypes.c_char_p, ctypes.c_size_t]
    lib.fusedrnn_session_push_ids.argtypes = [p, i32, ctypes.c_size_t]
    lib.fusedrnn_session_prob.argtypes = [p, f32]
    return lib


def ok(status: int) -> None:
    assert status == 0, status


def test_text_ids_and_session_equal_the_c_api(tmp_path: Path) -> None:
    word_index = need(SHARED / "imdb_word_index.json")
    lib = capi()
    handle = ctypes.c_void_p()
    ok(
        lib.fusedrnn_model_open(
            os.fsencode(need(MODEL)), os.fsencode(word_index), ctypes.byref(handle)
        )
    )
    model = fusedrnn.load_model(MODEL)
    prob = ctypes.c_float()
    try:
        got = model.predict_text(TEXTS, word_index)[:, 0]
        for text, g in zip(TEXTS, got):
            data = text.encode()
            ok(lib.fusedrnn_score_text(handle, data, len(data), ctypes.byref(prob)))
            assert g == prob.value, text

        ids = np.array([1 + (i * 37) % 400 for i in range(100)], dtype=np.int32)
        ok(
            lib.fusedrnn_score_ids(
                handle, ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), 100, ctypes.byref(prob)
            )
        )
        assert model.predict(ids[None, :])[0, 0] == prob.value

        session = ctypes.c_void_p()
        ok(lib.fusedrnn_session_new(handle, ctypes.byref(session)))
        try:
            ours = model.session(word_index)
            pieces = ["One of the be", "st films I have se", "en.<br />Go!"]
            for piece in pieces:
                data = piece.encode()
                ok(lib.fusedrnn_session_push_text(session, data, len(data)))
                ours.push_text(piece)
                ok(lib.fusedrnn_session_prob(session, ctypes.byref(prob)))
                assert ours.prob() == prob.value, piece
            extra = np.array([14, 22, 16], dtype=np.int32)
            ok(
                lib.fusedrnn_session_push_ids(
                    session, extra.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), 3
                )
            )
            ours.push_ids(extra.tolist())
            ok(lib.fusedrnn_session_prob(session, ctypes.byref(prob)))
            assert ours.prob() == prob.value
        finally:
            lib.fusedrnn_session_free(session)
    finally:
        lib.fusedrnn_model_free(handle)


def test_predict_text_refuses_a_bad_word_index(tmp_path: Path) -> None:
    model = fusedrnn.load_model(need(MODEL))
    bad = tmp_path / "wi.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="wi.json"):
        model.predict_text(["x"], bad)
    with pytest.raises(OSError, match="absent.json"):
        model.predict_text(["x"], tmp_path / "absent.json")
    with pytest.raises(TypeError):
        model.predict_text(["x"], 42)  # type: ignore[arg-type]
