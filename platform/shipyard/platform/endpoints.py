"""Where a platform's services are reached, and the environment variables that carry it.

The environment variables (named in :mod:`shipyard.platform.env`) are the contract between the
platform (the embedded CI runner, or a CI provider's variables on the Kubernetes platform) and a
generated project: a project reads nothing else to find MLflow, its DVC remote, Label Studio, the
pushgateway or Grafana.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.errors import UserError
from shipyard.platform.env import (
    ENV_DVC_ENDPOINT,
    ENV_DVC_REMOTE,
    ENV_GRAFANA_TOKEN,
    ENV_GRAFANA_URL,
    ENV_HOME,
    ENV_LABEL_STUDIO_KEY,
    ENV_LABEL_STUDIO_URL,
    ENV_MLFLOW,
    ENV_MLFLOW_PASSWORD,
    ENV_MLFLOW_USERNAME,
    ENV_PACKAGE_INDEX,
    ENV_PLATFORM,
    ENV_PORTAL,
    ENV_PROMETHEUS,
    ENV_PUSHGATEWAY,
    ENV_REGISTRY,
)

if TYPE_CHECKING:  # the CLI reads default_data_dir at every start: no pydantic for that
    from shipyard.spec.model import PlatformSpec


@dataclass(frozen=True)
class Endpoints:
    """How clients reach one platform. ``None`` means the service is not part of this platform."""

    platform: str
    mlflow: str | None = None
    mlflow_username: str | None = None
    mlflow_password: str | None = field(default=None, repr=False)
    mlflow_artifacts: str | None = None  # MLflow's artifacts directory, when it is on this machine
    dvc_remote_root: str | None = None  # team/project prefixes go below it
    dvc_endpoint_url: str | None = None
    label_studio: str | None = None
    label_studio_token: str | None = None
    prometheus: str | None = None
    pushgateway: str | None = None
    grafana: str | None = None
    grafana_token: str | None = None
    portal: str | None = None
    package_index: str | None = None  # a PEP 503 simple index URL, ending in /
    registry: str | None = None

    def dvc_remote(self, team: str, project: str) -> str | None:
        """The DVC remote of one project: one prefix per team and project under the root."""
        if not self.dvc_remote_root:
            return None
        return f"{self.dvc_remote_root.rstrip('/')}/{team}/{project}"

    def to_env(self, team: str | None = None, project: str | None = None) -> dict[str, str]:
        """The environment a job of ``team``/``project`` gets (only what is known)."""
        env = {
            ENV_PLATFORM: self.platform,
            ENV_MLFLOW: self.mlflow,
            ENV_MLFLOW_USERNAME: self.mlflow_username,
            ENV_MLFLOW_PASSWORD: self.mlflow_password,
            ENV_DVC_ENDPOINT: self.dvc_endpoint_url,
            ENV_LABEL_STUDIO_URL: self.label_studio,
            ENV_LABEL_STUDIO_KEY: self.label_studio_token,
            ENV_PROMETHEUS: self.prometheus,
            ENV_PUSHGATEWAY: self.pushgateway,
            ENV_GRAFANA_URL: self.grafana,
            ENV_GRAFANA_TOKEN: self.grafana_token,
            ENV_PORTAL: self.portal,
            ENV_PACKAGE_INDEX: self.package_index,
            ENV_REGISTRY: self.registry,
        }
        if team and project:
            env[ENV_DVC_REMOTE] = self.dvc_remote(team, project)
        return {k: v for k, v in env.items() if v}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Endpoints:
        e = os.environ if environ is None else environ
        return cls(
            platform=e.get(ENV_PLATFORM, "local"),
            mlflow=e.get(ENV_MLFLOW),
            mlflow_username=e.get(ENV_MLFLOW_USERNAME),
            mlflow_password=e.get(ENV_MLFLOW_PASSWORD),
            dvc_endpoint_url=e.get(ENV_DVC_ENDPOINT),
            label_studio=e.get(ENV_LABEL_STUDIO_URL),
            label_studio_token=e.get(ENV_LABEL_STUDIO_KEY),
            prometheus=e.get(ENV_PROMETHEUS),
            pushgateway=e.get(ENV_PUSHGATEWAY),
            grafana=e.get(ENV_GRAFANA_URL),
            grafana_token=e.get(ENV_GRAFANA_TOKEN),
            portal=e.get(ENV_PORTAL),
            package_index=e.get(ENV_PACKAGE_INDEX),
            registry=e.get(ENV_REGISTRY),
        )

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)

    def replace(self, **changes: str | None) -> Endpoints:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Endpoints(**values)  # type: ignore[arg-type]


def local_endpoints(spec: PlatformSpec, data_dir: Path) -> Endpoints:
    """Endpoints of the embedded platform described by ``spec`` with its data in ``data_dir``.

    The Label Studio token is not known from the spec alone; the local runtime fills it in.
    """
    host, ports, local = spec.local.host, spec.local.ports, spec.local
    url = lambda port: f"http://{host}:{port}"  # noqa: E731
    mlflow_on = spec.services.mlflow.enabled
    dvc = spec.services.dvc
    dvc_root, dvc_endpoint = (str(data_dir / "dvc-remote"), None) if dvc.enabled else (None, None)
    if dvc.enabled and dvc.remote == "s3":  # an S3-compatible endpoint (e.g. MinIO), not a directory
        if not dvc.bucket:
            raise UserError(
                "services.dvc.remote is s3 but services.dvc.bucket is not set",
                "set services.dvc.bucket (and endpoint_url for an S3-compatible store), or remote: local",
            )
        dvc_root, dvc_endpoint = f"s3://{dvc.bucket}", dvc.endpoint_url
    return Endpoints(
        platform="local",
        mlflow=url(ports.mlflow) if mlflow_on else None,
        mlflow_artifacts=str(data_dir / "mlflow" / "artifacts") if mlflow_on else None,
        dvc_remote_root=dvc_root,
        dvc_endpoint_url=dvc_endpoint,
        label_studio=url(ports.label_studio)
        if local.label_studio and spec.services.label_studio.enabled
        else None,
        prometheus=url(ports.prometheus) if local.prometheus and spec.services.prometheus.enabled else None,
        pushgateway=url(ports.pushgateway) if local.prometheus and spec.services.prometheus.enabled else None,
        grafana=spec.services.grafana.url,  # no Grafana server runs on one machine
        portal=url(ports.portal) if local.portal and spec.services.portal.enabled else None,
        package_index=f"{url(ports.package_index)}/simple/" if spec.services.package_index.enabled else None,
        registry=url(ports.registry) if spec.services.mlflow.enabled else None,
    )


def cluster_endpoints(spec: PlatformSpec) -> Endpoints:
    """Endpoints of a cluster platform as its spec states them (stack outputs know more: the
    per-team DVC buckets, the URLs the spec leaves empty)."""
    s = spec.services
    on = lambda svc, value: value if svc.enabled else None  # noqa: E731
    prefix_root = s.dvc.bucket and s.dvc.layout == "prefix_per_team"
    return Endpoints(
        platform=spec.platform.environment.value,
        mlflow=on(s.mlflow, s.mlflow.url),
        dvc_remote_root=f"s3://{s.dvc.bucket}" if s.dvc.enabled and prefix_root else None,
        dvc_endpoint_url=on(s.dvc, s.dvc.endpoint_url),
        label_studio=on(s.label_studio, s.label_studio.url),
        prometheus=on(s.prometheus, s.prometheus.url),
        pushgateway=on(s.prometheus, s.prometheus.pushgateway_url),
        grafana=on(s.grafana, s.grafana.url),
        portal=on(s.portal, s.portal.url),
        package_index=on(s.package_index, s.package_index.url),
    )


def default_data_dir(
    explicit: str | os.PathLike[str] | None = None, spec: PlatformSpec | None = None
) -> Path:
    """``--data-dir``, else ``$SHIPYARD_HOME``, else the spec's ``local.data_dir``, else ``~/.shipyard``."""
    chosen = explicit or os.environ.get(ENV_HOME) or (spec.local.data_dir if spec else None)
    return Path(chosen or Path.home() / ".shipyard").expanduser().resolve()


def named_data_dir(
    data_dir: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The data dir a command was given (``--data-dir``, else ``$SHIPYARD_HOME``); None when neither."""
    env = os.environ if environ is None else environ
    named = data_dir or env.get(ENV_HOME)
    return Path(named).expanduser().resolve() if named else None
