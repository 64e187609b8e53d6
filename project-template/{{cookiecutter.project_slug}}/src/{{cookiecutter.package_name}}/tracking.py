"""MLflow set-up: the tracking server from the platform, the project's experiment with its tags."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

from shipyard import tags

from . import config


def configure() -> str:
    """Point MLflow at the platform (MLFLOW_TRACKING_URI, else shipyard.yaml); a local store otherwise."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = config.platform_value("MLFLOW_TRACKING_URI", "mlflow") or f"sqlite:///{config.ROOT / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    if uri.startswith(("http://", "https://")):
        from shipyard.identity.signed_in import use_login

        use_login()  # act as whoever `shipyard login` signed in (CI's own credentials win)
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


class PlatformRuns:
    """The run and registry calls `make gate` makes, over REST through shipyard's record layer, with
    MLflow's client's method names and shapes: importing MLflow only for them costs ~4 s per CI run."""

    def __init__(self, uri: str) -> None:
        from shipyard.records import MlflowApi

        self.api = MlflowApi(uri)

    def get_run(self, run_id: str) -> SimpleNamespace:
        from shipyard.records.parse import kv

        raw = self.api.run(run_id)
        data = raw.get("data") or {}
        return SimpleNamespace(
            info=SimpleNamespace(run_id=raw["info"]["run_id"]),
            data=SimpleNamespace(
                tags=kv(data.get("tags")), params=kv(data.get("params")), metrics=kv(data.get("metrics"))
            ),
        )

    def get_model_version_by_alias(self, name: str, alias: str) -> SimpleNamespace | None:
        """None when there is no such registered model or alias (MLflow's client raises then)."""
        from shipyard.errors import BadInput, NotFound

        try:
            found = self.api.get("registered-models/alias", name=name, alias=alias)["model_version"]
        except (NotFound, BadInput):
            return None
        version_tags = {t["key"]: t["value"] for t in found.get("tags", [])}
        return SimpleNamespace(version=found["version"], run_id=found.get("run_id", ""), tags=version_tags)

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self.api.set_tag(run_id, key, value)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        folder = str(Path(artifact_file).parent)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(artifact_file).name
            path.write_text(text)
            self.api.log_artifact(run_id, str(path), None if folder == "." else folder)


def gate_client():
    """The platform's MLflow over REST (:class:`PlatformRuns`); MLflow's client for a local store."""
    uri = configure()
    if uri.startswith(("http://", "https://")):
        return PlatformRuns(uri)
    return client()
