"""``shipyard up | down | status``: the embedded platform on this machine."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shipyard.cli.options import DataDirOpt, SpecOpt
from shipyard.cli.paths import writable_dir
from shipyard.local import lifecycle
from shipyard.local import status as runtime_status

# piped output (tests, CI logs) gets wide tables instead of rich's 80 columns
console = Console(width=None if sys.stdout.isatty() else 160)


SECRET_ENDPOINTS = ("mlflow_password", "label_studio_token", "grafana_token")
HIDDEN = "(hidden: --show-credentials)"


def hide_secrets(endpoints: dict) -> dict:
    """Endpoints as printed: each secret replaced by a note saying how to show it."""
    return {k: HIDDEN if k in SECRET_ENDPOINTS and v else v for k, v in endpoints.items()}


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("down")(down)
    app.command("status")(status)


def up(
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    show_credentials: bool = typer.Option(
        False, "--show-credentials", help="print the Label Studio login and API token (kept in a 0600 file)"
    ),
) -> None:
    """Start the embedded platform (MLflow, DVC remote, Label Studio, Prometheus, CI runner); idempotent."""
    if data_dir is not None:
        writable_dir(data_dir, "--data-dir")  # a read-only mount fails here, not mid-start
    result = lifecycle.up(
        spec, data_dir, echo=lambda line: console.print(line, highlight=False, soft_wrap=True)
    )
    st = result.status
    if result.started:
        ready = (
            f" (ready for push at {result.ready_for_push_seconds:.1f}s)"
            if result.ready_for_push_seconds is not None
            else ""
        )
        console.print(
            f"[green]up[/] in {result.wall_seconds:.1f}s{ready}: started {', '.join(result.started)}"
        )
    else:
        console.print("[green]up[/]: everything already runs")
    console.print(_table(st))
    creds = _label_studio_credentials(st)
    if creds and show_credentials:
        console.print(
            f"Label Studio login: {creds['username']} / {creds['password']}   API token: {creds['token']}",
            highlight=False,
        )
    elif creds:
        path = Path(st.data_dir) / "label-studio" / "credentials.json"
        console.print(f"Label Studio login: in {path} (or `shipyard up --show-credentials`)", highlight=False)
    if (Path(st.data_dir) / "identity" / "passwords").is_dir():
        console.print(
            "sign in: shipyard login --user YOU@example.com   (MLflow needs a login; each person's password "
            f"is in {Path(st.data_dir) / 'identity' / 'passwords'}, 0600; "
            "`shipyard login --user EMAIL --show-password` prints one to hand on)",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"data dir: {st.data_dir}   (shipyard down stops it; data stays)", highlight=False)


def down(spec: Path | None = SpecOpt, data_dir: Path | None = DataDirOpt) -> None:
    """Stop what `shipyard up` started. Never deletes data."""
    stopped = lifecycle.down(data_dir, spec)
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


def status(
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    as_json: bool = typer.Option(
        False, "--json", help="machine-readable (schema in docs/embedded-platform.md)"
    ),
    show_credentials: bool = typer.Option(
        False, "--show-credentials", help="with --json: include the Label Studio API token"
    ),
) -> None:
    """Report each service: running/stopped, pid, URL, health. Exit 0 even when stopped."""
    st = runtime_status.status(data_dir, spec)
    if as_json:
        data = st.to_json()
        if not show_credentials:  # secrets are printed only when asked
            data["endpoints"] = hide_secrets(data["endpoints"])
        typer.echo(json.dumps(data, indent=2))
        return
    console.print(_table(st))
    console.print(f"data dir: {st.data_dir}", highlight=False)


def _table(st: runtime_status.PlatformStatus) -> Table:
    table = Table(show_header=True, header_style="bold")
    for col in ("service", "state", "health", "pid", "url"):
        table.add_column(col)
    for s in st.services:
        colour = {"running": "green", "ready": "green", "stopped": "red", "died": "red"}.get(
            s.state, "yellow"
        )
        if s.healthy:
            health = "ok"
        elif s.state in ("stopped", "not-run"):
            health = "-"
        else:
            health = "[yellow]waiting[/]" if s.state == "starting" else "[red]failing[/]"
        table.add_row(
            s.name, f"[{colour}]{s.state}[/]", health, str(s.pid or "-"), s.url or (s.detail or "-")
        )
    return table


def _label_studio_credentials(st: runtime_status.PlatformStatus) -> dict | None:
    path = Path(st.data_dir) / "label-studio" / "credentials.json"
    if any(s.name == "label-studio" for s in st.services) and path.exists():
        return json.loads(path.read_text())
    return None
