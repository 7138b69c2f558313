#!/usr/bin/env python3
"""Writes the latency benches' review: the first test review of 230 words (issue 7's "median review", the
median of Keras' own imdb.npz; the shared data's median is 175, printed to stderr), decoded from imdb.npz ranks back to text with imdb_word_index.json, in a raw-text form that tokenizes
to exactly its words: `br` words become `<br />`, and every 12th word ends a sentence (a period, the next
word capitalised), which the tokenizer's rules ignore.

    /work/pyenv/bin/python benches/peers/median_review.py ../shared/data > benches/peers/review_230.txt
"""

import json
import sys
from pathlib import Path

import numpy as np

data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
with np.load(data / "imdb.npz", allow_pickle=True) as z:
    x = list(z["x_train"]) + list(z["x_test"])
    test = list(z["x_test"])
median = int(np.median([len(r) for r in x]))
index = json.loads((data / "imdb_word_index.json").read_text())
word = {rank: w for w, rank in index.items()}
WORDS = 230
review = next(r for r in test if len(r) == WORDS)
out = []
for i, rank in enumerate(review):
    w = word[rank]
    if w == "br":
        out.append("<br />")
        continue
    if i == 0 or (i % 12 == 0):
        w = w[:1].upper() + w[1:]
    if i % 12 == 11:
        w += "."
    out.append(w)
print(" ".join(out))
print(f"median review length {median} words", file=sys.stderr)
