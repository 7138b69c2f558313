"""Sweeps on Ray Tune: one fusedrnn ``fit`` per trial, reporting after every epoch.

Each trial trains on 1 CPU (one kernel thread) and calls ``ray.tune.report`` after every epoch
with ``val_loss`` and ``val_accuracy``, so Tune's schedulers (ASHA) can stop it early. The
epoch's report carries a checkpoint (the model file) whenever ``val_loss`` improved; Tune keeps
the best one per trial. A trial that fails (its process killed, its node lost) is restarted from
the beginning (fusedrnn's ``fit`` has no resumable optimizer state; with the same seed the rerun
gives the same numbers).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Sequence, Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]

CHECKPOINT_FILE = "model.safetensors"
# A trial's folder, `fusedrnn-tune-<random>` in the node's temporary directory: `checkpoint/` and
# the lock file.
CHECKPOINT_DIR_PREFIX = "fusedrnn-tune-"
ARCHS = ("lstm", "rnn", "rnn-onehot")


@dataclass
class SweepResult:
    """The best trial of a sweep."""

    config: Dict[str, Any]
    """Its configuration (arch, seed, lr, dropout, batch_size)."""
    checkpoint: str
    """Path of its best checkpoint's model file (``fusedrnn.load_model`` reads it)."""
    val_loss: float
    val_accuracy: float
    results: Any
    """Tune's ``ResultGrid`` (every trial)."""


def _stack(arch: str, vocab: int, dropout: float) -> Any:
    from fusedrnn import Sequential, layers

    if arch == "lstm":
        rec: Any = layers.LSTM(8, dropout=dropout)
        return Sequential([layers.Embedding(vocab, 16), rec, layers.Dense(1, activation="sigmoid")])
    if arch == "rnn":
        rec = layers.SimpleRNN(8, dropout=dropout)
        return Sequential([layers.Embedding(vocab, 16), rec, layers.Dense(1, activation="sigmoid")])
    if arch == "rnn-onehot":
        return Sequential(
            [
                layers.SimpleRNN(8, dropout=dropout, input_shape=(100, vocab)),
                layers.Dense(1, activation="sigmoid"),
            ]
        )
    raise ValueError(f"arch {arch!r}: expected one of {ARCHS}")


# Inside a trial's folder, beside its `checkpoint/`: held locked (flock) by the trial's process
# for its whole life; the kernel releases the lock when the process dies, however it dies.
LOCK_FILE = ".lock"


