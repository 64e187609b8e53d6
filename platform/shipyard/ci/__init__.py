"""CI records in MLflow (every pipeline execution is a run with ``run_kind=ci``) and the embedded runner.

The record functions live in :mod:`shipyard.ci.records` (imported lazily here: it imports MLflow,
which the queue and the git hook do not need).
"""

from __future__ import annotations

from typing import Any

__all__ = ["CiRun", "finish_ci_run", "get_ci_run", "list_ci_runs", "start_ci_run", "wait_for_ci_run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from shipyard.ci import records

        return getattr(records, name)
    raise AttributeError(name)
