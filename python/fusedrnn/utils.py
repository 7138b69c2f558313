"""``pad_sequences`` (Keras), ``train_test_split`` (scikit-learn) and seeding."""

from __future__ import annotations

import itertools
import secrets
from typing import Any, List, Optional, Sequence, Union

import numpy as np

from . import _native

_seed: int = 42


def set_random_seed(seed: int) -> None:
    """Seed weight initialisation, shuffling and dropout (as ``keras.utils.set_random_seed``).

    fusedrnn is deterministic: without a call the seed is 42, and the same seed gives the same
    weights and training run whatever the thread count.
    """
    global _seed
    if not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    _seed = int(seed)


def current_seed() -> int:
    """The seed set by :func:`set_random_seed` (42 by default)."""
    return _seed


def pad_sequences(
    sequences: Any,
    maxlen: Optional[int] = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pad sequences to one length, exactly as ``keras.utils.pad_sequences`` does.

    Args:
        sequences: a list (or object array) of lists of integers, or a 2-D integer array.
        maxlen: the output length; ``None`` takes the longest sequence.
        dtype: the output dtype; integer dtypes only (Keras also pads floats and strings).
        padding: ``"pre"`` or ``"post"``: where the padding goes.
        truncating: ``"pre"`` or ``"post"``: which end of a longer sequence is dropped.
        value: the padding value.

    Returns:
        ``[len(sequences), maxlen]`` array of ``dtype``.
    """
    dt = np.dtype(dtype)
    if dt.kind not in "iu":
        raise ValueError(
            f"dtype {dt}: fusedrnn.pad_sequences pads integer token ids only (Keras' other dtypes "
            "are not supported)"
        )
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    rows: Sequence[Any] = sequences
    lengths = np.fromiter((len(s) for s in rows), dtype=np.int64, count=len(rows))
    if maxlen is None:
        if len(lengths) == 0:
            raise ValueError("maxlen=None with no sequences (Keras' np.max of [] raises)")
        maxlen = int(lengths.max())
    maxlen = int(maxlen)
    if maxlen < 0:
        raise ValueError(f"maxlen must be >= 0, got {maxlen}")
    if maxlen == 0 and lengths.any():
        raise ValueError("maxlen=0 cannot hold a non-empty sequence")
    if isinstance(rows, np.ndarray) and rows.ndim == 2 and rows.dtype.kind in "iu":
        flat = np.ascontiguousarray(rows, dtype=np.int64).reshape(-1)
    else:
        flat = np.fromiter(
            itertools.chain.from_iterable(rows), dtype=np.int64, count=int(lengths.sum())
        )
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    info = np.iinfo(dt)
    fill = int(value)
    if not info.min <= fill <= info.max:
        raise OverflowError(f"value {value!r} is out of bounds for {dt}")
    out = _native.pad_sequences(flat, offsets, maxlen, fill, padding, truncating)
    if out.size and (out.min() < info.min or out.max() > info.max):
        raise OverflowError(f"a token id is out of bounds for {dt}")
    return out.astype(dt, copy=False)


def _size_arg(name: str, size: Any) -> tuple[Optional[int], Optional[float]]:
    if size is None:
        return None, None
    kind = np.asarray(size).dtype.kind
    if kind == "i" or kind == "u":
        return int(size), None
    if kind == "f":
        return None, float(size)
    raise ValueError(f"Invalid value for {name}: {size!r}")


def _take(a: Any, idx: np.ndarray) -> Any:
    if isinstance(a, np.ndarray):
        return a[idx]
    if hasattr(a, "iloc"):
        return a.iloc[idx]
    return [a[int(i)] for i in idx]


def train_test_split(
    *arrays: Any,
    test_size: Union[float, int, None] = None,
    train_size: Union[float, int, None] = None,
    random_state: Optional[int] = None,
    shuffle: bool = True,
    stratify: Any = None,
) -> List[Any]:
    """Split arrays into train and test subsets, as ``sklearn.model_selection.train_test_split``.

    For an integer ``random_state`` the rows are exactly scikit-learn's (numpy's MT19937
    ``RandomState(random_state).permutation``). ``random_state=None`` draws a fresh seed.

    Returns:
        ``[a_train, a_test, b_train, b_test, ...]`` for ``arrays = (a, b, ...)``.
    """
    if not arrays:
        raise ValueError("At least one array required as input")
    if stratify is not None:
        raise ValueError("stratify is not supported by fusedrnn.train_test_split")
    n = len(arrays[0])
    lengths = [len(a) for a in arrays]
    if any(k != n for k in lengths):
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {lengths}")
    if random_state is None:
        seed = secrets.randbits(32)
    elif isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        seed = int(random_state)
        if not 0 <= seed < 2**32:
            raise ValueError(f"random_state must be in [0, 2**32 - 1], got {seed}")
    else:
        raise ValueError(f"random_state={random_state!r}: fusedrnn takes an integer seed (or None)")
    tc, tf = _size_arg("test_size", test_size)
    rc, rf = _size_arg("train_size", train_size)
    train_idx, test_idx = _native.split_indices(n, tc, tf, rc, rf, bool(shuffle), seed)
    out: List[Any] = []
    for a in arrays:
        out.append(_take(a, train_idx))
        out.append(_take(a, test_idx))
    return out
