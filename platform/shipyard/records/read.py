"""Reading Shipyard's records from MLflow: every listing paged, nothing capped.

A snapshot is five searches, three of them concurrent with the first: experiments (= projects), CI
runs, training runs, registered models (with their aliases: ``search_model_versions`` leaves aliases
empty, MLflow #9783), model versions. Nothing here asks MLflow once per project, run or model.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from shipyard import tags
from shipyard.errors import NotFound
from shipyard.records.filters import experiment_filter, name_filter, run_kind_filter
from shipyard.records.mlflow_api import MlflowApi
from shipyard.records.model import CiRun, ModelVersion, Project, Snapshot, TrainingRun
from shipyard.records.parse import (
    kv,
    parse_ci_run,
    parse_model_version,
    parse_project,
    parse_registered_model,
    parse_training_run,
    version_run_id,
)


def find_project(api: MlflowApi, name: str) -> Project | None:
    """The project ``name`` (its experiment, deleted or not), or None when MLflow has no such experiment
    or the experiment is not a Shipyard project."""
    exp = api.experiment_by_name(name)
    if exp is None or kv(exp.get("tags")).get(tags.PROJECT) != name:
        return None
    return parse_project(exp)


def list_projects(api: MlflowApi, prefix: str | None = None) -> list[Project]:
    """Every active Shipyard project (experiment tagged ``shipyard.project``), by name."""
    found = (parse_project(e) for e in api.search_experiments(experiment_filter(prefix)))
    return sorted(found, key=lambda p: p.name)


def list_ci_runs(api: MlflowApi, projects: list[Project]) -> list[CiRun]:
    """The CI runs of ``projects``, newest first."""
    names = {p.experiment_id: p.name for p in projects}
    runs = api.search_runs(list(names), run_kind_filter(tags.RUN_KIND_CI))
    return [parse_ci_run(r, names.get(r["info"]["experiment_id"], "")) for r in runs]


def list_training_runs(api: MlflowApi, projects: list[Project]) -> list[TrainingRun]:
    """The training runs of ``projects``, newest first."""
    names = {p.experiment_id: p.name for p in projects}
    runs = api.search_runs(list(names), run_kind_filter(tags.RUN_KIND_TRAIN))
    return [parse_training_run(r, names.get(r["info"]["experiment_id"], "")) for r in runs]


def get_ci_run(api: MlflowApi, run_id: str) -> CiRun:
    return parse_ci_run(api.run(run_id))


def get_model_version(api: MlflowApi, model: str, version: int) -> ModelVersion:
    """One version with its aliases, project and risk tier (from its training run's project, else
    the registered model's tags)."""
    try:
        mv = api.model_version(model, version)
        rm = parse_registered_model(api.registered_model(model))
    except NotFound:
        raise NotFound(
            f"model {model!r} has no version {version}", "list versions with `shipyard model list`"
        ) from None
    project, tier = rm.tags.get(tags.PROJECT, ""), ""
    run_id = version_run_id(mv)
    if run_id:
        try:
            exp = api.experiment(api.run(run_id)["info"]["experiment_id"])
            exp_tags = kv(exp.get("tags"))
            project = exp_tags.get(tags.PROJECT, exp["name"])
            tier = exp_tags.get(tags.RISK_TIER, "")
        except NotFound:
            pass  # the run was deleted: the tier falls back to the registered model's tag
    tier = tier or rm.tags.get(tags.RISK_TIER, "")
    return parse_model_version(mv, rm, project, tier)


def fetch_snapshot(api: MlflowApi, prefix: str | None = None) -> Snapshot:
    """Every record of the projects named ``prefix*``, uncached. Experiments, registered models and
    versions are fetched concurrently; the two run searches start as soon as the experiment ids are known."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        f_exps = pool.submit(api.search_experiments, experiment_filter(prefix))
        f_models = pool.submit(api.search_registered_models, name_filter(prefix))
        f_versions = pool.submit(api.search_model_versions, name_filter(prefix))
        exps = f_exps.result()
        ids = [e["experiment_id"] for e in exps]
        f_ci = pool.submit(api.search_runs, ids, run_kind_filter(tags.RUN_KIND_CI))
        f_train = pool.submit(api.search_runs, ids, run_kind_filter(tags.RUN_KIND_TRAIN))
        raw_models, raw_versions, raw_ci, raw_train = (
            f_models.result(),
            f_versions.result(),
            f_ci.result(),
            f_train.result(),
        )
    projects = sorted((parse_project(e) for e in exps), key=lambda p: p.name)
    by_exp = {p.experiment_id: p.name for p in projects}
    ci_runs = [parse_ci_run(r, by_exp.get(r["info"]["experiment_id"], "")) for r in raw_ci]
    train_runs = [parse_training_run(r, by_exp.get(r["info"]["experiment_id"], "")) for r in raw_train]
    names = set(by_exp.values())
    models = [parse_registered_model(rm, names) for rm in raw_models]
    model_by_name = {m.name: m for m in models}
    run_project = {r.run_id: r.project for r in train_runs}
    versions = [
        parse_model_version(mv, model_by_name.get(mv["name"]), run_project.get(version_run_id(mv), ""))
        for mv in raw_versions
    ]
    versions.sort(key=lambda v: (v.model, -v.version))
    return Snapshot(
        projects=projects,
        ci_runs=ci_runs,
        train_runs=train_runs,
        models=sorted(models, key=lambda m: m.name),
        versions=versions,
        loaded_at=dt.datetime.now(dt.UTC),
    )
