"""Where and as whom an embedded CI job runs: never with the platform's keys.

A job runs the project's code (its Makefile, its tests): anything it can read, anyone who can push
can read. So, when the platform runs as root (as on these machines), each job runs as the dedicated
unprivileged Unix user :data:`CI_USER` (created on first use, or ``$SHIPYARD_CI_USER``), in its own
folder outside the data dir (checkout, HOME, caches and its own DVC remote), with only the project's
CI credential in its environment and no ``$SHIPYARD_HOME``. The data dir is 0700 and its secrets 0600,
owned by the platform's user: the job cannot list or read them. The objects the job pushed to its own
DVC remote are copied into the team's remote after the job, each checked against its md5 name.

When the platform itself runs as a non-root user it cannot switch users: the job then runs as the
platform's own user and CAN read the data dir whatever its path. The runner says so in every job's
log (:data:`UNISOLATED_WARNING`); run the platform as root, or only push code you trust.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from shipyard.platform.env import ENV_CI_USER
from shipyard.records.artifact_files import md5_of

CI_USER = "shipyard-ci"
UNISOLATED_WARNING = (
    "==! shipyard ci: WARNING: the platform runs as {user}, not root, so this job runs as {user} too: "
    "it CAN read the platform's data dir and secrets. Run `shipyard up` as root to isolate CI jobs.\n"
)


@dataclass(frozen=True)
class JobUser:
    name: str
    uid: int | None = None  # None: the platform's own user (not isolated)
    gid: int | None = None

    @property
    def isolated(self) -> bool:
        return self.uid is not None


def job_user() -> JobUser:
    """The unprivileged user jobs run as (created if missing); the platform's own when not root."""
    if os.geteuid() != 0:
        return JobUser(getpass.getuser())
    name = os.environ.get(ENV_CI_USER) or CI_USER
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", name],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        entry = pwd.getpwnam(name)
    if entry.pw_uid == 0:
        raise RuntimeError(f"{ENV_CI_USER}={name} is root: CI jobs must run as an unprivileged user")
    return JobUser(name, entry.pw_uid, entry.pw_gid)


def lock_data_dir(data_dir: Path) -> None:
    """Only the platform's user may enter the data dir."""
    os.chmod(data_dir, 0o700)


def jobs_root(data_dir: Path) -> Path:
    """The folder of this platform's job folders, outside the data dir: traversable, not listable."""
    key = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / f"shipyard-ci-{key}"
    root.mkdir(mode=0o711, exist_ok=True)
    if root.is_symlink() or root.stat().st_uid != os.geteuid():
        raise RuntimeError(f"{root} is not the platform's own folder: remove it and start the runner again")
    os.chmod(root, 0o711)
    return root


def job_dir(data_dir: Path, run_id: str) -> Path:
    path = jobs_root(data_dir) / run_id
    shutil.rmtree(path, ignore_errors=True)
    for sub in ("", "home", "dvc-remote", "dvc-site-cache"):
        (path / sub).mkdir(mode=0o700, exist_ok=True)
    return path


def hand_over(path: Path, user: JobUser) -> None:
    """Make the job's folder (checkout included) the job user's, and only theirs."""
    if not user.isolated:
        return
    for root, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            os.lchown(os.path.join(root, name), user.uid, user.gid)
    os.chown(path, user.uid, user.gid)
    os.chmod(path, 0o700)


# inherited variables a job must not see: they would point the project at another platform
_CONTRACT_PREFIXES = ("MLFLOW_", "SHIPYARD_", "LABEL_STUDIO_", "GRAFANA_", "GIT_", "DVC_")


def clean_env() -> dict[str, str]:
    """This process's environment without the platform's own variables (a CI or reproduce job's base)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_CONTRACT_PREFIXES)}


def env(work: Path) -> dict[str, str]:
    """The job's own HOME, caches and DVC remote (the platform merges what it pushed: :func:`merge`)."""
    home = work / "home"
    return {
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "DVC_SITE_CACHE_DIR": str(work / "dvc-site-cache"),
        "TMPDIR": str(home),
    }


def merge(staging: Path, remote: Path) -> tuple[int, list[str]]:
    """Copy the DVC objects a job pushed into the team's remote, each only if its bytes hash to its
    name (``files/md5/ab/cdef…``). Returns (objects copied, objects refused)."""
    copied, refused = 0, []
    base = staging / "files" / "md5"
    if not base.is_dir():
        return 0, []
    for obj in sorted(base.glob("*/*")):
        name = obj.parent.name + obj.name.removesuffix(".dir")  # a directory's listing: <md5>.dir
        if obj.is_symlink() or not obj.is_file():
            refused.append(name)
            continue
        digest = md5_of(obj)
        if digest != name:
            refused.append(name)
            continue
        dest = remote / "files" / "md5" / obj.parent.name / obj.name
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.tmp")
            shutil.copyfile(obj, tmp)
            os.replace(tmp, dest)
            copied += 1
    return copied, refused


# Run in a private mount namespace as root, then as the job user: a folder on the way to the
# platform's Python that others may not enter (e.g. /root, 0700) is covered by an empty tmpfs and only
# the Python's own tree is bound back, read-only: the job runs the platform's tools and sees nothing
# else of that folder.
_MOUNT_SCRIPT = """set -e
uid="$1"; gid="$2"; shift 2
while [ "$1" != "--" ]; do
  hide="$1"; keep="$2"; shift 2
  stash="$(mktemp -d)"
  mount --bind "$keep" "$stash"
  mount -t tmpfs -o mode=0755,size=1m shipyard-ci "$hide"
  mkdir -p "$keep"
  mount --bind "$stash" "$keep"
  mount -o remount,bind,ro "$keep"
  umount -l "$stash"; rmdir "$stash"
done
shift
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all --bounding-set=-all "$@"
"""


def _closed_ancestors(targets: list[Path]) -> list[tuple[str, str]]:
    """(folder others cannot enter, its child on the way to a target) for each target."""
    pairs: list[tuple[str, str]] = []
    for target in targets:
        parts = target.resolve().parts
        for i in range(1, len(parts) - 1):
            folder = Path(*parts[: i + 1])
            if not os.stat(folder).st_mode & 0o001:
                pair = (str(folder), str(Path(*parts[: i + 2])))
                if pair not in pairs:
                    pairs.append(pair)
                break
    return pairs


def command(user: JobUser, argv: list[str], tools: list[Path]) -> tuple[list[str], dict]:
    """The command line and ``Popen`` arguments that run ``argv`` as ``user`` with ``tools`` (the
    platform's Python) reachable."""
    if not user.isolated:
        return argv, {}
    pairs = _closed_ancestors(tools)
    if not pairs:
        return argv, {"user": user.uid, "group": user.gid, "extra_groups": [], "umask": 0o077}
    flat = [x for pair in pairs for x in pair]
    wrapped = ["unshare", "--mount", "--propagation", "private", "sh", "-c", _MOUNT_SCRIPT, "shipyard-ci-job",
               str(user.uid), str(user.gid), *flat, "--", *argv]  # fmt: skip
    return wrapped, {"umask": 0o077}
