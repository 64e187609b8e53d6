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
def _no_tracking_uri_left_behind():
    """``mlflow.set_tracking_uri`` (a test, or the registry service run in-process) also exports
    $MLFLOW_TRACKING_URI for subprocesses: left set, a later test's CLI would talk to that test's MLflow
    (with another platform's login: 401). Each test ends with the tracking URI it started with."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    utils = sys.modules.get("mlflow.tracking._tracking_service.utils")
    uri = getattr(utils, "_tracking_uri", None)
    yield
    utils = sys.modules.get("mlflow.tracking._tracking_service.utils")
    if utils is not None:
        utils._tracking_uri = uri
    if env is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = env


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
# file belongs to one of three lanes, each lane run by one worker in the order a serial run would
# (tests of a file may build on each other; a session platform is started once, not per worker):
# - the files with a test or fixture on the session's full platform (`embedded_platform`);
# - the files on the registry's platform (`light_platform`) and the heavy files in REGISTRY_LANE
#   (chosen to even out the lanes' times, measured with `--durations=0`);
# - everything else.
# The lanes are the scheduler's scopes (xdist's own xdist_group marks do not reach pytest 9's node
# ids), so they are read from the test files' text: the controller collects no tests.
REGISTRY_LANE = (
    "tests/template/test_matrix.py",
    "tests/local/test_faults.py",
    "tests/template/test_fleet_embedded.py",
)


def _lanes(root: Path) -> dict[str, str]:
    import re

    takes = lambda name: re.compile(rf"def \w+\([^)]*\b{name}\b")  # noqa: E731  a test or fixture's argument
    platform, registry = takes("embedded_platform"), takes("light_platform")
    lanes: dict[str, str] = {}
    for path in sorted(root.glob("tests/**/test_*.py")):
        name, text = path.relative_to(root).as_posix(), path.read_text()
        if platform.search(text):
            lanes[name] = "platform"
        elif registry.search(text) or name in REGISTRY_LANE:
            lanes[name] = "registry"
    return lanes


def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    lanes = _lanes(REPO)

    class Lanes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return lanes.get(nodeid.split("::")[0], "rest")

    return Lanes(config, log)
