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


# Nothing leaves the machine from a test: no MLflow telemetry, and no DVC usage analytics (each `dvc`
# command a test runs, as a user would run it, also forks a daemon that imports DVC again to send them).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DVC_NO_ANALYTICS", "true")

from .fixtures.embedded_platform import embedded_platform, light_platform, own_light_platform  # noqa: E402,F401
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

    for name in ("embedded_platform", "light_platform", "own_light_platform", "platform"):
        if name in request.fixturenames:
            used = request.getfixturevalue(name)
            if isinstance(used, EmbeddedPlatform):
                from shipyard.identity import ADMIN

                for key, value in used.credentials(ADMIN).env().items():
                    monkeypatch.setenv(key, value)
                return


# Parallel runs: `./dev test` runs pytest-xdist workers with --dist loadgroup. The unit a worker takes
# whole (the scheduler's scope) is:
# - "platform": the files with a test or fixture on the session's full platform (`embedded_platform`),
#   so that platform starts once, not once per worker;
# - "registry": the files on the registry's platform (`light_platform`), for the same reason;
# - a directory whose session fixtures are dear to build (the infra programs, the portal's seeded MLflow);
# - otherwise one test file (tests of a file may build on each other, in file order).
# The two platform lanes are handed out first (platform ~360 s, registry ~315 s), then the units known
# to be long, longest first (HEAVY: wall seconds per unit measured in two `./dev test` runs on 2 cores,
# 2026-12-05; a long unit left for last keeps one worker busy while the others idle), then the rest in
# collection order; a worker that is done takes the next unit.
# The scopes are read from the test files' text (xdist's own xdist_group marks do not reach pytest 9's
# node ids), so the controller collects no tests.
SHARED_DIRS = ("tests/infra/", "tests/portal/")
HEAVY = (
    "tests/registry/test_reproduce_journey.py",  # ~300-600 s (its own platform; measured 2026-12-08)
    "tests/template/test_own_data.py",  # ~330 s (its own platform)
    "tests/local/test_faults.py",  # ~197 s
    "tests/template/test_project_ci.py",  # ~148 s
    "tests/portal/",  # ~147 s
    "tests/infra/",  # ~125 s
    "tests/template/test_branch_ci.py",  # ~104 s
    "tests/templates/test_fleet_embedded.py",  # ~99 s
    "tests/templates/test_fleet_update.py",  # ~81 s
    "tests/template/test_matrix.py",  # ~76 s
    "tests/template/test_python_versions.py",  # ~63 s
    "tests/identity/test_proxy_auth.py",  # ~48 s
    "tests/template/test_local_gate.py",  # ~33 s
    "tests/template/test_new_answers.py",  # ~25 s
    "tests/costs/test_usage_mlflow.py",  # ~25 s
    "tests/records/test_mlflow_api.py",  # ~16 s
    "tests/registry/test_flavours.py",  # ~16 s
    "tests/cli/test_hostile_inputs.py",  # ~15 s
    "tests/template/test_hooks.py",  # ~15 s
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
        elif registry.search(text):
            lanes[name] = "registry"
    return lanes


def _scope(lanes: dict[str, str], path: str) -> str:
    if path in lanes:
        return lanes[path]
    return next((d for d in SHARED_DIRS if path.startswith(d)), path)


def _rank(scope: str) -> int:
    order = ("platform", "registry", *HEAVY)
    return order.index(scope) if scope in order else len(order)


def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    lanes = _lanes(REPO)

    class Lanes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope(lanes, nodeid.split("::")[0])

        def _assign_work_unit(self, node) -> None:
            # the long units before the short ones (collection order among equals)
            self.workqueue.move_to_end(min(self.workqueue, key=_rank), last=False)
            super()._assign_work_unit(node)

    return Lanes(config, log)
