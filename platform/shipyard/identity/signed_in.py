"""One sign-in for every command: what `shipyard login` stored is used by the projects' own code too
(`make repro`, `make gate`, `make predict`, `make register`, label sync), in-process, so the password
never enters a shell's environment or history.

A project calls :func:`use_login` before talking to the platform: ``$MLFLOW_TRACKING_USERNAME`` /
``PASSWORD`` win when set (the platform's CI sets them); else the login of ``$SHIPYARD_HOME`` (default
``~/.shipyard``, the data dir `shipyard login` wrote it to) is put into this process's environment.
Every refusal for want of a sign-in says so, with the command to run (:data:`SIGN_IN_FIX`).
"""

from __future__ import annotations

import os
from pathlib import Path

from shipyard.identity.credentials import Credentials

SIGN_IN_FIX = "sign in: shipyard login --user YOU@example.com, then run the command again"


def data_dir() -> Path:
    """Where `shipyard login` keeps the login: ``$SHIPYARD_HOME``, else ``~/.shipyard``."""
    return Path(os.environ.get("SHIPYARD_HOME") or Path.home() / ".shipyard")


def data_dir_argument(argv: list[str]) -> Path | None:
    """The ``--data-dir`` a command line names (the login of that platform is the one to use)."""
    for i, arg in enumerate(argv):
        if arg == "--data-dir" and i + 1 < len(argv):
            return Path(argv[i + 1]).expanduser()
        if arg.startswith("--data-dir="):
            return Path(arg.split("=", 1)[1]).expanduser()
    return None


def use_login() -> Credentials | None:
    """This process acts as the signed-in person (None: nobody is, and the environment names nobody)."""
    from shipyard.identity.session import activate

    try:
        return activate(data_dir())
    except OSError:  # an unreadable data dir is nobody signed in; the service's 401 says what to do
        return None


def is_unauthorized(exc: BaseException) -> bool:
    """Whether a client's exception is the service asking for a sign-in (HTTP 401)."""
    text = f"{getattr(exc, 'error_code', '')} {exc}"
    return "UNAUTHENTICATED" in text or "401" in text or "Unauthorized" in text
