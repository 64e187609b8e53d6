"""Whether the embedded platform a command works on runs: ``shipyard up`` started it, and its MLflow
answers (waiting, boundedly, for an MLflow that ``up`` is still starting)."""

from __future__ import annotations

import time

from shipyard.errors import UserError
from shipyard.local import process
from shipyard.local.service import http_ok
from shipyard.platform.endpoints import Endpoints
from shipyard.platform.layout import DataLayout
from shipyard.platform.resolver import Platform, endpoints_from_state, started_state
from shipyard.platform.state import State

STARTING_WAIT = 120.0  # seconds a command waits for an MLflow that `shipyard up` is still starting


def require_running(platform: Platform) -> None:
    """On one machine: that ``shipyard up`` started this platform and its MLflow runs (a cluster's
    services are not ours to check here)."""
    if not platform.is_local:
        return
    layout = platform.layout
    _check_running(layout, started_state(layout))


def running_endpoints(platform: Platform) -> Endpoints:
    """The endpoints ``shipyard up`` recorded for ``platform``'s data dir (Label Studio token included),
    once its MLflow runs (``login``, ``whoami``, ``audit``, ``demo``)."""
    state = started_state(platform.layout)
    _check_running(platform.layout, state)
    return endpoints_from_state(state.endpoints)


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
