"""Bad paths and ports are named where the user gives them (issue 35, item 6): exit 2, one `error:` line
and a `fix:` line, no traceback (each was exit 70, an internal error, or Streamlit's traceback), and
nothing half-written. Every case runs the real `shipyard` CLI in a subprocess.

A read-only directory: /proc (nothing can be created there, not even by root, who passes permission
bits), and a chmod 0500 folder where the tests do not run as root."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from shipyard.audit.store import audit_db

from tests.conftest import REPO, run_cli
from tests.fixtures.signed_in import signed_in

SPEC = str(REPO / "platform.yaml")
HANG_GUARD_S = 60
IS_ROOT = os.geteuid() == 0


def _cases(tmp: Path) -> dict[str, tuple[list[str], str]]:
    a_file = tmp / "a-file"
    a_file.write_text("x")
    data = tmp / "data"
    _audit_log(data)
    audit = ["audit", "export", "--spec", SPEC, "--data-dir", str(data), "--out"]
    new = ["new", "Fine Name", "--team", "demo", "--no-input", "--no-provision", "--spec", SPEC]
    return {
        "audit export --out a directory": ([*audit, str(tmp)], f"--out {tmp} is a directory"),
        "audit export --out /dev/full": ([*audit, "/dev/full"], "--out /dev/full is not a regular file"),
        "audit export --out a missing folder": (
            [*audit, str(tmp / "missing" / "x.jsonl")],
            f"the folder {tmp / 'missing'} does not exist",
        ),
        "audit export --out empty": ([*audit, ""], "--out is empty"),
        "up --data-dir a file": (
            ["up", "--spec", SPEC, "--data-dir", str(a_file)],
            "is a file, not a directory",
        ),
        "up --data-dir unwritable": (
            ["up", "--spec", SPEC, "--data-dir", "/proc/shipyard"],
            "cannot write in /proc",
        ),
        "new -o /proc": ([*new, "-o", "/proc"], "--output-dir /proc: cannot write in /proc"),
        "new -o under a file": ([*new, "-o", str(a_file / "x")], "is a file, not a directory"),
        "status --data-dir a file": (["status", "--data-dir", str(a_file)], "is a file, not a directory"),
        "status --data-dir empty": (["status", "--data-dir", ""], "--data-dir is empty"),
        "portal --port 70000": (
            ["portal", "--spec", SPEC, "--data-dir", str(data), "--port", "70000"],
            "not a TCP port",
        ),
        "portal --port -1": (
            ["portal", "--spec", SPEC, "--data-dir", str(data), "--port", "-1"],
            "not a TCP port",
        ),
    }


CASE_IDS = [
    "audit export --out a directory",
    "audit export --out /dev/full",
    "audit export --out a missing folder",
    "audit export --out empty",
    "up --data-dir a file",
    "up --data-dir unwritable",
    "new -o /proc",
    "new -o under a file",
    "status --data-dir a file",
    "status --data-dir empty",
    "portal --port 70000",
    "portal --port -1",
]


def _audit_log(data: Path) -> None:
    from shipyard.audit.store import AuditStore

    data.mkdir()
    AuditStore.of(data).append("platform-admin@example.com", "test.event", project="p")


def _named(proc: subprocess.CompletedProcess, message: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "error:" in proc.stderr and "fix:" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and "internal error" not in proc.stderr


@pytest.mark.parametrize("case", CASE_IDS)
def test_a_bad_path_or_port_is_named(tmp_path, case):
    argv, message = _cases(tmp_path)[case]
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = run_cli(*argv, env={"SHIPYARD_HOME": str(tmp_path / "home")}, timeout=HANG_GUARD_S)
    _named(proc, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing made, nothing half-written


@pytest.mark.skipif(IS_ROOT, reason="root writes in a chmod 0500 folder; /proc stands in for it above")
def test_a_read_only_output_directory_is_named(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    new = ["new", "Fine Name", "--team", "demo", "--no-input", "--no-provision", "--spec", SPEC]
    _named(run_cli(*new, "-o", str(locked / "x"), timeout=HANG_GUARD_S), "cannot write in")
    _named(
        run_cli("up", "--spec", SPEC, "--data-dir", str(locked / "d"), timeout=HANG_GUARD_S),
        "cannot write in",
    )


def _own_env() -> dict[str, str]:
    """This process's environment without another test's platform (an MLflow there makes the export
    reconcile first, and the 64-byte limit then stops the audit log's own write)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "SHIPYARD_"))}


def _small_files():  # the child may write at most 64 bytes per file: a disk that fills mid-write
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))


def test_a_failed_write_of_an_export_is_named_and_leaves_no_file(tmp_path):
    data = tmp_path / "data"
    _audit_log(data)
    # held open, so the log's WAL index exists: the child only reads it, whatever the GC has closed
    reader = sqlite3.connect(audit_db(data))
    reader.execute("SELECT COUNT(*) FROM events").fetchone()
    out = tmp_path / "export.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "shipyard.cli.main", "audit", "export", "--spec", SPEC,
         "--data-dir", str(data), "--out", str(out)],
        capture_output=True, text=True, timeout=HANG_GUARD_S, preexec_fn=_small_files, cwd=REPO,
        env={**_own_env(), **signed_in(data)},  # the audit log is read by auditors only
    )  # fmt: skip
    reader.close()
    _named(proc, f"--out {out}: cannot write it")
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["data"]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (os.urandom(64).replace(b"\n", b"\xff") + b"\xff\xfe\n", "not UTF-8 text"),
        (b"pass\x00word\n", "control characters"),
        (b"\n", "no password on stdin"),
        (b"x" * 5000, "longer than 1024 bytes"),
    ],
    ids=["random bytes", "nul", "empty", "huge"],
)
def test_a_bad_password_on_stdin_is_named(tmp_path, stdin, message):
    proc = subprocess.run(
        [sys.executable, "-m", "shipyard.cli.main", "login", "--user", "a@example.com", "--password-stdin",
         "--spec", SPEC, "--data-dir", str(tmp_path)],
        input=stdin, capture_output=True, timeout=HANG_GUARD_S, cwd=REPO,
    )  # fmt: skip
    result = subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode()
    )
    _named(result, message)
