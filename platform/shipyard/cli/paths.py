"""Path and port arguments, checked where the user gives them: one named error (exit 2) each, never a
traceback from the first write deep inside a command.

``--data-dir`` goes through :func:`data_dir_arg` (every command, via ``options.DataDirOpt``), output
files through :func:`write_output`, output and data directories through :func:`writable_dir`.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from shipyard.errors import BadInput

MAX_PORT = 65535


def _plain(raw: str, flag: str, example: str) -> str:
    if raw == "":
        raise BadInput(f"{flag} is empty", f"pass a path, e.g. {flag} {example}, or leave {flag} out")
    if any(ord(c) < 32 or c == "\x7f" for c in raw):
        raise BadInput(
            f"{flag} {raw!r} contains a control character", f"pass a path on one line, e.g. {example}"
        )
    return raw


def data_dir_arg(raw: str) -> Path:
    """``--data-dir``: a folder (or one still to be made), never a file or the empty string (which would
    have meant the current directory)."""
    path = Path(_plain(raw, "--data-dir", "~/.shipyard")).expanduser()
    if path.exists() and not path.is_dir():
        raise BadInput(
            f"--data-dir {raw} is a file, not a directory",
            "pass the platform's data dir (a folder, e.g. ~/.shipyard), or leave --data-dir out",
        )
    return path


def output_file_arg(raw: str) -> Path:
    return Path(_plain(raw, "--out", "audit.jsonl"))


def _why(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno in (errno.EROFS,):
        return "the file system is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or type(exc).__name__


def writable_dir(path: Path, flag: str) -> Path:
    """``path`` as a directory this process can create files in, or can create (nothing is made here).
    Probed by writing in it, or in its nearest existing parent: root passes permission bits on a
    read-only mount or in /proc."""
    if path.exists() and not path.is_dir():
        raise BadInput(f"{flag} {path} is a file, not a directory", f"pass a directory to {flag}")
    existing = next((p for p in [path, *path.parents] if p.exists()), Path("/"))
    if not existing.is_dir():
        raise BadInput(f"{flag} {path}: {existing} is a file, not a directory", f"pass a directory to {flag}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".shipyard-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise BadInput(
            f"{flag} {path}: cannot write in {existing} ({_why(exc)})",
            f"pass a directory you can write to {flag}",
        ) from None
    return path


def check_output_file(path: Path, flag: str = "--out") -> Path:
    """Before the work: ``path`` can become a file (not a directory or a device; its folder exists)."""
    if path.is_dir():
        raise BadInput(
            f"{flag} {path} is a directory", f"pass a file name, e.g. {flag} {path / 'export.jsonl'}"
        )
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        raise BadInput(
            f"{flag} {path} is not a regular file (a device or a pipe)", f"pass a file name to {flag}"
        )
    if not path.parent.is_dir():
        raise BadInput(
            f"{flag} {path}: the folder {path.parent} does not exist",
            f"create it first: mkdir -p {path.parent}",
        )
    return path


def write_output(path: Path, text: str, flag: str = "--out") -> None:
    """Write ``text`` to the file ``path`` whole or not at all (a temp file in its folder, then renamed)."""
    folder = check_output_file(path, flag).parent
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise BadInput(
            f"{flag} {path}: cannot write it ({_why(exc)})", f"pass a file you can write to {flag}"
        ) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def port_arg(value: int | None, flag: str = "--port") -> int | None:
    if value is not None and not 1 <= value <= MAX_PORT:
        raise BadInput(
            f"{flag} {value} is not a TCP port", f"pass a port between 1 and {MAX_PORT}, e.g. {flag} 8501"
        )
    return value
