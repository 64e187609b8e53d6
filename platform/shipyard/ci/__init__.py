"""CI: the run queue of the embedded git remote (:mod:`queue`), its post-receive hook (:mod:`hook`),
and CI runs recorded in MLflow (:mod:`runs`)."""

from shipyard.ci.runs import finish_ci_run, get_ci_run, list_ci_runs, start_ci_run, wait_for_ci_run

__all__ = ["finish_ci_run", "get_ci_run", "list_ci_runs", "start_ci_run", "wait_for_ci_run"]
