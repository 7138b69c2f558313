"""The GIL is released while fusedrnn predicts: Python threads score in parallel.

    python examples/threading_predict.py

Two threads each score 200,000 random reviews; the main thread keeps counting meanwhile. With
the GIL held the counter would stand still until both predictions finished.

Thread safety: a model (``Sequential`` after it is built, or ``load_model``'s result) is
immutable while it scores — ``set_weights`` and ``fit`` replace it — so any number of threads may
call ``predict`` / ``evaluate`` / ``predict_text`` on one model at once. A session
(``model.session(...)``) is for one thread at a time. ``fit`` trains on its own threads without
the GIL; epoch callbacks run with the GIL, between epochs.
"""

import threading
import time

import numpy as np

from fusedrnn import Sequential, layers

model = Sequential(
    [layers.Embedding(500, 16), layers.LSTM(8), layers.Dense(1, activation="sigmoid")]
)
x = np.random.RandomState(0).randint(0, 500, size=(200_000, 100)).astype(np.int32)
out = {}


def work(name: str) -> None:
    out[name] = model.predict(x)


threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
start = time.perf_counter()
for t in threads:
    t.start()
ticks = 0
while any(t.is_alive() for t in threads):
    ticks += 1
    time.sleep(0.001)
for t in threads:
    t.join()
elapsed = time.perf_counter() - start
print(f"2 × {len(x):,} reviews in {elapsed:.2f} s; the main thread ticked {ticks} times meanwhile")
assert np.array_equal(out["a"], out["b"])
