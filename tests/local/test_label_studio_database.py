"""Label Studio's empty database: migrated once per venv by Label Studio itself (its real CLI, in the
shared venv), then copied into each new data dir; a failure to make it leaves nothing behind and lets
Label Studio migrate its own."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from shipyard.local.services.label_studio import DATABASE, _seed_database, empty_database
from shipyard.spec import load_spec

from ..fixtures.embedded_platform import LABEL_STUDIO_VENV, REPO

VERSION = load_spec(REPO / "platform.yaml").services.label_studio.version


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.skipif(not (LABEL_STUDIO_VENV / "bin" / "label-studio").exists(), reason="run ./dev setup first")
def test_the_empty_database_is_fully_migrated_holds_no_user_and_is_made_once():
    lines: list[str] = []
    made = empty_database(LABEL_STUDIO_VENV, VERSION, lines.append)
    assert made is not None and made.name == DATABASE
    tables = {name for (name,) in _rows(made, "select name from sqlite_master where type = 'table'")}
    assert {"htx_user", "organization", "project", "task"} <= tables
    assert _rows(made, "select count(*) from htx_user") == [(0,)]  # the admin is each data dir's own
    assert _rows(made, "select count(*) from django_migrations")[0][0] > 300
    before = made.stat().st_mtime_ns
    again: list[str] = []
    assert empty_database(LABEL_STUDIO_VENV, VERSION, again.append) == made
    assert made.stat().st_mtime_ns == before and again == []  # not migrated twice


def _fake_venv(root: Path, script: str) -> Path:
    venv = root / "venv"
    (venv / "bin").mkdir(parents=True)
    exe = venv / "bin" / "label-studio"
    exe.write_text(f"#!/bin/sh\n{script}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return venv


def test_a_failed_migration_reports_leaves_nothing_and_seeds_nothing(tmp_path):
    venv = _fake_venv(tmp_path, 'echo "django.db.utils.OperationalError: disk I/O error" >&2; exit 1')
    lines: list[str] = []
    assert empty_database(venv, VERSION, lines.append) is None
    assert "disk I/O error" in lines[-1] and "Label Studio migrates its own" in lines[-1]
    assert not any((venv / ".shipyard-empty-database").rglob("*.sqlite3"))
    assert list((venv / ".shipyard-empty-database" / VERSION).iterdir()) == []  # no temp dir left
    data = tmp_path / "data"
    data.mkdir()
    _seed_database(data, None)
    assert list(data.iterdir()) == []


def test_a_migration_that_writes_no_database_is_a_failure_too(tmp_path):
    venv = _fake_venv(tmp_path, "exit 0")
    lines: list[str] = []
    assert empty_database(venv, VERSION, lines.append) is None
    assert "could not migrate" in lines[-1]


def test_a_new_data_dir_gets_a_copy_and_an_existing_database_is_never_replaced(tmp_path):
    empty = tmp_path / "empty.sqlite3"
    with sqlite3.connect(empty) as conn:
        conn.execute("create table django_migrations (id integer)")
    fresh, used = tmp_path / "fresh", tmp_path / "used"
    fresh.mkdir()
    used.mkdir()
    (used / DATABASE).write_bytes(b"a data dir's own annotations")
    _seed_database(fresh, empty)
    _seed_database(used, empty)
    assert (fresh / DATABASE).read_bytes() == empty.read_bytes()
    assert sorted(p.name for p in fresh.iterdir()) == [DATABASE]  # no partial copy left
    assert (used / DATABASE).read_bytes() == b"a data dir's own annotations"
