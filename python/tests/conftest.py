"""Shared helpers: repository fixtures, the shared data (skip loudly outside CI, fail in CI)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA_FIXTURES = ROOT / "data-tools" / "tests" / "fixtures"
KERAS_FIXTURES = ROOT / "tests" / "fixtures" / "keras_import"
PY_FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared" / "data"


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def need(path: Path) -> Path:
    """The path if it exists; else skip loudly, or fail when CI=true."""
    if path.exists():
        return path
    msg = f"{path} is missing"
    if in_ci():
        pytest.fail(msg + " (CI=true: required)")
    warnings.warn(f"SKIPPING: {msg}", stacklevel=2)
    pytest.skip(msg)


def built(name: str) -> Path:
    """A file cargo built (`imdb-pack`, `libfusedrnn_c.so`): skip loudly, or fail when CI=true.

    From ``$FUSEDRNN_BUILD_DIR`` when set (``scripts/test-all`` sets it to the profile directory
    its ``cargo test`` just built, e.g. ``target/ci``), else from ``target/release`` or
    ``target/debug``, whichever has it. A test build leaves the C API's cdylib in the profile's
    ``deps/`` only (``cargo build`` copies it up a level), so both places are looked in.
    """
    env = os.environ.get("FUSEDRNN_BUILD_DIR")
    if env:
        for path in (Path(env) / name, Path(env) / "deps" / name):
            if path.exists():
                return path
        return need(Path(env) / name)
    for profile in ("release", "debug"):
        path = ROOT / "target" / profile / name
        if path.exists():
            return path
    return need(ROOT / "target" / "release" / name)


@pytest.fixture
def shared_npz() -> Path:
    return need(SHARED / "imdb.npz")


@pytest.fixture
def shared_word_index() -> Path:
    return need(SHARED / "imdb_word_index.json")


# ---- Ray (issue 15): one local multi-node cluster per session --------------------------------

# Every Ray process on 127.0.0.1: without this the driver swaps 127.0.0.1 for the machine's
# routable address and cannot reach a GCS bound to loopback. Read when ray is first imported
# (so set here, before any test module imports it) and inherited by every node.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"


def ray_pids(title_prefix: str, title_part: str = "") -> List[int]:
    """Pids of this machine's Ray worker processes whose title (``/proc/PID/cmdline``, which Ray
    sets to ``ray::<actor or task>``) starts with ``title_prefix`` and contains ``title_part``."""
    pids = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if cmd.startswith(title_prefix) and title_part in cmd:
            pids.append(int(p.name))
    return pids


def need_ray(module_level: bool = False) -> None:
    """Import Ray (and pyarrow), or skip loudly (fail when CI=true: CI installs the [ray] extra)."""
    try:
        import pyarrow  # noqa: F401
        import ray  # noqa: F401
    except ImportError as e:
        msg = f"the [ray] extra is not installed ({e}); pip install './python[ray]'"
        if in_ci():
            pytest.fail(msg + " (CI=true: required)", pytrace=False)
        warnings.warn(f"SKIPPING: {msg}", stacklevel=2)
        pytest.skip(msg, allow_module_level=module_level)


@pytest.fixture(scope="session")
def ray_cluster():
    """``ray.cluster_utils.Cluster``: a head and two worker nodes, 1 CPU each, on 127.0.0.1.

    The test process is the driver (``ray.init(address=...)``). Tests that remove a worker node add
    one back, so every test sees three nodes.
    """
    need_ray()
    import ray
    from ray.cluster_utils import Cluster

    node_args = {"num_cpus": 1, "object_store_memory": 200 * 1024 * 1024}
    cluster = Cluster(
        initialize_head=True,
        head_node_args={**node_args, "include_dashboard": False, "node_ip_address": "127.0.0.1"},
    )
    for _ in range(2):
        cluster.add_node(**node_args, node_ip_address="127.0.0.1")
    cluster.wait_for_nodes(timeout=120)
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
