"""What the `model` commands share: MLflow's URL checked once, the registry service's URL and the
signed-in identity a call acts as, a version argument read strictly."""

from __future__ import annotations

from pathlib import Path

import typer

from shipyard.clients.probes import require_reachable
from shipyard.platform.resolver import Platform, resolve_platform
from shipyard.service_calls import check_url

MlflowOpt = typer.Option(None, "--mlflow", help="MLflow URL (default: $MLFLOW_TRACKING_URI, else the spec's)")


def _platform(spec: Path | None, data_dir: Path | None, mlflow: str | None) -> Platform:
    """The platform, with MLflow's URL checked and asked once (fails fast when it is down)."""
    if mlflow:
        check_url(mlflow, "--mlflow", "pass MLflow's URL, e.g. --mlflow http://127.0.0.1:5000")
    platform = resolve_platform(spec, data_dir, overrides={"mlflow": mlflow})
    uri = platform.endpoints.mlflow
    if not uri:
        from shipyard.errors import UserError

        raise UserError("the platform runs no MLflow", "set services.mlflow.enabled: true in the spec")
    require_reachable("MLflow", check_url(uri, "MLflow URL", "fix services.mlflow.url"))
    return platform


def _registry(spec: Path | None, data_dir: Path | None, mlflow: str | None):
    """The platform, the registry service's URL and the signed-in identity the call acts as."""
    from shipyard.identity.session import require_current
    from shipyard.registry.client import registry_url

    platform = _platform(spec, data_dir, mlflow)
    creds = require_current(platform.data_dir)
    return platform, registry_url(platform.endpoints.registry), creds


def _version(text: str) -> int:
    """Plain ASCII digits only: ``int`` would take ``01``, ``+1`` and ``١`` as version 1."""
    from shipyard.registry.versions import parse_version

    return parse_version(text)
