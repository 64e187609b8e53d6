"""Each platform service's health, as the Platform page shows it: every service `shipyard up` runs
(MLflow, Prometheus and its Pushgateway, Label Studio, the registry service, the package index, the
portal, the CI runner and its git remotes) and those a cluster adds (Grafana, an S3 DVC remote)."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from shipyard.ci.queue import runner_serving
from shipyard.clients.probes import probe
from shipyard.package_index import DISTRIBUTION
from shipyard.platform.endpoints import Endpoints
from shipyard.platform.portal import PORTAL_HEALTH
from shipyard.templates.repo import TEMPLATE_REPO


@dataclass(frozen=True)
class ServiceHealth:
    service: str
    url: str
    status: str  # up | down | not configured
    detail: str
    latency_ms: float | None = None


def _http(service: str, base: str | None, path: str, token: str | None = None) -> ServiceHealth:
    if not base:
        return ServiceHealth(service, "", "not configured", "not part of this platform")
    answer = probe(base.rstrip("/") + path, timeout=3, token=token)
    if answer.status is None:
        return ServiceHealth(service, base, "down", f"no answer ({answer.error})")
    if answer.ok:
        return ServiceHealth(service, base, "up", f"{path} answered {answer.status}", answer.ms)
    return ServiceHealth(service, base, "down", f"{path} answered HTTP {answer.status}", answer.ms)


def _dvc(root: str | None, endpoint_url: str | None) -> ServiceHealth:
    if not root:
        return ServiceHealth("DVC remote", "", "not configured", "no DVC remote root known to the portal")
    if root.startswith("s3://"):
        if endpoint_url:
            return _http("DVC remote", endpoint_url, "/")
        return ServiceHealth("DVC remote", root, "up", "S3 remote (checked by the cloud provider)")
    path = Path(root)
    if path.is_dir():
        teams = sum(1 for _ in path.iterdir())
        return ServiceHealth("DVC remote", root, "up", f"directory with {teams} team folder(s)")
    return ServiceHealth("DVC remote", root, "down", "directory does not exist (run `shipyard up`)")


def _git(git_root: str | None) -> ServiceHealth:
    exe = shutil.which("git")
    if not exe:
        return ServiceHealth("git / CI runner", git_root or "", "down", "git is not installed")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    if not git_root:
        return ServiceHealth("git / CI runner", "", "not configured", f"{version}; no git remote root known")
    path = Path(git_root)
    if not path.is_dir():
        return ServiceHealth("git / CI runner", git_root, "down", "git remote directory does not exist")
    repos = sum(1 for p in path.glob("**/*.git") if p.is_dir() and p.name != TEMPLATE_REPO)
    return ServiceHealth("git / CI runner", git_root, "up", f"{version}; {repos} project repo(s)")


def _runner(git_root: str | None) -> ServiceHealth:
    """The embedded CI runner: its heartbeat in the data dir's ``ci/`` (next to ``git/``)."""
    if not git_root:
        return ServiceHealth("CI runner", "", "not configured", "no embedded git remote known to the portal")
    ci_dir = Path(git_root).parent / "ci"
    if runner_serving(ci_dir):
        return ServiceHealth("CI runner", str(ci_dir), "up", "heartbeat fresh, taking pushes")
    return ServiceHealth("CI runner", str(ci_dir), "down", "no fresh heartbeat (start it: shipyard up)")


def service_health(
    endpoints: Endpoints, dvc_remote_root: str | None = None, git_root: str | None = None
) -> list[ServiceHealth]:
    checks = [
        lambda: _http("MLflow", endpoints.mlflow, "/health"),
        lambda: _dvc(dvc_remote_root or endpoints.dvc_remote_root, endpoints.dvc_endpoint_url),
        lambda: _http("Label Studio", endpoints.label_studio, "/health"),
        lambda: _http("Prometheus", endpoints.prometheus, "/-/healthy"),
        lambda: _http("Pushgateway", endpoints.pushgateway, "/-/healthy"),
        lambda: _http("Grafana", endpoints.grafana, "/api/health", endpoints.grafana_token),
        lambda: _http("Registry service", endpoints.registry, "/health"),
        lambda: _http("Package index", endpoints.package_index, f"/{DISTRIBUTION}/"),
        lambda: _http("Portal", endpoints.portal, PORTAL_HEALTH),
        lambda: _git(git_root),
        lambda: _runner(git_root),
    ]
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        return list(pool.map(lambda check: check(), checks))
