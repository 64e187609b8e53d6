"""Issue 32, attacks 2 and 5, against real MLflow with basic-auth and the real registry service.

2: a submitted model is the judged party's code. A pyfunc ``python_model`` whose ``load_context``
   writes a file, or a scikit-learn model pickled with a payload, is refused by name and nothing of
   it runs; a skops model is scored in a child that sees no credentials (what the child saw is read
   back from it).
5: a registered version's files are the registry's own copy: a team member's ``PUT`` into the version's
   artifact location is refused, and a file changed anyway (as MLflow's admin) is named by
   ``shipyard audit verify --deep`` and by the reconcile the portal runs."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
import pytest
import requests
from mlflow import MlflowClient
from shipyard.audit.reconcile import findings
from shipyard.audit.store import AuditStore
from shipyard.identity import ADMIN
from shipyard.identity.session import acting_as
from shipyard.registry.client import RegistryRefused

from .conftest import new_project

pytestmark = [pytest.mark.services, pytest.mark.slow]

MEMBER = "analyst@example.com"  # a member of team demo, which owns the test projects


def _outcome(fn) -> str:
    """The registry's refusal, or what it answered instead (a registration, a gate's refusal)."""
    try:
        return f"answered: {fn()}"
    except RegistryRefused as exc:
        return str(exc)


def test_a_pyfunc_whose_load_context_writes_a_file_is_refused_and_never_run(light_platform, tmp_path):
    marker = tmp_path / "load_context-ran"

    def log_writer(_fitted):
        class Writer(mlflow.pyfunc.PythonModel):  # local: cloudpickle saves it by value, as an attacker's
            def load_context(self, context):
                Path(str(marker)).write_text(os.environ.get("MLFLOW_TRACKING_PASSWORD", "(none)"))

            def predict(self, context, model_input, params=None):
                return [1] * len(model_input)

        mlflow.pyfunc.log_model(name="model", python_model=Writer(), pip_requirements=["mlflow"])

    p = new_project(light_platform)
    job = p.job(tmp_path, log_model=log_writer)
    assert not marker.exists()  # logging it ran nothing
    outcome = _outcome(lambda: p.submit(job))
    assert not marker.exists(), f"the model's code ran in the registry: {marker.read_text()[:4]}..."
    assert "python_function" in outcome and "not accepted" in outcome and "fix:" in outcome, outcome


class _Payload:
    """Unpickling this opens (creates) a file: the smallest pickle that runs code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))

    def predict(self, x):  # MLflow adds the python_function flavour to what can predict
        return x


def test_a_pickled_sklearn_model_is_refused_and_its_pickle_never_loaded(light_platform, tmp_path):
    marker = tmp_path / "unpickled"

    def log_pickle(_fitted):
        mlflow.sklearn.log_model(
            _Payload(str(marker)), name="model", serialization_format="cloudpickle", pip_requirements=[]
        )

    p = new_project(light_platform)
    job = p.job(tmp_path, log_model=log_pickle)
    assert not marker.exists()
    outcome = _outcome(lambda: p.submit(job))
    assert not marker.exists(), "the registry unpickled the submitted model"
    assert "sklearn (cloudpickle)" in outcome and 'serialization_format="skops"' in outcome, outcome


def test_a_skops_model_is_registered_from_the_registrys_copy_with_every_files_hash(light_platform, tmp_path):
    p = new_project(light_platform)
    job = p.job(tmp_path)
    result = p.submit(job)
    assert result["outcome"] == "registered", result
    with acting_as(light_platform.credentials(ADMIN)):
        client = MlflowClient(light_platform.endpoints.mlflow, light_platform.endpoints.mlflow)
        mv = client.get_model_version(p.name, result["version"])
        copy_run = client.get_run(mv.run_id)
        experiment = client.get_experiment(copy_run.info.experiment_id)
    assert experiment.experiment_id != p.experiment_id and experiment.name.startswith(
        f"shipyard-registry/{p.name}-"
    )
    (event,) = AuditStore.of(light_platform.data_dir).events(model=p.name, action="submit.registered")
    kept = event.details["artifacts"]
    assert kept["source"] == mv.source and {"MLmodel", "model.skops"} <= set(kept["files"])
    assert all(len(h) == 64 for h in kept["files"].values())


