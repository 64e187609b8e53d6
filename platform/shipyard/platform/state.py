"""``state.json`` in the data dir: what ``up`` started (pid, port, URL, log) and the endpoints it serves.

Written atomically after every change, so a crashed ``up`` still leaves the pids ``down`` needs.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shipyard.platform.layout import DataLayout

SCHEMA = 1


@dataclass
class ServiceRecord:
    name: str
    pid: int | None = None
    proc_start: str | None = None  # kernel start time of pid: guards against a reused pid
    port: int | None = None
    url: str | None = None
    log: str | None = None
    started_at: str | None = None
    start_seconds: float | None = None  # spawn -> healthy, measured by ``up``


@dataclass
class State:
    data_dir: str
    spec_path: str | None = None
    services: dict[str, ServiceRecord] = field(default_factory=dict)
    endpoints: dict[str, Any] = field(default_factory=dict)
    schema: int = SCHEMA

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["services"] = {name: asdict(rec) for name, rec in self.services.items()}
        return data


_lock = threading.Lock()


def load_state(path: Path, data_dir: Path) -> State:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return State(data_dir=str(data_dir))
    services = {
        name: ServiceRecord(**{k: v for k, v in rec.items() if k in ServiceRecord.__dataclass_fields__})
        for name, rec in raw.get("services", {}).items()
    }
    return State(
        data_dir=raw.get("data_dir", str(data_dir)),
        spec_path=raw.get("spec_path"),
        services=services,
        endpoints=raw.get("endpoints", {}),
    )


def save_state(path: Path, state: State) -> None:
    with _lock:
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the Label Studio token
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(state.to_json(), indent=2))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


def read_state(layout: DataLayout) -> State:
    """``state.json`` of the data dir ``layout`` (an empty record when there is none)."""
    return load_state(layout.state_file, layout.root)


def has_state(layout: DataLayout) -> bool:
    """Whether ``shipyard up`` ever recorded anything in ``layout``."""
    return layout.state_file.exists()


def write_state(layout: DataLayout, state: State) -> None:
    save_state(layout.state_file, state)
