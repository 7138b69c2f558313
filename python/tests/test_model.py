"""The Keras-shaped model: stacks, weights, probabilities against real Keras, input rules."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import KERAS_FIXTURES, need

import fusedrnn
from fusedrnn import Sequential, _native, layers

KERAS = json.loads(need(KERAS_FIXTURES / "keras_import.json").read_text())
TOL = KERAS["tolerance"]  # 1e-5: DESIGN.md's bound against Keras' probabilities

# Keras' get_weights() shapes for the fixtures' vocabulary of 100.
SHAPES = {
    "lstm": [(100, 16), (16, 32), (8, 32), (32,), (8, 1), (1,)],
    "rnn": [(100, 16), (16, 8), (8, 8), (8,), (8, 1), (1,)],
    "rnn-onehot": [(100, 8), (8, 8), (8,), (8, 1), (1,)],
}


def tokens() -> np.ndarray:
    return np.load(need(KERAS_FIXTURES / "tokens.npy"))


def lstm(vocab: int = 500, **kw) -> Sequential:
    m = Sequential(
        [layers.Embedding(vocab, 16), layers.LSTM(8, **kw), layers.Dense(1, activation="sigmoid")]
    )
    m.compile(
        optimizer=fusedrnn.optimizers.RMSprop(learning_rate=1e-4),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return m


@pytest.mark.parametrize("arch", ["lstm", "rnn", "rnn-onehot"])
@pytest.mark.parametrize("fmt", ["keras", "h5", "tf2"])
def test_keras_files_predict_keras_probabilities(arch: str, fmt: str) -> None:
    spec = KERAS["archs"][arch]
    model = fusedrnn.load_model(need(KERAS_FIXTURES / spec["files"][fmt]))
    assert model.arch == arch
    got = model.predict(tokens())
    assert got.dtype == np.float32 and got.shape == (len(spec["keras"]), 1)
    np.testing.assert_allclose(got[:, 0], spec["keras"], atol=TOL, rtol=0)
    assert [w.shape for w in model.get_weights()] == SHAPES[arch]


@pytest.mark.parametrize("arch", ["lstm", "rnn", "rnn-onehot"])
def test_torch_safetensors_and_weight_round_trip(arch: str, tmp_path: Path) -> None:
    spec = KERAS["archs"][arch]
    model = fusedrnn.load_model(need(KERAS_FIXTURES / spec["torch_file"]))
    np.testing.assert_allclose(model.predict(tokens())[:, 0], spec["keras"], atol=TOL, rtol=0)
    # get_weights → a fresh model of the same stack → identical predictions (Keras' order/shapes).
    fresh = fusedrnn.load_model(need(KERAS_FIXTURES / KERAS["archs"][arch]["files"]["keras"]))
    fresh.set_weights([np.zeros_like(w) + 0.01 for w in fresh.get_weights()])
    assert not np.allclose(fresh.predict(tokens()), model.predict(tokens()))
    fresh.set_weights(model.get_weights())
    np.testing.assert_array_equal(fresh.predict(tokens()), model.predict(tokens()))
    model.save(tmp_path / "m.safetensors")
    again = fusedrnn.load_model(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(again.predict(tokens()), model.predict(tokens()))


def test_notebook_stacks_build_with_keras_parameter_counts() -> None:
    assert lstm().count_params() == 8809
    rnn = Sequential(
        [layers.Embedding(500, 16), layers.SimpleRNN(8), layers.Dense(1, activation="sigmoid")]
    )
    assert rnn.count_params() == 8209 and rnn.arch == "rnn"
    onehot = Sequential()
    onehot.add(layers.SimpleRNN(8, input_shape=(100, 500)))
    onehot.add(layers.Dense(1, activation="sigmoid"))
    assert onehot.count_params() == 4081 and onehot.arch == "rnn-onehot"
    assert lstm(dropout=0.3)._spec() == ("lstm", 500, 0.3)


@pytest.mark.parametrize(
    "stack, layer_name",
    [
        (
            lambda: [
                layers.Embedding(500, 5000, name="emb"),  # width above 4096
                layers.LSTM(8),
                layers.Dense(1, activation="sigmoid"),
            ],
            "emb",
        ),
        (
            lambda: [
                layers.Embedding(500, 16),
                layers.LSTM(257, name="big"),  # units above 256
                layers.Dense(1, activation="sigmoid"),
            ],
            "big",
        ),
        (
            lambda: [
                layers.Embedding(500, 16),
                layers.GRU(8, recurrent_activation="hard_sigmoid", name="g"),
                layers.Dense(1, activation="sigmoid"),
            ],
            "g",
        ),
        (
            lambda: [
                layers.Embedding(500, 16),
                layers.LSTM(8, return_sequences=True, name="seq"),
                layers.Dense(1, activation="sigmoid"),
            ],
            "seq",
        ),
        (
            lambda: [
                layers.Embedding(500, 16),
                layers.LSTM(8),
                layers.Dense(1, activation="relu", name="head"),
            ],
            "head",
        ),
        (
            lambda: [
                layers.LSTM(8, input_shape=(5000, 500), name="oh"),  # maxlen above 4096
                layers.Dense(1, activation="sigmoid"),
            ],
            "oh",
        ),
        (
            lambda: [
                layers.Embedding(500, 16, mask_zero=True, name="mz"),
                layers.LSTM(8),
                layers.Dense(1, activation="sigmoid"),
            ],
            "mz",
        ),
    ],
)
def test_stacks_we_cannot_compute_name_the_layer(stack, layer_name: str) -> None:
    with pytest.raises(ValueError, match=f"`{layer_name}`"):
        Sequential(stack()).build()


def test_set_weights_refuses_wrong_count_shape_and_nan() -> None:
    m = lstm()
    w = m.get_weights()
    with pytest.raises(ValueError, match="6 weight arrays"):
        m.set_weights(w[:5])
    bad = [a.copy() for a in w]
    bad[1] = np.zeros((16, 31), np.float32)
    with pytest.raises(ValueError, match="lstm.kernel"):
        m.set_weights(bad)
    bad = [a.copy() for a in w]
    bad[2][3, 4] = np.nan
    with pytest.raises(ValueError, match="lstm.recurrent_kernel"):
        m.set_weights(bad)


def test_any_integer_dtype_and_memory_order_give_the_same_probabilities() -> None:
    m = lstm()
    x = np.random.RandomState(0).randint(0, 500, size=(300, 100)).astype(np.int32)
    want = m.predict(x)
    for dt in [np.int64, np.uint16, np.int16, np.uint32, np.uint64, np.int32]:
        np.testing.assert_array_equal(m.predict(x.astype(dt)), want, err_msg=str(dt))
    np.testing.assert_array_equal(m.predict(np.asfortranarray(x)), want)
    wide = np.zeros((300, 200), np.int64)
    wide[:, ::2] = x
    np.testing.assert_array_equal(m.predict(wide[:, ::2]), want)  # strided view
    np.testing.assert_array_equal(m.predict(x.astype(">i4")), want)  # big-endian
    np.testing.assert_array_equal(m.predict(x.tolist()), want)
    # One row takes the latency kernel, which rounds differently from the lane kernel.
    assert abs(float(m.predict(x[:1])[0, 0]) - float(want[0, 0])) < 1e-5


def test_bad_inputs_raise_clear_value_errors() -> None:
    m = lstm()
    x = np.ones((10, 100), np.int32)
    x[7, 42] = 500
    with pytest.raises(ValueError, match="row 7, column 42"):
        m.predict(x)
    x[7, 42] = -3
    with pytest.raises(ValueError, match="-3 at row 7, column 42"):
        m.predict(x)
    with pytest.raises(ValueError, match="100"):
        m.predict(np.ones((2, 99), np.int32))
    with pytest.raises(ValueError, match="2-D"):
        m.predict(np.ones(100, np.int32))
    with pytest.raises(ValueError, match="integers"):
        m.predict(np.array([["a"] * 100]))
    with pytest.raises(ValueError, match="whole numbers"):
        m.predict(np.full((1, 100), 0.5))
    with pytest.raises(ValueError, match="labels"):
        m.evaluate(np.ones((3, 100), np.int32), [0, 1])
    with pytest.raises(ValueError, match="not 0 or 1"):
        m.evaluate(np.ones((2, 100), np.int32), [0, 2])


def test_evaluate_matches_binary_crossentropy_and_accuracy() -> None:
    m = lstm()
    x = np.random.RandomState(1).randint(0, 500, size=(50, 100))
    y = np.random.RandomState(2).randint(0, 2, size=50)
    p = m.predict(x)[:, 0].astype(np.float64)
    pc = np.clip(p, 1e-7, 1 - 1e-7)
    loss = -np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    acc = np.mean((p > 0.5) == y)
    got_loss, got_acc = m.evaluate(x, y)
    assert got_loss == pytest.approx(loss, rel=1e-5)
    assert got_acc == pytest.approx(acc)


def test_one_hot_input_equals_ids() -> None:
    m = Sequential(
        [layers.SimpleRNN(8, input_shape=(100, 50)), layers.Dense(1, activation="sigmoid")]
    )
    ids = np.random.RandomState(3).randint(0, 50, size=(4, 100))
    onehot = np.eye(50, dtype=np.float32)[ids]
    np.testing.assert_array_equal(m.predict(onehot), m.predict(ids))
    onehot[1, 5, :] = 0
    with pytest.raises(ValueError, match=r"x\[1, 5\]"):
        m.predict(onehot)


def test_two_threads_predict_at_once() -> None:
    """The GIL is released in predict: while one thread is inside a long predict, the other
    runs Python (and fusedrnn) — shown by overlap, not by timing. With the GIL held, the main
    thread could not even wake from its sleep until the long predict had returned."""
    m = lstm()
    x = np.random.RandomState(4).randint(0, 500, size=(300_000, 100)).astype(np.int32)
    started = threading.Event()
    done: dict = {}
    counted = []

    def long_predict() -> None:
        started.set()
        done["big"] = m.predict(x)

    # No forced GIL hand-over for 100 s: a thread holding the GIL keeps it until it blocks or
    # releases it, so the main thread can run during the long predict only if predict released it.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        t = threading.Thread(target=long_predict)
        t.start()
        started.wait()
        time.sleep(0.02)  # let the other thread enter predict
        while "big" not in done:
            counted.append(m.predict(x[:8]))
        t.join()
    finally:
        sys.setswitchinterval(interval)
    assert len(counted) > 3, "no Python ran beside the long predict: the GIL was held"
    np.testing.assert_array_equal(counted[0], done["big"][:8])


def test_summary_names_layers(capsys: pytest.CaptureFixture) -> None:
    lstm().summary()
    out = capsys.readouterr().out
    assert "LSTM" in out and "8,809" in out


def test_native_module_reports_kernel() -> None:
    assert _native.kernel_name() in (
        "reference",
        "portable-wide",
        "x86_64-avx2-fma",
        "x86_64-avx512",
    )
    assert _native.SEQ_LEN == 100
    tuning = fusedrnn.kernel_tuning()
    if _native.kernel_name() == "x86_64-avx512":
        assert "block pairs" in tuning and "LSTM step" in tuning, tuning
    elif _native.kernel_name() == "x86_64-avx2-fma":
        splats, cells = tuning.split(", ")
        assert splats in ("splats from halves", "splats by vpermps"), tuning
        assert cells in ("LSTM cells by 8", "LSTM cells by 4"), tuning
    else:
        assert tuning == "", tuning
