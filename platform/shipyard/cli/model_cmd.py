"""``shipyard model list|approve|promote``: the model registry as governance sees it."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shipyard import governance
from shipyard.catalog import inventory, load_snapshot
from shipyard.cli.options import DataDirOpt, SpecOpt
from shipyard.resolver import Platform, resolve_platform
from shipyard.service_calls import check_url, require_reachable

console = Console()

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


def register(app: typer.Typer) -> None:
    model_app = typer.Typer(help="List, approve and promote model versions.", no_args_is_help=True)
    model_app.command("list")(list_versions)
    model_app.command("approve")(approve)
    model_app.command("promote")(promote)
    app.add_typer(model_app, name="model")


def list_versions(
    project: str | None = typer.Option(None, "--project", help="only this project's models"),
    prefix: str | None = typer.Option(None, "--prefix", help="only models whose name starts with this"),
    as_json: bool = typer.Option(False, "--json", help="print JSON (with lineage)"),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    mlflow: str | None = MlflowOpt,
) -> None:
    """Every model version with aliases, gate, approvals and lineage."""
    platform = _platform(spec, data_dir, mlflow)
    rows = inventory(platform.spec, load_snapshot(platform.endpoints, prefix, refresh=True))
    if project:
        rows = [r for r in rows if r.project == project]
    if as_json:
        typer.echo(json.dumps([{**asdict(r), "lineage": r.lineage} for r in rows], indent=2))
        return
    if not rows:
        console.print("no model versions yet (a passing `git push` of a project registers one)")
        return
    table = Table(header_style="bold")
    for col in ("model", "version", "aliases", "gate", "approvals", "project", "lineage"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.model, str(r.version), r.aliases, r.gate, r.approvals, r.project, r.lineage)
    console.print(table)


def approve(
    model: str = typer.Argument(..., help="registered model name"),
    version: int = typer.Argument(..., help="version number"),
    by: str = typer.Option(..., "--by", help="approver's email"),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    mlflow: str | None = MlflowOpt,
) -> None:
    """Record an approval (tags shipyard.approval.by/at) on a version that passed the gate."""
    platform = _platform(spec, data_dir, mlflow)
    state = governance.approve(platform.spec, platform.endpoints, model, version, by)
    tier = platform.spec.governance.risk_tiers.get(state.risk_tier)  # type: ignore[call-overload]
    needed = tier.min_approvers if tier and tier.approval_required else 0
    console.print(
        f"[green]approved[/] {model} v{version} by {by} "
        f"({len(state.approved_by)} of {needed} required: {', '.join(state.approved_by)})"
    )


def promote(
    model: str = typer.Argument(..., help="registered model name"),
    version: int = typer.Argument(..., help="version number"),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    mlflow: str | None = MlflowOpt,
) -> None:
    """Make a version champion: only past the gate and with the approvals its risk tier needs."""
    platform = _platform(spec, data_dir, mlflow)
    previous = governance.promote(platform.spec, platform.endpoints, model, version)
    was = f" (was v{previous})" if previous is not None else ""
    console.print(f"[green]promoted[/] {model} v{version} to champion{was}")
