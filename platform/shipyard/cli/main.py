"""Entry point: builds the typer app (commands load lazily: cli/lazy.py) and turns UserErrors into exit 2."""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import traceback
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

import shipyard
from shipyard.cli.lazy import LazyGroup
from shipyard.errors import UserError
from shipyard.service_calls import bound_mlflow_calls, refused_from, unreachable_from

err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shipyard {shipyard.__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="shipyard",
        cls=LazyGroup,  # a command's module is imported when the command runs (shipyard.cli.lazy)
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

    return app


def _sign_in(argv: list[str] | None = None) -> None:
    """MLflow calls of this process act as the signed-in person (``shipyard login``), if any: of the
    ``--data-dir`` the command names (e.g. the demo's closing hints), else the default one."""
    from shipyard.identity.session import activate
    from shipyard.identity.signed_in import data_dir_argument
    from shipyard.platform.endpoints import default_data_dir

    try:
        activate(data_dir_argument(sys.argv[1:] if argv is None else argv) or default_data_dir())
    except OSError:
        pass


INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE: a bug in Shipyard, never the user's input


def print_user_error(exc: UserError) -> None:
    # user text is data: escape it, or Rich reads `[a-z0-9]` in a message as markup and drops it
    err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True)
    if exc.fix:
        err_console.print(f"  [bold]fix:[/] {escape(exc.fix)}", highlight=False, soft_wrap=True)


def crash_log_path() -> Path:
    """Where a bug's traceback goes: the data dir's logs when it is usable, else the temp dir."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"shipyard-crash-{stamp}-{os.getpid()}.log"
    from shipyard.platform.endpoints import named_data_dir

    home = named_data_dir()
    for folder in ([home / "logs"] if home else []) + [Path(tempfile.gettempdir())]:
        if folder.is_dir() and os.access(folder, os.W_OK):
            return folder / name
    return Path(tempfile.gettempdir()) / name


def report_bug(exc: BaseException, argv: list[str] | None) -> int:
    """A bug: the stack goes to a 0600 log file, the user gets one line naming it."""
    path = crash_log_path()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as log:
            command = " ".join(argv if argv is not None else sys.argv[1:])
            log.write(f"shipyard {shipyard.__version__}: {command}\n")
            log.write("".join(traceback.format_exception(exc)))
        where = f"details in {path}"
    except OSError:
        where = "no log file could be written"
    err_console.print(
        f"[bold red]internal error:[/] {escape(type(exc).__name__)} ({escape(where)})",
        highlight=False,
        soft_wrap=True,
    )
    err_console.print("  [bold]fix:[/] this is a bug in Shipyard: report it with that file", highlight=False)
    return INTERNAL_ERROR_EXIT


def main(argv: list[str] | None = None) -> int:
    try:
        bound_mlflow_calls()  # MLflow's client would retry a stopped server for minutes
        app = build_app()
        _sign_in(argv)
        app(args=argv, prog_name="shipyard")  # standalone: typer prints usage errors and exits 2
    except UserError as exc:
        print_user_error(exc)
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        err_console.print("interrupted", highlight=False)
        return 130
    except Exception as exc:  # a bug: never a raw stack on the user's terminal
        unreachable = unreachable_from(exc)  # a service that went away mid-command is no bug
        if unreachable is not None:
            print_user_error(unreachable)
            return unreachable.exit_code
        refused = refused_from(exc)  # a 401/403 that a client library raised as its own exception
        if refused is not None:
            print_user_error(refused)
            return refused.exit_code
        return report_bug(exc, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
