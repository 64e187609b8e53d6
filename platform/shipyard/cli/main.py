"""Entry point: builds the typer app from the command modules and turns UserErrors into exit 2."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from shipyard import __version__
from shipyard.errors import UserError

# Each module exposes ``register(app)``; add a command group by adding its module here.
COMMAND_MODULES = [
    "shipyard.cli.cost_cmd",
    "shipyard.cli.infra_cmd",
    "shipyard.cli.model_cmd",
    "shipyard.cli.portal_cmd",
    "shipyard.cli.spec_cmd",
    "shipyard.cli.up_cmd",
    "shipyard.cli.ci_cmd",
    "shipyard.cli.project_cmd",
    "shipyard.cli.new_cmd",
    "shipyard.cli.demo_cmd",
    "shipyard.cli.login_cmd",
    "shipyard.cli.audit_cmd",
]

err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shipyard {__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="shipyard",
        help="Shipyard: the paved road for ML teams.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ) -> None:
        """Shipyard: the paved road for ML teams."""

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    return app


def _sign_in() -> None:
    """MLflow calls of this process act as the signed-in person (``shipyard login``), if any."""
    from shipyard.endpoints import default_data_dir
    from shipyard.identity.session import activate

    try:
        activate(default_data_dir())
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    _sign_in()
    try:
        app(args=argv, prog_name="shipyard")  # standalone: typer prints usage errors and exits 2
    except UserError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
        if exc.fix:
            err_console.print(f"  [bold]fix:[/] {exc.fix}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:
        if "401" not in str(exc) and "Unauthorized" not in str(exc):
            raise
        err_console.print(
            "[bold red]error:[/] MLflow refused the request: nobody is signed in", highlight=False
        )
        err_console.print("  [bold]fix:[/] shipyard login --user YOU@example.com", highlight=False)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
