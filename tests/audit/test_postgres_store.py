"""The audit store on Postgres (issue #12, the cluster part), against a real PostgreSQL server: the same
chain, hashes and export as SQLite; UPDATE, DELETE and TRUNCATE refused by the database; an edit made
behind a dropped trigger named by `shipyard audit verify`; concurrent writers never fork the chain; the
app role with INSERT and SELECT only cannot remove the rule; a database that is down is one error line
with a fix, never a traceback or the password."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading

import psycopg
import pytest
from shipyard.audit import names as audit
from shipyard.audit.export import render_export
from shipyard.audit.postgres import TRIGGER, PostgresAuditStore
from shipyard.audit.store import ENV_DATABASE_URL, AuditStore, SqliteAuditStore
from shipyard.errors import BadInput, Refused, ServiceUnavailable

from tests.fixtures.embedded_platform import REPO
from tests.fixtures.mlflow_server import free_port
from tests.fixtures.postgres import postgres  # noqa: F401  (the module's server)
from tests.fixtures.signed_in import signed_in

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
EVENTS = [
    dict(actor="ci-fraud", action=audit.SUBMIT_REGISTERED, project="fraud", model="fraud", version=1,
         details={"candidate": {"accuracy": 0.93}, "reasons": ["gate ok"]}, at=T0),
    dict(actor="validator@example.com", action=audit.APPROVE, project="fraud", model="fraud", version=1,
         details={"note": "ok, ünïcode"}, at=T0 + dt.timedelta(days=1)),
    dict(actor="manager@example.com", action=audit.PROMOTE, project="fraud", model="fraud", version="1",
         details={"previous": None}, at=T0 + dt.timedelta(days=1, seconds=1)),
    dict(actor="ci-search", action=audit.SUBMIT_DRY_RUN, project="search", model="search", version=3,
         at=T0 + dt.timedelta(days=2)),
]  # fmt: skip
PASSWORD = "pw-S3cret-never-shown"


def _fill(store: AuditStore) -> AuditStore:
    for event in EVENTS:
        store.append(**event)
    return store


@pytest.fixture
def url(postgres):  # noqa: F811
    return postgres.new_database()


@pytest.fixture
def store(url):
    return _fill(PostgresAuditStore(url))


def _cli(cli, tmp_path, url, *args):
    (tmp_path / "data").mkdir(exist_ok=True)
    return cli(*args, "--spec", str(REPO / "platform.yaml"), "--data-dir", str(tmp_path / "data"),
               env={ENV_DATABASE_URL: url, **signed_in(tmp_path / "data")})  # fmt: skip


def _sql(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def test_the_url_selects_postgres_and_the_chain_equals_sqlite(url, tmp_path, monkeypatch, cli):
    monkeypatch.setenv(ENV_DATABASE_URL, url)
    pg = _fill(AuditStore.of(tmp_path / "data"))
    assert isinstance(pg, PostgresAuditStore) and not (tmp_path / "data").exists()
    lite = _fill(SqliteAuditStore(tmp_path / "lite" / "audit.db"))
    assert [e.as_dict() for e in pg.events()] == [e.as_dict() for e in lite.events()]
    assert [e.seq for e in pg.events()] == [1, 2, 3, 4]
    assert pg.head() == lite.head() == pg.events()[-1].hash != audit.GENESIS
    assert pg.verify() == lite.verify() and pg.verify().ok and pg.verify().count == 4
    filtered = pg.events(model="fraud", since="2026-12-02")
    assert [e.seq for e in filtered] == [2, 3] and filtered == lite.events(model="fraud", since="2026-12-02")
    assert pg.events(action=audit.SUBMIT_DRY_RUN) == lite.events(action=audit.SUBMIT_DRY_RUN)
    for fmt in ("jsonl", "csv"):
        assert render_export(pg, fmt) == render_export(lite, fmt)
    # the CLI reads the Postgres log when the URL is set (and no SQLite file exists)
    result = _cli(cli, tmp_path, url, "audit", "export", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert result.stdout == render_export(lite, "jsonl")
    assert not (tmp_path / "data" / "audit").exists()


@pytest.mark.parametrize(
    "statement, operation",
    [
        ("UPDATE events SET actor = 'mallory' WHERE seq = 2", "UPDATE"),
        ("UPDATE events SET actor = 'mallory' WHERE seq = 999", "UPDATE"),  # refused even matching nothing
        ("DELETE FROM events WHERE seq = 2", "DELETE"),
        ("TRUNCATE events", "TRUNCATE"),
    ],
)
def test_sql_update_delete_and_truncate_are_refused(store, url, statement, operation):
    with pytest.raises(psycopg.errors.RaiseException, match=f"append-only: {operation} is refused"):
        _sql(url, statement)  # as the database's superuser: the trigger binds every role
    check = store.verify()
    assert check.ok and check.count == 4
    assert store.events()[1].actor == "validator@example.com"


@pytest.mark.parametrize(
    "tamper, reason",
    [
        ("UPDATE events SET actor = 'mallory@example.com' WHERE seq = 2", "content does not match"),
        ("DELETE FROM events WHERE seq = 2", "event 2 is missing"),
    ],
)
def test_an_edit_behind_a_dropped_trigger_is_found_by_verify(store, url, cli, tmp_path, tamper, reason):
    _sql(url, f"DROP TRIGGER {TRIGGER} ON events")  # the owner can; the chain detects it
    _sql(url, tamper)
    result = _cli(cli, tmp_path, url, "audit", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN at event 2" in result.stderr and reason in result.stderr
    with psycopg.connect(url) as conn:  # opening the store as the owner put the rule back
        (count,) = conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname = %s", (TRIGGER,)).fetchone()
    assert count == 1


def test_the_app_role_appends_and_reads_but_cannot_lift_the_rule(postgres, store, url):  # noqa: F811
    database = url.rsplit("/", 1)[1]
    role = f"app_{database}"
    _sql(url, f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    _sql(url, f"GRANT CONNECT ON DATABASE {database} TO {role}")
    _sql(url, f"GRANT USAGE ON SCHEMA public TO {role}")
    _sql(url, f"GRANT SELECT, INSERT ON events TO {role}")
    app_url = postgres.url(database, user=role, password=PASSWORD)
    app = PostgresAuditStore(app_url)
    event = app.append("registry", audit.COMMENT, "fraud", "fraud", 1, {"note": "from the app role"})
    assert event.seq == 5 and app.verify().ok and app.verify().count == 5
    for statement in (
        f"DROP TRIGGER {TRIGGER} ON events",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "UPDATE events SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM events",
        "DROP TABLE events",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _sql(app_url, statement)
    # the owner drops the rule: the app role cannot put it back and says so instead of appending
    _sql(url, f"DROP TRIGGER {TRIGGER} ON events")
    with pytest.raises(Refused, match="append-only trigger is missing") as info:
        PostgresAuditStore(app_url)
    assert info.value.fix and PASSWORD not in str(info.value)


def test_concurrent_appends_from_threads_and_processes_never_fork_the_chain(store, url):
    per_writer, threads, processes = 15, 4, 2
    script = (
        "import sys; from shipyard.audit.postgres import PostgresAuditStore as S; s = S(sys.argv[1]); "
        f"[s.append('proc-' + sys.argv[2], 'comment', details={{'i': i}}) for i in range({per_writer})]"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", script, url, str(n)], env=env, stderr=subprocess.PIPE)
        for n in range(processes)
    ]
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            writer = PostgresAuditStore(url)
            for i in range(per_writer):
                writer.append(f"thread-{n}", audit.COMMENT, details={"i": i})
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    assert not errors, errors
    total = len(EVENTS) + per_writer * (threads + processes)
    check = store.verify()
    assert check.ok and check.count == total, check.summary()
    events = store.events()
    assert [e.seq for e in events] == list(range(1, total + 1))
    assert len({e.prev_hash for e in events}) == total  # no two events share a parent: no fork
    for n in range(processes):
        assert [e.details["i"] for e in events if e.actor == f"proc-{n}"] == list(range(per_writer))


def test_a_database_that_is_down_is_one_error_line_with_a_fix(cli, tmp_path, monkeypatch, capsys):
    down = f"postgresql://registry:{PASSWORD}@127.0.0.1:{free_port()}/audit"
    started = dt.datetime.now()
    with pytest.raises(ServiceUnavailable) as info:
        PostgresAuditStore(down)
    assert (dt.datetime.now() - started).total_seconds() < 10
    assert "\n" not in info.value.message and PASSWORD not in str(info.value)
    assert info.value.message.startswith("the audit database at postgresql://registry@127.0.0.1:")
    assert ENV_DATABASE_URL in info.value.fix
    result = _cli(cli, tmp_path, down, "audit", "verify")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: the audit database") and "fix:" in lines[1]
    assert PASSWORD not in result.stderr + result.stdout and "Traceback" not in result.stderr
    # the registry service: the same two lines and exit 2 before it serves anything
    from shipyard.registry.server import main

    monkeypatch.setenv(ENV_DATABASE_URL, down)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "shipyard-registry")
    argv = ["--data-dir", str(tmp_path), "--spec", str(REPO / "platform.yaml"), "--port", "1"]
    assert main([*argv, "--mlflow", "http://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("error: the audit database") and PASSWORD not in err[0]


def test_a_url_that_is_not_postgres_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_DATABASE_URL, f"mysql://registry:{PASSWORD}@db/audit")
    with pytest.raises(BadInput) as info:
        AuditStore.of(tmp_path)
    assert ENV_DATABASE_URL in info.value.message and "postgresql://" in info.value.fix
    assert PASSWORD not in str(info.value)


def test_without_psycopg_the_url_says_which_extra_to_install(tmp_path, monkeypatch):
    # psycopg is the `postgres` extra (projects do not need it): a missing one is an error line, no trace
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "shipyard.audit.postgres", raising=False)
    monkeypatch.setenv(ENV_DATABASE_URL, f"postgresql://registry:{PASSWORD}@db/audit")
    with pytest.raises(BadInput) as info:
        AuditStore.of(tmp_path)
    assert "psycopg is not installed" in info.value.message and "shipyard[postgres]" in info.value.fix


def test_the_portal_reads_the_postgres_log_when_the_url_is_set(store, url, tmp_path, monkeypatch):
    from shipyard.audit.view import load_audit

    monkeypatch.delenv(ENV_DATABASE_URL, raising=False)
    assert load_audit(tmp_path, None) is None  # no URL and no SQLite file: this platform keeps no log here
    monkeypatch.setenv(ENV_DATABASE_URL, url)
    view = load_audit(tmp_path, None)
    assert view is not None and view.verification.ok and view.verification.count == 4
    history = [e.action for e in view.history("fraud")]
    assert history == [audit.SUBMIT_REGISTERED, audit.APPROVE, audit.PROMOTE]
