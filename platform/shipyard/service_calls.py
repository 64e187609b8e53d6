"""Bounded calls to the platform's services (MLflow, Label Studio, Prometheus): fail fast, name the cause.

Every request Shipyard makes has a timeout (``$SHIPYARD_SERVICE_TIMEOUT`` seconds, default 10) and a
small retry budget (``$SHIPYARD_SERVICE_RETRIES``, default 2). MLflow's own client retries a dead
server for minutes by default; :func:`bound_mlflow_calls` sets its ``MLFLOW_HTTP_REQUEST_*``
variables from the same two settings, so a command against a stopped platform ends in seconds with
"MLflow is unreachable at URL" and the fix.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import MutableMapping

from shipyard.errors import UserError

TIMEOUT_ENV = "SHIPYARD_SERVICE_TIMEOUT"
RETRIES_ENV = "SHIPYARD_SERVICE_RETRIES"
DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 2


def _number(name: str, default: float, low: float, high: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UserError(
            f"${name} is {raw!r}, not a number", f"unset it or set e.g. {name}={default:g}"
        ) from None
    if not low <= value <= high:
        raise UserError(f"${name} is {raw}, outside {low:g}..{high:g}", f"set e.g. {name}={default:g}")
    return value


def timeout() -> float:
    """Seconds one request to a platform service may take."""
    return _number(TIMEOUT_ENV, DEFAULT_TIMEOUT, 0.1, 600)


def retries() -> int:
    """How often a failed request is retried (connection errors, 5xx)."""
    return int(_number(RETRIES_ENV, DEFAULT_RETRIES, 0, 10))


def mlflow_client_env() -> dict[str, str]:
    """MLflow's client settings for the same bounds (it reads them at each request)."""
    return {
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(max(1, round(timeout()))),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(retries()),
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
        "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
    }


def bound_mlflow_calls(environ: MutableMapping[str, str] | None = None) -> None:
    """Bound MLflow's client in this process, unless the user set its variables themselves."""
    env = os.environ if environ is None else environ
    for key, value in mlflow_client_env().items():
        env.setdefault(key, value)


class ServiceUnreachable(UserError):
    """A platform service did not answer within the bounds."""

    def __init__(self, service: str, url: str, detail: str = "") -> None:
        why = f" ({detail})" if detail else ""
        super().__init__(
            f"{service} is unreachable at {url}{why}",
            "shipyard up (the embedded platform), or check the service's URL",
        )
        self.service, self.url = service, url


def check_url(url: str, what: str, fix: str) -> str:
    """``url`` if it is an http(s) URL; else a one-line error (MLflow would take it for a folder)."""
    from shipyard.spec.model import URL

    if not URL.match(url or ""):
        raise UserError(f"{what} {url!r} is not an http(s) URL", fix)
    return url.rstrip("/")


def require_reachable(service: str, url: str, health_path: str = "/health") -> None:
    """Ask ``service`` once, briefly, before a command relies on it."""
    import requests

    try:
        resp = requests.get(f"{url.rstrip('/')}{health_path}", timeout=min(timeout(), 5))
    except requests.Timeout:
        raise ServiceUnreachable(service, url, f"no answer in {min(timeout(), 5):g}s") from None
    except requests.RequestException as exc:
        raise ServiceUnreachable(service, url, type(exc).__name__) from None
    if resp.status_code >= 500:
        raise ServiceUnreachable(service, url, f"HTTP {resp.status_code}")


def unreachable_from(exc: BaseException) -> ServiceUnreachable | None:
    """A service error hidden in an exception chain (MLflow's client wraps requests' errors), if any."""
    # every CLI start imports this module: requests only when something imported it (no import, no
    # requests error in the chain)
    requests = sys.modules.get("requests")
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ServiceUnreachable):
            return current
        if requests is not None and isinstance(current, (requests.ConnectionError, requests.Timeout)):
            req = getattr(current, "request", None)
            url = getattr(req, "url", None) or "its URL"
            return ServiceUnreachable("a platform service", _base(url), type(current).__name__)
        text = str(current)
        if "Max retries exceeded" in text or "Connection refused" in text:
            found = re.search(r"https?://[^\s/'\"]+", text)
            return ServiceUnreachable(
                "a platform service", found.group(0) if found else "its URL", "connection refused"
            )
        current = current.__cause__ or current.__context__
    return None


def _base(url: str) -> str:
    found = re.match(r"^(https?://[^/]+)", url)
    return found.group(1) if found else url
