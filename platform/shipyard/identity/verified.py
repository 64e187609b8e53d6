"""The signed-in account of this process, verified: ``$MLFLOW_TRACKING_USERNAME/PASSWORD`` or the data
dir's ``shipyard login``, and only when its password is the platform's for that account (the data
dir's 0600 password files). A name typed into an environment variable is a claim, not a sign-in."""

from __future__ import annotations

import hmac
from pathlib import Path

from shipyard.identity.mlflow_users import credentials
from shipyard.identity.names import normal
from shipyard.identity.session import current


def verified_account(data_dir: Path) -> str:
    """The verified signed-in account (normalised), or "" (nobody signed in, or a wrong password)."""
    creds = current(data_dir)
    if creds is None or not creds.username:
        return ""
    stored = credentials(data_dir, creds.username)
    if stored is None or not hmac.compare_digest(stored.password.encode(), creds.password.encode()):
        return ""
    return normal(creds.username)
