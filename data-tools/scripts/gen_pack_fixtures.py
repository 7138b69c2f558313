#!/usr/bin/env python3
"""Golden fixtures for `imdb-pack` (the Rust Keras-imdb.npz packer).

What this writes (all under data-tools/tests/fixtures/, paths relative to the
repository root; the script locates the repository from its own path):

* Synthetic npz inputs in Keras' `imdb.npz` layout (keys x_train, y_train,
  x_test, y_test; x_* 1-D object arrays of Python lists of Python ints, word
  ranks >= 1, Zipf-like up to 3000 plus a few ranks > 65535; y_* int64 0/1).
  150 train and 90 test reviews, lengths 0..~430 with empty lists, length-1
  lists and a few lists of 1000+ items. The same data in every variant:
    small_p2_deflated.npz           pickle protocol 2, ZIP_DEFLATED
    small_p3_stored.npz             pickle protocol 3, ZIP_STORED
    small_p4_deflated.npz           pickle protocol 4, ZIP_DEFLATED  (input of every case)
    small_p5_stored.npz             pickle protocol 5, ZIP_STORED
    small_labels_i32.npz            like p4_deflated, labels '<i4'
    small_labels_u8.npz             like p4_deflated, labels '|u1'
    small_npy_v2.npz                like p4_deflated, every member with an npy 2.0 header
    small_npy_v3.npz                like p4_deflated, every member with an npy 3.0 header
    small_numpy_savez.npz           numpy's own np.savez_compressed
    small_p2_numpycore_deflated.npz protocol 2 with the numpy<2 global spelling
                                    `numpy.core.multiarray._reconstruct` (as files written with numpy < 2 have)
    small_p4_pypickler_stored.npz   protocol 4 written by the pure-Python pickler
                                    (pickle._Pickler), whose APPENDS batching differs from _pickle's
  Protocol 2 streams encode bytes as `_codecs.encode(str, 'latin1')`, which the
  Keras 3.15 restricted unpickler refuses; for those variants the script checks
  that np.load(allow_pickle=True) gives arrays identical to the protocol-4 file.
* expected_<case>.json: the output of the real pipeline
      keras.datasets.imdb.load_data(num_words, skip_top, seed, start_char, oov_char, index_from)
      -> sklearn.model_selection.train_test_split(x_train, y_train,
                                                  test_size=val_split, random_state=split_seed)
         (val_split == 0.0: no split call; val is empty; train is load_data's order)
      -> keras.utils.pad_sequences(maxlen, padding, truncating, value=0) on train, val, test
  on small_p4_deflated.npz, for the cases listed in CASES below. `lengths` are len()
  of each load_data output sequence (before padding). `effective_num_words` is the
  num_words Keras applied (`max(max(x))` over the shifted train+test sequences when
  num_words is null; that max id itself then becomes OOV since Keras tests w < num_words).
  load_data is never given `maxlen` (the packer's maxlen is pad_sequences' maxlen).
* many_short_p2_deflated.npz, many_short_p3_stored.npz and expected_many_short_defaults.json:
  a second set (300 train / 40 test reviews of 0..11 words) whose streams memoize more
  than 256 lists, so protocols 2/3 use LONG_BINPUT (as any 25,000-review file in those protocols does).
* fixtures.json: manifest {"variants": [...], "cases": {case: file}, ...}. Every
  variant must give exactly expected_defaults.json with the `defaults` params.
* mt19937.json: numpy RandomState golden values (raw uint32 outputs, state keys,
  permutations, sequential shuffles as in load_data, train_test_split sizes).
* shared_imdb_expected.json: hashes/statistics of the `defaults` pipeline run on
  the shared /work/shared/data/imdb.npz, and under "wide_vocab" the same pipeline with
  num_words None, 0 and 88587 (ids beyond u16; tokens hashed as '<u4') (override with --shared-npz, skip with
  --skip-shared). Its "python_seconds"/"python_seconds_runs" fields are timings
  and are the only non-deterministic bytes this script writes.
* bad/: malformed npz inputs the packer must refuse, described in bad/README.md
  and bad/bad_fixtures.json. The crafted `os.system` pickle is only inspected with
  pickletools and Keras' restricted unpickler; it is never unpickled for real.

How to run (from the repository root):

    python3 -m venv .venv
    .venv/bin/pip install -r data-tools/scripts/requirements.txt
    .venv/bin/python data-tools/scripts/gen_pack_fixtures.py

Every random choice uses fixed seeds, and zip members carry zipfile's fixed
1980-01-01 timestamp, so rerunning with the pinned versions rewrites identical
files (apart from the timing fields noted above).
"""

import argparse
import collections
import hashlib
import io
import json
import os
import pickle
import pickletools
import platform
import sys
import time
import warnings
import zipfile
from pathlib import Path

os.environ["KERAS_BACKEND"] = "jax"

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.model_selection._split import _validate_shuffle_split  # noqa: E402

import keras  # noqa: E402
import keras.src.datasets.imdb as keras_imdb  # noqa: E402
from keras.src.datasets import npz_utils  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "data-tools" / "tests" / "fixtures"
BAD = FIXTURES / "bad"
SHARED_NPZ = Path("/work/shared/data/imdb.npz")

DATA_SEED = 20240917  # seed of the synthetic reviews (RandomState, stable across numpy versions)
N_TRAIN, N_TEST = 150, 90
MANY_TRAIN, MANY_TEST = 300, 40
ZIPF_MAX_RANK, ZIPF_EXPONENT = 3000, 1.05
BIG_RANKS = [255, 256, 65535, 65536, 88584, 100000]  # pickle BININT1/BININT2/BININT boundaries

DEFAULT_PARAMS = {
    "num_words": 500,
    "maxlen": 100,
    "seed": 113,
    "val_split": 0.2,
    "split_seed": 42,
    "skip_top": 0,
    "start_char": 1,
    "oov_char": 2,
    "index_from": 3,
    "padding": "pre",
    "truncating": "pre",
}

