"""The embedded Label Studio's admin credentials: generated once, kept 0600 in
``<data dir>/label-studio/credentials.json``. Read by the service that starts Label Studio and by
``Context.endpoints`` (its token), so neither imports the other."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

ADMIN = "admin@shipyard.local"
CREDENTIALS_FILE = "credentials.json"


def credentials(root: Path) -> dict[str, str]:
    """The admin credentials of the Label Studio under ``root`` (created on first call)."""
    path = root / CREDENTIALS_FILE
    if path.exists():
        return json.loads(path.read_text())
    root.mkdir(parents=True, exist_ok=True)
    creds = {"username": ADMIN, "password": secrets.token_urlsafe(12), "token": secrets.token_hex(20)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(creds, indent=2))
    tmp.chmod(0o600)
    os.replace(tmp, path)
    return creds
