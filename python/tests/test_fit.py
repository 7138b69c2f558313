"""fit: History, callbacks, the CSV log, interruption, the GIL."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import fusedrnn
from fusedrnn import Sequential, callbacks, layers, optimizers


def data(n: int, seed: int = 0, vocab: int = 500):
    """A learnable toy task: label 1 iff token 7 appears more often than token 9."""
    rng = np.random.RandomState(seed)
    x = rng.randint(10, vocab, size=(n, 100)).astype(np.int32)
    y = rng.randint(0, 2, size=n)
    for i in range(n):
        pos = rng.choice(100, 10, replace=False)
        x[i, pos] = 7 if y[i] else 9
    return x, y


def model(arch: str = "lstm", dropout: float = 0.0) -> Sequential:
    if arch == "rnn-onehot":
        stack = [layers.SimpleRNN(8, input_shape=(100, 500), dropout=dropout)]
    else:
        rec = layers.LSTM if arch == "lstm" else layers.SimpleRNN
        stack = [layers.Embedding(500, 16), rec(8, dropout=dropout)]
    m = Sequential(stack + [layers.Dense(1, activation="sigmoid")])
    m.compile(
        optimizer=optimizers.RMSprop(learning_rate=1e-2),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return m


@pytest.mark.parametrize(
    "arch, dropout", [("lstm", 0.0), ("rnn", 0.0), ("rnn-onehot", 0.0), ("lstm", 0.3)]
)
def test_fit_learns_and_reports_keras_history(
    arch: str, dropout: float, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    x, y = data(512)
    xv, yv = data(128, seed=1)
    m = model(arch, dropout)
    before = m.evaluate(xv, yv)[0]
    h = m.fit(x, y, batch_size=64, epochs=3, validation_data=(xv, yv), verbose=1)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in h.history.values()) and h.epoch == [0, 1, 2]
    assert h.history["val_loss"][-1] < before
    assert m.evaluate(xv, yv)[0] == pytest.approx(h.history["val_loss"][-1], rel=1e-5)
    out = capsys.readouterr().out
    assert "Epoch 3/3" in out and "8/8 - " in out and "val_loss: " in out


def test_verbose_zero_is_silent_and_same_seed_same_result(capsys: pytest.CaptureFixture) -> None:
    x, y = data(256)
    runs = []
    for threads in (1, 2):
        fusedrnn.set_random_seed(7)
        m = model()
        m.fit(x, y, epochs=2, validation_data=(x[:64], y[:64]), verbose=0, threads=threads)
        runs.append(m.get_weights())
    assert capsys.readouterr().out == ""
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    fusedrnn.set_random_seed(42)


def test_early_stopping_checkpoint_and_csv_logger(tmp_path: Path) -> None:
    x, y = data(256)
    xv, yv = data(64, seed=5)
    # A learning rate this large makes val_loss get worse after the first epochs.
    m = model()
    m.compile(
        optimizer=optimizers.RMSprop(learning_rate=0.5),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    ckpt, log = tmp_path / "best-lstm-model.h5", tmp_path / "history.csv"
    es = callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    h = m.fit(
        x,
        y,
        batch_size=32,
        epochs=30,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[
            es,
            callbacks.ModelCheckpoint(ckpt, save_best_only=True),
            callbacks.CSVLogger(log),
        ],
    )
    vl = h.history["val_loss"]
    assert len(vl) < 30, "EarlyStopping(patience=1) never stopped"
    best = int(np.argmin(vl))
    assert len(vl) == best + 2  # stops one epoch after the last improvement
    # restore_best_weights and the checkpoint both hold the best epoch's weights.
    assert m.evaluate(xv, yv)[0] == pytest.approx(vl[best], rel=1e-5)
    saved = fusedrnn.load_model(ckpt)
    np.testing.assert_array_equal(saved.predict(xv), m.predict(xv))
    rows = list(csv.reader(log.open()))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [int(r[0]) for r in rows[1:]] == list(range(len(vl)))
    assert [float(r[4]) for r in rows[1:]] == vl  # full precision round trip


def test_fit_refuses_what_it_cannot_train() -> None:
    x, y = data(64)
    m = Sequential(
        [
            layers.Embedding(500, 16),
            layers.LSTM(8),
            layers.Dropout(0.5, name="drop"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    with pytest.raises(RuntimeError, match="compile"):
        m.fit(x, y)
    m.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    with pytest.raises(ValueError, match="`drop`"):
        m.fit(x, y)
    m = model()
    with pytest.raises(ValueError, match="validation"):
        m.fit(x, y, callbacks=[callbacks.EarlyStopping()])
    bad = x.copy()
    bad[3, 9] = 777
    with pytest.raises(ValueError, match="row 3, column 9"):
        m.fit(bad, y, validation_data=(x, y))
    with pytest.raises(ValueError, match="not 0 or 1"):
        m.fit(x, y * 3, validation_data=(x, y))
    with pytest.raises(ValueError, match="RMSprop"):
        m.compile(optimizer="adam", loss="binary_crossentropy")


def test_callback_exception_propagates() -> None:
    class Boom(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("boom at epoch end")

    x, y = data(64)
    with pytest.raises(RuntimeError, match="boom"):
        model().fit(x, y, epochs=2, validation_data=(x, y), verbose=0, callbacks=[Boom()])


INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import signal, sys, numpy as np
    import fusedrnn
    # Ctrl-C at a terminal reaches a Python whose SIGINT handler raises KeyboardInterrupt. A test
    # run started as a script's background job (`cmd &` in a non-interactive shell) inherits SIGINT
    # ignored, and Python then leaves it ignored (or a runner may leave it blocked): the SIGINT the
    # test sends would be dropped and training would run on. Put Ctrl-C's conditions back first.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    from fusedrnn import Sequential, layers, optimizers, callbacks
    x = np.random.RandomState(0).randint(0, 500, size=(20000, 100)).astype(np.int32)
    y = np.random.RandomState(1).randint(0, 2, size=20000)
    m = Sequential([layers.Embedding(500, 16), layers.LSTM(8),
                    layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer=optimizers.RMSprop(learning_rate=1e-4), loss="binary_crossentropy",
              metrics=["accuracy"])

    class Tell(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print("EPOCH", epoch, flush=True)

    try:
        m.fit(x, y, batch_size=64, epochs=1000, validation_data=(x[:500], y[:500]), verbose=0,
              callbacks=[callbacks.ModelCheckpoint(sys.argv[1], save_best_only=True), Tell()])
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
        sys.exit(3)
    """
)


