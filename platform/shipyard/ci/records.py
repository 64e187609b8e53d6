"""CI runs as MLflow runs: one per pipeline execution, in the project's experiment.

Used by the embedded runner, by ``shipyard ci start/finish`` (GitHub/GitLab CI) and by the portal.
Status goes queued -> running -> passed | failed | interrupted (``tags.CI_STATUSES``).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from mlflow.entities import RunStatus, RunTag
from mlflow.tracking import MlflowClient

from shipyard import tags
from shipyard.errors import UserError

TERMINAL = ("passed", "failed", "interrupted")
_MLFLOW_STATUS = {"passed": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}


@dataclass(frozen=True)
class CiRun:
    run_id: str
    project: str
    commit: str
    branch: str
    status: str
    provider: str
    steps: list[str]
    failed_step: str | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    experiment_id: str

    @property
    def duration_s(self) -> float | None:
        if not self.started_at:
            return None
        end = self.ended_at or dt.datetime.now(dt.UTC)
        return (end - self.started_at).total_seconds()

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "project": self.project,
            "commit": self.commit,
            "branch": self.branch,
            "status": self.status,
            "provider": self.provider,
            "steps": self.steps,
            "failed_step": self.failed_step,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "duration_s": round(self.duration_s, 1) if self.duration_s is not None else None,
        }


def _client(tracking_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking_uri)


def project_experiment(client: MlflowClient, project: str):
    exp = client.get_experiment_by_name(project)
    if exp is None or exp.tags.get(tags.PROJECT) != project:
        raise UserError(
            f"project {project!r} has no MLflow experiment tagged {tags.PROJECT} at {client.tracking_uri}",
            f"create it first: shipyard project create {project} --team TEAM",
        )
    return exp


def _ts(ms: int | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC) if ms else None


def _from_run(run, project: str | None = None) -> CiRun:
    t = run.data.tags
    steps = t.get(tags.CI_STEPS, "")
    return CiRun(
        run_id=run.info.run_id,
        project=project or t.get(tags.PROJECT, ""),
        commit=t.get(tags.CI_COMMIT, ""),
        branch=t.get(tags.CI_BRANCH, ""),
        status=t.get(tags.CI_STATUS, "queued"),
        provider=t.get(tags.CI_PROVIDER, ""),
        steps=[s for s in steps.split(",") if s],
        failed_step=t.get(tags.CI_FAILED_STEP) or None,
        started_at=_ts(run.info.start_time),
        ended_at=_ts(run.info.end_time),
        experiment_id=run.info.experiment_id,
    )


def start_ci_run(
    tracking_uri: str, project: str, commit: str, branch: str, provider: str, status: str = "running"
) -> str:
    """Create the CI run of ``commit`` in the project's experiment; return its MLflow run id."""
    if provider not in ("shipyard", "github", "gitlab"):
        raise UserError(f"--provider {provider!r} is not known", "use shipyard, github or gitlab")
    client = _client(tracking_uri)
    exp = project_experiment(client, project)
    run = client.create_run(
        exp.experiment_id,
        run_name=f"ci-{commit[:8]}",
        tags={
            tags.RUN_KIND: tags.RUN_KIND_CI,
            tags.PROJECT: project,
            tags.TEAM: exp.tags.get(tags.TEAM, ""),
            tags.CI_COMMIT: commit,
            tags.CI_BRANCH: branch,
            tags.CI_PROVIDER: provider,
            tags.CI_STATUS: status,
            tags.CI_STEPS: "",
            tags.GIT_COMMIT: commit,
        },
    )
    return run.info.run_id


def set_ci_status(tracking_uri: str, run_id: str, status: str, steps: list[str] | None = None) -> None:
    client = _client(tracking_uri)
    client.set_tag(run_id, tags.CI_STATUS, status)
    if steps is not None:
        client.set_tag(run_id, tags.CI_STEPS, ",".join(steps))


def finish_ci_run(
    tracking_uri: str,
    run_id: str,
    status: str,
    failed_step: str | None = None,
    steps: list[str] | None = None,
) -> CiRun:
    """Record the final status (passed/failed/interrupted) and end the MLflow run."""
    if status not in TERMINAL:
        raise UserError(f"--status {status!r} is not a final CI status", f"use one of {', '.join(TERMINAL)}")
    client = _client(tracking_uri)
    try:
        client.get_run(run_id)
    except Exception as exc:  # MlflowException: RESOURCE_DOES_NOT_EXIST
        raise UserError(
            f"CI run {run_id!r} is not in MLflow at {tracking_uri}",
            "pass the id `shipyard ci start` printed",
        ) from exc
    # one batch: a reader never sees the final status without its steps and failed step
    final = [RunTag(tags.CI_STATUS, status)]
    if steps is not None:
        final.append(RunTag(tags.CI_STEPS, ",".join(steps)))
    if failed_step:
        final.append(RunTag(tags.CI_FAILED_STEP, failed_step))
    client.log_batch(run_id, tags=final)
    client.set_terminated(run_id, RunStatus.to_string(getattr(RunStatus, _MLFLOW_STATUS[status])))
    return _from_run(client.get_run(run_id))


def get_ci_run(tracking_uri: str, run_id: str) -> CiRun:
    return _from_run(_client(tracking_uri).get_run(run_id))


def list_ci_runs(tracking_uri: str, project: str | None = None, max_results: int = 200) -> list[CiRun]:
    """CI runs, newest first, of one project or of every Shipyard project."""
    client = _client(tracking_uri)
    if project:
        experiments = [project_experiment(client, project)]
    else:
        experiments = [e for e in client.search_experiments() if e.tags.get(tags.PROJECT)]
    if not experiments:
        return []
    runs = client.search_runs(
        [e.experiment_id for e in experiments],
        filter_string=f"tags.`{tags.RUN_KIND}` = '{tags.RUN_KIND_CI}'",
        order_by=["attributes.start_time DESC"],
        max_results=max_results,
    )
    names = {e.experiment_id: e.tags[tags.PROJECT] for e in experiments}
    return [_from_run(r, names.get(r.info.experiment_id)) for r in runs]


def wait_for_ci_run(
    tracking_uri: str,
    project: str,
    commit: str | None = None,
    run_id: str | None = None,
    timeout: float = 600,
    poll: float = 1.0,
) -> CiRun:
    """Wait until the CI run (by id, else the newest run of ``commit``, else the newest) has finished."""
    deadline = time.monotonic() + timeout
    last: CiRun | None = None
    while time.monotonic() < deadline:
        if run_id:
            last = get_ci_run(tracking_uri, run_id)
        else:
            runs = [
                r for r in list_ci_runs(tracking_uri, project) if not commit or r.commit.startswith(commit)
            ]
            last = runs[0] if runs else None
        if last and last.finished:
            return last
        time.sleep(poll)
    seen = f"last seen: {last.status} (run {last.run_id})" if last else "no CI run was recorded"
    raise TimeoutError(
        f"CI run of {project} {commit or run_id or ''} not finished after {timeout:.0f}s; {seen}"
    )
