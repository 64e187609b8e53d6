"""Pieces of the embedded platform that need no running service: the status of a stopped platform,
the generated Prometheus config, the CI queue, step parsing, and a push to a bare repo whose
post-receive hook queues a run even when the platform is down (real git, real hook)."""

from __future__ import annotations

import json
import os
import subprocess

import yaml
from shipyard.ci.queue import CiQueue
from shipyard.local import process
from shipyard.local.runner import parse_step
from shipyard.local.service import Context
from shipyard.local.services.prometheus import prometheus_config
from shipyard.local.status import status
from shipyard.platform.layout import DataLayout
from shipyard.projects import ensure_repo
from shipyard.spec import load_spec

from ..fixtures.embedded_platform import write_spec


def test_parse_step():
    assert parse_step("==> lint\n") == "lint"
    assert parse_step("==> dvc repro\n") == "dvc repro"
    assert parse_step("lint ok\n") is None
    assert parse_step("==>\n") is None


def test_status_of_a_platform_never_started(tmp_path):
    spec = write_spec(tmp_path / "platform.yaml")
    st = status(data_dir=tmp_path / "data", spec_path=spec).to_json()
    assert st["schema"] == 1 and st["running"] is False
    states = {s["name"]: s["state"] for s in st["services"]}
    assert states["mlflow"] == states["label-studio"] == states["ci-runner"] == "stopped"
    assert states["grafana"] == "not-run"
    fields = {"name", "state", "healthy", "pid", "port", "url", "log", "start_seconds", "detail"}
    assert set(st["services"][0]) == fields
    assert not (tmp_path / "data").exists(), "status must not create anything"


def test_prometheus_config_scrapes_the_pushgateway_from_the_spec(tmp_path):
    spec = load_spec(write_spec(tmp_path / "platform.yaml"))
    config = prometheus_config(Context(spec=spec, spec_path=None, layout=DataLayout(tmp_path)))
    push = next(job for job in config["scrape_configs"] if job["job_name"] == "pushgateway")
    assert push["honor_labels"] is True
    assert push["static_configs"][0]["targets"] == [f"127.0.0.1:{spec.local.ports.pushgateway}"]
    yaml.safe_dump(config)


def test_is_alive_checks_the_start_time_against_pid_reuse():
    me = os.getpid()
    assert process.is_alive(me, process.start_time(me))
    assert not process.is_alive(me, "1")
    assert not process.is_alive(None)


def test_queue_moves_a_job_through_its_states(tmp_path):
    queue = CiQueue(tmp_path)
    first = queue.put("p", "/repo", "a" * 40, "main")
    second = queue.put("p", "/repo", "b" * 40, "main")
    assert queue.next().id == first.id
    queue.start(first)
    assert queue.next().id == second.id and [j.id for j in queue.in_running()] == [first.id]
    queue.finish(first)
    assert queue.in_running() == [] and (tmp_path / "done" / f"{first.id}.json").exists()


GIT = ["git", "-c", "user.email=a@example.com", "-c", "user.name=A"]


def _commit_and_push(work, repo, message: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    """Commit a change to README in ``work`` (a repo is made on first use), push it to the bare
    ``repo`` as a person would; returns (commit sha, what the push printed)."""
    if not work.exists():
        subprocess.run([*GIT, "init", "-q", "-b", "main", str(work)], check=True)
    readme = work / "README"
    readme.write_text((readme.read_text() if readme.exists() else "") + f"{message}\n")
    subprocess.run([*GIT, "add", "README"], cwd=work, check=True)
    subprocess.run([*GIT, "commit", "-qm", message], cwd=work, check=True)
    push = subprocess.run(
        [*GIT, "push", repo.as_uri(), "main"], cwd=work, capture_output=True, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert push.returncode == 0, push.stderr
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, capture_output=True, text=True)
    return head.stdout.strip(), push.stderr


def test_push_queues_a_run_even_when_the_platform_is_down(tmp_path):
    data = tmp_path / "data"
    repo = ensure_repo(data, "churn")
    sha, printed = _commit_and_push(tmp_path / "work", repo, "one")
    assert "queued for churn main@" in printed
    jobs = CiQueue(data / "ci").pending()
    assert [(j.project, j.commit, j.branch, j.run_id) for j in jobs] == [("churn", sha, "main", None)]
    assert json.loads(next((data / "ci" / "queue").glob("*.json")).read_text())["repo"] == str(repo)


def test_the_queued_run_names_the_signed_in_pusher_and_only_a_verified_one(tmp_path):
    """The creator of what CI registers is the signed-in account that pushed: its password must be the
    platform's for that account (a name in an environment variable alone is a claim)."""
    from shipyard.identity.secrets import password_file, write_secret

    data = tmp_path / "data"
    repo = ensure_repo(data, "churn")
    write_secret(password_file(data, "dora@example.com"), "s3cret")
    signed_in = {"MLFLOW_TRACKING_USERNAME": "Dora@example.com", "MLFLOW_TRACKING_PASSWORD": "s3cret"}
    _commit_and_push(tmp_path / "work", repo, "one", env=signed_in)
    claimed = {**signed_in, "MLFLOW_TRACKING_PASSWORD": "guess"}
    _commit_and_push(tmp_path / "work", repo, "two", env=claimed)
    nobody = {"MLFLOW_TRACKING_USERNAME": "", "MLFLOW_TRACKING_PASSWORD": ""}
    _commit_and_push(tmp_path / "work", repo, "three", env=nobody)
    assert [j.pushed_by for j in CiQueue(data / "ci").pending()] == ["dora@example.com", "", ""]


def test_a_push_whose_head_says_skip_ci_queues_nothing_and_the_next_push_does(tmp_path):
    data = tmp_path / "data"
    repo = ensure_repo(data, "churn")
    _, skipped = _commit_and_push(tmp_path / "work", repo, "Docs only [Skip CI]")
    assert "[skip ci] in its message: no CI run for churn main@" in skipped
    assert CiQueue(data / "ci").pending() == []
    head, printed = _commit_and_push(tmp_path / "work", repo, "Model change")
    assert "queued for churn main@" in printed
    assert [(j.commit, j.branch) for j in CiQueue(data / "ci").pending()] == [(head, "main")]


def test_an_unreadable_job_file_does_not_block_the_queue(tmp_path):
    queue = CiQueue(tmp_path)
    (queue.queued / "00000000000000000000-bad.json").write_text("{not json")
    good = queue.put("p", "/repo", "c" * 40, "main")
    assert queue.next().id == good.id
    assert (queue.done / "00000000000000000000-bad.json.unreadable").exists()


def test_an_s3_dvc_remote_in_the_spec_reaches_the_endpoints(tmp_path):
    path = write_spec(tmp_path / "platform.yaml")
    data = yaml.safe_load(path.read_text())
    data["services"] = {"dvc": {"remote": "s3", "bucket": "ml-data", "endpoint_url": "http://127.0.0.1:9000"}}
    path.write_text(yaml.safe_dump(data))
    ctx = Context(spec=load_spec(path), spec_path=path, layout=DataLayout(tmp_path))
    endpoints = ctx.endpoints()
    assert endpoints.dvc_remote("demo", "churn") == "s3://ml-data/demo/churn"
    assert endpoints.to_env("demo", "churn")["SHIPYARD_DVC_ENDPOINT_URL"] == "http://127.0.0.1:9000"
