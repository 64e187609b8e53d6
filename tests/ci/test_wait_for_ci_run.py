"""wait_for_ci_run returns a finished run with its end time (the status tag is written first)."""

from __future__ import annotations

import datetime as dt

import pytest
from shipyard.ci import runs
from shipyard.records import CiRun

START = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def _run(status: str, ended: dt.datetime | None) -> CiRun:
    return CiRun("r1", "p", status, "abc", "main", "shipyard", ("lint",), "", START, ended)


def test_a_passed_run_is_returned_once_mlflow_has_ended_it(monkeypatch):
    ended = START + dt.timedelta(seconds=9)
    seen = iter([_run("running", None), _run("passed", None), _run("passed", ended)])
    monkeypatch.setattr(runs, "get_ci_run", lambda api, run_id: next(seen))
    run = runs.wait_for_ci_run(None, "p", run_id="r1", timeout=5, poll=0)
    assert run.ended_at is not None and run.duration_s == 9.0


def test_a_finished_run_without_an_end_time_is_returned_after_the_grace(monkeypatch):
    monkeypatch.setattr(runs, "END_TIME_GRACE_S", 0.05)
    monkeypatch.setattr(runs, "get_ci_run", lambda api, run_id: _run("failed", None))
    run = runs.wait_for_ci_run(None, "p", run_id="r1", timeout=5, poll=0.01)
    assert run.status == "failed" and run.ended_at is None


def test_a_run_that_never_finishes_times_out_naming_its_status(monkeypatch):
    monkeypatch.setattr(runs, "get_ci_run", lambda api, run_id: _run("running", None))
    with pytest.raises(TimeoutError, match="last seen: running"):
        runs.wait_for_ci_run(None, "p", run_id="r1", timeout=0.05, poll=0.01)
