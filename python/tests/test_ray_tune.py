"""fusedrnn.ray.sweep on a local 3-node Ray cluster: 6+ trials, a killed trial retried, ASHA."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List

import numpy as np
from conftest import need_ray, ray_pids

import fusedrnn
from fusedrnn.ray._tune import CHECKPOINT_DIR_PREFIX, CHECKPOINT_FILE, LOCK_FILE

need_ray(module_level=True)


def synthetic(n: int, seed: int):
    """Reviews whose label is whether token 7 occurs more often than token 9: learnable."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 100, size=(n, 100))
    y = rng.integers(0, 2, size=n)
    for i in range(n):
        x[i, rng.integers(0, 100, size=6)] = 7 if y[i] else 9
    return x.astype(np.int32), y.astype(np.float64)


def trial_pids() -> List[int]:
    return ray_pids("ray::ImplicitFunc")


def test_sweep_of_6_trials_with_a_killed_trial_retried_and_best_checkpoint_loads(
    ray_cluster, tmp_path: Path
) -> None:
    from fusedrnn.ray import sweep

    x, y = synthetic(256, 1)
    xv, yv = synthetic(128, 2)
    starts = tmp_path / "starts"
    box: dict = {}

    def go() -> None:
        try:
            box["r"] = sweep(
                x, y, xv, yv, arch=["lstm", "rnn"], seed=[0, 1, 2], lr=[1e-2], dropout=[0.0],
                batch_size=[32], epochs=3, vocab=100, storage_path=tmp_path / "tune",
                max_failures=2, _extra={"_starts_dir": str(starts), "_epoch_delay": 1.0},
            )  # fmt: skip
        except BaseException as e:
            box["e"] = e

    t = threading.Thread(target=go, daemon=True)
    t.start()
    # Kill one trial's process once it is training (it holds its checkpoint folder's lock).
    end = time.monotonic() + 300
    victim = None
    while time.monotonic() < end and victim is None and t.is_alive():
        held = [(p, f) for p in trial_pids() for f in locked_folders(p)]
        if held and list(starts.glob("*.1")):
            time.sleep(1.0)
            os.kill(held[0][0], signal.SIGKILL)
            victim = held[0][1]
        time.sleep(0.2)
    assert victim is not None, "no trial process to kill"
    t.join(900)
    assert not t.is_alive(), "the sweep did not finish"
    if "e" in box:
        raise box["e"]
    r = box["r"]
    results = list(r.results)
    assert len(results) == 6
    assert all(res.error is None for res in results), [str(res.error) for res in results]
    assert all(res.metrics["epoch"] == 3 for res in results)
    # The killed trial started again (a second start mark) and completed.
    assert list(starts.glob("*.2")), "no trial was retried"
    # Its checkpoint folder, which it could not remove, did not stay behind.
    assert not victim.exists(), f"the killed trial's checkpoint folder stayed: {victim}"
    assert {res.metrics["starts"] for res in results} >= {1, 2}
    # Best = lowest val_loss over every trial's best checkpoint; the file loads and reproduces it.
    best = min(
        (m["val_loss"], res) for res in results for _, m in res.best_checkpoints
        if True
    )[0]  # fmt: skip
    assert r.val_loss == best
    assert set(r.config) == {"arch", "seed", "lr", "dropout", "batch_size"}
    m = fusedrnn.load_model(r.checkpoint)
    m.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    loss, acc = m.evaluate(xv, yv)
    assert abs(loss - r.val_loss) < 1e-5 and abs(acc - r.val_accuracy) < 1e-6
    assert r.val_accuracy > 0.6  # learned something


def locked_folders(pid: int) -> List[Path]:
    """The checkpoint folders whose lock file process ``pid`` holds open."""
    out = []
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for fd in fds:
        try:
            target = Path(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if target.name == LOCK_FILE and target.parent.name.startswith(CHECKPOINT_DIR_PREFIX):
            out.append(target.parent)
    return out


def test_orphaned_checkpoint_folders_are_removed_and_nothing_else(tmp_path: Path) -> None:
    from fusedrnn.ray._tune import _locked, remove_orphaned_checkpoint_dirs

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / LOCK_FILE).touch()
    folders = {
        name: tmp_path / f"{prefix}{name}"
        for name, prefix in [
            ("dead", CHECKPOINT_DIR_PREFIX),  # a lock file nobody holds
            ("live", CHECKPOINT_DIR_PREFIX),  # held by this process
            ("held elsewhere", CHECKPOINT_DIR_PREFIX),  # held by another process
            ("no lock", CHECKPOINT_DIR_PREFIX),  # still being made
            ("other", "other-"),
            ("1" * 30, CHECKPOINT_DIR_PREFIX),  # a name no process id parses from
        ]
    }
    for name, d in folders.items():
        d.mkdir()
        (d / CHECKPOINT_FILE).touch()
        if name != "no lock":
            (d / LOCK_FILE).touch()
    link = tmp_path / f"{CHECKPOINT_DIR_PREFIX}link"
    link.symlink_to(elsewhere, target_is_directory=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(folders["held elsewhere"] / LOCK_FILE)],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        with _locked(str(folders["live"])):
            assert remove_orphaned_checkpoint_dirs(str(tmp_path)) == 2
    finally:
        holder.kill()
        holder.wait()
    assert not folders["dead"].exists() and not folders["1" * 30].exists()
    for name in ("live", "held elsewhere", "no lock", "other"):
        assert (folders[name] / CHECKPOINT_FILE).exists(), name
    assert link.is_symlink() and (elsewhere / LOCK_FILE).exists()
    # Once its holder is gone, the folder goes too.
    assert remove_orphaned_checkpoint_dirs(str(tmp_path)) == 2
    assert not folders["live"].exists() and not folders["held elsewhere"].exists()


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
"""


def test_sweep_rejects_bad_options() -> None:
    import pytest

    from fusedrnn.ray import sweep

    x, y = synthetic(8, 1)
    with pytest.raises(ValueError, match="arch 'gru'"):
        sweep(x, y, x, y, arch=["gru"])
    with pytest.raises(ValueError, match="search 'bayes'"):
        sweep(x, y, x, y, search="bayes")
    with pytest.raises(ValueError, match="seed: give at least one value"):
        sweep(x, y, x, y, seed=[])


def test_asha_sweep_random_search_completes(ray_cluster, tmp_path: Path) -> None:
    from fusedrnn.ray import sweep

    x, y = synthetic(128, 3)
    xv, yv = synthetic(64, 4)
    r = sweep(
        x, y, xv, yv, arch=["rnn"], seed=[0, 1, 2, 3], lr=[1e-3, 1e-2], batch_size=[16, 32],
        search="random", num_samples=4, epochs=3, vocab=100, asha=True,
        storage_path=tmp_path / "tune",
    )  # fmt: skip
    results = list(r.results)
    assert len(results) == 4 and all(res.error is None for res in results)
    # Every trial reported val_loss/val_accuracy per epoch; ASHA may stop some before epoch 3.
    for res in results:
        hist = res.metrics_dataframe
        assert list(hist["epoch"]) == list(range(1, len(hist) + 1))
        assert {"val_loss", "val_accuracy"} <= set(hist.columns)
    assert r.config["lr"] in (1e-3, 1e-2) and r.config["batch_size"] in (16, 32)
    assert fusedrnn.load_model(r.checkpoint).arch == "rnn"
