"""The notebook end to end (load → split → pad → fit 10 epochs → evaluate), wall time, in
fusedrnn or in real Keras 3 + scikit-learn (same code, different imports).

    python python/benches/notebook_wall.py --framework fusedrnn --npz ../shared/data/imdb.npz
    KERAS_BACKEND=jax OTHER_PY python/benches/notebook_wall.py --framework keras --npz ...

Prints one JSON line: framework, seconds per stage, epochs run, test loss and accuracy. Keras'
loader is handed ``--npz`` in place of its download (see the code).
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--framework", choices=["fusedrnn", "keras"], required=True)
    ap.add_argument("--npz", default=os.path.abspath("../shared/data/imdb.npz"))
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()
    t = {"start": time.perf_counter()}
    if args.framework == "fusedrnn":
        from fusedrnn import (
            Sequential,
            callbacks,
            layers,
            optimizers,
            pad_sequences,
            train_test_split,
        )
        from fusedrnn.datasets import imdb
    else:
        os.environ.setdefault("KERAS_BACKEND", "jax")
        # Keras only reads its download cache and checks the published hash, which the shared
        # copy does not have: hand its loader our file instead of downloading (the parsing,
        # shuffling and filtering stay Keras' own).
        import keras.src.datasets.imdb as keras_imdb
        from keras import Sequential, callbacks, layers, optimizers
        from keras.datasets import imdb
        from keras.utils import pad_sequences
        from sklearn.model_selection import train_test_split

        keras_imdb.get_file = lambda *a, **k: os.path.abspath(args.npz)
    t["import"] = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = imdb.load_data(
        path=os.path.abspath(args.npz), num_words=500
    )
    t["load"] = time.perf_counter()
    x_train, x_val, y_train, y_val = train_test_split(
        x_train, y_train, test_size=0.2, random_state=42
    )
    x_train, x_val, x_test = (pad_sequences(x, maxlen=100) for x in (x_train, x_val, x_test))
    t["split_pad"] = time.perf_counter()
    model = Sequential(
        [layers.Embedding(500, 16), layers.LSTM(8), layers.Dense(1, activation="sigmoid")]
    )
    model.compile(
        optimizer=optimizers.RMSprop(learning_rate=1e-4),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=args.epochs,
        validation_data=(x_val, y_val),
        callbacks=[
            callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
        ],
        verbose=0,
    )
    t["fit"] = time.perf_counter()
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    t["evaluate"] = time.perf_counter()
    names = list(t)
    stages = {b: round(t[b] - t[a], 3) for a, b in zip(names, names[1:])}
    print(
        json.dumps(
            {
                "framework": args.framework,
                "total_s": round(t["evaluate"] - t["start"], 3),
                "stages_s": stages,
                "epochs": len(history.epoch),
                "test_loss": round(float(loss), 4),
                "test_accuracy": round(float(acc), 4),
            }
        )
    )


if __name__ == "__main__":
    main()
