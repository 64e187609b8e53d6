"""The signed-in identity of the CLI: ``shipyard login`` stores it in a 0600 file under the data dir;
``$MLFLOW_TRACKING_USERNAME/PASSWORD`` win when set. MLflow clients read those variables at each
request, so :func:`activate` puts the login there and every MLflow call acts as that person."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shipyard.errors import UserError
from shipyard.identity.credentials import Credentials
from shipyard.identity.secrets import identity_dir, read_secret, write_secret
from shipyard.platform.env import ENV_MLFLOW_PASSWORD as ENV_PASSWORD
from shipyard.platform.env import ENV_MLFLOW_USERNAME as ENV_USERNAME


def login_file(data_dir: Path) -> Path:
    return identity_dir(data_dir) / "login.json"


def check(url: str, creds: Credentials) -> bool:
    """True when MLflow accepts the credentials (an authenticated read answers 200)."""
    from shipyard.records.auth import accepts  # not at module level: every CLI start activates the login

    return accepts(url, creds.username, creds.password)


def save_login(data_dir: Path, creds: Credentials) -> Path:
    path = login_file(data_dir)
    write_secret(path, json.dumps({"username": creds.username, "password": creds.password}))
    return path


def logout(data_dir: Path) -> bool:
    path = login_file(data_dir)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def current(data_dir: Path | None) -> Credentials | None:
    """The environment's credentials, else the saved login, else None."""
    user, pw = os.environ.get(ENV_USERNAME), os.environ.get(ENV_PASSWORD)
    if user and pw:
        return Credentials(user, pw)
    if data_dir is None:
        return None
    raw = read_secret(login_file(data_dir))
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return Credentials(data["username"], data["password"])
    except (ValueError, KeyError, TypeError):
        return None


def require_current(data_dir: Path | None) -> Credentials:
    creds = current(data_dir)
    if creds is None:
        raise UserError(
            "nobody is signed in",
            "sign in: shipyard login --user YOU@example.com (the password is in the data dir's "
            "identity/passwords, or ask a platform admin)",
        )
    return creds


def activate(data_dir: Path | None) -> Credentials | None:
    """Make MLflow clients in this process act as the signed-in person (if anybody is)."""
    creds = current(data_dir)
    if creds is not None:
        os.environ.update(creds.env())
    return creds


@contextmanager
def acting_as(creds: Credentials) -> Iterator[None]:
    """MLflow calls inside act as ``creds`` (the platform's own accounts: provisioning)."""
    saved = {k: os.environ.get(k) for k in (ENV_USERNAME, ENV_PASSWORD)}
    os.environ.update(creds.env())
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
