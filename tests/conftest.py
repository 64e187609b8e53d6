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


# Parallel runs: `./dev test` runs three pytest-xdist workers with --dist loadgroup, and every test
# file belongs to one of three lanes, so each worker runs one lane's files in the order a serial run
# would (tests of a file may build on each other; a session platform is started once, not per worker):
# - the files with a test on the session's full platform (`embedded_platform`);
# - the files on the registry's platform (`light_platform`) and the heavy files listed in REGISTRY_LANE
#   (chosen to even out the lanes' times, measured from `--durations=0`);
# - everything else.
REGISTRY_LANE = (
    "tests/template/test_matrix.py",
    "tests/local/test_faults.py",
    "tests/template/test_fleet_embedded.py",
)


def pytest_collection_modifyitems(config, items):
    files: dict[str, str] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        if "embedded_platform" in item.fixturenames:
            files[path] = "platform"
        elif files.get(path) != "platform" and (
            "light_platform" in item.fixturenames or path in REGISTRY_LANE
        ):
            files[path] = "registry"
    for item in items:
        item.add_marker(pytest.mark.xdist_group(files.get(item.nodeid.split("::")[0], "rest")))
