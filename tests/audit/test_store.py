"""The audit store is append-only and tamper-evident (issue #12, test 7): SQLite refuses UPDATE and
DELETE; a row edited or deleted behind the triggers' back makes `shipyard audit verify` exit 1 naming
the first bad event; the export carries the chain head."""

from __future__ import annotations

import json
import sqlite3

import pytest
from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore, audit_db

from tests.fixtures.embedded_platform import REPO
from tests.fixtures.signed_in import signed_in


@pytest.fixture
def store(tmp_path):
    s = AuditStore.of(tmp_path / "data")
    s.append("ci-p", audit.SUBMIT_REGISTERED, "p", "p", 1, {"candidate": {"accuracy": 0.93}})
    s.append("validator@example.com", audit.APPROVE, "p", "p", 1, {"note": "ok"})
    s.append("manager@example.com", audit.PROMOTE, "p", "p", 1, {"previous": None})
    return s


def _cli(cli, tmp_path, *args, who: str = "auditor@example.com"):
    data = tmp_path / "data"
    return cli(
        *args, "--spec", str(REPO / "platform.yaml"), "--data-dir", str(data), env=signed_in(data, who)
    )


def test_the_chain_verifies_and_links_each_event(store, cli, tmp_path):
    events = store.events()
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == audit.GENESIS and events[1].prev_hash == events[0].hash
    result = _cli(cli, tmp_path, "audit", "verify")
    assert result.returncode == 0 and "verified: 3 events" in result.stdout


def test_sql_update_and_delete_are_refused(store):
    conn = sqlite3.connect(audit_db(store.path.parents[1]))
    for statement in (
        "UPDATE events SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM events WHERE seq = 2",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(statement)
    conn.close()
    assert store.verify().ok


@pytest.mark.parametrize(
    "tamper, reason",
    [
        ("UPDATE events SET actor = 'mallory@example.com' WHERE seq = 2", "content does not match"),
        ("DELETE FROM events WHERE seq = 2", "missing"),
    ],
)
def test_an_edit_behind_the_triggers_is_found_by_verify(store, cli, tmp_path, tamper, reason):
    conn = sqlite3.connect(store.path)  # someone with the file drops the triggers first
    conn.executescript("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
    conn.execute(tamper)
    conn.commit()
    conn.close()
    result = _cli(cli, tmp_path, "audit", "verify")
    assert result.returncode == 1
    assert "event 2" in result.stderr and reason in result.stderr


def test_export_carries_the_chain_head(store, cli, tmp_path):
    out = tmp_path / "audit.jsonl"
    result = _cli(cli, tmp_path, "audit", "export", "--format", "jsonl", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["seq"] for e in lines[:-1]] == [1, 2, 3]
    assert lines[-1] == {"chain_head": store.head(), "events": 3, "verified": True}
    csv_out = _cli(cli, tmp_path, "audit", "export", "--format", "csv")
    assert csv_out.returncode == 0 and csv_out.stdout.splitlines()[-1].endswith(store.head())
    bad = _cli(cli, tmp_path, "audit", "export", "--format", "xml")
    assert bad.returncode == 2 and "fix:" in bad.stderr


def test_an_audit_log_that_cannot_be_written_is_named_and_nothing_is_appended(tmp_path, monkeypatch):
    import sqlite3

    from shipyard.audit.store import SqliteAuditStore
    from shipyard.errors import UserError

    store = SqliteAuditStore(tmp_path / "audit.db")
    store.append("a@example.com", "promote", "p", "m", 1, {})

    def disk_full(*_a, **_k):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store, "_insert", disk_full)
    with pytest.raises(UserError, match="audit.db cannot be written .*disk is full.*nothing was recorded"):
        store.append("a@example.com", "retire", "p", "m", 1, {})
    monkeypatch.undo()
    assert [e.action for e in store.events()] == ["promote"] and store.verify().ok
