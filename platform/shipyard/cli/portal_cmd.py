"""``shipyard portal``: start the Streamlit portal against the configured platform."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from shipyard.catalog.config import portal_env, resolve_platform
from shipyard.errors import UserError

PORTAL_DIR = Path(__file__).resolve().parents[3] / "portal"


def register(app: typer.Typer) -> None:
    app.command("portal")(portal)


def portal_command(port: int, host: str) -> list[str]:
    home = PORTAL_DIR / "Home.py"
    if not home.is_file():
        raise UserError(f"the portal is not at {home}", "run shipyard from its source checkout (./dev setup)")
    return [
        sys.executable, "-m", "streamlit", "run", str(home),
        "--server.port", str(port), "--server.address", host, "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",  # no "Deploy" or developer menu for the portal's users
    ]  # fmt: skip


def portal(
    spec: Path | None = typer.Option(None, "--spec", help="platform spec (default: $SHIPYARD_SPEC)"),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="embedded platform data (default: $SHIPYARD_HOME)"
    ),
    port: int | None = typer.Option(None, "--port", help="default: the spec's local.ports.portal"),
    mlflow: str | None = typer.Option(None, "--mlflow", help="MLflow URL (default: from the spec)"),
    prometheus: str | None = typer.Option(
        None, "--prometheus", help="Prometheus URL (default: from the spec)"
    ),
    prefix: str | None = typer.Option(None, "--prefix", help="only projects whose name starts with this"),
    print_env: bool = typer.Option(False, "--print-env", help="print the portal's environment and exit"),
) -> None:
    """Start the portal for managers and model risk auditors (Streamlit)."""
    platform, path, endpoints, home = resolve_platform(spec, data_dir, mlflow, prometheus)
    env = portal_env(path, endpoints, home, prefix)
    if print_env:
        for key, value in sorted(env.items()):
            typer.echo(f"{key}={value}")
        return
    port = port or platform.local.ports.portal
    cmd = portal_command(port, platform.local.host)
    typer.echo(f"portal: http://{platform.local.host}:{port}  (MLflow {endpoints.mlflow})")
    raise typer.Exit(subprocess.call(cmd, env={**os.environ, **env}))
