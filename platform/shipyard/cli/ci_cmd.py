"""``shipyard ci list | logs | start | finish``: CI runs, recorded in MLflow.

``start``/``finish`` are for CI providers (GitHub, GitLab): the template's pipeline calls
``shipyard ci start`` first (it prints the run id) and ``shipyard ci finish`` always at the end.
The embedded runner records its runs itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shipyard.ci.queue import CiQueue
from shipyard.ci.runs import finish_ci_run, list_ci_runs, start_ci_run
from shipyard.cli.options import DataDirOpt
from shipyard.errors import UserError
from shipyard.resolver import Platform, resolve_platform

# piped output (tests, CI logs) gets wide tables instead of rich's 80 columns
console = Console(width=None if sys.stdout.isatty() else 160)

TrackingOpt = typer.Option(
    None, "--tracking-uri", help="MLflow URL (default: $MLFLOW_TRACKING_URI, else the embedded platform's)"
)


def register(app: typer.Typer) -> None:
    ci_app = typer.Typer(
        help="CI runs: list, logs, and start/finish for GitHub/GitLab.", no_args_is_help=True
    )
    ci_app.command("list")(list_cmd)
    ci_app.command("logs")(logs)
    ci_app.command("start")(start)
    ci_app.command("finish")(finish)
    app.add_typer(ci_app, name="ci")


def _platform(tracking_uri: str | None, data_dir: Path | None) -> Platform:
    """No spec needed: a GitHub/GitLab job has only ``MLFLOW_TRACKING_URI``."""
    return resolve_platform(None, data_dir, overrides={"mlflow": tracking_uri}, require_spec=False)


def list_cmd(
    project: str | None = typer.Option(None, "--project", help="only this project"),
    as_json: bool = typer.Option(False, "--json", help="print JSON (a list of runs)"),
    data_dir: Path | None = DataDirOpt,
    tracking_uri: str | None = TrackingOpt,
) -> None:
    """CI runs, newest first."""
    runs = list_ci_runs(_platform(tracking_uri, data_dir).mlflow(), project)
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in runs], indent=2))
        return
    if not runs:
        console.print("no CI runs yet" + (f" for {project}" if project else ""))
        return
    table = Table(show_header=True, header_style="bold")
    for col in ("run", "project", "commit", "branch", "status", "steps", "failed step", "started", "took"):
        table.add_column(col)
    colours = {"passed": "green", "failed": "red", "interrupted": "yellow"}
    for r in runs:
        c = colours.get(r.status, "cyan")
        table.add_row(
            r.run_id[:12],
            r.project,
            r.commit[:8],
            r.branch,
            f"[{c}]{r.status}[/]",
            ",".join(r.steps) or "-",
            r.failed_step or "-",
            r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else "-",
            f"{r.duration_s:.0f}s" if r.duration_s is not None else "-",
        )
    console.print(table)


def logs(
    run: str = typer.Argument(..., help="CI run id (or a unique prefix, as `ci list` shows)"),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Print the log of an embedded CI run."""
    queue = CiQueue(_platform(None, data_dir).layout.ci)
    matches = sorted(queue.logs.glob(f"{run}*.log"))
    if not matches:
        raise UserError(
            f"no log of CI run {run!r} in {queue.logs}",
            "pass a run id from `shipyard ci list` (runs of GitHub/GitLab keep their logs with the provider)",
        )
    if len(matches) > 1:
        ids = ", ".join(m.stem[:12] for m in matches[:5])
        raise UserError(f"{run!r} matches several CI runs ({ids})", "pass more characters of the run id")
    typer.echo(matches[0].read_text(errors="replace"), nl=False)


def start(
    project: str = typer.Option(..., "--project"),
    commit: str = typer.Option(..., "--commit"),
    branch: str = typer.Option(..., "--branch"),
    provider: str = typer.Option(..., "--provider", help="github | gitlab (shipyard: the embedded runner)"),
    tracking_uri: str | None = TrackingOpt,
) -> None:
    """Record the start of a CI run in MLflow; prints the run id (pass it to `ci finish`)."""
    run_id = start_ci_run(_platform(tracking_uri, None).mlflow(), project, commit, branch, provider)
    typer.echo(run_id)


def finish(
    run_id: str = typer.Argument(..., help="the id `shipyard ci start` printed"),
    status: str = typer.Option(..., "--status", help="passed | failed"),
    failed_step: str | None = typer.Option(None, "--failed-step", help="the step that failed"),
    steps: str | None = typer.Option(None, "--steps", help="comma-separated steps that ran"),
    tracking_uri: str | None = TrackingOpt,
) -> None:
    """Record the end of a CI run (always call it, also when the pipeline failed)."""
    step_list = [s for s in steps.split(",") if s] if steps else None
    run = finish_ci_run(_platform(tracking_uri, None).mlflow(), run_id, status, failed_step, step_list)
    typer.echo(f"CI run {run.run_id}: {run.status}")
