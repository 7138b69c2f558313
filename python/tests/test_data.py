"""load_data, train_test_split and pad_sequences against goldens from real Keras / sklearn."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA_FIXTURES, PY_FIXTURES, in_ci, need

import fusedrnn
from fusedrnn.datasets import imdb

CASES = sorted(DATA_FIXTURES.glob("expected_*.json"))


def _pipeline(case: dict, npz: Path):
    """The notebook's preprocessing through the Python API, for one fixture case."""
    p = case["params"]
    (x_train, y_train), (x_test, y_test) = imdb.load_data(
        path=str(npz),
        num_words=p["num_words"],
        skip_top=p["skip_top"],
        seed=p["seed"],
        start_char=p["start_char"],
        oov_char=p["oov_char"],
        index_from=p["index_from"],
    )
    if p["val_split"] > 0:
        x_tr, x_val, y_tr, y_val = fusedrnn.train_test_split(
            x_train, y_train, test_size=p["val_split"], random_state=p["split_seed"]
        )
    else:
        x_tr, y_tr = x_train, y_train
        x_val, y_val = np.empty(0, dtype=object), np.empty(0, dtype=np.int64)

    def pad(x):
        return fusedrnn.pad_sequences(
            x, maxlen=p["maxlen"], padding=p["padding"], truncating=p["truncating"]
        )

    return {
        "train": (x_tr, pad(x_tr), y_tr),
        "val": (x_val, pad(x_val) if len(x_val) else np.zeros((0, p["maxlen"]), np.int32), y_val),
        "test": (x_test, pad(x_test), y_test),
    }


@pytest.mark.parametrize("case_path", CASES, ids=[c.stem for c in CASES])
def test_load_split_pad_equal_keras_and_sklearn(case_path: Path) -> None:
    case = json.loads(case_path.read_text())
    npz = need(DATA_FIXTURES / case["npz"])
    got = _pipeline(case, npz)
    for name, want in case["splits"].items():
        raw, padded, labels = got[name]
        assert padded.dtype == np.int32
        np.testing.assert_array_equal(
            padded.reshape(-1, case["params"]["maxlen"]),
            np.asarray(want["tokens"]).reshape(padded.shape),
        )
        np.testing.assert_array_equal(labels, want["labels"])
        assert [len(r) for r in raw] == want["lengths"], name


def test_load_data_returns_keras_types(tmp_path: Path) -> None:
    npz = need(DATA_FIXTURES / "small_p4_deflated.npz")
    (x_train, y_train), (x_test, y_test) = imdb.load_data(path=str(npz), num_words=500)
    assert x_train.dtype == object and isinstance(x_train[0], list)
    assert all(isinstance(v, int) for v in x_train[0])
    assert y_train.dtype == np.int64 and set(np.unique(y_train)) <= {0, 1}
    assert x_train[0][0] == 1  # start_char


def test_load_data_maxlen_keeps_only_shorter_reviews() -> None:
    npz = need(DATA_FIXTURES / "small_p4_deflated.npz")
    # num_words fixed: with None, Keras takes the largest id of the *kept* reviews.
    (full, _), _ = imdb.load_data(path=str(npz), num_words=500)
    (x, y), _ = imdb.load_data(path=str(npz), num_words=500, maxlen=50)
    assert 0 < len(x) < len(full)
    assert all(len(r) < 50 for r in x)
    assert len(x) == len(y)
    # The kept reviews are those of the unfiltered result, in the same order.
    assert [r for r in full if len(r) < 50] == list(x)


