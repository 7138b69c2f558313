"""``keras.datasets.imdb``: the IMDB reviews from a local ``imdb.npz``; never downloads.

The file is looked for, in order: the ``path`` argument when it names an existing file,
``$FUSEDRNN_IMDB_NPZ``, Keras' cache ``~/.keras/datasets/imdb.npz``, and
``../shared/data/imdb.npz`` relative to the working directory. The word index likewise
(``$FUSEDRNN_IMDB_WORD_INDEX``, ``~/.keras/datasets/imdb_word_index.json``,
``../shared/data/imdb_word_index.json``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .. import _native

_Arrays = Tuple[Tuple[np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]]


def _candidates(path: Optional[str], env: str, name: str) -> List[Path]:
    fname = os.path.basename(path) if path else name
    out: List[Path] = []
    if path and os.path.dirname(path):
        out.append(Path(path).expanduser())
    if os.environ.get(env):
        out.append(Path(os.environ[env]))
    out.append(Path.home() / ".keras" / "datasets" / fname)
    out.append(Path("..") / "shared" / "data" / fname)
    return out


def _find(path: Optional[str], env: str, name: str) -> Path:
    tried = _candidates(path, env, name)
    for p in tried:
        if p.is_file():
            return p
    looked = "\n  ".join(str(p) for p in tried)
    raise FileNotFoundError(
        f"{name} not found (fusedrnn never downloads); looked in:\n  {looked}\n"
        f"Set ${env} to its path."
    )


def find_imdb_npz(path: Optional[str] = None) -> Path:
    """The ``imdb.npz`` that :func:`load_data` would read (``FileNotFoundError`` if none)."""
    return _find(path, "FUSEDRNN_IMDB_NPZ", "imdb.npz")


def _rows(ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    values = ids.tolist()
    bounds = offsets.tolist()
    xs = [values[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    # Keras builds its result the same way (so equal-length reviews give a 2-D array there too).
    return np.array(xs, dtype="object")


def _opt_int(name: str, v: Any) -> Optional[int]:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"{name} must be an integer or None, got {v!r}")
    return int(v)


def load_data(
    path: Optional[str] = "imdb.npz",
    num_words: Optional[int] = None,
    skip_top: int = 0,
    maxlen: Optional[int] = None,
    seed: int = 113,
    start_char: Optional[int] = 1,
    oov_char: Optional[int] = 2,
    index_from: int = 3,
    **kwargs: Any,
) -> _Arrays:
    """Load the IMDB reviews exactly as ``keras.datasets.imdb.load_data`` returns them.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: object arrays of Python lists of word ids, and
        int64 label arrays, in Keras' (shuffled) order.
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    npz = find_imdb_npz(path)
    nw = _opt_int("num_words", num_words)
    ml = _opt_int("maxlen", maxlen)
    for name, v in (("num_words", nw), ("maxlen", ml)):
        if v is not None and v < 0:
            raise ValueError(f"{name} must be >= 0, got {v}")
    skip = _opt_int("skip_top", skip_top)
    if skip is None or skip < 0:
        raise ValueError(f"skip_top must be an integer >= 0, got {skip_top!r}")
    sd = _opt_int("seed", seed)
    if sd is None or not 0 <= sd < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32 - 1], got {seed!r}")
    (a, b, c), (d, e, f) = _native.load_imdb(
        str(npz),
        nw,
        skip,
        ml,
        sd,
        _opt_int("start_char", start_char),
        _opt_int("oov_char", oov_char),
        int(index_from),
    )
    return (_rows(a, b), c.astype(np.int64)), (_rows(d, e), f.astype(np.int64))


def get_word_index(path: str = "imdb_word_index.json") -> Dict[str, int]:
    """The ``{word: rank}`` index of the reviews, as ``keras.datasets.imdb.get_word_index``."""
    p = _find(path, "FUSEDRNN_IMDB_WORD_INDEX", "imdb_word_index.json")
    with open(p, encoding="utf-8") as fh:
        index: Dict[str, int] = json.load(fh)
    return index


def write_synthetic_npz(
    path: str, train: int = 25000, test: int = 25000, seed: int = 20111
) -> None:
    """Write the deterministic synthetic corpus in ``imdb.npz``'s layout (for machines without it).

    IMDB-like review lengths and a learnable sentiment signal; the same generator as the demo.
    """
    _native.write_synthetic_imdb(os.fspath(path), train, test, seed)
