"""``keras.optimizers.RMSprop``, the notebook's optimizer (Keras 3's update)."""

from __future__ import annotations

from typing import Any


class RMSprop:
    """RMSprop with Keras 3's defaults: ``rho=0.9``, ``epsilon=1e-7`` (inside the sqrt).

    Other ``rho``, ``epsilon``, momentum or ``centered`` are refused.
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Any,
    ) -> None:
        lr = float(learning_rate)
        if not lr > 0.0 or lr != lr or lr == float("inf"):
            raise ValueError(
                f"RMSprop: learning_rate={learning_rate!r} must be a finite number > 0"
            )
        if rho != 0.9 or momentum != 0.0 or epsilon != 1e-7 or centered:
            raise ValueError(
                "RMSprop: fusedrnn implements rho=0.9, momentum=0, epsilon=1e-7, centered=False "
                f"(got rho={rho}, momentum={momentum}, epsilon={epsilon}, centered={centered})"
            )
        for key, value in kwargs.items():
            if value is not None:
                raise ValueError(f"RMSprop: {key}={value!r} is not supported by fusedrnn")
        self.learning_rate = lr

    def get_config(self) -> dict:
        """The settings, as Keras' ``get_config`` names them."""
        return {
            "name": "rmsprop",
            "learning_rate": self.learning_rate,
            "rho": 0.9,
            "momentum": 0.0,
            "epsilon": 1e-7,
            "centered": False,
        }

    def __repr__(self) -> str:
        return f"RMSprop(learning_rate={self.learning_rate})"


def get(identifier: Any) -> RMSprop:
    """An optimizer from a Keras identifier (``"rmsprop"``) or instance."""
    if isinstance(identifier, RMSprop):
        return identifier
    if isinstance(identifier, str) and identifier.lower() == "rmsprop":
        return RMSprop()
    raise ValueError(f"optimizer {identifier!r}: fusedrnn trains with RMSprop only")


__all__ = ["RMSprop", "get"]
