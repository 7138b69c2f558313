"""Text and streaming sessions for any shape (issue 14): ``predict_text`` and ``session`` on the
real Keras fixtures of other shapes (LSTM(32) length 200, GRU(16) of both forms, one-hot
SimpleRNN(64) length 50) give Keras' probabilities and whole-review scoring's; bad input raises
``ValueError`` / ``OSError`` and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np
import pytest
from conftest import ROOT, need

import fusedrnn

NET = ROOT / "tests" / "fixtures" / "net"
WORD_INDEX = ROOT / "tests" / "fixtures" / "text" / "word_index.json"
KERAS_TOL = 1e-5  # DESIGN.md's bound against Keras' probabilities
SAME_TOL = 1e-6  # the brief's bound between stepping a session and scoring the review

MODELS = ["lstm32.keras", "gru16.h5", "gru16v1.keras", "rnn64.keras"]


def fixture(name: str) -> Path:
    return need(NET / name)


def rows_and_probs(file: str):
    stem = file.split(".")[0]
    x = np.load(fixture(f"{stem}.tokens.npy"))
    p = np.load(fixture(f"{stem}.probs.npy"))
    return x, p


def padded(ids: List[int], seq_len: int) -> np.ndarray:
    """``pad_sequences([ids], maxlen=seq_len)`` (pre-padding, pre-truncating)."""
    kept = ids[-seq_len:]
    row = np.zeros((1, seq_len), np.int64)
    row[0, seq_len - len(kept) :] = kept
    return row


@pytest.mark.parametrize("file", MODELS)
def test_a_session_fed_a_row_gives_keras_and_predict(file: str) -> None:
    m = fusedrnn.load_model(fixture(file))
    x, want = rows_and_probs(file)
    assert x.shape[1] == m.seq_len
    s = m.session(need(WORD_INDEX))
    worst = 0.0
    for r in range(5):
        row = [int(t) for t in x[r]]
        s.reset()
        # After the start char, a whole row leaves exactly that row in the window.
        s.push_ids(row)
        p, running = s.prob(), s.running_prob()
        assert abs(p - want[r]) < KERAS_TOL, (file, r, p, want[r])
        worst = max(worst, abs(p - want[r]))
        assert abs(p - float(m.predict(x[r : r + 1])[0, 0])) <= SAME_TOL
        # Stepped one id at a time: the same.
        s.reset()
        for t in row:
            s.push_ids([t])
        assert s.prob() == p
        # The running state too: one call steps its ids together, bit for bit as one a call.
        assert s.running_prob() == running
        assert s.n_ids == 1 + len(row)
    print(f"{file}: worst |session - Keras| {worst:.2e}")


@pytest.mark.parametrize("file", MODELS)
def test_running_prob_steps_from_zeros_without_pads(file: str) -> None:
    m = fusedrnn.load_model(fixture(file))
    x, _ = rows_and_probs(file)
    s = m.session(need(WORD_INDEX))
    # The start char and seq_len - 1 ids are exactly one row: no pads, no truncation.
    ids = [int(t) for t in x[1, 1:]]
    s.push_ids(ids)
    whole = float(m.predict(np.array([[1] + ids], np.int64))[0, 0])
    assert abs(s.running_prob() - whole) <= SAME_TOL
    assert abs(s.prob() - whole) <= SAME_TOL


@pytest.mark.parametrize("file", MODELS)
def test_predict_text_and_chunked_sessions_agree_with_padded_ids(file: str) -> None:
    m = fusedrnn.load_model(fixture(file))
    n = m.seq_len
    index = {"good": 1, "bad": 2, "film": 7}
    texts = [
        "Good film, BAD film.",
        "",
        "good " * (n + 10),  # longer than the model's length: the last n ids are kept
        "unknownword film's good",
    ]
    got = m.predict_text(texts, index)
    assert got.shape == (len(texts), 1) and got.dtype == np.float32
    ids = {"good": 4, "bad": 5, "film": 10}
    want_ids = [
        [1, ids["good"], ids["film"], ids["bad"], ids["film"]],
        [1],
        [1] + [ids["good"]] * (n + 10),
        [1, 2, 2, ids["good"]],  # unknown words are the oov id 2 ("film's" is not "film")
    ]
    for text, p, w in zip(texts, got[:, 0], want_ids):
        q = float(m.predict(padded(w, n))[0, 0])
        assert abs(float(p) - q) <= SAME_TOL, (file, text[:20])
        s = m.session(index)
        for k in range(0, len(text), 3):
            s.push_text(text[k : k + 3])
        assert s.prob() == pytest.approx(float(p), abs=SAME_TOL)
    # A single str is one review.
    assert m.predict_text("Good film", index).shape == (1, 1)


def test_bad_ids_and_word_indexes_raise_and_change_nothing(tmp_path: Path) -> None:
    m = fusedrnn.load_model(fixture("lstm32.keras"))
    s = m.session(need(WORD_INDEX))
    s.push_text("a fine film")
    before, n_ids = s.prob(), s.n_ids
    for ids, needle in [
        ([5, 5000], "5000"),
        ([-1], "-1"),
        ([3, 2**40], str(2**40)),
    ]:
        with pytest.raises(ValueError, match=needle):
            s.push_ids(ids)
        assert (s.prob(), s.n_ids) == (before, n_ids), ids
    with pytest.raises(OSError):
        m.session(tmp_path / "missing.json")
    with pytest.raises(TypeError):
        m.predict_text(["x"], 42)  # type: ignore[arg-type]
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError):
        m.session(bad)
    with pytest.raises(ValueError, match="rank"):
        m.predict_text(["x"], {"x": -3})
