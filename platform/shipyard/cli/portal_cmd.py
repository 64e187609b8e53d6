"""``shipyard portal``: start the Streamlit portal against the configured platform."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import typer

from shipyard.cli.options import DataDirOpt
from shipyard.cli.paths import port_arg
from shipyard.local.services.portal import portal_command
from shipyard.platform.portal import portal_env
from shipyard.platform.resolver import resolve_platform


def register(app: typer.Typer) -> None:
    app.command("portal")(portal)


def portal(
    spec: Path | None = typer.Option(None, "--spec", help="platform spec (default: $SHIPYARD_SPEC)"),
    data_dir: Path | None = DataDirOpt,
    port: int | None = typer.Option(None, "--port", help="default: the spec's local.ports.portal"),
    mlflow: str | None = typer.Option(None, "--mlflow", help="MLflow URL (default: from the spec)"),
    prometheus: str | None = typer.Option(
        None, "--prometheus", help="Prometheus URL (default: from the spec)"
    ),
    prefix: str | None = typer.Option(None, "--prefix", help="only projects whose name starts with this"),
    print_env: bool = typer.Option(False, "--print-env", help="print the portal's environment and exit"),
) -> None:
    """Start the portal for managers and model risk auditors (Streamlit)."""
    port_arg(port)
    platform = resolve_platform(spec, data_dir, overrides={"mlflow": mlflow, "prometheus": prometheus})
    env = portal_env(platform, prefix)
    if print_env:
        for key, value in sorted(env.items()):
            typer.echo(f"{key}={value}")
        return
    local = platform.spec.local
    port = port or local.ports.portal
    cmd = portal_command(port, local.host)
    typer.echo(f"portal: http://{local.host}:{port}  (MLflow {platform.endpoints.mlflow})")
    raise typer.Exit(subprocess.call(cmd, env={**os.environ, **env}))
