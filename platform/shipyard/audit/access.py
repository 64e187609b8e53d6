"""Who reads the audit log: auditors and platform admins (and the platform's own admin account).

The log names every person's decisions and the evidence behind them; the docs give it to auditors.
The CLI's ``audit`` commands act as the signed-in identity (``shipyard login`` or the MLflow
variables), whose password is checked: against MLflow when it runs, else against the data dir's
password file that ``up`` made (an auditor verifies a stopped platform's log too)."""

from __future__ import annotations

import hmac
from pathlib import Path

from shipyard.errors import Refused, UserError
from shipyard.identity import secrets
from shipyard.identity.credentials import Credentials
from shipyard.identity.names import ADMIN, AUDITOR, PLATFORM_ADMIN
from shipyard.identity.people import person
from shipyard.spec.model import PlatformSpec

READERS = "auditors and platform admins"


def may_read(spec: PlatformSpec, username: str) -> bool:
    if username == ADMIN:
        return True
    who = person(spec, username)
    return who is not None and (who.has(AUDITOR) or who.has(PLATFORM_ADMIN))


def proven(creds: Credentials, data_dir: Path, mlflow_url: str | None) -> bool:
    """Whether the password is the identity's: MLflow says so, or (MLflow not running) it is the one
    in the data dir's 0600 password file."""
    if mlflow_url:
        from shipyard.identity.session import check

        try:
            return check(mlflow_url, creds)
        except UserError:  # MLflow is not reachable: the data dir's record decides
            pass
    stored = secrets.password(data_dir, creds.username)
    return stored is not None and hmac.compare_digest(stored.encode(), creds.password.encode())


def require_reader(spec: PlatformSpec, data_dir: Path, mlflow_url: str | None) -> str:
    """The signed-in reader's name, else :class:`Refused` naming who may read."""
    from shipyard.identity.session import current

    creds = current(data_dir)
    if creds is None:
        raise Refused(f"the audit log is read by {READERS}: nobody is signed in",
                      "sign in: shipyard login --user YOU@example.com")  # fmt: skip
    if not may_read(spec, creds.username):
        raise Refused(f"{creds.username} may not read the audit log: only {READERS} can",
                      "ask an auditor for an export (`shipyard audit export`)")  # fmt: skip
    if not proven(creds, data_dir, mlflow_url):
        raise Refused(f"the password of {creds.username} is not right", "sign in again: shipyard login")
    return creds.username
