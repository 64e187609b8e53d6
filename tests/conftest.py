"""Shared test helpers and fixtures (tests/fixtures/: real MLflow, Pushgateway, the embedded platform)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 600):
    """Run the real ``shipyard`` CLI as a user would, in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "shipyard.cli.main", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
        timeout=timeout,
    )


@pytest.fixture
def cli():
    return run_cli


os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from .fixtures.embedded_platform import embedded_platform  # noqa: E402,F401
from .fixtures.mlflow_server import mlflow_server, mlflow_url  # noqa: E402,F401  (fixtures, re-exported)
from .fixtures.pushgateway import pushgateway  # noqa: E402,F401


@pytest.fixture(autouse=True)
def _mlflow_login_of_the_platform_in_use(request, monkeypatch):
    """In-process MLflow clients act as the admin of the platform this test uses. Several embedded
    platforms live in one session (the session's, the registry's, a module's own); each `up` leaves its
    admin login in this process's environment, which would sign a later test in to the wrong MLflow."""
    from .fixtures.embedded_platform import EmbeddedPlatform

    for name in ("embedded_platform", "light_platform", "platform"):
        if name in request.fixturenames:
            used = request.getfixturevalue(name)
            if isinstance(used, EmbeddedPlatform):
                from shipyard.identity import ADMIN

                for key, value in used.credentials(ADMIN).env().items():
                    monkeypatch.setenv(key, value)
                return
