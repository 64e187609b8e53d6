"""Where things are and what the project is: params.yaml (the data scientist's knobs), shipyard.yaml
(the platform's: catalog entry, endpoints, governance) and the pipeline's paths."""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(os.environ.get("PROJECT_ROOT", Path(__file__).resolve().parents[2]))
RAW = ROOT / "data" / "raw"
LABELS = ROOT / "data" / "labels"
PREPARED = ROOT / "data" / "prepared" / "dataset.csv"
FEATURES = ROOT / "data" / "features"
MODELS = ROOT / "models"
RUN_FILE = MODELS / "run.json"
METRICS = ROOT / "metrics" / "eval.json"
REPORTS = ROOT / "reports"
# The source row a prepared row came from: stable when data.sample_fraction changes, so labels join on it.
ROW_ID = "row_id"


@cache
def params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


@cache
def project() -> dict:
    return yaml.safe_load((ROOT / "shipyard.yaml").read_text())


@cache
def governance() -> dict:
    """The platform's gate and drift limit: ``governance:`` in shipyard.yaml (``gate`` with
    primary_metric, champion_tolerance and thresholds; ``monitor`` with max_drift_share).

    A project not yet updated to the template release that moved them still has them in params.yaml
    (gate:, monitor.max_drift_share): read from there, with a one-line note."""
    owned = project().get("governance")
    if owned:
        return owned
    old = params()
    try:
        found = {"gate": old["gate"], "monitor": {"max_drift_share": old["monitor"]["max_drift_share"]}}
    except (KeyError, TypeError):
        raise SystemExit(
            "shipyard.yaml has no governance: section (the platform's gate thresholds and drift limit)\n"
            "  fix: run `shipyard project update`, or restore governance: from the template release"
        ) from None
    print(
        "note: params.yaml holds the gate and drift limit of an older template; "
        "`shipyard project update` moves them to shipyard.yaml (governance:)",
        file=sys.stderr,
    )
    return found


@cache
def schema() -> dict:
    return yaml.safe_load((ROOT / "schema.yaml").read_text())


def target() -> str:
    """The label column: ``target.name`` in schema.yaml (`make add-data ... TARGET=price` writes it)."""
    return str(schema()["target"]["name"])


def platform_value(env_var: str, key: str) -> str | None:
    """A platform endpoint: the job's environment first, else what shipyard.yaml was generated with."""
    return os.environ.get(env_var) or project().get("platform", {}).get(key) or None


def model_name() -> str:
    return project()["models"][0]["name"]
