"""CI runs: one MLflow run per pipeline execution, in the project's experiment (records in
:mod:`shipyard.records`).

Used by the embedded runner, the git hook, ``shipyard ci start/finish`` (GitHub/GitLab CI) and the
portal. Status goes queued -> running -> passed | failed | interrupted (``tags.CI_STATUSES``).
"""

from __future__ import annotations

import time

from shipyard.errors import BadInput, NotFound
from shipyard.records import CiRun, MlflowApi, Project, read, write
from shipyard.records.model import TERMINAL_CI_STATUSES

TERMINAL = TERMINAL_CI_STATUSES


def project_of(api: MlflowApi, project: str) -> Project:
    found = read.find_project(api, project)
    if found is None:
        raise NotFound(
            f"project {project!r} has no MLflow experiment tagged shipyard.project at {api.base_url}",
            f"create it first: shipyard project create {project} --team TEAM",
        )
    return found


def start_ci_run(
    api: MlflowApi, project: str, commit: str, branch: str, provider: str, status: str = "running"
) -> str:
    """Create the CI run of ``commit`` in the project's experiment; return its MLflow run id."""
    if provider not in write.CI_PROVIDERS:
        raise BadInput(f"--provider {provider!r} is not known", "use shipyard, github or gitlab")
    return write.create_ci_run(api, project_of(api, project), commit, branch, provider, status)


def finish_ci_run(
    api: MlflowApi,
    run_id: str,
    status: str,
    failed_step: str | None = None,
    steps: list[str] | None = None,
) -> CiRun:
    """Record the final status (passed/failed/interrupted) and end the MLflow run."""
    if status not in TERMINAL:
        raise BadInput(f"--status {status!r} is not a final CI status", f"use one of {', '.join(TERMINAL)}")
    try:
        api.run(run_id)
    except NotFound:
        raise NotFound(
            f"CI run {run_id!r} is not in MLflow at {api.base_url}", "pass the id `shipyard ci start` printed"
        ) from None
    write.end_ci_run(api, run_id, status, failed_step, steps)
    return read.get_ci_run(api, run_id)


def get_ci_run(api: MlflowApi, run_id: str) -> CiRun:
    return read.get_ci_run(api, run_id)


def list_ci_runs(api: MlflowApi, project: str | None = None) -> list[CiRun]:
    """Every CI run, newest first, of one project or of every Shipyard project (all pages)."""
    projects = [project_of(api, project)] if project else read.list_projects(api)
    return read.list_ci_runs(api, projects) if projects else []


END_TIME_GRACE_S = 10.0


def wait_for_ci_run(
    api: MlflowApi,
    project: str,
    commit: str | None = None,
    run_id: str | None = None,
    timeout: float = 600,
    poll: float = 1.0,
) -> CiRun:
    """Wait until the CI run (by id, else the newest run of ``commit``, else the newest) has finished."""
    deadline = time.monotonic() + timeout
    last: CiRun | None = None
    finished_since: float | None = None
    while time.monotonic() < deadline:
        if run_id:
            last = get_ci_run(api, run_id)
        else:
            runs = [r for r in list_ci_runs(api, project) if not commit or r.commit.startswith(commit)]
            last = runs[0] if runs else None
        if last and last.finished:
            # the status tag is written before MLflow ends the run: wait briefly for its end time
            finished_since = finished_since or time.monotonic()
            if last.ended_at or time.monotonic() - finished_since >= END_TIME_GRACE_S:
                return last
        time.sleep(poll)
    seen = f"last seen: {last.status} (run {last.run_id})" if last else "no CI run was recorded"
    raise TimeoutError(
        f"CI run of {project} {commit or run_id or ''} not finished after {timeout:.0f}s; {seen}"
    )
