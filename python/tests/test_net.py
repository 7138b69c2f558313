"""Any shape (issue 14): real Keras / PyTorch fixtures of other shapes, fit, weights, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, need

import fusedrnn
from fusedrnn import Sequential, _native, layers

NET = ROOT / "tests" / "fixtures" / "net"
TOL = 1e-5  # DESIGN.md's bound against Keras' / PyTorch's probabilities

# (file, seq_len to give: PyTorch state dicts and `Input((None,))` models record none)
FILES = [
    ("lstm32.keras", None),
    ("lstm32.h5", None),
    ("gru16.keras", None),
    ("gru16.h5", None),
    ("gru16v1.keras", None),
    ("gru16v1.h5", None),
    ("rnn64.keras", None),
    ("rnn64.h5", None),
    ("nolen.keras", 30),
    ("torch_gru16.safetensors", 40),
    ("torch_lstm32.safetensors", 40),
    ("torch_rnn8.safetensors", 40),
]


def fixture(name: str) -> Path:
    return need(NET / name)


def stem(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("name, seq_len", FILES)
def test_fixtures_predict_keras_and_torch_probabilities(name: str, seq_len, tmp_path) -> None:
    model = fusedrnn.load_model(fixture(name), seq_len=seq_len)
    assert isinstance(model._native, _native.Net)
    tokens = np.load(fixture(stem(name) + ".tokens.npy"))
    want = np.load(fixture(stem(name) + ".probs.npy"))
    got = model.predict(tokens)
    assert got.dtype == np.float32 and got.shape == (len(want), 1)
    np.testing.assert_allclose(got[:, 0], want, atol=TOL, rtol=0)
    # int64 ids, and a round trip through fusedrnn's file, give the same bits.
    np.testing.assert_array_equal(model.predict(tokens.astype(np.int64)), got)
    model.save(tmp_path / "m.safetensors")
    again = fusedrnn.load_model(tmp_path / "m.safetensors")
    assert again.arch == model.arch and again.seq_len == model.seq_len
    np.testing.assert_array_equal(again.predict(tokens), got)


def test_loaded_stack_rebuilds_the_same_layers() -> None:
    m = fusedrnn.load_model(fixture("gru16v1.keras"))
    assert m.arch == "gru-v1" and m.seq_len == 100
    rec = m.layers[1]
    assert isinstance(rec, layers.GRU) and rec.units == 16 and not rec.reset_after
    onehot = fusedrnn.load_model(fixture("rnn64.keras"))
    assert onehot.arch == "rnn-onehot" and onehot.layers[0].input_shape == (50, 100)
    x = np.load(fixture("rnn64.tokens.npy"))
    # One-hot rows as to_categorical makes them give the ids' probabilities.
    np.testing.assert_array_equal(
        onehot.predict(np.eye(100, dtype=np.float32)[x]), onehot.predict(x)
    )


def gru(**kw) -> Sequential:
    m = Sequential(
        [
            layers.Embedding(300, 12, input_length=30),
            layers.GRU(16, **kw),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    m.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return m


def test_any_shape_builds_with_keras_parameter_counts() -> None:
    fusedrnn.set_random_seed(1)
    m = gru()
    # Keras: embedding 300·12, GRU 3·16·(12 + 16) + 2·3·16 (reset_after), dense 17.
    assert m.count_params() == 3600 + 3 * 16 * 28 + 96 + 17
    assert [w.shape for w in m.get_weights()] == [
        (300, 12),
        (12, 48),
        (16, 48),
        (2, 48),
        (16, 1),
        (1,),
    ]
    v1 = gru(reset_after=False)
    assert [w.shape for w in v1.get_weights()][3] == (48,) and v1.arch == "gru-v1"
    lstm = Sequential(
        [layers.LSTM(32, input_shape=(20, 70)), layers.Dense(1, activation="sigmoid")]
    )
    assert lstm.arch == "lstm-onehot" and lstm.count_params() == 4 * 32 * (70 + 32 + 1) + 33
    lines: list = []
    m.summary(print_fn=lines.append)
    assert "GRU" in lines[0] and "Total params: 5,057" in lines[0]


def test_get_set_weights_round_trip_and_refusals() -> None:
    fusedrnn.set_random_seed(2)
    m = gru()
    x = np.random.RandomState(0).randint(0, 300, size=(40, 30))
    want = m.predict(x)
    other = gru()
    other.set_weights([w + 0.05 for w in m.get_weights()])
    assert not np.allclose(other.predict(x), want)
    other.set_weights(m.get_weights())
    np.testing.assert_array_equal(other.predict(x), want)
    w = m.get_weights()
    with pytest.raises(ValueError, match="expected 6 weight arrays"):
        other.set_weights(w[:5])
    bad = [a.copy() for a in w]
    bad[3] = np.zeros(48, np.float32)
    with pytest.raises(ValueError, match=r"weights\[3\] \(bias\)"):
        other.set_weights(bad)
    bad = [a.copy() for a in w]
    bad[2][1, 1] = np.inf
    with pytest.raises(ValueError, match="recurrent_kernel"):
        other.set_weights(bad)


def test_bad_ids_and_shapes_raise_value_errors_naming_the_position() -> None:
    m = gru()
    x = np.ones((5, 30), np.int64)
    x[3, 17] = 300
    with pytest.raises(ValueError, match=r"x\[3, 17\] = 300 is outside the model's vocabulary"):
        m.predict(x)
    x[3, 17] = -1
    with pytest.raises(ValueError, match=r"x\[3, 17\] = -1"):
        m.predict(x.astype(np.int32))
    with pytest.raises(ValueError, match="sequences of 30"):
        m.predict(np.ones((2, 100), np.int32))
    with pytest.raises(ValueError, match=r"\[n, 30\]"):
        m.predict(np.ones(30, np.int32))
    with pytest.raises(ValueError, match="labels"):
        m.evaluate(np.ones((3, 30), np.int32), [0, 1])
    with pytest.raises(ValueError, match="`text"):
        Sequential(
            [
                layers.Embedding(10, 4, input_length=9999, name="text"),
                layers.GRU(4),
                layers.Dense(1, activation="sigmoid"),
            ]
        ).build()
    # Text runs every shape (test_net_text.py); a word index whose start / oov ids do not fit
    # the vocabulary is refused.
    tiny = Sequential(
        [
            layers.Embedding(2, 4, input_length=5),
            layers.GRU(3),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    with pytest.raises(ValueError, match="vocabulary is 2"):
        tiny.predict_text("a fine film", {"fine": 1})
    with pytest.raises(ValueError, match="seq_len"):
        fusedrnn.load_model(fixture("torch_gru16.safetensors"))


def toy(n: int, seq_len: int, vocab: int, seed: int):
    """A learnable task: label 1 when token 1 occurs more often than token 2."""
    rng = np.random.RandomState(seed)
    x = rng.randint(3, vocab, size=(n, seq_len))
    y = rng.randint(0, 2, size=n)
    for i in range(n):
        marks = rng.choice(seq_len, size=4, replace=False)
        x[i, marks] = 1 if y[i] else 2
    return x, y


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_fit_lowers_the_loss_with_callbacks(cell: str, tmp_path: Path) -> None:
    fusedrnn.set_random_seed(7)
    rec = layers.GRU(16) if cell == "gru" else layers.LSTM(32)
    m = Sequential(
        [layers.Embedding(40, 8, input_length=20), rec, layers.Dense(1, activation="sigmoid")]
    )
    m.compile(
        optimizer=fusedrnn.optimizers.RMSprop(learning_rate=1e-2),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    x, y = toy(256, 20, 40, 3)
    xv, yv = toy(64, 20, 40, 4)
    before = m.evaluate(xv, yv)[0]
    ckpt = tmp_path / "best.safetensors"
    hist = m.fit(
        x,
        y,
        batch_size=32,
        epochs=4,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[
            fusedrnn.callbacks.EarlyStopping(patience=2, restore_best_weights=True),
            fusedrnn.callbacks.ModelCheckpoint(ckpt, save_best_only=True),
        ],
    )
    losses = hist.history["val_loss"]
    assert len(losses) >= 1 and set(hist.history) >= {"loss", "accuracy", "val_accuracy"}
    after = m.evaluate(xv, yv)[0]
    assert after < before, (before, losses)
    assert after == pytest.approx(min(losses), rel=1e-5)  # restore_best_weights
    best = fusedrnn.load_model(ckpt)
    np.testing.assert_array_equal(best.predict(xv), m.predict(xv))
