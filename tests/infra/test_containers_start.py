"""The MLflow containers the program declares really start: the Deployment's own command and
environment (secrets resolved from the Secret the program writes, the secret volume mounted, `$(VAR)`
expanded as the kubelet does), run with the locked mlflow, must serve /health and enforce auth.

Stand-ins, because no cluster, Postgres or S3 runs here: the Postgres URI (backend store and the
basic-auth user store) becomes SQLite, the s3:// artifact destination a local directory, port 5000 a
free port, and the mount path a temporary directory. Everything else is taken as declared; the image
is checked to be the `-full` build of the same mlflow version (the bare image lacks psycopg2, boto3
and the auth extras), or behind OIDC the shipyard image (the locked mlflow and `shipyard` itself, which
the authorization function needs: here the source tree on PYTHONPATH).

oauth2-proxy does not run here (no binary from PyPI, Debian or npm): a client on 127.0.0.1 that sends
`X-Forwarded-Email` and `X-Forwarded-For` plays it; one on this machine's other address plays a pod.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
import pytest
from shipyard.identity.mlflow_users import AuthAdmin, Credentials

from tests.fixtures.postgres import postgres  # noqa: F401  (the fixture)

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mlflow_pod(graph) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    (deployment,) = [
        r.plain for r in graph.of("kubernetes:apps/v1:Deployment") if r.plain["metadata"]["name"] == "mlflow"
    ]
    (secret,) = [
        r.plain for r in graph.of("kubernetes:core/v1:Secret") if r.plain["metadata"]["name"] == "mlflow"
    ]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == "mlflow"]
    return pod, container, dict(secret["stringData"])


class Started:
    def __init__(self, proc: subprocess.Popen, port: int, container: dict[str, Any], env: dict[str, str]):
        self.proc, self.port, self.container, self.env = proc, port, container, env


def start_declared(graph, tmp: Path, postgres_url: str | None = None) -> Started:
    """Start the declared MLflow container as a local process (stand-ins as the module says;
    ``postgres_url``: a real database in place of the declared one, its scheme kept as declared)."""
    pod, container, secret = _mlflow_pod(graph)
    port = _free_port()
    if postgres_url:  # only the host part is a stand-in: the driver the URI names is the declared one
        scheme = secret["backend-uri"].split("://", 1)[0]
        db = auth_db = f"{scheme}://{postgres_url.split('://', 1)[1]}"
    else:  # Postgres -> SQLite
        db, auth_db = f"sqlite:///{tmp / 'mlflow.db'}", f"sqlite:///{tmp / 'auth.db'}"
    secret["backend-uri"] = db
    if "basic_auth.ini" in secret:
        secret["basic_auth.ini"] = re.sub(
            r"^database_uri = .*$", f"database_uri = {auth_db}", secret["basic_auth.ini"], flags=re.M
        )
    mounts: dict[str, Path] = {}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        local = tmp / mount["name"]
        local.mkdir()
        for item in volumes[mount["name"]]["secret"]["items"]:
            (local / item["path"]).write_text(secret[item["key"]])
        mounts[mount["mountPath"]] = local

    def relocate(value: str) -> str:
        for path, local in mounts.items():
            value = value.replace(path, str(local))
        return value

    env: dict[str, str] = {}
    for var in container["env"]:
        if "value" in var:
            env[var["name"]] = relocate(var["value"])
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "mlflow", "the container reads a Secret the program did not write"
            env[var["name"]] = secret[ref["key"]]
    command = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], part) for part in container["command"]]
    command[command.index("--port") + 1] = str(port)
    dest = command.index("--artifacts-destination") + 1
    assert command[dest].startswith("s3://")
    command[dest] = (tmp / "artifacts").as_uri()
    assert command[0] == "mlflow"
    command[0] = str(BIN / "mlflow")
    base = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp), "MLFLOW_DISABLE_TELEMETRY": "true"}
    if "shipyard" in container["image"]:  # the image has shipyard installed; here the source tree
        base["PYTHONPATH"] = str(REPO / "platform")
    log = open(tmp / "mlflow.log", "w")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        command, env={**base, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=tmp, start_new_session=True
    )
    return Started(proc, port, container, env)


def _listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses something listens on at ``port`` (from /proc/net/tcp, state 0A = LISTEN)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def _get(url: str, auth: tuple[str, str] | None = None, timeout: float = 60,
         headers: dict[str, str] | None = None) -> int:  # fmt: skip
    """Status of a GET (generous timeout: password hashing on a shared, loaded CPU is slow)."""
    request = urllib.request.Request(url, headers=headers or {})
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_healthy(started: Started, tmp: Path, timeout: float = 360, what: str = "mlflow") -> None:
    _wait_until(started, tmp, "/health", what, timeout, lambda url: _get(url, timeout=5) == 200)


def _wait_until(started: Started, tmp: Path, path: str, what: str, timeout: float, ready) -> None:
    """Until ``ready(url of path)``; the server's exit or the timeout fails the test with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if started.proc.poll() is not None:
            pytest.fail(
                f"{what} exited ({started.proc.returncode}):\n{(tmp / f'{what}.log').read_text()[-3000:]}"
            )
        try:
            if ready(f"http://127.0.0.1:{started.port}{path}"):
                return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"{what}: no {path} within {timeout} s:\n{(tmp / f'{what}.log').read_text()[-3000:]}")


