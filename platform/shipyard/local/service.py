"""What one embedded service is: how to prepare, start and health-check it.

A service module under :mod:`shipyard.local.services` returns a list of :class:`Service` from
``services(ctx)``; the runtime starts them all in parallel and waits for each ``healthy()``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.clients.probes import http_ok
from shipyard.local.label_studio_admin import CREDENTIALS_FILE, credentials
from shipyard.platform.endpoints import Endpoints, local_endpoints
from shipyard.platform.env import ENV_HOME, ENV_MLFLOW_TELEMETRY_OFF, ENV_SPEC
from shipyard.platform.layout import DataLayout
from shipyard.spec.model import PlatformSpec

Report = Callable[[str], None]  # prints one progress line for this service


@dataclass(frozen=True)
class Context:
    spec: PlatformSpec
    spec_path: Path | None
    layout: DataLayout

    @property
    def host(self) -> str:
        return self.spec.local.host

    @property
    def python(self) -> str:
        """The Python of Shipyard's own environment (mlflow, dvc, the shipyard CLI)."""
        return sys.executable

    @property
    def venv_bin(self) -> Path:
        return Path(sys.executable).parent

    def endpoints(self, create_credentials: bool = False) -> Endpoints:
        """The platform's endpoints, with the Label Studio token when Label Studio runs (its
        credentials are made on first ``up``: only then ``create_credentials``; status creates nothing)."""
        endpoints = local_endpoints(self.spec, self.layout.root)
        if endpoints.label_studio and (
            create_credentials or self.layout.label_studio.joinpath(CREDENTIALS_FILE).exists()
        ):
            endpoints = endpoints.replace(label_studio_token=credentials(self.layout.label_studio)["token"])
        return endpoints

    def base_env(self) -> dict[str, str]:
        """Every service sees the data dir and spec, to find the others (``platform_from_data_dir``)."""
        from shipyard.service_calls import mlflow_client_env

        env = {
            **mlflow_client_env(),
            **os.environ,
            ENV_HOME: str(self.layout.root),
            ENV_MLFLOW_TELEMETRY_OFF: "true",
        }
        if self.spec_path:
            env[ENV_SPEC] = str(self.spec_path)
        return env


@dataclass
class Binary:
    path: str  # a name looked up on PATH, or an absolute path
    fix: str


@dataclass
class Service:
    """One process ``up`` starts.

    ``command`` is built after ``prepare`` ran (which may create a venv or write a config).
    ``health_url`` answering 2xx means healthy, unless ``health`` is given.
    """

    name: str
    command: Callable[[], list[str]]
    port: int | None = None
    url: str | None = None
    health_url: str | None = None
    health: Callable[[], bool] | None = None
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    binaries: list[Binary] = field(default_factory=list)
    prepare: Callable[[Report], None] | None = None
    after_start: Callable[[Report], None] | None = None
    start_timeout: float = 300  # generous: a loaded 2-core machine starts MLflow in ~100 s

    def healthy(self) -> bool:
        if self.health is not None:
            return self.health()
        return http_ok(self.health_url) if self.health_url else True
