"""The one resolver: spec + data dir (+ stack outputs, + overrides) -> one Platform, the same way for
every command, the portal, the runner and the hook."""

from __future__ import annotations

import json

import pytest
from shipyard.errors import UserError
from shipyard.platform.env import ENV_HOME, ENV_SPEC
from shipyard.platform.layout import DataLayout
from shipyard.platform.portal import portal_env, portal_settings
from shipyard.platform.resolver import (
    locate_data_dir,
    not_started,
    platform_from_data_dir,
    recorded_endpoints,
    resolve_platform,
)
from shipyard.platform.state import State, save_state

from ..conftest import REPO
from ..fixtures.embedded_platform import write_spec

NO_ENV: dict[str, str] = {}


def _started(data_dir, spec_path, **endpoints):
    layout = DataLayout(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    recorded = {
        "platform": "local",
        "mlflow": "http://127.0.0.1:7001",
        "label_studio_token": "tok",
        **endpoints,
    }
    save_state(layout.state_file, State(data_dir=str(data_dir), spec_path=str(spec_path), endpoints=recorded))


def test_local_spec_without_state_derives_ports(tmp_path):
    p = resolve_platform(REPO / "platform.yaml", tmp_path, environ=NO_ENV)
    assert p.endpoints.mlflow == "http://127.0.0.1:5000" and p.data_dir == tmp_path.resolve()
    assert p.endpoints.dvc_remote_root == str(tmp_path.resolve() / "dvc-remote")
    assert p.endpoints.mlflow_artifacts == str(tmp_path.resolve() / "mlflow" / "artifacts")
    assert p.git_root == tmp_path.resolve() / "git"


def test_started_platform_wins_over_the_spec_and_env_over_both(tmp_path):
    spec = write_spec(tmp_path / "platform.yaml")
    _started(tmp_path / "home", spec)
    p = resolve_platform(spec, tmp_path / "home", environ=NO_ENV)
    assert p.endpoints.mlflow == "http://127.0.0.1:7001" and p.endpoints.label_studio_token == "tok"
    env = {"MLFLOW_TRACKING_URI": "http://env:1", "SHIPYARD_PROMETHEUS_URL": "http://prom:2"}
    p = resolve_platform(spec, tmp_path / "home", environ=env)
    assert (p.endpoints.mlflow, p.endpoints.prometheus) == ("http://env:1", "http://prom:2")
    p = resolve_platform(spec, tmp_path / "home", environ=env, overrides={"mlflow": "http://flag:3"})
    assert p.endpoints.mlflow == "http://flag:3"


def test_runner_and_hook_read_the_same_state(tmp_path):
    spec = write_spec(tmp_path / "platform.yaml")
    _started(tmp_path / "home", spec, future_field="ignored")
    p = platform_from_data_dir(tmp_path / "home")
    assert p.endpoints.mlflow == "http://127.0.0.1:7001" and p.spec is not None
    with pytest.raises(UserError, match="no embedded platform has been started"):
        platform_from_data_dir(tmp_path / "nothing")


def test_cluster_spec_and_stack_outputs(tmp_path):
    spec = REPO / "examples" / "platform.aws.yaml"
    p = resolve_platform(spec, tmp_path, environ=NO_ENV)
    assert p.endpoints.platform == "aws" and not p.is_local and p.git_root is None
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"endpoints": {"platform": "aws", "mlflow": "https://mlflow.x"},
                                   "dvcRemotes": {"fraud": "s3://fraud-dvc"}}))  # fmt: skip
    p = resolve_platform(spec, tmp_path, stack_outputs=outputs, team="fraud", environ=NO_ENV)
    assert (
        p.endpoints.mlflow == "https://mlflow.x"
        and p.endpoints.dvc_remote("fraud", "x") == "s3://fraud-dvc/fraud/x"
    )
    with pytest.raises(UserError, match="no such file"):
        resolve_platform(spec, tmp_path, stack_outputs=tmp_path / "missing.json", environ=NO_ENV)


def test_without_a_spec_only_where_allowed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./platform.yaml here
    p = resolve_platform(
        None, tmp_path / "home", require_spec=False, environ={"MLFLOW_TRACKING_URI": "http://ci:1"}
    )
    assert p.spec is None and p.endpoints.mlflow == "http://ci:1"
    with pytest.raises(UserError, match="no platform has been started in .*no ./platform.yaml here"):
        resolve_platform(None, tmp_path / "home", environ=NO_ENV)


def test_portal_environment_round_trip(tmp_path, monkeypatch):
    spec = write_spec(tmp_path / "platform.yaml")
    _started(tmp_path / "home", spec, mlflow_artifacts="/data/mlflow/artifacts")
    platform = resolve_platform(spec, tmp_path / "home", environ=NO_ENV)
    env = portal_env(platform, prefix="pt-")
    settings = portal_settings(env)
    assert settings.endpoints.mlflow == platform.endpoints.mlflow and settings.prefix == "pt-"
    assert settings.spec_path == platform.spec_path and settings.git_root == str(tmp_path / "home" / "git")
    assert settings.endpoints.label_studio_token == platform.endpoints.label_studio_token
    assert settings.endpoints.mlflow_artifacts == "/data/mlflow/artifacts"  # storage costs measure it


def test_down_and_status_find_the_data_dir_without_a_spec(tmp_path, monkeypatch):
    """`locate_data_dir`: the one named, else the named spec's local.data_dir, else ~/.shipyard; a spec
    that is gone is no error (``down`` must work after the spec moved)."""
    monkeypatch.delenv(ENV_HOME, raising=False)
    monkeypatch.delenv(ENV_SPEC, raising=False)
    assert locate_data_dir(tmp_path / "gone.yaml", tmp_path / "home") == (tmp_path / "home").resolve()
    spec = write_spec(tmp_path / "platform.yaml", data_dir=str(tmp_path / "from-spec"))
    assert locate_data_dir(spec, None) == (tmp_path / "from-spec").resolve()
    monkeypatch.setenv(ENV_HOME, str(tmp_path / "env-home"))
    assert locate_data_dir(spec, None) == (tmp_path / "env-home").resolve()


def test_the_not_started_error_is_one_and_names_the_data_dir(tmp_path):
    layout = DataLayout(tmp_path / "never")
    with pytest.raises(UserError) as info:
        recorded_endpoints(layout)
    assert info.value.message == not_started(layout.root).message
    assert f"shipyard up --data-dir {layout.root}" in info.value.fix
    assert not layout.root.exists()  # asking creates nothing
