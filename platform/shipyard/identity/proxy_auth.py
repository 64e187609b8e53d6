"""Who a request is when an OIDC proxy (oauth2-proxy) signs people in in front of a server.

The proxy runs as a sidecar in the same pod and reaches the server over the pod's loopback; it sets
``X-Forwarded-Email`` to the signed-in person's email (from the IdP's session cookie or bearer token).
The header is believed only from a loopback peer: any other caller (another pod through the Service)
could write it, so there it is ignored and the caller signs in with HTTP basic auth as before (service
accounts: the registry, the portal, CI accounts, the admin).

The peer must be the real TCP peer: uvicorn rewrites the client address from ``X-Forwarded-For`` when
the peer is in ``--forwarded-allow-ips`` (default 127.0.0.1), which the proxy always sends. Servers
that use this run uvicorn with ``--no-proxy-headers`` (infra/components/mlflow.py), else the sidecar's
requests look like they come from the person's address and are refused (never the other way round).

:func:`authenticate_request_proxy_or_basic` is MLflow's ``authorization_function`` (basic_auth.ini).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from shipyard.identity.names import normal

EMAIL_HEADER = "X-Forwarded-Email"
AUTHORIZATION_FUNCTION = "shipyard.identity.proxy_auth:authenticate_request_proxy_or_basic"


def is_loopback(address: str | None) -> bool:
    """Whether ``address`` (an IP literal, as a server reports its TCP peer) is this host's loopback."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:  # a name, a unix socket path, "testclient": not an address we can trust
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return (mapped or ip).is_loopback


def proxied_email(peer: str | None, headers: Mapping[str, str]) -> str | None:
    """The person the proxy vouches for (lower-cased email), or None: no header, a peer that is not
    loopback (the header is then anyone's), or a value that is not one email."""
    return forwarded_email(headers) if is_loopback(peer) else None


def forwarded_email(headers: Mapping[str, str]) -> str | None:
    """The header's one email, lower-cased, or None; whether to believe it is the caller's question
    (a loopback peer here; for the portal, Streamlit bound to loopback)."""
    value = headers.get(EMAIL_HEADER)
    if not value:
        return None
    email = normal(value)
    # one address only: a header repeated or joined ("a@x, b@y") names nobody; no service account names
    if email.count("@") != 1 or any(c in email for c in ", \t:/") or not email.split("@")[0]:
        return None
    return email


def authenticate_request_proxy_or_basic():
    """MLflow basic-auth app's ``authorization_function``: the proxy's person (loopback peer only),
    who must already be an MLflow user (never created here, never admin because of the header), or
    else MLflow's own HTTP basic auth."""
    from flask import request
    from mlflow.server import auth
    from werkzeug.datastructures import Authorization

    email = proxied_email(request.remote_addr, request.headers)
    if email is None:
        return auth.authenticate_request_basic_auth()
    if not auth.store.has_user(email):
        response = auth.make_forbidden_response()
        response.set_data(
            f"{email} has no MLflow user: the platform creates one for each person of the spec "
            "(teams' owners and members, governance.people)"
        )
        return response
    return Authorization("basic", {"username": email, "password": ""})
