"""Prometheus' HTTP API: one instant query."""

from __future__ import annotations

from shipyard.errors import ServiceUnavailable


def query(prometheus: str | None, promql: str, timeout: float = 5.0) -> list[dict]:
    """The samples of ``promql`` now (``[{"metric": {...}, "value": [ts, "v"]}, ...]``)."""
    import requests

    if not prometheus:
        raise ServiceUnavailable("Prometheus", None, "no Prometheus URL in the platform's endpoints")
    url = f"{prometheus.rstrip('/')}/api/v1/query"
    try:
        resp = requests.get(url, params={"query": promql}, timeout=timeout)
        body = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise ServiceUnavailable("Prometheus", prometheus, type(exc).__name__) from None
    if body.get("status") != "success":
        raise ServiceUnavailable("Prometheus", prometheus, body.get("error", f"HTTP {resp.status_code}"))
    return body["data"]["result"]
