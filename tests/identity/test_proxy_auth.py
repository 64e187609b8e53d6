"""Identity from the OIDC proxy's header (``shipyard.identity.proxy_auth``), against a real MLflow 3
basic-auth server that uses it as its ``authorization_function`` and a real registry server.

oauth2-proxy itself does not run here (no binary from PyPI, Debian or npm): the test plays it, as a
client on 127.0.0.1 that sends ``X-Forwarded-Email`` (and ``X-Forwarded-For``, as the proxy does). A
caller from another pod is played by the same request sent to this machine's non-loopback address.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from shipyard.identity.mlflow_users import AuthAdmin, Credentials, provision_signed_in_people
from shipyard.identity.proxy_auth import AUTHORIZATION_FUNCTION, is_loopback, proxied_email
from shipyard.spec.loader import parse_spec

from tests.fixtures.waiting import wait_ok

REPO = Path(__file__).resolve().parents[2]
PLATFORM = REPO / "platform"
FORWARDED_FOR = "203.0.113.9"  # the person's address, as oauth2-proxy forwards it


def _other_address() -> str | None:
    """This machine's first non-loopback IPv4 address (another pod's view of the server)."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for address in out.split():
        if "." in address and not is_loopback(address):
            return address
    return None


OTHER = _other_address()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _wait(proc: subprocess.Popen, url: str, log: Path, timeout: float = 300) -> None:
    wait_ok(url, [proc], log, timeout)


# --- the header rule alone ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "trusted"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("192.0.2.2", False),
        ("10.0.0.7", False),
        ("::ffff:10.0.0.7", False),
        (None, False),  # MLflow's FastAPI bridge builds a request context without a peer
        ("", False),
        ("testclient", False),
        ("localhost", False),  # a name is not a peer address
    ],
)
def test_the_header_is_believed_from_a_loopback_peer_only(peer, trusted):
    expected = "alice@corp.example" if trusted else None
    assert proxied_email(peer, {"X-Forwarded-Email": " Alice@Corp.Example "}) == expected


@pytest.mark.parametrize(
    "value", ["", "shipyard-registry", "admin", "a@x.example, b@y.example", "@x.example", "a@b@c", "a b@x"]
)
def test_a_header_that_is_not_one_email_names_nobody(value):
    assert proxied_email("127.0.0.1", {"X-Forwarded-Email": value}) is None


# --- a real MLflow basic-auth server with the authorization function ---------------------------------

ADMIN_PASSWORD = "adm-" + secrets.token_hex(8)
SPEC = """
platform: {name: proxy-test, environment: local, currency: USD}
teams:
  - name: fraud
    owners: [Alice@Corp.Example]
    monthly_budget: 100
    quota: {cpu: "2", memory: 4Gi, gpus: 0}
  - name: search
    owners: [bob@corp.example]
    monthly_budget: 100
    quota: {cpu: "2", memory: 4Gi, gpus: 0}
governance:
  people:
    approvers: [carol@corp.example, dave@corp.example]
  gates:
    - {metric: accuracy, min: 0.80}
"""


class Server:
    def __init__(self, url: str, port: int, ids: dict[str, str], creds: dict[str, Credentials]):
        self.url, self.port, self.ids, self.creds = url, port, ids, creds

    def call(self, method: str, path: str, *, email: str | None = None, via: str = "127.0.0.1",
             user: str | None = None, **kwargs) -> requests.Response:  # fmt: skip
        headers = {"X-Forwarded-For": FORWARDED_FOR}
        if email is not None:
            headers["X-Forwarded-Email"] = email
        auth = self.creds[user].auth if user else None
        return requests.request(method, f"http://{via}:{self.port}{path}", headers=headers, auth=auth,
                                timeout=60, **kwargs)  # fmt: skip

    def new_run(self, experiment: str, **who) -> requests.Response:
        body = {"experiment_id": self.ids[experiment]}
        return self.call("POST", "/api/2.0/mlflow/runs/create", json=body, **who)


@pytest.fixture(scope="module")
def mlflow(tmp_path_factory) -> Server:
    """MLflow as infra runs it behind OIDC: the basic-auth app with Shipyard's authorization function,
    uvicorn without proxy headers, on 0.0.0.0 (SQLite and a directory stand in for Postgres and S3)."""
    tmp = tmp_path_factory.mktemp("mlflow-proxy-auth")
    ini = tmp / "basic_auth.ini"
    ini.write_text(
        f"[mlflow]\ndefault_permission = READ\ndatabase_uri = sqlite:///{tmp / 'auth.db'}\n"
        f"admin_username = admin\nauthorization_function = {AUTHORIZATION_FUNCTION}\n"
    )
    port = _free_port()
    hosts = ",".join(f"{h},{h}:*" for h in ("127.0.0.1", "localhost", *([OTHER] if OTHER else [])))
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--host", "0.0.0.0", "--port", str(port), "--workers", "1",
        "--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}",
        "--artifacts-destination", str(tmp / "artifacts"), "--serve-artifacts",
        "--allowed-hosts", hosts, "--app-name", "basic-auth", "--uvicorn-opts", "--no-proxy-headers",
    ]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PLATFORM), os.environ.get("PYTHONPATH")])),
        "MLFLOW_AUTH_CONFIG_PATH": str(ini),
        "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    log = tmp / "mlflow.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp,
                                start_new_session=True)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(proc, f"{url}/health", log)
        yield _provision(url, port)
    finally:
        _stop(proc)


