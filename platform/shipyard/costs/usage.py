"""Usage from MLflow: every CI and training run of every project, as a run frame (see rollup.py).

Reads in pages, never one request per run: one paged ``search_experiments`` for the project
experiments (tagged ``shipyard.project``), one paged ``search_runs`` per 100 experiments filtered to
the month, and one paged ``search_model_versions`` to attribute runs to models. A training run
belongs to the model whose version records it (``run_id`` or the ``shipyard.run_id`` tag); a CI run
belongs to the model of the training run that points at it (``shipyard.ci.run_id``).
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from shipyard import tags
from shipyard.costs.results import NO_MODEL
from shipyard.costs.rollup import RUN_COLUMNS
from shipyard.errors import BadInput
from shipyard.records import MlflowApi, Project
from shipyard.records.parse import kv, version_run_id
from shipyard.records.read import list_projects

UNKNOWN_TEAM = "(no team)"


MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """UTC start of ``YYYY-MM`` and of the next month."""
    try:
        if not MONTH.match(month):  # strptime would take 2026-1 (and 2026-01-garbage is refused anyway)
            raise ValueError(month)
        start = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=dt.UTC)
    except ValueError:
        raise BadInput(f"month {month!r} is not in the form YYYY-MM", "pass e.g. --month 2026-11") from None
    if not 2000 <= start.year <= 2999:  # 9999-12 has no next month to end it
        raise BadInput(f"month {month!r} is outside 2000-01..2999-12", "pass a month with costs: 2026-11")
    nxt = (start + dt.timedelta(days=32)).replace(day=1)
    return start, nxt


def team_of(project: Project) -> str:
    return project.team or UNKNOWN_TEAM


def projects(api: MlflowApi) -> list[Project]:
    return list_projects(api)


def read_runs(
    api: MlflowApi,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    project_list: list[Project] | None = None,
) -> pd.DataFrame:
    """All project runs that started in ``[start, end)``, one row each (columns: RUN_COLUMNS + status).

    A run still going is counted up to ``now``.
    """
    now = now or dt.datetime.now(dt.UTC)
    project_list = projects(api) if project_list is None else project_list
    by_experiment = {p.experiment_id: p for p in project_list}
    time_filter = f"attributes.start_time >= {_ms(start)} AND attributes.start_time < {_ms(end)}"
    rows = [
        _row(run, by_experiment[run["info"]["experiment_id"]], now)
        for run in api.search_runs(list(by_experiment), time_filter)
    ]
    models = _run_models(api) if rows else {}
    frame = pd.DataFrame(rows, columns=[*RUN_COLUMNS, "status", "ci_run_id"])
    if not frame.empty:
        frame["model"] = _attribute_models(frame, models)
        _not_twice(frame)
    frame["hours"] = frame["hours"].astype(float)
    frame["gpu_count"] = frame["gpu_count"].astype(float)
    return frame.drop(columns=["ci_run_id"])


def _row(run: dict, project: Project, now: dt.datetime) -> list:
    info, run_tags = run["info"], kv(run.get("data", {}).get("tags"))
    start_ms = int(info.get("start_time") or 0)
    end_ms = int(info.get("end_time") or 0) or _ms(now)
    started = dt.datetime.fromtimestamp(start_ms / 1000, dt.UTC)
    return [
        info["run_id"],
        team_of(project),
        project.name,
        None,
        run_tags.get(tags.RUN_KIND, ""),
        started,
        started.strftime("%Y-%m"),
        max(end_ms - start_ms, 0) / 3_600_000,
        run_tags.get(tags.INSTANCE_TYPE) or None,
        run_tags.get(tags.GPU_TYPE) or None,
        _number(run_tags.get(tags.GPU_COUNT)),
        info.get("status", ""),
        run_tags.get(tags.CI_RUN_ID),
    ]


def _run_models(api: MlflowApi) -> dict[str, str]:
    """run id -> registered model name (the lowest version wins when a run has several)."""
    found: dict[str, tuple[int, str]] = {}
    for mv in api.search_model_versions():
        for run_id in {mv.get("run_id"), version_run_id(mv)} - {None, ""}:
            version = int(mv["version"])
            if run_id not in found or version < found[run_id][0]:
                found[run_id] = (version, mv["name"])
    return {run_id: name for run_id, (_, name) in found.items()}


def _attribute_models(frame: pd.DataFrame, models: dict[str, str]) -> pd.Series:
    direct = frame["run_id"].map(models)
    # a CI run costs what its model's pipeline cost: follow training runs back to their CI run
    ci_models = {
        ci: model
        for ci, model in zip(frame["ci_run_id"], direct, strict=True)
        if ci and isinstance(model, str)
    }
    via_ci = frame["run_id"].map(ci_models)
    return direct.astype(object).fillna(via_ci.astype(object)).fillna(NO_MODEL)


def _not_twice(frame: pd.DataFrame) -> None:
    """A run that started inside a priced CI run, on the same instance type (a training step of the
    pipeline), ran on the CI run's machine, whose whole time is already priced: it keeps its
    attribution but its hours are not counted again. A step that ran elsewhere (a GPU Job) keeps them."""
    ci = frame[(frame["kind"] == tags.RUN_KIND_CI) & frame["instance_type"].notna()]
    ci_end = ci["start"] + pd.to_timedelta(ci["hours"].astype(float), unit="h")
    machine = dict(zip(ci["run_id"], zip(ci["instance_type"], ci["start"], ci_end, strict=True), strict=True))
    for i, row in frame[frame["kind"] != tags.RUN_KIND_CI].iterrows():
        host = machine.get(row["ci_run_id"])
        if host and host[0] == row["instance_type"] and host[1] <= row["start"] < host[2]:
            frame.at[i, "hours"] = 0.0


def _ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def _number(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "") else 0.0
    except ValueError:
        return 0.0
