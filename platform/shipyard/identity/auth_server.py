"""MLflow's basic-auth app in the embedded platform: its config file, its environment, and the
users ``up`` makes once it answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from shipyard.identity import mlflow_users, secrets
from shipyard.identity.names import ADMIN
from shipyard.platform.env import (
    ENV_MLFLOW_AUTH_ADMIN_PASSWORD,
    ENV_MLFLOW_AUTH_CONFIG,
    ENV_MLFLOW_FLASK_SECRET,
)
from shipyard.spec.model import PlatformSpec

CONFIG_NAME = "basic_auth.ini"


def config_path(mlflow_dir: Path) -> Path:
    return Path(mlflow_dir) / CONFIG_NAME


def write_config(mlflow_dir: Path) -> Path:
    """No anonymous access (basic-auth answers 401), READ for every signed-in user by default."""
    mlflow_dir.mkdir(parents=True, exist_ok=True)
    path = config_path(mlflow_dir)
    path.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{mlflow_dir / 'auth.db'}\n"
        f"admin_username = {ADMIN}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "grant_default_workspace_access = false\n"
        # a password check is a slow PBKDF2 hash (seconds on a loaded machine): once per user per 10 min
        "auth_cache_ttl_seconds = 600\n"
    )
    return path


def server_env(data_dir: Path, mlflow_dir: Path) -> dict[str, str]:
    """What ``mlflow server --app-name basic-auth`` needs (empty until ``up`` made the secrets)."""
    admin = secrets.password(data_dir, ADMIN)
    flask = secrets.read_secret(secrets.identity_dir(data_dir) / "mlflow-flask-secret")
    if not (admin and flask):
        return {}
    return {
        ENV_MLFLOW_AUTH_CONFIG: str(config_path(mlflow_dir)),
        ENV_MLFLOW_AUTH_ADMIN_PASSWORD: admin,
        ENV_MLFLOW_FLASK_SECRET: flask,
    }


def provision(spec: PlatformSpec, data_dir: Path, url: str, report: Callable[[str], None]) -> list[str]:
    created = mlflow_users.provision_people(spec, data_dir, url)
    if created:
        report(f"created {len(created)} users: {', '.join(created)}")
    return created
