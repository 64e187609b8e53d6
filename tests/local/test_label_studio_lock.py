"""Label Studio's venv comes from the lock shipped in the package (hashes required), is built anew when
that lock changes, and the lock really installs and starts: built offline from uv's warm cache into a new
place, then Label Studio's own server started from it until /health answers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker
from shipyard.errors import UserError
from shipyard.local.process import free_port
from shipyard.local.services import label_studio as ls
from shipyard.spec import load_spec

from ..fixtures.embedded_platform import LABEL_STUDIO_VENV, REPO
from ..fixtures.waiting import wait_ok

VERSION = load_spec(REPO / "platform.yaml").services.label_studio.version
PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$", re.M
)


def pins(lock: Path) -> dict[str, str]:
    """The lock's pins that apply to this Python (markers evaluated), names normalised."""
    found = {}
    for m in PIN.finditer(lock.read_text()):
        if m["marker"] is None or Marker(m["marker"]).evaluate():
            found[re.sub(r"[-_.]+", "-", m["name"]).lower()] = m["version"]
    return found


def test_the_spec_default_version_has_a_complete_hashed_lock_in_the_package():
    lock = ls.lock_file(VERSION)
    assert lock.parent == Path(ls.__file__).resolve().parents[2] / "data" / "locks"
    entries = [e for e in re.split(r"\n(?=[A-Za-z])", lock.read_text()) if re.match(r"[A-Za-z]\S*==", e)]
    assert len(entries) > 100 and all("--hash=sha256:" in e for e in entries)
    locked = pins(lock)
    assert locked["label-studio"] == VERSION
    assert int(locked["sentry-sdk"].split(".")[0]) < 3  # 3.x breaks Label Studio 1.23.2 at start-up
    assert "--hash=sha256:" in lock.with_suffix(".build.lock").read_text()


def test_a_version_without_a_lock_is_a_named_error_with_a_fix():
    with pytest.raises(UserError) as err:
        ls.lock_file("1.0.0")
    assert err.value.message.startswith("services.label_studio.version: '1.0.0' has no lock")
    assert VERSION in err.value.message and VERSION in err.value.fix


def _fake_build(monkeypatch, calls: list[list[str]]) -> None:
    """The installer steps recorded instead of run; the 'sync' leaves a label-studio executable."""

    def run(cmd, out, log, report):
        calls.append(cmd)
        if "sync" in cmd:
            exe = Path(cmd[cmd.index("--python") + 1]).parent / "label-studio"
            exe.parent.mkdir(parents=True, exist_ok=True)
            exe.write_text("#!/bin/sh\n")

    monkeypatch.setattr(ls, "_run_with_ticker", run)


def test_a_venv_from_another_lock_or_half_built_is_built_anew(tmp_path, monkeypatch):
    calls: list[list[str]] = []
    _fake_build(monkeypatch, calls)
    for leftover in (ls.LOCK_STAMP, ls.BUILDING, ls.OLD_STAMP):  # another lock, a crash, pre-lock stamp
        venv = tmp_path / leftover / "venv"
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "label-studio").write_text("old")
        (venv / leftover).write_text("0" * 64 if leftover != ls.OLD_STAMP else VERSION)
        (venv / "stale-package").write_text("from the old lock")
        calls.clear()
        ls.ensure_venv(venv, VERSION, lambda line: None)
        assert not (venv / "stale-package").exists() and not (venv / ls.BUILDING).exists()
        assert (venv / ls.LOCK_STAMP).read_text() == ls.lock_digest(ls.lock_file(VERSION))
        sync = calls[-1]
        assert sync[1:3] == ["pip", "sync"] and "--require-hashes" in sync
        assert sync[-1] == str(ls.lock_file(VERSION))
        assert sync[sync.index("--build-constraints") + 1].endswith(f"label-studio-{VERSION}.build.lock")
    calls.clear()
    assert ls.ensure_venv(venv, VERSION, lambda line: None) == venv / "bin" / "label-studio"
    assert calls == []  # the stamp matches: reused


def test_someone_elses_venv_is_never_removed(tmp_path, monkeypatch):
    _fake_build(monkeypatch, [])
    venv = tmp_path / "mine"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    with pytest.raises(UserError) as err:
        ls.ensure_venv(venv, VERSION, lambda line: None)
    assert err.value.message.startswith("$SHIPYARD_LABEL_STUDIO_VENV:") and "unset" in err.value.fix
    assert (venv / "pyvenv.cfg").exists()


def _freeze(venv: Path) -> dict[str, str]:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    out = subprocess.run([uv, "pip", "freeze", "--python", str(venv / "bin" / "python")],
                         capture_output=True, text=True, timeout=120, check=True).stdout  # fmt: skip
    return {re.sub(r"[-_.]+", "-", n).lower(): v for n, v in re.findall(r"^([^=\s]+)==(\S+)$", out, re.M)}


@pytest.mark.skipif(not (LABEL_STUDIO_VENV / "bin" / "label-studio").exists(), reason="run ./dev setup first")
def test_the_shared_venv_is_exactly_the_lock():
    assert (LABEL_STUDIO_VENV / ls.LOCK_STAMP).read_text() == ls.lock_digest(ls.lock_file(VERSION))
    assert _freeze(LABEL_STUDIO_VENV) == pins(ls.lock_file(VERSION))


@pytest.mark.skipif(not (LABEL_STUDIO_VENV / "bin" / "label-studio").exists(), reason="run ./dev setup first")
def test_the_lock_installs_offline_into_a_new_place_and_label_studio_starts(tmp_path):
    """No network: everything the lock names is in uv's cache once ./dev setup built the shared venv. A
    failure here says the lock needs the network (or no longer installs), not a flaky download."""
    venv = tmp_path / "venv"
    os.environ["UV_OFFLINE"] = "1"
    try:
        exe = ls.ensure_venv(venv, VERSION, lambda line: None)
    except UserError as exc:
        pytest.fail(f"the shipped lock does not install offline from uv's cache: {exc}")
    finally:
        del os.environ["UV_OFFLINE"]
    assert _freeze(venv) == pins(ls.lock_file(VERSION))
    data, home = tmp_path / "data", tmp_path / "home"
    data.mkdir()
    home.mkdir()
    ls._seed_database(data, ls.empty_database(LABEL_STUDIO_VENV, VERSION, lambda line: None))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ls.FOREIGN_ENV}
    env.update(HOME=str(home), LATEST_VERSION_CHECK="false", COLLECT_ANALYTICS="false")
    log = tmp_path / "label-studio.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(exe), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port),
             "--data-dir", str(data)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
    try:
        wait_ok(f"http://127.0.0.1:{port}/health", [proc], log, timeout=240)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
