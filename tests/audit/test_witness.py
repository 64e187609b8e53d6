"""The audit log anchored (issue #32): a tail truncation or a whole-chain rewrite verifies by the
chain alone; held to the signed checkpoints of its head a second component witnessed, `shipyard
audit verify` fails naming the checkpoint. Only auditors and platform admins read or export the log;
its files are the registry's alone (0600 in a 0700 folder). SQLite files and the real CLI."""

from __future__ import annotations

import json
import sqlite3
import stat

import pytest
from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore, event_hash
from shipyard.audit.witness import checkpoint, checkpoints_file

from tests.fixtures.embedded_platform import REPO
from tests.fixtures.signed_in import signed_in


@pytest.fixture
def data(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def store(data):
    s = AuditStore.of(data)
    s.append("ci-p", audit.SUBMIT_REGISTERED, "p", "p", 1, {"candidate": {"accuracy": 0.93}})
    s.append("validator@example.com", audit.APPROVE, "p", "p", 1, {"note": "ok"})
    s.append("second-validator@example.com", audit.APPROVE, "p", "p", 1, {"note": "ok"})
    s.append("manager@example.com", audit.PROMOTE, "p", "p", 1, {"previous": None})
    return s


def _cli(cli, data, *args, who: str = "auditor@example.com"):
    return cli(
        *args, "--spec", str(REPO / "platform.yaml"), "--data-dir", str(data), env=signed_in(data, who)
    )


def _behind_the_triggers(store, *statements: str) -> None:
    conn = sqlite3.connect(store.path)  # someone who holds the file drops the triggers first
    conn.executescript("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_a_truncated_tail_verifies_alone_but_not_against_the_checkpoint(store, data, cli):
    assert checkpoint(store, data).count == 4  # the witness (the CI runner, an auditor's verify)
    _behind_the_triggers(store, "DELETE FROM events WHERE seq > 2")  # the approval and promote gone
    assert store.verify().ok and store.verify().count == 2  # the chain alone cannot tell
    result = _cli(cli, data, "audit", "verify")
    assert result.returncode == 1, result.stdout
    assert "checkpoint 1" in result.stderr and "4 events" in result.stderr and "truncated" in result.stderr
    assert "the log has 2 events" in result.stderr


def test_a_rewritten_chain_verifies_alone_but_not_against_the_checkpoint(store, data, cli):
    checkpoint(store, data)
    rows = [e for e in store.events()]
    _behind_the_triggers(store, "DELETE FROM events")
    conn = sqlite3.connect(store.path)
    prev = audit.GENESIS
    for e in rows:  # every hash recomputed: a second approver who never approved
        actor = "mallory@example.com" if e.seq == 3 else e.actor
        details = json.dumps(e.details, sort_keys=True, separators=(",", ":"))
        digest = event_hash(prev, e.at, actor, e.action, e.project, e.model, e.version, details)
        conn.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (e.seq, e.at, actor, e.action, e.project, e.model, e.version, details, prev, digest),
        )
        prev = digest
    conn.commit()
    conn.close()
    assert store.verify().ok and store.verify().count == 4
    result = _cli(cli, data, "audit", "verify")
    assert result.returncode == 1, result.stdout
    assert "event 4 is not the one checkpoint 1" in result.stderr and "rewritten" in result.stderr


def test_a_forged_checkpoint_is_named_and_a_good_log_is_checkpointed_by_verify(store, data, cli):
    first = _cli(cli, data, "audit", "verify")
    assert first.returncode == 0 and "verified: 4 events" in first.stdout, first.stderr
    (line,) = checkpoints_file(data).read_text().splitlines()
    assert json.loads(line)["count"] == 4
    store.append("auditor@example.com", audit.COMMENT, "p", "p", 1, {"note": "seen"})
    assert checkpoint(store, data).count == 5
    forged = {"count": 6, "head": "f" * 64, "at": "2026-12-07T00:00:00+00:00", "mac": "0" * 64}
    with checkpoints_file(data).open("a") as f:
        f.write(json.dumps(forged) + "\n")
    result = _cli(cli, data, "audit", "verify")
    assert (
        result.returncode == 1 and "checkpoint 3" in result.stderr and "no valid signature" in result.stderr
    )


@pytest.mark.parametrize(
    "who", ["analyst@example.com", "ci-p", "manager@example.com", "validator@example.com"]
)
def test_only_auditors_and_platform_admins_read_the_log(store, data, cli, who):
    for command in (["audit", "export"], ["audit", "log"], ["audit", "verify"]):
        result = _cli(cli, data, *command, who=who)
        assert result.returncode == 2, result.stdout
        assert f"{who} may not read the audit log" in result.stderr and "fix:" in result.stderr
        assert "p" not in result.stdout and "Traceback" not in result.stderr


def test_an_auditor_and_a_platform_admin_export_it_with_the_checkpoints(store, data, cli):
    checkpoint(store, data)
    for who in ("auditor@example.com", "platform-admin@example.com"):
        result = _cli(cli, data, "audit", "export", who=who)
        assert result.returncode == 0, result.stderr
        *events, head = [json.loads(line) for line in result.stdout.splitlines()]
        assert [e["seq"] for e in events] == [1, 2, 3, 4]
        assert head["checkpoints"][0]["count"] == 4 and head["checkpoints"][0]["head"] == store.head()
    guess = {"MLFLOW_TRACKING_USERNAME": "auditor@example.com", "MLFLOW_TRACKING_PASSWORD": "guess"}
    wrong = cli("audit", "export", "--spec", str(REPO / "platform.yaml"), "--data-dir", str(data), env=guess)
    assert wrong.returncode == 2 and "password" in wrong.stderr and '"seq"' not in wrong.stdout


def test_the_store_and_the_witness_files_are_the_owners_alone(store, data):
    checkpoint(store, data)
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    for file in (checkpoints_file(data), checkpoints_file(data).with_name("witness.key")):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(checkpoints_file(data).parent.stat().st_mode) == 0o700
