"""``keras.callbacks``: History, EarlyStopping, ModelCheckpoint, CSVLogger.

The fit loop itself (shuffling, batches, early stopping's bookkeeping, which epoch is best)
runs in Rust; these objects carry Keras' settings into it and do Keras' per-epoch side effects
(printing, the checkpoint file, the CSV log) when each epoch ends.
"""

from __future__ import annotations

import csv
import os
from typing import TYPE_CHECKING, Any, Dict, List, Optional, TextIO

if TYPE_CHECKING:  # pragma: no cover
    from ._native import Model as NativeModel
    from .models import Sequential


class Callback:
    """Base class, with Keras' hook names."""

    def __init__(self) -> None:
        self.model: Optional[Sequential] = None

    def set_model(self, model: Sequential) -> None:
        """Attach the model being trained."""
        self.model = model

    def on_train_begin(self, logs: Optional[Dict[str, float]] = None) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, float]] = None) -> None:
        """Called after each epoch with 0-based ``epoch`` and its logs."""

    def on_train_end(self, logs: Optional[Dict[str, float]] = None) -> None:
        """Called once after the last epoch (or an interruption)."""


class History(Callback):
    """What ``fit`` returns: the per-epoch logs.

    ``history`` maps ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` to one value per epoch;
    ``epoch`` lists the 0-based epochs run.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: Dict[str, List[float]] = {}
        self.epoch: List[int] = []
        self.params: Dict[str, Any] = {}

    def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, float]] = None) -> None:
        """Record one epoch."""
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _check_min_monitor(name: str, monitor: str, mode: str) -> None:
    if monitor != "val_loss":
        raise ValueError(f"{name}: monitor={monitor!r}; fusedrnn monitors 'val_loss' only")
    if mode not in ("auto", "min"):
        raise ValueError(f"{name}: mode={mode!r}; val_loss is minimised ('auto' or 'min')")


class EarlyStopping(Callback):
    """Stop when ``val_loss`` has not improved for ``patience`` epochs (Keras' rule).

    With ``restore_best_weights=True`` the model ends with the weights of its best epoch (as Keras
    3 restores them when training ends).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: Optional[float] = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        _check_min_monitor("EarlyStopping", monitor, mode)
        if min_delta != 0 or baseline is not None or start_from_epoch != 0:
            raise ValueError(
                "EarlyStopping: min_delta, baseline and start_from_epoch are not supported"
            )
        if int(patience) < 0:
            raise ValueError(f"EarlyStopping: patience={patience} must be >= 0")
        self.monitor = monitor
        self.patience = int(patience)
        self.verbose = verbose
        self.restore_best_weights = bool(restore_best_weights)
        self.stopped_epoch = 0
        self.best_epoch = 0


class ModelCheckpoint(Callback):
    """Save the model each time ``val_loss`` improves (``save_best_only=True``).

    The file is fusedrnn's ``.safetensors`` whatever its extension, written atomically (a
    temporary file, then a rename), so an interrupted run leaves the previous checkpoint whole;
    :func:`fusedrnn.models.load_model` reads it back.
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str = "epoch",
        initial_value_threshold: Optional[float] = None,
    ) -> None:
        super().__init__()
        _check_min_monitor("ModelCheckpoint", monitor, mode)
        if not save_best_only:
            raise ValueError(
                "ModelCheckpoint: fusedrnn supports save_best_only=True only (the notebook's use)"
            )
        if save_freq != "epoch" or initial_value_threshold is not None:
            raise ValueError(
                "ModelCheckpoint: save_freq must be 'epoch', initial_value_threshold None"
            )
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.best = float("inf")

    def _path(self, epoch: int, logs: Dict[str, float]) -> str:
        return self.filepath.format(epoch=epoch + 1, **logs)

    def save_improved(self, epoch: int, logs: Dict[str, float], best: NativeModel) -> None:
        """Write the checkpoint for an improving epoch (0-based ``epoch``)."""
        path = self._path(epoch, logs)
        current = logs["val_loss"]
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: val_loss improved from {self.best:.5f} to {current:.5f}, "
                f"saving model to {path}"
            )
        best.save(path)
        self.best = current

    def not_improved(self, epoch: int, logs: Dict[str, float]) -> None:
        """Report an epoch that did not improve."""
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: val_loss did not improve from {self.best:.5f}")


class CSVLogger(Callback):
    """Write each epoch's logs to a CSV file, as ``keras.callbacks.CSVLogger`` does.

    Columns: ``epoch`` (0-based), then the log keys sorted (``accuracy,loss,val_accuracy,
    val_loss``); values at full precision.
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self._file: Optional[TextIO] = None
        self._writer: Any = None
        self._keys: Optional[List[str]] = None

    def on_train_begin(self, logs: Optional[Dict[str, float]] = None) -> None:
        """Open the file (appending keeps an existing header)."""
        header_exists = False
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as fh:
                header_exists = bool(len(fh.readline()))
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._header_exists = header_exists
        self._keys = None
        self._writer = None

    def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, float]] = None) -> None:
        """Write one row and flush it."""
        logs = logs or {}
        assert self._file is not None
        if self._keys is None:
            self._keys = sorted(logs.keys())
            self._writer = csv.DictWriter(
                self._file, fieldnames=["epoch"] + self._keys, delimiter=self.sep
            )
            if not self._header_exists:
                self._writer.writeheader()
        row: Dict[str, Any] = {"epoch": epoch}
        row.update((k, logs[k]) for k in self._keys)
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: Optional[Dict[str, float]] = None) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None


__all__ = ["CSVLogger", "Callback", "EarlyStopping", "History", "ModelCheckpoint"]
