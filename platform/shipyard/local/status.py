"""``shipyard status``: what runs of the embedded platform, as the ``shipyard status --json`` contract
(documented in docs/embedded-platform.md) describes it."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from shipyard.local import process
from shipyard.local.service import Context, Service
from shipyard.local.services import collect
from shipyard.platform.layout import DataLayout
from shipyard.platform.resolver import locate_data_dir, resolve_spec_path
from shipyard.platform.state import ServiceRecord, read_state
from shipyard.spec import load_spec

STATUS_SCHEMA = 1


@dataclass
class ServiceStatus:
    name: str
    state: str  # running | starting | stopped | died | ready | not-run | external
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
        procs = [s for s in self.services if s.state in ("running", "starting", "stopped", "died")]
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


# --- status -----------------------------------------------------------------------------------


def status(
    data_dir: str | os.PathLike | None = None, spec_path: str | os.PathLike | None = None
) -> PlatformStatus:
    """What runs of the embedded platform in the data dir (found without requiring a spec), healthy or not."""
    layout = DataLayout(locate_data_dir(spec_path, data_dir))
    state = read_state(layout)
    file = Path(state.spec_path) if state.spec_path and not spec_path else resolve_spec_path(spec_path)
    spec = load_spec(file) if file.exists() else None
    result = PlatformStatus(data_dir=str(layout.root), spec_path=str(file) if spec else None)
    result.endpoints = dict(state.endpoints)
    services: list[Service] = collect(Context(spec=spec, spec_path=file, layout=layout)) if spec else []
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
        died = not alive and bool(rec.pid)  # `down` forgets the pid: one still recorded ended on its own
        result.services.append(
            ServiceStatus(
                name=name,
                state="starting" if starting else ("running" if alive else ("died" if died else "stopped")),
                healthy=healthy,
                pid=rec.pid if alive else None,
                port=rec.port or (svc.port if svc else None),
                url=rec.url or (svc.url if svc else None),
                log=rec.log or str(layout.log(name)),
                start_seconds=rec.start_seconds,
                detail=f"its parent died; {len(leftover)} process(es) of its group remain "
                "(`shipyard down` or `shipyard up` stops them)"
                if leftover
                else (_death_note(rec, layout.log(name)) if died else None),
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


def _death_note(rec: ServiceRecord, log: Path) -> str:
    last = process.tail(Path(rec.log) if rec.log else log, lines=1).strip() or "(empty)"
    return f"exited without `shipyard down` (`shipyard up` starts it again); its log's last line: {last}"
