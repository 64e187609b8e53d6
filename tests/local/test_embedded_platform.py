"""The embedded platform end to end, with every service real: up -> status -> MLflow run and model
registration -> DVC push/pull through the remote -> Label Studio project via label-studio-sdk ->
pushgateway metric read back from Prometheus -> git push runs CI -> runner crash recovery ->
down -> up -> everything still there.

The tests run in file order and share what they created through ``seen``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from mlflow.tracking import MlflowClient
from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
from shipyard import tags
from shipyard.ci import list_ci_runs, wait_for_ci_run
from shipyard.ci.queue import CiQueue
from shipyard.clients.label_studio import client as label_client
from shipyard.local import process
from shipyard.records import MlflowApi

from .ci_project import commit_and_push, makefile, new_project

pytestmark = pytest.mark.services

PROJECT = "churn-e2e"
TEAM = "demo"
SERVICES = {
    "mlflow",
    "prometheus",
    "pushgateway",
    "label-studio",
    "ci-runner",
    "portal",
    "package-index",
    "registry",
}
DVC = str(Path(sys.executable).parent / "dvc")


@pytest.fixture(scope="module")
def seen() -> dict:
    return {}


def _prom_value(prometheus: str, query: str, timeout: float = 60) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = requests.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5).json()
        if result["data"]["result"]:
            return float(result["data"]["result"][0]["value"][1])
        time.sleep(1)
    return None


def _dvc(*args: str, cwd: Path) -> str:
    proc = subprocess.run([DVC, *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"dvc {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc.stdout


def test_status_reports_every_service_running_and_healthy(embedded_platform):
    status = embedded_platform.status()
    assert status["schema"] == 1 and status["running"] is True
    by_name = {s["name"]: s for s in status["services"]}
    assert SERVICES <= set(by_name)
    for name in SERVICES:
        svc = by_name[name]
        assert svc["state"] == "running" and svc["healthy"], svc
        assert process.is_alive(svc["pid"])
    assert by_name["dvc-remote"]["state"] == "ready"
    assert by_name["grafana"]["state"] == "not-run"
    assert status["endpoints"]["label_studio_token"] == "(hidden: --show-credentials)"
    shown = json.loads(embedded_platform.cli("status", "--json", "--show-credentials").stdout)
    assert shown["endpoints"]["label_studio_token"] == embedded_platform.endpoints.label_studio_token
    assert status["endpoints"]["mlflow"] == f"http://127.0.0.1:{embedded_platform.spec.local.ports.mlflow}"
    assert "no Grafana server" in embedded_platform.up_output


def test_up_says_when_the_platform_is_ready_for_push_before_it_is_all_healthy(embedded_platform):
    out = embedded_platform.up_output
    ready = re.search(r"\[\s*([\d.]+)s\] platform\s+ready for push \(([^)]*)\)", out)
    assert ready, out
    push_services = {"ci-runner", "mlflow", "package-index", "registry"}
    assert set(ready.group(2).replace(" healthy", "").split(", ")) == push_services
    # it comes after each of those four said healthy, and the summary line carries the same figure
    for name in push_services:
        healthy = re.search(rf"\[\s*([\d.]+)s\] {name}\s+healthy in", out)
        assert healthy and float(healthy.group(1)) <= float(ready.group(1)), name
    summary = re.search(r"up in ([\d.]+)s \(ready for push at ([\d.]+)s\)", out)
    assert summary and float(summary.group(2)) <= float(summary.group(1))


def test_second_up_is_idempotent(embedded_platform):
    before = {s["name"]: s["pid"] for s in embedded_platform.status()["services"]}
    out = embedded_platform.up()
    assert out.count("already running") == len([pid for pid in before.values() if pid])
    after = {s["name"]: s["pid"] for s in embedded_platform.status()["services"]}
    assert before == after


def test_project_create_provisions_everything(embedded_platform, seen, tmp_path):
    result = embedded_platform.cli("project", "create", PROJECT, "--team", TEAM, "--risk-tier", "medium",
                                   "--labeling", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["created"] is True and info["label_studio_project_id"]
    again = json.loads(embedded_platform.cli("project", "create", PROJECT, "--team", TEAM, "--risk-tier",
                                             "medium", "--labeling", "--json").stdout)  # fmt: skip
    assert again["created"] is False
    assert again["experiment_id"] == info["experiment_id"]
    assert again["label_studio_project_id"] == info["label_studio_project_id"]
    exp = MlflowClient(embedded_platform.endpoints.mlflow).get_experiment_by_name(PROJECT)
    assert exp.tags[tags.PROJECT] == PROJECT and exp.tags[tags.TEAM] == TEAM
    assert exp.tags[tags.RISK_TIER] == "medium" and exp.tags[tags.LABELING] == "true"
    assert exp.tags[tags.OWNER] == embedded_platform.spec.team(TEAM).owners[0]
    assert Path(info["dvc_remote"]).is_dir()
    assert (Path(info["repo_path"]) / "hooks" / "post-receive").stat().st_mode & 0o111
    wrong = embedded_platform.cli("project", "create", PROJECT, "--team", "risk")
    assert wrong.returncode == 2 and "belongs to team 'demo'" in wrong.stderr
    seen["project"] = info


def test_mlflow_run_and_model_registration(embedded_platform, seen, tmp_path):
    client = MlflowClient(embedded_platform.endpoints.mlflow)
    run = client.create_run(seen["project"]["experiment_id"], tags={tags.RUN_KIND: tags.RUN_KIND_TRAIN})
    client.log_metric(run.info.run_id, "accuracy", 0.93)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.txt").write_text("0.1 0.2 0.3\n")
    client.log_artifacts(run.info.run_id, str(tmp_path / "model"), "model")
    client.set_terminated(run.info.run_id)
    # `project create` made the registered model, owned by the registry's account (#12): not created here
    assert client.get_registered_model(PROJECT).name == PROJECT
    version = client.create_model_version(PROJECT, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(PROJECT, tags.CHAMPION, version.version)
    assert client.get_metric_history(run.info.run_id, "accuracy")[0].value == 0.93
    assert client.get_registered_model(PROJECT).aliases[tags.CHAMPION] == version.version
    seen["run_id"], seen["version"] = run.info.run_id, version.version


def test_dvc_push_and_pull_through_the_remote(embedded_platform, seen, tmp_path):
    remote = embedded_platform.endpoints.dvc_remote(TEAM, PROJECT)
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    _dvc("init", "-q", cwd=work)
    _dvc("remote", "add", "-d", "shipyard", remote, cwd=work)
    (work / "data.csv").write_text("x,y\n1,0\n2,1\n")
    _dvc("add", "-q", "data.csv", cwd=work)
    _dvc("push", "-q", cwd=work)
    assert any(p.is_file() for p in Path(remote).rglob("*")), "nothing arrived in the DVC remote"
    (work / "data.csv").unlink()
    subprocess.run(["rm", "-rf", str(work / ".dvc" / "cache")], check=True)
    _dvc("pull", "-q", cwd=work)
    assert (work / "data.csv").read_text() == "x,y\n1,0\n2,1\n"
    seen["dvc_work"] = work


def test_label_studio_project_through_the_sdk(embedded_platform, seen):
    ls = label_client(
        embedded_platform.endpoints.label_studio, embedded_platform.endpoints.label_studio_token
    )
    project_id = seen["project"]["label_studio_project_id"]
    project = ls.projects.get(id=project_id)
    assert project.title == PROJECT
    ls.projects.import_tasks(id=project_id, request=[{"text": "the churn model is great"}])
    tasks = list(ls.tasks.list(project=project_id))
    assert [t.data["text"] for t in tasks] == ["the churn model is great"]


def test_local_security_signup_closed_secrets_private_lifecycle_off(embedded_platform):
    ls, admin_token = embedded_platform.endpoints.label_studio, embedded_platform.endpoints.label_studio_token
    outsider = requests.Session()
    outsider.get(f"{ls}/user/signup/", timeout=30)  # a real form visit: the CSRF cookie
    csrf = outsider.cookies.get("csrftoken")
    assert csrf, "the signup page set no CSRF cookie: the POST below would prove nothing"
    resp = outsider.post(
        f"{ls}/user/signup/",
        data={"email": "outsider@example.com", "password": "outsider-pass-1", "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{ls}/user/signup/", "X-CSRFToken": csrf},
        allow_redirects=False,
        timeout=30,
    )
    assert resp.status_code == 403, resp.status_code  # open signup answers 302 and makes the user
    users = requests.get(f"{ls}/api/users/", headers={"Authorization": f"Token {admin_token}"}, timeout=30)
    assert users.ok and "outsider@example.com" not in [u["email"] for u in users.json()]

    data = embedded_platform.data_dir
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    secrets = [data / "state.json", data / "mlflow" / "mlflow.db", data / "label-studio" / "credentials.json",
               data / "label-studio" / "data" / "label_studio.sqlite3"]  # fmt: skip
    for path in secrets:
        assert oct(path.stat().st_mode & 0o777) == "0o600", path
    assert admin_token not in embedded_platform.up_output  # printed only with --show-credentials

    prometheus = embedded_platform.endpoints.prometheus
    assert requests.post(f"{prometheus}/-/quit", timeout=10).status_code == 403
    assert requests.get(f"{prometheus}/-/ready", timeout=10).ok


def test_pushgateway_metric_is_scraped_by_prometheus(embedded_platform):
    registry = CollectorRegistry()
    gauge = Gauge(tags.METRIC_DRIFT_SHARE, "drift", ["project", "team", "model"], registry=registry)
    gauge.labels(PROJECT, TEAM, PROJECT).set(0.25)
    push_to_gateway(embedded_platform.endpoints.pushgateway, job="shipyard_drift",
                    grouping_key={"project": PROJECT}, registry=registry)  # fmt: skip
    query = f'{tags.METRIC_DRIFT_SHARE}{{project="{PROJECT}",team="{TEAM}"}}'
    assert _prom_value(embedded_platform.endpoints.prometheus, query) == 0.25


def test_push_runs_ci_and_records_it_in_mlflow(embedded_platform, seen, tmp_path):
    uri = embedded_platform.endpoints.mlflow
    repo = new_project(tmp_path / "proj", PROJECT, seen["project"]["repo_url"])
    sha, out = commit_and_push(repo, makefile(PROJECT), "first")
    assert "queued" in out
    run = wait_for_ci_run(MlflowApi(uri), PROJECT, commit=sha, timeout=300)
    log = embedded_platform.cli("ci", "logs", run.run_id[:10]).stdout
    assert run.status == "passed", log
    assert run.steps == ("lint", "test", "train") and run.failed_step == ""
    assert run.provider == "shipyard" and run.branch == "main"
    assert f"tracking={uri} run={run.run_id} provider=shipyard" in log
    assert f"instance={embedded_platform.spec.local.instance_type}" in log
    assert "dvc=" in log and f"/{run.run_id}/dvc-remote " in log  # its own, merged into the team's after
    client = MlflowClient(uri)
    ci = client.get_run(run.run_id)
    assert ci.data.tags[tags.RUN_KIND] == "ci" and ci.data.tags[tags.CI_COMMIT] == sha
    assert ci.info.status == "FINISHED"
    train = client.search_runs([seen["project"]["experiment_id"]],
                               f"tags.`{tags.CI_RUN_ID}` = '{run.run_id}'")  # fmt: skip
    assert len(train) == 1 and train[0].data.metrics["accuracy"] == 0.91
    listed = json.loads(embedded_platform.cli("ci", "list", "--project", PROJECT, "--json").stdout)
    assert listed[0]["run_id"] == run.run_id and listed[0]["status"] == "passed"
    table = embedded_platform.cli("ci", "list").stdout
    assert run.run_id[:12] in table and "passed" in table

    sha2, _ = commit_and_push(repo, makefile(PROJECT, fail_in="test"), "break a test")
    failed = wait_for_ci_run(MlflowApi(uri), PROJECT, commit=sha2, timeout=300)
    assert failed.status == "failed" and failed.failed_step == "test"
    assert failed.steps == ("lint", "test")
    assert client.get_run(failed.run_id).info.status == "FAILED"
    assert "a test failed" in embedded_platform.cli("ci", "logs", failed.run_id).stdout
    seen["ci_runs"] = {run.run_id: "passed", failed.run_id: "failed"}
    seen["repo"], seen["head"] = repo, sha2


def test_runner_crash_mid_run_marks_the_run_interrupted(embedded_platform, seen):
    uri = embedded_platform.endpoints.mlflow
    queue = CiQueue(embedded_platform.data_dir / "ci")
    sha, _ = commit_and_push(seen["repo"], makefile(PROJECT, sleep=300), "slow lint")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        running = queue.in_running()
        if running and running[0].commit == sha and running[0].pid:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the slow run never started")
    job = running[0]
    runner = {s["name"]: s for s in embedded_platform.status()["services"]}["ci-runner"]
    os.killpg(runner["pid"], signal.SIGKILL)  # a crash: no chance to clean up
    time.sleep(1)
    assert process.is_alive(job.pid, job.pid_start), "make ci should outlive the runner (own session)"
    assert embedded_platform.status()["running"] is False
    assert list_ci_runs(MlflowApi(uri), PROJECT)[0].status == "running"  # stuck, until the runner comes back
    embedded_platform.up()
    run = wait_for_ci_run(MlflowApi(uri), PROJECT, run_id=job.run_id, timeout=120)
    assert run.status == "interrupted" and run.failed_step == "lint"
    assert not process.is_alive(job.pid, job.pid_start), "the orphaned make ci was left running"
    assert "interrupted" in embedded_platform.cli("ci", "logs", job.run_id).stdout
    seen["ci_runs"][job.run_id] = "interrupted"


def test_down_then_up_keeps_everything(embedded_platform, seen, tmp_path):
    pids = [s["pid"] for s in embedded_platform.status()["services"] if s["pid"]]
    out = embedded_platform.down()
    assert "stopped" in out
    status = embedded_platform.status()
    assert status["running"] is False
    assert all(s["state"] != "running" for s in status["services"])
    assert not any(process.is_alive(pid) for pid in pids)

    embedded_platform.up()
    assert embedded_platform.status()["running"] is True
    client = MlflowClient(embedded_platform.endpoints.mlflow)
    assert client.get_run(seen["run_id"]).data.metrics["accuracy"] == 0.93
    assert client.get_registered_model(PROJECT).aliases[tags.CHAMPION] == seen["version"]
    assert {
        r.run_id: r.status for r in list_ci_runs(MlflowApi(embedded_platform.endpoints.mlflow), PROJECT)
    } == seen["ci_runs"]
    ls = label_client(
        embedded_platform.endpoints.label_studio, embedded_platform.endpoints.label_studio_token
    )
    project_id = seen["project"]["label_studio_project_id"]
    assert [t.data["text"] for t in ls.tasks.list(project=project_id)] == ["the churn model is great"]
    work = seen["dvc_work"]
    (work / "data.csv").unlink()
    subprocess.run(["rm", "-rf", str(work / ".dvc" / "cache")], check=True)
    _dvc("pull", "-q", cwd=work)
    assert (work / "data.csv").read_text() == "x,y\n1,0\n2,1\n"
    metrics = requests.get(f"{embedded_platform.endpoints.pushgateway}/metrics", timeout=5).text
    assert f'{tags.METRIC_DRIFT_SHARE}{{instance="",job="shipyard_drift",model="{PROJECT}"' in metrics
    heads = subprocess.run(["git", "ls-remote", seen["project"]["repo_path"], "main"], capture_output=True,
                           text=True).stdout  # fmt: skip
    assert (
        heads.split()[0] != ""
        and len(list_ci_runs(MlflowApi(embedded_platform.endpoints.mlflow), PROJECT)) == 3
    )
