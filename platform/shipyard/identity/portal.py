"""Signing in to the portal with the platform's identities, and the views a person's roles allow.

Two identity modes, chosen by :data:`ENV_IDENTITY` (set by whoever starts the portal, never guessed):
``basic`` (the default) signs people in on the portal's form against their MLflow basic-auth login;
``proxy-header`` takes the person from :data:`FORWARDED_EMAIL`, which an authenticating proxy in front
of the portal (the cluster's oauth2-proxy sidecar under OIDC) sets. That header proves something only
when nobody but the proxy can reach Streamlit: the mode is refused unless Streamlit listens on loopback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from shipyard.errors import IdentityMisconfigured
from shipyard.identity import proxy_auth
from shipyard.identity.attempts import Throttle, too_many
from shipyard.identity.mlflow_users import Credentials
from shipyard.identity.names import APPROVER, AUDITOR, MANAGER, PLATFORM_ADMIN, TEAM_MEMBER, TEAM_OWNER
from shipyard.identity.people import person
from shipyard.identity.session import check
from shipyard.platform.env import ENV_PORTAL_IDENTITY as ENV_IDENTITY
from shipyard.spec.model import PlatformSpec

VIEWS = ("manager", "auditor", "project owner")  # the portal's views, in the order they are offered
BASIC = "basic"  # the portal's form, checked against MLflow basic auth
PROXY_HEADER = "proxy-header"  # the person from the proxy's header, Streamlit on loopback only
IDENTITY_MODES = (BASIC, PROXY_HEADER)
FORWARDED_EMAIL = proxy_auth.EMAIL_HEADER  # what oauth2-proxy passes upstream (--pass-user-headers)


def identity_mode(bind_address: str | None, environ: Mapping[str, str] | None = None) -> str:
    """:data:`BASIC` or :data:`PROXY_HEADER`, from :data:`ENV_IDENTITY`; proxy-header only while
    Streamlit listens on a loopback address (``bind_address``), else anyone reaching the pod could
    send the header."""
    e = os.environ if environ is None else environ
    mode = (e.get(ENV_IDENTITY) or BASIC).strip()
    if mode not in IDENTITY_MODES:
        raise IdentityMisconfigured(f"{ENV_IDENTITY}={mode!r} is not one of {', '.join(IDENTITY_MODES)}")
    if mode == PROXY_HEADER and not is_loopback(bind_address):
        raise IdentityMisconfigured(
            f"{ENV_IDENTITY}={PROXY_HEADER} but Streamlit listens on {bind_address or '(all addresses)'}: "
            "the header is trusted only with --server.address 127.0.0.1 behind the signing-in proxy"
        )
    return mode


def is_loopback(address: str | None) -> bool:
    """Whether Streamlit's ``--server.address`` is loopback only (unset: every address)."""
    return address == "localhost" or proxy_auth.is_loopback(address)


def proxy_person(headers: Mapping[str, str]) -> str | None:
    """The signed-in person's email from the proxy's header (one email, normalised), or None."""
    return proxy_auth.forwarded_email(headers)


def view_roles(spec: PlatformSpec, email: str) -> list[str]:
    """The portal views of a person: a manager sees costs and status, an auditor (or approver) sees
    everything read-only plus exports, a team's owner or member sees projects."""
    p = person(spec, email)
    if p is None:
        return []
    manager, auditor, owner = VIEWS
    views = []
    if p.has(MANAGER) or p.has(PLATFORM_ADMIN):
        views.append(manager)
    if p.has(AUDITOR) or p.has(APPROVER):
        views.append(auditor)
    if p.has(TEAM_OWNER) or p.has(TEAM_MEMBER):
        views.append(owner)
    return views


WRONG = "wrong email or password"  # the same words for an unknown email: they tell nobody who exists
SIGN_INS = Throttle()  # this portal process's failed sign-ins, per email and address


def portal_sign_in(spec: PlatformSpec, mlflow_url: str | None, email: str, password: str,
                   address: str = "") -> str | None:  # fmt: skip
    """None when signed in, else why not (one line). An unknown email and a wrong password get the
    same answer; after a few failures for one email from one address, tries wait (identity.attempts)."""
    email = (email or "").strip().lower()
    wait = SIGN_INS.wait_s(email, address)
    if wait > 0:
        return too_many(wait)
    if not mlflow_url:
        return "the platform has no MLflow to check the password against"
    try:
        ok = person(spec, email) is not None and check(mlflow_url, Credentials(email, password or ""))
    except Exception as exc:  # any failure of the check is a refused sign-in, never a page crash
        return f"cannot check the password now: {exc}"
    if not ok:
        SIGN_INS.failed(email, address)
        return WRONG
    SIGN_INS.succeeded(email, address)
    return None


def open_platform(mlflow_url: str) -> bool:
    """True when MLflow answers without credentials (no identity store: sign-in proves nothing)."""
    from shipyard.records.auth import answers_anonymously

    return answers_anonymously(mlflow_url)
