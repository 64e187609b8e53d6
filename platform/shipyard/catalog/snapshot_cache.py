"""The portfolio's records (:func:`shipyard.records.read.fetch_snapshot`), cached for a short TTL."""

from __future__ import annotations

import threading
import time

from shipyard.platform.endpoints import Endpoints
from shipyard.records import MlflowApi, Snapshot
from shipyard.records.read import fetch_snapshot

DEFAULT_TTL_S = 30.0

_cache: dict[tuple[str, str], tuple[float, Snapshot]] = {}
_cache_lock = threading.Lock()


def load_snapshot(
    endpoints: Endpoints, prefix: str | None = None, ttl_s: float = DEFAULT_TTL_S, refresh: bool = False
) -> Snapshot:
    """The portfolio, from a cache at most ``ttl_s`` old (``refresh`` reads MLflow now)."""
    api = MlflowApi.of(endpoints)  # raises ServiceUnavailable when the platform has no MLflow
    key = (api.base_url, prefix or "")
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit and not refresh and now < hit[0]:
        return hit[1]
    snap = fetch_snapshot(api, prefix)
    with _cache_lock:
        _cache[key] = (time.monotonic() + ttl_s, snap)
    return snap


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
