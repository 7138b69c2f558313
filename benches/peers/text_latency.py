#!/usr/bin/env python3
"""PyTorch doing what `fusedrnn_score_text` does, at batch 1: review text -> probability.

    /work/pyenv/bin/python benches/peers/text_latency.py MODEL.safetensors WORD_INDEX.json REVIEW.txt [--calls N]

Per call, timed with perf_counter_ns: tokenize in Python as fusedrnn does (lowercase, every character outside
ASCII [a-z0-9'] separates words, apostrophes stripped at word ends, empty words dropped; rank + 3, ids
>= num_words and unknown words -> 2, start char 1 first), pad_sequences(maxlen=100) 'pre', a [1, 100] int64
tensor, then nn.Embedding + nn.LSTM + nn.Linear + sigmoid with the model's weights (Keras kernel transposed,
gate order i,f,c,o in both), torch.set_num_threads(1), under torch.inference_mode(). Also times the model
alone (tensor ready) and the tokenizer alone. Prints p50 / p99 / mean in microseconds and the probability,
to check against fusedrnn's.
"""

import argparse
import json
import re
import statistics
import time

import numpy as np
import torch
from safetensors.numpy import load_file
from torch import nn

SEQ_LEN = 100
WORD = re.compile(r"[a-z0-9']+")


def make_tokenizer(index_path, num_words):
    index = json.loads(open(index_path, encoding="utf-8").read())
    ids = {w: r + 3 for w, r in index.items() if r + 3 < num_words}

    def padded(text):
        seq = [1]
        for w in WORD.findall(text.lower()):
            w = w.strip("'")
            if w:
                seq.append(ids.get(w, 2))
        seq = seq[-SEQ_LEN:]
        return [0] * (SEQ_LEN - len(seq)) + seq

    return padded


class Net(nn.Module):
    def __init__(self, vocab, embed, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 1)

    def forward(self, tokens):
        _, (h, _) = self.lstm(self.embedding(tokens))
        return torch.sigmoid(self.fc(h[-1]))[:, 0]


def load_net(path):
    w = load_file(path)
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    vocab, embed = w["embedding.embeddings"].shape
    hidden = w["lstm.recurrent_kernel"].shape[0]
    net = Net(vocab, embed, hidden)
    net.load_state_dict({
        "embedding.weight": t(w["embedding.embeddings"]),
        "lstm.weight_ih_l0": t(w["lstm.kernel"].T), "lstm.weight_hh_l0": t(w["lstm.recurrent_kernel"].T),
        "lstm.bias_ih_l0": t(w["lstm.bias"]), "lstm.bias_hh_l0": t(np.zeros_like(w["lstm.bias"])),
        "fc.weight": t(w["dense.kernel"].T), "fc.bias": t(w["dense.bias"]),
    }, strict=True)
    return net.eval(), vocab


def report(what, ns, prob=None):
    ns = sorted(ns)
    n = len(ns)
    extra = f", prob {prob:.6f}" if prob is not None else ""
    print(f"{what:<28} p50 {ns[n // 2] / 1e3:9.3f} us  p99 {ns[int(n * 0.99)] / 1e3:9.3f} us  "
          f"mean {statistics.fmean(ns) / 1e3:9.3f} us  ({n} calls{extra})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("word_index")
    ap.add_argument("review")
    ap.add_argument("--calls", type=int, default=20000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    net, vocab = load_net(args.model)
    padded = make_tokenizer(args.word_index, vocab)
    text = open(args.review, encoding="utf-8").read().rstrip("\r\n")
    print(f"torch {torch.__version__}, 1 thread, review of {len(text.encode())} bytes")

    def score(text):
        x = torch.tensor([padded(text)], dtype=torch.int64)
        return net(x)

    with torch.inference_mode():
        for _ in range(args.calls // 10):
            score(text)
        ns = []
        for _ in range(args.calls):
            t0 = time.perf_counter_ns()
            p = score(text)
            ns.append(time.perf_counter_ns() - t0)
        report("text -> prob (tokenize+LSTM)", ns, float(p[0]))
        x = torch.tensor([padded(text)], dtype=torch.int64)
        ns = []
        for _ in range(args.calls):
            t0 = time.perf_counter_ns()
            net(x)
            ns.append(time.perf_counter_ns() - t0)
        report("model alone (tensor ready)", ns)
    ns = []
    for _ in range(args.calls):
        t0 = time.perf_counter_ns()
        padded(text)
        ns.append(time.perf_counter_ns() - t0)
    report("tokenize + pad alone", ns)


if __name__ == "__main__":
    main()
