"""Label Studio in its own virtual environment (its pins clash with Shipyard's), with its own HOME.

The admin user and a legacy API token are created non-interactively on the very first start
(``LABEL_STUDIO_USER_TOKEN`` + ``LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN``: later starts cannot enable
it). The credentials are generated once and kept in ``<data dir>/label-studio/credentials.json``.

A new data dir starts from a copy of an empty database that Label Studio migrated once for its venv
(:func:`empty_database`): its ~400 migrations take ~30 s of CPU on a 2-core machine, every time.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from shipyard.errors import UserError
from shipyard.local.label_studio_admin import credentials
from shipyard.local.service import Context, Report, Service
from shipyard.platform.env import (
    ENV_LABEL_STUDIO_DATA_DIR,
    ENV_LABEL_STUDIO_LEGACY_TOKEN,
    ENV_LABEL_STUDIO_NO_SIGNUP,
    ENV_LABEL_STUDIO_PASSWORD,
    ENV_LABEL_STUDIO_USER_TOKEN,
    ENV_LABEL_STUDIO_USERNAME,
)
from shipyard.platform.env import ENV_LABEL_STUDIO_VENV as VENV_ENV

LOCKS = Path(__file__).resolve().parents[2] / "data" / "locks"  # label-studio-<version>.lock (./dev lock)
LOCK_STAMP = ".shipyard-lock.sha"  # the sha256 of the lock a venv was built from
BUILDING = ".shipyard-building"  # present while Shipyard builds a venv: a crash leaves it to rebuild
OLD_STAMP = ".shipyard-label-studio"  # before locks: held the version only
DATABASE = "label_studio.sqlite3"  # Label Studio's SQLite file in its data dir
# Not passed on to the migration of the empty database: they would point it at another Python,
# database or data dir.
FOREIGN_ENV = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "DJANGO_DB",
    "DATABASE_NAME",
    ENV_LABEL_STUDIO_DATA_DIR,
)


def venv_dir(ctx: Context) -> Path:
    return Path(os.environ.get(VENV_ENV) or ctx.layout.tools / "label-studio").expanduser().resolve()


def lock_file(version: str) -> Path:
    """The hashed lock that Label Studio ``version``'s venv is installed from (shipped in the package)."""
    lock = LOCKS / f"label-studio-{version}.lock"
    if not (lock.is_file() and lock.with_suffix(".build.lock").is_file()):
        names = (re.fullmatch(r"label-studio-(.+)\.lock", p.name) for p in LOCKS.glob("*.lock"))
        shipped = sorted(m[1] for m in names if m and not m[1].endswith(".build"))
        raise UserError(
            f"services.label_studio.version: {version!r} has no lock shipped with Shipyard "
            f"(locked: {', '.join(shipped) or 'none'})",
            f"set services.label_studio.version to {shipped[-1] if shipped else 'a locked version'}, or turn "
            "local.label_studio off",
        )
    return lock


def lock_digest(lock: Path) -> str:
    """The digest a venv built from ``lock`` (and its build constraints) is stamped with."""
    return hashlib.sha256(lock.read_bytes() + lock.with_suffix(".build.lock").read_bytes()).hexdigest()


def _uv() -> str:
    try:
        from uv import find_uv_bin  # a dependency of shipyard

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return found
    raise UserError(
        "label-studio: uv is needed to install its locked virtual environment, and none is installed",
        "install Shipyard with its dependencies (./dev setup, or pip install shipyard), or set "
        "local.label_studio: false in the spec",
    )


def ensure_venv(venv: Path, version: str, report: Report) -> Path:
    """``venv`` installed exactly from Label Studio ``version``'s shipped lock (hashes required); a venv
    stamped with another lock's digest, or left half-built, is built anew. Returns its ``label-studio``."""
    lock = lock_file(version)
    want = lock_digest(lock)
    exe = venv / "bin" / "label-studio"
    stamp = venv / LOCK_STAMP
    if exe.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return exe
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as flock:
        fcntl.flock(flock, fcntl.LOCK_EX)  # a parallel `up` (another test session) builds it once
        if exe.exists() and stamp.exists() and stamp.read_text().strip() == want:
            return exe
        _clear_own_venv(venv)
        venv.mkdir(parents=True, exist_ok=True)
        (venv / BUILDING).write_text(want)  # ours from here on: a crash leaves it to be built anew
        report(f"creating its virtual environment from {lock.name} (first time: ~1 min, ~1 GB) in {venv}")
        uv, python = _uv(), str(venv / "bin" / "python")
        # the few packages that are source only build with the locked setuptools (hashes checked too)
        steps = [
            [uv, "venv", "-q", "--allow-existing", "--python", sys.executable, str(venv)],
            [uv, "pip", "sync", "--python", python, "--require-hashes", "--build-constraints",
             str(lock.with_suffix(".build.lock")), str(lock)],
        ]  # fmt: skip
        log = venv.parent / f"{venv.name}-install.log"
        with open(log, "w") as out:
            for cmd in steps:
                _run_with_ticker(cmd, out, log, report)
        stamp.write_text(want)
        (venv / BUILDING).unlink()
    return exe


