"""``shipyard login | logout | whoami``: the CLI acts as a signed-in person, never as a typed name."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from shipyard.cli.options import DataDirOpt, SpecOpt
from shipyard.errors import BadInput, UserError
from shipyard.identity import secrets
from shipyard.identity.mlflow_users import Credentials
from shipyard.identity.people import person
from shipyard.identity.session import check, current, logout, save_login

console = Console()


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout_cmd)
    app.command("whoami")(whoami)


def _platform(spec: Path | None, data_dir: Path | None):
    from shipyard.local.readiness import running_endpoints
    from shipyard.platform.resolver import resolve_platform

    platform = resolve_platform(spec, data_dir)
    return platform.spec, platform.data_dir, running_endpoints(platform)


def login(
    user: str = typer.Option(..., "--user", help="your email (or a service account name)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin"),
    show_password: bool = typer.Option(
        False,
        "--show-password",
        help="print the password the platform made for USER (needs the data dir, not a running platform)",
    ),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Sign in to the platform; later commands act as you (the login is a 0600 file in the data dir)."""
    if show_password:
        typer.echo(_made_password(spec, data_dir, user))
        return
    pw = _password_from_stdin() if password_stdin else None  # the input first: nothing else depends on it
    platform, root, endpoints = _platform(spec, data_dir)
    if pw is None:
        pw = typer.prompt(f"password for {user}", hide_input=True)
    creds = Credentials(user.lower() if "@" in user else user, pw)
    if not check(endpoints.mlflow, creds):
        raise UserError(f"MLflow refused the sign-in of {user!r} (wrong user or password)", "try again")
    path = save_login(root, creds)
    console.print(
        f"[green]signed in[/] as {creds.username} ({_roles(platform, creds.username)}); login in {path}"
    )


MAX_PASSWORD_BYTES = 1024


def _password_from_stdin() -> str:
    """The first line of stdin as a password: UTF-8 text without control characters, bounded."""
    stream = getattr(sys.stdin, "buffer", None)
    raw = stream.readline(MAX_PASSWORD_BYTES + 1) if stream is not None else sys.stdin.readline().encode()
    raw = raw.rstrip(b"\r\n")
    fix = "pipe the password as one line of text: printf '%s\\n' \"$PW\" | shipyard login --password-stdin"
    if len(raw) > MAX_PASSWORD_BYTES:
        raise BadInput(f"the password on stdin is longer than {MAX_PASSWORD_BYTES} bytes", fix)
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise BadInput("the password on stdin is not UTF-8 text (binary data?)", fix) from None
    if any(ord(c) < 32 or c == "\x7f" for c in text):
        raise BadInput("the password on stdin contains control characters", fix)
    if not text:
        raise BadInput("no password on stdin (an empty line)", fix)
    return text


def _made_password(spec: Path | None, data_dir: Path | None, user: str) -> str:
    """The password ``shipyard up`` made for ``user``: read from the data dir (0600 file), so a stopped
    platform's data dir serves too; never a sign-in."""
    from shipyard.platform.resolver import recorded_endpoints, resolve_platform

    layout = resolve_platform(spec, data_dir).layout
    recorded_endpoints(layout)  # a platform was started there, else it is named
    value = secrets.password(layout.root, user.lower()) or secrets.password(layout.root, user)
    if not value:
        raise UserError(
            f"the platform in {layout.root} made no password for {user!r}", "check the spelling of the email"
        )
    return value


def logout_cmd(data_dir: Path | None = DataDirOpt, spec: Path | None = SpecOpt) -> None:
    """Forget the saved login."""
    from shipyard.platform.resolver import resolve_platform

    layout = resolve_platform(spec, data_dir).layout
    console.print("signed out" if logout(layout.root) else "nobody was signed in")


def whoami(spec: Path | None = SpecOpt, data_dir: Path | None = DataDirOpt) -> None:
    """Who the CLI acts as, and the roles the spec gives them."""
    platform, root, endpoints = _platform(spec, data_dir)
    creds = current(root)
    if creds is None:
        raise UserError("nobody is signed in", "shipyard login --user YOU@example.com")
    if not check(endpoints.mlflow, creds):
        raise UserError(f"the saved login of {creds.username!r} is no longer valid", "shipyard login again")
    typer.echo(f"{creds.username} ({_roles(platform, creds.username)})")


def _roles(platform, username: str) -> str:
    p = person(platform, username)
    if p is None:
        return "service account" if "@" not in username else "not in the platform spec"
    teams = f"; teams: {', '.join(sorted(p.teams))}" if p.teams else ""
    return ", ".join(sorted(p.roles)) + teams
