"""``shipyard demo``: the whole journey on the embedded platform, in one command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from shipyard.cli.options import DataDirOpt

console = Console(width=None if sys.stdout.isatty() else 160)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    spec: Path | None = typer.Option(None, "--spec", help="platform spec (default: ./platform.yaml)"),
    data_dir: Path | None = DataDirOpt,
    as_json: bool = typer.Option(False, "--json", help="also print the outcome as JSON at the end"),
) -> None:
    """Start the platform, create a project, push it (CI gates and registers a model), promote it,
    push a worse model that the gate stops. Leaves the platform running; re-running resumes."""
    from shipyard.cli.up_cmd import hide_secrets
    from shipyard.local.demo import DEMO_SLUG, run_demo

    out = run_demo(spec, data_dir, echo=lambda line: console.print(line, highlight=False, soft_wrap=True))
    ep = out.endpoints
    console.print()
    console.print("[bold green]Demo complete.[/] What happened:", highlight=False)
    console.print(
        f"  - project [bold]{DEMO_SLUG}[/] (team demo) in {out.project_dir}\n"
        f"  - first push: CI {out.good_ci['status']} in {out.good_ci['duration_s']}s, model version "
        f"{out.champion_version} registered, gated and promoted to 'champion'\n"
        f"  - second push: CI {out.worse_ci['status']} at step '{out.worse_ci['failed_step']}'; "
        f"nothing registered ({out.versions} version(s) in total)",
        highlight=False,
    )
    console.print("Where to look:", highlight=False)
    if ep.portal:
        console.print(f"  portal       {ep.portal}", highlight=False)
    console.print(f"  MLflow       {ep.mlflow}", highlight=False)
    console.print(
        f"  CI runs      shipyard ci list --project {DEMO_SLUG} --data-dir {out.data_dir}", highlight=False
    )
    console.print(
        f"  costs        shipyard cost report --by project --data-dir {out.data_dir}", highlight=False
    )
    console.print(f"  stop it      shipyard down --data-dir {out.data_dir}   (data stays)", highlight=False)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "project": DEMO_SLUG,
                    "project_dir": str(out.project_dir),
                    "data_dir": str(out.data_dir),
                    "good_ci": out.good_ci,
                    "worse_ci": out.worse_ci,
                    "champion_version": out.champion_version,
                    "versions": out.versions,
                    "step_seconds": out.seconds,
                    "endpoints": hide_secrets(ep.as_dict()),
                }
            )
        )