CASES = {
    "defaults": {},
    "nw1000_ml200_post": {"num_words": 1000, "maxlen": 200, "padding": "post", "truncating": "post"},
    "skip10": {"skip_top": 10, "num_words": 300, "maxlen": 50, "truncating": "post", "padding": "pre"},
    "nostart_nooov": {"start_char": None, "oov_char": None, "index_from": 2, "maxlen": 30},
    "seed7_split033": {"seed": 7, "split_seed": 3, "val_split": 0.33, "maxlen": 40},
    "nosplit": {"val_split": 0.0},
    "all_words": {"num_words": None},
    # Keras' `if not num_words`: 0 is None.
    "num_words_zero": {"num_words": 0},
    # Vocabularies around and beyond the token file's u16 ids (version 1 up to 65,536 words,
    # version 2 above): ranks 65535 and 65536 become ids 65538 and 65539.
    "nw65536": {"num_words": 65536},
    "nw65540": {"num_words": 65540},
    "nw88587": {"num_words": 88587},
}

CASE_INPUT = "small_p4_deflated.npz"

SPLIT_CONVENTION = (
    "val_split > 0: (train, val) = train_test_split(load_data x_train, y_train, "
    "test_size=val_split, random_state=split_seed); val_split == 0: train_test_split is "
    "not called, val is empty and train keeps load_data's (shuffled) order"
)


def versions():
    return {
        "keras": keras.__version__,
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "python": platform.python_version(),
    }


# --------------------------------------------------------------------------- JSON


