"""TokFile: zero-copy, read-only views of a packed token file; text and streaming sessions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SHARED, built, need

import fusedrnn
from fusedrnn import layers
from fusedrnn.datasets import imdb


def write_tok(tmp_path: Path) -> Path:
    """A small token file from the synthetic corpus, packed by the Python pipeline's Rust twin."""
    npz = tmp_path / "synth.npz"
    imdb.write_synthetic_npz(str(npz), train=300, test=200)
    exe = built("imdb-pack")
    tok = tmp_path / "imdb.tok"
    subprocess.run(
        [str(exe), "--npz", str(npz), "--out", str(tok)], check=True, capture_output=True
    )
    return tok


def test_tokfile_views_are_zero_copy_read_only_and_equal_the_python_pipeline(
    tmp_path: Path,
) -> None:
    tok = write_tok(tmp_path)
    f = fusedrnn.TokFile(tok)
    assert (f.num_words, f.seq_len) == (500, 100)
    train, val, test = f.train, f.val, f.test
    assert train.tokens.dtype == np.uint16 and train.tokens.shape == (240, 100)
    assert len(val.labels) == 60 and len(test.lengths) == 200
    for a in (train.tokens, train.labels, train.lengths):
        assert not a.flags.writeable and not a.flags.owndata
        with pytest.raises(ValueError):
            a[0] = 1
    # Two reads view the same memory (no copy per access).
    assert np.shares_memory(f.test.tokens, f.test.tokens)
    # The same numbers as load_data → train_test_split → pad_sequences in Python.
    (x, y), (xt, yt) = imdb.load_data(path=str(tmp_path / "synth.npz"), num_words=500)
    xtr, xv, ytr, yv = fusedrnn.train_test_split(x, y, test_size=0.2, random_state=42)
    np.testing.assert_array_equal(train.tokens, fusedrnn.pad_sequences(xtr, maxlen=100))
    np.testing.assert_array_equal(val.labels, yv)
    np.testing.assert_array_equal(test.tokens, fusedrnn.pad_sequences(xt, maxlen=100))
    # The views feed the model directly, and keep the file alive after the TokFile is gone.
    m = fusedrnn.Sequential(
        [layers.Embedding(500, 16), layers.LSTM(8), layers.Dense(1, activation="sigmoid")]
    )
    tokens = test.tokens
    del f, train, val, test
    np.testing.assert_array_equal(m.predict(tokens), m.predict(np.array(tokens, np.int64)))


def test_a_version_2_tokfile_gives_uint32_views_equal_to_load_data_num_words_none(
    tmp_path: Path,
) -> None:
    """`imdb-pack --num-words none` on data whose ids exceed u16 writes u32 ids (version 2)."""
    npz = need(ROOT / "data-tools" / "tests" / "fixtures" / "small_p4_deflated.npz")
    exe = built("imdb-pack")
    tok = tmp_path / "wide.tok"
    subprocess.run(
        [str(exe), "--npz", str(npz), "--out", str(tok), "--num-words", "none"],
        check=True,
        capture_output=True,
    )
    f = fusedrnn.TokFile(tok)
    assert f.version == 2 and f.num_words == 100003 and f.params["num_words"] == 100003
    train, test = f.train, f.test
    assert train.tokens.dtype == np.uint32 and not train.tokens.flags.writeable
    assert int(test.tokens.max()) > 65535
    (x, y), (xt, yt) = imdb.load_data(path=str(npz), num_words=None)
    xtr, _, _, _ = fusedrnn.train_test_split(x, y, test_size=0.2, random_state=42)
    np.testing.assert_array_equal(train.tokens, fusedrnn.pad_sequences(xtr, maxlen=100))
    np.testing.assert_array_equal(test.tokens, fusedrnn.pad_sequences(xt, maxlen=100))
    np.testing.assert_array_equal(test.labels, yt)
    # A model of 5,000 words scores the rows whose ids fit (all but the few holding the large
    # ranks), as the same ids in int64, and names the first id that does not.
    m = fusedrnn.Sequential(
        [layers.Embedding(5000, 16), layers.LSTM(8), layers.Dense(1, activation="sigmoid")]
    )
    fits = [i for i in range(len(test.tokens)) if int(test.tokens[i].max()) < 5000]
    assert 80 <= len(fits) < len(test.tokens)
    np.testing.assert_array_equal(
        m.predict(test.tokens[fits]), m.predict(test.tokens[fits].astype(np.int64))
    )
    with pytest.raises(ValueError, match="outside the model's vocabulary"):
        m.predict(test.tokens)


def test_corrupt_tokfile_is_a_clear_error(tmp_path: Path) -> None:
    tok = write_tok(tmp_path)
    data = bytearray(tok.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.tok"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="bad.tok"):
        fusedrnn.TokFile(bad)
    with pytest.raises(OSError, match="missing.tok"):
        fusedrnn.TokFile(tmp_path / "missing.tok")
    with pytest.raises(ValueError, match="split"):
        fusedrnn.TokFile(tok).split("dev")


def test_predict_text_and_session_agree(shared_word_index: Path) -> None:
    m = fusedrnn.load_model(need(ROOT / "tests" / "fixtures" / "parity" / "lstm.safetensors"))
    texts = ["One of the best films I have seen.<br />Go!", "Dull, dull, dull. Awful acting."]
    probs = m.predict_text(texts, shared_word_index)
    assert probs.shape == (2, 1) and probs.dtype == np.float32
    index = json.loads(shared_word_index.read_text())
    np.testing.assert_array_equal(m.predict_text(texts, index), probs)  # dict == path
    # The session sees the text in pieces, split anywhere, and gives the same probability.
    s = m.session(shared_word_index)
    for piece in ["One of the be", "st films I have se", "en.<br />Go!"]:
        s.push_text(piece)
    assert s.prob() == pytest.approx(float(probs[0, 0]), abs=1e-6)
    s.reset()
    s.push_ids([14, 22])
    assert s.n_ids == 3
    with pytest.raises(ValueError, match="vocabulary"):
        s.push_ids([500])
    # A refused call appends nothing, not even the good ids before the bad one (as the C API).
    before = s.prob()
    with pytest.raises(ValueError, match=r"ids\[2\] = 500"):
        s.push_ids([14, 22, 500])
    assert s.n_ids == 3 and s.prob() == before
    # The ids path: the tokens the text would give, padded, through predict.
    assert 0.0 < s.prob() < 1.0
    # Many ids in one call step together (the state kept in registers), bit for bit as one a call.
    ids = [k * 37 % 500 for k in range(1, 131)]
    s.reset()
    s.push_ids(ids)
    together = (s.running_prob(), s.prob(), s.n_ids)
    s.reset()
    for t in ids:
        s.push_ids([t])
    assert (s.running_prob(), s.prob(), s.n_ids) == together


def test_shared_data_is_where_ci_has_it() -> None:
    need(SHARED / "imdb.npz")