def _provision(url: str, port: int) -> Server:
    """What the platform provisions: people from the spec (the registry's init container on a
    cluster), a project per team with its CI account, the registry's registered model."""
    admin_creds = Credentials("admin", ADMIN_PASSWORD)
    admin = AuthAdmin(url, admin_creds)
    creds = {"admin": admin_creds}
    for name in ("ci-fraud-model", "shipyard-registry"):
        creds[name] = Credentials(name, secrets.token_hex(12))
        admin.ensure_user(name, creds[name].password)
    ids = {}
    for team in ("fraud", "search"):
        tags = {"shipyard.project": f"{team}-model", "shipyard.team": team}
        ids[team] = admin.api.create_experiment(f"{team}-model", tags)
    admin.grant("ci-fraud-model", "experiment", ids["fraud"], "EDIT")
    spec = parse_spec(SPEC)
    created = provision_signed_in_people(spec, url, admin_creds)
    assert sorted(created) == [f"{n}@corp.example" for n in ("alice", "bob", "carol", "dave")]
    assert provision_signed_in_people(spec, url, admin_creds) == []  # again: nothing new, no error
    reg = creds["shipyard-registry"].auth
    resp = requests.post(f"{url}/api/2.0/mlflow/registered-models/create", json={"name": "fraud-model"},
                         auth=reg, timeout=60)  # fmt: skip
    assert resp.ok, resp.text
    return Server(url, port, ids, creds)


def test_the_proxys_person_gets_their_own_permissions(mlflow):
    me = mlflow.call("GET", "/api/2.0/mlflow/users/current", email="Alice@Corp.Example")
    assert me.status_code == 200 and me.json()["user"]["username"] == "alice@corp.example"
    assert me.json()["user"]["is_admin"] is False
    assert mlflow.new_run("fraud", email="alice@corp.example").status_code == 200  # her team's project
    assert mlflow.new_run("search", email="alice@corp.example").status_code == 403  # another team's
    assert mlflow.new_run("search", email="bob@corp.example").status_code == 200
    # an approver without a team reads (default_permission READ) but writes no project
    assert mlflow.new_run("fraud", email="carol@corp.example").status_code == 403
    search = mlflow.call("POST", "/api/2.0/mlflow/experiments/search", json={"max_results": 10},
                         email="carol@corp.example")  # fmt: skip
    assert search.status_code == 200 and len(search.json()["experiments"]) >= 2


def test_only_the_registry_account_changes_the_model_registry(mlflow):
    run = mlflow.new_run("fraud", user="ci-fraud-model")
    assert run.status_code == 200  # CI writes its own project's experiment
    assert mlflow.new_run("search", user="ci-fraud-model").status_code == 403  # and no other
    run_id = run.json()["run"]["info"]["run_id"]
    version = {"name": "fraud-model", "source": f"runs:/{run_id}/model", "run_id": run_id}
    create = "/api/2.0/mlflow/model-versions/create"
    for who in ({"user": "ci-fraud-model"}, {"email": "alice@corp.example"}):
        assert mlflow.call("POST", create, json=version, **who).status_code == 403, who
    made = mlflow.call("POST", create, json=version, user="shipyard-registry")
    assert made.status_code == 200, made.text
    number = made.json()["model_version"]["version"]
    alias = {"name": "fraud-model", "alias": "champion", "version": number}
    tag = {"name": "fraud-model", "version": number, "key": "shipyard.approved", "value": "yes"}
    for path, body in (("/api/2.0/mlflow/registered-models/alias", alias),
                       ("/api/2.0/mlflow/model-versions/set-tag", tag)):  # fmt: skip
        for who in ({"user": "ci-fraud-model"}, {"email": "alice@corp.example"}):
            assert mlflow.call("POST", path, json=body, **who).status_code == 403, (path, who)
        assert mlflow.call("POST", path, json=body, user="shipyard-registry").status_code == 200, path


