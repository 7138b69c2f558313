"""The notebook's training in real Keras 3, on the same packed data as `fusedrnn train`.

    KERAS_BACKEND=jax /work/pyenv/bin/python benches/peers/keras_notebook.py --data imdb.tok \
        [--arch lstm|rnn|rnn-onehot] [--dropout 0.3] [--epochs 10] [--out result.json]

Reads the `.tok` file with numpy (layout in src/tokfile/mod.rs: a 128-byte header, a table of
nine 32-byte section entries — train/val/test × tokens/labels/lengths — each with its payload
offset and length), builds the notebook's model (Embedding(num_words, 16) → LSTM(8) or
SimpleRNN(8), or SimpleRNN(8) on one-hot input → Dense(1, sigmoid)), compiles it with
RMSprop(1e-4) and binary_crossentropy, fits with batch 64 and
EarlyStopping(val_loss, patience=3, restore_best_weights=True), then evaluates on the test split.
Prints one Keras line per epoch and writes a JSON summary (per-epoch seconds and metrics, best
val_accuracy, test loss and accuracy).
"""

import argparse
import json
import os
import struct
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402


def read_tok(path):
    raw = open(path, "rb").read()
    if raw[:8] != b"FRNNTOK\0":
        raise SystemExit(f"{path}: not a token file")
    version, header_bytes, sections, num_words, seq_len = struct.unpack_from("<5I", raw, 8)
    if version != 1 or header_bytes != 128 or sections != 9:
        raise SystemExit(f"{path}: unsupported layout")
    splits = {}
    for i in range(sections):
        split, kind, rows, offset, length = struct.unpack_from("<HHIQQ", raw, 128 + 32 * i)
        name = ("train", "val", "test")[split]
        dtype = (np.uint16, np.uint8, np.uint32)[kind]
        arr = np.frombuffer(raw, dtype=dtype, count=length // np.dtype(dtype).itemsize, offset=offset)
        if kind == 0:
            arr = arr.reshape(rows, seq_len)
        splits.setdefault(name, [None, None, None])[kind] = arr
    return num_words, seq_len, splits


class OneHot(keras.utils.PyDataset):
    """Batches of one-hot inputs built on the fly (the whole split would take 4 GB)."""

    def __init__(self, tokens, labels, num_words, batch, shuffle):
        super().__init__()
        self.tokens, self.labels, self.num_words = tokens, labels, num_words
        self.batch, self.shuffle = batch, shuffle
        self.order = np.arange(len(tokens))
        self.eye = np.eye(num_words, dtype=np.float32)

    def __len__(self):
        return -(-len(self.tokens) // self.batch)

    def __getitem__(self, i):
        idx = self.order[i * self.batch:(i + 1) * self.batch]
        return self.eye[self.tokens[idx]], self.labels[idx]

    def on_epoch_end(self):
        if self.shuffle:
            np.random.shuffle(self.order)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--arch", default="lstm", choices=["lstm", "rnn", "rnn-onehot"])
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out")
    a = ap.parse_args()
    keras.utils.set_random_seed(a.seed)
    num_words, seq_len, s = read_tok(a.data)
    (xtr, ytr, _), (xva, yva, _), (xte, yte, _) = s["train"], s["val"], s["test"]
    ytr, yva, yte = (y.astype(np.float32) for y in (ytr, yva, yte))
    if a.arch == "rnn-onehot":
        model = keras.Sequential([keras.Input((seq_len, num_words)),
                                  layers.SimpleRNN(8, dropout=a.dropout),
                                  layers.Dense(1, activation="sigmoid")])
        train = OneHot(xtr, ytr, num_words, 64, True)
        val = OneHot(xva, yva, num_words, 64, False)
        test = OneHot(xte, yte, num_words, 64, False)
    else:
        rec = layers.LSTM(8, dropout=a.dropout) if a.arch == "lstm" else layers.SimpleRNN(8, dropout=a.dropout)
        model = keras.Sequential([keras.Input((seq_len,), dtype="int32"),
                                  layers.Embedding(num_words, 16), rec,
                                  layers.Dense(1, activation="sigmoid")])
        train, val, test = (xtr.astype(np.int32), ytr), (xva.astype(np.int32), yva), (xte.astype(np.int32), yte)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-4),
                  loss="binary_crossentropy", metrics=["accuracy"])

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs["seconds"] = time.perf_counter() - self.t
            print(f"Epoch {epoch + 1}/{a.epochs} - {logs['seconds']:.2f}s - loss: {logs['loss']:.4f} - "
                  f"accuracy: {logs['accuracy']:.4f} - val_loss: {logs['val_loss']:.4f} - "
                  f"val_accuracy: {logs['val_accuracy']:.4f}", flush=True)

    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    timer = Timer()
    if a.arch == "rnn-onehot":
        hist = model.fit(train, validation_data=val, epochs=a.epochs, verbose=0, callbacks=[timer, stop])
        test_loss, test_acc = model.evaluate(test, verbose=0)
    else:
        hist = model.fit(*train, validation_data=val, epochs=a.epochs, batch_size=64, verbose=0,
                         callbacks=[timer, stop])
        test_loss, test_acc = model.evaluate(*test, batch_size=256, verbose=0)
    h = hist.history
    best = int(np.argmin(h["val_loss"]))
    result = {"arch": a.arch, "dropout": a.dropout, "keras": keras.__version__,
              "backend": keras.backend.backend(), "epochs_run": len(h["loss"]),
              "seconds_per_epoch": h["seconds"], "history": {k: list(map(float, v)) for k, v in h.items()},
              "best_epoch": best + 1, "best_val_loss": float(h["val_loss"][best]),
              "best_val_accuracy": float(h["val_accuracy"][best]),
              "test_loss": float(test_loss), "test_accuracy": float(test_acc)}
    print(json.dumps({k: result[k] for k in ("arch", "dropout", "best_epoch", "best_val_accuracy",
                                             "test_accuracy")}))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
