"""MLflow set-up: the tracking server from the platform, the project's experiment with its tags."""

from __future__ import annotations

import os

from shipyard import tags

from . import config


def configure() -> str:
    """Point MLflow at the platform (MLFLOW_TRACKING_URI, else shipyard.yaml); a local store otherwise."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = config.platform_value("MLFLOW_TRACKING_URI", "mlflow") or f"sqlite:///{config.ROOT / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    return uri


def experiment_tags() -> dict[str, str]:
    p = config.project()
    return {
        tags.PROJECT: p["project"],
        tags.TEAM: p["team"],
        tags.RISK_TIER: p["risk_tier"],
        tags.OWNER: p["owner"],
        tags.LABELING: str(p.get("labeling", False)).lower(),
    }


def ensure_experiment(client) -> str:
    """The experiment named after the project (created by the platform, or here on first use).

    Tags the platform set win over shipyard.yaml: a project cannot re-tier or re-team itself.
    """
    name = config.project()["project"]
    experiment = client.get_experiment_by_name(name)
    wanted = experiment_tags()
    if experiment is None:
        return client.create_experiment(name, tags=wanted)
    for key, value in wanted.items():
        current = experiment.tags.get(key)
        if current is None:
            client.set_experiment_tag(experiment.experiment_id, key, value)
        elif current != value:
            print(f"note: the platform records {key}={current!r}, shipyard.yaml {value!r}: platform wins")
    return experiment.experiment_id


def client():
    import mlflow

    configure()
    return mlflow.MlflowClient()