@pytest.fixture(scope="module")
def started(aws_graph, k8s_graph, tmp_path_factory):
    """Both examples' MLflow (basic auth on AWS, OIDC proxy on-prem), started together."""
    runs = {}
    for name, graph in (("basic", aws_graph), ("oidc", k8s_graph)):
        tmp = tmp_path_factory.mktemp(f"mlflow-{name}")
        runs[name] = (start_declared(graph, tmp), tmp)
    try:
        for s, tmp in runs.values():
            wait_healthy(s, tmp)
        yield {name: s for name, (s, _) in runs.items()}
    finally:
        for s, _ in runs.values():  # mlflow server runs uvicorn and job consumers: end its whole group
            os.killpg(s.proc.pid, signal.SIGTERM)
            try:
                s.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
            try:  # children that outlive the server (they may ignore SIGTERM) go too
                os.killpg(s.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            s.proc.wait()


def test_basic_auth_mlflow_starts_and_refuses_anonymous_calls(started):
    s = started["basic"]
    api = f"http://127.0.0.1:{s.port}/api/2.0/mlflow/experiments/search?max_results=1"
    assert _get(api) == 401
    assert _listening_addresses(s.port) == {"0.0.0.0"}  # the Service reaches it (no proxy in front)
    assert _get(api, ("admin", s.env["MLFLOW_AUTH_ADMIN_PASSWORD"])) == 200
    # kubectl port-forward sends Host: localhost:<local port>
    request = urllib.request.Request(api, headers={"Host": "localhost:8080"})
    request.add_header("Authorization", "Basic " + base64.b64encode(
        f"admin:{s.env['MLFLOW_AUTH_ADMIN_PASSWORD']}".encode()).decode())  # fmt: skip
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200


def _other_address() -> str | None:
    """This machine's first non-loopback IPv4 address: what a request from another pod looks like."""
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    return next((a for a in out.split() if "." in a and not a.startswith("127.")), None)


def test_oidc_mlflow_believes_the_proxys_header_from_loopback_only(started):
    """Behind OIDC: MLflow's basic-auth app with Shipyard's authorization function. The sidecar's
    request (loopback, with X-Forwarded-For as oauth2-proxy sends it) is the person; the same header
    from another address is ignored; service accounts sign in with basic auth on the Service's port."""
    s = started["oidc"]
    assert _listening_addresses(s.port) == {"0.0.0.0"}  # the in-cluster port for service accounts
    probe = s.container["readinessProbe"]["httpGet"]
    assert _get(f"http://127.0.0.1:{s.port}{probe['path']}") == 200
    admin = Credentials("admin", s.env["MLFLOW_AUTH_ADMIN_PASSWORD"])
    AuthAdmin(f"http://127.0.0.1:{s.port}", admin).ensure_user("credit-ml@corp.example", "x" * 24)
    # a pod calls the Service's port: its Host is the Service's name with that port
    host = {"Host": "mlflow.shipyard-system.svc.cluster.local:5000"}
    api = "/api/2.0/mlflow/users/current"
    proxied = {**host, "X-Forwarded-Email": "Credit-ML@corp.example", "X-Forwarded-For": "203.0.113.9"}
    assert _get(f"http://127.0.0.1:{s.port}{api}", headers=proxied) == 200
    unknown = {**proxied, "X-Forwarded-Email": "nobody@corp.example"}
    assert _get(f"http://127.0.0.1:{s.port}{api}", headers=unknown) == 403  # never created by a header
    assert _get(f"http://127.0.0.1:{s.port}{api}", headers=host) == 401
    assert _get(f"http://127.0.0.1:{s.port}{api}", admin.auth, headers=host) == 200
    other = _other_address()
    if other is None:
        pytest.skip("this machine has no non-loopback address to play another pod")
    assert _get(f"http://{other}:{s.port}{api}", headers=proxied) == 401  # the header is anyone's there
    assert _get(f"http://{other}:{s.port}{api}", admin.auth, headers=proxied) == 200


def test_oidc_mlflow_runs_on_postgres_with_the_declared_psycopg_3_uri(
    k8s_graph,
    postgres,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    """The shipyard image has psycopg 3 only: MLflow's tracking and auth stores (their migrations, the
    admin's creation, a user and a run) work through the declared `postgresql+psycopg://` URI against a
    real PostgreSQL (tests/fixtures)."""
    s = start_declared(k8s_graph, tmp_path, postgres.new_database())
    try:
        assert s.env["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql+psycopg://")
        wait_healthy(s, tmp_path)
        url = f"http://127.0.0.1:{s.port}"
        admin = Credentials("admin", s.env["MLFLOW_AUTH_ADMIN_PASSWORD"])
        AuthAdmin(url, admin).ensure_user("credit-ml@corp.example", "x" * 24)
        proxied = {"X-Forwarded-Email": "credit-ml@corp.example", "X-Forwarded-For": "203.0.113.9"}
        assert _get(f"{url}/api/2.0/mlflow/users/current", headers=proxied) == 200
        assert _get(f"{url}/api/2.0/mlflow/experiments/search?max_results=1", admin.auth) == 200
    finally:
        _stop(s.proc)


def test_the_image_is_the_full_build_of_the_locked_mlflow_or_behind_oidc_the_shipyard_image(
    aws_graph, k8s_graph
):
    _, container, _ = _mlflow_pod(aws_graph)
    assert container["image"] == f"ghcr.io/mlflow/mlflow:v{mlflow.__version__}-full"
    assert os.path.exists(BIN / "mlflow")
    # OIDC: the shipyard image (same as the registry's): the lock pins this mlflow, with its auth extras'
    # Flask-WTF, and psycopg 3 for the postgresql+psycopg:// URI (no psycopg2 in it)
    _, oidc, secret = _mlflow_pod(k8s_graph)
    registry = _named(k8s_graph, "kubernetes:apps/v1:Deployment", "registry")["spec"]["template"]["spec"]
    assert oidc["image"] == next(c["image"] for c in registry["containers"] if c["name"] == "registry")
    lock = (REPO / "requirements.lock").read_text()
    for pin in (f"mlflow=={mlflow.__version__}", "flask-wtf==", "psycopg==", "boto3=="):
        assert re.search(rf"^{re.escape(pin)}", lock, re.M), pin
    assert not re.search(r"^psycopg2", lock, re.M)
    assert secret["backend-uri"].startswith("postgresql+psycopg://")


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return int(quantity[:-2]) * units[quantity[-2:]] if quantity[-2:] in units else int(quantity)


def test_started_mlflow_fits_in_its_memory_limit(started):
    """What the mocks cannot see: the container's real processes (server, uvicorn workers, anything
    MLflow spawns) together under the memory limit the program declares, else the kubelet OOM-kills
    the pod. MLflow 3's job runner alone would add ~1.7 GB of idle workers."""
    time.sleep(5)  # children MLflow starts after /health answers
    for name, s in started.items():
        limit = _bytes(s.container["resources"]["limits"]["memory"])
        count, rss = _group_rss(s.proc.pid)
        assert count and rss < 0.8 * limit, f"{name}: {count} processes, {rss >> 20} MiB of {limit >> 20} MiB"


def _group_rss(pgid: int) -> tuple[int, int]:
    """How many processes the group has, and their resident memory in bytes."""
    import psutil

    count = total = 0
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid:
                total += proc.memory_info().rss
                count += 1
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return count, total


# --- the registry service (AWS example: MLflow with basic auth) -----------------------------------

REPO = Path(__file__).resolve().parents[2]


def _named(graph, typ: str, name: str) -> dict[str, Any]:
    (found,) = [r.plain for r in graph.of(typ) if r.plain["metadata"]["name"] == name]
    return found


class DeclaredPod:
    """A Deployment's pod as the program declares it, run here. Its volumes become temporary
    directories (a ConfigMap's keys written into them), env values come from the Secrets the program
    wrote, `python` is this venv's python and MLflow's in-cluster URL is the started local MLflow."""

    def __init__(self, graph, deployment: str, secrets: tuple[str, ...], tmp: Path, mlflow_port: int,
                 in_cluster_mlflow, home: bool, existing: dict[str, dict[str, str]] | None = None,
                 container: str | None = None) -> None:  # fmt: skip
        """``existing``: Secrets that exist before the program runs (the spec names them), by name.
        ``container``: the one to run, by name, in a pod with sidecars."""
        self.tmp, self.home = tmp, home
        self.pod = _named(graph, "kubernetes:apps/v1:Deployment", deployment)["spec"]["template"]["spec"]
        # by name, else the server, not the oauth2-proxy sidecar (its own image; it cannot run here)
        (self.container,) = [
            c
            for c in self.pod["containers"]
            if c["name"] == container or (container is None and c["name"] != "oauth2-proxy")
        ]
        self.secrets = {n: dict(_named(graph, "kubernetes:core/v1:Secret", n)["stringData"]) for n in secrets}
        self.secrets.update(existing or {})
        self.volumes = {v["name"]: v for v in self.pod["volumes"]}
        self.mounts: dict[str, Path] = {}
        for mount in self.container["volumeMounts"]:
            local = tmp / mount["name"]
            local.mkdir()
            volume = self.volumes[mount["name"]]
            if "configMap" in volume:
                data = _named(graph, "kubernetes:core/v1:ConfigMap", volume["configMap"]["name"])["data"]
                for key, text in data.items():
                    (local / key).write_text(text)
            self.mounts[mount["mountPath"]] = local
        self.in_cluster = in_cluster_mlflow(self.container)
        self.local_mlflow = f"http://127.0.0.1:{mlflow_port}"

    def local(self, value: str) -> str:
        for path, directory in self.mounts.items():
            value = value.replace(path, str(directory))
        return value.replace(self.in_cluster, self.local_mlflow)

    def environment(self, c: dict[str, Any]) -> dict[str, str]:
        env = {"PATH": f"{BIN}:/usr/bin:/bin", **({"HOME": str(self.tmp)} if self.home else {})}
        if os.environ.get("PYTHONPATH"):  # the image has shipyard installed; here it may be the source tree
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        for var in c["env"]:
            if "value" in var:
                env[var["name"]] = self.local(var["value"])
            else:
                ref = var["valueFrom"]["secretKeyRef"]
                assert ref["name"] in self.secrets, f"{var['name']} reads a Secret the program did not write"
                env[var["name"]] = self.secrets[ref["name"]][ref["key"]]
        return env

    def argv(self, c: dict[str, Any]) -> list[str]:
        parts = [self.local(part) for part in c["command"]]
        assert parts[0] == "python"
        return [sys.executable, *parts[1:]]

    def run_init(self) -> str:
        (init,) = self.pod["initContainers"]
        for mount in init.get("volumeMounts", []):  # what it mounts, the server mounts too
            assert mount["mountPath"] in self.mounts, mount
        done = subprocess.run(self.argv(init), env=self.environment(init), cwd=self.tmp, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, f"the {init['name']} init container failed:\n{done.stdout}{done.stderr}"
        return done.stdout

    def start(self, port_flag: str, log_name: str, cwd: Path) -> Started:
        """The server container on a free port (``port_flag``'s value replaced)."""
        port = _free_port()
        server = self.argv(self.container)
        server[server.index(port_flag) + 1] = str(port)
        env = self.environment(self.container)
        log = open(self.tmp / log_name, "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(server, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                start_new_session=True)  # fmt: skip
        return Started(proc, port, self.container, env)


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except ProcessLookupError:  # it exited on its own (the failure that stopped the test says why)
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextmanager
def _registry_pod(graph, secrets: tuple[str, ...], tmp: Path, mlflow_port: int, **kw):
    """The declared registry pod run here: its init container, then the server, until /health answers."""
    command = lambda c: c["command"][c["command"].index("--mlflow") + 1]  # noqa: E731
    pod = DeclaredPod(graph, "registry", secrets, tmp, mlflow_port, command, home=True, **kw)
    said = pod.run_init()
    s = pod.start("--port", "registry.log", tmp)
    s.init_output = said  # type: ignore[attr-defined]
    try:
        wait_healthy(s, tmp, what="registry")
        yield pod, s
    finally:
        _stop(s.proc)


@pytest.fixture(scope="module")
def registry(started, aws_graph, tmp_path_factory):
    """The declared registry pod, init container then server, against the started basic-auth MLflow.

    Stand-ins: the PVC (/data) and the ConfigMap mount (/etc/shipyard) become temporary directories,
    MLflow's in-cluster URL the local MLflow, port 8000 a free port, `python` this venv's python."""
    tmp = tmp_path_factory.mktemp("registry")
    with _registry_pod(aws_graph, ("registry", "mlflow"), tmp, started["basic"].port) as (pod, s):
        assert pod.volumes["data"]["persistentVolumeClaim"]["claimName"] == "registry-data"
        s.data = pod.mounts["/data"]  # type: ignore[attr-defined]
        yield s


def test_the_registry_with_its_audit_log_in_postgres_starts_as_declared(
    started,
    components,
    aws_graph,
    postgres,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    """The Postgres variant (services.registry.audit_database_secret): its URL from the existing
    Secret, no volume. Stand-ins as above; the database is a real PostgreSQL (tests/fixtures)."""
    url = postgres.new_database()
    mlflow_secret = dict(_named(aws_graph, "kubernetes:core/v1:Secret", "mlflow")["stringData"])
    existing = {"shipyard-audit-db": {"url": url}, "mlflow": mlflow_secret}
    graph = components["registry_postgres"]
    with _registry_pod(graph, ("registry",), tmp_path, started["basic"].port, existing=existing) as (pod, s):
        assert "emptyDir" in pod.volumes["data"]
        import psycopg

        with psycopg.connect(url) as conn:  # opened at start: the table and its append-only trigger
            (triggers,) = conn.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'events'::regclass AND NOT tgisinternal"
            ).fetchone()
        assert triggers >= 1
        assert not (pod.mounts["/data"] / "audit").exists()  # no SQLite log beside it


@pytest.fixture(scope="module")
def registry_oidc(started, k8s_graph, tmp_path_factory):
    """The declared registry pod of the on-prem example (MLflow behind OIDC) against the started OIDC
    MLflow: the init container creates the registry's account and the spec's people; the server trusts
    the proxy's header (the sidecar itself is not run: a loopback client plays it)."""
    tmp = tmp_path_factory.mktemp("registry-oidc")
    with _registry_pod(k8s_graph, ("registry", "mlflow"), tmp, started["oidc"].port) as (pod, s):
        assert pod.in_cluster == "http://mlflow.shipyard-system.svc.cluster.local:5000"  # MLflow's own port
        yield s


def test_registry_behind_oidc_starts_as_declared_and_believes_its_proxy_from_loopback_only(
    registry_oidc, started
):
    s = registry_oidc
    mlflow_url = f"http://127.0.0.1:{started['oidc'].port}"
    admin = AuthAdmin(mlflow_url, Credentials("admin", started["oidc"].env["MLFLOW_AUTH_ADMIN_PASSWORD"]))
    assert admin.has_user("credit-ml@corp.example") and admin.has_user("shipyard-registry")
    whoami = f"http://127.0.0.1:{s.port}/whoami"
    proxied = {"X-Forwarded-Email": "credit-ml@corp.example", "X-Forwarded-For": "203.0.113.9"}
    assert _get(whoami, headers=proxied) == 200
    assert _get(whoami, headers={**proxied, "X-Forwarded-Email": "nobody@corp.example"}) == 401
    account = (s.env["MLFLOW_TRACKING_USERNAME"], s.env["MLFLOW_TRACKING_PASSWORD"])
    assert _get(whoami, account) == 200  # service accounts: basic auth, checked against MLflow's port
    other = _other_address()
    if other is None:
        pytest.skip("this machine has no non-loopback address to play another pod")
    assert _get(f"http://{other}:{s.port}/whoami", headers=proxied) == 401


def test_registry_starts_as_declared_and_signs_in_with_its_generated_account(registry):
    probe = registry.container["readinessProbe"]["httpGet"]
    assert _get(f"http://127.0.0.1:{registry.port}{probe['path']}") == 200
    assert registry.container["livenessProbe"]["httpGet"]["path"] == probe["path"]
    assert _listening_addresses(registry.port) == {"0.0.0.0"}  # the Service reaches it
    whoami = f"http://127.0.0.1:{registry.port}/whoami"
    assert _get(whoami) == 401
    # the init container created the account with the Secret's password: MLflow accepts it
    account = (registry.env["MLFLOW_TRACKING_USERNAME"], registry.env["MLFLOW_TRACKING_PASSWORD"])
    assert account[0] == "shipyard-registry"
    assert _get(whoami, account) == 200
    assert (registry.data / "audit" / "audit.db").exists()  # the audit log is on the volume, not in the image


def test_the_registry_image_is_built_from_the_locked_requirements_at_the_package_version(aws_graph):
    (container,) = _named(aws_graph, "kubernetes:apps/v1:Deployment", "registry")["spec"]["template"]["spec"][
        "containers"
    ]
    version = re.search(r'^version = "(.+)"$', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    # built by the stack at the package version, run by digest (test_first_up.py: from this Dockerfile)
    assert re.fullmatch(rf"[^@]+/shipyard:{re.escape(version)}@sha256:[0-9a-f]{{64}}", container["image"])
    dockerfile = (REPO / "infra/images/shipyard/Dockerfile").read_text()
    lock_python = re.search(r"--python-version (\d+\.\d+)", (REPO / "requirements.lock").read_text()).group(1)
    assert re.search(rf"^FROM python:{lock_python}-slim$", dockerfile, re.M)
    assert "pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.lock" in dockerfile
    assert re.search(r"^RUN pip wheel .*--no-build-isolation .*/tmp/src", dockerfile, re.M)  # this checkout
    assert re.search(r"^RUN pip install --no-cache-dir --no-deps .*shipyard-\*\.whl", dockerfile, re.M)
    assert re.search(rf"^USER {int(container['securityContext']['runAsUser'])}$", dockerfile, re.M)


# --- the portal (AWS example: MLflow with basic auth) ---------------------------------------------


@pytest.fixture(scope="module")
def portal(started, aws_graph, tmp_path_factory):
    """The declared portal pod, init container then Streamlit, against the started basic-auth MLflow.

    Stand-ins: the emptyDir (/data) and the ConfigMap mount (/etc/shipyard) become temporary
    directories, the image's /opt/shipyard/portal this checkout's portal/, MLflow's in-cluster URL the
    local MLflow, port 8501 a free port, `python` this venv's python. The other services' in-cluster
    URLs stay as declared: nothing answers there, which the portal reports per page, not at start."""
    tmp = tmp_path_factory.mktemp("portal")
    tracking = lambda c: {e["value"] for e in c["env"] if e["name"] == "MLFLOW_TRACKING_URI"}.pop()  # noqa: E731
    pod = DeclaredPod(aws_graph, "portal", ("portal", "mlflow"), tmp, started["basic"].port, tracking,
                      home=False)  # fmt: skip
    assert "emptyDir" in pod.volumes["data"]
    pod.mounts[pod.container["workingDir"]] = REPO / "portal"  # COPY portal/ /opt/shipyard/portal/
    pod.run_init()
    s = pod.start("--server.port", "portal.log", Path(pod.local(pod.container["workingDir"])))
    try:
        _wait_path(s, tmp, pod.container["readinessProbe"]["httpGet"]["path"], "portal")
        yield s
    finally:
        _stop(s.proc)


def _wait_path(started: Started, tmp: Path, path: str, what: str, timeout: float = 180) -> None:
    _wait_until(started, tmp, path, what, timeout, lambda url: _health(url) == "ok")


def _health(url: str) -> str:
    """The body of Streamlit's health endpoint ("ok"). Its status alone proves nothing: Streamlit answers
    any unknown path with 200 and the app's index page."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode(errors="replace")


def test_portal_starts_as_declared_with_its_generated_account(portal, started):
    probe = portal.container["readinessProbe"]["httpGet"]
    assert probe["port"] == int(
        portal.container["command"][portal.container["command"].index("--server.port") + 1]
    )
    assert _health(f"http://127.0.0.1:{portal.port}{probe['path']}") == "ok"
    assert portal.container["livenessProbe"]["httpGet"]["path"] == probe["path"]
    assert _listening_addresses(portal.port) == {"0.0.0.0"}  # the Service reaches it
    assert _get(f"http://127.0.0.1:{portal.port}/") == 200  # the app's page itself
    # the init container created the portal's account with the Secret's password: MLflow accepts it
    account = (portal.env["MLFLOW_TRACKING_USERNAME"], portal.env["MLFLOW_TRACKING_PASSWORD"])
    assert account[0] == "shipyard-portal"
    api = f"http://127.0.0.1:{started['basic'].port}/api/2.0/mlflow/experiments/search?max_results=1"
    assert _get(api, account) == 200 and _get(api, (account[0], "wrong")) == 401
    # the spec and the home it reads are the mounted ones (the image's root is not its to write)
    assert "platform:" in Path(portal.env["SHIPYARD_SPEC"]).read_text()
    assert Path(portal.env["HOME"]).is_dir()


def _render_page(port: int, headers: dict[str, str] | None = None) -> list[str]:
    """One browser session: open Streamlit's websocket, run the page's script, collect what it renders
    (the Streamlit protocol's own messages), until the script finishes. ``headers``: on the websocket's
    request (what a proxy in front adds)."""
    import asyncio

    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    async def session() -> list[str]:
        url = f"ws://127.0.0.1:{port}/_stcore/stream"
        async with websockets.connect(
            url, max_size=None, subprotocols=["streamlit"], additional_headers=headers
        ) as ws:
            rerun = BackMsg()
            rerun.rerun_script.query_string = ""
            await ws.send(rerun.SerializeToString())
            rendered = []
            while True:
                msg = ForwardMsg()
                msg.ParseFromString(await asyncio.wait_for(ws.recv(), 120))
                if msg.WhichOneof("type") == "delta":
                    rendered.append(str(msg.delta))
                elif msg.WhichOneof("type") == "script_finished":
                    return rendered

    return asyncio.run(session())


def test_started_portal_renders_its_sign_in_and_fits_in_its_memory_limit(portal):
    """A browser's session runs the page (imports the catalog, pandas, MLflow's client; reads the
    mounted spec; asks MLflow whether it has a login): the sign-in form, no error, and memory after."""
    rendered = "\n".join(_render_page(portal.port))
    assert 'body: "Sign in"' in rendered and 'label: "Password"' in rendered
    assert "exception" not in rendered and "cannot read its platform spec" not in rendered
    assert "has no login" not in rendered  # MLflow refused the anonymous call: basic auth is on
    limit = _bytes(portal.container["resources"]["limits"]["memory"])
    count, rss = _group_rss(portal.proc.pid)
    assert count and rss < 0.8 * limit, f"portal: {count} processes, {rss >> 20} MiB of {limit >> 20} MiB"


# --- the portal under OIDC (on-prem example): Streamlit on loopback behind its oauth2-proxy sidecar ---


@pytest.fixture(scope="module")
def oidc_portal(started, k8s_graph, tmp_path_factory):
    """The declared portal container of the OIDC example, against the started MLflow of that example.

    Stand-ins as for the basic portal. Not run: the oauth2-proxy sidecar (no OIDC provider here; the
    websocket request below carries the X-Forwarded-Email it would add) and the init container (it
    creates the portal's account with MLflow's admin login, which the OIDC MLflow of this branch does
    not have: MLflow's basic auth under OIDC is the oidc-mlflow branch's; this MLflow reads openly)."""
    tmp = tmp_path_factory.mktemp("portal-oidc")
    tracking = lambda c: {e["value"] for e in c["env"] if e["name"] == "MLFLOW_TRACKING_URI"}.pop()  # noqa: E731
    pod = DeclaredPod(k8s_graph, "portal", ("portal",), tmp, started["oidc"].port, tracking, home=False,
                      container="portal")  # fmt: skip
    assert [c["name"] for c in pod.pod["containers"]] == ["portal", "oauth2-proxy"]
    pod.mounts[pod.container["workingDir"]] = REPO / "portal"
    s = pod.start("--server.port", "portal.log", Path(pod.local(pod.container["workingDir"])))
    try:
        _wait_path(s, tmp, "/_stcore/health", "portal")
        yield s
    finally:
        _stop(s.proc)


def test_oidc_portal_listens_on_loopback_and_takes_the_person_from_the_proxy_header(oidc_portal):
    s = oidc_portal
    command = s.container["command"]
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert _listening_addresses(s.port) == {"127.0.0.1"}  # only the pod's own proxy reaches it
    assert s.env["SHIPYARD_PORTAL_IDENTITY"] == "proxy-header"
    probe = s.container["readinessProbe"]["exec"]["command"]
    assert probe[0] == "python"
    subprocess.run([sys.executable, *[p.replace(":8501/", f":{s.port}/") for p in probe[1:]]], check=True,
                   timeout=60)  # fmt: skip
    # what the sidecar passes: the signed-in person (a team owner of the example spec), no form
    rendered = "\n".join(_render_page(s.port, {"X-Forwarded-Email": "Credit-ML@corp.example"}))
    assert "credit-ml@corp.example" in rendered and "single sign-on" in rendered
    assert 'label: "Password"' not in rendered and "exception" not in rendered
    # without the header (a request that did not come through the proxy): nothing but the refusal
    bare = "\n".join(_render_page(s.port))
    assert "No signed-in person came with this request" in bare
    assert 'label: "Password"' not in bare and "signed in as" not in bare
