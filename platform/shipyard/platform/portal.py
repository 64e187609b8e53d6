"""The portal process: the command that starts it and the environment it finds its platform in.

``shipyard up``, ``shipyard portal`` and the cluster's Deployment (infra/components/portal.py) start the
portal with :func:`portal_command` and :func:`portal_env`; the portal reads its platform back with
:func:`portal_settings` (through the one resolver when started by hand).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shipyard import service_calls
from shipyard.platform.endpoints import Endpoints, default_data_dir
from shipyard.platform.env import (
    ENV_DVC_ROOT,
    ENV_GIT_ROOT,
    ENV_HOME,
    ENV_MLFLOW,
    ENV_PREFIX,
    ENV_SPEC,
    ENV_TTL,
)
from shipyard.platform.layout import DataLayout
from shipyard.platform.resolver import Platform, resolve_platform, spec_path_for
from shipyard.platform.state import read_state
from shipyard.spec import PlatformSpec, load_spec

PORTAL_PORT = 8501  # Streamlit's default: the portal's port in its container (locally local.ports.portal)
PORTAL_HEALTH = "/_stcore/health"  # Streamlit's health endpoint (probes, `up`'s wait, the load balancer)


def portal_command(python: str, home: str, port: int, host: str) -> list[str]:
    """``streamlit run portal/Home.py`` on ``host:port``, headless: the one command ``shipyard up``,
    ``shipyard portal`` and the cluster's Deployment (infra/components/portal.py) all run."""
    return [
        python, "-m", "streamlit", "run", home,
        "--server.port", str(port), "--server.address", host, "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",  # no "Deploy" or developer menu for the portal's users
    ]  # fmt: skip


def portal_env(platform: Platform, prefix: str | None = None) -> dict[str, str]:
    """The environment the portal process gets; :func:`portal_platform` reads it back."""
    from shipyard.service_calls import mlflow_client_env

    # the portal's MLflow calls are bounded like the CLI's: a stopped MLflow is named, not waited for
    env = {**mlflow_client_env(), **platform.endpoints.to_env()}
    if platform.spec_path:
        env[ENV_SPEC] = str(platform.spec_path.resolve())
    if platform.endpoints.dvc_remote_root:
        env[ENV_DVC_ROOT] = platform.endpoints.dvc_remote_root
    env[ENV_HOME] = str(platform.data_dir)
    if platform.git_root:
        env[ENV_GIT_ROOT] = str(platform.git_root)
    if prefix:
        env[ENV_PREFIX] = prefix
    return env


@dataclass(frozen=True)
class PortalSettings:
    """What the portal shows: the platform, and which projects (``prefix``) for how long cached."""

    platform: Platform
    git_root: str | None = None
    prefix: str | None = None
    ttl_s: float = 30.0

    @property
    def spec(self) -> PlatformSpec:
        assert self.platform.spec is not None  # portal_platform always loads one
        return self.platform.spec

    @property
    def endpoints(self) -> Endpoints:
        return self.platform.endpoints

    @property
    def dvc_remote_root(self) -> str | None:
        return self.platform.endpoints.dvc_remote_root

    @property
    def spec_path(self) -> Path | None:
        return self.platform.spec_path


def portal_settings(environ: Mapping[str, str] | None = None) -> PortalSettings:
    """The portal's platform from its environment. ``shipyard portal`` and ``up`` pass the whole set of
    endpoints (:func:`portal_env`): those are used as they are. Started by hand (``streamlit run``,
    no ``MLFLOW_TRACKING_URI``), it resolves the spec and data dir like any command."""
    e = os.environ if environ is None else environ
    if not e.get(ENV_MLFLOW):
        platform = resolve_platform(e.get(ENV_SPEC), e.get(ENV_HOME), environ=e)
    else:
        path = spec_path_for(None, e.get(ENV_HOME), e)
        spec = load_spec(path)
        home = default_data_dir(e.get(ENV_HOME), spec)
        endpoints = Endpoints.from_env(e)
        recorded = read_state(DataLayout(home)).endpoints
        if endpoints.label_studio and not endpoints.label_studio_token and recorded.get("label_studio_token"):
            endpoints = endpoints.replace(label_studio_token=recorded["label_studio_token"])  # made by `up`
        if recorded.get("mlflow") == endpoints.mlflow and recorded.get("mlflow_artifacts"):
            endpoints = endpoints.replace(mlflow_artifacts=recorded["mlflow_artifacts"])  # storage costs
        platform = Platform(spec=spec, spec_path=path.resolve(), endpoints=endpoints, data_dir=home)
        service_calls.use_spec(spec)  # the portal's calls: the spec's timeout policy too
    if e.get(ENV_DVC_ROOT):
        platform = platform.with_endpoints(dvc_remote_root=e[ENV_DVC_ROOT])
    return PortalSettings(
        platform=platform,
        git_root=e.get(ENV_GIT_ROOT) or None,
        prefix=e.get(ENV_PREFIX) or None,
        ttl_s=float(e.get(ENV_TTL) or 30),
    )
