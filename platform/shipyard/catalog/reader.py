"""Read the whole portfolio from MLflow with a handful of paged searches, cached for a short TTL.

Five searches, three of them concurrent with the first: experiments (= projects), CI runs, training
runs, registered models (with their aliases: ``search_model_versions`` leaves aliases empty, MLflow
#9783), model versions. Nothing here asks MLflow once per project, run or model.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from shipyard import tags
from shipyard.catalog.mlflow_rest import MlflowRest, ServiceUnavailable, quote, tag_key
from shipyard.catalog.model import (
    CiRun,
    ModelVersion,
    Project,
    RegisteredModel,
    Snapshot,
    TrainRun,
    ms_to_datetime,
)
from shipyard.endpoints import Endpoints

DEFAULT_TTL_S = 30.0

_cache: dict[tuple[str, str], tuple[float, Snapshot]] = {}
_cache_lock = threading.Lock()


def _kv(items: list[dict] | None) -> dict[str, str]:
    return {item["key"]: item.get("value", "") for item in items or []}


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _int(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


def parse_project(exp: dict) -> Project:
    t = _kv(exp.get("tags"))
    return Project(
        name=t.get(tags.PROJECT) or exp["name"],
        experiment_id=exp["experiment_id"],
        team=t.get(tags.TEAM, ""),
        risk_tier=t.get(tags.RISK_TIER, ""),
        owner=t.get(tags.OWNER, ""),
        repo=t.get(tags.REPO, ""),
        labeling=t.get(tags.LABELING, "").lower() == "true",
        tags=t,
    )


def parse_ci_run(run: dict, project: str) -> CiRun:
    info, t = run["info"], _kv(run.get("data", {}).get("tags"))
    return CiRun(
        run_id=info["run_id"],
        project=project,
        status=t.get(tags.CI_STATUS, "unknown"),
        commit=t.get(tags.CI_COMMIT, ""),
        branch=t.get(tags.CI_BRANCH, ""),
        provider=t.get(tags.CI_PROVIDER, ""),
        steps=_split(t.get(tags.CI_STEPS, "")),
        failed_step=t.get(tags.CI_FAILED_STEP, ""),
        started=ms_to_datetime(info.get("start_time")),
        ended=ms_to_datetime(info.get("end_time")),
    )


def parse_train_run(run: dict, project: str) -> TrainRun:
    info, data = run["info"], run.get("data", {})
    t = _kv(data.get("tags"))
    return TrainRun(
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
        started=ms_to_datetime(info.get("start_time")),
        metrics={m["key"]: float(m["value"]) for m in data.get("metrics") or [] if "value" in m},
        params=_kv(data.get("params")),
    )


def parse_registered_model(rm: dict, project_names: set[str]) -> RegisteredModel:
    t = _kv(rm.get("tags"))
    project = t.get(tags.PROJECT) or (rm["name"] if rm["name"] in project_names else "")
    aliases = {a["alias"]: int(a["version"]) for a in rm.get("aliases") or []}
    return RegisteredModel(name=rm["name"], project=project, aliases=aliases, tags=t)


def parse_version(mv: dict, model: RegisteredModel | None, run_project: str) -> ModelVersion:
    t = _kv(mv.get("tags"))
    version = int(mv["version"])
    aliases = tuple(sorted(a for a, v in (model.aliases if model else {}).items() if v == version))
    return ModelVersion(
        model=mv["name"],
        version=version,
        project=run_project or (model.project if model else ""),
        run_id=t.get(tags.MODEL_RUN_ID) or mv.get("run_id", ""),
        data_hash=t.get(tags.DATA_HASH, ""),
        commit=t.get(tags.GIT_COMMIT, ""),
        gate_result=t.get(tags.GATE_RESULT, ""),
        model_card=t.get(tags.MODEL_CARD, ""),
        approved_by=_split(t.get(tags.APPROVED_BY, "")),
        approved_at=_split(t.get(tags.APPROVED_AT, "")),
        aliases=aliases,
        created_by=mv.get("user_id", ""),
        created_at=ms_to_datetime(mv.get("creation_timestamp")),
        status=mv.get("status", ""),
        source=mv.get("source", ""),
        tags=t,
    )


def experiment_filter(prefix: str | None) -> str:
    clauses = [f"{tag_key(tags.PROJECT)} LIKE '%'"]  # only Shipyard projects, not "Default"
    if prefix:
        clauses.append(f"name LIKE {quote(prefix + '%')}")
    return " AND ".join(clauses)


def name_filter(prefix: str | None) -> str:
    return f"name LIKE {quote(prefix + '%')}" if prefix else ""


def run_kind_filter(kind: str) -> str:
    return f"{tag_key(tags.RUN_KIND)} = {quote(kind)}"


def fetch_snapshot(rest: MlflowRest, prefix: str | None = None) -> Snapshot:
    """Read everything, uncached. Experiments, registered models and versions are fetched concurrently;
    the two run searches start as soon as the experiment ids are known."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        f_exps = pool.submit(rest.search_experiments, experiment_filter(prefix))
        f_models = pool.submit(rest.search_registered_models, name_filter(prefix))
        f_versions = pool.submit(rest.search_model_versions, name_filter(prefix))
        exps = f_exps.result()
        ids = [e["experiment_id"] for e in exps]
        f_ci = pool.submit(rest.search_runs, ids, run_kind_filter(tags.RUN_KIND_CI))
        f_train = pool.submit(rest.search_runs, ids, run_kind_filter(tags.RUN_KIND_TRAIN))
        raw_models, raw_versions, raw_ci, raw_train = (
            f_models.result(),
            f_versions.result(),
            f_ci.result(),
            f_train.result(),
        )
    projects = sorted((parse_project(e) for e in exps), key=lambda p: p.name)
    by_exp = {p.experiment_id: p.name for p in projects}
    ci_runs = [parse_ci_run(r, by_exp.get(r["info"]["experiment_id"], "")) for r in raw_ci]
    train_runs = [parse_train_run(r, by_exp.get(r["info"]["experiment_id"], "")) for r in raw_train]
    names = set(by_exp.values())
    models = [parse_registered_model(rm, names) for rm in raw_models]
    model_by_name = {m.name: m for m in models}
    run_project = {r.run_id: r.project for r in train_runs}
    versions = []
    for mv in raw_versions:
        run_id = next((t["value"] for t in mv.get("tags") or [] if t["key"] == tags.MODEL_RUN_ID), None)
        project = run_project.get(run_id or mv.get("run_id", ""), "")
        versions.append(parse_version(mv, model_by_name.get(mv["name"]), project))
    versions.sort(key=lambda v: (v.model, -v.version))
    return Snapshot(
        projects=projects,
        ci_runs=ci_runs,
        train_runs=train_runs,
        models=sorted(models, key=lambda m: m.name),
        versions=versions,
        loaded_at=dt.datetime.now(dt.UTC),
    )


def load_snapshot(
    endpoints: Endpoints, prefix: str | None = None, ttl_s: float = DEFAULT_TTL_S, refresh: bool = False
) -> Snapshot:
    """The portfolio, from a cache at most ``ttl_s`` old (``refresh`` reads MLflow now)."""
    if not endpoints.mlflow:
        raise ServiceUnavailable("MLflow", None, "no tracking URL in the platform's endpoints")
    key = (endpoints.mlflow, prefix or "")
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit and not refresh and now < hit[0]:
        return hit[1]
    snap = fetch_snapshot(MlflowRest(endpoints.mlflow), prefix)
    with _cache_lock:
        _cache[key] = (time.monotonic() + ttl_s, snap)
    return snap


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
