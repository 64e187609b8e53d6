"""The registry's own copy of a registered version's files, which only the registry account can write.

The registry scores the files it downloaded (:mod:`.sandbox`), then uploads those same files,
re-hashed, into a run of an experiment it created itself (so MLflow's basic-auth gives it MANAGE and
everyone else the default READ: a member's ``PUT`` into that path is refused) and registers the
version from there. Each registration's audit event holds the file hashes; ``shipyard audit verify
--deep`` and the portal's reconcile compare them with what the version's source holds now
(:mod:`shipyard.audit.artifacts`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from shipyard.records import MlflowApi
from shipyard.records.artifact_files import PROXY, ModelFilesError, call, proxy_path, sha256_files

COPY_PATH = "model"  # the copy's folder inside the registry's run
COPY_EXPERIMENT = "shipyard-registry/{model}-{nonce}"  # a fresh, unguessable name: nobody squats it
COPY_KIND = "shipyard.registry.copy_of"  # tag: the model (experiment) or training run (run) it copies


@dataclass(frozen=True)
class Copy:
    """Where the registry keeps a registered version's files, and their hashes."""

    experiment_id: str
    run_id: str
    source: str
    files: dict[str, str]  # relative path -> sha256

    def as_dict(self) -> dict:
        return {"experiment_id": self.experiment_id, "run_id": self.run_id, "source": self.source,
                "files": dict(sorted(self.files.items()))}  # fmt: skip


def keep_copy(api: MlflowApi, model: str, folder: Path, files: dict[str, str], training_run: str,
              experiment_id: str | None) -> Copy:  # fmt: skip
    """Upload ``folder`` (whose files must still hash to ``files``) into a new run of the registry's
    own experiment for ``model`` (``experiment_id``, or a fresh one) and return where it lies."""
    if sha256_files(folder) != files:
        raise ModelFilesError("the model's files changed on disk between scoring and registration")
    if experiment_id is None:
        name = COPY_EXPERIMENT.format(model=model, nonce=uuid.uuid4().hex[:12])
        experiment_id = api.create_experiment(name, {COPY_KIND: model})
    run = api.create_run(experiment_id, f"{model}-copy", {COPY_KIND: training_run})
    run_id = run["info"]["run_id"]
    root = run["info"].get("artifact_uri") or ""
    if urlparse(root).scheme == PROXY:
        for rel in files:
            with open(folder / rel, "rb") as body:
                call(api, "PUT", f"{proxy_path(root)}/{COPY_PATH}/{rel}", data=body)
    else:  # a store MLflow's server does not proxy: its client writes there, with this process's rights
        from mlflow.tracking import MlflowClient

        from shipyard.records.mlflow_api import typed_refusals

        with typed_refusals():
            MlflowClient(tracking_uri=api.base_url).log_artifacts(run_id, str(folder), COPY_PATH)
    api.end_run(run_id, "FINISHED")
    return Copy(experiment_id, run_id, f"{root.rstrip('/')}/{COPY_PATH}", dict(files))
