"""Detached service processes: start, recognise by pid (and start time, so a reused pid is not ours),
stop by process group, and the checks ``up`` runs before starting anything."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def spawn(
    cmd: Sequence[str], log_path: Path, env: Mapping[str, str], cwd: Path | None = None, nice: int = 0
) -> subprocess.Popen:
    """Start ``cmd`` in its own session (so ``down`` can stop its whole process group).

    ``nice`` > 0 lowers its CPU priority (and that of every process it starts later).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = list(cmd)
    nice_tool = shutil.which("nice", path=os.defpath) if nice else None
    if nice_tool:
        # coreutils `nice` lowers the priority before it execs the service: nothing the service starts,
        # however early, runs at the old one (setting it from here after Popen races a quick fork)
        argv = [nice_tool, "-n", str(nice), *argv]
    with open(log_path, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(cmd)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            umask=0o077,  # databases, tokens and logs a service writes are its user's alone
        )
    if nice and not nice_tool:
        # no `nice` on this system: set it from here (not in a preexec_fn, unsafe with `up`'s threads)
        try:
            os.setpriority(os.PRIO_PROCESS, proc.pid, os.getpriority(os.PRIO_PROCESS, 0) + nice)
        except OSError:  # gone already: the health check reports it
            pass
    return proc


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()  # fields from 'state' (field 3) on


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot): pid + start time names one process."""
    fields = _stat(pid)
    return fields[19] if fields else None


def is_alive(pid: int | None, started: str | None = None) -> bool:
    if not pid:
        return False
    fields = _stat(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return started is None or fields[19] == started


def reap(pid: int) -> None:
    """Collect a child's exit status if it is our child (a library caller of ``up``), else nothing."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def group_members(pgid: int) -> list[int]:
    """Live processes in process group (or session) ``pgid``: a service's workers outlive its parent."""
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for name in entries:
        if not name.isdigit():
            continue
        fields = _stat(int(name))
        if fields and fields[0] not in ("Z", "X") and pgid in (int(fields[2]), int(fields[3])):
            found.append(int(name))
    return found


def leftover_group(pid: int | None, started: str | None) -> list[int]:
    """The processes of a service whose recorded parent ``pid`` died (e.g. ``kill -9``) but whose group
    lives on. Linux never hands out a pid still used as a group id, so a live group with that id is
    ours; if the pid now names another process (started at another time), the group is long gone."""
    if not pid:
        return []
    fields = _stat(pid)
    if fields is not None and fields[0] not in ("Z", "X") and started is not None and fields[19] != started:
        return []  # the pid was reused: our group ended before that
    return [p for p in group_members(pid) if p != pid or not is_alive(pid, started)]


def stop(pid: int, started: str | None, timeout: float = 20) -> bool:
    """SIGTERM the process group of ``pid``, then SIGKILL after ``timeout``; also when only the group
    outlived its parent. True if anything of it was running."""
    if not is_alive(pid, started) and not leftover_group(pid, started):
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return True
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            reap(pid)
            if not is_alive(pid, started) and not leftover_group(pid, started):
                return True
            time.sleep(0.1)
    return True


def port_owner(port: int) -> int | None:
    """The pid listening on TCP ``port`` (any address), if it is visible to us."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{name}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{name}/fd/{fd}") in targets:
                    return int(name)
            except OSError:
                continue
    return None


def group_of(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[2]) if fields else None


def command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:120] or "?"


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def free_port(host: str = "127.0.0.1") -> int:
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct free ports: all held open while choosing (one at a time may repeat one)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def tail(path: Path, lines: int = 15) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.rstrip().splitlines()[-lines:])
