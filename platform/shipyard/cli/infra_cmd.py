"""``shipyard infra outputs``: the deployed platform's endpoints, from the Pulumi stack outputs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from shipyard.errors import UserError
from shipyard.stack_outputs import endpoints_from_outputs, parse_outputs


def register(app: typer.Typer) -> None:
    infra_app = typer.Typer(help="Read what `pulumi up` in infra/ stood up.", no_args_is_help=True)
    infra_app.command("outputs")(outputs)
    app.add_typer(infra_app, name="infra")


def outputs(
    file: Path = typer.Argument(..., help="JSON from `pulumi stack output --json` ('-' reads stdin)"),
    team: str | None = typer.Option(None, "--team", help="use this team's DVC remote root"),
    project: str | None = typer.Option(None, "--project", help="with --team: print the project's DVC remote"),
    env: bool = typer.Option(False, "--env", help="print the environment a job gets (KEY=value lines)"),
) -> None:
    """Print the platform's endpoints (JSON), or the job environment with --env."""
    if file == Path("-"):
        text, source = sys.stdin.read(), "stdin"
    else:
        if not file.exists():
            raise UserError(
                f"{file}: no such file", "save it with `pulumi stack output --json > outputs.json`"
            )
        text, source = file.read_text(encoding="utf-8"), str(file)
    if project and not team:
        raise UserError("--project needs --team", "pass --team TEAM --project PROJECT")
    endpoints = endpoints_from_outputs(parse_outputs(text, source), team)
    if env:
        for key, value in sorted(endpoints.to_env(team, project).items()):
            typer.echo(f"{key}={value}")
    else:
        typer.echo(json.dumps({k: v for k, v in endpoints.as_dict().items() if v is not None}, indent=2))