def test_load_data_says_where_it_looked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("FUSEDRNN_IMDB_NPZ", str(tmp_path / "nowhere.npz"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as e:
        imdb.load_data()
    msg = str(e.value)
    assert "nowhere.npz" in msg and ".keras/datasets/imdb.npz" in msg
    assert "shared/data/imdb.npz" in msg and "never downloads" in msg


def test_corrupt_npz_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "imdb.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="imdb.npz"):
        imdb.load_data(path=str(bad))
    with pytest.raises(OSError):
        imdb.load_data(path=str(tmp_path / "sub" / "missing.npz"))


def test_synthetic_corpus_loads(tmp_path: Path) -> None:
    path = tmp_path / "synth.npz"
    imdb.write_synthetic_npz(str(path), train=300, test=200)
    (x, y), (xt, yt) = imdb.load_data(path=str(path), num_words=500)
    assert (len(x), len(xt)) == (300, 200)
    assert max(max(r) for r in x) < 500


def test_get_word_index_finds_the_shared_index(
    shared_word_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUSEDRNN_IMDB_WORD_INDEX", str(shared_word_index))
    index = imdb.get_word_index()
    assert index["the"] == 1 and len(index) > 80000


# ---- goldens for the Python surface (python/tests/fixtures/gen_goldens.py) ----

GOLDENS = json.loads((PY_FIXTURES / "goldens.json").read_text())


@pytest.mark.parametrize("i", range(len(GOLDENS["pad_sequences"])))
def test_pad_sequences_equals_keras(i: int) -> None:
    case = GOLDENS["pad_sequences"][i]
    got = fusedrnn.pad_sequences(case["sequences"], **case["kwargs"])
    want = np.asarray(case["result"], dtype=case["dtype"])
    assert got.dtype == want.dtype, case["kwargs"]
    np.testing.assert_array_equal(got, want.reshape(got.shape))


@pytest.mark.parametrize("i", range(len(GOLDENS["train_test_split"])))
def test_train_test_split_equals_sklearn(i: int) -> None:
    case = GOLDENS["train_test_split"][i]
    x = np.arange(case["n"]) * 10
    y = np.arange(case["n"]) % 2
    got = fusedrnn.train_test_split(x, y, **case["kwargs"])
    for g, w in zip(got, case["result"]):
        np.testing.assert_array_equal(g, w)


def test_train_test_split_keeps_lists_and_refuses_bad_sizes() -> None:
    a, b = fusedrnn.train_test_split([[1], [2, 3], [4]], test_size=1, random_state=0)
    assert isinstance(a, list) and len(a) == 2 and len(b) == 1
    with pytest.raises(ValueError, match="test_size"):
        fusedrnn.train_test_split(np.arange(5), test_size=5)
    with pytest.raises(ValueError, match="inconsistent"):
        fusedrnn.train_test_split(np.arange(5), np.arange(4))


def test_pad_sequences_refuses_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match="integer"):
        fusedrnn.pad_sequences([[1, 2]], dtype="float32")
    with pytest.raises(ValueError, match="Padding type"):
        fusedrnn.pad_sequences([[1, 2]], padding="middle")
    with pytest.raises(OverflowError):
        fusedrnn.pad_sequences([[300]], dtype="uint8")


def test_goldens_record_their_generator() -> None:
    assert "sklearn" in GOLDENS["versions"] and "keras" in GOLDENS["versions"]
    assert os.path.exists(PY_FIXTURES / "gen_goldens.py")


def test_pad_sequences_hostile_maxlen_is_a_memory_error_not_a_crash() -> None:
    with pytest.raises(MemoryError):
        fusedrnn.pad_sequences([[1, 2]], maxlen=2**62)


def test_shared_imdb_equals_real_keras_and_sklearn(shared_npz: Path) -> None:
    """The notebook's preprocessing of the real imdb.npz through the Python API gives the
    sha256s real Keras 3.15.1 + scikit-learn 1.9.1 gave (data-tools' fixture)."""
    import hashlib

    want = json.loads((DATA_FIXTURES / "shared_imdb_expected.json").read_text())
    if hashlib.sha256(shared_npz.read_bytes()).hexdigest() != want["npz_sha256"]:
        reason = "a different imdb.npz than the fixture's"
        if in_ci():
            pytest.fail(f"{reason} (CI=true: a skip is a failure)")
        pytest.skip(reason)
    (x, y), (xt, yt) = imdb.load_data(path=str(shared_npz), num_words=500)
    xtr, xv, ytr, yv = fusedrnn.train_test_split(x, y, test_size=0.2, random_state=42)
    for name, rows, labels in (("train", xtr, ytr), ("val", xv, yv), ("test", xt, yt)):
        padded = fusedrnn.pad_sequences(rows, maxlen=100)
        split = want["splits"][name]
        assert len(padded) == split["count"]
        sha = hashlib.sha256(padded.astype("<u2").tobytes()).hexdigest()
        assert sha == split["tokens_sha256"], name
        assert hashlib.sha256(labels.astype("u1").tobytes()).hexdigest() == split["labels_sha256"]
        lengths = np.array([len(r) for r in rows], dtype="<u4")
        assert hashlib.sha256(lengths.tobytes()).hexdigest() == split["lengths_sha256"]
