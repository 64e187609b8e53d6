"""``up`` and ``down`` of the embedded platform (``status``: local/status.py; whether it runs:
local/readiness.py).

``up`` checks everything it can before starting anything (binaries, ports), then starts every
service in parallel and waits for each health check. If one fails, it stops everything this call
started and raises a :class:`UserError` naming the service with the last lines of its log.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shipyard.errors import ServiceFailed, UserError
from shipyard.local import process
from shipyard.local.service import Context, Service
from shipyard.local.services import collect
from shipyard.local.status import PlatformStatus, status
from shipyard.platform.layout import DataLayout
from shipyard.platform.resolver import locate_data_dir, resolve_platform
from shipyard.platform.state import ServiceRecord, State, has_state, read_state, write_state
from shipyard.spec import PlatformSpec

Echo = Callable[[str], None]
# seconds between SIGTERM and SIGKILL in `down`: MLflow's server lingers ~20 s after SIGTERM; SQLite,
# the Prometheus WAL and the pushgateway's persistence file (written on SIGTERM) all survive a kill.
STOP_TIMEOUT = 8
# what a `git push` needs: its CI run is recorded in MLflow by the runner, installs shipyard from the
# package index and submits to the registry; Label Studio, Prometheus and the portal can come later
PUSH_SERVICES = frozenset({"mlflow", "ci-runner", "registry", "package-index"})
# the other services (Label Studio's migrations above all) run at a lower CPU priority: on a small
# machine they would otherwise take half the CPU from MLflow's start and from CI runs later; they get
# all of it when nothing on the push path needs it
BACKGROUND_NICE = 10
GRAFANA_NOTE = (
    "no Grafana server runs on one machine (none is packaged for it); dashboards go to "
    "services.grafana.url when the spec sets one"
)


@dataclass
class UpResult:
    status: PlatformStatus
    started: list[str]
    already_running: list[str]
    wall_seconds: float
    start_seconds: dict[str, float]  # each started service's own spawn -> healthy time
    prepare_seconds: dict[str, float]  # venv creation, config generation (before spawn)
    ready_for_push_seconds: float | None = None  # up's start -> every PUSH_SERVICES one healthy


class _Aborted(Exception):
    pass


def _record_governance(spec: PlatformSpec, spec_file: Path | None, layout: DataLayout) -> None:
    """A spec whose gates, tiers or governing people changed since the last `up`: an audit event."""
    from shipyard.audit.changes import actor, record_governance
    from shipyard.audit.store import AuditStore

    record_governance(AuditStore.of(layout.root), spec, actor(layout.root), str(spec_file or ""))


def _context(spec: PlatformSpec, spec_file: Path | None, layout: DataLayout) -> Context:
    return Context(spec=spec, spec_path=spec_file, layout=layout)


@contextmanager
def _locked(layout: DataLayout):
    layout.root.mkdir(parents=True, exist_ok=True)
    with open(layout.lock_file, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# --- up ---------------------------------------------------------------------------------------


def up(
    spec_path: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    echo: Echo = print,
) -> UpResult:
    # the spec: given, else the one the data dir's platform was started with, else ./platform.yaml
    platform = resolve_platform(spec_path, data_dir)
    spec, spec_file, layout = platform.spec, platform.spec_path, platform.layout
    assert spec is not None and spec_file is not None  # resolve_platform requires a spec
    layout.ensure()
    ctx = _context(spec, spec_file, layout)
    wall_start = time.monotonic()
    clock = lambda: f"[{time.monotonic() - wall_start:5.1f}s]"  # noqa: E731
    print_lock = threading.Lock()

    def say(name: str, message: str) -> None:
        with print_lock:
            echo(f"{clock()} {name:<13} {message}")

    with _locked(layout):
        endpoints = ctx.endpoints(create_credentials=True)  # first: services read the Label Studio token
        from shipyard.identity.mlflow_users import ensure_secrets  # requests: not for `status`

        ensure_secrets(spec, layout.root)  # and MLflow's users' passwords
        _record_governance(spec, spec_file, layout)
        services = collect(ctx)
        state = read_state(layout)
        state.spec_path = str(spec_file)
        already, to_start = [], []
        for svc in services:
            rec = state.services.get(svc.name)
            if rec and process.is_alive(rec.pid, rec.proc_start):
                already.append(svc.name)
                say(svc.name, f"already running (pid {rec.pid}){'' if svc.healthy() else ', NOT healthy'}")
            else:
                to_start.append(svc)
                if rec and rec.pid and process.leftover_group(rec.pid, rec.proc_start):
                    # its parent died (kill -9, OOM) but its workers still hold the port: stop them
                    say(svc.name, f"stopping what is left of its last run (process group {rec.pid})")
                    process.stop(rec.pid, rec.proc_start, timeout=STOP_TIMEOUT)
        _stop_own_port_holders(ctx, to_start, state, say)
        _preflight(ctx, to_start)
        state.endpoints = endpoints.as_dict()
        write_state(layout, state)
        if spec.services.grafana.enabled and not spec.services.grafana.url:
            say("grafana", GRAFANA_NOTE)

        abort = threading.Event()
        push_needs = {s.name for s in services if s.name in PUSH_SERVICES}
        healthy_now = set(already)
        ready_for_push: list[float] = []

        def note_healthy(name: str | None = None) -> None:
            with print_lock:
                if name:
                    healthy_now.add(name)
                if ready_for_push or not push_needs <= healthy_now:
                    return
                ready_for_push.append(time.monotonic() - wall_start)
            say("platform", f"ready for push ({', '.join(sorted(push_needs))} healthy)")

        note_healthy()  # what already ran may be all a push needs
        start_seconds: dict[str, float] = {}
        prepare_seconds: dict[str, float] = {}
        failures: list[BaseException] = []
        started_now: list[str] = []

        def run_one(svc: Service) -> None:
            try:
                _start_one(ctx, svc, state, abort, lambda m: say(svc.name, m), start_seconds, prepare_seconds,
                           started_now)  # fmt: skip
                note_healthy(svc.name)
            except _Aborted:
                say(svc.name, "start cancelled (another service failed)")
            except (UserError, ServiceFailed) as exc:
                failures.append(exc)
                abort.set()
            except Exception as exc:  # e.g. an unwritable data dir: still name the service
                failures.append(ServiceFailed(svc.name, f"{type(exc).__name__}: {exc}", None))
                abort.set()

        if to_start:
            with ThreadPoolExecutor(max_workers=len(to_start)) as pool:
                list(pool.map(run_one, to_start))
        if failures:
            for name in started_now:
                rec = state.services[name]
                if rec.pid:
                    process.stop(rec.pid, rec.proc_start, timeout=10)
                rec.pid = rec.proc_start = None
            write_state(layout, state)
            raise _as_user_error(failures[0], started_now)
        write_state(layout, state)
        layout.secure()  # the databases the services created on this start: 0600

    return UpResult(
        status=status(spec_path=spec_file, data_dir=layout.root),
        started=[s.name for s in to_start],
        already_running=already,
        wall_seconds=time.monotonic() - wall_start,
        start_seconds=start_seconds,
        prepare_seconds=prepare_seconds,
        ready_for_push_seconds=ready_for_push[0] if ready_for_push else None,
    )


def _stop_own_port_holders(ctx: Context, services: list[Service], state: State, say) -> None:
    """A port held by a process of a group this data dir once started (its pidfile record lost its
    parent) is ours to free; a port held by anything else is left alone (_preflight names it)."""
    ours = {rec.pid for rec in state.services.values() if rec.pid}
    for svc in services:
        if not svc.port or not process.port_in_use(ctx.host, svc.port):
            continue
        owner = process.port_owner(svc.port)
        group = process.group_of(owner) if owner else None
        if group and group in ours:
            say(svc.name, f"port {svc.port} is held by pid {owner} of an earlier run: stopping its group")
            process.stop(group, None, timeout=STOP_TIMEOUT)


def _preflight(ctx: Context, services: list[Service]) -> None:
    for svc in services:
        for binary in svc.binaries:
            if not (
                shutil.which(binary.path) or (os.path.isfile(binary.path) and os.access(binary.path, os.X_OK))
            ):
                raise UserError(
                    f"{svc.name}: the binary {binary.path!r} is not installed (not on PATH)", binary.fix
                )
        if svc.port and process.port_in_use(ctx.host, svc.port):
            key = svc.name.replace("-", "_")
            owner = process.port_owner(svc.port)
            who = f" (pid {owner}: {process.command_line(owner)})" if owner else ""
            raise UserError(
                f"{svc.name}: port {svc.port} on {ctx.host} is already in use by another process{who}",
                f"stop that process, or set local.ports.{key} in the spec to a free port "
                f"(nothing was started)",
            )


def _start_one(
    ctx: Context,
    svc: Service,
    state: State,
    abort: threading.Event,
    report: Callable[[str], None],
    start_seconds: dict[str, float],
    prepare_seconds: dict[str, float],
    started_now: list[str],
) -> None:
    log = ctx.layout.log(svc.name)
    t0 = time.monotonic()
    if svc.prepare:
        svc.prepare(report)
        prepare_seconds[svc.name] = time.monotonic() - t0
    if abort.is_set():
        raise _Aborted
    cmd = svc.command()
    t1 = time.monotonic()
    nice = 0 if svc.name in PUSH_SERVICES else BACKGROUND_NICE
    proc = process.spawn(cmd, log, svc.env, svc.cwd, nice=nice)
    pid = proc.pid
    rec = ServiceRecord(
        name=svc.name,
        pid=pid,
        proc_start=process.start_time(pid),
        port=svc.port,
        url=svc.url,
        log=str(log),
        started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    state.services[svc.name] = rec
    started_now.append(svc.name)
    write_state(ctx.layout, state)
    report(f"starting (pid {pid}), waiting for its health check")
    deadline, next_note = t1 + svc.start_timeout, t1 + 15
    while True:
        code = proc.poll()
        if code is not None:
            raise ServiceFailed(svc.name, f"exited during start (exit code {code})", log)
        if svc.healthy():
            break
        if abort.is_set():
            raise _Aborted
        now = time.monotonic()
        if now > deadline:
            raise ServiceFailed(svc.name, f"not healthy after {svc.start_timeout:.0f}s", log)
        if now > next_note:
            report(f"still starting ({now - t1:.0f}s)")
            next_note = now + 15
        time.sleep(0.25)
    if svc.after_start:
        svc.after_start(report)
    rec.start_seconds = round(time.monotonic() - t1, 2)
    start_seconds[svc.name] = rec.start_seconds
    write_state(ctx.layout, state)
    report(f"healthy in {rec.start_seconds:.1f}s  {svc.url or ''}")


def _as_user_error(exc: BaseException, started: list[str]) -> UserError:
    stopped = f"stopped what this `up` started ({', '.join(started)})" if started else "nothing was started"
    if isinstance(exc, ServiceFailed):
        if exc.log is None:  # failed before it ran: preparing its files
            return UserError(
                f"{exc.service} failed to start: {exc.reason}",
                f"check that the data dir is writable and its files are what Shipyard made ({stopped})",
            )
        return UserError(
            f"{exc.service} failed to start: {exc.reason}; last lines of {exc.log}:\n{process.tail(exc.log)}",
            f"fix the cause shown in the log and run `shipyard up` again ({stopped})",
        )
    if isinstance(exc, UserError):
        return UserError(exc.message, f"{exc.fix} ({stopped})")
    return UserError(
        f"starting the platform failed: {type(exc).__name__}: {exc}", f"report this bug ({stopped})"
    )


# --- down -------------------------------------------------------------------------------------


def down(data_dir: str | os.PathLike | None = None, spec_path: str | os.PathLike | None = None) -> list[str]:
    """Stop what ``up`` started (by recorded pid); never deletes data. Returns the names stopped."""
    layout = DataLayout(locate_data_dir(spec_path, data_dir))
    if not has_state(layout):
        return []
    with _locked(layout):
        state = read_state(layout)
        stopped: list[str] = []
        # the runner first: it records an interrupted run in MLflow on its way out
        order = sorted(state.services.values(), key=lambda r: r.name != "ci-runner")
        first, rest = order[:1], order[1:]
        for group in (first, rest):
            with ThreadPoolExecutor(max_workers=max(1, len(group))) as pool:
                results = list(
                    pool.map(
                        lambda r: (
                            r,
                            process.stop(r.pid, r.proc_start, timeout=STOP_TIMEOUT) if r.pid else False,
                        ),
                        group,
                    )
                )
            for rec, was_running in results:
                if was_running:
                    stopped.append(rec.name)
                rec.pid = rec.proc_start = None
        write_state(layout, state)
    return stopped
