"""fusedrnn on Ray: batch scoring (Ray Data), online scoring (Ray Serve), sweeps (Ray Tune).

Needs the ``ray`` extra: ``pip install './python[ray]'``. Every entry point runs against the
cluster ``ray.init`` connects to (``address=`` or ``RAY_ADDRESS``), or a local one.

- :func:`score`: Parquet / ``.tok`` files in, Parquet ``(id, prob)`` out; resumable.
- :func:`serve`: a Serve deployment answering ``POST /predict`` with dynamic batching.
- :func:`sweep`: a Tune search over arch, seed, learning rate, dropout and batch size.

Also a command: ``python -m fusedrnn.ray score|serve --help``.
"""

from __future__ import annotations

from typing import Any

from ._score import ScoreError, ScoreSummary, score

__all__ = ["ScoreError", "ScoreSummary", "score", "serve", "sweep"]


def serve(*args: Any, **kwargs: Any) -> Any:
    """Deploy the model on Ray Serve; see :func:`fusedrnn.ray._serve.serve`."""
    from ._serve import serve as _serve

    return _serve(*args, **kwargs)


def sweep(*args: Any, **kwargs: Any) -> Any:
    """Run a Ray Tune sweep; see :func:`fusedrnn.ray._tune.sweep`."""
    from ._tune import sweep as _sweep

    return _sweep(*args, **kwargs)
