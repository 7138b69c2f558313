"""Packed token files (``.tok``, written by ``imdb-pack``) as zero-copy numpy views."""

from __future__ import annotations

import os
from typing import Any, Dict, NamedTuple, Union

import numpy as np
import numpy.typing as npt

from . import _native


class TokSplit(NamedTuple):
    """One split: read-only views of the file's validated bytes (no copy)."""

    tokens: Union[npt.NDArray[np.uint16], npt.NDArray[np.uint32]]
    """``[n, seq_len]`` padded token ids: ``uint16``, or ``uint32`` in a version-2 file
    (``num_words`` above 65,536, e.g. ``imdb-pack --num-words none``)."""
    labels: npt.NDArray[np.uint8]
    """``[n]`` labels, 0 or 1."""
    lengths: npt.NDArray[np.uint32]
    """``[n]`` unpadded review lengths."""


class TokFile:
    """A packed token file, validated on open (checksums, bounds, every token id).

    ``TokFile(path).test.tokens`` is a read-only ``uint16`` view of the file's bytes (``uint32``
    when the file's ``num_words`` exceeds 65,536: format version 2), which it keeps alive; pass it
    straight to ``model.predict`` or ``model.evaluate`` (ids beyond the model's vocabulary are a
    ``ValueError`` naming the row).
    """

    def __init__(self, path: Union[str, os.PathLike]) -> None:
        self._file = _native.TokFile(os.fspath(path))

    @property
    def num_words(self) -> int:
        """Every token id is below this."""
        return self._file.num_words

    @property
    def version(self) -> int:
        """The format version: 1 (``uint16`` ids) or 2 (``uint32`` ids)."""
        return self._file.version

    @property
    def seq_len(self) -> int:
        """Tokens per row (``maxlen``)."""
        return self._file.seq_len

    @property
    def params(self) -> Dict[str, Any]:
        """The ``imdb-pack`` parameters the file was packed with."""
        return self._file.params()

    def split(self, name: str) -> TokSplit:
        """The split ``"train"``, ``"val"`` or ``"test"``."""
        return TokSplit(*self._file.split(name))

    @property
    def train(self) -> TokSplit:
        """The training split."""
        return self.split("train")

    @property
    def val(self) -> TokSplit:
        """The validation split (may be empty)."""
        return self.split("val")

    @property
    def test(self) -> TokSplit:
        """The test split."""
        return self.split("test")
