"""OpenCost's allocation API (the cluster's measured spend per namespace)."""

from __future__ import annotations

from shipyard.errors import UserError


def allocation(url: str, params: dict[str, str], timeout: float, fix: str) -> dict:
    """The body of ``GET <url>/allocation``; ``fix`` is the line an unreadable answer gets."""
    import requests

    try:
        response = requests.get(f"{url.rstrip('/')}/allocation", params=params, timeout=timeout)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise UserError(f"OpenCost at {url} could not be read: {exc}", fix) from None
    if body.get("code", 200) != 200:
        raise UserError(f"OpenCost at {url} answered code {body.get('code')}: {body.get('message', '')}")
    return body
