"""``up``, ``down`` and ``status`` of the embedded platform.

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
from dataclasses import asdict, dataclass, field
from pathlib import Path

from shipyard.datadir.layout import DataLayout
from shipyard.datadir.state import ServiceRecord, State, load_state, save_state
from shipyard.endpoints import Endpoints, default_data_dir
from shipyard.errors import ServiceFailed, UserError
from shipyard.local import process
from shipyard.local.service import Context, Service, http_ok
from shipyard.local.services import collect
from shipyard.resolver import Platform, endpoints_from_state, spec_path_for
from shipyard.spec import PlatformSpec, load_spec, resolve_spec_path

Echo = Callable[[str], None]
STATUS_SCHEMA = 1
# seconds between SIGTERM and SIGKILL in `down`: MLflow's server lingers ~20 s after SIGTERM; SQLite,
# the Prometheus WAL and the pushgateway's persistence file (written on SIGTERM) all survive a kill.
STOP_TIMEOUT = 8
# what a `git push` needs: its CI run is recorded in MLflow by the runner, installs shipyard from the
# package index and submits to the registry; Label Studio, Prometheus and the portal can come later
PUSH_SERVICES = frozenset({"mlflow", "ci-runner", "registry", "package-index"})
STARTING_WAIT = 120.0  # seconds a command waits for an MLflow that `shipyard up` is still starting
# the other services (Label Studio's migrations above all) run at a lower CPU priority: on a small
# machine they would otherwise take half the CPU from MLflow's start and from CI runs later; they get
# all of it when nothing on the push path needs it
BACKGROUND_NICE = 10
GRAFANA_NOTE = (
    "no Grafana server runs on one machine (none is packaged for it); dashboards go to "
    "services.grafana.url when the spec sets one"
)


# --- status model (the `shipyard status --json` contract, documented in docs/embedded-platform.md) ---


@dataclass
class ServiceStatus:
    name: str
    state: str  # running | starting | stopped | ready | not-run | external
    healthy: bool
    pid: int | None = None
    port: int | None = None
    url: str | None = None
    log: str | None = None
    start_seconds: float | None = None
    detail: str | None = None


@dataclass
class PlatformStatus:
    data_dir: str
    spec_path: str | None
    services: list[ServiceStatus] = field(default_factory=list)
    endpoints: dict = field(default_factory=dict)

    @property
    def running(self) -> bool:
        procs = [s for s in self.services if s.state in ("running", "starting", "stopped")]
        return bool(procs) and all(s.state == "running" and s.healthy for s in procs)

    def service(self, name: str) -> ServiceStatus:
        return next(s for s in self.services if s.name == name)

    def to_json(self) -> dict:
        return {
            "schema": STATUS_SCHEMA,
            "data_dir": self.data_dir,
            "spec": self.spec_path,
            "running": self.running,
            "services": [asdict(s) for s in self.services],
            "endpoints": self.endpoints,
        }


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


# --- resolving spec and data dir -------------------------------------------------------------


def resolve(spec_path: str | os.PathLike | None, data_dir: str | os.PathLike | None):
    """The spec (given, else the one the named data dir's platform was started with, else
    ./platform.yaml: :func:`shipyard.resolver.locate_spec`), its path and the data dir."""
    file = spec_path_for(spec_path, data_dir)
    spec = load_spec(file)
    return spec, file.resolve(), DataLayout(default_data_dir(data_dir, spec))


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
    spec, spec_file, layout = resolve(spec_path, data_dir)
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
        state = load_state(layout.state_file, layout.root)
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
        save_state(layout.state_file, state)
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
            save_state(layout.state_file, state)
            raise _as_user_error(failures[0], started_now)
        save_state(layout.state_file, state)
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
    save_state(ctx.layout.state_file, state)
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
    save_state(ctx.layout.state_file, state)
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
    layout = _layout_only(spec_path, data_dir)
    if not layout.state_file.exists():
        return []
    with _locked(layout):
        state = load_state(layout.state_file, layout.root)
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
        save_state(layout.state_file, state)
    return stopped


def _layout_only(spec_path, data_dir) -> DataLayout:
    """The data dir without requiring a spec (``down``/``status`` work even if the spec moved)."""
    if data_dir or os.environ.get("SHIPYARD_HOME"):
        return DataLayout(default_data_dir(data_dir))
    file = resolve_spec_path(spec_path)
    spec = load_spec(file) if file.exists() else None
    return DataLayout(default_data_dir(None, spec))


# --- status -----------------------------------------------------------------------------------


def status(
    data_dir: str | os.PathLike | None = None, spec_path: str | os.PathLike | None = None
) -> PlatformStatus:
    layout = _layout_only(spec_path, data_dir)
    state = load_state(layout.state_file, layout.root)
    file = Path(state.spec_path) if state.spec_path and not spec_path else resolve_spec_path(spec_path)
    spec = load_spec(file) if file.exists() else None
    result = PlatformStatus(data_dir=str(layout.root), spec_path=str(file) if spec else None)
    result.endpoints = dict(state.endpoints)
    services: list[Service] = collect(_context(spec, file, layout)) if spec else []
    known = {s.name: s for s in services}
    names = list(known) + [n for n in state.services if n not in known]
    for name in names:
        rec = state.services.get(name) or ServiceRecord(name=name)
        svc = known.get(name)
        alive = process.is_alive(rec.pid, rec.proc_start)
        leftover = [] if alive else process.leftover_group(rec.pid, rec.proc_start)
        healthy = bool(alive and (svc.healthy() if svc else True))
        # `up` records start_seconds once the health check passed: alive without it is still starting
        starting = alive and not healthy and rec.start_seconds is None
        result.services.append(
            ServiceStatus(
                name=name,
                state="starting" if starting else ("running" if alive else "stopped"),
                healthy=healthy,
                pid=rec.pid if alive else None,
                port=rec.port or (svc.port if svc else None),
                url=rec.url or (svc.url if svc else None),
                log=rec.log or str(layout.log(name)),
                start_seconds=rec.start_seconds,
                detail=f"its parent died; {len(leftover)} process(es) of its group remain "
                "(`shipyard down` or `shipyard up` stops them)"
                if leftover
                else None,
            )
        )
    if spec is not None and spec.services.dvc.enabled and spec.services.dvc.remote == "s3":
        result.services.append(
            ServiceStatus(
                name="dvc-remote",
                state="external",
                healthy=True,
                url=result.endpoints.get("dvc_remote_root"),
                detail=f"S3 remote at {spec.services.dvc.endpoint_url or 'AWS'}",
            )  # fmt: skip
        )
    elif spec is None or spec.services.dvc.enabled:
        remote = layout.dvc_remote
        result.services.append(
            ServiceStatus(
                name="dvc-remote",
                state="ready" if remote.is_dir() else "stopped",
                healthy=remote.is_dir(),
                url=str(remote),
                detail="a local directory remote; one prefix per team/project",
            )
        )
    if spec is not None and spec.services.grafana.enabled:
        result.services.append(
            ServiceStatus(
                name="grafana",
                state="not-run",
                healthy=False,
                url=spec.services.grafana.url,
                detail="no Grafana server on one machine",
            )  # fmt: skip
        )
    return result


def load_endpoints(data_dir: str | os.PathLike | None = None, require_running: bool = True) -> Endpoints:
    """The endpoints of the embedded platform in ``data_dir`` (Label Studio token included)."""
    layout = DataLayout(default_data_dir(data_dir))
    state = load_state(layout.state_file, layout.root)
    if not state.endpoints:
        raise UserError(
            f"no embedded platform has been started in {layout.root}",
            f"start it: shipyard up --data-dir {layout.root}",
        )
    if require_running:
        _check_running(layout, state)
    return endpoints_from_state(state.endpoints)


def require_running(platform: Platform) -> None:
    """On one machine: that ``shipyard up`` started this platform and its MLflow runs (a cluster's
    services are not ours to check here)."""
    if not platform.is_local:
        return
    layout = platform.layout
    state = load_state(layout.state_file, layout.root)
    if not state.endpoints:
        raise UserError(
            f"no embedded platform has been started in {layout.root}",
            f"start it: shipyard up --data-dir {layout.root}",
        )
    _check_running(layout, state)


def _check_running(layout: DataLayout, state: State) -> None:
    rec = state.services.get("mlflow")
    if rec is None or not process.is_alive(rec.pid, rec.proc_start):
        raise UserError(
            f"the embedded platform in {layout.root} is not running (MLflow is stopped)",
            f"start it: shipyard up --data-dir {layout.root}",
        )
    if rec.start_seconds is None and rec.url:  # `shipyard up` is still starting it: wait, boundedly
        deadline = time.monotonic() + STARTING_WAIT
        while not http_ok(f"{rec.url}/health"):
            if not process.is_alive(rec.pid, rec.proc_start):
                raise UserError(
                    f"MLflow of the embedded platform in {layout.root} stopped while starting",
                    f"see its log ({rec.log}), then start it again: shipyard up --data-dir {layout.root}",
                )
            if time.monotonic() > deadline:
                raise UserError(
                    f"MLflow of the embedded platform in {layout.root} is still starting "
                    f"(not healthy after {STARTING_WAIT:.0f}s of waiting)",
                    f"wait until `shipyard up` prints `ready for push`, then try again (its log: {rec.log})",
                )
            time.sleep(0.5)
