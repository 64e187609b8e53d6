"""One sign-in: a project's code acts as whoever `shipyard login` signed in; a 401 says "sign in"."""

from __future__ import annotations

from pathlib import Path

from shipyard.identity.credentials import Credentials
from shipyard.identity.session import save_login
from shipyard.identity.signed_in import SIGN_IN_FIX, data_dir_argument, is_unauthorized, use_login
from shipyard.platform.env import ENV_MLFLOW_PASSWORD as ENV_PASSWORD
from shipyard.platform.env import ENV_MLFLOW_USERNAME as ENV_USERNAME


def test_the_saved_login_is_used_when_the_environment_names_nobody(tmp_path, monkeypatch):
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path))
    monkeypatch.delenv(ENV_USERNAME, raising=False)
    monkeypatch.delenv(ENV_PASSWORD, raising=False)
    assert use_login() is None
    save_login(tmp_path, Credentials("ds@example.com", "s3cret"))
    assert use_login() == Credentials("ds@example.com", "s3cret")
    import os

    assert os.environ[ENV_USERNAME] == "ds@example.com"


def test_ci_credentials_in_the_environment_win(tmp_path, monkeypatch):
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path))
    save_login(tmp_path, Credentials("ds@example.com", "s3cret"))
    monkeypatch.setenv(ENV_USERNAME, "ci-houses")
    monkeypatch.setenv(ENV_PASSWORD, "ci-pw")
    assert use_login() == Credentials("ci-houses", "ci-pw")


def test_the_data_dir_a_command_names_is_where_its_login_is():
    assert data_dir_argument(["ci", "list", "--data-dir", "/d"]) == Path("/d")
    assert data_dir_argument(["ci", "list", "--data-dir=/e"]) == Path("/e")
    assert data_dir_argument(["ci", "list"]) is None


def test_a_401_is_told_from_a_missing_alias(monkeypatch):
    from shipyard.records import auth

    class MlflowError(Exception):
        error_code = "UNAUTHENTICATED"

    class StatusError(Exception):
        def get_http_status_code(self):
            return 401

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert is_unauthorized(MlflowError("API request failed"))
    assert is_unauthorized(StatusError("no status in this text"))
    assert not is_unauthorized(RuntimeError("RESOURCE_DOES_NOT_EXIST: no alias champion"))
    # MLflow's client keeps a plain 401 in its message only: MLflow itself is asked, never the text
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    monkeypatch.setenv(ENV_USERNAME, "ds@example.com")
    monkeypatch.setenv(ENV_PASSWORD, "old-password")
    monkeypatch.setattr(auth, "accepts", lambda url, user, password: False)
    assert is_unauthorized(RuntimeError("API request failed with error code 401 != 200"))
    monkeypatch.setattr(auth, "accepts", lambda url, user, password: True)
    assert not is_unauthorized(RuntimeError("API request failed with error code 401 != 200"))
    assert SIGN_IN_FIX.startswith("sign in: shipyard login --user")
