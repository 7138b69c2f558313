"""The Keras IMDB sentiment notebook, ported to fusedrnn: only the imports changed.

Load → inspect review lengths → split → pad → four models (one-hot SimpleRNN,
Embedding+SimpleRNN, Embedding+LSTM, LSTM with dropout 0.3) → fit with early stopping and
best-model checkpoints → loss curves → evaluate the best checkpoint on the test split.

    python examples/imdb_notebook.py [--epochs 10] [--out out/notebook] [--synthetic]

Uses ``imdb.npz`` where Keras (or the shared data) has it, else writes the synthetic corpus and
says so. Plots need matplotlib (``pip install ./python[plot]``); without it they are skipped.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

# --- the notebook's imports, with fusedrnn in place of keras / sklearn ---
from fusedrnn import Sequential, callbacks, layers, optimizers, pad_sequences, train_test_split
from fusedrnn.datasets import imdb
from fusedrnn.models import load_model

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # plots are optional
    plt = None


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--out", default="out/notebook")
    ap.add_argument("--synthetic", action="store_true", help="use the synthetic corpus")
    ap.add_argument("--synthetic-size", type=int, default=25000)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    max_features, maxlen, batch_size = 500, 100, 64

    # ---- load ----
    path = "imdb.npz"
    try:
        if args.synthetic:
            raise FileNotFoundError
        print("data:", imdb.find_imdb_npz())
    except FileNotFoundError:
        path = os.path.join(tempfile.mkdtemp(), "imdb.npz")
        imdb.write_synthetic_npz(path, train=args.synthetic_size, test=args.synthetic_size)
        print("data: the synthetic corpus (no imdb.npz on this machine)")
    (x_train, y_train), (x_test, y_test) = imdb.load_data(path=path, num_words=max_features)
    print(len(x_train), "train sequences;", len(x_test), "test sequences")

    # ---- inspect lengths ----
    lengths = np.array([len(x) for x in x_train])
    print(f"review length: mean {lengths.mean():.1f}, median {np.median(lengths):.0f}")
    if plt is not None:
        plt.figure()
        plt.hist(lengths, bins=50)
        plt.xlabel("Review length (words)")
        plt.ylabel("Count")
        plt.savefig(os.path.join(args.out, "lengths.png"))
        plt.close()

    # ---- split and pad ----
    x_train, x_val, y_train, y_val = train_test_split(
        x_train, y_train, test_size=0.2, random_state=42
    )
    x_train = pad_sequences(x_train, maxlen=maxlen)
    x_val = pad_sequences(x_val, maxlen=maxlen)
    x_test = pad_sequences(x_test, maxlen=maxlen)
    print("x_train shape:", x_train.shape, "x_val shape:", x_val.shape)

    # ---- the four models ----
    def onehot_rnn() -> Sequential:
        # The notebook feeds one-hot rows ([n, 100, 500] floats, 2 GB here); fusedrnn's
        # one-hot model also takes the ids themselves, which is the same computation.
        return Sequential(
            [
                layers.SimpleRNN(8, input_shape=(maxlen, max_features)),
                layers.Dense(1, activation="sigmoid"),
            ]
        )

    def embedding_rnn() -> Sequential:
        return Sequential(
            [
                layers.Embedding(max_features, 16),
                layers.SimpleRNN(8),
                layers.Dense(1, activation="sigmoid"),
            ]
        )

    def embedding_lstm(dropout: float = 0.0) -> Sequential:
        model = Sequential()
        model.add(layers.Embedding(max_features, 16))
        model.add(layers.LSTM(8, dropout=dropout))
        model.add(layers.Dense(1, activation="sigmoid"))
        return model

    builders = {
        "onehot-rnn": onehot_rnn,
        "rnn": embedding_rnn,
        "lstm": embedding_lstm,
        "lstm-dropout": lambda: embedding_lstm(0.3),
    }
    results = {}
    for name, build in builders.items():
        print(f"\n=== {name} ===")
        model = build()
        model.compile(
            optimizer=optimizers.RMSprop(learning_rate=1e-4),
            loss="binary_crossentropy",
            metrics=["accuracy"],
        )
        model.summary()
        best_path = os.path.join(args.out, f"best-{name}-model.h5")
        start = time.perf_counter()
        history = model.fit(
            x_train,
            y_train,
            batch_size=batch_size,
            epochs=args.epochs,
            validation_data=(x_val, y_val),
            callbacks=[
                callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
                callbacks.ModelCheckpoint(best_path, save_best_only=True),
                callbacks.CSVLogger(os.path.join(args.out, f"{name}-history.csv")),
            ],
            verbose=1,
        )
        seconds = time.perf_counter() - start

        # ---- loss curves ----
        if plt is not None:
            plt.figure()
            plt.plot(history.history["loss"], label="train")
            plt.plot(history.history["val_loss"], label="validation")
            plt.title(f"{name} loss")
            plt.xlabel("Epoch")
            plt.ylabel("Loss")
            plt.legend()
            plt.savefig(os.path.join(args.out, f"{name}-loss.png"))
            plt.close()

        # ---- the best checkpoint on the test split ----
        best = load_model(best_path)
        test_loss, test_acc = best.evaluate(x_test, y_test)
        print(
            f"{name}: test loss {test_loss:.4f}, test accuracy {test_acc:.4f} ({seconds:.1f}s fit)"
        )
        results[name] = {
            "epochs": len(history.epoch),
            "val_loss": min(history.history["val_loss"]),
            "test_loss": test_loss,
            "test_accuracy": test_acc,
            "fit_seconds": seconds,
        }
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
