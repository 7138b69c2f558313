"""``keras.losses.BinaryCrossentropy``, the notebook's loss (Keras' clipping at 1e-7)."""

from __future__ import annotations

from typing import Any


class BinaryCrossentropy:
    """Binary cross-entropy on probabilities (``from_logits=False``)."""

    name = "binary_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, **kwargs: Any):
        if from_logits or label_smoothing:
            raise ValueError(
                "BinaryCrossentropy: from_logits and label_smoothing are not supported"
            )


def get(identifier: Any) -> str:
    """The loss name from a Keras identifier; only binary cross-entropy."""
    if isinstance(identifier, BinaryCrossentropy):
        return identifier.name
    if identifier in ("binary_crossentropy", "BinaryCrossentropy", "bce"):
        return "binary_crossentropy"
    raise ValueError(f"loss {identifier!r}: fusedrnn trains with binary_crossentropy only")


__all__ = ["BinaryCrossentropy", "get"]
