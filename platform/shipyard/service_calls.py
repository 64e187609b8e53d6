"""Bounded calls to the platform's services (MLflow, the registry, Label Studio, Prometheus): fail fast,
name the cause.

The one timeout policy: every request Shipyard makes waits at most ``services.calls.timeout_seconds``
of the platform spec (default 10) and is retried ``services.calls.retries`` times (default 2);
``$SHIPYARD_SERVICE_TIMEOUT`` / ``$SHIPYARD_SERVICE_RETRIES`` override the spec. Only a registry
submit, which loads and scores two models, has its own bound (``scoring_timeout_seconds``).
MLflow's own client retries a dead server for minutes by default; :func:`bound_mlflow_calls` sets its
``MLFLOW_HTTP_REQUEST_*`` variables from the same settings (and the CI runner gives them to every job),
so a command against a stopped or silent platform ends in seconds with the service, the bound and the
fix named.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import MutableMapping
from typing import TYPE_CHECKING

from shipyard.errors import Forbidden, NotSignedIn, ServiceUnavailable, ServiceUnreachable, UserError
from shipyard.platform.env import (
    ENV_MLFLOW_HTTP_BACKOFF,
    ENV_MLFLOW_HTTP_JITTER,
    ENV_MLFLOW_HTTP_RETRIES,
    ENV_MLFLOW_HTTP_TIMEOUT,
)
from shipyard.platform.env import ENV_SERVICE_RETRIES as RETRIES_ENV
from shipyard.platform.env import ENV_SERVICE_TIMEOUT as TIMEOUT_ENV

if TYPE_CHECKING:
    from shipyard.spec.model import PlatformSpec
    from shipyard.spec.services import ServiceCalls

DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 2
DEFAULT_SCORING_TIMEOUT = 300.0
SPEC_FIELD = "services.calls.timeout_seconds"

_policy: ServiceCalls | None = None  # the spec's, once a command has resolved its platform
_mlflow_keys_set: set[str] = set()  # the MLFLOW_HTTP_REQUEST_* variables this process set itself


def use_spec(spec: PlatformSpec | None) -> None:
    """Adopt ``spec``'s policy for this process (the resolver calls it for every command)."""
    global _policy
    if spec is None:
        return
    _policy = spec.services.calls
    for key, value in mlflow_client_env().items():  # re-bound what we set before the spec was known
        if key in _mlflow_keys_set:
            os.environ[key] = value


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
    return _number(TIMEOUT_ENV, _policy.timeout_seconds if _policy else DEFAULT_TIMEOUT, 0.1, 600)


def retries() -> int:
    """How often a failed request is retried (connection errors, 5xx)."""
    return int(_number(RETRIES_ENV, _policy.retries if _policy else DEFAULT_RETRIES, 0, 10))


def scoring_timeout() -> float:
    """Seconds a registry submit may take: it loads and scores two models."""
    return _policy.scoring_timeout_seconds if _policy else DEFAULT_SCORING_TIMEOUT


def bound_name() -> str:
    """Where the timeout in force comes from, for an error's fix line."""
    return f"${TIMEOUT_ENV}" if os.environ.get(TIMEOUT_ENV) else SPEC_FIELD


def timed_out(
    service: str, url: str | None, seconds: float | None = None, setting: str = ""
) -> ServiceUnavailable:
    """The one error for a service that accepted a request and did not answer within the policy."""
    seconds = timeout() if seconds is None else seconds
    setting = setting or bound_name()
    return ServiceUnavailable(
        service,
        url,
        f"no answer within {seconds:g}s ({setting})",
        f"check that {service} is running and not overloaded (`shipyard status`), or raise {setting}",
    )


def mlflow_client_env() -> dict[str, str]:
    """MLflow's client settings for the same bounds (it reads them at each request)."""
    return {
        ENV_MLFLOW_HTTP_TIMEOUT: str(max(1, round(timeout()))),
        ENV_MLFLOW_HTTP_RETRIES: str(retries()),
        ENV_MLFLOW_HTTP_BACKOFF: "1",
        ENV_MLFLOW_HTTP_JITTER: "0.5",
    }


def bound_mlflow_calls(environ: MutableMapping[str, str] | None = None) -> None:
    """Bound MLflow's client in this process, unless the user set its variables themselves."""
    env = os.environ if environ is None else environ
    for key, value in mlflow_client_env().items():
        if key not in env:
            env[key] = value
            if environ is None:
                _mlflow_keys_set.add(key)


def check_url(url: str, what: str, fix: str) -> str:
    """``url`` if it is an http(s) URL; else a one-line error (MLflow would take it for a folder)."""
    from shipyard.spec.fields import URL

    if not URL.match(url or ""):
        raise UserError(f"{what} {url!r} is not an http(s) URL", fix)
    return url.rstrip("/")


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


def http_status(exc: BaseException) -> int | None:
    """The HTTP status a client library's exception carries (MLflow's ``get_http_status_code()``,
    requests' ``response.status_code``), else None. Read from the object, never from its message."""
    status = getattr(exc, "get_http_status_code", None)
    if callable(status):
        try:
            return int(status())
        except (TypeError, ValueError):
            return None
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def refused_from(exc: BaseException) -> NotSignedIn | Forbidden | None:
    """A 401 or 403 from a platform service, hidden in an exception chain from a client library (MLflow's
    own client answers a refusal with an MlflowException), as one of the family; else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (NotSignedIn, Forbidden)):
            return current
        status = http_status(current)
        if status == 401:
            return NotSignedIn(
                "MLflow refused the request: nobody is signed in", "shipyard login --user YOU@example.com"
            )
        if status == 403:
            return Forbidden(
                "MLflow refused the request: the signed-in account may not do this",
                "sign in with an account allowed to do this (shipyard login --user YOU@example.com)",
            )
        current = current.__cause__ or current.__context__
    return None


def _base(url: str) -> str:
    found = re.match(r"^(https?://[^/]+)", url)
    return found.group(1) if found else url
