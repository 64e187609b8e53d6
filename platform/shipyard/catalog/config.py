"""What the portal is pointed at: the spec, the endpoints and the data dir, passed by environment.

``shipyard portal`` resolves them once (spec + data dir -> endpoints) and starts Streamlit with
:func:`portal_env`; the pages read them back with :func:`PortalConfig.from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shipyard.endpoints import Endpoints, local_endpoints
from shipyard.spec import PlatformSpec, load_spec, resolve_spec_path
from shipyard.spec.model import Environment

ENV_SPEC = "SHIPYARD_SPEC"
ENV_HOME = "SHIPYARD_HOME"
ENV_DVC_ROOT = "SHIPYARD_DVC_REMOTE_ROOT"
ENV_GIT_ROOT = "SHIPYARD_GIT_ROOT"
ENV_PREFIX = "SHIPYARD_PORTAL_PREFIX"  # only projects/models whose names start with it
ENV_TTL = "SHIPYARD_PORTAL_TTL"


@dataclass(frozen=True)
class PortalConfig:
    spec: PlatformSpec
    spec_path: Path
    endpoints: Endpoints
    dvc_remote_root: str | None = None
    git_root: str | None = None
    prefix: str | None = None
    ttl_s: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PortalConfig:
        e = os.environ if environ is None else environ
        path = resolve_spec_path(e.get(ENV_SPEC))
        spec = load_spec(path)
        endpoints = Endpoints.from_env(e)
        home = Path(e.get(ENV_HOME) or Path.home() / ".shipyard")
        if not endpoints.mlflow:  # started by hand (`streamlit run portal/Home.py`): derive from the spec
            endpoints = platform_endpoints(spec, home)
        if endpoints.label_studio and not endpoints.label_studio_token:
            running = embedded_endpoints(spec, home)  # `shipyard up` writes the token once it has one
            if running and running.label_studio_token:
                endpoints = endpoints.replace(label_studio_token=running.label_studio_token)
        return cls(
            spec=spec,
            spec_path=path,
            endpoints=endpoints,
            dvc_remote_root=e.get(ENV_DVC_ROOT) or endpoints.dvc_remote_root,
            git_root=e.get(ENV_GIT_ROOT),
            prefix=e.get(ENV_PREFIX) or None,
            ttl_s=float(e.get(ENV_TTL) or 30),
        )


def embedded_endpoints(spec: PlatformSpec, data_dir: Path) -> Endpoints | None:
    """What ``shipyard up`` recorded for the embedded platform in ``data_dir`` (None if nothing)."""
    if spec.platform.environment != Environment.local:
        return None
    try:
        from shipyard.local.runtime import load_endpoints
    except ImportError:
        return None
    try:
        return load_endpoints(data_dir, require_running=False)
    except Exception:  # no state yet, or a state file from another version: derive from the spec
        return None


def platform_endpoints(spec: PlatformSpec, data_dir: Path) -> Endpoints:
    """Where the services of ``spec`` are: derived for the embedded platform, from the spec's URLs else."""
    if spec.platform.environment == Environment.local:
        return embedded_endpoints(spec, data_dir) or local_endpoints(spec, data_dir)
    s = spec.services
    return Endpoints(
        platform=spec.platform.environment.value,
        mlflow=s.mlflow.url if s.mlflow.enabled else None,
        dvc_endpoint_url=s.dvc.endpoint_url,
        dvc_remote_root=f"s3://{s.dvc.bucket}" if s.dvc.enabled and s.dvc.bucket else None,
        label_studio=s.label_studio.url if s.label_studio.enabled else None,
        prometheus=s.prometheus.url if s.prometheus.enabled else None,
        pushgateway=s.prometheus.pushgateway_url if s.prometheus.enabled else None,
        grafana=s.grafana.url if s.grafana.enabled else None,
        portal=s.portal.url,
    )


def portal_env(
    spec_path: Path,
    endpoints: Endpoints,
    data_dir: Path | None = None,
    prefix: str | None = None,
) -> dict[str, str]:
    """The environment the portal process gets."""
    from shipyard.service_calls import mlflow_client_env

    # the portal's MLflow calls are bounded like the CLI's: a stopped MLflow is named, not waited for
    env = {ENV_SPEC: str(spec_path.resolve()), **mlflow_client_env(), **endpoints.to_env()}
    if endpoints.dvc_remote_root:
        env[ENV_DVC_ROOT] = endpoints.dvc_remote_root
    if data_dir:
        env[ENV_HOME] = str(data_dir)
        env[ENV_GIT_ROOT] = str(data_dir / "git")
    if prefix:
        env[ENV_PREFIX] = prefix
    return env


def resolve_platform(
    spec_file: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    mlflow: str | None = None,
    prometheus: str | None = None,
) -> tuple[PlatformSpec, Path, Endpoints, Path]:
    """Spec + data dir -> endpoints, for CLI commands. Explicit URLs win over the environment
    (``MLFLOW_TRACKING_URI``, ``SHIPYARD_PROMETHEUS_URL``), which wins over what the spec derives."""
    from shipyard.endpoints import default_data_dir

    path = resolve_spec_path(spec_file)
    spec = load_spec(path)
    home = default_data_dir(data_dir, spec)
    endpoints = platform_endpoints(spec, home)
    env = Endpoints.from_env()
    overrides = {
        "mlflow": mlflow or env.mlflow,
        "prometheus": prometheus or env.prometheus,
        "pushgateway": env.pushgateway,
        "label_studio": env.label_studio,
        "label_studio_token": env.label_studio_token,
        "grafana": env.grafana,
        "grafana_token": env.grafana_token,
    }
    endpoints = endpoints.replace(**{k: v for k, v in overrides.items() if v})
    return spec, path, endpoints, home
