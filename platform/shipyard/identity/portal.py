"""Signing in to the portal with the platform's identities, and the views a person's roles allow."""

from __future__ import annotations

import requests

from shipyard.identity.mlflow_users import Credentials
from shipyard.identity.names import APPROVER, AUDITOR, MANAGER, PLATFORM_ADMIN, TEAM_MEMBER, TEAM_OWNER
from shipyard.identity.people import person
from shipyard.identity.session import check
from shipyard.spec.model import PlatformSpec

VIEWS = ("manager", "auditor", "project owner")


def view_roles(spec: PlatformSpec, email: str) -> list[str]:
    """The portal views of a person: a manager sees costs and status, an auditor (or approver) sees
    everything read-only plus exports, a team's owner or member sees projects."""
    p = person(spec, email)
    if p is None:
        return []
    views = []
    if p.has(MANAGER) or p.has(PLATFORM_ADMIN):
        views.append("manager")
    if p.has(AUDITOR) or p.has(APPROVER):
        views.append("auditor")
    if p.has(TEAM_OWNER) or p.has(TEAM_MEMBER):
        views.append("project owner")
    return views


def portal_sign_in(spec: PlatformSpec, mlflow_url: str | None, email: str, password: str) -> str | None:
    """None when signed in, else why not (one line)."""
    email = (email or "").strip().lower()
    if person(spec, email) is None:
        return f"{email or '(empty)'} is not a person of platform {spec.platform.name}"
    if not mlflow_url:
        return "the platform has no MLflow to check the password against"
    try:
        if not check(mlflow_url, Credentials(email, password or "")):
            return "wrong email or password"
    except Exception as exc:  # any failure of the check is a refused sign-in, never a page crash
        return f"cannot check the password now: {exc}"
    return None


def open_platform(mlflow_url: str) -> bool:
    """True when MLflow answers without credentials (no identity store: sign-in proves nothing)."""
    try:
        return requests.get(f"{mlflow_url}/api/2.0/mlflow/experiments/search", params={"max_results": 1},
                            timeout=10).status_code == 200  # fmt: skip
    except requests.RequestException:
        return False
