"""The generated `.gitlab-ci.yml` run by a real GitLab CI emulator (gitlab-ci-local 4.56.2, shell
executor) against the light embedded platform (MLflow, the registry, the package index, the DVC remote),
from a clean checkout and a clean virtual environment that gets `shipyard` only from the platform's
package index (`./dev setup` installs gitlab-ci-local and rsync).

The runner host passes only what a runner host has: system PATH (not Shipyard's venv), its TLS settings,
and a restored uv cache (CI's cache). Everything else comes from CI variables (--variable).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from shipyard import tags
from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore
from shipyard.ci.runs import list_ci_runs
from shipyard.identity import REGISTRY, ci_account
from shipyard.local.process import free_port
from shipyard.platform.env import ENV_PACKAGE_INDEX, ENV_REGISTRY
from shipyard.records import MlflowApi

from ..fixtures.model_card import write_words
from ..fixtures.registry_service import start_registry
from .conftest import REPO, VENV_BIN
from .test_project_ci import commit_all

pytestmark = [pytest.mark.services, pytest.mark.slow]
GITLAB_CI_LOCAL = REPO / ".shipyard-tools" / "gitlab-ci-local" / "node_modules" / ".bin" / "gitlab-ci-local"


def runner_host_env() -> dict[str, str]:
    """A runner host: system tools on PATH, none of Shipyard's environment, no machine pip config."""
    path = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if Path(p) != VENV_BIN]
    env = {"HOME": os.environ.get("HOME", "/root"), "PATH": os.pathsep.join(path)}
    env["PIP_CONFIG_FILE"] = "/dev/null"
    for key in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "LANG"):  # the host's TLS trust, if any
        if os.environ.get(key):
            env[key] = os.environ[key]
    if "PIP_CERT" in env and "SSL_CERT_FILE" not in env:
        env["SSL_CERT_FILE"] = env["PIP_CERT"]
    return env


def gitlab_ci_local(checkout: Path, variables: dict[str, str], timeout: float = 1500):
    args = [str(GITLAB_CI_LOCAL), "--shell-executor-no-image", "--no-color", "--max-job-name-padding", "0"]
    for key, value in variables.items():
        args += ["--variable", f"{key}={value}"]
    return subprocess.run(
        args, cwd=checkout, env=runner_host_env(), capture_output=True, text=True, timeout=timeout
    )


def clean_checkout(project: Path, dest: Path) -> Path:
    """What a runner starts from: a fresh clone of the pushed commit (no venv, no outputs)."""
    subprocess.run(["git", "clone", "-q", str(project), str(dest)], check=True, capture_output=True)
    return dest


@pytest.fixture(scope="module")
def gitlab_project(light_platform, tmp_path_factory):
    if not GITLAB_CI_LOCAL.exists() or not shutil.which("rsync"):
        pytest.skip("gitlab-ci-local or rsync is missing: ./dev setup installs them")
    root = tmp_path_factory.mktemp("gitlab-pipeline")
    new = light_platform.cli(
        "new", "GitLab Pipeline", "--team", "demo", "--ci", "gitlab", "--no-input", "-o", str(root)
    )
    assert new.returncode == 0, new.stdout + new.stderr
    project = root / "gitlab-pipeline"
    write_words(project)  # the model card's own words: the gate refuses a card of placeholders
    commit_all(project, "Start from the Shipyard template")
    return project


def ci_variables(platform, slug: str, **extra: str) -> dict[str, str]:
    variables = platform.endpoints.to_env("demo", slug)
    # the project's CI account, a masked variable in GitLab (docs/ci.md): MLflow runs with basic-auth
    variables.update(platform.credentials(ci_account(slug)).env())
    variables.update(SHIPYARD_CI_EXECUTOR="shell", **extra)
    uv_cache = Path.home() / ".cache" / "uv"
    if uv_cache.is_dir():  # CI's restored cache: the locked wheels without downloading them again
        variables["UV_CACHE_DIR"] = str(uv_cache)
    return variables


def test_unreachable_index_fails_in_one_line_naming_the_variable(gitlab_project, light_platform, tmp_path):
    checkout = clean_checkout(gitlab_project, tmp_path / "checkout")
    dead = f"http://127.0.0.1:{free_port()}/simple/"
    result = gitlab_ci_local(
        checkout, ci_variables(light_platform, gitlab_project.name, **{ENV_PACKAGE_INDEX: dead})
    )
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-3000:]
    errors = [line for line in out.splitlines() if "error:" in line]
    assert len(errors) == 1, out[-3000:]
    assert ENV_PACKAGE_INDEX in errors[0] and dead in errors[0] and "unreachable" in errors[0]
    assert "Successfully installed shipyard" not in out and "export SHIPYARD_CI_RUN_ID" not in out


def test_generated_pipeline_installs_shipyard_from_the_platform_index_and_registers(
    gitlab_project, light_platform, tmp_path
):
    from mlflow import MlflowClient

    platform, slug = light_platform, gitlab_project.name
    index = platform.endpoints.package_index
    assert index and f"{index}" in (gitlab_project / "Makefile").read_text()
    checkout = clean_checkout(gitlab_project, tmp_path / "checkout")
    # `shipyard up`'s registry refuses a hosted CI's runs (it cannot check their provenance as it checks
    # its own runner's); a registry started with --unverified-hosted-ci (as on a cluster) takes them, and
    # each evidence says so
    account = platform.credentials(REGISTRY).env()
    hosted = start_registry(
        platform.endpoints.mlflow,
        platform.data_dir,
        platform.spec_path,
        account=account,
        log=tmp_path / "r.log",
    )
    try:
        result = gitlab_ci_local(checkout, ci_variables(platform, slug, **{ENV_REGISTRY: hosted.url}))
    finally:
        hosted.stop()
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert "PASS" in out and "ci-shell" in out
    (registered,) = AuditStore.of(platform.data_dir).events(model=slug, action=audit.SUBMIT_REGISTERED)
    assert registered.details["provenance"].startswith("unverified: hosted CI")

    # shipyard came from the platform's index, hash-checked, into the job's own clean venv
    assert f"--index-url {index}" in out and f"Looking in indexes: {index}" in out
    assert f"Downloading {index}shipyard/shipyard-" in out
    where = subprocess.run(
        [str(checkout / ".venv" / "bin" / "python"), "-c", "import shipyard; print(shipyard.__file__)"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert where.returncode == 0 and where.stdout.strip().startswith(str(checkout / ".venv")), where

    # the gated model is registered, and the pipeline's CI record says passed
    assert "platform gate: PASSED (registered, version 1; branch main" in out and "gate PASSED" in out
    client = MlflowClient(platform.endpoints.mlflow)
    assert client.get_registered_model(slug).aliases == {tags.CHALLENGER: "1"}
    (record,) = list_ci_runs(MlflowApi(platform.endpoints.mlflow), slug)
    assert record.provider == "gitlab" and record.status == "passed"
