"""Asking a platform service whether it is there: the local runtime's readiness checks, the Platform
page's health table and a command's check before it relies on a service."""

from __future__ import annotations

import http.client
import time
import urllib.request
from dataclasses import dataclass

from shipyard import service_calls
from shipyard.errors import ServiceUnreachable


def http_ok(url: str, timeout: float = 2) -> bool:
    """``url`` answers below 400 (after redirects) within ``timeout`` seconds.

    The standard library's client, not requests: `shipyard status` probes every service and should not
    pay requests' import (~0.3 s) for it.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status < 400
    except (OSError, ValueError, http.client.HTTPException):  # URLError/HTTPError/timeouts are OSErrors
        return False


@dataclass(frozen=True)
class Probe:
    """One GET: the HTTP status (None: no answer, ``error`` names why) and how long it took."""

    status: int | None
    error: str = ""
    ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400


def probe(url: str, timeout: float = 3, token: str | None = None) -> Probe:
    """GET ``url`` once (``token``: a bearer token), never raising."""
    import requests

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    start = time.perf_counter()
    try:
        resp = requests.get(url, timeout=timeout, headers=headers)
    except requests.RequestException as exc:
        return Probe(None, type(exc).__name__)
    return Probe(resp.status_code, "", (time.perf_counter() - start) * 1000)


def require_reachable(service: str, url: str, health_path: str = "/health") -> None:
    """Ask ``service`` once, briefly, before a command relies on it."""
    import requests

    try:
        resp = requests.get(f"{url.rstrip('/')}{health_path}", timeout=service_calls.timeout())
    except requests.Timeout:
        raise service_calls.timed_out(service, url) from None
    except requests.RequestException as exc:
        raise ServiceUnreachable(service, url, type(exc).__name__) from None
    if resp.status_code >= 500:
        raise ServiceUnreachable(service, url, f"HTTP {resp.status_code}")