def test_ctrl_c_during_fit_raises_keyboard_interrupt_and_keeps_the_checkpoint(
    tmp_path: Path,
) -> None:
    ckpt = tmp_path / "best.h5"
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPT_SCRIPT, str(ckpt)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the first epoch (and its checkpoint) is done
    assert line.startswith("EPOCH 0"), line + proc.stderr.read()
    time.sleep(0.3)  # now inside a later epoch's batches
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()  # not left training (1000 epochs) after the test
        out, err = proc.communicate()
        pytest.fail(f"fit ran on 60 s after SIGINT: {out!r} {err!r}")
    waited = time.monotonic() - sent
    assert proc.returncode == 3, (out, err)
    assert "INTERRUPTED" in out
    # "Within one batch": a batch of 64 takes milliseconds; allow a generous bound for a
    # loaded machine (an uninterrupted epoch of 313 batches takes far longer than this).
    assert waited < 5.0, waited
    model = fusedrnn.load_model(ckpt)  # the checkpoint is whole and loads
    assert model.arch == "lstm"
    leftovers = [p for p in os.listdir(tmp_path) if p != "best.h5"]
    assert leftovers == [], leftovers


TRAIN_PARITY = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "train_parity"


@pytest.mark.parametrize("arch", ["lstm", "rnn", "rnn-onehot"])
def test_one_fit_step_equals_keras_train_on_batch(arch: str) -> None:
    """From Keras' initial weights, one RMSprop step on Keras' first batch (fit with
    batch_size=64 over those 64 rows, so one step whatever the shuffle) gives Keras' weights
    after `train_on_batch` within 1e-4 relative per tensor (DESIGN.md's training bound), and
    Keras' reported batch loss."""
    from conftest import need

    meta = json.loads(need(TRAIN_PARITY / "train_parity.json").read_text())
    x = np.load(TRAIN_PARITY / "tokens.npy")[:64]
    y = np.load(TRAIN_PARITY / "labels.npy")[:64]
    m = fusedrnn.load_model(TRAIN_PARITY / f"{arch}.step0.safetensors")
    m.compile(
        optimizer=optimizers.RMSprop(learning_rate=meta["learning_rate"]),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    h = m.fit(x, y, batch_size=64, epochs=1, validation_data=(x, y), verbose=0)
    want = fusedrnn.load_model(TRAIN_PARITY / f"{arch}.step1.safetensors").get_weights()
    for got, ref in zip(m.get_weights(), want):
        err = np.abs(got.astype(np.float64) - ref).max()
        assert err <= 1e-4 * np.abs(ref).max() + 1e-7, (arch, got.shape, err)
    keras = meta["archs"][arch]
    assert h.history["loss"][0] == pytest.approx(keras["batch_loss"][0], rel=1e-5)
    assert h.history["accuracy"][0] == pytest.approx(keras["batch_accuracy"][0])


def test_fit_on_empty_data_is_a_value_error() -> None:
    model = fusedrnn.Sequential(
        [
            fusedrnn.layers.Embedding(50, 16),
            fusedrnn.layers.LSTM(8),
            fusedrnn.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=fusedrnn.optimizers.RMSprop(), loss="binary_crossentropy")
    x = np.ones((8, 100), dtype=np.int32)
    y = np.zeros(8, dtype=np.int32)
    with pytest.raises(ValueError, match="x has no rows"):
        model.fit(x[:0], y[:0], verbose=0)
    with pytest.raises(ValueError, match="validation data has no rows"):
        model.fit(x, y, validation_data=(x[:0], y[:0]), verbose=0)
