"""Shared helpers: repository fixtures, the shared data (skip loudly outside CI, fail in CI)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

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


@pytest.fixture
def shared_npz() -> Path:
    return need(SHARED / "imdb.npz")


@pytest.fixture
def shared_word_index() -> Path:
    return need(SHARED / "imdb_word_index.json")
