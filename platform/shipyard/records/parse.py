"""MLflow REST JSON -> the typed records of :mod:`shipyard.records.model`. Missing tags read as ""."""

from __future__ import annotations

from shipyard import tags
from shipyard.records.model import (
    CiRun,
    ModelVersion,
    Project,
    RegisteredModel,
    TrainingRun,
    ms_to_datetime,
)

UNKNOWN_CI_STATUS = "unknown"


def kv(items: list[dict] | None) -> dict[str, str]:
    """MLflow's ``[{"key": k, "value": v}]`` lists as a dict."""
    return {item["key"]: item.get("value", "") for item in items or []}


def split_list(value: str | None) -> tuple[str, ...]:
    """A comma-separated tag value (steps, approvals) as a tuple."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _int(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


def parse_project(exp: dict) -> Project:
    t = kv(exp.get("tags"))
    return Project(
        name=t.get(tags.PROJECT) or exp["name"],
        experiment_id=exp["experiment_id"],
        team=t.get(tags.TEAM, ""),
        risk_tier=t.get(tags.RISK_TIER, ""),
        owner=t.get(tags.OWNER, ""),
        repo=t.get(tags.REPO, ""),
        labeling=t.get(tags.LABELING, "").lower() == "true",
        artifact_location=exp.get("artifact_location", ""),
        lifecycle_stage=exp.get("lifecycle_stage", "active"),
        tags=t,
    )


def parse_ci_run(run: dict, project: str | None = None) -> CiRun:
    """``project`` defaults to the run's ``shipyard.project`` tag."""
    info, t = run["info"], kv(run.get("data", {}).get("tags"))
    return CiRun(
        run_id=info["run_id"],
        project=project if project is not None else t.get(tags.PROJECT, ""),
        status=t.get(tags.CI_STATUS) or UNKNOWN_CI_STATUS,
        commit=t.get(tags.CI_COMMIT, ""),
        branch=t.get(tags.CI_BRANCH, ""),
        provider=t.get(tags.CI_PROVIDER, ""),
        steps=split_list(t.get(tags.CI_STEPS)),
        failed_step=t.get(tags.CI_FAILED_STEP, ""),
        started_at=ms_to_datetime(info.get("start_time")),
        ended_at=ms_to_datetime(info.get("end_time")),
        experiment_id=info.get("experiment_id", ""),
        pushed_by=t.get(tags.CI_PUSHED_BY, ""),
    )


def parse_training_run(run: dict, project: str) -> TrainingRun:
    info, data = run["info"], run.get("data", {})
    t = kv(data.get("tags"))
    return TrainingRun(
        run_id=info["run_id"],
        project=project,
        ci_run_id=t.get(tags.CI_RUN_ID, ""),
        commit=t.get(tags.GIT_COMMIT, ""),
        data_hash=t.get(tags.DATA_HASH, ""),
        data_path=t.get(tags.DATA_PATH, ""),
        label_export=t.get(tags.LABEL_EXPORT, ""),
        instance_type=t.get(tags.INSTANCE_TYPE, ""),
        gpu_count=_int(t.get(tags.GPU_COUNT)),
        gate_result=t.get(tags.GATE_RESULT, ""),
        gate_reason=t.get(tags.GATE_REASON, ""),
        started_at=ms_to_datetime(info.get("start_time")),
        metrics={m["key"]: float(m["value"]) for m in data.get("metrics") or [] if "value" in m},
        params=kv(data.get("params")),
        experiment_id=info.get("experiment_id", ""),
        tags=t,
    )


def parse_registered_model(rm: dict, project_names: set[str] | None = None) -> RegisteredModel:
    """The project is the ``shipyard.project`` tag, else the model's name when a project has it."""
    t = kv(rm.get("tags"))
    project = t.get(tags.PROJECT) or (rm["name"] if rm["name"] in (project_names or ()) else "")
    aliases = {a["alias"]: int(a["version"]) for a in rm.get("aliases") or []}
    return RegisteredModel(name=rm["name"], project=project, aliases=aliases, tags=t)


def version_run_id(mv: dict) -> str:
    """The training run of a version: the ``shipyard.run_id`` tag, else MLflow's ``run_id``."""
    t = kv(mv.get("tags"))
    return t.get(tags.MODEL_RUN_ID) or mv.get("run_id", "") or ""


def parse_model_version(
    mv: dict, model: RegisteredModel | None, project: str = "", risk_tier: str = ""
) -> ModelVersion:
    """``model`` gives the aliases (``search_model_versions`` leaves them empty, MLflow #9783)."""
    t = kv(mv.get("tags"))
    version = int(mv["version"])
    aliases = tuple(sorted(a for a, v in (model.aliases if model else {}).items() if v == version))
    return ModelVersion(
        model=mv["name"],
        version=version,
        project=project or (model.project if model else ""),
        run_id=version_run_id(mv),
        data_hash=t.get(tags.DATA_HASH, ""),
        commit=t.get(tags.GIT_COMMIT, ""),
        gate_result=t.get(tags.GATE_RESULT, ""),
        model_card=t.get(tags.MODEL_CARD, ""),
        approved_by=split_list(t.get(tags.APPROVED_BY)),
        approved_at=split_list(t.get(tags.APPROVED_AT)),
        aliases=aliases,
        created_by=t.get(tags.CREATED_BY) or mv.get("user_id", ""),
        created_at=ms_to_datetime(mv.get("creation_timestamp")),
        status=mv.get("status", ""),
        source=mv.get("source", ""),
        risk_tier=risk_tier,
        tags=t,
    )
