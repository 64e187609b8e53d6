"""``shipyard ci list | logs | start | finish``: CI runs, recorded in MLflow.

``start``/``finish`` are for CI providers (GitHub, GitLab): the template's pipeline calls
``shipyard ci start`` first (it prints the run id) and ``shipyard ci finish`` always at the end.
The embedded runner records its runs itself.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shipyard.ci.runs import finish_ci_run, list_ci_runs, start_ci_run
from shipyard.cli.options import DataDirOpt
from shipyard.clients.probes import require_reachable
from shipyard.errors import UserError
from shipyard.input_files import read_text
from shipyard.platform.env import ENV_MLFLOW
from shipyard.platform.resolver import Platform, resolve_platform
from shipyard.records.mlflow_api import MlflowApi
from shipyard.service_calls import check_url

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


RUN_ID = re.compile(r"^[0-9a-f]{1,32}$")
LOG_LIMIT = 64 * 1024 * 1024


def _platform(tracking_uri: str | None, data_dir: Path | None) -> Platform:
    """No spec needed: a GitHub/GitLab job has only ``MLFLOW_TRACKING_URI``."""
    if tracking_uri:
        check_url(
            tracking_uri, "--tracking-uri", "pass MLflow's URL, e.g. --tracking-uri http://127.0.0.1:5000"
        )
    return resolve_platform(None, data_dir, overrides={"mlflow": tracking_uri}, require_spec=False)


def _mlflow(tracking_uri: str | None, data_dir: Path | None) -> MlflowApi:
    """MLflow, its URL checked and asked once: a stopped MLflow is named in seconds, not minutes."""
    platform = _platform(tracking_uri, data_dir)
    uri = platform.endpoints.mlflow
    if uri:
        check_url(uri, "MLflow URL" if tracking_uri else f"${ENV_MLFLOW} (or the data dir's MLflow)",
                  f"set {ENV_MLFLOW} to MLflow's http(s) URL")  # fmt: skip
        require_reachable("MLflow", uri)
    return MlflowApi.of(platform.endpoints)


def list_cmd(
    project: str | None = typer.Option(None, "--project", help="only this project"),
    as_json: bool = typer.Option(False, "--json", help="print JSON (a list of runs)"),
    data_dir: Path | None = DataDirOpt,
    tracking_uri: str | None = TrackingOpt,
) -> None:
    """CI runs, newest first."""
    runs = list_ci_runs(_mlflow(tracking_uri, data_dir), project)
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
        table.add_row(  # branch and step names are the pusher's text: never Rich markup
            r.run_id[:12],
            escape(r.project),
            r.commit[:8],
            escape(r.branch),
            f"[{c}]{escape(r.status)}[/]",
            escape(",".join(r.steps)) or "-",
            escape(r.failed_step or "-"),
            r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else "-",
            f"{r.duration_s:.0f}s" if r.duration_s is not None else "-",
        )
    console.print(table)


def logs(
    run: str = typer.Argument(..., help="CI run id (or a unique prefix, as `ci list` shows)"),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Print the log of an embedded CI run."""
    if not RUN_ID.match(run):  # an id, never a path: `../../x` or `*` must not reach the file system
        raise UserError(
            f"{run!r} is not a CI run id (hex digits, as `shipyard ci list` shows)",
            "pass a run id or its first characters, e.g. shipyard ci logs 3f2a9c1b",
        )
    from shipyard.platform.endpoints import default_data_dir

    logs_dir = default_data_dir(data_dir) / "ci" / "logs"
    if not logs_dir.is_dir():
        raise UserError(f"no CI logs in {logs_dir}", "push to a project of the embedded platform first")
    root = logs_dir.resolve()  # a link inside the logs dir that leads elsewhere is not a log
    matches = sorted(p for p in logs_dir.glob(f"{run}*.log") if p.resolve().parent == root)
    if not matches:
        raise UserError(
            f"no log of CI run {run!r} in {logs_dir}",
            "pass a run id from `shipyard ci list` (runs of GitHub/GitLab keep their logs with the provider)",
        )
    if len(matches) > 1:
        ids = ", ".join(m.stem[:12] for m in matches[:5])
        raise UserError(f"{run!r} matches several CI runs ({ids})", "pass more characters of the run id")
    text = read_text(
        matches[0], "pass a run id from `shipyard ci list`", max_bytes=LOG_LIMIT, errors="replace"
    )
    typer.echo(text, nl=False)


def start(
    project: str = typer.Option(..., "--project"),
    commit: str = typer.Option(..., "--commit"),
    branch: str = typer.Option(..., "--branch"),
    provider: str = typer.Option(..., "--provider", help="github | gitlab (shipyard: the embedded runner)"),
    tracking_uri: str | None = TrackingOpt,
) -> None:
    """Record the start of a CI run in MLflow; prints the run id (pass it to `ci finish`)."""
    run_id = start_ci_run(_mlflow(tracking_uri, None), project, commit, branch, provider)
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
    run = finish_ci_run(_mlflow(tracking_uri, None), run_id, status, failed_step, step_list)
    typer.echo(f"CI run {run.run_id}: {run.status}")