def _clear_own_venv(venv: Path) -> None:
    """Remove a venv Shipyard built (any lock, or half-built); refuse to touch anyone else's."""
    if not venv.exists() or not any(venv.iterdir()):
        return
    if not any((venv / mark).exists() for mark in (LOCK_STAMP, BUILDING, OLD_STAMP)):
        raise UserError(
            f"${VENV_ENV}: {venv} is not a Label Studio venv that Shipyard built from its lock",
            f"unset ${VENV_ENV} (Shipyard builds its own), or point it at a new or empty directory",
        )
    shutil.rmtree(venv)


def empty_database(venv: Path, version: str, report: Report) -> Path | None:
    """Label Studio's database with every migration applied and nothing else (no user, no secret), made
    once per venv and version; None when it cannot be made (Label Studio then migrates its own)."""
    made = venv / ".shipyard-empty-database" / version / DATABASE
    if made.exists():
        return made
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a parallel `up` waits for the one that migrates
        if made.exists():
            return made
        report("migrating an empty database once for new data dirs (~30 s)")
        made.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=made.parent) as tmp:
            # every command of its CLI migrates its database first: `version` then only prints
            env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
            env.update(HOME=tmp, LATEST_VERSION_CHECK="false", COLLECT_ANALYTICS="false")
            data = Path(tmp) / "data"
            cmd = [str(venv / "bin" / "label-studio"), "version", "--data-dir", str(data)]
            try:
                done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
            except (OSError, subprocess.TimeoutExpired) as exc:
                report(f"could not migrate an empty database ({exc}): Label Studio migrates its own")
                return None
            if done.returncode != 0 or not (data / DATABASE).exists():
                last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                report(
                    f"could not migrate an empty database ({last[0][:120]}): Label Studio migrates its own"
                )
                return None
            os.replace(data / DATABASE, made)  # whole or not at all
    return made


def _seed_database(data: Path, empty: Path | None) -> None:
    """A data dir without a database gets a copy of the empty one (Label Studio's own `.env` secret and
    its admin are made at its first start, as without the copy)."""
    target = data / DATABASE
    if empty is None or target.exists():
        return
    partial = target.with_name(f".{DATABASE}.partial")
    shutil.copyfile(empty, partial)
    os.replace(partial, target)


def _run_with_ticker(cmd: list[str], out, log: Path, report: Report) -> None:
    """Run an installer, reporting its latest output line every few seconds (the progress display)."""
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    start = time.monotonic()
    done = threading.Event()

    def ticker() -> None:
        while not done.wait(5):
            lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
            last = lines[-1].strip()[:70] if lines else "resolving"
            report(f"installing label-studio ({time.monotonic() - start:.0f}s): {last}")

    threading.Thread(target=ticker, daemon=True).start()
    rc = proc.wait()
    done.set()
    if rc != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise UserError(
            f"label-studio: creating its virtual environment failed (exit {rc}); "
            f"last lines of {log}:\n{tail}",
            "check the network access to PyPI (or the index uv/pip are configured with) and run it again; "
            "or set local.label_studio: false in the spec",
        )


def services(ctx: Context) -> list[Service]:
    if not (ctx.spec.local.label_studio and ctx.spec.services.label_studio.enabled):
        return []
    root = ctx.layout.label_studio
    port = ctx.spec.local.ports.label_studio
    url = f"http://{ctx.host}:{port}"
    venv = venv_dir(ctx)
    version = ctx.spec.services.label_studio.version
    home, data = root / "home", root / "data"
    env = {
        **ctx.base_env(),
        "HOME": str(home),  # it writes under $HOME even with a base data dir
        ENV_LABEL_STUDIO_DATA_DIR: str(data),
        ENV_LABEL_STUDIO_LEGACY_TOKEN: "true",
        # no open self-signup: the admin is created by `up`; other users come by invitation link
        ENV_LABEL_STUDIO_NO_SIGNUP: "true",
        "LATEST_VERSION_CHECK": "false",  # it would ask PyPI for its version on every start
        "COLLECT_ANALYTICS": "false",
        "PYTHONUNBUFFERED": "1",
    }
    for key in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(key, None)

    def prepare(report: Report) -> None:
        creds = credentials(root)
        env[ENV_LABEL_STUDIO_USERNAME] = creds["username"]
        env[ENV_LABEL_STUDIO_PASSWORD] = creds["password"]
        env[ENV_LABEL_STUDIO_USER_TOKEN] = creds["token"]
        home.mkdir(parents=True, exist_ok=True)
        data.mkdir(parents=True, exist_ok=True)
        ensure_venv(venv, version, report)
        _seed_database(data, empty_database(venv, version, report))

    def command() -> list[str]:
        return [
            str(venv / "bin" / "label-studio"), "start", "--no-browser",
            "--internal-host", ctx.host, "--port", str(port), "--data-dir", str(data),
        ]  # fmt: skip

    def check_token(report: Report) -> None:
        from shipyard.clients.label_studio import token_status  # `shipyard status` imports this module too

        status = token_status(url, credentials(root)["token"])
        if status >= 400:
            raise UserError(
                f"label-studio: the API token in {root / 'credentials.json'} is refused "
                f"(HTTP {status}); its database was created without it",
                f"move {data} aside and run `shipyard up` again to let Shipyard create the admin user",
            )

    return [
        Service(
            name="label-studio",
            command=command,
            port=port,
            url=url,
            health_url=f"{url}/health",
            env=env,
            cwd=root,
            prepare=prepare,
            after_start=check_token,
            start_timeout=480,
        )
    ]
