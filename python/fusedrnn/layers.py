"""The layers of the notebook's models, with Keras' names, arguments and defaults.

A layer here only records its configuration; :class:`fusedrnn.Sequential` checks that the
stack is one fusedrnn computes (``Embedding(V, width) | one-hot → SimpleRNN | LSTM | GRU(1..256)
→ Dense(1, sigmoid)``) and refuses anything else with a ``ValueError`` naming the layer.
"""

from __future__ import annotations

import itertools
from typing import Any, Dict, Optional, Tuple

_counters: Dict[str, itertools.count[int]] = {}

# The general networks' limits (``fusedrnn::net::spec``).
MAX_UNITS = 256
MAX_SEQ_LEN = 4096
MAX_VOCAB = 1 << 24
MAX_WIDTH = 4096


def _auto_name(base: str) -> str:
    n = next(_counters.setdefault(base, itertools.count()))
    return base if n == 0 else f"{base}_{n}"


class Layer:
    """Base class: a name and the Keras arguments fusedrnn does not model (checked later)."""

    _base = "layer"

    def __init__(self, name: Optional[str] = None, **kwargs: Any) -> None:
        self.name = name or _auto_name(self._base)
        self.input_shape: Optional[Tuple[Optional[int], ...]] = kwargs.pop("input_shape", None)
        if "batch_input_shape" in kwargs:
            self.input_shape = tuple(kwargs.pop("batch_input_shape"))[1:]
        self.extra = kwargs

    def _refuse(self, problem: str) -> ValueError:
        return ValueError(f"layer `{self.name}` ({type(self).__name__}): {problem}")

    def _check_extra(self, allowed: Dict[str, Any]) -> None:
        for key, value in self.extra.items():
            if key in ("dtype", "trainable") and value in (None, True, "float32"):
                continue
            if key.endswith(("_regularizer", "_constraint")) and value is None:
                continue
            if key in allowed and value == allowed[key]:
                continue
            raise self._refuse(f"{key}={value!r} is not supported by fusedrnn")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class Embedding(Layer):
    """``keras.layers.Embedding(input_dim, output_dim, input_length=maxlen)``.

    Any width 1..4096 and vocabulary 1..2**24; without ``input_length`` the model runs the
    notebook's 100 steps. ``(V, 16)`` with an ``LSTM(8)`` or ``SimpleRNN(8)`` over 100 steps is the
    notebook's shape, on its fixed-shape kernels.
    """

    _base = "embedding"

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: str = "uniform",
        mask_zero: bool = False,
        input_length: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = embeddings_initializer
        self.mask_zero = mask_zero
        self.input_length = input_length

    def check(self) -> None:
        """Raise ``ValueError`` unless fusedrnn computes this layer."""
        self._check_extra({})
        if not 1 <= self.output_dim <= MAX_WIDTH:
            raise self._refuse(f"output_dim={self.output_dim} is outside 1..{MAX_WIDTH}")
        if not 1 <= self.input_dim <= MAX_VOCAB:
            raise self._refuse(f"input_dim={self.input_dim} is outside 1..{MAX_VOCAB}")
        if self.mask_zero:
            raise self._refuse("mask_zero=True is not supported (it skips padding steps)")
        if self.embeddings_initializer != "uniform":
            raise self._refuse(
                f"embeddings_initializer={self.embeddings_initializer!r}: only 'uniform'"
            )
        if self.input_length is not None and not 1 <= int(self.input_length) <= MAX_SEQ_LEN:
            raise self._refuse(f"input_length={self.input_length} is outside 1..{MAX_SEQ_LEN}")


class _Recurrent(Layer):
    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        use_bias: bool = True,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activation
        self.use_bias = use_bias
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.flags = {
            "return_sequences": return_sequences,
            "return_state": return_state,
            "go_backwards": go_backwards,
            "stateful": stateful,
        }

    def check(self) -> None:
        """Raise ``ValueError`` unless fusedrnn computes this layer."""
        if not 1 <= self.units <= MAX_UNITS:
            raise self._refuse(f"units={self.units} is outside 1..{MAX_UNITS}")
        if self.activation != "tanh":
            raise self._refuse(f"activation={self.activation!r}; only 'tanh'")
        if not self.use_bias:
            raise self._refuse("use_bias=False is not supported")
        for flag, value in self.flags.items():
            if value:
                raise self._refuse(f"{flag}=True is not supported")
        if not 0.0 <= self.dropout < 1.0:
            raise self._refuse(f"dropout={self.dropout} is outside [0, 1)")
        if self.recurrent_dropout != 0.0:
            raise self._refuse("recurrent_dropout is not supported (only dropout=)")


class LSTM(_Recurrent):
    """``keras.layers.LSTM(units)``; ``dropout=`` drops inputs during ``fit`` as Keras 3 does."""

    _base = "lstm"

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        unit_forget_bias: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = recurrent_activation
        self.unit_forget_bias = unit_forget_bias

    def check(self) -> None:
        """Raise ``ValueError`` unless fusedrnn computes this layer."""
        super().check()
        self._check_extra({})
        if self.recurrent_activation != "sigmoid":
            raise self._refuse(
                f"recurrent_activation={self.recurrent_activation!r}; only 'sigmoid'"
            )
        if not self.unit_forget_bias:
            raise self._refuse("unit_forget_bias=False is not supported")


class SimpleRNN(_Recurrent):
    """``keras.layers.SimpleRNN(units)``; on one-hot input give ``input_shape=(maxlen, vocab)``."""

    _base = "simple_rnn"

    def check(self) -> None:
        """Raise ``ValueError`` unless fusedrnn computes this layer."""
        super().check()
        self._check_extra({})


class GRU(_Recurrent):
    """``keras.layers.GRU(units)``.

    ``reset_after=True`` is Keras 3's default (and PyTorch's form), ``False`` tf.keras 1.x's.
    """

    _base = "gru"

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        reset_after: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = recurrent_activation
        self.reset_after = bool(reset_after)

    def check(self) -> None:
        """Raise ``ValueError`` unless fusedrnn computes this layer."""
        super().check()
        self._check_extra({})
        if self.recurrent_activation != "sigmoid":
            raise self._refuse(
                f"recurrent_activation={self.recurrent_activation!r}; only 'sigmoid'"
            )


class Dense(Layer):
    """``keras.layers.Dense``: fusedrnn's head is ``Dense(1, activation="sigmoid")``."""

    _base = "dense"

    def __init__(
        self, units: int, activation: Optional[str] = None, use_bias: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activation
        self.use_bias = use_bias

    def check(self) -> None:
        """Raise ``ValueError`` unless fusedrnn computes this layer."""
        self._check_extra({})
        if self.units != 1 or self.activation != "sigmoid" or not self.use_bias:
            raise self._refuse(
                f"units={self.units}, activation={self.activation!r}, use_bias={self.use_bias}; "
                "fusedrnn's head is Dense(1, activation='sigmoid')"
            )


class Dropout(Layer):
    """``keras.layers.Dropout``: an identity at inference; refused in ``fit`` when ``rate > 0``."""

    _base = "dropout"

    def __init__(self, rate: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = float(rate)

    def check(self) -> None:
        """Raise ``ValueError`` for a rate outside ``[0, 1)``."""
        self._check_extra({})
        if not 0.0 <= self.rate < 1.0:
            raise self._refuse(f"rate={self.rate} is outside [0, 1)")


__all__ = ["GRU", "LSTM", "Dense", "Dropout", "Embedding", "Layer", "SimpleRNN"]
