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

from shipyard.errors import SIGN_IN_FIX, NotSignedIn
from shipyard.identity.credentials import Credentials
from shipyard.platform.env import ENV_MLFLOW, ENV_MLFLOW_PASSWORD, ENV_MLFLOW_USERNAME

__all__ = ["SIGN_IN_FIX", "data_dir", "data_dir_argument", "is_unauthorized", "use_login"]


def data_dir() -> Path:
    """Where `shipyard login` keeps the login: ``$SHIPYARD_HOME``, else ``~/.shipyard``."""
    from shipyard.platform.endpoints import default_data_dir

    return default_data_dir()


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
    """Whether a client's exception is the service asking for a sign-in (HTTP 401): from the status the
    exception carries; where MLflow's own client keeps the status only in its message, MLflow itself is
    asked whether this process's sign-in is accepted (never read from the text)."""
    from shipyard.service_calls import refused_from

    refused = refused_from(exc)
    if refused is not None:
        return isinstance(refused, NotSignedIn)
    if getattr(exc, "error_code", "") == "UNAUTHENTICATED":
        return True
    url = os.environ.get(ENV_MLFLOW)
    if not url or not url.startswith(("http://", "https://")):
        return False
    from shipyard.records import auth

    try:
        user, password = os.environ.get(ENV_MLFLOW_USERNAME), os.environ.get(ENV_MLFLOW_PASSWORD)
        if not user or not password:
            return not auth.answers_anonymously(url)
        return not auth.accepts(url, user, password)
    except Exception:  # MLflow unreachable: not a sign-in problem (the caller names the failure)
        return False
