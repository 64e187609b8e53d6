"""``shipyard audit log | verify | export``: the platform's append-only, hash-chained event log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from shipyard.cli.options import DataDirOpt, SpecOpt
from shipyard.cli.paths import check_output_file, output_file_arg, write_output
from shipyard.errors import UserError

if TYPE_CHECKING:
    from shipyard.platform.resolver import Platform

console = Console(width=None if sys.stdout.isatty() else 200)


def register(app: typer.Typer) -> None:
    audit_app = typer.Typer(help="The audit log: who changed what in the registry, and proof of it.",
                            no_args_is_help=True)  # fmt: skip
    audit_app.command("log")(log)
    audit_app.command("verify")(verify)
    audit_app.command("export")(export)
    audit_app.command("checkpoint")(checkpoint)
    from shipyard.cli import model_reproduce

    audit_app.command("reproduce")(model_reproduce.reproduce_champions)
    app.add_typer(audit_app, name="audit")


def _store(spec: Path | None, data_dir: Path | None):
    """The audit log, opened for the signed-in reader (auditors and platform admins only)."""
    from shipyard.audit.access import require_reader
    from shipyard.audit.store import ENV_DATABASE_URL, open_store
    from shipyard.platform.resolver import resolve_platform

    platform = resolve_platform(spec, data_dir)
    layout = platform.layout
    store = open_store(layout.root)  # Postgres when SHIPYARD_AUDIT_DATABASE_URL is set
    if store is None:
        raise UserError(
            f"no audit log in {layout.root}",
            f"start the platform: shipyard up --data-dir {layout.root}"
            f" (a cluster's log: set {ENV_DATABASE_URL})",
        )
    require_reader(platform.spec, layout.root, _mlflow_url(platform))
    return store, platform


def _mlflow_url(platform: Platform) -> str | None:
    from shipyard.local.readiness import running_endpoints

    try:
        return running_endpoints(platform).mlflow
    except UserError:
        return None


def _reconcile(store, platform: Platform) -> int:
    """Look for out-of-band changes in MLflow first (when it runs): each becomes a finding event."""
    from shipyard.audit.reconcile import reconcile

    mlflow = _mlflow_url(platform)
    return 0 if mlflow is None else len(reconcile(store, mlflow))


def log(
    project: str | None = typer.Option(None, "--project"),
    model: str | None = typer.Option(None, "--model"),
    since: str | None = typer.Option(None, "--since", help="UTC date or time, e.g. 2026-12-01"),
    as_json: bool = typer.Option(False, "--json"),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """The events, oldest first (out-of-band changes in MLflow are recorded as findings first)."""
    import datetime as dt

    if since:
        try:
            dt.datetime.fromisoformat(since)
        except ValueError:
            raise UserError(
                f"--since {since!r} is not a date", "use YYYY-MM-DD or YYYY-MM-DDTHH:MM"
            ) from None
    store, platform = _store(spec, data_dir)
    _reconcile(store, platform)
    events = store.events(project=project, model=model, since=since)
    if as_json:
        typer.echo(json.dumps([e.as_dict() for e in events], indent=2))
        return
    table = Table(header_style="bold")
    for col in ("#", "at (UTC)", "actor", "action", "model", "version", "what"):
        table.add_column(col)
    for e in events:
        colour = "red" if e.action.startswith("finding") else ""
        what = e.details.get("what") or e.details.get("note") or "; ".join(e.details.get("reasons", []))
        table.add_row(str(e.seq), e.at[:19], e.actor, f"[{colour}]{e.action}[/]" if colour else e.action,
                      e.model, e.version, str(what)[:80])  # fmt: skip
    console.print(table)


def verify(
    deep: bool = typer.Option(
        False, "--deep", help="also re-hash every registered version's files against its registration"
    ),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Recompute the hash chain and hold it to every witnessed checkpoint of its head; exit 1 naming
    the first bad event or checkpoint (a truncated or rewritten log). A good log is checkpointed.
    --deep: also re-hash every registered version's files; exit 1 naming each changed file."""
    from shipyard.audit.witness import check, checkpoint

    store, platform = _store(spec, data_dir)
    root = platform.data_dir
    result = check(store, root)
    if not result.ok:
        typer.echo(f"audit log {result.summary()}", err=True)
        raise typer.Exit(1)
    checkpoint(store, root)
    typer.echo(f"audit log {result.summary()}")
    if deep:
        _verify_files(store, platform)


def _verify_files(store, platform: Platform) -> None:
    from shipyard.audit.artifacts import check
    from shipyard.local.readiness import running_endpoints
    from shipyard.records import MlflowApi

    found = check(store, MlflowApi(running_endpoints(platform).mlflow))
    for model, version in found.unhashed:
        typer.echo(f"{model} v{version}: registered before file hashes were recorded (not verifiable)")
    for change in found.changes:
        typer.echo(f"MODIFIED {change.describe()}", err=True)
    summary = f"model files: {len(found.checked)} versions re-hashed, {len(found.changes)} changed files"
    if not found.ok:
        typer.echo(summary, err=True)
        raise typer.Exit(1)
    typer.echo(summary)


def checkpoint(spec: Path | None = SpecOpt, data_dir: Path | None = DataDirOpt) -> None:
    """Sign a checkpoint of the chain's head now (the CI runner does so on its own while idle)."""
    from shipyard.audit.witness import checkpoint as witness

    store, platform = _store(spec, data_dir)
    root = platform.data_dir
    cp = witness(store, root)
    if cp is None:
        typer.echo("no new checkpoint: the head is witnessed already, or the log does not verify")
        return
    typer.echo(f"checkpoint: {cp.count} events, head {cp.head[:16]} at {cp.at}")


def export(
    fmt: str = typer.Option("jsonl", "--format", help="jsonl | csv"),
    out: Path | None = typer.Option(
        None, "--out", parser=output_file_arg, help="file to write (default: stdout)"
    ),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Every event with its hashes, and the chain head, so a copy can be checked later."""
    if fmt not in ("jsonl", "csv"):
        raise UserError(f"--format {fmt!r} is not known", "use --format jsonl or --format csv")
    if out is not None:
        check_output_file(out)  # before the work
    store, platform = _store(spec, data_dir)
    _reconcile(store, platform)
    root = platform.data_dir
    from shipyard.audit.export import render_export
    from shipyard.audit.witness import checkpoints

    text = render_export(store, fmt, checkpoints(root))
    if out is None:
        typer.echo(text, nl=False)
        return
    write_output(out, text)
    console.print(f"wrote {out}", highlight=False)
