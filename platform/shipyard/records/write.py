"""Writing Shipyard's records: the one place that knows which tags a project, a CI run and an
approval carry (names in :mod:`shipyard.tags`)."""

from __future__ import annotations

from shipyard import tags
from shipyard.records.mlflow_api import MlflowApi
from shipyard.records.model import ModelVersion, Project

CI_PROVIDERS = ("shipyard", "github", "gitlab")
# a CI status -> the MLflow run status its run ends with
MLFLOW_RUN_STATUS = {"passed": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}


def project_tags(
    name: str,
    team: str,
    risk_tier: str,
    owner: str,
    labeling: bool,
    repo: str | None = None,
    label_studio_project: int | None = None,
) -> dict[str, str]:
    values = {
        tags.PROJECT: name,
        tags.TEAM: team,
        tags.RISK_TIER: risk_tier,
        tags.OWNER: owner,
        tags.LABELING: "true" if labeling else "false",
    }
    if repo:
        values[tags.REPO] = repo
    if label_studio_project is not None:
        values[tags.LABEL_STUDIO_PROJECT] = str(label_studio_project)
    return values


def ci_run_tags(project: Project, commit: str, branch: str, provider: str, status: str) -> dict[str, str]:
    return {
        tags.RUN_KIND: tags.RUN_KIND_CI,
        tags.PROJECT: project.name,
        tags.TEAM: project.team,
        tags.CI_COMMIT: commit,
        tags.CI_BRANCH: branch,
        tags.CI_PROVIDER: provider,
        tags.CI_STATUS: status,
        tags.CI_STEPS: "",
        tags.GIT_COMMIT: commit,
    }


def create_ci_run(
    api: MlflowApi, project: Project, commit: str, branch: str, provider: str, status: str
) -> str:
    """The CI run of ``commit`` in the project's experiment; returns its run id."""
    run = api.create_run(
        project.experiment_id, f"ci-{commit[:8]}", ci_run_tags(project, commit, branch, provider, status)
    )
    return run["info"]["run_id"]


def set_ci_progress(api: MlflowApi, run_id: str, status: str, steps: list[str] | None = None) -> None:
    values = {tags.CI_STATUS: status}
    if steps is not None:
        values[tags.CI_STEPS] = ",".join(steps)
    api.set_tags(run_id, values)


def end_ci_run(
    api: MlflowApi, run_id: str, status: str, failed_step: str | None = None, steps: list[str] | None = None
) -> None:
    """Record the final CI status, steps and failed step, then end the MLflow run."""
    values = {tags.CI_STATUS: status}
    if steps is not None:
        values[tags.CI_STEPS] = ",".join(steps)
    if failed_step:
        values[tags.CI_FAILED_STEP] = failed_step
    api.set_tags(run_id, values)
    api.end_run(run_id, MLFLOW_RUN_STATUS[status])


def add_approval(api: MlflowApi, version: ModelVersion, by: str, at: str) -> None:
    """Append ``by`` at ``at`` to the version's approvals (comma-separated, in order)."""
    api.set_model_version_tag(
        version.model, version.version, tags.APPROVED_BY, ",".join([*version.approved_by, by])
    )
    api.set_model_version_tag(
        version.model, version.version, tags.APPROVED_AT, ",".join([*version.approved_at, at])
    )