def test_an_email_mlflow_does_not_know_is_refused_and_never_created(mlflow):
    resp = mlflow.new_run("fraud", email="mallory@corp.example")
    assert resp.status_code == 403 and "has no MLflow user" in resp.text
    admin = AuthAdmin(mlflow.url, mlflow.creds["admin"])
    assert not admin.has_user("mallory@corp.example")
    # a header naming a service account or the admin is no email: basic auth is asked for
    for name in ("admin", "shipyard-registry"):
        assert mlflow.new_run("fraud", email=name).status_code == 401


@pytest.mark.skipif(OTHER is None, reason="this machine has no non-loopback address")
def test_the_header_from_another_address_is_ignored(mlflow):
    assert mlflow.new_run("fraud", email="alice@corp.example", via=OTHER).status_code == 401
    me = mlflow.call("GET", "/api/2.0/mlflow/users/current", email="alice@corp.example", via=OTHER)
    assert me.status_code == 401
    # with a login, the login counts, not the header: CI stays CI
    resp = mlflow.new_run("search", email="bob@corp.example", via=OTHER, user="ci-fraud-model")
    assert resp.status_code == 403
    assert mlflow.new_run("fraud", via=OTHER, user="ci-fraud-model").status_code == 200


def test_basic_auth_still_serves_the_service_accounts_and_anonymous_calls_are_refused(mlflow):
    assert mlflow.new_run("fraud").status_code == 401
    assert mlflow.call("GET", "/health").status_code == 200
    ok = mlflow.call("POST", "/api/2.0/mlflow/experiments/search", json={"max_results": 1}, user="admin")
    assert ok.status_code == 200
    wrong = Credentials("shipyard-registry", "not-its-password")
    mlflow.creds["wrong"] = wrong
    assert mlflow.new_run("fraud", user="wrong").status_code == 401


# --- the registry service behind its proxy -------------------------------------------------------------


@pytest.fixture(scope="module")
def registry(mlflow, tmp_path_factory):
    """The registry server as infra runs it behind OIDC (``--trust-proxy-email``, 0.0.0.0), against
    the MLflow above (its basic-auth check), with a spec naming the people."""
    tmp = tmp_path_factory.mktemp("registry-proxy-auth")
    spec = tmp / "platform.yaml"
    spec.write_text(SPEC)
    port = _free_port()
    command = [sys.executable, "-m", "shipyard.registry.server", "--data-dir", str(tmp / "data"),
               "--spec", str(spec), "--host", "0.0.0.0", "--port", str(port), "--mlflow", mlflow.url,
               "--trust-proxy-email"]  # fmt: skip
    account = mlflow.creds["shipyard-registry"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PLATFORM), os.environ.get("PYTHONPATH")])),
        **account.env(),
        "HOME": str(tmp),
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    (tmp / "data").mkdir()
    log = tmp / "registry.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp,
                                start_new_session=True)  # fmt: skip
    try:
        _wait(proc, f"http://127.0.0.1:{port}/health", log)
        yield Server(f"http://127.0.0.1:{port}", port, {}, mlflow.creds)
    finally:
        _stop(proc)


def test_the_registry_believes_the_proxys_person_from_loopback(registry):
    resp = registry.call("GET", "/whoami", email="Alice@Corp.Example")  # with X-Forwarded-For, as proxied
    assert resp.status_code == 200 and resp.json() == {"user": "alice@corp.example"}


def test_the_registry_refuses_a_person_the_spec_does_not_name(registry):
    assert registry.call("GET", "/whoami", email="mallory@corp.example").status_code == 401


@pytest.mark.skipif(OTHER is None, reason="this machine has no non-loopback address")
def test_the_registry_ignores_the_header_from_another_address(registry):
    assert registry.call("GET", "/whoami", email="alice@corp.example", via=OTHER).status_code == 401
    resp = registry.call("GET", "/whoami", email="alice@corp.example", via=OTHER, user="ci-fraud-model")
    assert resp.status_code == 200 and resp.json() == {"user": "ci-fraud-model"}


def test_the_registry_still_signs_service_accounts_in_with_basic_auth(registry):
    resp = registry.call("GET", "/whoami", user="shipyard-registry")
    assert resp.status_code == 200 and resp.json() == {"user": "shipyard-registry"}
    assert registry.call("GET", "/whoami").status_code == 401


def test_without_the_flag_no_header_is_believed_even_from_loopback():
    """One machine (``shipyard up``): every caller is loopback, so the header names nobody there."""
    from shipyard.registry.server import Authenticator
    from starlette.requests import Request

    scope = {"type": "http", "method": "GET", "path": "/whoami", "client": ("127.0.0.1", 5000),
             "headers": [(b"x-forwarded-email", b"alice@corp.example")]}  # fmt: skip
    assert Authenticator("http://127.0.0.1:1")(Request(scope)) is None
    trusting = Authenticator("http://127.0.0.1:1", {"alice@corp.example"})
    assert trusting(Request(scope)) == "alice@corp.example"
    assert trusting(Request({**scope, "client": ("10.0.0.7", 5000)})) is None
