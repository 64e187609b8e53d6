"""Passwords of people and service accounts: one 0600 file each under ``<data dir>/identity/``.

Made once by ``shipyard up`` and kept across ``down``/``up``; never printed unless asked
(``shipyard login --show-password``)."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

SAFE = re.compile(r"[^A-Za-z0-9@._-]")


def identity_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "identity"


def password_file(data_dir: Path, username: str) -> Path:
    return identity_dir(data_dir) / "passwords" / SAFE.sub("_", username.lower())


def write_secret(path: Path, value: str) -> None:
    """Write ``value`` to a 0600 file atomically (never readable by others, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    os.replace(tmp, path)


def read_secret(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def ensure_password(data_dir: Path, username: str) -> str:
    """The user's password, created (random, 32 characters) the first time."""
    path = password_file(data_dir, username)
    existing = read_secret(path)
    if existing:
        return existing
    value = secrets.token_urlsafe(24)
    write_secret(path, value)
    return value


def password(data_dir: Path, username: str) -> str | None:
    return read_secret(password_file(data_dir, username))


def ensure_flask_secret(data_dir: Path) -> str:
    path = identity_dir(data_dir) / "mlflow-flask-secret"
    existing = read_secret(path)
    if existing:
        return existing
    value = secrets.token_hex(32)
    write_secret(path, value)
    return value
