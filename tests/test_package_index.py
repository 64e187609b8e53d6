"""The platform's package index (shipyard.package_index) and a generated project's side of it
(ci/platform_index.py): a real static index served by `python -m http.server`, real pip."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from shipyard.local.process import free_port
from shipyard.package_index import client_pin, fetch_published, publish, read_published

from .template.conftest import bake


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("package-index")
    published = publish(root)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/simple/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}shipyard/", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.2)
    try:
        yield root, published, url
    finally:
        server.terminate()
        server.wait(10)


def test_the_index_lists_the_wheel_with_its_sha256(index):
    root, published, url = index
    wheel = root / "simple" / "shipyard" / published.wheel
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == published.sha256
    page = requests.get(f"{url}shipyard/", timeout=5).text
    assert f'href="{published.wheel}#sha256={published.sha256}"' in page
    assert 'data-requires-python="&gt;=3.11"' in page
    assert requests.get(url, timeout=5).text.count('href="shipyard/"') == 1
    listed = fetch_published(url)
    assert (listed.wheel, listed.sha256) == (published.wheel, published.sha256)
    assert read_published(root) == published
    assert client_pin(url)["_shipyard_sha256"] == published.sha256
    assert client_pin(f"http://127.0.0.1:{free_port()}/simple/") == {}  # unreachable: pinned later


def test_the_wheel_is_rebuilt_identically(index, tmp_path):
    _, published, _ = index
    again = publish(tmp_path)  # a fresh build from the same source: same bytes, so pins survive restarts
    assert again.sha256 == published.sha256
    assert not (Path(__file__).resolve().parents[1] / "build").exists()  # built from a copy


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return bake(tmp_path_factory.mktemp("index-project"), project_name="Index Client")


def script(project: Path, command: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SHIPYARD_", "PIP_"))}
    return subprocess.run(
        [sys.executable, "ci/platform_index.py", command],
        cwd=project, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_missing_or_unreachable_index_is_one_line_naming_the_variable(project):
    assert "SHIPYARD_INDEX_URL is not set" in one_error_line(script(project, "install"))
    dead = f"http://ci:s3cret@127.0.0.1:{free_port()}/simple/"
    line = one_error_line(script(project, "install", SHIPYARD_INDEX_URL=dead))
    assert "unreachable" in line and "set the CI variable SHIPYARD_INDEX_URL" in line
    assert "s3cret" not in line  # credentials in the URL are never printed


def test_a_plain_cookiecutter_project_pins_by_make_lock_then_refuses_another_wheel(project, index):
    _, published, url = index
    lock = project / "platform.lock"
    assert re.search(r"^shipyard==0\.1\.0$", lock.read_text(), re.M)  # no platform: no hash yet
    line = one_error_line(script(project, "install", SHIPYARD_INDEX_URL=url))
    assert "without a hash" in line and "make lock" in line
    locked = script(project, "lock", SHIPYARD_INDEX_URL=url)
    assert locked.returncode == 0, locked.stderr
    assert f"--hash=sha256:{published.sha256}" in lock.read_text()
    # another platform (or an upgrade) serves another wheel: refused before pip runs
    lock.write_text(lock.read_text().replace(published.sha256, "0" * 64))
    line = one_error_line(script(project, "install", SHIPYARD_INDEX_URL=url))
    assert "does not serve the shipyard wheel pinned in platform.lock" in line


def test_install_takes_shipyard_only_from_the_index_with_its_hash(project, index, tmp_path):
    _, published, url = index
    assert script(project, "lock", SHIPYARD_INDEX_URL=url).returncode == 0
    # the arguments ci/platform_index.py gives pip, resolved for real (dry run: Shipyard's env keeps its own)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "install", "--dry-run", "--ignore-installed",
         "--no-deps", "--require-hashes",
         "--index-url", url, "-r", str(project / "platform.lock"), "--report", str(tmp_path / "r.json")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "r.json").read_text()
    assert f"{url}shipyard/{published.wheel}" in report and published.sha256 in report
