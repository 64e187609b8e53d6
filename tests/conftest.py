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