def test_a_members_put_into_a_registered_version_is_refused_and_a_changed_file_is_named(
    light_platform, tmp_path
):
    p = new_project(light_platform)
    result = p.submit(p.job(tmp_path))
    assert result["outcome"] == "registered", result
    version = result["version"]
    uri = light_platform.endpoints.mlflow
    with acting_as(light_platform.credentials(ADMIN)):
        location = MlflowClient(uri, uri).get_model_version_download_uri(p.name, version)
    assert location.startswith("mlflow-artifacts:"), location
    path = location.split(":", 1)[1].strip("/")
    url = f"{uri}/api/2.0/mlflow-artifacts/artifacts/{path}/MLmodel"
    swapped = b"flavors: {python_function: {loader_module: mlflow.pyfunc.model, python_model: p.pkl}}\n"

    member = requests.put(url, data=swapped, auth=light_platform.credentials(MEMBER).auth, timeout=60)
    assert member.status_code == 403, (member.status_code, member.text[:200])

    # whoever can still write there (MLflow's admin, anyone with the artifact store's files): detected
    admin = requests.put(url, data=swapped, auth=light_platform.credentials(ADMIN).auth, timeout=60)
    assert admin.status_code == 200, admin.text[:200]
    deep = light_platform.cli("audit", "verify", "--deep", "--data-dir", str(light_platform.data_dir))
    assert deep.returncode == 1, deep.stdout + deep.stderr
    assert f"{p.name} v{version}: file MLmodel changed since registration" in deep.stderr
    plain = light_platform.cli("audit", "verify", "--data-dir", str(light_platform.data_dir))
    assert plain.returncode == 0, plain.stderr  # the chain itself is intact: only --deep looks at files

    with acting_as(light_platform.credentials(ADMIN)):  # the portal's reconcile: v1 is the challenger
        found = findings(AuditStore.of(light_platform.data_dir), uri)
    assert [f.what for f in found if f.model == p.name] == [
        f"{p.name} v{version}: file MLmodel changed since registration"
    ]


def test_a_version_registered_before_file_hashes_still_judges_and_is_listed_as_unverifiable(
    light_platform, tmp_path
):
    from shipyard import tags
    from shipyard.audit import names as audit
    from shipyard.identity import REGISTRY, ci_account
    from shipyard.records import MlflowApi

    p = new_project(light_platform)
    old = p.job(tmp_path)
    # v1 as the registry registered it before issue 32: from the team's logged model, no file hashes
    api = MlflowApi(light_platform.endpoints.mlflow, **_login(light_platform, REGISTRY))
    (logged,) = api.search_logged_models([p.experiment_id], f"source_run_id = '{old.run_id}'")
    model_id = logged["info"]["model_id"]
    api.create_model_version(p.name, f"models:/{model_id}", old.run_id, {tags.MODEL_RUN_ID: old.run_id},
                             model_id=model_id)  # fmt: skip
    api.set_alias(p.name, tags.CHALLENGER, "1")
    AuditStore.of(light_platform.data_dir).append(
        ci_account(p.name), audit.SUBMIT_REGISTERED, p.name, p.name, "1", {"run_id": old.run_id}
    )
    p.act("manager@example.com", 1, "promote")

    result = p.submit(p.job(tmp_path))  # the same tree again: as good as the champion
    assert result["outcome"] == "registered" and result["verdict"]["champion_version"] == "1", result
    assert result["verdict"]["champion"]["accuracy"] > 0.8
    deep = light_platform.cli("audit", "verify", "--deep", "--data-dir", str(light_platform.data_dir))
    assert f"{p.name} v1: registered before file hashes were recorded (not verifiable)" in deep.stdout
    assert f"{p.name} v2" not in deep.stdout + deep.stderr  # v2's files are as registered


def _login(platform, who: str) -> dict:
    creds = platform.credentials(who)
    return {"username": creds.username, "password": creds.password}
