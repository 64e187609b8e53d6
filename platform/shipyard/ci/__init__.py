"""CI: the run queue of the embedded git remote (:mod:`queue`), its post-receive hook (:mod:`hook`),
and CI runs recorded in MLflow (:mod:`runs`)."""

from typing import Any

__all__ = ["finish_ci_run", "get_ci_run", "list_ci_runs", "start_ci_run", "wait_for_ci_run"]


def __getattr__(name: str) -> Any:
    # the runs' functions load the MLflow record layer (requests): only when one is asked for, so that
    # the runner's queue (imported by `shipyard status`) stays light
    if name in __all__:
        from shipyard.ci import runs

        return getattr(runs, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