def _held(folder: str) -> bool:
    """Whether a live process holds the folder's lock (or the folder has no lock file yet)."""
    import fcntl

    try:
        fd = os.open(os.path.join(folder, LOCK_FILE), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return True  # a trial still making its folder, or not a trial's folder: keep it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # releases the lock if it was taken
    return False


def remove_orphaned_checkpoint_dirs(tmp: Optional[str] = None) -> int:
    """Removes the checkpoint folders of trials whose process is gone; returns how many.

    A trial removes its folder when it ends, but not when its process is killed (``SIGKILL``,
    the OOM killer, a lost worker): Tune then retries it in a new process and the old folder
    would stay in the node's temporary directory. Every trial start and every ``sweep`` clears
    such folders on its own node: only this user's folders (not symbolic links) whose lock file
    no process holds (a lock, unlike a process id, is seen across PID namespaces and is not
    reused). Never raises: a folder it cannot judge or remove is left alone.
    """
    try:
        import fcntl  # noqa: F401  (POSIX only; elsewhere nothing is removed)
    except ImportError:
        return 0
    root = tmp if tmp is not None else tempfile.gettempdir()
    removed = 0
    try:
        entries = list(os.scandir(root))
    except OSError:
        return 0
    for e in entries:
        try:
            if not e.name.startswith(CHECKPOINT_DIR_PREFIX):
                continue
            st = e.stat(follow_symlinks=False)
            if not (stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid()) or _held(e.path):
                continue
            shutil.rmtree(e.path, ignore_errors=True)
            removed += not os.path.lexists(e.path)
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def _locked(folder: str) -> Iterator[None]:
    """Holds ``folder``'s lock file locked (on POSIX) while the block runs."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(os.path.join(folder, LOCK_FILE), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _trial(config: Dict[str, Any], data: Any = None, epochs: int = 1, vocab: int = 500) -> None:
    """Tune's function trainable: one ``fit`` with a reporting callback."""
    os.environ["RAYON_NUM_THREADS"] = "1"
    from ray import tune

    import fusedrnn
    from fusedrnn.callbacks import Callback, ModelCheckpoint

    x, y, xv, yv = data
    marks = config.get("_starts_dir")
    starts = 1
    if marks:  # count this trial's starts (so a test can see a retry happened)
        tid = tune.get_context().get_trial_id()
        Path(marks).mkdir(parents=True, exist_ok=True)
        starts = len(list(Path(marks).glob(f"{tid}.*"))) + 1
        (Path(marks) / f"{tid}.{starts}").touch()

    fusedrnn.set_random_seed(int(config["seed"]))
    model = _stack(config["arch"], vocab, float(config["dropout"]))
    model.compile(
        optimizer=fusedrnn.optimizers.RMSprop(learning_rate=float(config["lr"])),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    # Removed when the trial ends: tune.report has copied each reported checkpoint into the
    # run's storage by then, and a retried or restarted trial makes a fresh folder. The folder's
    # lock, held while this process lives, lets a later trial on this node remove the folder if
    # this process is killed before it can (remove_orphaned_checkpoint_dirs).
    remove_orphaned_checkpoint_dirs()
    with tempfile.TemporaryDirectory(prefix=CHECKPOINT_DIR_PREFIX) as folder, _locked(folder):
        ckdir = os.path.join(folder, "checkpoint")
        os.mkdir(ckdir)
        best = ModelCheckpoint(os.path.join(ckdir, CHECKPOINT_FILE), save_best_only=True)

        class Report(Callback):
            def __init__(self) -> None:
                super().__init__()
                self.best = float("inf")

            def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, float]] = None) -> None:
                logs = logs or {}
                metrics = {
                    "epoch": epoch + 1,
                    "val_loss": logs["val_loss"],
                    "val_accuracy": logs["val_accuracy"],
                    "loss": logs["loss"],
                    "accuracy": logs["accuracy"],
                    "starts": starts,
                }
                if logs["val_loss"] < self.best:  # ModelCheckpoint has just written this epoch
                    self.best = logs["val_loss"]
                    tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(ckdir))
                else:
                    tune.report(metrics)

        delay = float(config.get("_epoch_delay", 0.0))
        cbs: list = [best, Report()]
        if delay:

            class Slow(Callback):
                def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, float]] = None) -> None:
                    import time

                    time.sleep(delay)

            cbs.append(Slow())
        model.fit(
            x,
            y,
            batch_size=int(config["batch_size"]),
            epochs=epochs,
            validation_data=(xv, yv),
            callbacks=cbs,
            verbose=0,
            threads=1,
        )


