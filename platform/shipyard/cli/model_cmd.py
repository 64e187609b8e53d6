"""``shipyard model list|approve|promote|validation-set``: the model registry as governance sees it."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer

from shipyard.catalog import inventory, load_snapshot
from shipyard.cli import model_reproduce
from shipyard.cli.options import DataDirOpt, SpecOpt
from shipyard.cli.registry_calls import MlflowOpt, _platform, _registry, _version
from shipyard.cli.tables import console as make_console
from shipyard.cli.tables import table as make_table
from shipyard.errors import ReasonRequired
from shipyard.formatting import ratio
from shipyard.registry import client
from shipyard.registry.notes import check_note

console = make_console()


def register(app: typer.Typer) -> None:
    model_app = typer.Typer(help="List, approve and promote model versions.", no_args_is_help=True)
    model_app.command("list")(list_versions)
    model_app.command("approve")(approve)
    model_app.command("promote")(promote)
    model_app.command("submit")(submit)
    model_app.command("validation-set")(validation_set)
    model_app.command("reproduce")(model_reproduce.reproduce)
    model_app.command("reject")(
        _recorder("reject", "Reject a version (approvers); takes `challenger` off it.")
    )
    model_app.command("retire")(_recorder("retire", "Retire a version that is not champion."))
    model_app.command("comment")(_recorder("comment", "Add a comment to a version's record."))
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
    table = make_table("model", ("version", "right"), "aliases", "gate", "created by", "approvals", "project",
                       "lineage")  # fmt: skip
    for r in rows:
        table.add_row(
            r.model, str(r.version), r.aliases, r.gate, r.created_by, r.approvals, r.project, r.lineage
        )
    console.print(table)


def approve(
    model: str = typer.Argument(..., help="registered model name"),
    version: str = typer.Argument(..., help="version number"),
    note: str = typer.Option("", "--note", help="why (recorded in the audit log)"),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    mlflow: str | None = MlflowOpt,
) -> None:
    """Approve a version that passed the platform gate, as the signed-in approver (`shipyard login`)."""
    version = _version(version)
    check_note(note, "approve")
    _, url, creds = _registry(spec, data_dir, mlflow)
    result = client.version_action(url, creds, model, version, "approve", note)
    have = result["approved_by"]
    console.print(
        f"[green]approved[/] {model} v{version} by {creds.username} "
        f"({ratio(len(have), result['needed'])}: {', '.join(have)})"
    )


ReasonOpt = typer.Option(
    "", "--reason", "--note", help="why (required; recorded in the audit event)", show_default=False
)


def _reason(action: str, model: str, version: int, reason: str) -> str:
    """Promote, rollback and retire say why, before anything is asked of the platform."""
    if not reason.strip():
        raise ReasonRequired(
            f"{action} of {model} v{version} needs a reason",
            f"say why: shipyard model {action} {model} {version} --reason '...' (kept in the audit log)",
        )
    return reason


def promote(
    model: str = typer.Argument(..., help="registered model name"),
    version: str = typer.Argument(..., help="version number"),
    reason: str = ReasonOpt,
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    mlflow: str | None = MlflowOpt,
) -> None:
    """Make a version champion (an earlier one: a rollback), as the signed-in person; past the platform
    gate and with the approvals its risk tier needs, and with a reason (--reason)."""
    version = _version(version)
    check_note(_reason("promote", model, version, reason), "promote")
    _, url, creds = _registry(spec, data_dir, mlflow)
    result = client.version_action(url, creds, model, version, "promote", reason)
    was = f" (was v{result['previous']})" if result.get("previous") else ""
    console.print(f"[green]{result['action']}[/] {model} v{version} to champion{was}")


def validation_set(
    model: str = typer.Argument(..., help="registered model name"),
    file: Path = typer.Argument(..., help="CSV with the model's feature columns and a 'target' column"),
    note: str = typer.Option("", "--note", help="where the data comes from (recorded in the audit log)"),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    mlflow: str | None = MlflowOpt,
) -> None:
    """Register an independent validation set for a model, as the signed-in validator (an approver
    outside the model's team). The platform gate then scores every candidate and the champion on it
    too; the model's team cannot read it."""
    from shipyard.input_files import read_text
    from shipyard.registry.names import MAX_VALIDATION_BYTES

    check_note(note, "validation-set")
    text = read_text(file, "pass the path of the CSV file", MAX_VALIDATION_BYTES, kind="CSV file")
    _, url, creds = _registry(spec, data_dir, mlflow)
    result = client.validation_set(url, creds, model, text, file.name, note)
    console.print(
        f"[green]registered[/] the independent validation set of {model}: {result['rows']} rows, "
        f"sha256 {result['sha256'][:16]} (by {creds.username}; event {result['event']})"
    )


def _recorder(action: str, doc: str):
    def command(
        model: str = typer.Argument(..., help="registered model name"),
        version: str = typer.Argument(..., help="version number"),
        note: str = (
            ReasonOpt
            if action == "retire"
            else typer.Option(..., "--note", help="why (recorded in the audit log)")
        ),
        spec: Path | None = SpecOpt,
        data_dir: Path | None = DataDirOpt,
        mlflow: str | None = MlflowOpt,
    ) -> None:
        number = _version(version)
        if action == "retire":
            _reason(action, model, number, note)
        check_note(note, action)
        _, url, creds = _registry(spec, data_dir, mlflow)
        result = client.version_action(url, creds, model, number, action, note)
        console.print(f"[green]{action}[/] {model} v{version} recorded (by {creds.username})")
        if action == "reject" and result.get("champion"):
            console.print(
                f"[yellow]{model} v{version} is still champion[/]: a rejection is recorded, it does not stop "
                f"a serving model; it serves until another version is promoted "
                f"(shipyard model promote {model} VERSION, an earlier one rolls back)",
                highlight=False,
                soft_wrap=True,
            )

    command.__doc__ = doc
    return command


def submit(
    run_id: str = typer.Argument(..., help="the training run to submit"),
    registry: str | None = typer.Option(
        None, "--registry", help="registry URL (default: $SHIPYARD_REGISTRY_URL)"
    ),
) -> None:
    """Submit a CI training run to the platform gate (what `make register` runs in CI)."""
    from shipyard.identity.session import require_current
    from shipyard.registry.client import registry_url

    result = client.submit(registry_url(registry), require_current(None), run_id)
    for line in client.format_verdict(result):
        typer.echo(line)
    if not result["passed"]:
        raise typer.Exit(1)