def _fmt(obj, indent):
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad} {json.dumps(k)}: {_fmt(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(v, (list, dict)) for v in obj):
            return json.dumps(obj, separators=(",", ":"))
        items = [f"{pad} {_fmt(v, indent + 1)}" for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj)


def write_json(path, obj):
    """Readable but compact: nested containers indented, flat lists on one line."""
    text = _fmt(obj, 0) + "\n"
    assert json.loads(text) == obj
    path.write_text(text)


# ------------------------------------------------------------------ synthetic data


def make_dataset():
    """Deterministic Keras-layout data: (x_train, y_train, x_test, y_test)."""
    rs = np.random.RandomState(DATA_SEED)
    ranks = np.arange(1, ZIPF_MAX_RANK + 1)
    p = 1.0 / ranks.astype(np.float64) ** ZIPF_EXPONENT
    p /= p.sum()

    def lengths(n, specials):
        rest = n - len(specials)
        drawn = np.clip(rs.gamma(1.4, 60.0, size=rest).astype(np.int64), 2, 430)
        out = np.concatenate([np.array(specials, dtype=np.int64), drawn])
        return [int(v) for v in out[rs.permutation(n)]]

    def reviews(lens):
        out = []
        for n in lens:
            out.append([int(v) for v in rs.choice(ranks, size=n, p=p)])
        return out

    # maxlen boundaries of the cases (30, 40, 50, 100, 200) +-1 and the 1000-item
    # pickle APPENDS batch boundary.
    train_special = [0, 0, 0, 1, 1, 1, 2, 29, 30, 31, 49, 50, 51, 99, 100, 101,
                     199, 200, 201, 999, 1000, 1001, 2003]
    test_special = [0, 0, 1, 1, 2, 30, 40, 100, 101, 200, 1000, 1500]
    x_train = reviews(lengths(N_TRAIN, train_special))
    x_test = reviews(lengths(N_TEST, test_special))

    # A few large ranks (each exercising a different pickle int opcode) in a few
    # long-enough reviews.
    for xs in (x_train, x_test):
        long_ones = [i for i, x in enumerate(xs) if 20 <= len(x) <= 400][:2]
        for i in long_ones:
            for j, r in enumerate(BIG_RANKS):
                xs[i][3 * j + 1] = r

    y_train = rs.randint(0, 2, size=N_TRAIN).astype(np.int64)
    y_test = rs.randint(0, 2, size=N_TEST).astype(np.int64)
    return to_object_array(x_train), y_train, to_object_array(x_test), y_test


def make_many_short():
    """Second data set: 300 train / 40 test reviews of 0..11 words. With more than
    256 memoized lists in one stream, protocols 2/3 switch from BINPUT to
    LONG_BINPUT (as any 25,000-review file in those protocols does)."""
    rs = np.random.RandomState(DATA_SEED + 1)
    ranks = np.arange(1, ZIPF_MAX_RANK + 1)
    p = 1.0 / ranks.astype(np.float64) ** ZIPF_EXPONENT
    p /= p.sum()

    def reviews(n):
        return [[int(v) for v in rs.choice(ranks, size=int(k), p=p)]
                for k in rs.randint(0, 12, size=n)]

    x_train, x_test = reviews(MANY_TRAIN), reviews(MANY_TEST)
    y_train = rs.randint(0, 2, size=MANY_TRAIN).astype(np.int64)
    y_test = rs.randint(0, 2, size=MANY_TEST).astype(np.int64)
    return to_object_array(x_train), y_train, to_object_array(x_test), y_test


def to_object_array(lists):
    arr = np.empty(len(lists), dtype=object)
    for i, x in enumerate(lists):
        arr[i] = x
    return arr


# -------------------------------------------------------------------- npz writing


def npy_bytes(arr, protocol=4, version=(1, 0), pickler=None):
    """One .npy member, mirroring numpy.lib.format.write_array.

    numpy writes object arrays as header + pickle.dump(array, protocol=4); this
    does the same with a chosen protocol (and optionally the pure-Python pickler).
    """
    buf = io.BytesIO()
    if arr.dtype.hasobject:
        header = np.lib.format.header_data_from_array_1_0(arr)
        if version == (1, 0):
            np.lib.format.write_array_header_1_0(buf, header)
        elif version == (2, 0):
            np.lib.format.write_array_header_2_0(buf, header)
        else:
            raise ValueError(version)
        if pickler is None:
            pickle.dump(arr, buf, protocol=protocol)
        else:
            pickler(buf, protocol=protocol).dump(arr)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Stored array in format 2.0/3.0"
            np.lib.format.write_array(buf, arr, version=version, allow_pickle=False)
    return buf.getvalue()


def write_zip(path, members, compression):
    """members: list of (name, bytes). Same ZipInfo settings as np.savez: fixed
    1980 timestamp (ZipInfo default), force_zip64 local headers."""
    with zipfile.ZipFile(path, mode="w", compression=compression, allowZip64=True) as zf:
        for name, data in members:
            with zf.open(name, "w", force_zip64=True) as fid:
                fid.write(data)


def keras_members(x_train, y_train, x_test, y_test, **kw):
    return [
        ("x_train.npy", npy_bytes(x_train, **kw)),
        ("y_train.npy", npy_bytes(y_train, **kw)),
        ("x_test.npy", npy_bytes(x_test, **kw)),
        ("y_test.npy", npy_bytes(y_test, **kw)),
    ]


def npy_with_header_version(arr, version):
    """npy bytes with an explicit header version (numpy's writer, protocol 4)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        np.lib.format.write_array(buf, arr, version=version)
    return buf.getvalue()


def numpycore_spelling(npy):
    """Protocol-2 npy: rename the _reconstruct global to the numpy<2 module.

    Protocol 2 GLOBAL opcodes are newline-terminated text without a length
    prefix, so a plain byte replacement keeps the stream valid."""
    old = b"cnumpy._core.multiarray\n_reconstruct\n"
    new = b"cnumpy.core.multiarray\n_reconstruct\n"
    assert npy.count(old) == 1
    return npy.replace(old, new)


def write_variants(data):
    x_train, y_train, x_test, y_test = data
    D, S = zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED
    details = {}

    def variant(name, members, compression, **info):
        write_zip(FIXTURES / name, members, compression)
        details[name] = dict(info, compression="deflated" if compression == D else "stored")

    for proto, comp, name in [(2, D, "small_p2_deflated.npz"), (3, S, "small_p3_stored.npz"),
                              (4, D, "small_p4_deflated.npz"), (5, S, "small_p5_stored.npz")]:
        variant(name, keras_members(*data, protocol=proto), comp,
                pickle_protocol=proto, npy_version="1.0", label_dtype="<i8")

    for dt, name in [("<i4", "small_labels_i32.npz"), ("|u1", "small_labels_u8.npz")]:
        variant(name, keras_members(x_train, y_train.astype(dt), x_test, y_test.astype(dt)), D,
                pickle_protocol=4, npy_version="1.0", label_dtype=dt)

    for ver, name in [((2, 0), "small_npy_v2.npz"), ((3, 0), "small_npy_v3.npz")]:
        members = [(k + ".npy", npy_with_header_version(a, ver))
                   for k, a in (("x_train", x_train), ("y_train", y_train),
                                ("x_test", x_test), ("y_test", y_test))]
        variant(name, members, D, pickle_protocol=4, npy_version=f"{ver[0]}.{ver[1]}",
                label_dtype="<i8")

    np.savez_compressed(FIXTURES / "small_numpy_savez.npz", x_train=x_train, y_train=y_train,
                        x_test=x_test, y_test=y_test)
    details["small_numpy_savez.npz"] = dict(pickle_protocol=4, npy_version="1.0",
                                            label_dtype="<i8", compression="deflated",
                                            writer="numpy.savez_compressed")

    members = [(n, numpycore_spelling(b) if n.startswith("x_") else b)
               for n, b in keras_members(*data, protocol=2)]
    variant("small_p2_numpycore_deflated.npz", members, D, pickle_protocol=2, npy_version="1.0",
            label_dtype="<i8")

    variant("small_p4_pypickler_stored.npz",
            keras_members(*data, protocol=4, pickler=pickle._Pickler), S,
            pickle_protocol=4, npy_version="1.0", label_dtype="<i8", writer="pickle._Pickler")

    for name, info in details.items():
        info.update(inspect_npz(FIXTURES / name))
    return details


def inspect_npz(path):
    """Facts about a written npz, from the bytes (never unpickles)."""
    out = {"bytes": path.stat().st_size, "members": []}
    with zipfile.ZipFile(path) as zf:
        for zi in zf.infolist():
            raw = zf.read(zi)
            m = {"name": zi.filename, "npy_version": f"{raw[6]}.{raw[7]}"}
            with io.BytesIO(raw) as f:
                ver = np.lib.format.read_magic(f)
                hdr = (np.lib.format.read_array_header_1_0(f) if ver == (1, 0)
                       else np.lib.format.read_array_header_2_0(f))
                m["shape"], m["fortran_order"], m["descr"] = list(hdr[0]), hdr[1], hdr[2].str
                if hdr[2].hasobject:
                    stream = raw[f.tell():]
                    ops = collections.Counter()
                    globals_ = []
                    pushed = []  # values of string pushes (None for anything else)
                    memo = {}
                    for op, arg, _ in pickletools.genops(stream):
                        ops[op.name] += 1
                        if op.name == "PROTO":
                            m["pickle_protocol"] = arg
                        elif op.name == "GLOBAL":
                            globals_.append(arg.replace(" ", "."))
                        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
                            pushed.append(arg)
                        elif op.name == "MEMOIZE":
                            memo[len(memo)] = pushed[-1] if pushed else None
                        elif op.name in ("BINPUT", "LONG_BINPUT", "PUT"):
                            memo[arg] = pushed[-1] if pushed else None
                        elif op.name in ("BINGET", "LONG_BINGET", "GET"):
                            pushed.append(memo.get(arg))
                        elif op.name == "STACK_GLOBAL":
                            globals_.append(f"{pushed[-2]}.{pushed[-1]}")
                            pushed.append(None)
                        else:
                            pushed.append(None)
                    m["pickle_globals"] = sorted(set(globals_))
                    m["pickle_opcodes"] = dict(sorted(ops.items()))
            out["members"].append(m)
    return out


# ----------------------------------------------------------------------- pipeline


def patched_get_file(npz_path):
    def get_file(fname=None, origin=None, file_hash=None, **kwargs):
        return str(npz_path)
    return get_file


def keras_load(npz_path, p):
    keras_imdb.get_file = patched_get_file(npz_path)  # never download
    return keras.datasets.imdb.load_data(
        num_words=p["num_words"], skip_top=p["skip_top"], seed=p["seed"],
        start_char=p["start_char"], oov_char=p["oov_char"], index_from=p["index_from"])


def effective_num_words(npz_arrays, p):
    """What load_data uses as num_words (mirrors its `if not num_words` branch)."""
    if p["num_words"]:
        return p["num_words"]
    best = None
    for key in ("x_train", "x_test"):
        for x in npz_arrays[key]:
            xs = ([p["start_char"]] if p["start_char"] is not None else []) + \
                 [w + (p["index_from"] or 0) for w in x]
            m = max(xs)
            best = m if best is None else max(best, m)
    return int(best)


def run_pipeline(npz_path, p):
    (x_train, y_train), (x_test, y_test) = keras_load(npz_path, p)
    if p["val_split"] > 0:
        x_tr, x_val, y_tr, y_val = train_test_split(
            x_train, y_train, test_size=p["val_split"], random_state=p["split_seed"])
    else:
        x_tr, y_tr = x_train, y_train
        x_val, y_val = [], np.zeros(0, dtype=y_train.dtype)
    out = {}
    for name, xs, ys in (("train", x_tr, y_tr), ("val", x_val, y_val), ("test", x_test, y_test)):
        padded = keras.utils.pad_sequences(list(xs), maxlen=p["maxlen"], padding=p["padding"],
                                           truncating=p["truncating"], value=0)
        out[name] = {"padded": padded.reshape(len(xs), p["maxlen"]),
                     "labels": np.asarray(ys),
                     "lengths": np.array([len(x) for x in xs], dtype=np.int64)}
    return out


def splits_json(res):
    return {name: {"tokens": [[int(v) for v in row] for row in s["padded"]],
                   "labels": [int(v) for v in s["labels"]],
                   "lengths": [int(v) for v in s["lengths"]]}
            for name, s in res.items()}


def same_result(a, b):
    return all(np.array_equal(a[k]["padded"], b[k]["padded"])
               and np.array_equal(a[k]["labels"].astype(np.int64), b[k]["labels"].astype(np.int64))
               and np.array_equal(a[k]["lengths"], b[k]["lengths"]) for k in a)


# ------------------------------------------------------------------ verification


def np_load_all(path):
    with np.load(path, allow_pickle=True) as f:
        return {k: f[k] for k in f.files}


def assert_same_data(loaded, data):
    x_train, y_train, x_test, y_test = data
    assert sorted(loaded) == ["x_test", "x_train", "y_test", "y_train"], sorted(loaded)
    for key, ref in (("x_train", x_train), ("x_test", x_test)):
        got = loaded[key]
        assert got.dtype == object and got.ndim == 1 and len(got) == len(ref)
        for g, r in zip(got, ref):
            assert type(g) is list and g == r and all(type(v) is int for v in g)
    for key, ref in (("y_train", y_train), ("y_test", y_test)):
        assert np.array_equal(loaded[key].astype(np.int64), ref)


def check_variants(data, details, expected_defaults):
    p = dict(DEFAULT_PARAMS)
    for name, info in details.items():
        path = FIXTURES / name
        assert_same_data(np_load_all(path), data)
        try:
            res = run_pipeline(path, p)
        except pickle.UnpicklingError as e:
            assert info["pickle_protocol"] == 2 and "_codecs.encode" in str(e), (name, e)
            info["keras_load_data"] = "refused by Keras 3.15's restricted unpickler (_codecs.encode)"
            info["verified_by"] = "np.load(allow_pickle=True) arrays identical to small_p4_deflated.npz"
            continue
        assert same_result(res, expected_defaults), name
        info["keras_load_data"] = "ok"
        info["verified_by"] = "keras defaults pipeline output identical to expected_defaults.json"
    # Structural facts the Rust reader cares about.
    p4 = details[CASE_INPUT]["members"][0]
    assert p4["name"] == "x_train.npy" and "APPEND" in p4["pickle_opcodes"] \
        and "APPENDS" in p4["pickle_opcodes"] and "BININT" in p4["pickle_opcodes"]
    p2 = details["small_p2_deflated.npz"]["members"][0]
    assert "_codecs.encode" in p2["pickle_globals"]


def many_short_set():
    """many_short_p2_deflated.npz / many_short_p3_stored.npz + their defaults expectation."""
    data = make_many_short()
    x_train, y_train, x_test, y_test = data
    files = {"many_short_p2_deflated.npz": (2, zipfile.ZIP_DEFLATED),
             "many_short_p3_stored.npz": (3, zipfile.ZIP_STORED)}
    details = {}
    for name, (proto, comp) in files.items():
        write_zip(FIXTURES / name, keras_members(*data, protocol=proto), comp)
        assert_same_data(np_load_all(FIXTURES / name), data)
        details[name] = dict(pickle_protocol=proto, npy_version="1.0", label_dtype="<i8",
                             compression="deflated" if comp == zipfile.ZIP_DEFLATED else "stored")
        details[name].update(inspect_npz(FIXTURES / name))
        assert "LONG_BINPUT" in details[name]["members"][0]["pickle_opcodes"]
    p = dict(DEFAULT_PARAMS)
    res = run_pipeline(FIXTURES / "many_short_p3_stored.npz", p)
    write_json(FIXTURES / "expected_many_short_defaults.json", {
        "npz": "many_short_p3_stored.npz",
        "params": p,
        "effective_num_words": p["num_words"],
        "split_convention": SPLIT_CONVENTION,
        "splits": splits_json(res),
        "versions": versions(),
    })
    # num_words=None on data whose largest id fits the token file's u16 ids (the small set's
    # ranks reach 100000, which Keras handles and the u16 token file refuses by design).
    pa = dict(DEFAULT_PARAMS, num_words=None)
    res = run_pipeline(FIXTURES / "many_short_p3_stored.npz", pa)
    eff = effective_num_words(np_load_all(FIXTURES / "many_short_p3_stored.npz"), pa)
    write_json(FIXTURES / "expected_many_short_all_words.json", {
        "npz": "many_short_p3_stored.npz",
        "params": pa,
        "effective_num_words": int(eff),
        "split_convention": SPLIT_CONVENTION,
        "splits": splits_json(res),
        "versions": versions(),
    })
    details["many_short_p2_deflated.npz"]["keras_load_data"] = \
        "refused by Keras 3.15's restricted unpickler (_codecs.encode)"
    details["many_short_p2_deflated.npz"]["verified_by"] = \
        "np.load(allow_pickle=True) arrays identical to many_short_p3_stored.npz"
    details["many_short_p3_stored.npz"]["keras_load_data"] = "ok"
    return {"variants": list(files), "cases": {"defaults": "expected_many_short_defaults.json",
                                               "all_words": "expected_many_short_all_words.json"},
            "note": "300 train / 40 test reviews of 0..11 words: > 256 memoized lists per "
                    "stream, so protocols 2/3 use LONG_BINPUT",
            "variant_details": details}


# ----------------------------------------------------------------------- mt19937


def mt19937_golden():
    raw = []
    for s in (0, 42, 113, 4294967295):
        rs = np.random.RandomState(s)
        key = [int(v) for v in rs.get_state()[1][:5]]
        first = [int(v) for v in rs.randint(0, 2**32, size=10, dtype=np.uint32)]
        raw.append({"seed": s, "state_key_first5": key, "randint_u32_first10": first})
    perms = []
    for s, n in ((113, 10), (113, 25000), (42, 20), (42, 25000), (7, 1), (7, 2), (7, 1000)):
        perms.append({"seed": s, "n": n,
                      "permutation": [int(v) for v in np.random.RandomState(s).permutation(n)]})
    seq = []
    for s, sizes in ((113, (150, 90)), (113, (25000, 25000))):
        rs = np.random.RandomState(s)
        ps = []
        for n in sizes:
            idx = np.arange(n)
            rs.shuffle(idx)
            ps.append(idx)
        entry = {"seed": s, "sizes": list(sizes),
                 "note": "one RandomState(seed), rs.shuffle(np.arange(n)) for each size in turn "
                         "(load_data: train then test)"}
        if max(sizes) <= 1000:
            entry["permutations"] = [[int(v) for v in q] for q in ps]
        else:
            entry["permutations_sha256_le_u32"] = [sha(q.astype("<u4")) for q in ps]
            entry["permutations_first20"] = [[int(v) for v in q[:20]] for q in ps]
            entry["permutations_last20"] = [[int(v) for v in q[-20:]] for q in ps]
        seq.append(entry)
    # load_data's train permutation (size 25000, seed 113) is the first sequential one.
    assert seq[1]["permutations_first20"][0] == perms[1]["permutation"][:20]

    splits = []
    for n, ts, rs_seed in ((25000, 0.2, 42), (150, 0.2, 42), (7, 0.2, 42), (1, 0.2, 42),
                           (150, 0.33, 3), (20000, 0.2, 42), (120, 0.2, 42)):
        entry = {"n": n, "test_size": ts, "test_size_times_n": ts * n}
        try:
            n_train, n_test = _validate_shuffle_split(n, ts, None, default_test_size=0.25)
            entry.update(n_test=int(n_test), n_train=int(n_train))
            tr, te = train_test_split(np.arange(n), test_size=ts, random_state=rs_seed)
            assert len(te) == n_test and len(tr) == n_train
            perm = np.random.RandomState(rs_seed).permutation(n)
            assert np.array_equal(te, perm[:n_test]) and np.array_equal(tr, perm[n_test:])
            if n <= 200:
                entry["random_state"] = rs_seed
                entry["train_indices"] = [int(v) for v in tr]
                entry["test_indices"] = [int(v) for v in te]
        except ValueError as e:
            entry.update(n_test=int(np.ceil(ts * n)), n_train=n - int(np.ceil(ts * n)),
                         error=f"ValueError: {e}")
        splits.append(entry)
    return {
        "generator": "numpy.random.RandomState (legacy MT19937 seeding, "
                     "legacy Fisher-Yates shuffle with masked rejection sampling)",
        "raw_uint32": raw,
        "permutations": perms,
        "sequential_shuffles": seq,
        "train_test_split_sizes": splits,
        "train_test_split_rule": "n_test = ceil(test_size * n) in float64, n_train = n - n_test; "
                                 "perm = RandomState(random_state).permutation(n); "
                                 "test = perm[:n_test], train = perm[n_test:]; "
                                 "sklearn raises ValueError when n_train == 0",
        "versions": versions(),
    }


# ------------------------------------------------------------------- shared data


def sha(arr_or_bytes):
    b = arr_or_bytes if isinstance(arr_or_bytes, bytes) else np.ascontiguousarray(arr_or_bytes).tobytes()
    return hashlib.sha256(b).hexdigest()


def shared_expected(npz_path, runs):
    p = dict(DEFAULT_PARAMS)
    times, res = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        r = run_pipeline(npz_path, p)
        times.append(time.perf_counter() - t0)
        if res is not None:
            assert same_result(res, r)
        res = r
    splits = {}
    for name, s in res.items():
        assert s["padded"].dtype == np.int32 and int(s["padded"].max()) < 2**16
        assert set(np.unique(s["labels"]).tolist()) <= {0, 1}
        splits[name] = {
            "count": int(len(s["labels"])),
            "positives": int(s["labels"].sum()),
            "tokens_sha256": sha(s["padded"].astype("<u2")),
            "labels_sha256": sha(s["labels"].astype("u1")),
            "lengths_sha256": sha(s["lengths"].astype("<u4")),
            "mean_length": float(np.mean(s["lengths"])),
            "median_length": float(np.median(s["lengths"])),
        }
    assert [splits[k]["count"] for k in ("train", "val", "test")] == [20000, 5000, 25000]
    data = npz_path.read_bytes()
    wide = {}
    arrays = np_load_all(npz_path)
    for label, nw in (("none", None), ("zero", 0), ("88587", 88587)):
        pw = dict(DEFAULT_PARAMS, num_words=nw)
        rw = run_pipeline(npz_path, pw)
        eff = effective_num_words(arrays, pw)
        top = max(int(x["padded"].max()) for x in rw.values())
        assert top < eff
        distinct = np.unique(np.concatenate([x["padded"].ravel() for x in rw.values()]))
        wide[label] = {
            "params": pw,
            "effective_num_words": int(eff),
            "max_id": top,
            "distinct_ids": int(len(distinct)),
            "splits": {name: {"count": int(len(x["labels"])),
                              "tokens_sha256": sha(x["padded"].astype("<u4")),
                              "labels_sha256": sha(x["labels"].astype("u1")),
                              "lengths_sha256": sha(x["lengths"].astype("<u4"))}
                       for name, x in rw.items()},
        }
    assert wide["none"]["splits"] == wide["zero"]["splits"]
    return {
        "npz_sha256": hashlib.sha256(data).hexdigest(),
        "npz_bytes": len(data),
        "num_words": p["num_words"],
        "seq_len": p["maxlen"],
        "params": p,
        "hash_encodings": {"tokens": "padded int32 array cast to '<u2', row-major bytes",
                           "labels": "labels cast to 'u1'",
                           "lengths": "unpadded (post-load_data) lengths cast to '<u4'"},
        "splits": splits,
        "wide_vocab": wide,
        "wide_vocab_note": "num_words None / 0 / 88587: tokens as padded int32 cast to '<u4' "
                           "(the token file's version-2 ids), row-major bytes",
        "python_seconds": round(min(times), 3),
        "python_seconds_runs": [round(t, 3) for t in times],
        "python_seconds_note": "wall time of keras load_data + sklearn train_test_split + "
                               "3x pad_sequences (imports excluded); min over runs",
        "versions": versions(),
    }


# -------------------------------------------------------------------- bad inputs


def build_bad(data):
    """Malformed inputs. Returns {file: description}."""
    BAD.mkdir(parents=True, exist_ok=True)
    for f in BAD.glob("*.npz"):
        f.unlink()
    x_train, y_train, x_test, y_test = data
    # Small base: 12 train, 8 test, short reviews (keeps the files tiny).
    xtr = to_object_array([list(x[:15]) for x in x_train[:12]])
    ytr = y_train[:12].copy()
    xte = to_object_array([list(x[:15]) for x in x_test[:8]])
    yte = y_test[:8].copy()
    S = zipfile.ZIP_STORED
    bad = {}

    def put(name, members, idea, compression=S):
        write_zip(BAD / name, members, compression)
        bad[name] = {"idea": idea}

    def members(x_train=xtr, y_train=ytr, x_test=xte, y_test=yte, protocol=4, drop=()):
        m = [("x_train.npy", x_train), ("y_train.npy", y_train),
             ("x_test.npy", x_test), ("y_test.npy", y_test)]
        return [(n, a if isinstance(a, bytes) else npy_bytes(a, protocol=protocol))
                for n, a in m if n not in drop]

    put("missing_y_test.npz", members(drop=("y_test.npy",)),
        "no y_test member: missing required key 'y_test'")

    x2d = np.zeros((12, 15), dtype=np.int64)
    for i, x in enumerate(xtr):
        x2d[i, :len(x)] = x
    put("x_train_2d_int64.npz", members(x_train=x2d),
        "x_train is a plain 2-D int64 array (descr '<i8', shape (12, 15)), not a 1-D object "
        "array of lists: wrong dtype/shape for x_train")

    xf = to_object_array([[float(v) + 0.5 for v in x] for x in xtr])
    put("x_train_float_lists.npz", members(x_train=xf),
        "x_train elements are lists of Python floats (BINFLOAT opcodes): word ids must be ints")

    xs = to_object_array(list(xtr))
    xs[3] = "this is a string review"
    put("x_train_string_element.npz", members(x_train=xs),
        "x_train[3] is a str, not a list of ints")

    xn = to_object_array(list(xtr))
    xn[2] = [[5, 6], [7, [8, 9]]]
    put("x_train_nested_lists.npz", members(x_train=xn),
        "x_train[2] is a list of lists (list of lists of lists overall): word ids must be ints")

    xneg = to_object_array([list(x) for x in xtr])
    xneg[1][0] = -4
    put("x_train_negative_rank.npz", members(x_train=xneg),
        "x_train[1][0] = -4: word ranks must be >= 1 (Keras would silently shift it to -1). "
        "Recommended refusal: out-of-range word id")

    xbig = to_object_array([list(x) for x in xtr])
    xbig[1][0] = 2**40
    xbig[4][1] = 2**70
    put("x_train_huge_rank.npz", members(x_train=xbig),
        "x_train[1][0] = 2**40 (pickle LONG1, 6 bytes) and x_train[4][1] = 2**70 (LONG1, 9 bytes): "
        "does not fit a u32 word id. Recommended refusal: out-of-range word id")

    xsc = to_object_array([[np.int64(v) for v in x] for x in xtr])
    put("x_train_numpy_int_scalars.npz", members(x_train=xsc),
        "list elements are numpy.int64 scalars, pickled via the global "
        "numpy._core.multiarray.scalar: not a plain int / unexpected pickle global")

    put("y_train_label2.npz", members(y_train=np.where(np.arange(12) == 5, 2, ytr).astype(np.int64)),
        "y_train[5] == 2: labels must be 0 or 1 (Keras itself accepts this silently)")

    put("y_train_float64.npz", members(y_train=ytr.astype(np.float64)),
        "y_train has descr '<f8': labels must be an integer dtype")

    put("y_train_length_mismatch.npz", members(y_train=ytr[:11]),
        "y_train has 11 labels for 12 x_train reviews")

    put("y_train_2d.npz", members(y_train=ytr.reshape(12, 1)),
        "y_train has shape (12, 1): labels must be 1-D")

    onehot = np.asfortranarray(np.stack([1 - ytr, ytr], axis=1).astype(np.int64))
    assert onehot.flags.f_contiguous and not onehot.flags.c_contiguous
    put("y_train_fortran_2d.npz", members(y_train=onehot),
        "y_train.npy header has fortran_order True and shape (12, 2) (one-hot labels, "
        "column-major): labels must be 1-D (and fortran order is unexpected)")

    xod = to_object_array(list(xtr))
    xod[0] = collections.OrderedDict([(1, 2), (3, 4)])
    put("pickle_global_ordereddict.npz", members(x_train=xod),
        "x_train[0] is a collections.OrderedDict: the pickle references the global "
        "collections.OrderedDict, outside the allowed numpy reconstruction globals")

    put("pickle_global_os_system.npz", members(x_train=os_system_npy(xtr)),
        "crafted protocol-3 pickle: x_train[0] is `os.system('true')` (GLOBAL 'os system' + REDUCE). "
        "Must be refused as a forbidden global, before anything could run. Never load this "
        "with np.load(allow_pickle=True) / pickle.load")

    put("pickle_protocol0.npz", members(protocol=0),
        "x_train/x_test pickled with protocol 0 (text protocol, no PROTO opcode): only "
        "protocols 2-5 are accepted")

    put("pickle_protocol1.npz", members(protocol=1),
        "x_train/x_test pickled with protocol 1 (binary, no PROTO opcode): only protocols 2-5 "
        "are accepted")

    good = members()
    xt = dict(good)["x_train.npy"]
    put("x_train_truncated_pickle.npz",
        [(n, b[: len(b) * 2 // 3] if n == "x_train.npy" else b) for n, b in good],
        "x_train.npy pickle stream cut at 2/3 (no STOP opcode): truncated pickle")

    put("bad_npy_magic.npz", [(n, b"\x93NUMPX" + b[6:] if n == "x_train.npy" else b) for n, b in good],
        "x_train.npy does not start with the npy magic b'\\x93NUMPY'")
    del xt

    put("zip_bzip2_member.npz", good,
        "every member compressed with bzip2 (ZIP_BZIP2, method 12): only stored (0) and "
        "deflate (8) are accepted", compression=zipfile.ZIP_BZIP2)

    put("zip_lzma_member.npz", good,
        "every member compressed with LZMA (ZIP_LZMA, method 14): only stored (0) and "
        "deflate (8) are accepted", compression=zipfile.ZIP_LZMA)

    with zipfile.ZipFile(BAD / "empty_zip.npz", "w"):
        pass
    bad["empty_zip.npz"] = {"idea": "valid zip with no members: missing key 'x_train' (or: empty archive)"}

    (BAD / "not_a_zip.npz").write_bytes(
        b"This is not a zip archive; it is a plain text file named .npz.\n" * 4)
    bad["not_a_zip.npz"] = {"idea": "not a zip file at all (no end-of-central-directory record)"}

    full = io.BytesIO()
    with zipfile.ZipFile(full, "w", zipfile.ZIP_STORED) as zf:
        for n, b in good:
            zf.writestr(zipfile.ZipInfo(n), b)
    (BAD / "truncated_zip.npz").write_bytes(full.getvalue()[: len(full.getvalue()) // 2])
    bad["truncated_zip.npz"] = {"idea": "first half of a valid npz: zip central directory missing"}
    return bad


def os_system_npy(xtr):
    """Protocol-3 npy whose first element is os.system('true'), built without running it.

    A placeholder object reduces to (builtins.print, ('true',)); its GLOBAL text is
    then renamed to 'os system'. Protocol 3 GLOBALs are newline-terminated text with
    no length prefix and there are no frames, so the rename keeps the stream valid.
    (Protocol 3, not 2, so that the array's bytes argument is SHORT_BINBYTES and a
    restricted unpickler reaches the os.system global rather than `_codecs.encode`.)"""
    class Placeholder:
        def __reduce__(self):
            return (print, ("true",))

    arr = to_object_array(list(xtr))
    arr[0] = Placeholder()
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, np.lib.format.header_data_from_array_1_0(arr))
    pickle.Pickler(buf, protocol=3, fix_imports=False).dump(arr)
    b = buf.getvalue()
    old, new = b"cbuiltins\nprint\n", b"cos\nsystem\n"
    assert b.count(old) == 1
    b = b.replace(old, new)
    # Sanity without executing: the stream parses and names os.system.
    stream = b[np.lib.format.MAGIC_LEN + 2 + int.from_bytes(b[8:10], "little"):]
    globals_ = [arg for op, arg, _ in pickletools.genops(stream) if op.name == "GLOBAL"]
    assert "os system" in globals_, globals_
    return b


SAFE_TO_UNPICKLE = lambda name: name != "pickle_global_os_system.npz"  # noqa: E731


def python_behaviour(path):
    """Observed Python behaviour: keras' restricted loader, and np.load where safe."""
    out = {}
    try:
        arrays = npz_utils.load_npz(path)
        out["keras_npz_utils_load_npz"] = "ok: keys " + ",".join(sorted(arrays))
    except Exception as e:  # noqa: BLE001
        out["keras_npz_utils_load_npz"] = f"{type(e).__name__}: {str(e)[:160]}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            keras_load(path, dict(DEFAULT_PARAMS))
        out["keras_load_data"] = "ok (accepted silently)"
    except Exception as e:  # noqa: BLE001
        out["keras_load_data"] = f"{type(e).__name__}: {str(e)[:160]}"
    if SAFE_TO_UNPICKLE(path.name):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with np.load(path, allow_pickle=path.name != "not_a_zip.npz") as f:
                    shapes = {k: (f[k].dtype.str, f[k].shape) for k in f.files}
            out["np_load_allow_pickle"] = "ok: " + ", ".join(
                f"{k} {d}{list(s)}" for k, (d, s) in sorted(shapes.items()))
        except Exception as e:  # noqa: BLE001
            out["np_load_allow_pickle"] = f"{type(e).__name__}: {str(e)[:160]}"
    else:
        out["np_load_allow_pickle"] = "not attempted (would call os.system)"
    return out


def check_bad(bad):
    for name, info in bad.items():
        info["bytes"] = (BAD / name).stat().st_size
        info["python"] = python_behaviour(BAD / name)
        info["expect"] = "error"
    # Spot checks that the files fail (or are refused) the way intended.
    py = {k: v["python"] for k, v in bad.items()}
    assert py["missing_y_test.npz"]["keras_load_data"].startswith("KeyError")
    assert "os.system" in py["pickle_global_os_system.npz"]["keras_npz_utils_load_npz"]
    assert "collections.OrderedDict" in py["pickle_global_ordereddict.npz"]["keras_npz_utils_load_npz"]
    assert "_codecs.encode" in py["pickle_protocol0.npz"]["keras_npz_utils_load_npz"]
    assert py["zip_bzip2_member.npz"]["np_load_allow_pickle"].startswith("ok")
    assert py["not_a_zip.npz"]["keras_load_data"].startswith("BadZipFile")
    assert py["truncated_zip.npz"]["keras_load_data"].startswith("BadZipFile")
    assert py["y_train_fortran_2d.npz"]["np_load_allow_pickle"].startswith("ok")
    assert py["x_train_string_element.npz"]["keras_load_data"].startswith("TypeError")
    assert py["x_train_nested_lists.npz"]["keras_load_data"].startswith("TypeError")
    assert "scalar" in py["x_train_numpy_int_scalars.npz"]["keras_npz_utils_load_npz"]
    with zipfile.ZipFile(BAD / "zip_bzip2_member.npz") as zf:
        assert {zi.compress_type for zi in zf.infolist()} == {zipfile.ZIP_BZIP2}
    with open(BAD / "y_train_fortran_2d.npz", "rb") as fh, zipfile.ZipFile(fh) as zf:
        with zf.open("y_train.npy") as f:
            np.lib.format.read_magic(f)
            shape, fortran, _ = np.lib.format.read_array_header_1_0(f)
            assert fortran and shape == (12, 2)
    for name in ("pickle_protocol0.npz", "pickle_protocol1.npz"):
        with zipfile.ZipFile(BAD / name) as zf:
            raw = zf.read("x_train.npy")
        assert raw[np.lib.format.MAGIC_LEN + 2 + int.from_bytes(raw[8:10], "little")] != 0x80


def write_bad_readme(bad):
    lines = [
        "# Bad `imdb-pack` inputs",
        "",
        "Generated by `data-tools/scripts/gen_pack_fixtures.py` (do not edit by hand). Every file",
        "here must make `imdb-pack` fail with a clear error; none may be partially accepted.",
        "The base data is 12 train / 8 test reviews of the synthetic fixture set, ZIP_STORED,",
        "pickle protocol 4, unless the row says otherwise. `bad_fixtures.json` holds the same",
        "information in machine-readable form, plus what Python does with each file",
        "(`keras.src.datasets.npz_utils.load_npz`, `keras.datasets.imdb.load_data`, and",
        "`np.load(allow_pickle=True)`), observed with the versions in `../fixtures.json`.",
        "Several are *accepted by Keras* (labels 2, float labels, bzip2 members, 2-D x_train,",
        "float word ids): the packer is deliberately stricter than Keras there.",
        "",
        "**`pickle_global_os_system.npz` is a hostile pickle**: never open it with",
        "`np.load(allow_pickle=True)` or `pickle.load`. The command it names is `true`.",
        "",
        "| file | bytes | expected error (idea) | Keras `load_data` does |",
        "|---|---|---|---|",
    ]
    for name, info in bad.items():
        kd = info["python"]["keras_load_data"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{name}` | {info['bytes']} | {info['idea']} | {kd} |")
    (BAD / "README.md").write_text("\n".join(lines) + "\n")
    write_json(BAD / "bad_fixtures.json", {"fixtures": bad, "versions": versions()})


# ------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared-npz", type=Path, default=SHARED_NPZ)
    ap.add_argument("--skip-shared", action="store_true")
    ap.add_argument("--timing-runs", type=int, default=3)
    args = ap.parse_args()

    FIXTURES.mkdir(parents=True, exist_ok=True)
    data = make_dataset()
    details = write_variants(data)
    print("variants:", ", ".join(f"{n} ({d['bytes']} B)" for n, d in details.items()))

    case_files = {}
    expected_defaults = None
    src = np_load_all(FIXTURES / CASE_INPUT)
    for case, overrides in CASES.items():
        p = dict(DEFAULT_PARAMS, **overrides)
        res = run_pipeline(FIXTURES / CASE_INPUT, p)
        eff = effective_num_words(src, p)
        if p["num_words"] is None:
            # Keras maps the max id itself to OOV: it must not survive anywhere.
            assert all(int(s["padded"].max()) < eff for s in res.values())
        doc = {
            "npz": CASE_INPUT,
            "params": p,
            "effective_num_words": eff,
            "split_convention": SPLIT_CONVENTION,
            "splits": splits_json(res),
            "versions": versions(),
        }
        fname = f"expected_{case}.json"
        write_json(FIXTURES / fname, doc)
        case_files[case] = fname
        if case == "defaults":
            expected_defaults = res
        print(f"case {case}: " + ", ".join(f"{k} {len(v['labels'])}" for k, v in res.items()))

    check_variants(data, details, expected_defaults)
    many = many_short_set()
    write_json(FIXTURES / "fixtures.json", {
        "variants": list(details),
        "cases": case_files,
        "case_input": CASE_INPUT,
        "variants_expect": "every variant with the `defaults` params gives exactly expected_defaults.json",
        "variant_details": details,
        "extra_sets": {"many_short": many},
        "data": {"seed": DATA_SEED, "n_train": N_TRAIN, "n_test": N_TEST,
                 "zipf_max_rank": ZIPF_MAX_RANK, "zipf_exponent": ZIPF_EXPONENT,
                 "big_ranks": BIG_RANKS},
        "versions": versions(),
    })

    write_json(FIXTURES / "mt19937.json", mt19937_golden())

    bad = build_bad(data)
    check_bad(bad)
    write_bad_readme(bad)
    print("bad:", ", ".join(bad))

    if not args.skip_shared:
        if not args.shared_npz.exists():
            sys.exit(f"{args.shared_npz} not found (use --skip-shared)")
        doc = shared_expected(args.shared_npz, args.timing_runs)
        write_json(FIXTURES / "shared_imdb_expected.json", doc)
        print("shared:", json.dumps(doc["splits"], indent=1), "seconds", doc["python_seconds_runs"])


if __name__ == "__main__":
    main()