def sweep(
    x: Any,
    y: Any,
    x_val: Any,
    y_val: Any,
    *,
    arch: Sequence[str] = ("lstm",),
    seed: Sequence[int] = (0,),
    lr: Sequence[float] = (1e-3,),
    dropout: Sequence[float] = (0.0,),
    batch_size: Sequence[int] = (64,),
    search: str = "grid",
    num_samples: int = 1,
    epochs: int = 3,
    vocab: int = 500,
    asha: bool = False,
    storage_path: Optional[PathLike] = None,
    name: str = "fusedrnn-sweep",
    max_failures: int = 2,
    address: Optional[str] = None,
    _extra: Optional[Dict[str, Any]] = None,
) -> SweepResult:
    """Search arch × seed × lr × dropout × batch size with Ray Tune; return the best trial.

    ``search="grid"`` tries every combination (``num_samples`` times each); ``"random"`` draws
    ``num_samples`` configurations, each value uniformly from its list. Every trial takes 1 CPU,
    reports ``val_loss``/``val_accuracy`` after each epoch (ASHA stops poor ones early with
    ``asha=True``) and keeps its best checkpoint (lowest ``val_loss``).

    Args:
        x: ``[n, 100]`` training token ids (padded), or what ``Sequential.fit`` accepts.
        y: ``[n]`` labels 0/1.
        x_val: validation token ids.
        y_val: validation labels.
        arch: architectures among ``lstm``, ``rnn``, ``rnn-onehot``.
        seed: seeds.
        lr: RMSprop learning rates.
        dropout: recurrent-layer input dropout rates.
        batch_size: batch sizes.
        search: ``"grid"`` or ``"random"``.
        num_samples: repetitions (grid) or draws (random).
        epochs: epochs per trial (ASHA's ``max_t``).
        vocab: vocabulary size (the Embedding's input_dim).
        asha: stop poor trials early with ``ASHAScheduler`` on ``val_loss``.
        storage_path: where Tune keeps results and checkpoints (shared by every node).
        name: the experiment's name (a folder under ``storage_path``).
        max_failures: restarts of a failed trial before it counts as an error.
        address: Ray cluster address (``None``: the connected one, ``RAY_ADDRESS`` or local).
        _extra: testing only: extra config keys passed to every trial.

    Returns:
        A :class:`SweepResult`.

    Raises:
        ValueError: a bad option (naming it); RuntimeError: every trial failed.
    """
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    for a in arch:
        if a not in ARCHS:
            raise ValueError(f"arch {a!r}: expected one of {ARCHS}")
    if search not in ("grid", "random"):
        raise ValueError(f"search {search!r}: expected 'grid' or 'random'")
    if epochs < 1 or num_samples < 1:
        raise ValueError(f"epochs={epochs} and num_samples={num_samples} must be >= 1")
    lists = {"arch": arch, "seed": seed, "lr": lr, "dropout": dropout, "batch_size": batch_size}
    for k, v in lists.items():
        if len(v) == 0:
            raise ValueError(f"{k}: give at least one value")
    pick = tune.grid_search if search == "grid" else tune.choice
    space: Dict[str, Any] = {k: pick(list(v)) for k, v in lists.items()}
    space.update(_extra or {})
    data = (
        np.ascontiguousarray(x),
        np.asarray(y, dtype=np.float64),
        np.ascontiguousarray(x_val),
        np.asarray(y_val, dtype=np.float64),
    )
    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False)
    trainable = tune.with_resources(
        tune.with_parameters(_trial, data=data, epochs=epochs, vocab=vocab), {"cpu": 1}
    )
    storage = os.path.abspath(os.fspath(storage_path)) if storage_path else None
    tuner = tune.Tuner(
        trainable,
        param_space=space,
        tune_config=tune.TuneConfig(
            metric="val_loss",
            mode="min",
            num_samples=num_samples,
            scheduler=ASHAScheduler(time_attr="epoch", max_t=epochs, grace_period=1)
            if asha
            else None,
        ),
        run_config=tune.RunConfig(
            name=name,
            storage_path=storage,
            failure_config=tune.FailureConfig(max_failures=max_failures),
            checkpoint_config=tune.CheckpointConfig(
                num_to_keep=1,
                checkpoint_score_attribute="val_loss",
                checkpoint_score_order="min",
            ),
            verbose=0,
        ),
    )
    results = tuner.fit()
    remove_orphaned_checkpoint_dirs()  # those of trials killed on this node (never raises)
    ok = [r for r in results if r.error is None and r.best_checkpoints]
    if not ok:
        raise RuntimeError(f"every trial failed: {[str(r.error) for r in results]}")
    best_res, best_ck, best_metrics = None, None, None
    for r in ok:
        ck, metrics = min(r.best_checkpoints, key=lambda cm: cm[1]["val_loss"])
        if best_metrics is None or metrics["val_loss"] < best_metrics["val_loss"]:
            best_res, best_ck, best_metrics = r, ck, metrics
    assert best_res is not None and best_ck is not None and best_metrics is not None
    config = {k: v for k, v in best_res.config.items() if not k.startswith("_")}
    return SweepResult(
        config=config,
        checkpoint=os.path.join(best_ck.path, CHECKPOINT_FILE),
        val_loss=float(best_metrics["val_loss"]),
        val_accuracy=float(best_metrics["val_accuracy"]),
        results=results,
    )
