"""The root command group loads a command's module only when that command runs.

Importing every command module costs ~3 s (pandas, MLflow, pydantic models); ``shipyard --help`` and
``shipyard status`` need none of that. The table below names each top-level command, the module whose
``register(app)`` adds it and its one-line help for the listing; tests/cli/test_lazy_commands.py checks
the table against what the modules really register.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # typer vendors click as typer._click: its types, not the click package's
    from typer import _click as click


class Entry(NamedTuple):
    module: str
    help: str


# top-level command -> its module and help line, in the order `shipyard --help` lists them
COMMANDS: dict[str, Entry] = {
    "cost": Entry("shipyard.cli.cost_cmd", "Costs: platform estimate, usage report, budgets."),
    "infra": Entry("shipyard.cli.infra_cmd", "Read what `pulumi up` in infra/ stood up."),
    "model": Entry("shipyard.cli.model_cmd", "List, approve and promote model versions."),
    "portal": Entry(
        "shipyard.cli.portal_cmd", "Start the portal for managers and model risk auditors (Streamlit)."
    ),
    "spec": Entry("shipyard.cli.spec_cmd", "Validate and show the platform spec (platform.yaml)."),
    "up": Entry(
        "shipyard.cli.up_cmd",
        "Start the embedded platform (MLflow, DVC remote, Label Studio, Prometheus, CI runner); idempotent.",
    ),
    "down": Entry("shipyard.cli.up_cmd", "Stop what `shipyard up` started."),
    "status": Entry("shipyard.cli.up_cmd", "Report each service: running/stopped, pid, URL, health."),
    "ci": Entry("shipyard.cli.ci_cmd", "CI runs: list, logs, and start/finish for GitHub/GitLab."),
    "project": Entry("shipyard.cli.project_cmd", "Create and list ML projects on the platform."),
    "new": Entry(
        "shipyard.cli.new_cmd",
        "Generate a project from the template with this platform's endpoints, checked against the spec.",
    ),
    "template": Entry("shipyard.cli.template_cmd", "The project template: releases and the fleet."),
    "demo": Entry(
        "shipyard.cli.demo_cmd",
        "Start the platform, create a project, push it (CI gates and registers a model), promote it, "
        "push a worse model that the gate stops.",
    ),
    "login": Entry(
        "shipyard.cli.login_cmd",
        "Sign in to the platform; later commands act as you (the login is a 0600 file in the data dir).",
    ),
    "logout": Entry("shipyard.cli.login_cmd", "Forget the saved login."),
    "whoami": Entry("shipyard.cli.login_cmd", "Who the CLI acts as, and the roles the spec gives them."),
    "audit": Entry(
        "shipyard.cli.audit_cmd", "The audit log: who changed what in the registry, and proof of it."
    ),
}


def commands_of(module: str) -> dict[str, click.Command]:
    """The click commands that ``module``'s ``register(app)`` adds, by name."""
    app = typer.Typer()
    importlib.import_module(module).register(app)
    return dict(typer.main.get_group(app).commands)


class LazyGroup(TyperGroup):
    """A TyperGroup whose commands come from :data:`COMMANDS`, imported on first use."""

    _listing = False  # while the help lists commands: their help line, without importing them

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if cmd_name not in self.commands and entry is not None:
            if self._listing:
                return TyperCommand(cmd_name, help=entry.help)
            for name, command in commands_of(entry.module).items():
                self.commands.setdefault(name, command)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
